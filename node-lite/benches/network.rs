//! Network benchmark (plain `main`, no harness): the same signed-record workload against
//! the embedded single node (one process, SQLite, its default 200 ms blocks) and against
//! the network (4 CometBFT validators, each a `carchain-node` keeping its records in one
//! keyspace of the local 3-node Cassandra cluster, RF 3, QUORUM), in the same run:
//!
//! - ingest: [`INGEST_CLIENTS`] clients, each one address, send [`INGEST_BATCHES`]
//!   batches of [`BATCH_ITEMS`] signed puts (1 KiB values) through `POST /v1/records`,
//!   each waiting for its answer (every put committed and stored); on the network the
//!   clients spread over the four validators; each client's first
//!   [`INGEST_WARMUP_BATCHES`] batches go untimed first (the JVMs compile their hot
//!   paths). Puts/s, and network / single;
//! - put latency: [`LATENCY_CLIENTS`] clients each sending one put at a time for
//!   [`LATENCY_PHASE`]; p50/p99, and p99 in block intervals (measured over the phase);
//! - range reads: [`RANGE_QUERIES`] 30-record pages of one address (each paid with a read
//!   token), p50/p99: SQLite against Cassandra;
//! - the resident memory of every process (nodes, CometBFT, Cassandra).
//!
//! Run: `cargo bench -p carchain-node --bench network` (needs what `scripts/setup`
//! installs: CometBFT and the Cassandra jars with a JDK; about five minutes).
//! `CARCHAIN_BENCH_KEEP=1` keeps the network's directory (every node's `app.log`) under
//! `target/tmp`; with `RUST_LOG=carchain_node::node::records=debug` each batch's
//! admission, block and storing times are logged there.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../src/kv/cassandra/test_cluster.rs"]
mod test_cluster;

use carchain_testkit::cometbft::cometbft_bin;
use common::batches::{batch_body, send_batch};
use common::{NodeProcess, Wallet};
use test_cluster::{CLUSTER_URL, TestCluster};

/// The ingest workload's default shape; `CARCHAIN_BENCH_INGEST=CLIENTSxBATCHESxITEMS`
/// (e.g. `32x5x100`) sets another, the same for both targets. By default enough puts
/// are in flight (32 x 250) that neither target waits on its block interval.
const INGEST_CLIENTS: u8 = 32;
const INGEST_BATCHES: u64 = 5;
/// The first batches of every client, sent before the clock starts (part of the
/// batches above).
const INGEST_WARMUP_BATCHES: u64 = 2;
const BATCH_ITEMS: u64 = 250;
const LATENCY_CLIENTS: u8 = 4;
const LATENCY_PHASE: Duration = Duration::from_secs(10);
const RANGE_QUERIES: usize = 200;
/// Range queries sent first and not timed.
const RANGE_WARMUP: usize = 20;
/// The embedded node's default block interval (`carchain-node run`).
const SINGLE_BLOCK_MS: u64 = 200;

/// One node under test: its API and the processes whose memory is reported.
struct Target {
    apis: Vec<String>,
    operator: String,
    processes: Vec<(String, u32)>,
}

/// Every ingest client's wallet (client `c` writes address `c`).
fn ingest_wallet(c: u8) -> Wallet {
    Wallet::from_byte(1 + c)
}

fn latency_wallet(c: u8) -> Wallet {
    Wallet::from_byte(100 + c)
}

fn reader() -> Wallet {
    Wallet::from_byte(250)
}

/// The ingest workload: clients (one address each), batches per client, items a batch.
#[derive(Clone, Copy)]
struct IngestShape {
    clients: u8,
    batches: u64,
    items: u64,
}

impl IngestShape {
    /// [`INGEST_CLIENTS`] x [`INGEST_BATCHES`] x [`BATCH_ITEMS`], or what
    /// `CARCHAIN_BENCH_INGEST` names.
    fn from_env() -> Self {
        let default = IngestShape {
            clients: INGEST_CLIENTS,
            batches: INGEST_BATCHES,
            items: BATCH_ITEMS,
        };
        let Ok(spec) = std::env::var("CARCHAIN_BENCH_INGEST") else {
            return default;
        };
        let parts: Vec<u64> = spec
            .split('x')
            .map(|part| part.trim().parse().expect("CARCHAIN_BENCH_INGEST: CxBxI"))
            .collect();
        let [clients, batches, items] = parts[..] else {
            panic!("CARCHAIN_BENCH_INGEST: three numbers, CLIENTSxBATCHESxITEMS");
        };
        assert!((1..=90).contains(&clients), "1 to 90 ingest clients");
        assert!(
            batches > INGEST_WARMUP_BATCHES,
            "more batches than the warm-up's"
        );
        IngestShape {
            clients: clients as u8,
            batches,
            items,
        }
    }

    fn puts(self) -> u64 {
        u64::from(self.clients) * self.batches * self.items
    }
}

