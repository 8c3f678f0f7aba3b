#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure
//! Bounded webhook delivery and a provider managing its hook, against a real
//! `carchain-node` process and a receiver on 127.0.0.1:
//! - a receiver that always fails gets exactly `--webhook-max-attempts` attempts, across
//!   a SIGKILL and a restart (the attempt count is in the outbox); the notification is
//!   then kept as failed and the provider's signed read reports it (pending 0, failed 1,
//!   last error `status` 500), never the secret; the node keeps serving.
//! - the provider reads its registration (URL, creation height, counts) and deletes it,
//!   both signed; after the delete nothing more is sent. Attacks: a read or delete
//!   signed by another key for the provider's key (401), another provider reading
//!   (404: it has no hook, and sees nothing of this one), a replayed read or delete
//!   (409), a delete signed before the registration (409), the deleted registration
//!   replayed (409).
//! - with `--webhook-max-age-secs 1` the node gives up at the first failure past a
//!   second, long before the attempt limit.
//! - a node run with `--webhook-public-only` refuses a loopback hook
//!   (`webhook_url_private`); the default node takes it (the tests above).

mod common;

use carchain_testkit::serve::serve_loopback;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use carchain_core::grants::webhook::WebhookRegistration;
use carchain_core::grants::webhook::manage::{WebhookAction, WebhookRequest};
use carchain_node::webhooks::store::WebhookStore;
use common::providers::{now_secs, register_provider, usage_grant};
use common::{
    NodeProcess, Wallet, assert_error, eventually, funded_node, init_chain, post_json, submit,
};
use serde_json::Value;

/// Bodies received, and the status the receiver answers.
struct Receiver {
    bodies: Vec<Vec<u8>>,
    status: StatusCode,
}

type Shared = Arc<Mutex<Receiver>>;

async fn receive(State(receiver): State<Shared>, body: Bytes) -> StatusCode {
    let mut receiver = receiver.lock().expect("lock");
    receiver.bodies.push(body.to_vec());
    receiver.status
}

async fn start_receiver(status: StatusCode) -> (String, Shared) {
    let shared = Arc::new(Mutex::new(Receiver {
        bodies: Vec::new(),
        status,
    }));
    let app = Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(Arc::clone(&shared));
    let (base, _server) = serve_loopback(app).await;
    (format!("{base}/hook"), shared)
}

fn received(receiver: &Shared) -> usize {
    receiver.lock().expect("lock").bodies.len()
}

fn signed(action: WebhookAction, signer: &Wallet, nonce: u8, time: u64) -> Value {
    serde_json::to_value(WebhookRequest::sign(
        action,
        &signer.secret,
        &[nonce; 32],
        time,
    ))
    .expect("json")
}

async fn read(base: &str, body: &Value) -> (u16, Value) {
    post_json(base, "/v1/webhooks/read", body).await
}

async fn delete(base: &str, body: &Value) -> (u16, Value) {
    post_json(base, "/v1/webhooks/delete", body).await
}

