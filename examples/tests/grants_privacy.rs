//! Adversary test of what grants, a subscriber channel and an auditor's attestation
//! publish: an owner grants an insurer two days of its car's trips, lets a family
//! member follow the car, and has an auditor countersign a mileage claim on the
//! insurer's grant, all through a logging proxy in front of a real node. Then:
//! - the ledger reader (every committed transaction as the node serves it) finds no
//!   pool address, record key, VID, claim text, dHash or RSA key fingerprint in any
//!   grant or attestation, and no channel entry under the owner's address or sharing an
//!   address with another entry;
//! - the node operator (its data directory and the full request log) finds no RSA key
//!   fingerprint, claim text or channel subscriber id anywhere, and no request or
//!   connection that carries the owner's address or the VID beside a pool or channel
//!   address;
//! - the insurer still reads and verifies exactly what was granted (the opening of the
//!   grant's commitment, each record against the ledger, the copy tags) and nothing
//!   else; the family member reads its day through its ticket; the insurer checks the
//!   sealed countersignature against the ledger, and nobody else can open it.
//!
//! A second test runs the auditor's scan of a disclosed pool on a shared node (reads
//! paid) behind a proxy of its own: one fresh read token per value read, none shown
//! twice, one pool address per connection, the token purchase apart from them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod support;

#[allow(dead_code)]
#[path = "support/adversary/fields.rs"]
mod fields;
#[allow(dead_code)]
#[path = "support/adversary/ledger.rs"]
mod ledger;
#[allow(dead_code)]
#[path = "support/adversary/needles.rs"]
mod needles;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use carchain_core::grants::auditor::{appoint_auditor, require_attestation};
use carchain_core::grants::{GrantsError, GrantsLedger};
use carchain_core::keys::rsa_fingerprint_bytes;
use carchain_core::light::LightClient;
use carchain_core::protocol::signing::secret_key_from_bytes;
use carchain_core::record::FormatSpec;
use carchain_core::wallet::{CHANNEL_FORMAT, Wallet};
use fields::addresses_in;
use needles::{Search, address_forms, encodings};
use serde_json::{Value, json};
use support::flows::{WORDS_A, WORDS_B, car, day, pair, wallet};
use support::grants_setup::{
    DAYS, VID, audit_copy, auditor, days_narrowing, drive_days, mileage_claim, provider,
    received_copy, request_spec, trip_terms,
};
use support::logging_proxy::LoggingProxy;
use support::{Mode, init_chain, serve};

const INSURER: u8 = 0x51;
const AUDITOR: u8 = 0x52;

/// Every regular file under `dir`, concatenated.
fn files_of(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).expect("data dir").flatten() {
        if entry.path().is_dir() {
            all.extend(files_of(&entry.path()));
        } else if let Ok(bytes) = std::fs::read(entry.path()) {
            all.extend(bytes);
        }
    }
    all
}

fn operator_secret(data_dir: &Path) -> bitcoin::secp256k1::SecretKey {
    let text = std::fs::read_to_string(data_dir.join("validator.key")).expect("key file");
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut bytes).expect("hex key");
    secret_key_from_bytes(&bytes).expect("operator key")
}

fn fingerprint_forms(label: &str, key: &rsa::PublicKey) -> Vec<(String, Vec<u8>)> {
    encodings(label, &rsa_fingerprint_bytes(key).expect("fingerprint"))
}

