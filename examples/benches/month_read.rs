//! Reading back a month of one car's trips through the light client (plain `main`, no
//! harness): 30 days x 4 trips x 1,000 points put by a paired car on an in-process node
//! on loopback, then read on a shared node (the same data directory restarted in shared
//! mode) by the owner's wallet (`Wallet::trips` through `Wallet::paying_reads`: one read
//! token per address, each address on its own HTTP connection; cold caches: a fresh
//! wallet and light client each run; the tokens are bought before the clock starts).
//!
//! Beside it, in the same run, the primitives alone over the same data: the minimum HTTP
//! work without verification (one proven range page per address — each item carries its
//! registration and proof — with one token per address sent on one shared connection,
//! the node checking and durably spending it; the bytes on the wire are printed), the
//! state-proof checks, the RSA unwraps
//! (one per address-day), the AEAD opens, the stored-key opens (AES-SIV, the
//! plaintext keys) and the trip decoding. Goal: the light-client
//! read within 1.3x of their sum. Each run does the read, then the primitives, so both
//! see the same load of the machine. Also printed: the same raw calls with a fresh
//! connection per address (what that privacy rule costs), and a token purchase.
//!
//! Run: `cargo bench -p carchain-examples --bench month_read`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use std::sync::Arc;

use base64::Engine;
use carchain_core::light::LightClient;
use carchain_core::pool::{AddressPool, PoolSeed, pool_addresses_for_days};
use carchain_core::protocol::signing::sign_digest;
use carchain_core::protocol::{decode_state_proof, token_issue_digest, verify_state_proof};
use carchain_core::tokens::{IssuerPublicKey, batch_digest};
use carchain_node::api::{self, ApiConfig};
use carchain_node::node::{Node, NodeConfig};
use carchain_testkit::{AGENT, Mode, TestKey, init_chain, serve};
use serde_json::{Value, json};

use carchain_testkit::month::{DAYS, MONTH_TRIPS, POINTS, day, median};
use common::primitives::{
    RawRecord, SealedRecord, decode_trips, fetch_raw_paid, json_of, open_all, plain_keys,
    unwrap_epochs,
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
    fn format(&self) -> &'static str {
        "trip-gps"
    }
    fn envelope(&self) -> &[u8] {
        &self.envelope
    }
}

