//! End-to-end: standing grants against a real in-process node on loopback. An insurer's
//! standing UBI grant over four weeks receives each week's owner-signed score from the
//! wallet's background sync without the owner approving again, until the owner revokes
//! it in week 3; a family member's standing trip grant sees each new day's trip; a grant
//! of the VIN only never sees a trip, nor one narrowed to three days a fourth; expiry,
//! renouncement and a transfer of the car stop deliveries from then on. Attacks: another
//! provider reading the grant, a provider asking for days not yet delivered or replaying
//! an old cursor, a standing request read as a one-off delivery. A priced request is
//! delivered once.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod support;

use std::time::Duration;

use carchain_core::compute::ShippedProgram;
use carchain_core::grants::provider::RequestOutcome;
use carchain_core::grants::{
    Delivery, GrantsError, Narrowing, PeriodContent, StandingDeliveries, StandingError,
    grant_id_for,
};
use carchain_core::protocol::{GrantStatus, RecordRef};
use carchain_core::record::{FormatSpec, VIN_CODE};
use serde_json::json;
use support::flows::{WORDS_A, WORDS_B, day, wallet};
use support::grants_setup::{
    days_narrowing, provider, put_vin, renounce_body, request_spec, secret, trip_terms, vin_terms,
    vin_value,
};
use support::past::now_ms;
use support::standing::{
    Feed, assert_over, assert_synced_nothing, copy_sessions, drive, sync_grants, sync_of,
    ubi_result, world,
};

const INSURER: u8 = 0x61;
const FAMILY: u8 = 0x62;
const DEALER: u8 = 0x63;
const STRANGER: u8 = 0x64;
const NEIGHBOUR: u8 = 0x65;

/// The sessions (= days) of the trips a copy period delivered.
fn sessions(found: &StandingDeliveries) -> Vec<(u32, Vec<i64>)> {
    found
        .deliveries
        .iter()
        .map(|d| (d.period, copy_sessions(d)))
        .collect()
}

