//! Node throughput benchmark (plain `main`, no harness): an in-process node serving its
//! HTTP API on loopback, with blocks being produced. Measures, for signed record puts
//! (ledger registration + 1 KiB encrypted value):
//! - latency: clients that each wait for their put's block (p50/p99);
//! - sustained throughput through the batch endpoint `POST /v1/records` (what a car's
//!   offline queue sends): clients each send batches of signed puts with their values,
//!   waiting for each batch's answer — every put committed and stored. The transactions
//!   and bodies are signed and encoded before the clock starts (a car signs offline);
//! - sustained throughput one put at a time: clients that pipeline their registrations
//!   (`wait: false`, the last one waiting for its block), then store the values;
//!
//! and p50/p99 of a 30-record range query. Each phase runs on a fresh node and data dir;
//! the batch phase runs [`BATCH_RUNS`] times, each followed by a verify-rate run, and the
//! table gives the medians.
//! In the same run, the raw rusqlite insert rate
//! (1 KiB, one transaction, page_size 8192) and the secp256k1 verify rate. Prints a table
//! and sustained puts/s divided by min(raw insert, verify).
//!
//! Run: `cargo bench -p carchain-node --bench node_throughput`. To run some phases only
//! (profiling), name them: `CARCHAIN_BENCH_PHASES=batch` (any of `latency`, `pipelined`,
//! `batch`; the range phase needs `latency`). `CARCHAIN_BENCH_BATCH_CLIENTS=8` runs the
//! batch phase with 8 clients instead of 32 (same 160,000 puts). `RUST_LOG=carchain_node=debug` logs each
//! block's build and write times. To profile the batch phase's window only:
//! `mkfifo /tmp/ctl; CARCHAIN_BENCH_PERF_FIFO=/tmp/ctl perf record --control fifo:/tmp/ctl -D -1 <bench binary>`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

/// The `carchain-node` binary's allocator, so that the benchmark measures the node as it
/// ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::time::{Duration, Instant};

use carchain_core::protocol::hashing::sha256;
use carchain_core::protocol::signing::{
    public_key_of, secret_key_from_bytes, sign_digest, verify_digest,
};
use carchain_core::protocol::{Network, SignedTransaction};
use carchain_node::api::{self, ApiConfig};
use carchain_node::node::{FeeSchedule, InitOptions, Node, NodeConfig};
use carchain_node::service::NodeMode;
use serde_json::json;

#[path = "../tests/common/mod.rs"]
mod common;

use common::Wallet;
use common::batches::{VALUE_LEN, batch_body, send_batch, value_for};

/// Clients of the latency phase, each waiting for its put's block.
const LATENCY_CLIENTS: u8 = 16;
const LATENCY_PHASE: Duration = Duration::from_secs(6);
/// Clients of the sustained phase, each pipelining `PIPELINED_PUTS` registrations.
const PIPELINED_CLIENTS: u8 = 32;
const PIPELINED_PUTS: u64 = 250;
/// Puts of one batch-phase run: several seconds and ~35 full blocks of sustained load.
const BATCH_PUTS: u64 = 160_000;
/// Clients of the batch phase (cars uploading their queues at once), each sending its
/// share of `BATCH_PUTS` in batches of `BATCH_ITEMS`, unless `CARCHAIN_BENCH_BATCH_CLIENTS`
/// names another count (1 to 50). 32 keep the blocks full; fewer leave the node idle
/// part of the time (try 8).
const DEFAULT_BATCH_CLIENTS: u8 = 32;
const BATCH_ITEMS: u64 = 500;
/// Batch-phase runs, each on a fresh node: the table reports their median, and the
/// median of the verify rate measured after each (a single run on this shared machine
/// moves by ±10%).
const BATCH_RUNS: usize = 3;
const RANGE_QUERIES: usize = 300;
/// Range queries sent first and not timed: the first ones open the node's reader
/// connections and map the file's pages.
const RANGE_WARMUP: usize = 30;

