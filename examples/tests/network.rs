//! CarChain's network end to end: 3 Cassandra nodes (`scripts/cassandra`, RF 3, QUORUM),
//! 4 CometBFT validators and 1 non-validator agency node (`scripts/cometbft testnet
//! --validators 4 --full-nodes 1`), every node a `carchain-node` keeping its records in
//! one shared keyspace (what `scripts/network up` starts, here on a free base port and a
//! keyspace of this run):
//!
//! - a car pairs and puts its trips through the agency node; the owner pairs and reads
//!   them through a validator;
//! - during ingest one validator (CometBFT and its app) and then one Cassandra node are
//!   killed with SIGKILL:
//!   blocks keep coming (3 of 4 validators), every acknowledged put reads back; the
//!   killed ones restart and catch up;
//! - every record put through the agency node reads back, proven against each node's
//!   own headers, through every one of the five nodes.
//!
//! Needs CometBFT (`scripts/setup` builds it) and the Cassandra jars with a JDK
//! (`scripts/setup` fetches them); fails, saying so, when they are absent.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

use carchain_testkit::node_process;
#[path = "../../node-lite/src/kv/cassandra/test_cluster.rs"]
mod test_cluster;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use carchain_core::light::{LightClient, TrustAnchor};
use carchain_core::protocol::Network;
use carchain_core::trip::Trip;
use carchain_testkit::car_records::{
    self, owner_keys, pair_patiently, pool_sessions, queue_trips, sessions_of, short_trip,
    wallet_and_car,
};
use carchain_testkit::cometbft::cometbft_bin;
use chrono::NaiveDate;
use serde_json::Value;
use test_cluster::{CLUSTER_URL, TestCluster};

const WORDS: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";
const VID: &str = "LBVNU79049SB81547";
const POOL: usize = 4;
const AGENT: &str = "carchain-node";
const CHAIN_ID: &str = "carchain-network-e2e";
/// Chain nodes: 4 validators (0..=3), then the agency node (4).
const NODES: usize = 5;
const AGENCY: usize = 4;
/// The validator killed during ingest.
const VICTIM: usize = 1;
/// Longest wait for a dead or returning node to be noticed.
const PATIENCE: Duration = Duration::from_secs(180);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A base port whose four ports are free on the five loopback addresses.
fn free_base_port() -> u16 {
    let start = 40_000 + (std::process::id() % 300) as u16 * 64;
    for attempt in 0..200u16 {
        let base = start.wrapping_add(attempt * 8);
        if !(20_000..=64_000).contains(&base) {
            continue;
        }
        let free = (1..=NODES).all(|i| {
            (0..4).all(|offset| TcpListener::bind(format!("127.0.0.{i}:{}", base + offset)).is_ok())
        });
        if free {
            return base;
        }
    }
    panic!("no free base port");
}

/// The chain's nodes, run by `scripts/cometbft` in `dir`; stopped on drop.
struct Chain {
    dir: PathBuf,
    /// Every node's HTTP API, by index.
    apis: Vec<String>,
}

impl Chain {
    fn script(&self, args: &[&str]) -> std::process::Output {
        Command::new(repo().join("scripts/cometbft"))
            .args(args)
            .arg("--dir")
            .arg(&self.dir)
            .env("CARCHAIN_NODE_BIN", node_process::node_binary())
            .env("COMETBFT_BIN", cometbft_bin())
            // Every node stores only its own devices' records (the car names the agent).
            .env("CARCHAIN_MODE", "private")
            .output()
            .expect("run scripts/cometbft")
    }

    /// `scripts/cometbft up`: starts every node that is not running, waits for blocks.
    fn up(&self) {
        let output = self.script(&["up"]);
        assert!(
            output.status.success(),
            "scripts/cometbft up: {}{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            self.logs()
        );
    }

    /// SIGKILL of node `i`'s CometBFT and app.
    fn kill(&self, i: usize) {
        for name in ["cometbft.pid", "app.pid"] {
            let pid = std::fs::read_to_string(self.dir.join(format!("node{i}/{name}")))
                .expect("pid file");
            let status = Command::new("kill")
                .args(["-KILL", pid.trim()])
                .status()
                .expect("kill");
            assert!(status.success(), "kill -KILL {pid}");
        }
    }

