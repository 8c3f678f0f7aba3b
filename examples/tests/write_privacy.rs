//! The node operator's view of a car's writes, against the real `carchain-node` binary
//! behind a logging proxy that records every request (headers, body, client ip:port):
//!
//! - on a shared node, no request of a car's delivery carries the VID, the device key,
//!   the car's account, the owner's address or key, or a device signature header;
//! - each request, batch and TCP connection carries at most one pool address, each
//!   address's backlog goes out as one `POST /v1/records` batch, and the registrations
//!   of two addresses share no signer, nonce sequence or fee payer;
//! - on a private node the car shows only anonymous write credentials: one per address
//!   (the same on every item of that address, another on every other address), while
//!   the authenticated credential request that names the car travels on a connection
//!   that carries no address;
//! - no pool address is funded: each written one holds no tokens and has signed only its
//!   own registrations.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

use carchain_testkit::node_process;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use carchain_core::device::CarDevice;
use carchain_core::keys::WalletKeys;
use carchain_core::light::LightClient;
use carchain_core::pool::AddressPool;
use carchain_core::protocol::signing::p2wpkh_address;
use carchain_core::protocol::{Network, SignedTransaction, TxBody};
use carchain_core::wallet::Wallet;
use carchain_examples::sim::pairing::pair_sim_car;
use carchain_testkit::car_records::{owner_keys, wallet_and_car};
use support::flows::{day, trip_on};
use support::logging_proxy::{LoggedRequest, LoggingProxy};

const CHAIN_ID: &str = "carchain-writes-e2e";
const WORDS: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";
const VID: &str = "LPRIV4CY0000WRITE";
const POOL: usize = 16;
/// The agent name `carchain-node run` serves under by default.
const AGENT: &str = "carchain-node";
/// Trips queued per day of the backlog (days 1..=5).
const TRIPS: [i64; 5] = [2, 1, 3, 1, 2];