async fn register_hook(base: &str, provider: &Wallet, url: &str, secret: &[u8; 32], time: u64) {
    let registration = WebhookRegistration::sign(&provider.secret, url, secret, time);
    let (status, body) = post_json(
        base,
        "/v1/webhooks",
        &serde_json::to_value(&registration).expect("json"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

const LIMIT: &str = "5";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_gets_the_attempt_limit_across_a_sigkill_and_the_provider_sees_it_failed()
 {
    let owner = Wallet::from_byte(0x71);
    let provider = Wallet::from_byte(0x72);
    let chain = init_chain(&[(&owner.address, 1_000_000)]);
    let options = ["--webhook-max-attempts", LIMIT];
    let node = NodeProcess::start(&chain.data_dir(), &options);
    let (hook_url, receiver) = start_receiver(StatusCode::INTERNAL_SERVER_ERROR).await;
    let secret = [0x7a; 32];
    register_provider(&node.base, &owner, 0, &provider).await;
    register_hook(&node.base, &provider, &hook_url, &secret, now_secs()).await;
    let grant = usage_grant(&owner, 1, [0x17; 32], &provider.address);
    let (status, body) = submit(&node.base, &grant, true).await;
    assert_eq!(status, 200, "{body}");

    // Three attempts (0.5 s then 1 s apart), then SIGKILL before the fourth (2 s after
    // the third).
    eventually(|| {
        let receiver = Arc::clone(&receiver);
        async move { received(&receiver) >= 3 }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    node.kill();
    assert_eq!(received(&receiver), 3);
    let store = WebhookStore::open(&chain.data_dir(), 0).expect("store");
    assert_eq!(
        store.attempts(&provider.address).expect("attempts"),
        [3],
        "the outbox holds the attempts made"
    );
    drop(store);

    // After the restart the node makes the remaining two attempts, then gives up.
    let node = NodeProcess::start(&chain.data_dir(), &options);
    eventually(|| {
        let receiver = Arc::clone(&receiver);
        async move { received(&receiver) >= 5 }
    })
    .await;
    // A sixth attempt would be due 8 s after the fifth; the limit stops it for good.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let bodies = receiver.lock().expect("lock").bodies.clone();
    assert_eq!(bodies.len(), 5, "exactly the attempt limit");
    assert!(bodies.iter().all(|b| b == &bodies[0]), "the same notice");

    let (status, state) = read(
        &node.base,
        &signed(WebhookAction::Read, &provider, 1, now_secs()),
    )
    .await;
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["pending"], 0);
    assert_eq!(state["failed"], 1);
    assert_eq!(state["delivered"], 0);
    assert_eq!(state["last_error"], "status");
    assert_eq!(state["last_status"], 500);
    assert!(state["last_error_at"].as_u64().expect("time") >= now_secs() - 60);
    assert_eq!(state["url"], hook_url.as_str());
    let text = state.to_string();
    assert!(!text.contains(&hex::encode(secret)), "no secret: {text}");
    assert!(state.get("secret").is_none());

    // The node keeps serving and keeps the failed notice, also across a restart.
    let (status, _) = common::get_json(&format!("{}/v1/status", node.base)).await;
    assert_eq!(status, 200);
    node.kill();
    let store = WebhookStore::open(&chain.data_dir(), 0).expect("store");
    assert_eq!(store.failed_count().expect("failed"), 1);
    assert_eq!(store.pending().expect("pending"), 0);
    assert_eq!(store.attempts(&provider.address).expect("attempts"), [5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_reads_and_deletes_its_own_hook_only_and_nothing_is_sent_after() {
    let provider = Wallet::from_byte(0x82);
    let other = Wallet::from_byte(0x83);
    let attacker = Wallet::from_byte(0x84);
    let (owner, _chain, node) = funded_node(0x81, 1_000_000);
    let base = node.base.clone();
    let (hook_url, receiver) = start_receiver(StatusCode::OK).await;
    let secret = [0x8a; 32];
    register_provider(&base, &owner, 0, &provider).await;
    register_provider(&base, &owner, 1, &other).await;
    let (other_url, other_receiver) = start_receiver(StatusCode::OK).await;
    let registered_at = now_secs() - 2;
    register_hook(&base, &provider, &hook_url, &secret, registered_at).await;
    register_hook(&base, &other, &other_url, &[0x9a; 32], now_secs()).await;
    let height = common::status(&base).await["height"]
        .as_u64()
        .expect("height");

    let grant = usage_grant(&owner, 2, [0x18; 32], &provider.address);
    let (status, body) = submit(&base, &grant, true).await;
    assert_eq!(status, 200, "{body}");
    eventually(|| {
        let receiver = Arc::clone(&receiver);
        async move { received(&receiver) == 1 }
    })
    .await;

    // The provider reads its registration: URL, creation height, counts; no secret.
    let request = signed(WebhookAction::Read, &provider, 1, now_secs());
    let (status, state) = read(&base, &request).await;
    assert_eq!(status, 200, "{state}");
    let mut keys: Vec<&str> = state
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "created_height",
            "delivered",
            "failed",
            "last_error",
            "last_error_at",
            "last_status",
            "pending",
            "provider",
            "registered_at",
            "url"
        ]
    );
    assert_eq!(state["provider"], provider.address.as_str());
    assert_eq!(state["url"], hook_url.as_str());
    assert_eq!(state["registered_at"], registered_at);
    let created = state["created_height"].as_u64().expect("height");
    assert!(created > 0 && created <= height, "{created} vs {height}");
    assert_eq!(
        (&state["delivered"], &state["pending"], &state["failed"]),
        (&Value::from(1), &Value::from(0), &Value::from(0))
    );
    assert!(state["last_error"].is_null());
    assert!(!state.to_string().contains(&hex::encode(secret)));

    // The same signed read again is a replay.
    let (status, body) = read(&base, &request).await;
    assert_error(status, &body, 409, "replay");
    // Another key signing for the provider's key.
    let mut forged = signed(WebhookAction::Read, &attacker, 2, now_secs());
    forged["provider_pubkey"] =
        signed(WebhookAction::Read, &provider, 2, 0)["provider_pubkey"].clone();
    let (status, body) = read(&base, &forged).await;
    assert_error(status, &body, 401, "bad_signature");
    // A read signed for a delete does not delete, nor the other way round.
    let mut crossed = signed(WebhookAction::Read, &provider, 3, now_secs());
    let (status, body) = delete(&base, &crossed).await;
    assert_error(status, &body, 401, "bad_signature");
    crossed["nonce"] = Value::from(hex::encode([4u8; 32]));
    let (status, body) = read(&base, &crossed).await;
    assert_error(status, &body, 401, "bad_signature");
    // A key without a hook reads nothing; the other provider reads only its own.
    let (status, body) = read(
        &base,
        &signed(WebhookAction::Read, &attacker, 5, now_secs()),
    )
    .await;
    assert_error(status, &body, 404, "not_found");
    let (status, theirs) = read(&base, &signed(WebhookAction::Read, &other, 5, now_secs())).await;
    assert_eq!(status, 200, "{theirs}");
    assert_eq!(theirs["url"], other_url.as_str());
    assert_eq!(theirs["delivered"], 0);
    // A request far from the node's clock.
    let (status, body) = read(
        &base,
        &signed(WebhookAction::Read, &provider, 6, now_secs() - 3600),
    )
    .await;
    assert_error(status, &body, 400, "invalid_request");

    // A delete signed before the registration is a replay; the right one deletes.
    let (status, body) = delete(
        &base,
        &signed(WebhookAction::Delete, &provider, 7, registered_at - 1),
    )
    .await;
    assert_error(status, &body, 409, "replay");
    let mut forged = signed(WebhookAction::Delete, &attacker, 8, now_secs());
    forged["provider_pubkey"] =
        signed(WebhookAction::Read, &provider, 2, 0)["provider_pubkey"].clone();
    let (status, body) = delete(&base, &forged).await;
    assert_error(status, &body, 401, "bad_signature");
    let deletion = signed(WebhookAction::Delete, &provider, 9, now_secs());
    let (status, body) = delete(&base, &deletion).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["provider"], provider.address.as_str());
    let (status, body) = delete(&base, &deletion).await;
    assert_error(status, &body, 404, "not_found");
    let (status, body) = read(
        &base,
        &signed(WebhookAction::Read, &provider, 10, now_secs()),
    )
    .await;
    assert_error(status, &body, 404, "not_found");
    // The deleted registration, replayed, does not come back.
    let replayed = WebhookRegistration::sign(&provider.secret, &hook_url, &secret, registered_at);
    let (status, body) = post_json(
        &base,
        "/v1/webhooks",
        &serde_json::to_value(&replayed).expect("json"),
    )
    .await;
    assert_error(status, &body, 409, "replay");

    // A grant after the delete: nothing is sent to the provider; the other is notified.
    let grant = usage_grant(&owner, 3, [0x19; 32], &provider.address);
    let (status, body) = submit(&base, &grant, true).await;
    assert_eq!(status, 200, "{body}");
    let grant = usage_grant(&owner, 4, [0x1a; 32], &other.address);
    let (status, body) = submit(&base, &grant, true).await;
    assert_eq!(status, 200, "{body}");
    eventually(|| {
        let receiver = Arc::clone(&other_receiver);
        async move { received(&receiver) == 1 }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(received(&receiver), 1, "nothing after the delete");

    // A later registration works again.
    register_hook(&base, &provider, &hook_url, &secret, now_secs()).await;
    let (status, state) = read(
        &base,
        &signed(WebhookAction::Read, &provider, 11, now_secs()),
    )
    .await;
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["delivered"], 0, "a new hook's counters");
    node.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_only_node_refuses_private_hooks() {
    let owner = Wallet::from_byte(0x91);
    let provider = Wallet::from_byte(0x92);
    let chain = init_chain(&[(&owner.address, 1_000_000)]);
    let node = NodeProcess::start(&chain.data_dir(), &["--webhook-public-only"]);
    register_provider(&node.base, &owner, 0, &provider).await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://10.0.0.7/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:9/hook",
    ] {
        let registration = WebhookRegistration::sign(&provider.secret, url, &[1; 32], now_secs());
        let (status, body) = post_json(
            &node.base,
            "/v1/webhooks",
            &serde_json::to_value(&registration).expect("json"),
        )
        .await;
        assert_error(status, &body, 400, "webhook_url_private");
    }
    node.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_age_limit_keeps_a_notice_failed_before_the_attempt_limit() {
    let owner = Wallet::from_byte(0xa1);
    let provider = Wallet::from_byte(0xa2);
    let chain = init_chain(&[(&owner.address, 1_000_000)]);
    let node = NodeProcess::start(&chain.data_dir(), &["--webhook-max-age-secs", "1"]);
    let (hook_url, receiver) = start_receiver(StatusCode::SERVICE_UNAVAILABLE).await;
    register_provider(&node.base, &owner, 0, &provider).await;
    register_hook(&node.base, &provider, &hook_url, &[0xaa; 32], now_secs()).await;
    let grant = usage_grant(&owner, 1, [0x1b; 32], &provider.address);
    let (status, body) = submit(&node.base, &grant, true).await;
    assert_eq!(status, 200, "{body}");
    let mut nonce = 0u8;
    let mut failed = false;
    for _ in 0..100 {
        nonce += 1;
        let (status, state) = read(
            &node.base,
            &signed(WebhookAction::Read, &provider, nonce, now_secs()),
        )
        .await;
        assert_eq!(status, 200, "{state}");
        if state["failed"] == 1 {
            assert_eq!(state["pending"], 0);
            assert_eq!(state["last_status"], 503);
            failed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(failed, "the notice is kept as failed once a second old");
    let attempts = received(&receiver);
    assert!((1..=4).contains(&attempts), "{attempts} attempts");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(received(&receiver), attempts, "nothing after giving up");
    node.kill();
}
