//! End-to-end owner records against a real node on loopback (private mode, so every
//! value goes through an owner write credential): the seed's VIN record put by the
//! owner's wallet, updated (both versions stay provable), listed and read back like a
//! car's record; a custom service-history format; bad input refused with typed codes
//! and nothing registered; what the ledger holds names neither owner nor car; a dealer
//! granted the VIN receives its latest version; a subscriber never receives it; and the
//! node's operator sees one pool address per connection and neither owner nor car.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod support;

use std::collections::{BTreeMap, BTreeSet};

use carchain_core::grants::Narrowing;
use carchain_core::grants::auditor::fetch_transaction;
use carchain_core::keys::Network;
use carchain_core::light::LightClient;
use carchain_core::pool::AddressPool;
use carchain_core::record::{FormatSpec, parse_value};
use carchain_core::wallet::{
    MAX_OWNER_VALUE_LEN, OwnerRecordError, WalletError, owner_format, versioned_spec,
};
use carchain_examples::seed_vectors::{VID, VIN_KEY, VIN_VALUE};
use serde_json::{Value, json};
use support::flows::{WORDS_A, WORDS_B, car, day, owner_with_car, pair, trip_on, wallet};
use support::grants_setup::{
    VID as DEALER_VID, grants_world, provider, received_copy, request_spec, vin_terms,
};
use support::logging_proxy::LoggingProxy;
use support::{Mode, start_node};

fn seed(text: &str) -> Value {
    parse_value(text).expect("seed vector")
}

