//! Grant webhooks with the real grant flow: a dealer registers on the ledger and then
//! its webhook with `register_webhook`, asks the owner for the car's VIN, the owner's
//! wallet approves, and the dealer's HTTP receiver on 127.0.0.1 gets exactly the grant
//! id (`grant_id_for(request)`), signed with the dealer's secret, and nothing that names
//! the owner, the car or the record. A registration signed by another key is refused.
//! The dealer then reads its hook with `webhook_state` (URL, creation height, one
//! delivered, no secret) and deletes it with `delete_webhook`; reading or deleting again
//! is the typed `not_found`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use carchain_core::grants::webhook::{
    WebhookError, WebhookRegistration, register_webhook, verify_webhook,
};
use carchain_core::grants::{Narrowing, grant_id_for};
use serde_json::Value;
use support::flows::{WORDS_A, wallet};
use support::grants_setup::{VID, grants_world, provider, request_spec, secret, vin_terms};
use support::webhook_receiver::receiver;

const DEALER: u8 = 0x74;
const MALLORY: u8 = 0x75;

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_grant_reaches_the_dealers_webhook_with_nothing_personal() {
    let owner = wallet(WORDS_A);
    let dealer = provider(DEALER);
    let world = grants_world(&owner, &[dealer.address()]).await;
    dealer
        .register(&world.ledger, "Dealer", "used-car valuations", vec![])
        .await
        .expect("register");

    // The node's webhook route and task, on their own loopback listener.
    let (hooks_base, hooks_task) = world.node.serve_webhooks().await;

    let (hook_url, received) = receiver("/carchain", StatusCode::NO_CONTENT).await;
    let hook_secret = [0x3c; 32];

    // Mallory signs a registration of her URL and claims the dealer's key.
    let mut forged =
        WebhookRegistration::sign(&secret(MALLORY), &hook_url, &hook_secret, now_secs());
    forged.provider_pubkey =
        WebhookRegistration::sign(&secret(DEALER), &hook_url, &hook_secret, 0).provider_pubkey;
    match register_webhook(&hooks_base, &forged).await {
        Err(WebhookError::Refused { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (401, "bad_signature"));
        }
        other => panic!("a forged registration is refused, got {other:?}"),
    }
    // The node's own address is refused.
    let own = WebhookRegistration::sign(&secret(DEALER), &hooks_base, &hook_secret, now_secs() - 1);
    match register_webhook(&hooks_base, &own).await {
        Err(WebhookError::Refused { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (400, "webhook_url_self"));
        }
        other => panic!("the node itself is refused, got {other:?}"),
    }

    let registration =
        WebhookRegistration::sign(&secret(DEALER), &hook_url, &hook_secret, now_secs());
    register_webhook(&hooks_base, &registration)
        .await
        .expect("the dealer registers its webhook");

    let request = dealer
        .request(
            &world.ledger,
            &request_spec(&owner, vin_terms(), "valuation", 0),
        )
        .await
        .expect("request");
    owner
        .approve(&world.ledger, &request, VID, &Narrowing::default())
        .await
        .expect("approve");
    let grant_id = grant_id_for(&request);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while received.lock().expect("lock").is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no notification in 15 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let got = received.lock().expect("lock").clone();
    assert_eq!(got.len(), 1, "one grant, one acknowledged notification");
    let (signature, body) = &got[0];
    assert!(verify_webhook(&hook_secret, body, signature));
    let json: Value = serde_json::from_slice(body).expect("json");
    assert_eq!(json["grant_id"], hex::encode(grant_id));
    let mut keys: Vec<&String> = json.as_object().expect("object").keys().collect();
    keys.sort();
    assert_eq!(keys, ["event", "grant_id", "height", "id"]);
    assert_eq!(json["event"], "grant");
    let text = String::from_utf8_lossy(body);
    for personal in [
        owner.owner_address(),
        dealer.address(),
        VID.to_owned(),
        hex::encode(request),
    ] {
        assert!(
            !text.contains(&personal),
            "the notification names {personal}: {text}"
        );
    }

    // The dealer's own view of its hook, through the SDK; then it deletes it.
    let state = dealer.webhook_state(&hooks_base).await.expect("state");
    assert_eq!(state.provider, dealer.address());
    assert_eq!(state.url, hook_url);
    assert!(state.created_height > 0);
    assert_eq!((state.delivered, state.pending, state.failed), (1, 0, 0));
    assert_eq!(state.last_error, None);
    assert!(!format!("{state:?}").contains(&hex::encode(hook_secret)));
    dealer
        .delete_webhook(&hooks_base)
        .await
        .expect("the dealer deletes its hook");
    for outcome in [
        dealer.delete_webhook(&hooks_base).await.err(),
        dealer.webhook_state(&hooks_base).await.err(),
    ] {
        let err = outcome.expect("no hook any more");
        assert_eq!(err.code(), "not_found", "{err}");
        assert!(matches!(err, WebhookError::Refused { status: 404, .. }));
    }
    // Mallory cannot delete a hook of the dealer's either: she has none of her own.
    let mallory = provider(MALLORY);
    let refused = mallory.delete_webhook(&hooks_base).await.err();
    assert_eq!(
        refused.map(|e| e.code().to_owned()).as_deref(),
        Some("not_found")
    );
    hooks_task.abort();
}
