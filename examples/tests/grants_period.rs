//! End-to-end: a grant delivers only the records of its approved days, against a real
//! in-process node. A pool address can serve several days, so the addresses of the
//! approved days can hold another day's trip; the owner's copy and computation must
//! leave it out.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod support;

use std::collections::{BTreeMap, BTreeSet};

use carchain_core::compute::ShippedProgram;
use carchain_core::grants::{Delivery, Narrowing};
use carchain_core::record::{FormatSpec, decode_key};
use carchain_core::trip::{PrivacyZone, Trip};
use support::flows::{WORDS_A, car, day, pair, trip_on, trip_range, wallet};
use support::grants_setup::{
    ORIGIN, days_narrowing, grants_ledger, provider, received_copy, request_spec, trip_terms,
};
use support::{Mode, start_node};

/// The session of a range-ordered (plaintext) trip key.
fn session_of(key: &[u8]) -> i64 {
    decode_key(&FormatSpec::trip_gps(), key).expect("trip key")["SESSION_ID"]
        .as_i64()
        .expect("session")
}

/// The sessions of the car's trips by their stored keys (what grants name), as the
/// owner reads them back.
async fn sessions_by_stored_key(
    owner: &carchain_core::wallet::Wallet,
    light: &carchain_core::light::LightClient,
    vid: &str,
) -> BTreeMap<Vec<u8>, i64> {
    trip_range(owner, light, vid, (day(1), day(4)))
        .await
        .records
        .into_iter()
        .map(|r| (r.stored_key, session_of(&r.key_bytes)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_delivers_only_its_days_even_from_a_shared_pool_address() {
    let owner = wallet(WORDS_A);
    let dealer = provider(0x51);
    let insurer = provider(0x52);
    let dir = tempfile::tempdir().expect("dir");
    let node = start_node(
        &[
            (owner.owner_address().as_str(), 1_000_000),
            (dealer.address().as_str(), 1_000_000),
            (insurer.address().as_str(), 1_000_000),
        ],
        Mode::Private,
    )
    .await;
    let light = node.client();
    let car = car(&dir, "VIN-PERIOD-1");
    pair(&owner, &light, &car, "period car", 8).await;
    // Sessions 1..=4 start on days 1..=4; session 4 is stored under day 2's address,
    // as when one pool address serves two days.
    let stored_on: [(i64, u32, u32); 4] = [(1, 1, 1), (2, 2, 2), (3, 3, 3), (4, 4, 2)];
    for (session, started, stored) in stored_on {
        let trip: Trip = trip_on(day(started), session, ORIGIN);
        car.put_trip(&trip, 1, day(stored)).expect("put trip");
    }
    car.flush(&light).await.expect("flush");
    let sessions = sessions_by_stored_key(&owner, &light, car.vid()).await;
    assert_eq!(sessions.len(), 4);
    let ledger = grants_ledger(&node);

    // A copy of days 1..=4 narrowed to days 2..=3: sessions 2 and 3, not 4.
    dealer
        .register(&ledger, "Dealer", "used-car valuations", vec![])
        .await
        .expect("register dealer");
    let copy_request = dealer
        .request(
            &ledger,
            &request_spec(&owner, trip_terms(1, 4, Delivery::Copy), "valuation", 0),
        )
        .await
        .expect("copy request");
    let narrowed = days_narrowing(2, 3);
    let approval = owner
        .approve(&ledger, &copy_request, car.vid(), &narrowed)
        .await
        .expect("approve copy");
    let granted: BTreeSet<i64> = approval.records.iter().map(|r| sessions[&r.key]).collect();
    assert_eq!(granted, BTreeSet::from([2, 3]));
    let copy = received_copy(&dealer, &ledger, &copy_request, "copy").await;
    let received: BTreeSet<i64> = copy
        .records
        .iter()
        .map(|r| session_of(&r.plain_key))
        .collect();
    assert_eq!(received, BTreeSet::from([2, 3]));
    for record in &copy.records {
        let session = session_of(&record.plain_key);
        assert_eq!(sessions[&record.key], session);
        let expected = trip_on(day(u32::try_from(session).expect("day")), session, ORIGIN);
        let key = FormatSpec::trip_gps();
        let got = Trip::decode(
            &decode_key(&key, &record.plain_key).expect("key"),
            &record.value,
        )
        .expect("trip");
        assert_eq!(got.points.len(), expected.points.len());
        assert_eq!(got.start, expected.start);
    }

    // A copy of days 2..=3 with a privacy zone around where session 3 starts leaves that
    // trip out (a copy cannot be trimmed) and still not session 4.
    let start_of_3 = &trip_on(day(3), 3, ORIGIN).points[0];
    let zoned_request = dealer
        .request(
            &ledger,
            &request_spec(&owner, trip_terms(2, 3, Delivery::Copy), "valuation", 0),
        )
        .await
        .expect("zoned request");
    let zoned = Narrowing {
        privacy_zones: vec![PrivacyZone::new(start_of_3.lat, start_of_3.lng, 300.0).expect("zone")],
        ..Narrowing::default()
    };
    let approval = owner
        .approve(&ledger, &zoned_request, car.vid(), &zoned)
        .await
        .expect("approve zoned copy");
    let granted: Vec<i64> = approval.records.iter().map(|r| sessions[&r.key]).collect();
    assert_eq!(granted, vec![2]);

    // A computation over day 2 alone reads session 2 only.
    let code_hash = ShippedProgram::UbiScore.program_hash().expect("hash");
    insurer
        .register(&ledger, "Insurer", "usage-based insurance", vec![code_hash])
        .await
        .expect("register insurer");
    let compute_request = insurer
        .request(
            &ledger,
            &request_spec(
                &owner,
                trip_terms(2, 2, Delivery::Compute { code_hash }),
                "a quote",
                0,
            ),
        )
        .await
        .expect("compute request");
    let approval = owner
        .approve(&ledger, &compute_request, car.vid(), &Narrowing::default())
        .await
        .expect("approve computation");
    let inputs: Vec<i64> = approval.records.iter().map(|r| sessions[&r.key]).collect();
    assert_eq!(inputs, vec![2]);
}
