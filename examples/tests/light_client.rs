//! End-to-end tests of the light client against a real node started in-process: header
//! sync with progress, proven account/device/registration reads, submissions, record and
//! range reads with cHash checks, paid reads, failover away from a tampering node, and a
//! verified tip that survives a restart offline.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod support;

use std::sync::{Arc, Mutex};

use bitcoin::secp256k1::SecretKey;
use carchain_core::light::{LightClient, LightError, PutOutcome, SyncProgress};
use carchain_core::protocol::AccountState;
use carchain_core::protocol::hashing::sha256;
use carchain_core::protocol::signing::public_key_of;
use carchain_core::store::{InMemorySecretStore, WalletStore};
use support::{
    Mode, Tamper, TamperingProxy, TestKey, TestNode, closed_endpoint, funded_key_node, start_node,
};

fn value_of(i: u8) -> Vec<u8> {
    format!("sealed envelope number {i}").into_bytes()
}

/// Registers and stores `count` records under `car` (keys 0x10, 0x11, ...), via `client`.
async fn put_records(client: &LightClient, car: &TestKey, count: u8) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    for i in 0..count {
        let key = vec![0x10 + i];
        let value = value_of(i);
        let nonce = client.account(&car.address).await.expect("account").nonce;
        let receipt = client
            .submit(&car.record_put(nonce, &key, &value), true)
            .await
            .expect("register");
        assert!(receipt.height.is_some());
        let outcome = client
            .put_value(&car.address, &key, &value, None)
            .await
            .expect("store");
        assert_eq!(outcome, PutOutcome::Stored);
        keys.push(key);
    }
    keys
}

