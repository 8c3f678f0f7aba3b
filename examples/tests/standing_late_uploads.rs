#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure
//! End-to-end: late uploads under standing grants, against a real in-process node on
//! loopback. A car offline on day 2 uploads day 2's trip after day 3 was delivered: the
//! family's standing trip grant receives it once, as a late delivery of day 2, and the
//! provider's cursor returns it exactly once. Attacks: a grant narrowed to days 1..=3
//! never receives a late record of day 4; a revoked grant receives no late record; a
//! record uploaded more than 14 days after its day's end is not delivered. An
//! insurer's weekly UBI grant receives a late trip of a scored week as a corrected score
//! over the whole week, marked late (it replaces the week's earlier score).

mod support;

use carchain_core::compute::ShippedProgram;
use carchain_core::grants::{
    Delivery, GrantsLedger, Narrowing, ServiceProvider, StandingDeliveries,
};
use carchain_core::protocol::GrantStatus;
use carchain_core::wallet::Wallet;
use support::flows::{WORDS_A, day, trip_on, wallet};
use support::grants_setup::{ORIGIN, days_narrowing, provider, request_spec, trip_terms};
use support::standing::{
    Feed, assert_over, assert_synced_nothing, copy_sessions, drive, sync_grants, sync_of,
    ubi_result, world,
};

const FAMILY: u8 = 0x71;
const DEALER: u8 = 0x72;
const NEIGHBOUR: u8 = 0x73;
const INSURER: u8 = 0x74;

/// (period, late, sessions) of each copy delivery.
fn sessions(found: &StandingDeliveries) -> Vec<(u32, bool, Vec<i64>)> {
    found
        .deliveries
        .iter()
        .map(|d| (d.period, d.late, copy_sessions(d)))
        .collect()
}