/// Submits `tx`, asserting the expected status (200 committed, 202 queued).
async fn submit(http: &reqwest::Client, base: &str, tx: &SignedTransaction, wait: bool) {
    let response = http
        .post(format!("{base}/v1/tx"))
        .json(&json!({"tx": tx, "wait": wait}))
        .send()
        .await
        .expect("submit");
    let expected = if wait { 200 } else { 202 };
    assert_eq!(
        response.status(),
        expected,
        "{}",
        response.text().await.unwrap_or_default()
    );
}

/// Stores a registered value.
async fn store(http: &reqwest::Client, base: &str, wallet: &Wallet, key: &[u8], value: &[u8]) {
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

/// One signed put: ledger registration (waiting for its block) then the KV value.
async fn put(http: &reqwest::Client, base: &str, wallet: &Wallet, nonce: u64) {
    let value = value_for(nonce);
    let key = nonce.to_be_bytes();
    submit(http, base, &wallet.record_put(nonce, &key, &value), true).await;
    store(http, base, wallet, &key, &value).await;
}

/// A client's whole batch: registrations pipelined, then the values.
async fn pipelined_puts(http: &reqwest::Client, base: &str, wallet: &Wallet, count: u64) {
    for nonce in 0..count {
        let value = value_for(nonce);
        let last = nonce + 1 == count;
        submit(
            http,
            base,
            &wallet.record_put(nonce, &nonce.to_be_bytes(), &value),
            last,
        )
        .await;
    }
    for nonce in 0..count {
        store(http, base, wallet, &nonce.to_be_bytes(), &value_for(nonce)).await;
    }
}

/// The batch phase's client count (see [`DEFAULT_BATCH_CLIENTS`]).
fn batch_clients() -> u8 {
    std::env::var("CARCHAIN_BENCH_BATCH_CLIENTS")
        .ok()
        .and_then(|count| count.parse().ok())
        .filter(|count| (1..=50).contains(count))
        .unwrap_or(DEFAULT_BATCH_CLIENTS)
}

/// Batches each of `clients` sends in one batch-phase run.
fn batches_per_client(clients: u8) -> u64 {
    (BATCH_PUTS / (u64::from(clients) * BATCH_ITEMS)).max(1)
}

/// The JSON bodies of one client's `batches` batches, signed and encoded ahead of time.
fn batch_bodies(wallet: &Wallet, batches: u64) -> Vec<Vec<u8>> {
    (0..batches)
        .map(|batch| batch_body(wallet, batch * BATCH_ITEMS, BATCH_ITEMS))
        .collect()
}

/// Sends one client's batches in turn; asserts every item was stored.
async fn send_batches(http: &reqwest::Client, base: &str, bodies: Vec<Vec<u8>>) {
    for body in bodies {
        send_batch(http, base, body, BATCH_ITEMS).await;
    }
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[middle],
        _ => f64::midpoint(values[middle - 1], values[middle]),
    }
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

/// Whether `phase` runs: every phase unless `CARCHAIN_BENCH_PHASES` names some.
fn runs(phase: &str) -> bool {
    match std::env::var("CARCHAIN_BENCH_PHASES") {
        Ok(list) => list.split(',').any(|p| p.trim() == phase),
        Err(_) => true,
    }
}

fn main() {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async_main());
}

/// A node of its own for one phase: fresh data dir, its HTTP API on loopback.
struct BenchNode {
    /// Keeps the data dir alive while the node runs.
    _dir: tempfile::TempDir,
    node: Arc<Node>,
    base: String,
    operator_address: String,
}