/// The score and inputs of each result period.
fn scores(found: &StandingDeliveries) -> Vec<(u32, usize, Vec<RecordRef>)> {
    found
        .deliveries
        .iter()
        .map(|d| {
            let (result, score) = ubi_result(d);
            assert!(score.distance_m > 0);
            (d.period, result.inputs.len(), result.inputs.clone())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_insurers_standing_ubi_grant_scores_each_week_until_the_owner_revokes_it() {
    let owner = wallet(WORDS_A);
    let insurer = provider(INSURER);
    let stranger = provider(STRANGER);
    let dir = tempfile::tempdir().expect("dir");
    let (node, ledger, car) = world(&owner, &[&insurer, &stranger], &dir, "VIN-STANDING-1").await;
    let light = node.client();
    let ubi = ShippedProgram::UbiScore.program_hash().expect("hash");
    insurer
        .register(&ledger, "Insurer", "pay as you drive", vec![ubi])
        .await
        .expect("register");
    stranger
        .register(&ledger, "Stranger", "wants data", vec![ubi])
        .await
        .expect("register stranger");

    // Week 1 (days 1..=7): two trips. The insurer asks for four weeks of weekly scores.
    drive(&car, &light, &[2, 5]).await;
    let terms = trip_terms(1, 28, Delivery::Compute { code_hash: ubi });
    let request = insurer
        .request(&ledger, &request_spec(&owner, terms.clone(), "UBI", 0))
        .await
        .expect("request");
    let feed = Feed::new(&insurer, &ledger, request);
    // Approved on day 8: week 1 is complete and delivered now, the rest is standing.
    let approval = owner
        .approve_as_of(&ledger, &request, car.vid(), &Narrowing::default(), day(8))
        .await
        .expect("approve");
    assert_eq!(approval.records.len(), 2);
    let standing = owner.standing_grants().expect("standing");
    assert_eq!(standing.len(), 1);
    assert_eq!(standing[0].next_period, 1);
    assert_eq!(standing[0].state, "active");

    // A standing request is not read as one delivery.
    let one_off = insurer
        .wait_for_result(&ledger, &request, Duration::from_secs(5))
        .await;
    match one_off {
        Err(GrantsError::Standing(err @ StandingError::IsStanding(_))) => {
            assert_eq!(err.code(), "standing.is_standing");
        }
        other => panic!("expected a standing grant: {other:?}"),
    }

    let week1 = feed.since(0, day(8), "week 1").await;
    assert!(week1.in_force);
    assert_eq!(week1.cursor, 1);
    let week1_scores = scores(&week1);
    assert_eq!(week1_scores.len(), 1);
    assert_eq!((week1_scores[0].0, week1_scores[0].1), (0, 2));

    // Week 2: two more trips; the background sync on day 15 delivers week 2 alone.
    drive(&car, &light, &[9, 12]).await;
    // Nothing is complete before the week ends: a sync on day 14 delivers nothing.
    let early = sync_grants(&owner, &ledger, day(14), "sync").await;
    assert!(early.iter().all(|s| s.delivered.is_empty()), "{early:?}");
    let synced = sync_grants(&owner, &ledger, day(15), "sync").await;
    assert_eq!(synced.len(), 1);
    assert_eq!(synced[0].delivered.len(), 1);
    assert_eq!(synced[0].delivered[0].0, 1);
    assert_eq!(synced[0].next_period, 2);
    // A second sync the same day delivers nothing new.
    let again = sync_grants(&owner, &ledger, day(15), "sync again").await;
    assert!(again[0].delivered.is_empty());

    // Asking for days not yet delivered (a far-away today) gets only week 2.
    let week2 = feed.since(week1.cursor, day(31), "week 2").await;
    assert_eq!(week2.cursor, 2);
    let week2_scores = scores(&week2);
    assert_eq!(week2_scores.len(), 1);
    assert_eq!((week2_scores[0].0, week2_scores[0].1), (1, 2));
    let week1_inputs = &week1_scores[0].2;
    assert!(week2_scores[0].2.iter().all(|r| !week1_inputs.contains(r)));

    // Replaying the old cursor returns exactly what was delivered, nothing new.
    let replay = feed.since(0, day(31), "replay").await;
    assert_eq!(
        replay.deliveries,
        [week1.deliveries, week2.deliveries].concat()
    );
    assert_eq!(replay.cursor, 2);

    // Another provider cannot read the insurer's grant.
    let refused = stranger
        .deliveries_since(&ledger, &request, 0, day(31))
        .await;
    assert!(
        matches!(refused, Err(GrantsError::DeliveryRefused(_))),
        "{refused:?}"
    );
    // A cursor past the grant's periods is a typed error.
    match insurer
        .deliveries_since(&ledger, &request, 99, day(31))
        .await
    {
        Err(err) => assert_eq!(err.code(), "standing.cursor_past_end"),
        Ok(found) => panic!("cursor 99 read {found:?}"),
    }

    // Week 3: the car drives, and the owner revokes the grant mid-week.
    drive(&car, &light, &[16]).await;
    let grant_id = approval.grant_id;
    owner.revoke(&ledger, &grant_id).await.expect("revoke");
    drive(&car, &light, &[19]).await;
    let after_revoke = sync_grants(&owner, &ledger, day(22), "sync after revoke").await;
    assert_eq!(after_revoke.len(), 1);
    assert!(after_revoke[0].delivered.is_empty());
    assert_eq!(after_revoke[0].state, "revoked");
    // Week 4 delivers nothing: the wallet no longer syncs the grant at all.
    drive(&car, &light, &[23, 26]).await;
    let week4 = sync_grants(&owner, &ledger, day(29), "sync week 4").await;
    assert!(week4.is_empty(), "{week4:?}");
    let after = feed.since(2, day(29), "after revoke").await;
    assert_over(&after, GrantStatus::Revoked);
    assert_eq!(after.cursor, 2);
    // Even from the start, nothing more comes once revoked.
    let from_start = feed.since(0, day(29), "from start").await;
    assert!(from_start.deliveries.is_empty());
    let standing = owner.standing_grants().expect("standing");
    assert_eq!(standing[0].delivered, vec![0, 1]);
    assert_eq!(standing[0].state, "revoked");

    // A priced request is delivered once, as before: its escrow pays for one delivery.
    let priced = insurer
        .request(&ledger, &request_spec(&owner, terms, "UBI", 10))
        .await
        .expect("priced request");
    let paid = owner
        .approve_as_of(&ledger, &priced, car.vid(), &Narrowing::default(), day(8))
        .await
        .expect("priced approval");
    assert!(paid.payment.is_some());
    assert_eq!(owner.standing_grants().expect("standing").len(), 1);
    let outcome = insurer
        .wait_for_result(&ledger, &priced, Duration::from_secs(30))
        .await
        .expect("paid result");
    assert!(matches!(outcome, RequestOutcome::Result(_)));
    // A one-off grant is not read by period.
    match insurer.deliveries_since(&ledger, &priced, 0, day(29)).await {
        Err(err) => assert_eq!(err.code(), "standing.not_standing"),
        Ok(found) => panic!("a one-off grant read by period: {found:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_family_trip_grant_sees_each_new_day_a_vin_grant_never_a_trip_and_a_transfer_stops_both()
{
    let owner = wallet(WORDS_A);
    let new_owner = wallet(WORDS_B);
    let family = provider(FAMILY);
    let dealer = provider(DEALER);
    let neighbour = provider(NEIGHBOUR);
    let dir = tempfile::tempdir().expect("dir");
    let (node, ledger, car) = world(
        &owner,
        &[&family, &dealer, &neighbour],
        &dir,
        "VIN-STANDING-2",
    )
    .await;
    let light = node.client();
    family
        .register(&ledger, "Family", "where is the car", vec![])
        .await
        .expect("register family");
    dealer
        .register(&ledger, "Dealer", "service reminders", vec![])
        .await
        .expect("register dealer");
    drive(&car, &light, &[1]).await;
    put_vin(&owner, &light, car.vid()).await;

    // The family's standing copy of the trips, days 1..=10, approved on day 2.
    let trips_request = family
        .request(
            &ledger,
            &request_spec(&owner, trip_terms(1, 10, Delivery::Copy), "family", 0),
        )
        .await
        .expect("trip request");
    let trips_feed = Feed::new(&family, &ledger, trips_request);
    owner
        .approve_as_of(
            &ledger,
            &trips_request,
            car.vid(),
            &Narrowing::default(),
            day(2),
        )
        .await
        .expect("approve trips");
    // The dealer's standing grant of the VIN only, expiring in a few seconds.
    let vin_request = dealer
        .request(&ledger, &request_spec(&owner, vin_terms(), "service", 0))
        .await
        .expect("vin request");
    let vin_feed = Feed::new(&dealer, &ledger, vin_request);
    let expiring = Narrowing {
        expires_at: Some(now_ms() + 6_000),
        ..Narrowing::default()
    };
    owner
        .approve_as_of(&ledger, &vin_request, car.vid(), &expiring, day(2))
        .await
        .expect("approve vin");

    // The dealer also asks for the trips of days 1..=10; the owner approves days 1..=3.
    let narrowed_request = dealer
        .request(
            &ledger,
            &request_spec(&owner, trip_terms(1, 10, Delivery::Copy), "trips", 0),
        )
        .await
        .expect("narrowed request");
    let narrowed_feed = Feed::new(&dealer, &ledger, narrowed_request);
    let three_days = days_narrowing(1, 3);
    owner
        .approve_as_of(&ledger, &narrowed_request, car.vid(), &three_days, day(2))
        .await
        .expect("approve narrowed");

    // A neighbour's standing trip grant, which the neighbour renounces after day 1.
    neighbour
        .register(&ledger, "Neighbour", "car sharing", vec![])
        .await
        .expect("register neighbour");
    let shared_request = neighbour
        .request(
            &ledger,
            &request_spec(&owner, trip_terms(1, 10, Delivery::Copy), "sharing", 0),
        )
        .await
        .expect("shared request");
    let shared_feed = Feed::new(&neighbour, &ledger, shared_request);
    owner
        .approve_as_of(
            &ledger,
            &shared_request,
            car.vid(),
            &Narrowing::default(),
            day(2),
        )
        .await
        .expect("approve shared");
    ledger
        .submit(&secret(NEIGHBOUR), renounce_body(&shared_request))
        .await
        .expect("renounce");

    let day1 = trips_feed.since(0, day(2), "day 1").await;
    assert_eq!(sessions(&day1), vec![(0, vec![1])]);

    // Days 2 and 3 are driven; the sync on day 4 delivers each as its own period.
    drive(&car, &light, &[2, 3]).await;
    let synced = sync_grants(&owner, &ledger, day(4), "sync").await;
    assert!(synced.iter().all(|s| s.error.is_none()), "{synced:?}");
    let shared = sync_of(&synced, grant_id_for(&shared_request));
    assert_synced_nothing(shared, "renounced");
    let renounced = shared_feed.since(1, day(4), "after renouncing").await;
    assert_over(&renounced, GrantStatus::Renounced);
    let new_days = trips_feed.since(day1.cursor, day(4), "new days").await;
    assert_eq!(sessions(&new_days), vec![(1, vec![2]), (2, vec![3])]);
    assert_eq!(new_days.cursor, 3);
    // What the ledger holds for a period names no record, car or day: the anchor and
    // each period's grant carry a salted commitment and opaque copy tags only.
    let anchor = ledger
        .grant(&grant_id_for(&trips_request))
        .await
        .expect("read")
        .expect("anchor");
    assert!(anchor.copy_tags.is_empty());
    for delivery in &new_days.deliveries {
        let PeriodContent::Copy(copy) = &delivery.content else {
            panic!("a copy");
        };
        let public = serde_json::to_string(&copy.grant).expect("json");
        for record in &copy.records {
            assert!(!public.contains(&record.address));
            assert!(!public.contains(&hex::encode(&record.key)));
        }
        assert!(!public.contains(car.vid()));
        assert!(!public.contains("2024-05"));
        assert_eq!(copy.grant.copy_tags.len(), copy.records.len());
    }

    // The VIN grant received the VIN and never a trip, though trips were driven daily.
    let vin = vin_feed.since(0, day(4), "vin").await;
    let formats: Vec<(u32, String)> = vin
        .deliveries
        .iter()
        .flat_map(|d| {
            let PeriodContent::Copy(copy) = &d.content else {
                panic!("a copy");
            };
            copy.records
                .iter()
                .map(|r| (d.period, r.format.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(formats, vec![(0, VIN_CODE.to_owned())]);
    let PeriodContent::Copy(copy) = &vin.deliveries[0].content else {
        panic!("a copy");
    };
    assert_eq!(copy.records[0].value, vin_value());

    // The VIN grant expires: from then on nothing is delivered under it.
    while now_ms() < expiring.expires_at.expect("expiry") + 1_500 {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    owner
        .put_owner_record(
            &light,
            car.vid(),
            day(5),
            &FormatSpec::vin_code(),
            &json!({"VEHICLE_DATA": 2}),
            &json!({"VIN": "LSVAU2180N2183295"}),
        )
        .await
        .expect("another vin");
    drive(&car, &light, &[5]).await;
    let synced = sync_grants(&owner, &ledger, day(6), "sync after expiry").await;
    let vin_id = grant_id_for(&vin_request);
    let vin_sync = sync_of(&synced, vin_id);
    assert_synced_nothing(vin_sync, "expired");
    let after_expiry = vin_feed.since(0, day(6), "after expiry").await;
    assert!(!after_expiry.in_force);
    assert!(after_expiry.deliveries.is_empty());
    // The narrowed grant got days 1..=3 and never day 5, though it is complete.
    let narrowed = narrowed_feed.since(0, day(6), "narrowed").await;
    assert_eq!(
        sessions(&narrowed),
        vec![(0, vec![1]), (1, vec![2]), (2, vec![3])]
    );
    // The family's grant went on: days 4 (no trip) and 5.
    let more = trips_feed.since(new_days.cursor, day(6), "day 5").await;
    assert_eq!(sessions(&more), vec![(4, vec![5])]);

    // The owner hands the car over: the ledger ends the grants, nothing more arrives.
    owner
        .reset_to(&light, car.vid(), &new_owner.owner_address())
        .await
        .expect("transfer");
    let synced = sync_grants(&owner, &ledger, day(9), "sync after transfer").await;
    let family_sync = sync_of(&synced, grant_id_for(&trips_request));
    assert_synced_nothing(family_sync, "ended");
    let after_transfer = trips_feed
        .since(more.cursor, day(9), "after transfer")
        .await;
    assert_over(&after_transfer, GrantStatus::Ended);

    // A standing request read as a one-off delivery is refused with its code.
    match family.receive(&ledger, &trips_request).await {
        Err(err) => assert_eq!(err.code(), "standing.is_standing"),
        Ok(outcome) => assert!(
            !matches!(outcome, RequestOutcome::Copy(_)),
            "a one-off copy of a standing grant"
        ),
    }
}
