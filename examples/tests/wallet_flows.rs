//! End-to-end wallet flows against a real in-process node: two cars paired to one wallet
//! through the mailbox, a week of trips each, device list, day and week reads, privacy of
//! the pool on the ledger, a second wallet locked out, a reset to a second owner, and a
//! subscriber who reads the car until removed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod support;

use std::collections::BTreeSet;

use carchain_core::device::CarDevice;
use carchain_core::light::LightClient;
use carchain_core::record::FormatSpec;
use carchain_core::trip::Trip;
use carchain_core::wallet::{ChannelTicket, Wallet, WalletError};
use serde_json::json;
use support::flows::{
    WORDS_A, WORDS_B, car, day, owner_with_car, pair, pair_with_code, trip_on, trip_range, wallet,
};
use support::{Mode, start_node};

/// Whether `reader` finds and opens `car`'s trip of `date` under `key`.
async fn reads_trip(
    reader: &Wallet,
    light: &LightClient,
    car: &CarDevice,
    date: chrono::NaiveDate,
    key: &serde_json::Value,
) -> bool {
    let trip = reader.trip(light, car.vid(), date, key).await;
    trip.expect("read").is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_cars_a_week_of_trips_read_back_by_day_and_week() {
    let owner = wallet(WORDS_A);
    let stranger = wallet(WORDS_B);
    let node = start_node(&[(&owner.owner_address(), 1_000_000)], Mode::Private).await;
    let light = node.client();
    let dir = tempfile::tempdir().expect("dir");
    let cars = [car(&dir, "VIN-CAR-ONE"), car(&dir, "VIN-CAR-TWO")];
    for (i, car) in cars.iter().enumerate() {
        pair(&owner, &light, car, &format!("car {i}"), 16).await;
    }
    // A week of trips per car.
    let mut put = Vec::new();
    for (c, car) in cars.iter().enumerate() {
        let origin = (48.1 + c as f64, 11.5 + c as f64);
        let mut trips = Vec::new();
        for d in 1..=7 {
            let trip = trip_on(day(d), i64::from(d) + 100 * c as i64, origin);
            car.put_trip(&trip, 1, day(d)).expect("put trip");
            trips.push(trip);
        }
        let report = car.flush(&light).await.expect("flush");
        assert_eq!(report.delivered, 7);
        assert_eq!(report.remaining, 0);
        put.push(trips);
    }
    // Device list.
    let devices = owner.devices().expect("devices");
    let vids: BTreeSet<_> = devices.iter().map(|d| d.vid.clone()).collect();
    assert_eq!(
        vids,
        BTreeSet::from(["VIN-CAR-ONE".to_owned(), "VIN-CAR-TWO".to_owned()])
    );
    assert!(
        devices
            .iter()
            .all(|d| d.pool_size == 16 && d.status == "paired")
    );
    for (c, car) in cars.iter().enumerate() {
        // Each day's trip, decoded, equals what was put.
        for (d, expected) in (1..=7).zip(&put[c]) {
            let key = serde_json::Value::Object(expected.to_key().expect("key"));
            let track = owner
                .trip(&light, car.vid(), day(d), &key)
                .await
                .expect("trip")
                .expect("trip present");
            assert_eq!(&track.trip, expected);
            assert_eq!(track.summary.point_count, 20);
            assert!(!track.polyline.is_empty());
            assert!(track.geojson.contains("LineString"));
        }
        // The week as one range: 7 trips in key order, decoded equal.
        let week = trip_range(&owner, &light, car.vid(), (day(1), day(7))).await;
        assert!(week.rejected.is_empty(), "{:?}", week.rejected);
        assert_eq!(week.records.len(), 7);
        for (record, expected) in week.records.iter().zip(&put[c]) {
            assert_eq!(
                &Trip::decode(&record.key, &record.value).expect("decode"),
                expected
            );
        }
        let summaries = owner
            .trips(&light, car.vid(), day(1), day(7))
            .await
            .expect("trips");
        assert_eq!(summaries.trips.len(), 7);
        // Paging the week.
        let all = json!({});
        let page = owner
            .get_kv_range(
                &light,
                car.vid(),
                day(1),
                day(7),
                &FormatSpec::trip_gps(),
                &all,
                &all,
                &["SPEED".to_owned()],
                Some((2, 3)),
            )
            .await
            .expect("page");
        assert_eq!(page.records.len(), 3);
        assert_eq!(page.records[0].key_bytes, week.records[2].key_bytes);
        assert_eq!(
            page.records[0].value.as_object().map(serde_json::Map::len),
            Some(1)
        );
        // The car used more than one address over the week, and none of them appears in
        // the public device state.
        let addresses: BTreeSet<_> = week.records.iter().map(|r| r.address.clone()).collect();
        assert!(addresses.len() > 1, "one address for the whole week");
        let state = light
            .device(car.vid())
            .await
            .expect("device")
            .expect("paired");
        let public = serde_json::to_string(&state).expect("json");
        assert_eq!(state.owner_address, owner.owner_address());
        for address in &addresses {
            assert!(!public.contains(address.as_str()));
        }
        // A second wallet cannot read the car.
        let err = stranger
            .trips(&light, car.vid(), day(1), day(7))
            .await
            .expect_err("stranger");
        assert!(matches!(err, WalletError::UnknownDevice { .. }));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_to_a_second_owner_locks_the_first_out_of_new_data() {
    let first = wallet(WORDS_A);
    let second = wallet(WORDS_B);
    let node = start_node(
        &[
            (&first.owner_address(), 1_000_000),
            (&second.owner_address(), 1_000_000),
        ],
        Mode::Private,
    )
    .await;
    let light = node.client();
    let dir = tempfile::tempdir().expect("dir");
    let car = car(&dir, "VIN-RESET-1");
    pair(&first, &light, &car, "family car", 8).await;
    let before = trip_on(day(1), 1, (52.5, 13.4));
    car.put_trip(&before, 1, day(1)).expect("put");
    car.flush(&light).await.expect("flush");
    let key1 = serde_json::Value::Object(before.to_key().expect("key"));
    assert!(reads_trip(&first, &light, &car, day(1), &key1).await);

    // Transfer: the first owner signs the reset, the car shows a new code, the second
    // owner pairs with it.
    let info = first
        .reset_to(&light, car.vid(), &second.owner_address())
        .await
        .expect("reset");
    assert_eq!(info.status, "transferred");
    let state = light
        .device(car.vid())
        .await
        .expect("device")
        .expect("state");
    assert_eq!(state.owner_address, second.owner_address());
    let text = car.reset(600).expect("new code").to_text();
    pair_with_code(&second, &light, &car, "my car", 8, text).await;
    assert!(matches!(
        first
            .reset_to(&light, car.vid(), &first.owner_address())
            .await,
        Err(WalletError::DeviceNotOwned { .. })
    ));

    let after = trip_on(day(2), 2, (52.5, 13.4));
    car.put_trip(&after, 1, day(2)).expect("put");
    car.flush(&light).await.expect("flush");
    let key2 = serde_json::Value::Object(after.to_key().expect("key"));
    // The second owner reads the new trip.
    let track = second
        .trip(&light, car.vid(), day(2), &key2)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(track.trip, after);
    // The first owner finds nothing it can open: its pool no longer receives the car's
    // data, and the new record is sealed to the second owner's RSA key.
    assert!(!reads_trip(&first, &light, &car, day(2), &key2).await);
    let newest = trip_range(&second, &light, car.vid(), (day(2), day(2)))
        .await
        .records
        .remove(0);
    let record = light
        .record(&newest.address, &newest.stored_key)
        .await
        .expect("record")
        .expect("present");
    let envelope = carchain_core::crypto::Envelope::from_bytes(&record.envelope).expect("envelope");
    // The envelope names no recipient: only the second owner's RSA key opens it.
    let rsa = carchain_testkit::car_records::owner_keys;
    let wrapped = envelope.wrapped_epoch_key();
    assert!(
        wrapped
            .unwrap_epoch_key(rsa(WORDS_B).rsa_private_key())
            .is_ok()
    );
    assert!(
        wrapped
            .unwrap_epoch_key(rsa(WORDS_A).rsa_private_key())
            .is_err()
    );
    assert!(
        !hex::encode(&record.envelope).contains(second.rsa_fingerprint()),
        "the envelope carries the owner's fingerprint"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_reads_the_car_until_removed() {
    let owner = wallet(WORDS_A);
    let family = wallet(WORDS_B);
    let outsider = wallet("zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong");
    let (_node, light, _dir, car) = owner_with_car(&owner, "VIN-SHARED", "family car", 8).await;
    let trip_spec = FormatSpec::trip_gps();

    // Day 1: two trips, the family member subscribed.
    let day_one = [
        trip_on(day(1), 1, (31.2, 121.4)),
        trip_on(day(1), 2, (31.3, 121.5)),
    ];
    for trip in &day_one {
        car.put_trip(trip, 1, day(1)).expect("put");
    }
    car.flush(&light).await.expect("flush");
    owner
        .add_subscriber(car.vid(), "family", &family.rsa_public_key())
        .expect("subscribe");
    let report = owner
        .publish_channel(&light, car.vid(), day(1), day(2))
        .await
        .expect("publish");
    assert_eq!(report.published, 1, "day 1 only: day 2 has no records yet");
    // The owner hands the family member its channel ticket (out of band).
    let ticket = ChannelTicket::parse(
        &owner
            .channel_ticket(car.vid(), "family")
            .expect("ticket")
            .to_text(),
    )
    .expect("parse");
    let reader = family.subscriber_reader(&ticket);
    let seen = reader
        .read_day(&light, car.vid(), day(1), &trip_spec)
        .await
        .expect("read day 1");
    assert_eq!(seen.records.len(), 2);
    let mut trips: Vec<Trip> = seen
        .records
        .iter()
        .map(|r| Trip::decode(&r.key, &r.value).expect("decode"))
        .collect();
    trips.sort_by_key(|t| t.session_id);
    assert_eq!(trips, day_one.to_vec());

    // Someone else holding the ticket finds the entry but cannot open it.
    let other = outsider
        .subscriber_reader(&ticket)
        .read_day(&light, car.vid(), day(1), &trip_spec)
        .await
        .expect("outsider read");
    assert!(other.records.is_empty());
    assert_eq!(other.unreadable_entries, 1);

    // Removed: day 2 is never published for them, and day 1's keys do not open it.
    owner
        .remove_subscriber(car.vid(), "family")
        .expect("remove");
    assert!(
        !owner.subscribers(car.vid()).expect("list")[0].active,
        "listed as removed"
    );
    car.put_trip(&trip_on(day(2), 3, (31.2, 121.4)), 1, day(2))
        .expect("put");
    car.flush(&light).await.expect("flush");
    let report = owner
        .publish_channel(&light, car.vid(), day(1), day(2))
        .await
        .expect("publish");
    assert_eq!(
        report,
        Default::default(),
        "nothing for a removed subscriber"
    );
    let after = reader
        .read_day(&light, car.vid(), day(2), &trip_spec)
        .await
        .expect("read day 2");
    assert!(after.records.is_empty());
    // What was delivered stays readable.
    let again = reader
        .read_day(&light, car.vid(), day(1), &trip_spec)
        .await
        .expect("re-read day 1");
    assert_eq!(again.records.len(), 2);
    // The owner still reads everything.
    let owners = owner
        .trips(&light, car.vid(), day(1), day(2))
        .await
        .expect("owner trips");
    assert_eq!(owners.trips.len(), 3);

    // Bad input.
    assert!(matches!(
        owner.add_subscriber("NO-SUCH-CAR", "family", &family.rsa_public_key()),
        Err(WalletError::UnknownDevice { .. })
    ));
    assert!(matches!(
        owner.add_subscriber(car.vid(), "not ok", &family.rsa_public_key()),
        Err(WalletError::InvalidSubscriber { .. })
    ));
    assert!(matches!(
        owner.remove_subscriber(car.vid(), "nobody"),
        Err(WalletError::UnknownSubscriber { .. })
    ));
}