/// The pool addresses of car `vid` the owner's wallet knows for days 1..=DAYS.
async fn pool_addresses(owner: &Wallet, light: &LightClient) -> BTreeSet<String> {
    let mut addresses = BTreeSet::new();
    for format in ["trip-gps", "VIN_CODE"] {
        for record in owner
            .sealed_records_in(light, VID, day(1), day(DAYS), format)
            .await
            .expect("records")
        {
            addresses.insert(record.registration.put.address);
        }
    }
    addresses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_channels_and_attestations_publish_only_commitments() {
    let owner = wallet(WORDS_A);
    let family = wallet(WORDS_B);
    let insurer = provider(INSURER);
    let auditor = auditor(AUDITOR);
    let outsider = provider(0x53);
    let mut funds = vec![(owner.owner_address(), 1_000_000u64)];
    for account in [insurer.address(), auditor.address(), family.owner_address()] {
        funds.push((account, 1_000_000));
    }
    let funds: Vec<(&str, u64)> = funds.iter().map(|(a, n)| (a.as_str(), *n)).collect();
    let chain = init_chain(&funds);
    let data_dir = chain.data_dir.clone();
    let operator = operator_secret(&data_dir);
    let node = serve(chain, Mode::Private).await;
    let proxy = LoggingProxy::start(&node.base).await;
    let light = LightClient::new(vec![proxy.base.clone()], node.anchor.clone()).expect("client");
    let ledger =
        GrantsLedger::new(light.clone(), std::slice::from_ref(&proxy.base)).expect("grants ledger");

    // The car: a trip a day, through the proxy.
    let car_dir = tempfile::tempdir().expect("dir");
    let car = car(&car_dir, VID);
    pair(&owner, &light, &car, "family car", 8).await;
    let trips = drive_days(&car, &light).await;

    // The insurer asks for days 1..DAYS; the owner grants days 2 and 3 only.
    insurer
        .register(&ledger, "Insurer", "pay as you drive", vec![])
        .await
        .expect("register insurer");
    let request = insurer
        .request(
            &ledger,
            &request_spec(
                &owner,
                trip_terms(1, DAYS, carchain_core::grants::Delivery::Copy),
                "quote",
                0,
            ),
        )
        .await
        .expect("request");
    let approval = owner
        .approve(&ledger, &request, VID, &days_narrowing(2, 3))
        .await
        .expect("approve");
    assert_eq!(approval.records.len(), 2);
    let copy = received_copy(&insurer, &ledger, &request, "copy").await;
    // Exactly what was granted: the opening's records, verified against the ledger.
    assert_eq!(copy.opening.records, approval.records);
    assert_eq!(copy.records.len(), 2);
    assert_eq!(copy.grant.copy_tags.len(), 2);
    let sessions: BTreeSet<i64> = copy
        .records
        .iter()
        .map(|r| r.value["SESSION_ID"].as_i64().unwrap_or(-1))
        .collect();
    let day_one_trip = owner
        .sealed_records_in(&light, VID, day(1), day(1), "trip-gps")
        .await
        .expect("day 1")
        .pop()
        .expect("a day-1 trip");
    // And nothing else: a trip of day 1 is refused.
    let refused = insurer
        .read_granted(
            &ledger,
            &request,
            &day_one_trip.registration.put.address,
            &day_one_trip.registration.put.key,
        )
        .await;
    assert!(
        matches!(refused, Err(GrantsError::GrantRefused(_))),
        "{refused:?} (sessions granted: {sessions:?})"
    );
    for record in &copy.records {
        let again = insurer
            .read_granted(&ledger, &request, &record.address, &record.key)
            .await
            .expect("a granted record reads");
        assert_eq!(again.value, record.value);
    }

    // The family member follows the car through its ticket.
    owner
        .add_subscriber(VID, "family", &family.rsa_public_key())
        .expect("subscribe");
    let report = owner
        .publish_channel(&light, VID, day(1), day(DAYS))
        .await
        .expect("publish");
    assert_eq!(report.published, DAYS as usize);
    let ticket = owner.channel_ticket(VID, "family").expect("ticket");
    let seen = family
        .subscriber_reader(&ticket)
        .read_day(&light, VID, day(2), &FormatSpec::trip_gps())
        .await
        .expect("family reads day 2");
    assert_eq!(seen.records.len(), 1);

    // The auditor receives every trip, audits the owner's claim over the disclosed pool
    // and countersigns it on the insurer's grant; the insurer opens the sealed
    // countersignature and checks it against the ledger.
    let auditor_provider = auditor.provider();
    let audit_copy = audit_copy(auditor_provider, &ledger, &owner, &ledger).await;
    let claim = mileage_claim(&trips);
    let pool = owner.pool_disclosure(VID).expect("pool");
    let audited = auditor
        .audit_mileage(&ledger, &pool, &audit_copy, &claim)
        .await
        .expect("audit");
    appoint_auditor(&ledger, &operator, &auditor.address())
        .await
        .expect("appoint");
    let grant_id = approval.grant_id;
    let countersignature = auditor
        .countersign(&ledger, &hex::encode(grant_id), &audited)
        .await
        .expect("countersign");
    let sealed = countersignature
        .seal_for(&insurer.rsa_public_key())
        .expect("seal");
    let tx_id = countersignature.tx.id();
    let opened = insurer
        .open_countersignature(&sealed, &grant_id, &tx_id)
        .expect("the insurer opens it");
    let verified = require_attestation(&ledger, &grant_id, &claim, &opened.tx, &opened.opening)
        .await
        .expect("verified against the ledger");
    assert_eq!(verified.d_hashes, audited.d_hashes);
    assert!(
        outsider
            .open_countersignature(&sealed, &grant_id, &tx_id)
            .is_err()
    );

    // ---- What the adversaries hold. ----
    let pools = pool_addresses(&owner, &light).await;
    assert!(pools.len() >= 2, "{pools:?}");
    // Every committed transaction's JSON, as `GET /v1/tx/{id}` serves it.
    let txs: Vec<Value> = ledger::export(&node.base, &data_dir, &node.operator_address)
        .await
        .txs
        .into_iter()
        .map(|t| t.tx)
        .collect();
    let log = proxy.log();
    let files = files_of(&data_dir);

    let owner_address = owner.owner_address();
    let mut fingerprints = fingerprint_forms("owner", &owner.rsa_public_key());
    fingerprints.extend(fingerprint_forms("family", &family.rsa_public_key()));
    fingerprints.extend(fingerprint_forms("insurer", &insurer.rsa_public_key()));
    fingerprints.extend(fingerprint_forms(
        "auditor",
        &auditor_provider.rsa_public_key(),
    ));
    let mut secrets = vec![fingerprints];
    secrets.push(vec![("claim".into(), b"vid=".to_vec())]);
    secrets.push(vec![(
        "claim text".into(),
        claim.to_text().expect("text").into_bytes(),
    )]);
    let mut granted_keys = Vec::new();
    for record in &approval.records {
        granted_keys.extend(encodings("granted key", &record.key));
    }
    let d_hashes: Vec<_> = audited
        .d_hashes
        .iter()
        .flat_map(|d| encodings("dHash", d))
        .collect();
    let pool_forms: Vec<_> = pools.iter().flat_map(|a| address_forms(a)).collect();

    // (a) The ledger reader.
    let mut channel_addresses = BTreeSet::new();
    let contents = Search::new(&[
        pool_forms.clone(),
        granted_keys.clone(),
        d_hashes.clone(),
        secrets.concat(),
        encodings("vid", VID.as_bytes()),
    ]);
    let mut grants = 0;
    let mut attestations = 0;
    for tx in &txs {
        let body = &tx["tx"]["body"];
        let kind = body["type"].as_str().unwrap_or_default();
        let text = serde_json::to_vec(body).expect("json");
        match kind {
            "grant" | "auditor_attestation" => {
                if kind == "grant" {
                    grants += 1;
                } else {
                    attestations += 1;
                }
                let found = contents.find(&text);
                assert!(
                    found.is_empty(),
                    "a {kind} publishes {found:?}: {}",
                    String::from_utf8_lossy(&text)
                );
            }
            "record_put" if body["format"] == json!(CHANNEL_FORMAT) => {
                let address = body["address"].as_str().unwrap_or_default().to_owned();
                assert_ne!(address, owner_address, "a channel entry under the owner");
                assert!(!pools.contains(&address));
                assert!(
                    channel_addresses.insert(address.clone()),
                    "two channel entries share {address}"
                );
                let key = hex::decode(body["key"].as_str().unwrap_or_default()).expect("hex");
                assert!(
                    !String::from_utf8_lossy(&key).contains("family"),
                    "the channel key names the subscriber"
                );
            }
            _ => {
                // Nothing else carries a claim, a fingerprint or a granted list.
                let found = Search::new(&secrets).find(&text);
                assert!(found.is_empty(), "a {kind} publishes {found:?}");
            }
        }
    }
    // The owner's grants (insurer, auditor) and the appointment and countersignature.
    assert_eq!(grants, 2);
    assert_eq!(attestations, 2);
    assert_eq!(channel_addresses.len(), DAYS as usize);

    // (b) The node operator: its files and the request log.
    let everywhere = Search::new(&secrets);
    let found = everywhere.find(&files);
    assert!(found.is_empty(), "the node's files hold {found:?}");
    for request in &log {
        let found = everywhere.find(&request.all_bytes());
        assert!(found.is_empty(), "{request} carries {found:?}");
    }
    // No request, and no connection, carries the owner's address or the VID beside a
    // pool or channel address.
    let linked: BTreeSet<String> = pools.union(&channel_addresses).cloned().collect();
    let vid_search = Search::new(&[encodings("vid", VID.as_bytes())]);
    let mut per_connection: BTreeMap<u64, (bool, BTreeSet<String>)> = BTreeMap::new();
    for request in &log {
        let bytes = request.all_bytes();
        let names: BTreeSet<String> = addresses_in(&bytes)
            .into_iter()
            .filter(|a| linked.contains(a))
            .collect();
        let names_owner =
            addresses_in(&bytes).contains(&owner_address) || !vid_search.find(&bytes).is_empty();
        assert!(
            !names_owner || names.is_empty(),
            "{request} names the owner or the car beside {names:?}"
        );
        assert!(names.len() <= 1, "{request} names {names:?}");
        let entry = per_connection.entry(request.connection).or_default();
        entry.0 |= names_owner;
        entry.1.extend(names);
    }
    for (connection, (names_owner, names)) in &per_connection {
        let requests: Vec<String> = log
            .iter()
            .filter(|r| r.connection == *connection)
            .map(|r| format!("{r} {}", r.query))
            .collect();
        assert!(
            !*names_owner || names.is_empty(),
            "connection {connection} carries the owner or the car beside {names:?}: {requests:#?}"
        );
        assert!(
            names.len() <= 1,
            "connection {connection} carries {names:?}"
        );
    }
}

/// The auditor's scan on a shared node, where every value read is paid: through a
/// logging proxy of its own, each pool address the scan reads goes on a connection of
/// its own with a fresh read token, no token is shown twice, and the token purchase
/// (which names the auditor's account) goes on a connection that carries no pool
/// address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auditors_scan_spends_a_fresh_token_per_pool_address() {
    let owner = wallet(WORDS_A);
    let auditor = auditor(AUDITOR);
    let funds = [
        (owner.owner_address(), 1_000_000u64),
        (auditor.address(), 1_000_000),
    ];
    let funds: Vec<(&str, u64)> = funds.iter().map(|(a, n)| (a.as_str(), *n)).collect();
    let chain = init_chain(&funds);
    let data_dir = chain.data_dir.clone();
    let operator = operator_secret(&data_dir);
    let node = serve(chain, Mode::Shared).await;
    let anchor = node.anchor.clone();
    let plain = || LightClient::new(vec![node.base.clone()], anchor.clone()).expect("client");

    // The owner's car, paired and writing on the shared node (reads paid by each).
    let owner_light = owner.paying_reads(plain());
    let owner_ledger = GrantsLedger::new(owner_light.clone(), std::slice::from_ref(&node.base))
        .expect("owner ledger");
    let car_dir = tempfile::tempdir().expect("dir");
    let car = car(&car_dir, VID);
    let car_light = car.paying_reads(plain());
    carchain_examples::sim::pairing::pair_sim_car(
        &owner,
        &owner_light,
        &car,
        &car_light,
        8,
        support::AGENT,
    )
    .await
    .expect("pair");
    let trips = drive_days(&car, &car_light).await;

    // The auditor talks to the node only through its own logging proxy.
    let proxy = LoggingProxy::start(&node.base).await;
    let auditor_light = LightClient::new(vec![proxy.base.clone()], anchor.clone())
        .expect("client")
        .with_read_payer(support::grants_setup::secret(AUDITOR), 50);
    let auditor_ledger =
        GrantsLedger::new(auditor_light, std::slice::from_ref(&proxy.base)).expect("ledger");
    let audit_provider = auditor.provider();
    let copy = audit_copy(audit_provider, &auditor_ledger, &owner, &owner_ledger).await;
    let claim = mileage_claim(&trips);
    let pool = owner.pool_disclosure(VID).expect("pool");
    let pool_addresses: BTreeSet<String> = pool
        .addresses(carchain_core::protocol::Network::Regtest)
        .expect("addresses")
        .into_iter()
        .collect();
    let scan_from = proxy.log().len();
    let audited = auditor
        .audit_mileage(&auditor_ledger, &pool, &copy, &claim)
        .await
        .expect("audit");
    assert_eq!(audited.addresses, pool_addresses.len());
    // The operator appoints it and it countersigns: still nothing to link.
    appoint_auditor(&auditor_ledger, &operator, &auditor.address())
        .await
        .expect("appoint");

    let log = proxy.log();
    let scan = &log[scan_from..];
    let mut tokens = BTreeSet::new();
    let mut per_connection: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    let mut read_addresses = BTreeSet::new();
    for request in scan {
        let names: BTreeSet<String> = addresses_in(&request.all_bytes())
            .into_iter()
            .filter(|a| pool_addresses.contains(a))
            .collect();
        per_connection
            .entry(request.connection)
            .or_default()
            .extend(names.clone());
        let is_value_read = request.method == "GET" && request.path.starts_with("/v1/kv/");
        if is_value_read && !names.is_empty() {
            read_addresses.extend(names);
            let token = request
                .headers
                .iter()
                .find(|(name, _)| name == "x-carchain-token")
                .map_or_else(
                    || panic!("{request} reads a pool address without a token"),
                    |(_, value)| value.clone(),
                );
            assert!(tokens.insert(token), "{request} shows a token again");
        }
    }
    assert!(
        !read_addresses.is_empty(),
        "the scan read the pool's values through the proxy"
    );
    for (connection, names) in &per_connection {
        assert!(
            names.len() <= 1,
            "connection {connection} carries {names:?}"
        );
    }
    let auditor_address = auditor.address();
    for request in &log {
        if request.path.starts_with("/v1/tokens") {
            let on_its_connection: BTreeSet<String> = log
                .iter()
                .filter(|r| r.connection == request.connection)
                .flat_map(|r| addresses_in(&r.all_bytes()))
                .filter(|a| pool_addresses.contains(a))
                .collect();
            assert!(
                on_its_connection.is_empty(),
                "the auditor's token purchase shares a connection with {on_its_connection:?}"
            );
        }
        let names_auditor = addresses_in(&request.all_bytes()).contains(&auditor_address);
        let names_pool = addresses_in(&request.all_bytes())
            .iter()
            .any(|a| pool_addresses.contains(a));
        assert!(
            !(names_auditor && names_pool),
            "{request} names the auditor beside a pool address"
        );
    }
}
