//! Node throughput benchmark (plain `main`, no harness): an in-process node serving its
//! HTTP API on loopback, with blocks being produced. Measures signed, committed record
//! puts per second (ledger registration + 1 KiB encrypted value) from concurrent clients,
//! p50/p99 put latency, p50/p99 of a 30-record range query, and in the same run the raw
//! rusqlite insert rate (1 KiB, one transaction, page_size 8192) and the secp256k1
//! verify rate. Prints a table and puts/s divided by min(raw insert, verify).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bitcoin::secp256k1::SecretKey;
use carchain_core::protocol::hashing::sha256;
use carchain_core::protocol::signing::{
    p2wpkh_address, public_key_of, secret_key_from_bytes, sign_digest, verify_digest,
};
use carchain_core::protocol::{
    HashFunc, Network, RecordPut, SignedTransaction, Transaction, Transfer, TxBody,
};
use carchain_node::api::{self, ApiConfig};
use carchain_node::node::{FeeSchedule, InitOptions, Node, NodeConfig};
use carchain_node::service::NodeMode;
use serde_json::json;

const CLIENTS: u8 = 16;
const PUT_PHASE: Duration = Duration::from_secs(12);
const RANGE_QUERIES: usize = 300;
const VALUE_LEN: usize = 1024;
const CHAIN_ID: &str = "carchain-bench";

struct Wallet {
    secret: SecretKey,
    address: String,
}

impl Wallet {
    fn new(byte: u8) -> Self {
        let secret = secret_key_from_bytes(&[byte; 32]).expect("secret");
        let address = p2wpkh_address(&public_key_of(&secret), Network::Regtest);
        Wallet { secret, address }
    }

    fn sign(&self, nonce: u64, fee: u64, body: TxBody) -> SignedTransaction {
        Transaction {
            chain_id: CHAIN_ID.into(),
            network: Network::Regtest,
            signer: public_key_of(&self.secret),
            nonce,
            fee,
            body,
        }
        .sign(&self.secret)
        .expect("sign")
    }

    fn record_put(&self, nonce: u64, key: &[u8], value: &[u8]) -> SignedTransaction {
        self.sign(
            nonce,
            10 + value.len() as u64,
            TxBody::RecordPut(RecordPut {
                address: self.address.clone(),
                key: key.to_vec(),
                format: "carvio".into(),
                hash_func: HashFunc::Sha256,
                d_hash: sha256(&[b"salt", value]),
                c_hash: sha256(&[value]),
                size: value.len() as u64,
                wallet: false,
            }),
        )
    }
}

