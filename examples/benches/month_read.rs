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

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use carchain_core::crypto::{Envelope, EpochKey, RecordContext, WrappedKey};
use carchain_core::keys::{Mnemonic, Network, RsaBits, WalletKeys};
use carchain_core::light::LightClient;
use carchain_core::pool::{AddressPool, PoolSeed, pool_addresses_for_days};
use carchain_core::protocol::{decode_state_proof, verify_state_proof};
use carchain_core::record::FormatSpec;
use carchain_core::store::{InMemorySecretStore, SecretStore};
use carchain_core::trip::{Trip, TripPoint};
use carchain_core::wallet::Wallet;
use chrono::{NaiveDate, NaiveTime};
use serde_json::Value;
use support::flows::{WORDS_A, car, pair};
use support::{Mode, start_node};

const DAYS: u32 = 30;
const TRIPS_PER_DAY: i64 = 4;
const POINTS: usize = 1_000;
const RUNS: usize = 3;

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 6, n).expect("date")
}

/// A 1,000-point trip, one point every 5 s, starting at 07:00 + 3 h per session.
fn long_trip(date: NaiveDate, session: i64) -> Trip {
    let start = date
        .and_time(NaiveTime::from_hms_opt(7, 0, 0).expect("time"))
        .and_utc()
        .timestamp()
        + session * 3 * 3600;
    let points = (0..POINTS)
        .map(|i| {
            let t = i as f64;
            TripPoint {
                lat: 31.2 + 0.0003 * t + 0.001 * (t / 37.0).sin(),
                lng: 121.4 + 0.0004 * t + 0.001 * (t / 53.0).cos(),
                speed_kmh: Some(25.0 + 30.0 * (t / 41.0).sin().abs()),
                time: start + 5 * i as i64,
            }
        })
        .collect();
    Trip {
        session_id: session,
        start,
        end: start + 5 * (POINTS as i64 - 1),
        points,
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// What the primitives need: every record's address, key, value and state answer.
struct Fetched {
    address: String,
    key: Vec<u8>,
    envelope: Vec<u8>,
    answer: Value,
}

/// The HTTP calls a verified read makes, without verifying anything: the KV range of
/// every address and the state answer of every record.
async fn fetch_raw(http: &reqwest::Client, base: &str, addresses: &[String]) -> Vec<Fetched> {
    let mut out = Vec::new();
    for address in addresses {
        let page: Value = http
            .get(format!("{base}/v1/kv/{address}?limit=1000"))
            .send()
            .await
            .expect("range")
            .json()
            .await
            .expect("range json");
        for item in page["items"].as_array().cloned().unwrap_or_default() {
            let key_hex = item["key"].as_str().expect("key").to_owned();
            let value = base64_decode(item["value"].as_str().expect("value"));
            let answer: Value = http
                .get(format!("{base}/v1/state/record/{address}/{key_hex}"))
                .send()
                .await
                .expect("state")
                .json()
                .await
                .expect("state json");
            out.push(Fetched {
                address: address.clone(),
                key: hex::decode(key_hex).expect("hex key"),
                envelope: value,
                answer,
            });
        }
    }
    out
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

/// The wrapped epoch key of a record, as the map key of its unwrapped form.
fn wrapped_of(record: &Fetched) -> Vec<u8> {
    Envelope::from_bytes(&record.envelope)
        .expect("envelope")
        .wrapped_epoch_key()
        .to_bytes()
        .expect("wrapped key")
}

/// One RSA unwrap per distinct epoch (address-day).
fn unwrap_epochs(fetched: &[Fetched], owner: &WalletKeys) -> BTreeMap<Vec<u8>, EpochKey> {
    let mut epochs = BTreeMap::new();
    for record in fetched {
        let wrapped = wrapped_of(record);
        if epochs.contains_key(&wrapped) {
            continue;
        }
        let key = WrappedKey::from_bytes(&wrapped)
            .expect("wrapped key")
            .unwrap_epoch_key(owner.rsa_private_key())
            .expect("unwrap");
        epochs.insert(wrapped, key);
    }
    epochs
}

fn open_all(fetched: &[Fetched], epochs: &BTreeMap<Vec<u8>, EpochKey>) -> Vec<Vec<u8>> {
    fetched
        .iter()
        .map(|record| {
            let ctx = RecordContext {
                address: &record.address,
                key_bytes: &record.key,
                format: "trip-gps",
            };
            Envelope::from_bytes(&record.envelope)
                .expect("envelope")
                .open_with_epoch_key(&ctx, &epochs[&wrapped_of(record)])
                .expect("open")
        })
        .collect()
}

fn decode_all(fetched: &[Fetched], plaintexts: &[Vec<u8>]) -> usize {
    let spec = FormatSpec::trip_gps();
    fetched
        .iter()
        .zip(plaintexts)
        .map(|(record, plain)| {
            let key = carchain_core::record::decode_key(&spec, &record.key).expect("key");
            let value: Value = serde_json::from_slice(plain).expect("json");
            Trip::decode(&key, &value)
                .and_then(|t| t.summary())
                .expect("trip")
                .point_count
        })
        .sum()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async_main());
}

async fn async_main() {
    let secrets: Arc<dyn SecretStore> = Arc::new(InMemorySecretStore::new());
    let store_dir = tempfile::tempdir().expect("dir");
    let store_path = store_dir.path().join("wallet.db");
    let owner = Wallet::restore(&store_path, secrets.clone(), Network::Regtest, WORDS_A, "")
        .expect("wallet");
    let node = start_node(&[(&owner.owner_address(), 1_000_000)], Mode::Private).await;
    let light = node.client();
    let dir = tempfile::tempdir().expect("dir");
    let car = car(&dir, "VIN-BENCH-MONTH");
    let text = car.pairing_payload(600).expect("payload").to_text();
    pair(&owner, &light, &car, "bench car", 32, text).await;

    let loading = Instant::now();
    for d in 1..=DAYS {
        for session in 0..TRIPS_PER_DAY {
            car.put_trip(&long_trip(day(d), session), 1, day(d))
                .expect("put");
        }
    }
    let report = car.flush(&light).await.expect("flush");
    let records = DAYS as usize * TRIPS_PER_DAY as usize;
    assert_eq!(report.delivered, records as u64);
    eprintln!("loaded {records} trips in {:?}", loading.elapsed());

    // The light-client read, cold: a fresh wallet (epoch cache) and client each run.
    let mut totals = Vec::new();
    for _ in 0..RUNS {
        // The app reopened: same store, empty epoch-key cache, a new light client.
        let reader = Wallet::open(&store_path, secrets.clone()).expect("reopen");
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
    let keys = WalletKeys::from_mnemonic(
        &Mnemonic::parse(WORDS_A).expect("words"),
        "",
        Network::Regtest,
        RsaBits::B2048,
    )
    .expect("keys");
    let pool = AddressPool::derive(&keys, car.vid(), 0, 32).expect("pool");
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
        let fetched = fetch_raw(&http, &node.base, &addresses).await;
        network.push(t.elapsed());
        assert_eq!(fetched.len(), records);
        let t = Instant::now();
        check_proofs(&fetched);
        proofs.push(t.elapsed());
        let t = Instant::now();
        let epochs = unwrap_epochs(&fetched, &keys);
        rsa.push(t.elapsed());
        let t = Instant::now();
        let plaintexts = open_all(&fetched, &epochs);
        aead.push(t.elapsed());
        let t = Instant::now();
        assert_eq!(decode_all(&fetched, &plaintexts), records * POINTS);
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
