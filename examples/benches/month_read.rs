//! Reading back a month of one car's trips through the light client (plain `main`, no
//! harness): 30 days x 4 trips x 1,000 points put by a paired car on an in-process node
//! on loopback, then read by the owner's wallet (`Wallet::trips`, cold caches: a fresh
//! wallet and light client each run).
//!
//! Beside it, in the same run, the primitives alone over the same data: the HTTP calls
//! without verification (network), the state-proof checks, the RSA unwraps (one per
//! address-day), the AEAD opens and the trip decoding. Goal: the light-client read within
//! 2x of their sum.
//!
//! Run: `cargo bench -p carchain-examples --bench month_read`.

#[path = "common/mod.rs"]
mod common;
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use carchain_core::light::LightClient;
use carchain_core::pool::{AddressPool, PoolSeed, pool_addresses_for_days};
use carchain_core::protocol::{decode_state_proof, verify_state_proof};
use serde_json::Value;
use support::{Mode, start_node};

use common::month::{DAYS, MONTH_TRIPS, POINTS, day, median};
use common::primitives::{
    RawRecord, SealedRecord, decode_trips, fetch_raw, open_all, unwrap_epochs,
};
use common::setup::{BenchOwner, block_on, store_month};

const RUNS: usize = 3;

/// What the primitives need: every record's address, key, value and state answer.
struct Fetched {
    address: String,
    key: Vec<u8>,
    envelope: Vec<u8>,
    answer: Value,
}

impl SealedRecord for Fetched {
    fn address(&self) -> &str {
        &self.address
    }
    fn key(&self) -> &[u8] {
        &self.key
    }
    fn format(&self) -> &str {
        "trip-gps"
    }
    fn envelope(&self) -> &[u8] {
        &self.envelope
    }
}

/// The HTTP calls a verified read makes, without verifying anything, and their answers
/// decoded.
async fn fetch_all(http: &reqwest::Client, base: &str, addresses: &[String]) -> Vec<Fetched> {
    fetch_raw(http, base, addresses.iter().map(String::as_str))
        .await
        .into_iter()
        .map(
            |RawRecord {
                 address,
                 item,
                 answer,
             }| Fetched {
                address,
                key: hex::decode(item["key"].as_str().expect("key")).expect("hex key"),
                envelope: base64_decode(item["value"].as_str().expect("value")),
                answer,
            },
        )
        .collect()
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

fn hex32(value: &Value) -> [u8; 32] {
    hex::decode(value.as_str().expect("hex"))
        .expect("hex")
        .try_into()
        .expect("32 bytes")
}

fn check_proofs(fetched: &[Fetched]) {
    for record in fetched {
        let answer = &record.answer;
        let value = hex::decode(answer["value"].as_str().expect("value")).expect("hex");
        let proof = decode_state_proof(answer["proof"].as_str().expect("proof")).expect("proof");
        verify_state_proof(
            &hex32(&answer["state_root"]),
            jmt::KeyHash(hex32(&answer["key_hash"])),
            Some(&value),
            &proof,
        )
        .expect("proof verifies");
    }
}

fn main() {
    block_on(async_main());
}

async fn async_main() {
    let owner = BenchOwner::restore();
    let node = start_node(&[(&owner.wallet.owner_address(), 1_000_000)], Mode::Private).await;
    let light = node.client();
    let dir = tempfile::tempdir().expect("dir");
    let car = owner.paired_car(&light, &dir, "VIN-BENCH-MONTH").await;
    store_month(&car, &light, MONTH_TRIPS).await;
    let records = MONTH_TRIPS;

    // The light-client read, cold: a fresh wallet (epoch cache) and client each run.
    let mut totals = Vec::new();
    for _ in 0..RUNS {
        // The app reopened: same store, empty epoch-key cache, a new light client.
        let reader = owner.reopen();
        let client =
            LightClient::new(vec![node.base.clone()], node.anchor.clone()).expect("client");
        let started = Instant::now();
        let list = reader
            .trips(&client, car.vid(), day(1), day(DAYS))
            .await
            .expect("trips");
        totals.push(started.elapsed());
        assert_eq!(list.trips.len(), records);
        assert!(list.rejected.is_empty());
    }

    // The primitives alone, on the same data.
    let keys = &owner.keys;
    let pool = AddressPool::derive(keys, car.vid(), 0, 32).expect("pool");
    let pool_seed = PoolSeed::derive(keys.seed(), car.vid(), 0).expect("pool seed");
    let mut addresses: Vec<String> =
        pool_addresses_for_days(pool.addresses(), day(1), day(DAYS), car.vid(), &pool_seed)
            .expect("addresses")
            .into_iter()
            .map(|(_, address)| address.to_string())
            .collect();
    addresses.sort();
    addresses.dedup();
    let http = reqwest::Client::new();
    let (mut network, mut proofs, mut rsa, mut aead, mut decode) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let t = Instant::now();
        let fetched = fetch_all(&http, &node.base, &addresses).await;
        network.push(t.elapsed());
        assert_eq!(fetched.len(), records);
        let t = Instant::now();
        check_proofs(&fetched);
        proofs.push(t.elapsed());
        let t = Instant::now();
        let epochs = unwrap_epochs(&fetched, keys);
        rsa.push(t.elapsed());
        let t = Instant::now();
        let plaintexts = open_all(&fetched, &epochs);
        aead.push(t.elapsed());
        let t = Instant::now();
        let points: usize = decode_trips(&fetched, &plaintexts)
            .iter()
            .map(|trip| trip.summary().expect("summary").point_count)
            .sum();
        assert_eq!(points, records * POINTS);
        decode.push(t.elapsed());
    }
    let total = median(totals);
    let parts = [
        ("network (HTTP, no checks)", median(network)),
        ("state-proof checks", median(proofs)),
        ("RSA unwraps (one per address-day)", median(rsa)),
        ("AEAD opens", median(aead)),
        ("trip decoding + summaries", median(decode)),
    ];
    let sum: Duration = parts.iter().map(|(_, d)| *d).sum();
    println!("| a month of trips ({records} x {POINTS} points) | median of {RUNS} |");
    println!("|---|---|");
    println!("| light-client read (`Wallet::trips`, verified) | {total:.2?} |");
    for (name, d) in parts {
        println!("| primitive alone: {name} | {d:.2?} |");
    }
    println!("| sum of the primitives | {sum:.2?} |");
    println!(
        "| ratio read / sum (goal <= 2.0) | {:.2} |",
        total.as_secs_f64() / sum.as_secs_f64()
    );
}