fn code<T: std::fmt::Debug>(result: Result<T, OwnerRecordError>) -> &'static str {
    result.expect_err("refused").code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_puts_updates_lists_and_reads_back_its_records() {
    let owner = wallet(WORDS_A);
    let (node, light, _dir, car) = owner_with_car(&owner, VID, "seed car", 8).await;
    car.put_trip(&trip_on(day(1), 1, (31.25, 121.44)), 1, day(1))
        .expect("trip");
    car.flush(&light).await.expect("flush");

    // The seed's putWalKV: format VIN_CODE, key {"VEHICLE_DATA":1}, value {"VIN":...}.
    let vin = owner_format("VIN_CODE", None).expect("format");
    let (vin_key, vin_value) = (seed(VIN_KEY), seed(VIN_VALUE));
    let first = owner
        .put_owner_record(&light, VID, day(1), &vin, &vin_key, &vin_value)
        .await
        .expect("put the VIN");
    assert_eq!(first.version, 1);
    let read = owner
        .get_owner_record(&light, VID, day(1), &vin, &vin_key, &[])
        .await
        .expect("get")
        .expect("there");
    assert_eq!(read.value, vin_value);
    assert_eq!(read.key, *vin_key.as_object().expect("object"));
    assert_eq!((read.version, read.d_hash), (1, first.d_hash));

    // A second put of the key is refused: an update writes a new version.
    assert_eq!(
        code(
            owner
                .put_owner_record(&light, VID, day(1), &vin, &vin_key, &json!({"VIN": "X"}))
                .await
        ),
        "owner_record.exists"
    );
    let corrected = json!({"VIN": "LBVNU79049SB81546", "MAKE": "SAIC"});
    let second = owner
        .update_owner_record(&light, VID, day(1), &vin, &vin_key, &corrected)
        .await
        .expect("update");
    assert_eq!(
        (second.version, second.address.as_str()),
        (2, first.address.as_str())
    );
    assert_ne!(second.stored_key, first.stored_key);
    let versions = owner
        .owner_record_versions(&light, VID, day(1), &vin, &vin_key, &[])
        .await
        .expect("versions");
    let values: Vec<_> = versions
        .iter()
        .map(|r| (r.version, r.value.clone()))
        .collect();
    assert_eq!(values, vec![(1, vin_value.clone()), (2, corrected.clone())]);
    // Both versions stay registered, each proven with its own dHash.
    for write in [&first, &second] {
        let registration = light
            .registration(&write.address, &write.stored_key)
            .await
            .expect("registration")
            .expect("registered");
        assert_eq!(registration.put.d_hash, write.d_hash);
        assert!(registration.put.wallet);
    }
    let latest = owner
        .get_owner_record(&light, VID, day(1), &vin, &vin_key, &["MAKE".into()])
        .await
        .expect("get")
        .expect("there");
    assert_eq!((latest.version, latest.value), (2, json!({"MAKE": "SAIC"})));

    // Read back like a car's record: get_kv with the versioned key, ranges.
    let versioned = versioned_spec(&vin).expect("versioned");
    let as_car_record = owner
        .get_kv(
            &light,
            VID,
            day(1),
            &versioned,
            &json!({"VEHICLE_DATA": 1, "DAY": 20240501, "VERSION": 1}),
            &["VIN".into()],
        )
        .await
        .expect("get_kv")
        .expect("there");
    assert_eq!(as_car_record.value, json!({"VIN": "LBVNU79049SB81546"}));
    // The car's own trip of that day still reads back.
    let trips = owner
        .trips(&light, VID, day(1), day(1))
        .await
        .expect("trips");
    assert_eq!(trips.trips.len(), 1);
    assert!(
        trips.rejected.is_empty(),
        "the owner's records are no trips: {trips:?}"
    );

    // A custom format, two records on two days; listed with their versions.
    let fields = vec!["DATE".to_owned(), "SHOP".to_owned()];
    let service = owner_format("service-history", Some(&fields)).expect("format");
    for (d, shop) in [(2, "Shanghai Motors"), (3, "Pudong Tyres")] {
        owner
            .put_owner_record(
                &light,
                VID,
                day(d),
                &service,
                &json!({"DATE": 20240500 + i64::from(d), "SHOP": shop}),
                &json!({"work": "service", "km": 1000 * d}),
            )
            .await
            .expect("service record");
    }
    owner
        .update_owner_record(
            &light,
            VID,
            day(2),
            &service,
            &json!({"DATE": 20240502, "SHOP": "Shanghai Motors"}),
            &json!({"work": "service and brakes", "km": 2000}),
        )
        .await
        .expect("update service");
    let list = owner
        .list_owner_records(&light, VID, day(1), day(7), &service, &[])
        .await
        .expect("list");
    assert!(list.rejected.is_empty(), "{:?}", list.rejected);
    let shops: Vec<_> = list
        .records
        .iter()
        .map(|r| (r.key["SHOP"].clone(), r.version))
        .collect();
    assert_eq!(
        shops,
        vec![(json!("Shanghai Motors"), 2), (json!("Pudong Tyres"), 1)]
    );
    assert_eq!(list.versions, vec![2, 1]);
    assert_eq!(list.records[0].value["work"], json!("service and brakes"));
    let vins = owner
        .list_owner_records(&light, VID, day(1), day(1), &vin, &[])
        .await
        .expect("list vin");
    assert_eq!(vins.versions, vec![2]);

    // What the ledger holds names neither owner, car nor VIN, and carries no key.
    let registration = light
        .registration(&first.address, &first.stored_key)
        .await
        .expect("registration")
        .expect("registered");
    let signer = carchain_core::keys::p2wpkh_address(
        &bitcoin::CompressedPublicKey(registration.signer),
        Network::Regtest,
    );
    assert_eq!(signer.to_string(), first.address, "signed by its pool key");
    let tx = fetch_transaction(&node.base, &registration.tx_id)
        .await
        .expect("tx");
    let on_ledger = serde_json::to_string(&tx).expect("json");
    for secret in [
        owner.owner_address(),
        VID.to_owned(),
        owner.rsa_fingerprint().to_owned(),
        hex::encode("LBVNU79049SB81546"),
        hex::encode("VERSION"),
    ] {
        assert!(!on_ledger.contains(&secret), "{secret} in {on_ledger}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_typed_codes_and_registers_nothing() {
    let owner = wallet(WORDS_A);
    let stranger = wallet(WORDS_B);
    let (_node, light, _dir, _car) = owner_with_car(&owner, VID, "seed car", 8).await;
    let vin = FormatSpec::vin_code();
    let key = json!({"VEHICLE_DATA": 1});
    let address = owner
        .put_owner_record(&light, VID, day(1), &vin, &key, &json!({"VIN": "A"}))
        .await
        .expect("put")
        .address;
    let count = || async {
        light
            .records_at(&address)
            .await
            .expect("read")
            .records
            .len()
    };
    let before = count().await;

    // Formats: unknown by name, malformed, reserved.
    assert_eq!(
        code(owner_format("insurance", None)),
        "owner_record.unknown_format"
    );
    assert_eq!(
        code(owner_format("insurance doc", Some(&["N".to_owned()]))),
        "owner_record.invalid_format"
    );
    assert_eq!(
        code(owner_format("trip-gps", None)),
        "owner_record.reserved_format"
    );
    let trip = FormatSpec::trip_gps();
    assert_eq!(
        code(
            owner
                .put_owner_record(&light, VID, day(1), &trip, &json!({}), &json!({}))
                .await
        ),
        "owner_record.reserved_format"
    );
    // Keys and values that do not fit the format.
    assert_eq!(
        code(
            owner
                .put_owner_record(&light, VID, day(1), &vin, &json!({"VIN": 1}), &json!({}))
                .await
        ),
        "owner_record.invalid_key"
    );
    assert_eq!(
        code(
            owner
                .put_owner_record(
                    &light,
                    VID,
                    day(2),
                    &vin,
                    &key,
                    &json!({"format": "carvio"})
                )
                .await
        ),
        "owner_record.invalid_value"
    );
    // Values over the node's limit: plain, and once sealed.
    for len in [MAX_OWNER_VALUE_LEN + 1, MAX_OWNER_VALUE_LEN - 16] {
        let big = json!({ "doc": "x".repeat(len) });
        assert_eq!(
            code(
                owner
                    .put_owner_record(&light, VID, day(2), &vin, &key, &big)
                    .await
            ),
            "owner_record.value_too_large"
        );
    }
    // Updates of records the wallet does not own: no such record, no such car.
    assert_eq!(
        code(
            owner
                .update_owner_record(
                    &light,
                    VID,
                    day(1),
                    &vin,
                    &json!({"VEHICLE_DATA": 2}),
                    &json!({})
                )
                .await
        ),
        "owner_record.not_owned"
    );
    match stranger
        .update_owner_record(&light, VID, day(1), &vin, &key, &json!({"VIN": "B"}))
        .await
    {
        Err(OwnerRecordError::Wallet(WalletError::UnknownDevice { vid })) => assert_eq!(vid, VID),
        other => panic!("a stranger owns no car {VID}: {other:?}"),
    }
    assert_eq!(count().await, before, "nothing was registered");
    let only = owner
        .owner_record_versions(&light, VID, day(1), &vin, &key, &[])
        .await
        .expect("versions");
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].value, json!({"VIN": "A"}));

    // A value that stays under the limit once sealed (padded) is stored.
    let large = json!({ "doc": "y".repeat(MAX_OWNER_VALUE_LEN - 256 * 1024) });
    let written = owner
        .put_owner_record(&light, VID, day(3), &vin, &key, &large)
        .await
        .expect("large value");
    let back = owner
        .get_owner_record(&light, VID, day(3), &vin, &key, &[])
        .await
        .expect("get")
        .expect("there");
    assert_eq!((back.version, back.value), (written.version, large));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_following_the_car_never_gets_the_owners_records() {
    let owner = wallet(WORDS_A);
    let family = wallet(WORDS_B);
    let (_node, light, _dir, car) = owner_with_car(&owner, VID, "family car", 8).await;
    car.put_trip(&trip_on(day(1), 1, (31.25, 121.44)), 1, day(1))
        .expect("trip");
    car.flush(&light).await.expect("flush");
    let vin = FormatSpec::vin_code();
    owner
        .put_owner_record(&light, VID, day(1), &vin, &seed(VIN_KEY), &seed(VIN_VALUE))
        .await
        .expect("put the VIN");
    owner
        .add_subscriber(VID, "family", &family.rsa_public_key())
        .expect("subscribe");
    owner
        .publish_channel(&light, VID, day(1), day(1))
        .await
        .expect("publish");
    let ticket = owner.channel_ticket(VID, "family").expect("ticket");
    let reader = family.subscriber_reader(&ticket);
    let trips = reader
        .read_day(&light, VID, day(1), &FormatSpec::trip_gps())
        .await
        .expect("trips");
    assert_eq!(trips.records.len(), 1, "the car's trip is shared");
    let vins = reader
        .read_day(&light, VID, day(1), &versioned_spec(&vin).expect("spec"))
        .await
        .expect("vin");
    assert!(vins.records.is_empty(), "the owner's VIN is not: {vins:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dealer_granted_the_vin_receives_its_latest_version_only() {
    let owner = wallet(WORDS_A);
    let dealer = provider(0x61);
    let world = grants_world(&owner, &[dealer.address()]).await;
    let ledger = &world.ledger;
    let light = ledger.light().clone();
    // The world's VIN record (version 1, filed on day 1), corrected by the owner.
    let corrected = json!({"VIN": "LSVAU2180N2183294", "MAKE": "SAIC", "YEAR": 2023});
    let vin = FormatSpec::vin_code();
    let update = owner
        .update_owner_record(
            &light,
            DEALER_VID,
            day(1),
            &vin,
            &json!({"VEHICLE_DATA": 1}),
            &corrected,
        )
        .await
        .expect("update");
    assert_eq!(update.version, 2);
    dealer
        .register(ledger, "Dealer", "used-car valuations", vec![])
        .await
        .expect("register");
    let request = dealer
        .request(ledger, &request_spec(&owner, vin_terms(), "valuation", 0))
        .await
        .expect("request");
    let approval = owner
        .approve(ledger, &request, DEALER_VID, &Narrowing::default())
        .await
        .expect("approve");
    assert_eq!(approval.records.len(), 1, "one record, not its history");
    let copy = received_copy(&dealer, ledger, &request, "copy").await;
    assert_eq!(copy.records.len(), 1);
    assert_eq!(copy.records[0].value, corrected);
    assert_eq!(copy.records[0].d_hash, update.d_hash);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_operator_sees_one_pool_address_per_connection_and_neither_owner_nor_car() {
    let owner = wallet(WORDS_A);
    let node = start_node(&[(&owner.owner_address(), 1_000_000)], Mode::Private).await;
    let dir = tempfile::tempdir().expect("dir");
    let car = car(&dir, VID);
    pair(&owner, &node.client(), &car, "seed car", 8).await;
    // The owner's writes go through a proxy that logs every request.
    let proxy = LoggingProxy::start(&node.base).await;
    let watched = LightClient::new(vec![proxy.base.clone()], node.anchor.clone()).expect("client");
    let vin = FormatSpec::vin_code();
    for d in 1..=3 {
        owner
            .put_owner_record(
                &watched,
                VID,
                day(d),
                &vin,
                &seed(VIN_KEY),
                &seed(VIN_VALUE),
            )
            .await
            .expect("put");
    }
    owner
        .update_owner_record(
            &watched,
            VID,
            day(2),
            &vin,
            &seed(VIN_KEY),
            &json!({"VIN": "X"}),
        )
        .await
        .expect("update");

    let keys = carchain_testkit::car_records::owner_keys(WORDS_A);
    let pool: BTreeSet<String> = AddressPool::derive(&keys, VID, 0, 8)
        .expect("pool")
        .addresses()
        .iter()
        .map(ToString::to_string)
        .collect();
    let requests = proxy.log();
    let mut per_connection: BTreeMap<u64, BTreeSet<&String>> = BTreeMap::new();
    let mut written = BTreeSet::new();
    for request in &requests {
        let text = request.text();
        let named: BTreeSet<&String> = pool
            .iter()
            .filter(|a| text.contains(&a.to_lowercase()))
            .collect();
        assert!(named.len() <= 1, "{request} names {named:?}");
        if request.method == "PUT" {
            written.extend(named.iter().copied());
        }
        per_connection
            .entry(request.connection)
            .or_default()
            .extend(named.iter().copied());
        if request.path == "/v1/credentials" {
            // The authenticated issuance names the car, on a connection of its own.
            assert!(named.is_empty(), "{request}");
            continue;
        }
        for (what, secret) in [
            ("owner address", owner.owner_address().to_lowercase()),
            ("VID", VID.to_lowercase()),
            ("RSA fingerprint", owner.rsa_fingerprint().to_lowercase()),
            ("VIN", "lbvnu79049sb81546".to_owned()),
        ] {
            assert!(!text.contains(&secret), "{what} in {request}");
        }
    }
    assert!(!written.is_empty(), "the values went through the proxy");
    for (connection, addresses) in &per_connection {
        assert!(
            addresses.len() <= 1,
            "connection {connection} carried {addresses:?}"
        );
    }
    let issuing: Vec<_> = requests
        .iter()
        .filter(|r| r.path == "/v1/credentials")
        .map(|r| r.connection)
        .collect();
    assert!(!issuing.is_empty(), "a private node asks for a credential");
    for connection in issuing {
        assert!(per_connection[&connection].is_empty());
    }
}
