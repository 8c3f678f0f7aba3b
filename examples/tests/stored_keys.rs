//! End-to-end, against a real in-process node: a car's records reach the ledger and the
//! node under stored keys (the deterministic encryption of the record key under the pool
//! seed), so session counters and times are not public; the owner's `getKV` and
//! `getKVRange` (partial bounds, `INF_MAX`, column projection) still read them right.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod support;

use carchain_core::light::VerifiedRecord;
use carchain_core::record::{FormatSpec, decode_key, encode_key};
use carchain_core::trip::Trip;
use serde_json::{Value, json};
use support::flows::{WORDS_A, car, day, owner_with_car, pair, trip_on, trip_range, wallet};
use support::{Mode, start_node};

const SESSIONS: i64 = 12;

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn session(key: &serde_json::Map<String, Value>) -> i64 {
    key["SESSION_ID"].as_i64().expect("session")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consecutive_sessions_reach_the_ledger_and_node_under_unordered_unrelated_keys() {
    let owner = wallet(WORDS_A);
    let (_node, light, _dir, car) = owner_with_car(&owner, "VIN-STORED-KEYS", "keyed car", 8).await;
    let trips: Vec<Trip> = (1..=SESSIONS)
        .map(|s| {
            let mut trip = trip_on(day(1), s, (48.1, 11.5));
            trip.start += s * 3_600;
            trip.end += s * 3_600;
            for point in &mut trip.points {
                point.time += s * 3_600;
            }
            trip
        })
        .collect();
    for trip in &trips {
        car.put_trip(trip, 1, day(1)).expect("put");
    }
    assert_eq!(car.flush(&light).await.expect("flush").delivered, 12);

    // The owner reads them back in session order.
    let read = trip_range(&owner, &light, car.vid(), (day(1), day(1)))
        .await
        .records;
    let sessions: Vec<i64> = read.iter().map(|r| session(&r.key)).collect();
    assert_eq!(sessions, (1..=SESSIONS).collect::<Vec<_>>());
    let address = read[0].address.clone();
    assert!(read.iter().all(|r| r.address == address));

    // What the ledger registered and the node served under that address.
    let listed = light.records_at(&address).await.expect("listed");
    assert_eq!(listed.missing, 0);
    let ledger_keys: Vec<Vec<u8>> = listed
        .records
        .iter()
        .map(|r: &VerifiedRecord| r.registration.put.key.clone())
        .collect();
    assert_eq!(ledger_keys.len(), read.len());
    let spec = FormatSpec::trip_gps();
    for record in &read {
        assert!(ledger_keys.contains(&record.stored_key));
        assert_ne!(record.stored_key, record.key_bytes);
        // Not a range-ordered key, and no 8-byte piece of the plaintext key in it.
        assert!(decode_key(&spec, &record.stored_key).is_err());
        assert!(
            !record
                .key_bytes
                .windows(8)
                .any(|w| record.stored_key.windows(8).any(|s| s == w)),
            "the stored key carries a piece of the plaintext key"
        );
        // The node serves the record under the same stored key.
        let served = light
            .record(&address, &record.stored_key)
            .await
            .expect("get")
            .expect("present");
        assert_eq!(served.registration.put.key, record.stored_key);
    }
    // In session order, consecutive stored keys share no prefix and no order.
    let longest = read
        .windows(2)
        .map(|p| common_prefix(&p[0].stored_key, &p[1].stored_key))
        .max()
        .unwrap_or(0);
    assert!(
        longest <= 2,
        "consecutive sessions share {longest} key bytes"
    );
    let ascending = read
        .windows(2)
        .filter(|p| p[0].stored_key < p[1].stored_key)
        .count();
    assert!(
        ascending < read.len() - 1,
        "stored keys sort like the sessions"
    );
    // The node's listing (key order) is not the session order.
    let mut by_node = read.clone();
    by_node.sort_by(|a, b| a.stored_key.cmp(&b.stored_key));
    assert_ne!(
        by_node.iter().map(|r| session(&r.key)).collect::<Vec<_>>(),
        sessions
    );
    // The plaintext key is nowhere in what the node served.
    for record in &listed.records {
        let put = &record.registration.put;
        for plain in read.iter().map(|r| &r.key_bytes) {
            assert!(
                !record
                    .envelope
                    .windows(plain.len())
                    .any(|w| w == plain.as_slice())
            );
            assert_ne!(&put.key, plain);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_kv_and_ranges_with_inf_max_bounds_and_columns_read_stored_keys_right() {
    let owner = wallet(WORDS_A);
    let (_node, light, _dir, car) =
        owner_with_car(&owner, "VIN-STORED-RANGE", "ranged car", 8).await;
    let trips: Vec<Trip> = (1..=SESSIONS)
        .map(|s| trip_on(day(1), s, (52.5, 13.4)))
        .collect();
    for trip in &trips {
        car.put_trip(trip, 7, day(1)).expect("put");
    }
    car.flush(&light).await.expect("flush");
    let spec = FormatSpec::trip_gps();

    // getKV: the stored key is computed from the pool seed, then one get.
    let key5 = Value::Object(trips[4].to_key().expect("key"));
    let got = owner
        .get_kv(
            &light,
            car.vid(),
            day(1),
            &spec,
            &key5,
            &["VEHICLE_DATA".to_owned()],
        )
        .await
        .expect("get")
        .expect("present");
    assert_eq!(session(&got.key), 5);
    assert_eq!(got.value, json!({"VEHICLE_DATA": 7}));
    assert_eq!(
        got.key_bytes,
        encode_key(&spec, &key5).expect("encode").into_bytes()
    );
    let absent = json!({"SESSION_ID": 99, "START_TIME": 20240501080000_i64,
                        "END_TIME": 20240501080930_i64});
    assert!(
        owner
            .get_kv(&light, car.vid(), day(1), &spec, &absent, &[])
            .await
            .expect("get")
            .is_none()
    );

    // Partial bounds: SESSION_ID 3..=7, trailing fields INF_MIN / INF_MAX.
    let range = |start: Value, end: Value, columns: Vec<String>| {
        let owner = &owner;
        let light = &light;
        let vid = car.vid().to_owned();
        let spec = spec.clone();
        async move {
            owner
                .get_kv_range(
                    light,
                    &vid,
                    day(1),
                    day(1),
                    &spec,
                    &start,
                    &end,
                    &columns,
                    None,
                )
                .await
                .expect("range")
        }
    };
    let middle = range(json!({"SESSION_ID": 3}), json!({"SESSION_ID": 7}), vec![]).await;
    assert_eq!(
        middle
            .records
            .iter()
            .map(|r| session(&r.key))
            .collect::<Vec<_>>(),
        vec![3, 4, 5, 6, 7]
    );
    // Explicit INF_MAX: from session 10 to the end, one column.
    let tail = range(
        json!({"SESSION_ID": 10, "START_TIME": "INF_MIN"}),
        json!({"SESSION_ID": "INF_MAX"}),
        vec!["len".to_owned()],
    )
    .await;
    assert_eq!(
        tail.records
            .iter()
            .map(|r| session(&r.key))
            .collect::<Vec<_>>(),
        vec![10, 11, 12]
    );
    assert!(tail.records.iter().all(|r| r.value == json!({"len": 20})));
    // A bound inside a session's key: session 4 with START_TIME up to INF_MAX.
    let one = range(
        json!({"SESSION_ID": 4, "START_TIME": "INF_MIN"}),
        json!({"SESSION_ID": 4, "START_TIME": "INF_MAX"}),
        vec![],
    )
    .await;
    assert_eq!(one.records.len(), 1);
    assert_eq!(
        Trip::decode(&one.records[0].key, &one.records[0].value).expect("trip"),
        trips[3]
    );
    // An empty range reads nothing, and nothing is rejected.
    let none = range(json!({"SESSION_ID": 50}), json!({"SESSION_ID": 60}), vec![]).await;
    assert!(none.records.is_empty());
    assert!(none.rejected.is_empty());
}

/// The attacker's view of a node's stored bytes: envelopes of 2 owners x 2 cars x 3
/// days, written by real cars, share no 8-byte substring outside the fixed magic /
/// version / suite header across addresses (records at one address share its day's
/// wrapped epoch key, as they share the address), and name no owner or car.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_envelopes_of_two_owners_and_cars_share_no_constant_bytes() {
    let owners = [wallet(WORDS_A), wallet(support::flows::WORDS_B)];
    let node = start_node(
        &[
            (&owners[0].owner_address(), 1_000_000),
            (&owners[1].owner_address(), 1_000_000),
        ],
        Mode::Private,
    )
    .await;
    let light = node.client();
    let dir = tempfile::tempdir().expect("dir");
    let mut stored: Vec<(String, Vec<u8>)> = Vec::new();
    let mut names: Vec<Vec<u8>> = Vec::new();
    for (o, owner) in owners.iter().enumerate() {
        names.push(owner.owner_address().into_bytes());
        names.push(hex::decode(owner.rsa_fingerprint()).expect("fingerprint"));
        for c in 0..2 {
            let vid = format!("VIN-ATTACK-{o}{c}");
            names.push(vid.clone().into_bytes());
            let car = car(&dir, &vid);
            pair(owner, &light, &car, "car", 16).await;
            for d in 1..=3 {
                for s in 0..2 {
                    let trip = trip_on(day(d), i64::from(d) * 10 + s, (48.0, 11.0));
                    car.put_trip(&trip, 1, day(d)).expect("put");
                }
            }
            car.flush(&light).await.expect("flush");
            for d in 1..=3 {
                let read = owner
                    .get_kv_range(
                        &light,
                        &vid,
                        day(d),
                        day(d),
                        &FormatSpec::trip_gps(),
                        &json!({}),
                        &json!({}),
                        &[],
                        None,
                    )
                    .await
                    .expect("range");
                for record in read.records {
                    let served = light
                        .record(&record.address, &record.stored_key)
                        .await
                        .expect("get")
                        .expect("present");
                    if !stored.iter().any(|(_, e)| e == &served.envelope) {
                        stored.push((record.address.clone(), served.envelope));
                    }
                }
            }
        }
    }
    assert_eq!(stored.len(), 2 * 2 * 3 * 2);
    let mut seen: std::collections::HashMap<&[u8], &str> = Default::default();
    for (address, envelope) in &stored {
        for name in &names {
            assert!(
                !envelope.windows(name.len()).any(|w| w == name.as_slice()),
                "an envelope names an owner or a car"
            );
        }
        for window in envelope[5..].windows(8) {
            match seen.get(window) {
                Some(other) => {
                    assert_eq!(other, address, "envelopes of two addresses share 8 bytes");
                }
                None => {
                    seen.insert(window, address);
                }
            }
        }
    }
}
