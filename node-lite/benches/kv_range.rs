//! Range-read latency of the KV backends in the same run: a 30-record range inside one
//! address of 3,000 records (1 KiB values), read 2,000 times after 200 untimed reads,
//! from `SqliteKv` (the embedded default) and from `CassandraKv` on the local 3-node
//! cluster (`scripts/cassandra`: replication factor 3, QUORUM reads). Prints p50, p99 and
//! max per backend and the Cassandra/SQLite ratios.
//!
//! `cargo bench -p carchain-node --bench kv_range` starts the cluster (or reuses a
//! running one) and stops it afterwards if it started it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

#[path = "../src/kv/cassandra/test_cluster.rs"]
mod test_cluster;

use std::hint::black_box;
use std::time::{Duration, Instant};

use carchain_node::kv::{CassandraConfig, CassandraKv, KvPut, KvStore, SqliteKv};
use test_cluster::{CLUSTER_URL, TestCluster};

const ADDRESS: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
/// Where the batches of checked values go (the node's path).
const OTHER_ADDRESS: &str = "bcrt1q6rhpng9evdsfnn833a4f4vej0asu6dk5srld6x";
const PRELOADED: u64 = 3_000;
const BATCH: u64 = 100;
const SCAN_ROWS: u32 = 30;
const WARMUP: usize = 200;
const READS: usize = 2_000;

fn value(n: u64) -> Vec<u8> {
    (0..1024u64)
        .map(|i| (n.wrapping_mul(31) ^ i) as u8)
        .collect()
}

/// Stores `PRELOADED` records under `address`, `BATCH` at a time, with the conditional
/// batch or (`verified`) the batch of values checked against the ledger that the node uses.
fn preload_into(kv: &dyn KvStore, address: &str, verified: bool) {
    for first in (0..PRELOADED).step_by(BATCH as usize) {
        let records: Vec<([u8; 8], Vec<u8>)> = (first..first + BATCH)
            .map(|n| (n.to_be_bytes(), value(n)))
            .collect();
        let puts: Vec<KvPut<'_>> = records
            .iter()
            .map(|(key, value)| KvPut {
                address,
                key,
                value,
            })
            .collect();
        let outcomes = if verified {
            kv.put_batch_verified(&puts)
        } else {
            kv.put_batch(&puts)
        };
        outcomes.expect("preload");
    }
}

fn preload(kv: &dyn KvStore) {
    preload_into(kv, ADDRESS, false);
}

/// Latencies of `READS` range reads at spread-out starting keys from each of `stores`,
/// interleaved (read `i` goes to every store in turn, the order rotating) so that every
/// store meets the same noise of a shared machine; each list sorted.
fn measure(stores: &[&dyn KvStore]) -> Vec<Vec<Duration>> {
    let read = |kv: &dyn KvStore, i: usize| {
        let start = (i as u64 * 997) % (PRELOADED - u64::from(SCAN_ROWS));
        let end = start + u64::from(SCAN_ROWS) - 1;
        let page = kv
            .range(
                ADDRESS,
                &start.to_be_bytes(),
                &end.to_be_bytes(),
                SCAN_ROWS,
                None,
            )
            .expect("range");
        assert_eq!(page.items.len(), SCAN_ROWS as usize);
        black_box(page);
    };
    for i in 0..WARMUP {
        for kv in stores {
            read(*kv, i);
        }
    }
    let mut times = vec![Vec::with_capacity(READS); stores.len()];
    for i in 0..READS {
        for turn in 0..stores.len() {
            let which = (i + turn) % stores.len();
            let started = Instant::now();
            read(stores[which], i);
            times[which].push(started.elapsed());
        }
    }
    for list in &mut times {
        list.sort_unstable();
    }
    times
}

fn at(times: &[Duration], quantile: f64) -> f64 {
    let index = ((times.len() as f64 * quantile).ceil() as usize).clamp(1, times.len()) - 1;
    times[index].as_secs_f64() * 1000.0
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = SqliteKv::open(dir.path().join("kv.sqlite")).expect("sqlite");
    let started = Instant::now();
    preload(&sqlite);
    let sqlite_load = started.elapsed();
    let cluster = TestCluster::up();
    let mut config = CassandraConfig::parse(CLUSTER_URL).expect("url");
    config.keyspace = "carchain_bench".into();
    config.table = format!("range_{}", std::process::id());
    let mut plain_config = config.clone();
    plain_config.speculative_read_after = None;
    let cassandra = CassandraKv::connect(config).expect("connect");
    let started = Instant::now();
    preload(&cassandra);
    let cassandra_load = started.elapsed();
    let plain = CassandraKv::connect(plain_config).expect("connect");
    let started = Instant::now();
    preload_into(&cassandra, OTHER_ADDRESS, true);
    let verified_load = started.elapsed();
    let started = Instant::now();
    preload_into(&sqlite, OTHER_ADDRESS, true);
    let sqlite_verified_load = started.elapsed();

    let times = measure(&[&sqlite, &cassandra, &plain]);
    let (sqlite_times, cassandra_times, plain_times) = (&times[0], &times[1], &times[2]);
    println!(
        "kv_range_30: {READS} reads of {SCAN_ROWS} x 1 KiB in one address of {PRELOADED}, \
         the backends interleaved"
    );
    println!("| backend | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|");
    for (name, times) in [
        ("sqlite", sqlite_times),
        (
            "cassandra (3 nodes, RF 3, QUORUM), speculative reads after 4 ms (default)",
            cassandra_times,
        ),
        ("cassandra, each read sent once", plain_times),
    ] {
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} |",
            at(times, 0.50),
            at(times, 0.99),
            at(times, 1.0)
        );
    }
    println!(
        "cassandra / sqlite: p50 {:.1}x, p99 {:.1}x; speculative / sent once: p50 {:.2}, p99 {:.2}",
        at(cassandra_times, 0.50) / at(sqlite_times, 0.50),
        at(cassandra_times, 0.99) / at(sqlite_times, 0.99),
        at(cassandra_times, 0.50) / at(plain_times, 0.50),
        at(cassandra_times, 0.99) / at(plain_times, 0.99)
    );
    let per_second = |load: Duration| PRELOADED as f64 / load.as_secs_f64();
    println!(
        "preload, {} batches of {BATCH} x 1 KiB one after another (a conditional batch per \
         address on Cassandra): sqlite {:.0} records/s ({:.1} ms a batch), cassandra {:.0} \
         records/s ({:.1} ms a batch); cassandra / sqlite {:.3}",
        PRELOADED / BATCH,
        per_second(sqlite_load),
        sqlite_load.as_secs_f64() * 1000.0 / (PRELOADED / BATCH) as f64,
        per_second(cassandra_load),
        cassandra_load.as_secs_f64() * 1000.0 / (PRELOADED / BATCH) as f64,
        per_second(cassandra_load) / per_second(sqlite_load)
    );
    println!(
        "preload of checked values (the node's path, `put_batch_verified`): sqlite {:.0} \
         records/s, cassandra {:.0} records/s ({:.1} ms a batch); cassandra / sqlite {:.3}; \
         cassandra checked / conditional {:.2}x",
        per_second(sqlite_verified_load),
        per_second(verified_load),
        verified_load.as_secs_f64() * 1000.0 / (PRELOADED / BATCH) as f64,
        per_second(verified_load) / per_second(sqlite_verified_load),
        per_second(verified_load) / per_second(cassandra_load)
    );
    drop(plain);
    drop(cassandra);
    drop(cluster);
}