/// A shared node with a funded car and a funded reader that pays for reads.
async fn node_with_records(count: u8) -> (TestNode, TestKey, TestKey, Vec<Vec<u8>>) {
    let car = TestKey::from_byte(31);
    let reader = TestKey::from_byte(32);
    let node = start_node(
        &[(&car.address, 1_000_000), (&reader.address, 1_000_000)],
        Mode::Shared,
    )
    .await;
    let client = node.client().with_read_payer(reader.secret, 50);
    let keys = put_records(&client, &car, count).await;
    (node, car, reader, keys)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_reports_progress_and_state_reads_are_proven() {
    let (owner, node) = funded_key_node(1, 1_000_000, Mode::Shared).await;
    let friend = TestKey::from_byte(2);
    let client = node.client();
    assert_eq!(client.verified_height(), 0);

    for nonce in 0..3 {
        let tx = owner.transfer(nonce, &friend.address, 100);
        let receipt = client.submit(&tx, true).await.expect("submit");
        assert_eq!(receipt.tx_id, tx.id());
        assert!(receipt.height.is_some());
    }
    let seen: Mutex<Vec<SyncProgress>> = Mutex::new(Vec::new());
    let height = client
        .sync(&|progress| seen.lock().expect("lock").push(progress))
        .await
        .expect("sync");
    let status = client.status().await.expect("status");
    assert_eq!(height, status.height);
    assert!(
        height >= 3,
        "three committed transfers make at least three blocks"
    );
    assert_eq!(client.verified_height(), height);
    let seen = seen.into_inner().expect("lock");
    assert_eq!(
        seen.last(),
        Some(&SyncProgress {
            height,
            target: status.height
        })
    );

    assert_eq!(
        client.account(&friend.address).await.expect("friend"),
        AccountState {
            balance: 300,
            nonce: 0
        }
    );
    let owner_state = client.account(&owner.address).await.expect("owner");
    assert_eq!(owner_state.nonce, 3);
    assert!(owner_state.balance <= 1_000_000 - 300);
    let nobody = TestKey::from_byte(99);
    assert_eq!(
        client.account(&nobody.address).await.expect("absent"),
        AccountState::default()
    );

    let device = SecretKey::from_slice(&[9; 32]).expect("device key");
    client
        .submit(&owner.device_setup(3, "VIN-E2E-1", &device), true)
        .await
        .expect("pair");
    let paired = client
        .device("VIN-E2E-1")
        .await
        .expect("device")
        .expect("paired");
    assert_eq!(paired.owner_address, owner.address);
    assert_eq!(paired.device_pubkey, public_key_of(&device));
    assert_eq!(paired.agent, support::AGENT);
    assert_eq!(client.device("VIN-UNKNOWN").await.expect("absent"), None);

    let refused = client
        .submit(&owner.transfer(0, &friend.address, 1), true)
        .await
        .expect_err("a replayed nonce");
    assert_eq!(refused.node_code(), Some("replay"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_and_ranges_are_proven_and_hash_checked_with_paid_reads() {
    let (node, car, reader, keys) = node_with_records(5).await;
    let client = node.client().with_read_payer(reader.secret, 50);

    let registration = client
        .registration(&car.address, &keys[2])
        .await
        .expect("registration")
        .expect("registered");
    assert_eq!(registration.put.c_hash, sha256(&[&value_of(2)]));
    assert_eq!(registration.put.address, car.address);

    let record = client
        .record(&car.address, &keys[2])
        .await
        .expect("record")
        .expect("present");
    assert_eq!(record.envelope, value_of(2));
    assert_eq!(record.registration, registration);

    let range = client
        .records_in_range(&car.address, &[0x11], &[0x13])
        .await
        .expect("range");
    assert!(range.rejected.is_empty());
    let got: Vec<(Vec<u8>, Vec<u8>)> = range
        .records
        .iter()
        .map(|r| (r.registration.put.key.clone(), r.envelope.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (vec![0x11], value_of(1)),
            (vec![0x12], value_of(2)),
            (vec![0x13], value_of(3)),
        ]
    );
    let all = client
        .records_in_range(&car.address, &[], &[0xff])
        .await
        .expect("whole address");
    assert_eq!(all.records.len(), 5);

    // A retried put is harmless; a wrong value is refused with the node's code.
    assert_eq!(
        client
            .put_value(&car.address, &keys[0], &value_of(0), None)
            .await
            .expect("retry"),
        PutOutcome::AlreadyStored
    );
    let wrong = client
        .put_value(&car.address, &[0x10], b"another value", None)
        .await
        .expect_err("wrong value");
    assert!(wrong.node_code().is_some(), "{wrong}");

    // Registered twice: the node's stable code comes back.
    let nonce = client.account(&car.address).await.expect("account").nonce;
    let duplicate = client
        .submit(&car.record_put(nonce, &keys[0], &value_of(0)), true)
        .await
        .expect_err("duplicate");
    assert_eq!(duplicate.node_code(), Some("duplicate_record"));

    // Registered but never stored, and never registered.
    let nonce = client.account(&car.address).await.expect("account").nonce;
    client
        .submit(&car.record_put(nonce, &[0x40], b"never stored"), true)
        .await
        .expect("register only");
    let missing = client
        .record(&car.address, &[0x40])
        .await
        .expect_err("missing");
    assert!(
        matches!(missing, LightError::ValueMissing { .. }),
        "{missing}"
    );
    assert_eq!(
        client.record(&car.address, &[0x41]).await.expect("none"),
        None
    );
    assert_eq!(
        client
            .registration(&car.address, &[0x41])
            .await
            .expect("none"),
        None
    );

    // The reader paid: its nonce moved and the operator was paid.
    assert!(client.account(&reader.address).await.expect("reader").nonce >= 1);
    assert!(
        client
            .account(&node.operator_address)
            .await
            .expect("operator")
            .balance
            >= 50
    );
    // Tokens run low and are bought again: two tokens a purchase, five reads, three
    // purchases.
    let frugal = node.client().with_read_payer(reader.secret, 2);
    let before = client.account(&reader.address).await.expect("reader").nonce;
    for key in &keys {
        let record = frugal.record(&car.address, key).await.expect("paid read");
        assert!(record.is_some());
    }
    let after = client.account(&reader.address).await.expect("reader").nonce;
    assert_eq!(after - before, 3, "purchases for 5 reads at 2 tokens each");
    // Without a payer, a shared node's read is refused with its code.
    let unpaid = node
        .client()
        .record(&car.address, &keys[0])
        .await
        .expect_err("unpaid");
    assert_eq!(unpaid.node_code(), Some("payment_required"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flipped_values_are_detected_and_failover_returns_verified_data() {
    let (node, car, reader, keys) = node_with_records(3).await;
    let proxy = TamperingProxy::start(&node.base, Tamper::FlipValues).await;

    let only_proxy = LightClient::new(vec![proxy.base.clone()], node.anchor.clone())
        .expect("client")
        .with_read_payer(reader.secret, 50);
    let err = only_proxy
        .record(&car.address, &keys[1])
        .await
        .expect_err("flipped value");
    assert!(
        matches!(&err, LightError::Tampered(reason) if reason.contains("cHash")),
        "{err}"
    );
    let range = only_proxy
        .records_in_range(&car.address, &[], &[0xff])
        .await
        .expect("range with rejections");
    assert!(range.records.is_empty());
    assert_eq!(range.rejected.len(), 3);
    assert!(range.rejected.iter().all(|r| r.reason.contains("cHash")));

    let both = LightClient::new(
        vec![proxy.base.clone(), node.base.clone()],
        node.anchor.clone(),
    )
    .expect("client")
    .with_read_payer(reader.secret, 50);
    let record = both
        .record(&car.address, &keys[1])
        .await
        .expect("failover")
        .expect("present");
    assert_eq!(record.envelope, value_of(1));
    let range = both
        .records_in_range(&car.address, &[], &[0xff])
        .await
        .expect("failover range");
    assert_eq!(range.records.len(), 3);
    assert!(range.rejected.is_empty());
    let failures = both.endpoint_failures();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].0, proxy.base);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proven_page_checks_every_record_against_one_header_without_a_request_per_record() {
    let (node, car, reader, keys) = node_with_records(12).await;
    let proxy = TamperingProxy::start(&node.base, Tamper::Honest).await;
    let client = |endpoints: Vec<String>| {
        LightClient::new(endpoints, node.anchor.clone())
            .expect("client")
            .with_read_payer(reader.secret, 50)
    };
    let through_proxy = client(vec![proxy.base.clone()]);
    let count =
        |paths: &[String], prefix: &str| paths.iter().filter(|p| p.starts_with(prefix)).count();
    let proven_keys = |read: &carchain_core::light::RangeRead| -> Vec<Vec<u8>> {
        read.records
            .iter()
            .map(|r| r.registration.put.key.clone())
            .collect()
    };

    // Both a range and a whole-address read: one page, every record proven from it.
    let range = through_proxy
        .records_in_range(&car.address, &[], &[0xff])
        .await
        .expect("range");
    assert_eq!(proven_keys(&range), keys);
    assert!(range.rejected.is_empty());
    let paths = proxy.take_paths();
    assert_eq!(count(&paths, "/v1/kv/"), 1, "{paths:#?}");
    assert_eq!(count(&paths, "/v1/state/record/"), 0, "{paths:#?}");
    // Once the client is synced and holds tokens, a whole-address read of the 12 records
    // is a fixed handful of requests: status, headers, the light block certifying them,
    // one page carrying the address index with its proof.
    let whole = through_proxy.records_at(&car.address).await.expect("whole");
    assert_eq!(proven_keys(&whole), keys);
    let paths = proxy.take_paths();
    assert_eq!(count(&paths, "/v1/kv/"), 1, "{paths:#?}");
    assert_eq!(count(&paths, "/v1/state/"), 0, "{paths:#?}");
    assert!(paths.len() <= 4, "{paths:#?}");
    assert!(count(&paths, "/v1/light/") <= 1, "{paths:#?}");

    // A many-address read asks the node's status once, then one page per address.
    let addresses = vec![
        car.address.clone(),
        reader.address.clone(),
        car.address.clone(),
    ];
    let reads = through_proxy.records_at_many(&addresses).await;
    assert_eq!(reads.len(), 3);
    let read = |i: usize| reads[i].as_ref().expect("read");
    assert_eq!(proven_keys(read(0)), keys);
    assert!(
        read(1).records.is_empty(),
        "the reader's address holds no record"
    );
    assert_eq!(proven_keys(read(2)), keys);
    let paths = proxy.take_paths();
    assert_eq!(count(&paths, "/v1/status"), 1, "{paths:#?}");
    assert_eq!(count(&paths, "/v1/kv/"), 3, "{paths:#?}");

    // A page whose index is the valid proof of something else is caught.
    proxy.set(Tamper::ForgePageIndex);
    let err = through_proxy
        .records_at(&car.address)
        .await
        .expect_err("forged page index");
    assert!(
        matches!(
            &err,
            LightError::Tampered(_) | LightError::AllNodesFailed(_)
        ),
        "{err}"
    );
    proxy.take_paths();

    // A node that serves pages without proofs is still checked, one proof per record.
    proxy.set(Tamper::StripPageProofs);
    let range = through_proxy
        .records_in_range(&car.address, &[], &[0xff])
        .await
        .expect("range without page proofs");
    assert_eq!(proven_keys(&range), keys);
    let paths = proxy.take_paths();
    assert_eq!(count(&paths, "/v1/state/record/"), keys.len(), "{paths:#?}");
    // ... and its address index with one more request.
    let whole = through_proxy
        .records_at(&car.address)
        .await
        .expect("whole without page proofs");
    assert_eq!(proven_keys(&whole), keys);
    let paths = proxy.take_paths();
    assert_eq!(count(&paths, "/v1/state/address-index/"), 1, "{paths:#?}");

    // Valid proofs of the wrong records are caught; the honest node answers instead.
    proxy.set(Tamper::ShiftPageProofs);
    let err = through_proxy
        .records_in_range(&car.address, &[], &[0xff])
        .await
        .expect_err("shifted proofs");
    assert!(
        matches!(
            &err,
            LightError::Tampered(_) | LightError::AllNodesFailed(_)
        ),
        "{err}"
    );
    let both = client(vec![proxy.base.clone(), node.base.clone()]);
    let whole = both.records_at(&car.address).await.expect("failover");
    assert_eq!(proven_keys(&whole), keys);
    assert_eq!(both.endpoint_failures()[0].0, proxy.base);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_range_item_is_invisible_to_a_range_but_its_registration_is_proven() {
    let (node, car, reader, keys) = node_with_records(3).await;
    let proxy = TamperingProxy::start(&node.base, Tamper::DropRangeItem).await;
    let client = LightClient::new(vec![proxy.base.clone()], node.anchor.clone())
        .expect("client")
        .with_read_payer(reader.secret, 50);
    let range = client
        .records_in_range(&car.address, &[], &[0xff])
        .await
        .expect("range");
    // Documented limit: the range alone cannot see an omitted item...
    let returned: Vec<Vec<u8>> = range
        .records
        .iter()
        .map(|r| r.registration.put.key.clone())
        .collect();
    assert_eq!(returned, keys[1..].to_vec());
    // ...but a caller that knows the expected keys proves the omitted one exists and
    // reads it by key, verified.
    let dropped = &keys[0];
    assert!(
        client
            .registration(&car.address, dropped)
            .await
            .expect("registration")
            .is_some()
    );
    let record = client
        .record(&car.address, dropped)
        .await
        .expect("record")
        .expect("present");
    assert_eq!(record.envelope, value_of(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_address_read_catches_a_dropped_record_and_fails_over() {
    let (node, car, reader, keys) = node_with_records(3).await;
    let proxy = TamperingProxy::start(&node.base, Tamper::DropRangeItem).await;
    // The dropping node alone: the ledger's index shows one record missing.
    let alone = LightClient::new(vec![proxy.base.clone()], node.anchor.clone())
        .expect("client")
        .with_read_payer(reader.secret, 50);
    let read = alone.records_at(&car.address).await.expect("read");
    assert_eq!(read.missing, 1);
    assert_eq!(read.records.len(), 2);
    // With an honest node behind it: the client moves on and gets every record.
    let both = LightClient::new(
        vec![proxy.base.clone(), node.base.clone()],
        node.anchor.clone(),
    )
    .expect("client")
    .with_read_payer(reader.secret, 50);
    let read = both.records_at(&car.address).await.expect("read");
    assert_eq!(read.missing, 0);
    let served: Vec<Vec<u8>> = read
        .records
        .iter()
        .map(|r| r.registration.put.key.clone())
        .collect();
    assert_eq!(served, keys);
    assert!(
        both.endpoint_failures()
            .iter()
            .any(|(endpoint, _)| endpoint.contains(&proxy.base)),
        "the dropping node is remembered: {:?}",
        both.endpoint_failures()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_headers_are_tampered_and_failover_syncs_from_the_honest_node() {
    let (owner, node) = funded_key_node(41, 1_000_000, Mode::Shared).await;
    let honest = node.client();
    for nonce in 0..2 {
        honest
            .submit(
                &owner.transfer(nonce, &TestKey::from_byte(42).address, 5),
                true,
            )
            .await
            .expect("transfer");
    }
    for keep_signature in [true, false] {
        let proxy =
            TamperingProxy::start(&node.base, Tamper::ForgeHeaders { keep_signature }).await;
        let only_proxy =
            LightClient::new(vec![proxy.base.clone()], node.anchor.clone()).expect("client");
        let err = only_proxy.sync(&|_| {}).await.expect_err("forged headers");
        assert!(
            matches!(err, LightError::Tampered(_)),
            "{keep_signature}: {err}"
        );
        assert_eq!(only_proxy.verified_height(), 0, "only genesis is accepted");
        let err = only_proxy
            .account(&owner.address)
            .await
            .expect_err("no read on a forged chain");
        assert!(matches!(err, LightError::Tampered(_)), "{err}");

        let both = LightClient::new(
            vec![proxy.base.clone(), node.base.clone()],
            node.anchor.clone(),
        )
        .expect("client");
        let height = both.sync(&|_| {}).await.expect("failover sync");
        assert!(height >= 2);
        assert_eq!(
            both.account(&owner.address).await.expect("account").nonce,
            2
        );
        // The failure is remembered and the honest node is asked first from now on.
        let failures = both.endpoint_failures();
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].0, proxy.base);
        assert!(failures[0].1.contains("verification"), "{}", failures[0].1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_old_headers_old_heights_and_stale_nodes_are_refused() {
    let (owner, node) = funded_key_node(51, 1_000_000, Mode::Shared).await;
    let other = TestKey::from_byte(52).address;
    let honest = node.client();
    for nonce in 0..4 {
        honest
            .submit(&owner.transfer(nonce, &other, 1), true)
            .await
            .expect("transfer");
    }
    let proxy = TamperingProxy::start(&node.base, Tamper::Honest).await;
    let store = Arc::new(Mutex::new(
        WalletStore::open_in_memory(Arc::new(InMemorySecretStore::default())).expect("store"),
    ));
    let both = LightClient::new(
        vec![proxy.base.clone(), node.base.clone()],
        node.anchor.clone(),
    )
    .expect("client")
    .with_store(Arc::clone(&store));
    let synced = both.sync(&|_| {}).await.expect("honest sync");
    assert!(synced >= 4);

    // Old heights: a state answer from below the height asked.
    proxy.set(Tamper::ReplayOld);
    let only_proxy = LightClient::new(vec![proxy.base.clone()], node.anchor.clone())
        .expect("client")
        .with_store(Arc::clone(&store));
    let err = only_proxy
        .account(&owner.address)
        .await
        .expect_err("old height");
    assert!(
        matches!(&err, LightError::Tampered(reason) if reason.contains("height")),
        "{err}"
    );

    // An old header replayed while syncing new blocks.
    honest
        .submit(&owner.transfer(4, &other, 1), true)
        .await
        .expect("one more block");
    let err = only_proxy.sync(&|_| {}).await.expect_err("replayed header");
    assert!(matches!(err, LightError::Tampered(_)), "{err}");
    let height = both.sync(&|_| {}).await.expect("failover sync");
    assert!(height > synced);
    assert_eq!(
        both.account(&owner.address).await.expect("account").nonce,
        5
    );

    // A node far behind the verified tip is stale.
    proxy.set(Tamper::LowHeight);
    let err = only_proxy.account(&owner.address).await.expect_err("stale");
    assert!(
        matches!(err, LightError::Stale { node_height: 0, .. }),
        "{err}"
    );
    let proxy_first = LightClient::new(
        vec![proxy.base.clone(), node.base.clone()],
        node.anchor.clone(),
    )
    .expect("client")
    .with_store(Arc::clone(&store));
    assert_eq!(
        proxy_first.verified_height(),
        height,
        "the tip comes from the store"
    );
    assert_eq!(
        proxy_first
            .account(&owner.address)
            .await
            .expect("failover")
            .nonce,
        5
    );
    assert!(
        proxy_first
            .endpoint_failures()
            .iter()
            .any(|(endpoint, reason)| endpoint == &proxy.base && reason.contains("stale"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verified_tip_survives_a_restart_without_network() {
    let (owner, node) = funded_key_node(61, 1_000_000, Mode::Shared).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("wallet.sqlite");
    let secrets = Arc::new(InMemorySecretStore::default());
    let height = {
        let store = Arc::new(Mutex::new(
            WalletStore::open(&path, secrets.clone()).expect("store"),
        ));
        let client = node.client().with_store(store);
        client
            .submit(&owner.transfer(0, &TestKey::from_byte(62).address, 7), true)
            .await
            .expect("transfer");
        client.sync(&|_| {}).await.expect("sync")
    };
    assert!(height >= 1);
    let tip = node.client();
    tip.sync(&|_| {}).await.expect("reference sync");
    let expected = tip.verified_header(height).expect("header");

    let store = Arc::new(Mutex::new(
        WalletStore::open(&path, secrets).expect("reopen"),
    ));
    let offline = LightClient::new(vec![closed_endpoint()], node.anchor.clone())
        .expect("client")
        .with_store(store);
    assert_eq!(offline.verified_height(), height);
    assert_eq!(offline.verified_header(height).expect("cached"), expected);
    let err = offline.account(&owner.address).await.expect_err("offline");
    assert!(err.is_unreachable(), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_agent_stores_a_value_only_with_its_users_write_credentials() {
    use carchain_core::light::WriteCredential;
    use carchain_core::light::write_credentials::CredentialHolder;

    let owner = TestKey::from_byte(71);
    let pool_address = TestKey::from_byte(72);
    let node = start_node(
        &[
            (&owner.address, 1_000_000),
            (&pool_address.address, 1_000_000),
        ],
        Mode::Private,
    )
    .await;
    let client = node.client();
    let device = SecretKey::from_slice(&[73; 32]).expect("device key");
    client
        .submit(&owner.device_setup(0, "VIN-PRIVATE", &device), true)
        .await
        .expect("pair");
    let (key, value) = (vec![0x01, 0x02], b"private envelope".to_vec());
    client
        .submit(&pool_address.record_put(0, &key, &value), true)
        .await
        .expect("register");

    let refused = client
        .put_value(&pool_address.address, &key, &value, None)
        .await
        .expect_err("no credential");
    assert_eq!(refused.node_code(), Some("credential_missing"), "{refused}");
    let issuer = client.credential_issuer().await.expect("issuer key");
    let stranger = SecretKey::from_slice(&[74; 32]).expect("other key");
    let forged = client
        .obtain_credentials(
            &issuer,
            support::AGENT,
            CredentialHolder::Device {
                vid: "VIN-PRIVATE",
                device_key: &stranger,
            },
            1,
        )
        .await
        .expect_err("not the device's key");
    assert_eq!(forged.node_code(), Some("bad_signature"), "{forged}");
    let issued = client
        .obtain_credentials(
            &issuer,
            support::AGENT,
            CredentialHolder::Device {
                vid: "VIN-PRIVATE",
                device_key: &device,
            },
            2,
        )
        .await
        .expect("issued");
    let credential = WriteCredential(issued.tokens[0].clone());
    assert_eq!(
        client
            .put_value(&pool_address.address, &key, &value, Some(&credential))
            .await
            .expect("with a credential"),
        PutOutcome::Stored
    );
    // Private nodes read for free: no payer needed.
    let record = client
        .record(&pool_address.address, &key)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(record.envelope, value);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_submissions_of_one_signer_each_get_their_own_nonce() {
    let (payer, node) = funded_key_node(41, 1_000_000, Mode::Private).await;
    let payee = TestKey::from_byte(42);
    let client = node.client();
    // Five transfers at once from one key, through clones and a fresh-connection copy of
    // one client (as a wallet pairing several cars at once sends them): each takes the
    // nonce its predecessor left, none is refused for a nonce already used.
    let mut sends = tokio::task::JoinSet::new();
    for n in 0..5_u64 {
        let client = if n % 2 == 0 {
            client.clone()
        } else {
            client.with_fresh_connections().expect("copy")
        };
        let (secret, to) = (payer.secret, payee.address.clone());
        sends.spawn(async move {
            client
                .sign_and_submit(
                    &secret,
                    carchain_core::protocol::TxBody::Transfer(carchain_core::protocol::Transfer {
                        to,
                        amount: 100 + n,
                    }),
                )
                .await
        });
    }
    while let Some(sent) = sends.join_next().await {
        let receipt = sent.expect("task").expect("committed");
        assert!(receipt.height.is_some());
    }
    let payee_state = client.account(&payee.address).await.expect("payee");
    assert_eq!(payee_state.balance, 100 + 101 + 102 + 103 + 104);
    assert_eq!(
        client.account(&payer.address).await.expect("payer").nonce,
        5
    );
}

/// A transfer of `amount` from `payer` to `to`, signed and waited into its block.
async fn transfer(
    client: &LightClient,
    payer: &TestKey,
    to: &str,
    amount: u64,
) -> Result<carchain_core::light::Receipt, LightError> {
    client
        .sign_and_submit(
            &payer.secret,
            carchain_core::protocol::TxBody::Transfer(carchain_core::protocol::Transfer {
                to: to.to_owned(),
                amount,
            }),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_signers_concurrent_submissions_share_blocks() {
    let (payer, node) = funded_key_node(43, 1_000_000, Mode::Private).await;
    let payee = TestKey::from_byte(44);
    let client = node.client();
    // Forty transfers at once from one key (a wallet pairing a fleet): each waits only
    // for the node to admit its predecessor, not for its block, so they share blocks.
    let mut sends = tokio::task::JoinSet::new();
    for n in 0..40_u64 {
        let (client, payer, to) = (client.clone(), payer.clone(), payee.address.clone());
        sends.spawn(async move { transfer(&client, &payer, &to, 1 + n).await });
    }
    let mut heights = std::collections::BTreeSet::new();
    while let Some(sent) = sends.join_next().await {
        let receipt = sent.expect("task").expect("committed");
        heights.insert(receipt.height.expect("a committing height"));
    }
    assert!(
        heights.len() <= 20,
        "40 transfers of one signer took {} blocks: {heights:?}",
        heights.len()
    );
    assert_eq!(
        client.account(&payee.address).await.expect("payee").balance,
        (1..=40).sum::<u64>()
    );
    assert_eq!(
        client.account(&payer.address).await.expect("payer").nonce,
        40
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_the_block_cannot_pay_is_refused_with_the_nodes_reason() {
    let (payer, node) = funded_key_node(45, 1_000, Mode::Private).await;
    let payee = TestKey::from_byte(46);
    let client = node.client();
    // Two transfers at once that the balance pays one of: one commits, the other is
    // refused (at admission or by its block) with the node's reason, never a timeout.
    let (first, second) = tokio::join!(
        transfer(&client, &payer, &payee.address, 700),
        transfer(&client, &payer, &payee.address, 700)
    );
    let (committed, refused) = match (first, second) {
        (Ok(receipt), Err(e)) | (Err(e), Ok(receipt)) => (receipt, e),
        other => panic!("one transfer commits and one is refused: {other:?}"),
    };
    assert!(committed.height.is_some());
    match refused {
        LightError::Node { code, .. } => assert_ne!(code, "timeout"),
        other => panic!("the node's refusal, not {other}"),
    }
    assert_eq!(
        client.account(&payee.address).await.expect("payee").balance,
        700
    );
    // The signer goes on: its next transfer takes the next nonce.
    transfer(&client, &payer, &payee.address, 1)
        .await
        .expect("the next transfer commits");
}

/// The client judges header times by its clock: a clock an hour behind sees the chain's
/// headers as from the future, a clock past the trusting period sees its trust expired.
/// Both are typed (`light.outside_trust_time`), neither drops the honest node as a
/// forger, and the same node verifies for a client on the right time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_times_are_judged_by_the_clients_clock() {
    use carchain_core::clock::ManualClock;
    let (owner, node) = funded_key_node(41, 1_000_000, Mode::Shared).await;
    let friend = TestKey::from_byte(42);
    let tx = owner.transfer(0, &friend.address, 100);
    node.client().submit(&tx, true).await.expect("submit");

    let five_years_and_a_day = 5 * 365 * 24 * 3600 + 24 * 3600;
    for offset in [-3600, five_years_and_a_day] {
        let client = node
            .client()
            .with_clock(Arc::new(ManualClock::offset_from_now(offset)));
        let err = client
            .sync(&|_| {})
            .await
            .expect_err("outside the trusted time");
        assert!(
            matches!(err, LightError::OutsideTrustTime { .. }),
            "clock offset {offset} s: {err:?}"
        );
        assert_eq!(err.code(), "light.outside_trust_time");
        assert!(!err.is_forgery());
        assert!(client.dropped_endpoints().is_empty());
        assert_eq!(client.verified_height(), 0);
    }
    let height = node.client().sync(&|_| {}).await.expect("sync on time");
    assert!(height >= 1);
}
