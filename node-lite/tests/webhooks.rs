//! Grant webhooks end to end: a real `carchain-node` process, a provider registering a
//! tiny HTTP receiver on 127.0.0.1, an owner's grant committed to the provider, and the
//! receiver checking what arrives: the grant id and nothing personal, a valid HMAC, the
//! same id again after a refused attempt (at least once), nothing for a grant to
//! someone else. Refusals: another key's signature, a replayed registration, URLs that
//! are not http(s) or that point at the node itself, each with its stable code.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod common;

use carchain_testkit::serve::serve_loopback;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use carchain_core::grants::webhook::{
    SIGNATURE_HEADER, WebhookRegistration, notification_id, verify_webhook,
};
use common::providers::{now_secs, register_provider, usage_grant};
use common::{NodeProcess, Wallet, assert_error, eventually, funded_node, post_json, submit};
use serde_json::Value;

/// What the receiver got: (signature header, body) per request.
#[derive(Default)]
struct Received {
    requests: Vec<(String, Vec<u8>)>,
    /// Answer 500 to this many requests first.
    fail: usize,
}

async fn receive(
    State(received): State<Arc<Mutex<Received>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut received = received.lock().expect("lock");
    received.requests.push((signature, body.to_vec()));
    // The first attempts fail: the node must try again.
    if received.requests.len() <= received.fail {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

/// Starts the receiver on 127.0.0.1; answers its URL and what it receives.
async fn start_receiver(fail: usize) -> (String, Arc<Mutex<Received>>) {
    let received = Arc::new(Mutex::new(Received {
        requests: Vec::new(),
        fail,
    }));
    let app = Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(Arc::clone(&received));
    let (base, _server) = serve_loopback(app).await;
    (format!("{base}/hook"), received)
}

async fn post_registration(base: &str, body: &Value) -> (u16, Value) {
    post_json(base, "/v1/webhooks", body).await
}

/// The latest header's hash and height (the ledger's state as clients see it).
async fn state_root(base: &str) -> (Value, Value) {
    let status = common::status(base).await;
    (status["latest_hash"].clone(), status["height"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_provider_is_notified_of_its_grants_at_least_once_and_privately() {
    let provider = Wallet::from_byte(0x52);
    let attacker = Wallet::from_byte(0x53);
    let stranger = Wallet::from_byte(0x54);
    let (owner, _chain, node) = funded_node(0x51, 1_000_000);
    let base = node.base.clone();
    let (hook_url, received) = start_receiver(1).await;
    let secret = [0x5a; 32];

    // A provider not registered on the ledger cannot register a hook.
    let early = WebhookRegistration::sign(&provider.secret, &hook_url, &secret, now_secs() - 10);
    let (status, body) =
        post_registration(&base, &serde_json::to_value(&early).expect("json")).await;
    assert_error(status, &body, 404, "not_found");
    register_provider(&base, &owner, 0, &provider).await;

    // Refusals first: none of them stores a hook, none touches the ledger.
    let ledger_before = state_root(&base).await;
    let mut forged = WebhookRegistration::sign(&attacker.secret, &hook_url, &secret, now_secs());
    forged.provider_pubkey =
        WebhookRegistration::sign(&provider.secret, &hook_url, &secret, 0).provider_pubkey;
    let (status, body) =
        post_registration(&base, &serde_json::to_value(&forged).expect("json")).await;
    assert_error(status, &body, 401, "bad_signature");
    for (url, code) in [
        ("ftp://127.0.0.1:21/hook", "webhook_url_scheme"),
        ("file:///etc/passwd", "webhook_url_scheme"),
        ("not a url", "webhook_url_scheme"),
        (&format!("{base}/v1/tx") as &str, "webhook_url_self"),
        (
            &base.replace("127.0.0.1", "localhost") as &str,
            "webhook_url_self",
        ),
    ] {
        let bad = WebhookRegistration::sign(&provider.secret, url, &secret, now_secs());
        let (status, body) =
            post_registration(&base, &serde_json::to_value(&bad).expect("json")).await;
        assert_error(status, &body, 400, code);
    }
    let stale = WebhookRegistration::sign(&provider.secret, &hook_url, &secret, now_secs() - 3600);
    let (status, body) =
        post_registration(&base, &serde_json::to_value(&stale).expect("json")).await;
    assert_error(status, &body, 400, "invalid_request");
    assert_eq!(
        state_root(&base).await,
        ledger_before,
        "refused registrations leave the ledger as it was"
    );

    // The provider registers its receiver.
    let registration = WebhookRegistration::sign(&provider.secret, &hook_url, &secret, now_secs());
    let registration_json = serde_json::to_value(&registration).expect("json");
    let (status, body) = post_registration(&base, &registration_json).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["provider"], provider.address.as_str());
    // The same registration again is a replay.
    let (status, body) = post_registration(&base, &registration_json).await;
    assert_error(status, &body, 409, "replay");

    // A grant to someone without a hook, then one to the provider.
    let (status, body) = submit(
        &base,
        &usage_grant(&owner, 1, [0x01; 32], &stranger.address),
        true,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let grant = usage_grant(&owner, 2, [0x02; 32], &provider.address);
    let (status, body) = submit(&base, &grant, true).await;
    assert_eq!(status, 200, "{body}");
    let height = body["height"].as_u64().expect("height");

    // The first attempt is answered 500; the node retries with the same notification.
    eventually(|| {
        let received = Arc::clone(&received);
        async move { received.lock().expect("lock").requests.len() >= 2 }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let requests = received.lock().expect("lock").requests.clone();
    assert_eq!(requests.len(), 2, "acknowledged once, sent no more");
    assert_eq!(
        requests[0], requests[1],
        "the retry is the same notification"
    );
    let (signature, body) = &requests[1];
    assert!(verify_webhook(&secret, body, signature), "valid HMAC");
    assert!(!verify_webhook(&[0x5b; 32], body, signature));
    let json: Value = serde_json::from_slice(body).expect("json body");
    let object = json.as_object().expect("object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["event", "grant_id", "height", "id"]);
    assert_eq!(json["event"], "grant");
    assert_eq!(json["grant_id"], hex::encode([0x02; 32]));
    assert_eq!(json["height"], height);
    assert_eq!(
        json["id"],
        hex::encode(notification_id(&grant.id(), &[0x02; 32]))
    );
    // Attacker's view of the body: no address, no key, no record data of anyone.
    let text = String::from_utf8_lossy(body);
    for secret_word in [
        owner.address.as_str(),
        provider.address.as_str(),
        stranger.address.as_str(),
        &hex::encode([0x33; 32]),
        &hex::encode([0x44; 32]),
        &hex::encode([0x01; 32]),
        &registration.provider_pubkey,
    ] {
        assert!(
            !text.contains(secret_word),
            "the body leaks {secret_word}: {text}"
        );
    }
    node.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unacknowledged_notification_survives_a_node_restart() {
    let provider = Wallet::from_byte(0x62);
    let (owner, chain, node) = funded_node(0x61, 1_000_000);
    let (hook_url, received) = start_receiver(usize::MAX).await;
    let secret = [0x6a; 32];
    register_provider(&node.base, &owner, 0, &provider).await;
    let registration = WebhookRegistration::sign(&provider.secret, &hook_url, &secret, now_secs());
    let (status, body) = post_registration(
        &node.base,
        &serde_json::to_value(&registration).expect("json"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let grant = usage_grant(&owner, 1, [0x07; 32], &provider.address);
    let (status, body) = submit(&node.base, &grant, true).await;
    assert_eq!(status, 200, "{body}");
    // The receiver refuses; the node is killed with the notification unacknowledged.
    eventually(|| {
        let received = Arc::clone(&received);
        async move { !received.lock().expect("lock").requests.is_empty() }
    })
    .await;
    node.kill();
    let refused = received.lock().expect("lock").requests.len();
    received.lock().expect("lock").fail = 0;

    let node = NodeProcess::start(&chain.data_dir(), &[]);
    eventually(|| {
        let received = Arc::clone(&received);
        async move { received.lock().expect("lock").requests.len() > refused }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let requests = received.lock().expect("lock").requests.clone();
    assert_eq!(
        requests.len(),
        refused + 1,
        "acknowledged once, sent no more"
    );
    let (signature, body) = requests.last().expect("one");
    assert!(verify_webhook(&secret, body, signature));
    assert_eq!(body, &requests[0].1, "the same notification, same id");
    let json: Value = serde_json::from_slice(body).expect("json");
    assert_eq!(json["grant_id"], hex::encode([0x07; 32]));
    node.kill();
}
