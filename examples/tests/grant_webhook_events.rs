#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure
//! Grant webhook events with real standing grants: a family member's provider registers
//! its webhook with `register_webhook`; the owner approves its standing trip grant on
//! day 2 and the wallet's sync on day 4 delivers days 2 and 3. The provider's receiver
//! on 127.0.0.1 gets one `grant` notice for the standing anchor and one for each
//! period's grant (each period is a grant transaction of its own), then one `revoked`
//! notice when the owner revokes; a neighbour's provider that renounces its own grant
//! gets a `renounced` notice, and nothing of the family's grants. Each notice is signed
//! with its provider's secret and names no address, VID or key.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use axum::http::StatusCode;
use carchain_core::grants::webhook::verify_webhook;
use carchain_core::grants::{Delivery, Narrowing, PeriodContent, ServiceProvider, grant_id_for};
use serde_json::Value;
use support::flows::{WORDS_A, day, wallet};
use support::grants_setup::{
    VID, grants_world, provider, renounce_body, request_spec, secret, trip_terms,
};
use support::webhook_receiver::{Received, receiver};

const FAMILY: u8 = 0x76;
const NEIGHBOUR: u8 = 0x77;

/// Waits until `received` holds `expected` (event, grant id hex) notices, checking each:
/// signed under `secret`, nothing but id, event, grant id and height, nothing personal.
async fn await_events(
    received: &Received,
    secret: &[u8],
    expected: &BTreeSet<(String, String)>,
    personal: &[String],
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let got = received.lock().expect("lock").clone();
        let mut events = BTreeSet::new();
        let mut notices = Vec::new();
        for (signature, body) in &got {
            assert!(verify_webhook(secret, body, signature), "signed");
            let mut changed = body.clone();
            changed.push(b' ');
            assert!(!verify_webhook(secret, &changed, signature));
            let json: Value = serde_json::from_slice(body).expect("json");
            let mut keys: Vec<&String> = json.as_object().expect("object").keys().collect();
            keys.sort();
            assert_eq!(keys, ["event", "grant_id", "height", "id"]);
            let text = String::from_utf8_lossy(body);
            for word in personal {
                assert!(!text.contains(word.as_str()), "names {word}: {text}");
            }
            events.insert((
                json["event"].as_str().expect("event").to_owned(),
                json["grant_id"].as_str().expect("grant").to_owned(),
            ));
            notices.push(json);
        }
        assert!(
            events.is_subset(expected),
            "unexpected notices: {:?}",
            events.difference(expected).collect::<Vec<_>>()
        );
        if &events == expected {
            return notices;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "missing notices: {:?}",
            expected.difference(&events).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The ledger grant ids of the deliveries `provider` has received under its standing
/// request `request` up to `today`, in delivery order, each verified.
async fn period_grants(
    provider: &ServiceProvider,
    ledger: &carchain_core::grants::GrantsLedger,
    request: &[u8; 32],
    today: chrono::NaiveDate,
) -> Vec<[u8; 32]> {
    let delivered = provider
        .deliveries_since(ledger, request, 0, today)
        .await
        .expect("deliveries");
    delivered
        .deliveries
        .iter()
        .map(|delivery| match &delivery.content {
            PeriodContent::Copy(copy) => copy.grant.grant_id,
            PeriodContent::Result(result) => result.grant.grant_id,
        })
        .collect()
}

fn event(name: &str, grant_id: [u8; 32]) -> (String, String) {
    (name.to_owned(), hex::encode(grant_id))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_standing_period_revocation_and_renouncement_sends_its_own_notice() {
    let owner = wallet(WORDS_A);
    let family: ServiceProvider = provider(FAMILY);
    let neighbour = provider(NEIGHBOUR);
    let world = grants_world(&owner, &[family.address(), neighbour.address()]).await;
    let ledger = &world.ledger;
    family
        .register(ledger, "Family", "where is the car", vec![])
        .await
        .expect("register family");
    neighbour
        .register(ledger, "Neighbour", "car sharing", vec![])
        .await
        .expect("register neighbour");

    // The node's webhook routes and task, on their own loopback listener.
    let (hooks, task) = world.node.serve_webhooks().await;
    let (family_url, family_got) = receiver("/hook", StatusCode::OK).await;
    let (neighbour_url, neighbour_got) = receiver("/hook", StatusCode::OK).await;
    let family_secret = family
        .register_webhook(&hooks, &family_url)
        .await
        .expect("family hook");
    let neighbour_secret = neighbour
        .register_webhook(&hooks, &neighbour_url)
        .await
        .expect("neighbour hook");
    let personal = vec![
        owner.owner_address(),
        family.address(),
        neighbour.address(),
        VID.to_owned(),
    ];

    // The family's standing copy of days 1..=5, approved on day 2 (day 1 delivered).
    let request = family
        .request(
            ledger,
            &request_spec(&owner, trip_terms(1, 5, Delivery::Copy), "family", 0),
        )
        .await
        .expect("request");
    owner
        .approve_as_of(ledger, &request, VID, &Narrowing::default(), day(2))
        .await
        .expect("approve");
    let anchor = grant_id_for(&request);
    // Each delivery's ledger grant id, as the family's verified deliveries name them.
    let deliveries = period_grants(&family, ledger, &request, day(2)).await;
    assert_eq!(deliveries.len(), 1, "day 1 delivered at approval");
    let mut expected: BTreeSet<_> = [event("grant", anchor), event("grant", deliveries[0])].into();
    await_events(&family_got, &family_secret[..], &expected, &personal).await;

    // The background sync on day 4 delivers days 2 and 3: a notice for each period.
    let synced = owner
        .sync_standing_grants(ledger, day(4))
        .await
        .expect("sync");
    assert_eq!(synced[0].delivered.len(), 2, "{synced:?}");
    let deliveries = period_grants(&family, ledger, &request, day(4)).await;
    assert_eq!(deliveries.len(), 3, "days 1, 2 and 3");
    expected.extend(deliveries.iter().map(|id| event("grant", *id)));
    await_events(&family_got, &family_secret[..], &expected, &personal).await;

    // The owner revokes: one `revoked` notice, for the anchor.
    owner.revoke(ledger, &anchor).await.expect("revoke");
    expected.insert(event("revoked", anchor));
    let notices = await_events(&family_got, &family_secret[..], &expected, &personal).await;
    let ids: BTreeSet<&str> = notices
        .iter()
        .map(|n| n["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids.len(), notices.len(), "each event its own id");

    // The neighbour renounces its own standing grant: `renounced`, to the neighbour only.
    let shared = neighbour
        .request(
            ledger,
            &request_spec(&owner, trip_terms(1, 5, Delivery::Copy), "sharing", 0),
        )
        .await
        .expect("shared request");
    owner
        .approve_as_of(ledger, &shared, VID, &Narrowing::default(), day(2))
        .await
        .expect("approve shared");
    let shared_deliveries = period_grants(&neighbour, ledger, &shared, day(2)).await;
    assert_eq!(shared_deliveries.len(), 1, "day 1 delivered at approval");
    ledger
        .submit(&secret(NEIGHBOUR), renounce_body(&shared))
        .await
        .expect("renounce");
    let neighbour_expected: BTreeSet<_> = [
        event("grant", grant_id_for(&shared)),
        event("grant", shared_deliveries[0]),
        event("renounced", grant_id_for(&shared)),
    ]
    .into();
    await_events(
        &neighbour_got,
        &neighbour_secret[..],
        &neighbour_expected,
        &personal,
    )
    .await;
    // Nothing more reached the family.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(family_got.lock().expect("lock").len(), expected.len());
    let state = family.webhook_state(&hooks).await.expect("state");
    assert_eq!((state.delivered, state.pending, state.failed), (5, 0, 0));
    task.abort();
}