async fn start_bench_node(reader: &Wallet) -> BenchNode {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("node");
    let summary = Node::init(
        &data_dir,
        &InitOptions {
            chain_id: common::CHAIN_ID.into(),
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
    let app = api::router(Arc::clone(&node), ApiConfig::default());
    let (base, _server) = carchain_testkit::serve::serve_loopback(app).await;
    BenchNode {
        _dir: dir,
        node,
        base,
        operator_address: summary.operator_address,
    }
}

/// Each phase runs on a fresh node, so none measures puts on another phase's ledger.
async fn async_main() {
    let reader = Wallet::from_byte(250);
    let http = reqwest::Client::new();

    let (latency, range) = if runs("latency") {
        let bench = start_bench_node(&reader).await;
        let latency = latency_phase(&http, &bench.base).await;
        let range = range_phase(&http, &bench.base, &reader, &bench.operator_address).await;
        bench.node.shutdown().await;
        (Some(latency), Some(range))
    } else {
        (None, None)
    };
    let pipelined = if runs("pipelined") {
        let bench = start_bench_node(&reader).await;
        let rate = pipelined_phase(&http, &bench.base).await;
        bench.node.shutdown().await;
        Some(rate)
    } else {
        None
    };
    // Each batch run is followed by a verify-rate run, so that each run's ratio compares
    // figures from the same stretch of time on a machine whose speed drifts.
    let raw = raw_insert_rate();
    let mut verifies = Vec::new();
    let mut batch_ratios = Vec::new();
    let batch = if runs("batch") {
        let mut rates = Vec::new();
        for run in 1..=BATCH_RUNS {
            let bench = start_bench_node(&reader).await;
            let rate = batch_phase(&http, &bench.base).await;
            let status: serde_json::Value = http
                .get(format!("{}/v1/status", bench.base))
                .send()
                .await
                .expect("status")
                .json()
                .await
                .expect("status json");
            bench.node.shutdown().await;
            let verify = verify_rate();
            let ratio = rate / raw.min(verify);
            println!(
                "batch run {run}: {rate:.0} puts/s in {} blocks; {verify:.0} verifies/s; ratio {ratio:.4}",
                status["height"],
            );
            rates.push(rate);
            verifies.push(verify);
            batch_ratios.push(ratio);
        }
        Some(median(rates))
    } else {
        None
    };

    if verifies.is_empty() {
        verifies.push(verify_rate());
    }
    let verify = median(verifies);
    let bound = raw.min(verify);
    let rate = |rate: Option<f64>| rate.map_or("skipped".to_string(), |r| format!("{r:.0}"));
    let ratio =
        |rate: Option<f64>| rate.map_or("skipped".to_string(), |r| format!("{:.4}", r / bound));
    let p50_p99 = |sorted: Option<&Vec<Duration>>| {
        sorted.map_or("skipped".to_string(), |sorted| {
            format!(
                "{:?} / {:?}",
                percentile(sorted, 0.5),
                percentile(sorted, 0.99)
            )
        })
    };
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| sustained signed puts/s through POST /v1/records ({} clients x {} batches of {BATCH_ITEMS}, 50 ms blocks; median of {BATCH_RUNS} runs) | {} |",
        batch_clients(),
        batches_per_client(batch_clients()),
        rate(batch)
    );
    println!(
        "| sustained signed puts/s one at a time ({PIPELINED_CLIENTS} clients x {PIPELINED_PUTS} pipelined puts) | {} |",
        rate(pipelined)
    );
    println!(
        "| signed puts/s, each client waiting for its block ({LATENCY_CLIENTS} clients) | {} |",
        rate(latency.as_ref().map(|(r, _)| *r))
    );
    println!(
        "| put latency p50 / p99 (waiting for the block) | {} |",
        p50_p99(latency.as_ref().map(|(_, l)| l))
    );
    println!(
        "| 30-record range p50 / p99 | {} |",
        p50_p99(range.as_ref())
    );
    println!("| raw rusqlite inserts/s (1 KiB, one tx, 8 KiB pages) | {raw:.0} |");
    println!("| secp256k1 verifies/s (median of the runs after each batch run) | {verify:.0} |");
    let batch_ratio = if batch_ratios.is_empty() {
        "skipped".to_string()
    } else {
        format!("{:.4}", median(batch_ratios))
    };
    println!(
        "| ratio batch puts/s / min(raw insert, verify), median of the runs' ratios (goal 0.5) | {batch_ratio} |"
    );
    println!(
        "| ratio one-at-a-time puts/s / min(raw insert, verify) | {} |",
        ratio(pipelined)
    );
}

/// Latency: each client waits for its put's block. Returns puts/s and sorted latencies.
async fn latency_phase(http: &reqwest::Client, base: &str) -> (f64, Vec<Duration>) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..LATENCY_CLIENTS {
        let http = http.clone();
        let base = base.to_string();
        tasks.push(tokio::spawn(async move {
            let wallet = Wallet::from_byte(c + 1);
            let mut latencies = Vec::new();
            let mut nonce = 0u64;
            while started.elapsed() < LATENCY_PHASE {
                let begin = Instant::now();
                put(&http, &base, &wallet, nonce).await;
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
    let waiting_rate = latencies.len() as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    (waiting_rate, latencies)
}

/// Sustained: pipelined registrations, every put committed and stored at the end.
async fn pipelined_phase(http: &reqwest::Client, base: &str) -> f64 {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..PIPELINED_CLIENTS {
        let http = http.clone();
        let base = base.to_string();
        tasks.push(tokio::spawn(async move {
            let wallet = Wallet::from_byte(100 + c);
            pipelined_puts(&http, &base, &wallet, PIPELINED_PUTS).await;
        }));
    }
    for task in tasks {
        task.await.expect("client");
    }
    let sustained_puts = u64::from(PIPELINED_CLIENTS) * PIPELINED_PUTS;
    sustained_puts as f64 / started.elapsed().as_secs_f64()
}

/// This process's CPU time so far (user + system), from `/proc/self/stat` (Linux only:
/// `None` elsewhere). Clock ticks are taken as 100 per second (Linux's USER_HZ).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Tells a profiler to start or stop sampling, so that a profile covers the batch phase's
/// window only: `perf record --control fifo:PATH -D -1` with `CARCHAIN_BENCH_PERF_FIFO=PATH`.
/// Does nothing when the variable is unset.
fn profiler_control(command: &str) {
    use std::io::Write;
    if let Ok(path) = std::env::var("CARCHAIN_BENCH_PERF_FIFO") {
        let written = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|mut fifo| fifo.write_all(format!("{command}\n").as_bytes()));
        if let Err(error) = written {
            eprintln!("profiler control {path}: {error}");
        }
    }
}

/// Sustained through the batch endpoint. Returns puts/s.
async fn batch_phase(http: &reqwest::Client, base: &str) -> f64 {
    let clients = batch_clients();
    let batches = batches_per_client(clients);
    let prepared: Vec<Vec<Vec<u8>>> = (0..clients)
        .map(|c| batch_bodies(&Wallet::from_byte(200 + c), batches))
        .collect();
    let started = Instant::now();
    let cpu_before = process_cpu_seconds();
    profiler_control("enable");
    let mut tasks = Vec::new();
    for bodies in prepared {
        let http = http.clone();
        let base = base.to_string();
        tasks.push(tokio::spawn(async move {
            send_batches(&http, &base, bodies).await;
        }));
    }
    for task in tasks {
        task.await.expect("client");
    }
    let batch_puts = u64::from(clients) * batches * BATCH_ITEMS;
    let elapsed = started.elapsed().as_secs_f64();
    profiler_control("disable");
    if let (Some(before), Some(after)) = (cpu_before, process_cpu_seconds()) {
        println!(
            "batch phase: {:.2} s, {:.2} CPU s (clients and node), {:.0} us of CPU per put",
            elapsed,
            after - before,
            (after - before) * 1e6 / batch_puts as f64
        );
    }
    batch_puts as f64 / elapsed
}

/// 30-record range queries over client 1's address (the latency phase wrote well over
/// 30 records there), each paid by its own read token (bought in one payment before the
/// clock starts; each query verifies and durably spends one). Returns the sorted
/// latencies.
async fn range_phase(
    http: &reqwest::Client,
    base: &str,
    reader: &Wallet,
    operator: &str,
) -> Vec<Duration> {
    let address = Wallet::from_byte(1).address;
    let counts = (RANGE_WARMUP, RANGE_QUERIES);
    common::timed_paid_pages(http, base, (reader, operator), &address, counts).await
}