/// `provider` asks the owner for a copy of the trips of days 1..=10.
async fn ask(owner: &Wallet, ledger: &GrantsLedger, provider: &ServiceProvider) -> [u8; 32] {
    let spec = request_spec(owner, trip_terms(1, 10, Delivery::Copy), "trips", 0);
    provider.request(ledger, &spec).await.expect("request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_uploaded_late_reaches_the_family_once_and_no_grant_out_of_scope_or_revoked() {
    let owner = wallet(WORDS_A);
    let family = provider(FAMILY);
    let dealer = provider(DEALER);
    let neighbour = provider(NEIGHBOUR);
    let dir = tempfile::tempdir().expect("dir");
    let (node, ledger, car) =
        world(&owner, &[&family, &dealer, &neighbour], &dir, "VIN-LATE-1").await;
    let light = node.client();
    for (p, name) in [
        (&family, "Family"),
        (&dealer, "Dealer"),
        (&neighbour, "Neighbour"),
    ] {
        p.register(&ledger, name, "trips", vec![])
            .await
            .expect("register");
    }
    drive(&car, &light, &[1]).await;
    let approve = |request: [u8; 32], narrowing: Narrowing| {
        let (owner, ledger, vid) = (&owner, &ledger, car.vid().to_owned());
        async move {
            owner
                .approve_as_of(ledger, &request, &vid, &narrowing, day(2))
                .await
                .expect("approve")
        }
    };
    // The family's grant of days 1..=10; the dealer's narrowed to days 1..=3; the
    // neighbour's, which the owner will revoke before the late upload.
    let family_request = ask(&owner, &ledger, &family).await;
    let family_feed = Feed::new(&family, &ledger, family_request);
    approve(family_request, Narrowing::default()).await;
    let dealer_request = ask(&owner, &ledger, &dealer).await;
    let dealer_feed = Feed::new(&dealer, &ledger, dealer_request);
    let three_days = days_narrowing(1, 3);
    approve(dealer_request, three_days).await;
    let neighbour_request = ask(&owner, &ledger, &neighbour).await;
    let neighbour_feed = Feed::new(&neighbour, &ledger, neighbour_request);
    let neighbour_grant = approve(neighbour_request, Narrowing::default())
        .await
        .grant_id;

    // Day 2's trip stays in the car (offline); day 3's is uploaded and synced on day 4.
    drive(&car, &light, &[3]).await;
    let synced = sync_grants(&owner, &ledger, day(4), "sync").await;
    assert!(
        synced
            .iter()
            .all(|s| s.error.is_none() && s.late.is_empty()),
        "{synced:?}"
    );
    let first = family_feed.since(0, day(4), "days 1..3").await;
    assert_eq!(
        sessions(&first),
        vec![(0, false, vec![1]), (2, false, vec![3])]
    );
    assert_eq!(first.cursor, 2);

    // The owner revokes the neighbour's grant; then the car uploads day 2 and day 4.
    owner
        .revoke(&ledger, &neighbour_grant)
        .await
        .expect("revoke");
    drive(&car, &light, &[2, 4]).await;
    let synced = sync_grants(&owner, &ledger, day(5), "sync").await;
    let family_sync = sync_of(
        &synced,
        carchain_core::grants::grant_id_for(&family_request),
    );
    assert_eq!(family_sync.late, vec![1]);
    let neighbour_sync = sync_of(&synced, neighbour_grant);
    assert_synced_nothing(neighbour_sync, "revoked");

    // The family sees day 2 once, late, then day 4, and nothing again from the new cursor.
    let late = family_feed.since(first.cursor, day(5), "late day 2").await;
    assert_eq!(
        sessions(&late),
        vec![(1, true, vec![2]), (3, false, vec![4])]
    );
    let again = family_feed.since(late.cursor, day(5), "nothing new").await;
    assert!(again.deliveries.is_empty());
    assert_eq!(again.cursor, late.cursor);
    // A second sync delivers nothing more: each late record goes once.
    let resync = sync_grants(&owner, &ledger, day(5), "resync").await;
    assert!(resync.iter().all(|s| s.delivered.is_empty()), "{resync:?}");
    let all = family_feed.since(0, day(9), "from the start").await;
    let mut every: Vec<i64> = sessions(&all).into_iter().flat_map(|(_, _, s)| s).collect();
    every.sort_unstable();
    assert_eq!(every, vec![1, 2, 3, 4]);

    // The dealer's grant of days 1..=3 got day 2 late and never day 4.
    let dealer_all = dealer_feed.since(0, day(9), "dealer").await;
    assert_eq!(
        sessions(&dealer_all),
        vec![(0, false, vec![1]), (2, false, vec![3]), (1, true, vec![2])]
    );
    // The revoked grant delivers nothing, late records included.
    let revoked = neighbour_feed.since(0, day(9), "revoked").await;
    assert_over(&revoked, GrantStatus::Revoked);

    // The window: a late trip of day 8 (passed on day 10) still arrives on day 20; one of
    // day 1, whose period ended more than 14 days before, does not.
    sync_grants(&owner, &ledger, day(10), "sync day 10").await;
    car.put_trip(&trip_on(day(1), 11, ORIGIN), 1, day(1))
        .expect("put trip");
    drive(&car, &light, &[8]).await;
    let synced = sync_grants(&owner, &ledger, day(20), "sync day 20").await;
    let family_id = carchain_core::grants::grant_id_for(&family_request);
    let family_sync = sync_of(&synced, family_id);
    assert_eq!(family_sync.late, vec![7]);
    assert_eq!(family_sync.state, "active");
    let windowed = family_feed.since(again.cursor, day(20), "day 8").await;
    assert_eq!(sessions(&windowed), vec![(7, true, vec![8])]);
    // Once the window after the last day is over the grant is finished.
    let synced = sync_grants(&owner, &ledger, day(25), "sync day 25").await;
    let family_sync = sync_of(&synced, family_id);
    assert_synced_nothing(family_sync, "finished");

    let standing = owner.standing_grants().expect("standing");
    let neighbour_row = standing
        .iter()
        .find(|g| g.grant_id == hex::encode(neighbour_grant))
        .expect("row");
    assert_eq!(neighbour_row.delivered, vec![0, 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_trip_of_a_scored_week_is_delivered_as_a_corrected_score() {
    let owner = wallet(WORDS_A);
    let insurer = provider(INSURER);
    let dir = tempfile::tempdir().expect("dir");
    let (node, ledger, car) = world(&owner, &[&insurer], &dir, "VIN-LATE-2").await;
    let light = node.client();
    let ubi = ShippedProgram::UbiScore.program_hash().expect("hash");
    insurer
        .register(&ledger, "Insurer", "pay as you drive", vec![ubi])
        .await
        .expect("register");
    drive(&car, &light, &[2]).await;
    let terms = trip_terms(1, 14, Delivery::Compute { code_hash: ubi });
    let request = insurer
        .request(&ledger, &request_spec(&owner, terms, "UBI", 0))
        .await
        .expect("request");
    let feed = Feed::new(&insurer, &ledger, request);
    owner
        .approve_as_of(&ledger, &request, car.vid(), &Narrowing::default(), day(8))
        .await
        .expect("approve");
    // Week 1 is scored on day 2's trip; then the car uploads day 5's trip late, and
    // week 2's trip of day 9.
    drive(&car, &light, &[5, 9]).await;
    let synced = sync_grants(&owner, &ledger, day(15), "sync").await;
    assert_eq!(synced[0].late, vec![0]);
    let found = feed.since(0, day(15), "scores").await;
    let scored: Vec<(u32, bool, usize)> = found
        .deliveries
        .iter()
        .map(|d| {
            let (result, _) = ubi_result(d);
            (d.period, d.late, result.inputs.len())
        })
        .collect();
    // Week 1 on one trip, week 1 again on both (replacing it), week 2 on one.
    assert_eq!(scored, vec![(0, false, 1), (0, true, 2), (1, false, 1)]);
    assert_eq!(found.cursor, 3);
    let resync = sync_grants(&owner, &ledger, day(16), "resync").await;
    assert!(resync[0].delivered.is_empty(), "{resync:?}");
}