/// The minimum HTTP work of a verified read, without verifying anything (one proven
/// range page per address, proofs at `proofs_at`), decoded; and the answer bytes.
async fn fetch_all(
    base: &str,
    addresses: &[String],
    proofs_at: u64,
    tokens: &mut impl Iterator<Item = Vec<u8>>,
    fresh_connections: bool,
) -> (Vec<Fetched>, usize) {
    let fetch = fetch_raw_paid(
        base,
        addresses.iter().map(String::as_str),
        proofs_at,
        tokens,
        fresh_connections,
    )
    .await;
    assert_eq!(fetch.requests, addresses.len());
    let records = fetch
        .records
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
        .collect();
    (records, fetch.body_bytes)
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

/// Restarts the node of `data_dir` in shared mode (reads paid with tokens) and serves it
/// on a new loopback port; returns its base URL.
async fn restart_shared(data_dir: std::path::PathBuf) -> (String, Arc<Node>) {
    let node = Node::start(NodeConfig {
        data_dir,
        mode: Mode::Shared,
        block_time: Duration::from_millis(50),
        peers: Vec::new(),
        agent: AGENT.into(),
        max_mempool: 10_000,
    })
    .await
    .expect("restart shared");
    let app = api::router(Arc::clone(&node), ApiConfig::default());
    let (base, _server) = carchain_testkit::serve::serve_loopback(app).await;
    (base, node)
}

/// Buys `count` tokens for the raw calls, paid by `payer`: a transfer to the operator,
/// the blind signatures, finalized.
async fn buy_raw_tokens(
    light: &LightClient,
    base: &str,
    payer: &TestKey,
    count: usize,
) -> Vec<Vec<u8>> {
    let http = reqwest::Client::new();
    let key = json_of(http.get(format!("{base}/v1/tokens/key")), "key").await;
    let b64 = base64::engine::general_purpose::STANDARD;
    let public = IssuerPublicKey::from_der(
        &b64.decode(key["public_key"].as_str().expect("key"))
            .expect("b64"),
    )
    .expect("issuer key");
    let price = key["price"].as_u64().expect("price");
    let operator = light.status().await.expect("status").operator_address;
    let nonce = light.account(&payer.address).await.expect("account").nonce;
    let payment = payer.transfer(nonce, &operator, price * count as u64);
    let receipt = light.submit(&payment, true).await.expect("payment");
    let pending = public.blind(count).expect("blind");
    let blinded: Vec<&[u8]> = pending
        .iter()
        .map(carchain_core::tokens::PendingToken::blinded_message)
        .collect();
    let digest = token_issue_digest(&receipt.tx_id, &public.key_id().0, &batch_digest(&blinded));
    let issued: Value = http
        .post(format!("{base}/v1/tokens"))
        .json(&json!({
            "payment": hex::encode(receipt.tx_id),
            "blinded": blinded.iter().map(|b| b64.encode(b)).collect::<Vec<_>>(),
            "signature": hex::encode(sign_digest(&payer.secret, &digest).serialize_compact()),
        }))
        .send()
        .await
        .expect("issue")
        .json()
        .await
        .expect("issue json");
    pending
        .iter()
        .zip(issued["signatures"].as_array().expect("signatures"))
        .map(|(p, s)| {
            let signature = b64.decode(s.as_str().expect("text")).expect("b64");
            public.finalize(p, &signature).expect("finalize").to_bytes()
        })
        .collect()
}

async fn async_main() {
    let owner = BenchOwner::restore();
    let raw_reader = TestKey::from_byte(77);
    let chain = init_chain(&[
        (&owner.wallet.owner_address(), 1_000_000),
        (&raw_reader.address, 1_000_000),
    ]);
    let data_dir = chain.data_dir.clone();
    let private = serve(chain, Mode::Private).await;
    let light = private.client();
    let dir = tempfile::tempdir().expect("dir");
    let car = owner.paired_car(&light, &dir, "VIN-BENCH-MONTH").await;
    store_month(&car, &light, MONTH_TRIPS).await;
    let records = MONTH_TRIPS;
    private.node.shutdown().await;
    let (base, _shared) = restart_shared(data_dir).await;
    let anchor = private.anchor.clone();
    let plain = LightClient::new(vec![base.clone()], anchor.clone()).expect("client");

    // A token purchase of the owner's wallet (one payment waited into a block, 100 blind
    // signatures): timed once, outside the read.
    let purchase = Instant::now();
    let bought = owner
        .reopen()
        .paying_reads(plain.clone())
        .buy_read_tokens()
        .await
        .expect("buy tokens");
    let purchase = purchase.elapsed();
    eprintln!("bought {bought} tokens in {purchase:?}");

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
    let mut tokens = buy_raw_tokens(&plain, &base, &raw_reader, 2 * RUNS * addresses.len())
        .await
        .into_iter();
    let mut stored_keys = Vec::new();
    let (mut network, mut fresh, mut proofs, mut rsa, mut aead, mut decode) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    let proofs_at = plain.status().await.expect("status").height;
    let mut page_bytes = 0;
    // Run by run, the light-client read then the primitives, so that both see the same
    // load of this shared machine.
    let mut totals = Vec::new();
    for _ in 0..RUNS {
        // The light-client read, cold: the app reopened (same store, empty epoch-key
        // cache) with a new light client.
        let reader = owner.reopen();
        let client = reader
            .paying_reads(LightClient::new(vec![base.clone()], anchor.clone()).expect("client"));
        if client.read_tokens_held().await.expect("held") < 40 {
            client.buy_read_tokens().await.expect("buy tokens");
        }
        let started = Instant::now();
        let list = reader
            .trips(&client, car.vid(), day(1), day(DAYS))
            .await
            .expect("trips");
        totals.push(started.elapsed());
        assert_eq!(list.trips.len(), records);
        assert!(list.rejected.is_empty());

        let t = Instant::now();
        let (fetched, _) = fetch_all(&base, &addresses, proofs_at, &mut tokens, true).await;
        fresh.push(t.elapsed());
        assert_eq!(fetched.len(), records);
        let t = Instant::now();
        let (fetched, bytes) = fetch_all(&base, &addresses, proofs_at, &mut tokens, false).await;
        page_bytes = bytes;
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
        let keys = plain_keys(&fetched, &pool_seed);
        stored_keys.push(t.elapsed());
        let t = Instant::now();
        let points: usize = decode_trips(&keys, &plaintexts)
            .iter()
            .map(|trip| trip.summary().expect("summary").point_count)
            .sum();
        assert_eq!(points, records * POINTS);
        decode.push(t.elapsed());
    }
    let each_run = totals
        .iter()
        .map(|d| format!("{d:.2?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let total = median(totals);
    let parts = [
        (
            "network (one proven range page per address, a token each, no checks)",
            median(network),
        ),
        ("state-proof checks", median(proofs)),
        ("RSA unwraps (one per address-day)", median(rsa)),
        ("AEAD opens", median(aead)),
        ("stored-key opens (AES-SIV)", median(stored_keys)),
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
        "| ratio read / sum (goal <= 1.3) | {:.2} |",
        total.as_secs_f64() / sum.as_secs_f64()
    );
    println!(
        "| (info) the light-client read, run by run (the first caches the records, the others find them cached) | {each_run} |"
    );
    println!(
        "| (info) the range pages on the wire: {} requests, {page_bytes} body bytes |",
        addresses.len()
    );
    println!(
        "| (info) the raw calls with a fresh connection per address | {:.2?} |",
        median(fresh)
    );
    println!(
        "| (info) one purchase of {bought} tokens (payment waited into a block + blind signatures) | {purchase:.2?} |"
    );
}
