//! Records in a real 3-node Cassandra cluster (`scripts/cassandra`, replication factor 3,
//! QUORUM) behind a real `carchain-node --kv cassandra://...` process, with faults:
//!
//! - a car pairs and flushes trips; the owner reads them back and opens them;
//! - one Cassandra node is killed with SIGKILL during ingest: puts keep being
//!   acknowledged (two of three replicas), and every acknowledged put reads back;
//! - the killed node restarts and catches up (the others hand it the writes it missed);
//! - with two nodes down the node keeps running, `/health` answers 503 `kv_unavailable`,
//!   `/v1/status` says the store is unavailable, and the car's puts are refused with
//!   `kv_unavailable` (nothing acknowledged); once the nodes are back the node recovers
//!   and the car's queue drains.
//!
//! The cluster is started by the test (or a running one reused) and always torn down.
//! Every wait polls with a generous deadline: three JVMs share two cores with the tests.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

use carchain_testkit::node_process;
#[path = "../../node-lite/src/kv/cassandra/test_cluster.rs"]
mod test_cluster;

use std::sync::Arc;
use std::time::{Duration, Instant};

use carchain_core::trip::Trip;
use carchain_testkit::car_records::{
    self, owner_keys, pair_patiently, pool_sessions, queue_trips, sessions_of, short_trip,
    wallet_and_car,
};
use chrono::NaiveDate;
use serde_json::Value;
use test_cluster::{CLUSTER_URL, TestCluster};

const WORDS: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";
const VID: &str = "LBVNU79049SB81546";
const POOL: usize = 4;
const AGENT: &str = "carchain-node";
const CHAIN_ID: &str = "carchain-cassandra-e2e";
/// Longest wait for the cluster to notice a dead or returning node.
const PATIENCE: Duration = Duration::from_secs(180);

/// `GET path` on the node: status code and body text.
async fn get(base: &str, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{base}{path}")).await.expect("get");
    let code = response.status().as_u16();
    (code, response.text().await.unwrap_or_default())
}