async fn ingest_phase(http: &reqwest::Client, apis: &[String]) -> f64 {
    let shape = IngestShape::from_env();
    let prepared: Vec<(String, Vec<Vec<u8>>)> = (0..shape.clients)
        .map(|c| {
            let wallet = ingest_wallet(c);
            let api = apis[usize::from(c) % apis.len()].clone();
            let bodies = (0..shape.batches)
                .map(|b| batch_body(&wallet, b * shape.items, shape.items))
                .collect();
            (api, bodies)
        })
        .collect();
    // The first batches of every client are not timed: the network's Cassandra nodes
    // are JVMs started moments ago, still compiling their hot paths.
    let (warmup, timed): (Vec<_>, Vec<_>) = prepared
        .into_iter()
        .map(|(api, mut bodies)| {
            let rest = bodies.split_off(INGEST_WARMUP_BATCHES as usize);
            ((api.clone(), bodies), (api, rest))
        })
        .unzip();
    send_all(http, warmup, shape.items).await;
    let started = Instant::now();
    send_all(http, timed, shape.items).await;
    (shape.puts() - u64::from(shape.clients) * INGEST_WARMUP_BATCHES) as f64
        / started.elapsed().as_secs_f64()
}

/// Every client sends its batches one after another, the clients at once.
async fn send_all(http: &reqwest::Client, clients: Vec<(String, Vec<Vec<u8>>)>, items: u64) {
    let mut tasks = Vec::new();
    for (api, bodies) in clients {
        let http = http.clone();
        tasks.push(tokio::spawn(async move {
            for body in bodies {
                send_batch(&http, &api, body, items).await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("ingest client");
    }
}

async fn height(http: &reqwest::Client, api: &str) -> u64 {
    let status: Value = http
        .get(format!("{api}/v1/status"))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("status json");
    status["height"].as_u64().expect("height")
}

/// Sorted put latencies, and the mean block interval over the phase.
async fn latency_phase(http: &reqwest::Client, apis: &[String]) -> (Vec<Duration>, Duration) {
    let first = height(http, &apis[0]).await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..LATENCY_CLIENTS {
        let http = http.clone();
        let api = apis[usize::from(c) % apis.len()].clone();
        tasks.push(tokio::spawn(async move {
            let wallet = latency_wallet(c);
            let mut latencies = Vec::new();
            let mut nonce = 0u64;
            while started.elapsed() < LATENCY_PHASE {
                let body = batch_body(&wallet, nonce, 1);
                let begin = Instant::now();
                send_batch(&http, &api, body, 1).await;
                latencies.push(begin.elapsed());
                nonce += 1;
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("latency client"));
    }
    let blocks = height(http, &apis[0]).await.saturating_sub(first).max(1);
    let interval = started.elapsed() / u32::try_from(blocks).unwrap_or(u32::MAX);
    latencies.sort();
    (latencies, interval)
}

/// Sorted latencies of 30-record pages of ingest client 0's address.
async fn range_phase(http: &reqwest::Client, api: &str, operator: &str) -> Vec<Duration> {
    let address = ingest_wallet(0).address;
    let counts = (RANGE_WARMUP, RANGE_QUERIES);
    common::timed_paid_pages(http, api, (&reader(), operator), &address, counts).await
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len().max(1)) - 1;
    sorted.get(at).copied().unwrap_or_default()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Resident memory of `pid` in MiB (0 when it is gone).
fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The funded accounts of both chains: the reader pays for its read tokens.
fn funds() -> Vec<(String, u64)> {
    vec![(reader().address, 1_000_000)]
}

/// The 4-validator network, stopped (and its directory removed) on drop.
struct Network {
    dir: PathBuf,
}

impl Network {
    fn script(&self, args: &[&str]) {
        let output = Command::new(repo().join("scripts/cometbft"))
            .args(args)
            .arg("--dir")
            .arg(&self.dir)
            .env("CARCHAIN_NODE_BIN", common::BIN)
            .env("COMETBFT_BIN", cometbft_bin())
            .output()
            .expect("run scripts/cometbft");
        assert!(
            output.status.success(),
            "scripts/cometbft {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn start(dir: PathBuf) -> (Self, Target) {
        let network = Self { dir };
        let hosts = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"];
        let base = common::cometbft::free_base_port(30_000, 400, &hosts).to_string();
        let kv = format!("{CLUSTER_URL}/bench_{}", std::process::id());
        let mut args = vec![
            "testnet".to_owned(),
            "--validators".into(),
            "4".into(),
            "--base-port".into(),
            base,
            "--chain-id".into(),
            // The chain id the test wallets sign for.
            common::CHAIN_ID.into(),
            "--kv".into(),
            kv,
        ];
        for (address, amount) in funds() {
            args.push("--fund".into());
            args.push(format!("{address}={amount}"));
        }
        network.script(&args.iter().map(String::as_str).collect::<Vec<_>>());
        network.script(&["up"]);
        let init = std::fs::read_to_string(network.dir.join("init.txt")).expect("init.txt");
        let operator = init
            .lines()
            .find_map(|line| line.strip_prefix("operator_address:"))
            .map(|rest| rest.trim().to_owned())
            .expect("operator address");
        let rows = std::fs::read_to_string(network.dir.join("nodes.tsv")).expect("nodes.tsv");
        let apis = rows
            .lines()
            .map(|row| {
                let cols: Vec<&str> = row.split('\t').collect();
                format!("http://{}:{}", cols[1], cols[4])
            })
            .collect();
        let mut processes = Vec::new();
        for i in 0..4 {
            for (name, file) in [("carchain-node", "app.pid"), ("cometbft", "cometbft.pid")] {
                let pid = std::fs::read_to_string(network.dir.join(format!("node{i}/{file}")))
                    .expect("pid file");
                processes.push((format!("{name} {i}"), pid.trim().parse().expect("pid")));
            }
        }
        let target = Target {
            apis,
            operator,
            processes,
        };
        (network, target)
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/cometbft"))
            .args(["down", "--dir"])
            .arg(&self.dir)
            .output();
        if std::env::var_os("CARCHAIN_BENCH_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Cassandra nodes' processes (`scripts/cassandra` keeps their pids).
fn cassandra_processes() -> Vec<(String, u32)> {
    let run = std::env::var_os("CARCHAIN_CASSANDRA_RUN")
        .map_or_else(|| PathBuf::from("/tmp/carchain-cassandra"), PathBuf::from);
    (1..=3)
        .filter_map(|i| {
            let pid = std::fs::read_to_string(run.join(format!("node{i}/pid"))).ok()?;
            Some((format!("cassandra {i}"), pid.trim().parse().ok()?))
        })
        .collect()
}

/// What one target measured.
struct Measured {
    puts_per_s: f64,
    latencies: Vec<Duration>,
    block_interval: Duration,
    range: Vec<Duration>,
    rss: Vec<(String, f64)>,
}

async fn measure(http: &reqwest::Client, target: &Target) -> Measured {
    let puts_per_s = ingest_phase(http, &target.apis).await;
    let (latencies, block_interval) = latency_phase(http, &target.apis).await;
    let range = range_phase(http, &target.apis[0], &target.operator).await;
    let rss = target
        .processes
        .iter()
        .map(|(name, pid)| (name.clone(), rss_mib(*pid)))
        .collect();
    Measured {
        puts_per_s,
        latencies,
        block_interval,
        range,
        rss,
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async_main());
}

async fn async_main() {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");

    // The embedded single node.
    let funded: Vec<(String, u64)> = funds();
    let funded_refs: Vec<(&str, u64)> = funded.iter().map(|(a, n)| (a.as_str(), *n)).collect();
    let chain = common::init_chain(&funded_refs);
    let single_process =
        NodeProcess::start_with_block_time(&chain.data_dir(), SINGLE_BLOCK_MS, &[]);
    let single_target = Target {
        apis: vec![single_process.base.clone()],
        operator: chain.operator_address.clone(),
        processes: vec![("carchain-node".into(), single_process.child.id())],
    };
    let single = measure(&http, &single_target).await;
    drop(single_process);

    // The network on Cassandra.
    let cluster = TestCluster::up();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("bench-network-{}", std::process::id()));
    let (network, network_target) = Network::start(dir);
    let mut network_target = network_target;
    network_target.processes.extend(cassandra_processes());
    let net = measure(&http, &network_target).await;
    drop(network);
    drop(cluster);

    report(&single, &net);
}

fn report(single: &Measured, net: &Measured) {
    let row = |name: &str, m: &Measured| {
        println!(
            "{name:<28} {:>9.0} {:>9.1} {:>9.1} {:>10.0} {:>9.2} {:>9.2} {:>9.2}",
            m.puts_per_s,
            ms(percentile(&m.latencies, 0.50)),
            ms(percentile(&m.latencies, 0.99)),
            ms(m.block_interval),
            ms(percentile(&m.latencies, 0.99)) / ms(m.block_interval),
            ms(percentile(&m.range, 0.50)),
            ms(percentile(&m.range, 0.99)),
        );
    };
    println!(
        "{:<28} {:>9} {:>9} {:>9} {:>10} {:>9} {:>9} {:>9}",
        "target", "puts/s", "p50 ms", "p99 ms", "block ms", "p99/blk", "rng p50", "rng p99"
    );
    row("single node (SQLite)", single);
    row("4 validators (Cassandra)", net);
    println!(
        "network ingest / single node: {:.2} (goal >= 0.3); network put p99: {:.1} block \
         intervals (goal <= 3); Cassandra range p99: {:.2} ms (goal < 10)",
        net.puts_per_s / single.puts_per_s,
        ms(percentile(&net.latencies, 0.99)) / ms(net.block_interval),
        ms(percentile(&net.range, 0.99)),
    );
    println!(
        "{} puts per ingest run, {} latency samples (single) / {} (network)",
        IngestShape::from_env().puts(),
        single.latencies.len(),
        net.latencies.len()
    );
    println!("resident memory (MiB):");
    for (name, mib) in single.rss.iter().chain(&net.rss) {
        println!("  {name:<20} {mib:>8.1}");
    }
}