/// What a car and its owner are, as an operator would search for them.
struct Identity {
    keys: WalletKeys,
    names: Vec<(&'static str, String)>,
    pool: BTreeSet<String>,
}

fn identity(car: &CarDevice, keys: WalletKeys) -> Identity {
    let names = vec![
        ("VID", VID.to_lowercase()),
        ("device key", hex::encode(car.device_pubkey().serialize())),
        ("car account", car.account_address(Network::Regtest)),
        ("owner address", keys.owner_address().to_string()),
        (
            "owner key",
            hex::encode(keys.owner_key().public_key().to_bytes()),
        ),
        ("device signature header", "x-carchain-device-sig".into()),
        ("vid header", "x-carchain-vid".into()),
    ];
    let pool = AddressPool::derive(&keys, VID, 0, POOL)
        .expect("pool")
        .addresses()
        .iter()
        .map(ToString::to_string)
        .collect();
    Identity { keys, names, pool }
}

/// The pool addresses a request names (in its path, query, headers or body).
fn addresses_in(request: &LoggedRequest, pool: &BTreeSet<String>) -> BTreeSet<String> {
    let text = request.text();
    pool.iter()
        .filter(|address| text.contains(&address.to_lowercase()))
        .cloned()
        .collect()
}

/// A paired car with a five-day backlog, and the owner's wallet.
async fn car_with_backlog(
    node: &node_process::NodeProcess,
    dir: &tempfile::TempDir,
) -> (Wallet, CarDevice) {
    let (owner, car) = wallet_and_car(dir, WORDS, VID, Duration::from_millis(40));
    let owner_light = owner.paying_reads(node.client());
    owner_light.sync(&|_| {}).await.expect("sync");
    let car_light = car.paying_reads(node.client());
    pair_sim_car(&owner, &owner_light, &car, &car_light, POOL, AGENT)
        .await
        .expect("pairing");
    for (index, trips) in TRIPS.iter().enumerate() {
        let date = day(u32::try_from(index).expect("day") + 1);
        for session in 0..*trips {
            let trip = trip_on(date, 100 * (index as i64 + 1) + session, (31.2, 121.4));
            car.put_trip(&trip, 1, date).expect("queue");
        }
    }
    (owner, car)
}

/// Asserts that `request` carries none of the car's and owner's names.
fn assert_names_none_of(request: &LoggedRequest, who: &Identity) {
    let text = request.text();
    for (what, name) in &who.names {
        assert!(
            !text.contains(&name.to_lowercase()),
            "the {what} travels in {} {}",
            request.method,
            request.path
        );
    }
}

/// A node run with `run_flags` funding the owner, and the owner's paired car with its
/// backlog on it (see [`car_with_backlog`]); the owner's keys.
async fn node_and_backlog(
    dir: &tempfile::TempDir,
    run_flags: &[&str],
) -> (WalletKeys, node_process::NodeProcess, Wallet, CarDevice) {
    let keys = owner_keys(WORDS);
    let owner_address = keys.owner_address().to_string();
    let node = node_process::start(CHAIN_ID, &[(&owner_address, 1_000_000_000)], run_flags);
    let (owner, car) = car_with_backlog(&node, dir).await;
    (keys, node, owner, car)
}

/// Flushes `car` through a recording proxy in front of `node`; the requests it made.
async fn delivered_through_proxy(
    node: &node_process::NodeProcess,
    car: &CarDevice,
) -> Vec<LoggedRequest> {
    let proxy = LoggingProxy::start(&node.base).await;
    let light = LightClient::new(vec![proxy.base.clone()], node.anchor()).expect("client");
    let report = car.flush(&light).await.expect("flush");
    let total: u64 = TRIPS.iter().map(|&t| t as u64).sum();
    assert_eq!(
        (report.delivered, report.remaining, report.refused.len()),
        (total, 0, 0),
        "{report:?}\n{}",
        node.log_text()
    );
    proxy.log()
}

/// The checks both modes share: one address per request and per connection, one batch
/// per address, and registrations that share no signer, nonce sequence or fee payer.
fn assert_one_address_per_request_and_connection(requests: &[LoggedRequest], who: &Identity) {
    let mut per_connection: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    let mut batches: BTreeMap<String, usize> = BTreeMap::new();
    let mut items_sent = 0_usize;
    let mut signers: BTreeMap<String, String> = BTreeMap::new();
    for request in requests {
        let named = addresses_in(request, &who.pool);
        assert!(
            named.len() <= 1,
            "one request names {} pool addresses: {} {}",
            named.len(),
            request.method,
            request.path
        );
        per_connection
            .entry(request.connection)
            .or_default()
            .extend(named.iter().cloned());
        if request.path == "/v1/records" {
            let address = named
                .iter()
                .next()
                .expect("a batch names its address")
                .clone();
            *batches.entry(address.clone()).or_default() += 1;
            let body: serde_json::Value = serde_json::from_slice(&request.body).expect("json");
            let items = body["items"].as_array().expect("items");
            items_sent += items.len();
            let mut nonces = Vec::new();
            for item in items {
                let tx: SignedTransaction = serde_json::from_value(item["tx"].clone()).expect("tx");
                let TxBody::RecordPut(put) = &tx.tx.body else {
                    panic!("a batch item that is no record put");
                };
                assert_eq!(put.address, address, "a batch holds one address");
                // The fee is paid by the signer, whose address is the record's own.
                assert_eq!(p2wpkh_address(&tx.tx.signer, Network::Regtest), address);
                let signer = hex::encode(tx.tx.signer.serialize());
                if let Some(previous) = signers.insert(signer, address.clone()) {
                    assert_eq!(previous, address, "two addresses share a signer");
                }
                nonces.push(tx.tx.nonce);
            }
            let first = nonces.first().copied().unwrap_or(0);
            assert_eq!(first, 0, "each address counts its own nonces from 0");
            let expected: Vec<u64> = (first..first + nonces.len() as u64).collect();
            assert_eq!(nonces, expected, "one nonce sequence per address");
        }
    }
    for (client, addresses) in &per_connection {
        assert!(
            addresses.len() <= 1,
            "connection {client} carried {} pool addresses",
            addresses.len()
        );
    }
    // Two days may fall on one pool address; every queued record went out once.
    let total: i64 = TRIPS.iter().sum();
    assert_eq!(items_sent as i64, total, "each record in exactly one batch");
    assert!(batches.len() >= 2, "the backlog spans several addresses");
    assert!(
        batches.values().all(|&n| n == 1),
        "one batch per address: {batches:?}"
    );
    // An address's requests may use more than one of its own fresh connections (the
    // HTTP client opens another while the last one is being returned to its pool), but
    // a connection that carried an address never carries another.
    let connections_with_addresses = per_connection.values().filter(|a| !a.is_empty()).count();
    assert!(connections_with_addresses >= batches.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_node_operator_learns_no_car_from_a_delivery_and_no_link_between_its_days() {
    let dir = tempfile::tempdir().expect("dir");
    let (keys, node, owner, car) = node_and_backlog(&dir, &[]).await;
    let who = identity(&car, keys);
    assert_eq!(who.keys.owner_address().to_string(), owner.owner_address());
    let requests = delivered_through_proxy(&node, &car).await;
    assert!(!requests.is_empty());
    for request in &requests {
        assert_names_none_of(request, &who);
        let text = request.text();
        assert!(
            !text.contains("\"device\"") && !text.contains("credential"),
            "no device authorisation and no credential on a shared node: {}",
            request.path
        );
    }
    assert_one_address_per_request_and_connection(&requests, &who);

    // Nobody funded a pool address: each written one holds nothing (its fees came back
    // from the phase-1 reserve) and counts only its own registrations.
    let light = owner.paying_reads(node.client());
    light.sync(&|_| {}).await.expect("sync");
    let written: BTreeSet<String> = requests
        .iter()
        .filter(|r| r.path == "/v1/records")
        .flat_map(|r| addresses_in(r, &who.pool))
        .collect();
    for address in &written {
        let account = light.account(address).await.expect("account");
        assert_eq!(account.balance, 0, "{address} was funded");
        let records = light
            .records_at(address)
            .await
            .expect("records")
            .records
            .len();
        assert_eq!(
            account.nonce, records as u64,
            "{address} signed only its records"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_node_sees_one_anonymous_credential_per_address_and_the_car_only_at_issuance() {
    let dir = tempfile::tempdir().expect("dir");
    let (keys, node, _owner, car) = node_and_backlog(&dir, &["--mode", "private"]).await;
    let who = identity(&car, keys);
    let requests = delivered_through_proxy(&node, &car).await;

    // The car names itself once: the authenticated credential request, on a
    // connection that carries no address.
    let issuance: Vec<&LoggedRequest> = requests
        .iter()
        .filter(|r| r.path == "/v1/credentials")
        .collect();
    assert_eq!(issuance.len(), 1, "one refill of the new car's credentials");
    let issuing_connection = issuance[0].connection;
    for request in &requests {
        let named = addresses_in(request, &who.pool);
        if request.connection == issuing_connection {
            assert!(
                named.is_empty(),
                "the issuance connection carried an address"
            );
            continue;
        }
        assert_names_none_of(request, &who);
    }

    // One credential per address, the same on all its items, another on every other.
    let mut shown: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for request in requests.iter().filter(|r| r.path == "/v1/records") {
        let body: serde_json::Value = serde_json::from_slice(&request.body).expect("json");
        let address = addresses_in(request, &who.pool)
            .into_iter()
            .next()
            .expect("address");
        for item in body["items"].as_array().expect("items") {
            let credential = item["credential"]
                .as_str()
                .expect("a credential")
                .to_owned();
            shown.entry(address.clone()).or_default().insert(credential);
        }
    }
    assert!(shown.len() >= 2, "the backlog spans several addresses");
    let mut all = BTreeSet::new();
    for (address, credentials) in &shown {
        assert_eq!(credentials.len(), 1, "{address} showed several credentials");
        assert!(
            all.insert(credentials.iter().next().cloned().unwrap_or_default()),
            "two addresses showed the same credential"
        );
    }
    assert_one_address_per_request_and_connection(&requests, &who);
}

/// A batch refused in part: the node refuses the spoiled item with its code, the car
/// reports it and keeps it queued, the rest of the batch is delivered; the next flush
/// delivers the kept one, and every record is on the node once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_refused_in_part_reports_the_refused_record_and_keeps_the_rest_delivered() {
    let dir = tempfile::tempdir().expect("dir");
    let (keys, node, _owner, car) = node_and_backlog(&dir, &["--mode", "private"]).await;
    let proxy = LoggingProxy::start(&node.base).await;
    proxy.spoil_next_batch();
    let light = LightClient::new(vec![proxy.base.clone()], node.anchor()).expect("client");
    let report = car.flush(&light).await.expect("flush");
    let total: u64 = TRIPS.iter().map(|&t| t as u64).sum();
    assert_eq!(report.refused.len(), 1, "{report:?}");
    assert_eq!(report.refused[0].code, "chash_mismatch");
    assert_eq!(report.delivered, total - 1);
    assert_eq!(report.remaining, 1, "the refused record stays queued");

    let again = car.flush(&node.client()).await.expect("second flush");
    assert_eq!((again.delivered, again.remaining), (1, 0), "{again:?}");
    assert!(again.refused.is_empty());
    let who = identity(&car, keys);
    let direct = node.client();
    direct.sync(&|_| {}).await.expect("sync");
    let mut stored = 0;
    for address in &who.pool {
        let read = direct.records_at(address).await.expect("read");
        assert_eq!(read.missing, 0);
        stored += read.records.len() as u64;
    }
    assert_eq!(stored, total, "each record once");
}