/// Polls `/health` until it answers `code` (200 or 503); returns the body.
async fn wait_for_health(base: &str, code: u16) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (now, body) = get(base, "/health").await;
        if now == code {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "/health stayed {now} ({body}), expected {code}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Polls the logs of the Cassandra nodes `nodes` until one has a line with all of
/// `needles` (lower case), e.g. that it sees node 2 down, or handed it its hints.
fn wait_for_log(nodes: &[u8], needles: &[&str]) {
    let run = std::env::var("CARCHAIN_CASSANDRA_RUN")
        .unwrap_or_else(|_| "/tmp/carchain-cassandra".to_owned());
    let deadline = Instant::now() + PATIENCE;
    loop {
        let found = nodes.iter().any(|n| {
            std::fs::read_to_string(format!("{run}/node{n}/logs/system.log"))
                .unwrap_or_default()
                .lines()
                .map(str::to_lowercase)
                .any(|line| needles.iter().all(|needle| line.contains(needle)))
        });
        if found {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no line with {needles:?} in the logs of nodes {nodes:?} within {PATIENCE:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_survive_one_dead_cassandra_node_and_two_dead_nodes_refuse_puts() {
    let cluster = Arc::new(TestCluster::up());
    let keys = owner_keys(WORDS);
    let owner = keys.owner_address().to_string();
    // A keyspace of this run's own, so a reused cluster holds no records of another run.
    let url = format!("{CLUSTER_URL}/e2e_{}", std::process::id());
    let node = node_process::start(
        CHAIN_ID,
        &[(owner.as_str(), 1_000_000)],
        &["--mode", "private", "--kv", &url],
    );
    let light = node.client();
    light.sync(&|_| {}).await.expect("sync");
    // Nodes of a cluster just started answer CQL a few seconds before gossip shows them
    // alive to each other (no quorum yet): the node says so until it has one.
    wait_for_health(&node.base, 200).await;
    let (_, status) = get(&node.base, "/v1/status").await;
    let status: Value = serde_json::from_str(&status).expect("status json");
    assert_eq!(status["kv"]["backend"], "cassandra", "{status}");
    assert_eq!(status["kv"]["available"], true, "{status}");

    let dir = tempfile::tempdir().expect("dir");
    let (wallet, car) = wallet_and_car(&dir, WORDS, VID, Duration::from_millis(20));
    // The offer's registration may land a moment before its value is stored (a quorum
    // write after the block): the car polls again, as it would.
    pair_patiently(&wallet, &light, &car, &light, (POOL, AGENT), PATIENCE).await;

    // All three nodes up: trips of two days go out and read back.
    let mut trips: Vec<(NaiveDate, Trip)> = (1..=2).map(short_trip).collect();
    queue_trips(&car, &trips);
    car_records::flush_until_empty(&car, &light, PATIENCE).await;
    assert_eq!(
        pool_sessions(&light, &keys, (VID, POOL), &trips).await,
        sessions_of(&trips)
    );

    // Node 2 is killed with SIGKILL while six more days go out: QUORUM is two of three,
    // so puts keep being acknowledged, and every acknowledged one reads back.
    let more: Vec<(NaiveDate, Trip)> = (3..=8).map(short_trip).collect();
    queue_trips(&car, &more);
    trips.extend(more);
    let killer = cluster.clone();
    let kill = tokio::task::spawn_blocking(move || killer.kill(2));
    car_records::flush_until_empty(&car, &light, PATIENCE).await;
    kill.await.expect("kill node 2");
    // Once the others see node 2 down they keep hints of its writes for its return.
    tokio::task::spawn_blocking(|| wait_for_log(&[1, 3], &["127.0.0.2:7000 is now down"]))
        .await
        .expect("node 2 seen down");
    let more: Vec<(NaiveDate, Trip)> = (9..=10).map(short_trip).collect();
    queue_trips(&car, &more);
    trips.extend(more);
    car_records::flush_until_empty(&car, &light, PATIENCE).await;
    assert_eq!(
        pool_sessions(&light, &keys, (VID, POOL), &trips).await,
        sessions_of(&trips)
    );
    assert_eq!(wait_for_health(&node.base, 200).await, "ok");

    // Node 2 restarts and catches up: the coordinators hand it the writes it missed.
    let starter = cluster.clone();
    tokio::task::spawn_blocking(move || {
        starter.start(2);
        wait_for_log(&[1, 3], &["hinted handoff", "127.0.0.2"]);
    })
    .await
    .expect("restart node 2");

    // Nodes 1 and 3 die: node 2 alone cannot make a quorum. The node keeps running and
    // says so; a put is refused with kv_unavailable and stays queued.
    let killer = cluster.clone();
    tokio::task::spawn_blocking(move || {
        killer.kill(1);
        killer.kill(3);
    })
    .await
    .expect("kill nodes 1 and 3");
    let body = wait_for_health(&node.base, 503).await;
    assert!(body.contains("kv_unavailable"), "{body}");
    let (code, status) = get(&node.base, "/v1/status").await;
    assert_eq!(code, 200, "the node answers its status: {status}");
    let status: Value = serde_json::from_str(&status).expect("status json");
    assert_eq!(status["kv"]["available"], false, "{status}");
    let (date, last) = short_trip(11);
    car.put_trip(&last, 1, date).expect("queue");
    trips.push((date, last));
    let report = car
        .flush(&light)
        .await
        .expect("flush while the quorum is lost");
    assert_eq!(report.delivered, 0, "{report:?}");
    assert_eq!(report.remaining, 1, "{report:?}");
    assert!(
        report.refused.iter().all(|r| r.code == "kv_unavailable"),
        "{report:?}"
    );

    // Back to three: the node recovers on its own and the queue drains; every record
    // ever acknowledged is there, once, intact.
    let starter = cluster.clone();
    tokio::task::spawn_blocking(move || {
        starter.start(1);
        starter.start(3);
    })
    .await
    .expect("restart nodes 1 and 3");
    assert_eq!(wait_for_health(&node.base, 200).await, "ok");
    car_records::flush_until_empty(&car, &light, PATIENCE).await;
    assert_eq!(
        pool_sessions(&light, &keys, (VID, POOL), &trips).await,
        sessions_of(&trips)
    );
    drop(node);
}