    fn logs(&self) -> String {
        (0..NODES)
            .map(|i| {
                let read = |name: &str| {
                    let text = std::fs::read_to_string(self.dir.join(format!("node{i}/{name}")))
                        .unwrap_or_default();
                    let lines: Vec<&str> = text.lines().collect();
                    lines[lines.len().saturating_sub(15)..].join("\n")
                };
                format!(
                    "--- node {i} cometbft ---\n{}\n--- node {i} app ---\n{}",
                    read("cometbft.log"),
                    read("app.log")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        let _ = self.script(&["down"]);
    }
}

/// A node's `/v1/status`.
async fn status(api: &str) -> Value {
    reqwest::get(format!("{api}/v1/status"))
        .await
        .expect("status")
        .json()
        .await
        .expect("status json")
}

async fn height(api: &str) -> u64 {
    match reqwest::get(format!("{api}/v1/status")).await {
        Ok(response) => response
            .json::<Value>()
            .await
            .ok()
            .and_then(|s| s["height"].as_u64())
            .unwrap_or(0),
        Err(_) => 0,
    }
}

/// Polls `/health` of `api` until it answers 200.
async fn wait_healthy(api: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok(response) = reqwest::get(format!("{api}/health")).await
            && response.status().as_u16() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "{api}: /health never 200");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Waits until node `api` has committed `target`.
/// Waits until node `i` has committed one block past the agency node's tip: an engine
/// commits the light block that certifies ledger block `H` with block `H + 1`, so from
/// then on the light client proves what block `H` registered.
async fn settle(chain: &Chain, i: usize) {
    let tip = height(&chain.apis[AGENCY]).await;
    wait_height(&chain.apis[i], tip + 1).await;
}

async fn wait_height(api: &str, target: u64) {
    let deadline = Instant::now() + PATIENCE;
    while height(api).await < target {
        assert!(
            Instant::now() < deadline,
            "{api}: never reached height {target}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The whole network story of the module documentation (about three minutes; logs kept in
/// target/tmp/network-PID on failure).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agency_node_ingest_survives_a_dead_validator_and_cassandra_node() {
    let started = Instant::now();
    let cluster = Arc::new(TestCluster::up());
    let keys = owner_keys(WORDS);
    let owner = keys.owner_address().to_string();

    // The chain, its records in one keyspace of this run shared by all five nodes.
    // Under the target directory, kept after a failure for its logs (removed on success).
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("network-{}", std::process::id()));
    let base = free_base_port().to_string();
    let kv = format!("{CLUSTER_URL}/net_{}", std::process::id());
    let fund = format!("{owner}=1000000");
    let mut chain = Chain {
        dir: dir.clone(),
        apis: Vec::new(),
    };
    let made = chain.script(&[
        "testnet",
        "--validators",
        "4",
        "--full-nodes",
        "1",
        "--base-port",
        &base,
        "--chain-id",
        CHAIN_ID,
        "--kv",
        &kv,
        "--fund",
        &fund,
    ]);
    assert!(
        made.status.success(),
        "testnet: {}{}",
        String::from_utf8_lossy(&made.stdout),
        String::from_utf8_lossy(&made.stderr)
    );
    // The light clients trust the engine's genesis validators, as the script wrote them.
    let validators = std::fs::read_to_string(dir.join("anchor.txt")).expect("anchor.txt");
    let rows = std::fs::read_to_string(dir.join("nodes.tsv")).expect("nodes.tsv");
    let roles: Vec<String> = rows
        .lines()
        .map(|row| row.split('\t').nth(5).expect("role").to_owned())
        .collect();
    assert_eq!(
        roles,
        ["validator", "validator", "validator", "validator", "full"]
    );
    chain.apis = rows
        .lines()
        .map(|row| {
            let cols: Vec<&str> = row.split('\t').collect();
            format!("http://{}:{}", cols[1], cols[4])
        })
        .collect();
    chain.up();
    for api in &chain.apis {
        wait_healthy(api).await;
        let status = status(api).await;
        assert_eq!(status["kv"]["backend"], "cassandra", "{status}");
    }
    // The agency node is a full node with no vote: CometBFT says so.
    let rpc = |i: usize| {
        format!(
            "http://127.0.0.{}:{}",
            i + 1,
            base.parse::<u16>().expect("port") + 1
        )
    };
    let engine: Value = reqwest::get(format!("{}/status", rpc(AGENCY)))
        .await
        .expect("rpc status")
        .json()
        .await
        .expect("rpc json");
    assert_eq!(
        engine["result"]["validator_info"]["voting_power"], "0",
        "{engine}"
    );
    eprintln!("network up after {:?}", started.elapsed());

    let anchor = TrustAnchor::from_hex(CHAIN_ID, Network::Regtest, &validators).expect("anchor");
    let client =
        |i: usize| LightClient::new(vec![chain.apis[i].clone()], anchor.clone()).expect("client");
    let agency = client(AGENCY);
    let validator = client(0);
    agency.sync(&|_| {}).await.expect("sync agency");
    validator.sync(&|_| {}).await.expect("sync validator");

    // The owner pairs through validator 0, the car through the agency node.
    let wallet_dir = tempfile::tempdir().expect("dir");
    let (wallet, car) = wallet_and_car(&wallet_dir, WORDS, VID, Duration::from_millis(20));
    // The offer's registration may land a moment before its value is stored (a quorum
    // write after the block): the car polls again, as it would.
    pair_patiently(&wallet, &validator, &car, &agency, (POOL, AGENT), PATIENCE).await;

    // Two days through the agency node, read back through validator 0.
    let mut trips: Vec<(NaiveDate, Trip)> = (1..=2).map(short_trip).collect();
    queue_trips(&car, &trips);
    car_records::flush_until_empty(&car, &agency, PATIENCE).await;
    settle(&chain, 0).await;
    assert_eq!(
        pool_sessions(&validator, &keys, (VID, POOL), &trips).await,
        sessions_of(&trips)
    );
    eprintln!(
        "paired and first puts read back after {:?}",
        started.elapsed()
    );

    // Three more days while validator 1 dies (SIGKILL of CometBFT and its app): blocks
    // keep coming (3 of 4 validators) and every acknowledged put reads back.
    let more: Vec<(NaiveDate, Trip)> = (3..=5).map(short_trip).collect();
    queue_trips(&car, &more);
    trips.extend(more);
    let before_kill = height(&chain.apis[AGENCY]).await;
    chain.kill(VICTIM);
    car_records::flush_until_empty(&car, &agency, PATIENCE).await;
    let while_down = height(&chain.apis[AGENCY]).await;
    wait_height(&chain.apis[0], while_down + 3).await;
    assert!(
        while_down > before_kill,
        "blocks kept coming: {before_kill} -> {while_down}"
    );
    settle(&chain, 0).await;
    assert_eq!(
        pool_sessions(&validator, &keys, (VID, POOL), &trips).await,
        sessions_of(&trips)
    );
    eprintln!(
        "ingest with a dead validator done after {:?}",
        started.elapsed()
    );
    // It comes back and replays the blocks it missed.
    chain.up();
    let tip = height(&chain.apis[0]).await;
    wait_height(&chain.apis[VICTIM], tip).await;
    wait_healthy(&chain.apis[VICTIM]).await;

    // Three more days while Cassandra node 2 dies: QUORUM is two of three, puts keep
    // being acknowledged and read back; it restarts and takes the hints it missed.
    let more: Vec<(NaiveDate, Trip)> = (6..=8).map(short_trip).collect();
    queue_trips(&car, &more);
    trips.extend(more);
    let killer = cluster.clone();
    let kill = tokio::task::spawn_blocking(move || killer.kill(2));
    car_records::flush_until_empty(&car, &agency, PATIENCE).await;
    kill.await.expect("kill Cassandra node 2");
    settle(&chain, 0).await;
    assert_eq!(
        pool_sessions(&validator, &keys, (VID, POOL), &trips).await,
        sessions_of(&trips)
    );
    eprintln!(
        "ingest with a dead Cassandra node done after {:?}",
        started.elapsed()
    );
    let starter = cluster.clone();
    tokio::task::spawn_blocking(move || starter.start(2))
        .await
        .expect("restart Cassandra node 2");
    for api in &chain.apis {
        wait_healthy(api).await;
    }
    // The hash of a block the victim missed is the same on it as on the others.
    let header = |api: String, h: u64| async move {
        let body: Value = reqwest::get(format!("{api}/v1/headers?from={h}&limit=1"))
            .await
            .expect("headers")
            .json()
            .await
            .expect("headers json");
        body["headers"][0].clone()
    };
    let missed = before_kill + 1;
    assert_eq!(
        header(chain.apis[VICTIM].clone(), missed).await,
        header(chain.apis[AGENCY].clone(), missed).await
    );

    // Every record put through the agency node reads back, proven, through every node
    // once it has committed past the agency node's last block (a node still catching up has
    // the values, which all nodes share, but not yet their registrations).
    for i in 0..NODES {
        settle(&chain, i).await;
        let light = client(i);
        light.sync(&|_| {}).await.expect("sync");
        assert_eq!(
            pool_sessions(&light, &keys, (VID, POOL), &trips).await,
            sessions_of(&trips),
            "through node {i}"
        );
    }
    eprintln!("whole test took {:?}", started.elapsed());
    drop(chain);
    drop(cluster);
    let _ = std::fs::remove_dir_all(&dir);
}