/// One signed put: ledger registration (waiting for its block) then the KV value.
async fn put(
    http: &reqwest::Client,
    base: &str,
    wallet: &Wallet,
    nonce: u64,
    key: &[u8],
    value: &[u8],
) {
    let tx = wallet.record_put(nonce, key, value);
    let response = http
        .post(format!("{base}/v1/tx"))
        .json(&json!({"tx": tx, "wait": true}))
        .send()
        .await
        .expect("submit");
    assert_eq!(
        response.status(),
        200,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let response = http
        .put(format!(
            "{base}/v1/kv/{}/{}",
            wallet.address,
            hex::encode(key)
        ))
        .body(value.to_vec())
        .send()
        .await
        .expect("kv put");
    assert_eq!(response.status(), 201);
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

fn raw_insert_rate() -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut conn = rusqlite::Connection::open(dir.path().join("raw.sqlite")).expect("open");
    conn.execute_batch(
        "PRAGMA page_size = 8192; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE kv (address TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
                          PRIMARY KEY (address, key)) WITHOUT ROWID;",
    )
    .expect("schema");
    let rows = 20_000u64;
    let value = vec![7u8; VALUE_LEN];
    let start = Instant::now();
    let tx = conn.transaction().expect("tx");
    {
        let mut insert = tx
            .prepare("INSERT INTO kv VALUES (?1, ?2, ?3)")
            .expect("prepare");
        for i in 0..rows {
            insert
                .execute(rusqlite::params![
                    "bcrt1qbench",
                    i.to_be_bytes().to_vec(),
                    value
                ])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
    rows as f64 / start.elapsed().as_secs_f64()
}

fn verify_rate() -> f64 {
    let secret = secret_key_from_bytes(&[3; 32]).expect("secret");
    let public = public_key_of(&secret);
    let digest = sha256(&[b"bench"]);
    let signature = sign_digest(&secret, &digest);
    let rounds = 20_000u32;
    let start = Instant::now();
    for _ in 0..rounds {
        verify_digest(&public, std::hint::black_box(&digest), &signature, "bench").expect("verify");
    }
    f64::from(rounds) / start.elapsed().as_secs_f64()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async_main());
}

async fn async_main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("node");
    let reader = Wallet::new(250);
    let summary = Node::init(
        &data_dir,
        &InitOptions {
            chain_id: CHAIN_ID.into(),
            network: Network::Regtest,
            total_supply: 21_000_000_000,
            initial_balances: vec![(reader.address.clone(), 1_000_000)],
            fees: FeeSchedule::default(),
        },
    )
    .expect("init");
    let node = Node::start(NodeConfig {
        data_dir,
        mode: NodeMode::Shared,
        block_time: Duration::from_millis(50),
        peers: Vec::new(),
        agent: "bench".into(),
        max_mempool: 100_000,
    })
    .await
    .expect("start");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let app = api::router(Arc::clone(&node), ApiConfig::default());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();

    // Sustained signed puts from concurrent clients.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let http = http.clone();
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            let wallet = Wallet::new(c + 1);
            let mut latencies = Vec::new();
            let mut nonce = 0u64;
            while started.elapsed() < PUT_PHASE {
                let value: Vec<u8> = (0..VALUE_LEN).map(|i| (i as u64 ^ nonce) as u8).collect();
                let begin = Instant::now();
                put(&http, &base, &wallet, nonce, &nonce.to_be_bytes(), &value).await;
                latencies.push(begin.elapsed());
                nonce += 1;
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("client"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let puts_per_second = latencies.len() as f64 / elapsed.as_secs_f64();

    // 30-record range queries over client 1's address (it wrote well over 30 records).
    let ticket = reader.sign(
        0,
        10,
        TxBody::Transfer(Transfer {
            to: summary.operator_address.clone(),
            amount: 100_000,
        }),
    );
    let response = http
        .post(format!("{base}/v1/tx"))
        .json(&json!({"tx": ticket, "wait": true}))
        .send()
        .await
        .expect("ticket");
    assert_eq!(response.status(), 200);
    let ticket_hex = hex::encode(ticket.id());
    let address = Wallet::new(1).address;
    let mut range_latencies = Vec::new();
    for _ in 0..RANGE_QUERIES {
        let begin = Instant::now();
        let page: serde_json::Value = http
            .get(format!("{base}/v1/kv/{address}?limit=30"))
            .header("x-carchain-ticket", &ticket_hex)
            .send()
            .await
            .expect("range")
            .json()
            .await
            .expect("range json");
        range_latencies.push(begin.elapsed());
        assert_eq!(
            page["items"].as_array().map(Vec::len),
            Some(30),
            "30-record page"
        );
    }
    range_latencies.sort();
    node.shutdown().await;

    let raw = raw_insert_rate();
    let verify = verify_rate();
    let bound = raw.min(verify);
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| signed puts/s ({CLIENTS} clients, 50 ms blocks, {} puts) | {puts_per_second:.0} |",
        latencies.len()
    );
    println!(
        "| put latency p50 / p99 | {:?} / {:?} |",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
    println!(
        "| 30-record range p50 / p99 | {:?} / {:?} |",
        percentile(&range_latencies, 0.5),
        percentile(&range_latencies, 0.99)
    );
    println!("| raw rusqlite inserts/s (1 KiB, one tx, 8 KiB pages) | {raw:.0} |");
    println!("| secp256k1 verifies/s | {verify:.0} |");
    println!(
        "| ratio puts/s / min(raw insert, verify) | {:.4} |",
        puts_per_second / bound
    );
}
