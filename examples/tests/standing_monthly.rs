#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure
//! End-to-end: a monthly standing computation against a real in-process node on
//! loopback. An insurer asks for a UBI score each calendar month of May and June
//! (`period:month`); the owner approves in May, the wallet's syncs on June 1 and
//! July 1 deliver May's score and June's, each over that month's trips only, and the
//! insurer reads exactly those two. A copy naming a period is refused before it reaches
//! the ledger.

mod support;

use carchain_core::compute::ShippedProgram;
use carchain_core::grants::provider::RequestSpec;
use carchain_core::grants::{ComputePeriod, Delivery, Narrowing, Privilege, RequestTerms};
use chrono::{Datelike, NaiveDate};
use support::flows::{WORDS_A, car, pair, trip_on, wallet};
use support::grants_setup::{ORIGIN, grants_ledger, provider};
use support::standing::{Feed, sync_grants, ubi_result};
use support::{Mode, start_node};

const INSURER: u8 = 0x75;

fn date(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, month, day).expect("date")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_monthly_ubi_grant_scores_each_calendar_month_once() {
    let owner = wallet(WORDS_A);
    let insurer = provider(INSURER);
    let dir = tempfile::tempdir().expect("dir");
    let funds = [
        (owner.owner_address(), 1_000_000u64),
        (insurer.address(), 1_000_000),
    ];
    let funds: Vec<(&str, u64)> = funds.iter().map(|(a, n)| (a.as_str(), *n)).collect();
    let node = start_node(&funds, Mode::Private).await;
    let ledger = grants_ledger(&node);
    let light = node.client();
    let car = car(&dir, "VIN-MONTHLY-1");
    pair(&owner, &light, &car, "family car", 8).await;
    let ubi = ShippedProgram::UbiScore.program_hash().expect("hash");
    insurer
        .register(&ledger, "Insurer", "pay as you drive", vec![ubi])
        .await
        .expect("register");
    let drive = |dates: &[NaiveDate]| {
        for d in dates {
            let session = i64::from(d.month() * 100 + d.day());
            car.put_trip(&trip_on(*d, session, ORIGIN), 1, *d)
                .expect("put trip");
        }
    };
    let terms = RequestTerms {
        formats: vec!["trip-gps".into()],
        from: date(5, 1),
        to: date(6, 30),
        privileges: vec![Privilege::LocationHistory],
        delivery: Delivery::Compute { code_hash: ubi },
        period: Some(ComputePeriod::Month),
    };
    assert_eq!(
        terms.to_fields().last().map(String::as_str),
        Some("period:month")
    );
    let spec = |terms: RequestTerms| RequestSpec {
        owner_address: owner.owner_address(),
        terms,
        purpose: "monthly UBI".into(),
        price: 0,
        expires_at: None,
    };
    let request = insurer
        .request(&ledger, &spec(terms.clone()))
        .await
        .expect("request");
    let feed = Feed::new(&insurer, &ledger, request);

    // May: two trips first; approved on May 10, nothing is complete yet.
    drive(&[date(5, 3), date(5, 9)]);
    car.flush(&light).await.expect("flush");
    let approval = owner
        .approve_as_of(
            &ledger,
            &request,
            car.vid(),
            &Narrowing::default(),
            date(5, 10),
        )
        .await
        .expect("approve");
    assert!(approval.records.is_empty());
    let standing = owner.standing_grants().expect("standing");
    assert!(standing[0].calendar_months);
    drive(&[date(5, 20), date(5, 31)]);
    car.flush(&light).await.expect("flush");
    // May 31 is not over: nothing yet.
    let early = sync_grants(&owner, &ledger, date(5, 31), "sync").await;
    assert!(early[0].delivered.is_empty(), "{early:?}");
    let june1 = sync_grants(&owner, &ledger, date(6, 1), "sync").await;
    assert_eq!(june1[0].delivered.len(), 1);
    assert_eq!(june1[0].delivered[0].0, 0);
    assert_eq!(june1[0].delivered[0].1.len(), 4);

    // June: two trips; scored on July 1.
    drive(&[date(6, 2), date(6, 30)]);
    car.flush(&light).await.expect("flush");
    let july1 = sync_grants(&owner, &ledger, date(7, 1), "sync").await;
    assert_eq!(july1[0].delivered.len(), 1);
    assert_eq!(july1[0].delivered[0].0, 1);
    assert!(july1[0].late.is_empty());

    let found = feed.since(0, date(7, 1), "scores").await;
    let months: Vec<(u32, NaiveDate, NaiveDate, usize)> = found
        .deliveries
        .iter()
        .map(|d| {
            let (result, _) = ubi_result(d);
            assert!(!d.late);
            (d.period, d.from, d.to, result.inputs.len())
        })
        .collect();
    assert_eq!(
        months,
        vec![
            (0, date(5, 1), date(5, 31), 4),
            (1, date(6, 1), date(6, 30), 2)
        ]
    );
    assert_eq!(found.cursor, 2);
    let again = feed.since(found.cursor, date(7, 2), "nothing new").await;
    assert!(again.deliveries.is_empty());

    // A copy naming a period is refused with its code, before any transaction.
    let copy = RequestTerms {
        delivery: Delivery::Copy,
        ..terms
    };
    match insurer.request(&ledger, &spec(copy)).await {
        Err(err) => assert_eq!(err.code(), "standing.invalid_period"),
        Ok(id) => panic!("a copy naming a period was sent: {}", hex::encode(id)),
    }
}
