//! Storage benchmarks: `SqliteKv` against raw rusqlite on the same table layout and
//! pragmas, in the same run, so the KV layer's overhead reads as a ratio.
//!
//! - `kv_put_100x1KiB`: 100 puts of 1 KiB values in one transaction (`put_batch`).
//! - `kv_range_30`: a 30-record range read inside one address of 3,000 records.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

use std::hint::black_box;
use std::time::Duration;

use carchain_node::kv::{KvPut, KvStore, SqliteKv};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rusqlite::{Connection, params};

const ADDRESS: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
const BATCH: u64 = 100;
const VALUE_LEN: usize = 1024;
const PRELOADED: u64 = 3_000;
const SCAN_ROWS: u64 = 30;

/// A raw connection set up exactly like `SqliteKv`'s file.
fn raw_connection(path: &std::path::Path) -> Connection {
    let conn = Connection::open(path).expect("open raw sqlite");
    conn.execute_batch(
        "PRAGMA page_size = 8192;
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         CREATE TABLE kv (address TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
                          PRIMARY KEY (address, key)) WITHOUT ROWID;",
    )
    .expect("raw schema");
    conn
}

fn key(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

fn value(n: u64) -> Vec<u8> {
    let mut value = vec![0u8; VALUE_LEN];
    for (i, byte) in value.iter_mut().enumerate() {
        *byte = (n as u8).wrapping_mul(31).wrapping_add(i as u8);
    }
    value
}

fn raw_insert_batch(conn: &mut Connection, first: u64, value: &[u8]) {
    let tx = conn.transaction().expect("begin");
    {
        let mut insert = tx
            .prepare_cached("INSERT INTO kv (address, key, value) VALUES (?1, ?2, ?3)")
            .expect("prepare");
        for n in first..first + BATCH {
            insert
                .execute(params![ADDRESS, key(n), value])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
}

fn kv_put_batch(kv: &SqliteKv, first: u64, value: &[u8]) {
    let keys: Vec<[u8; 8]> = (first..first + BATCH).map(key).collect();
    let puts: Vec<KvPut<'_>> = keys
        .iter()
        .map(|key| KvPut {
            address: ADDRESS,
            key,
            value,
        })
        .collect();
    kv.put_batch(&puts).expect("put batch");
}

fn bench_put(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let kv = SqliteKv::open(dir.path().join("kv.sqlite")).expect("open kv");
    let mut raw = raw_connection(&dir.path().join("raw.sqlite"));
    let payload = value(7);
    let mut group = c.benchmark_group("kv_put_100x1KiB");
    group.throughput(Throughput::Elements(BATCH));
    let mut next_raw = 0u64;
    group.bench_function("raw_rusqlite", |b| {
        b.iter(|| {
            raw_insert_batch(&mut raw, next_raw, &payload);
            next_raw += BATCH;
        });
    });
    let mut next_kv = 0u64;
    group.bench_function("sqlite_kv", |b| {
        b.iter(|| {
            kv_put_batch(&kv, next_kv, &payload);
            next_kv += BATCH;
        });
    });
    group.finish();
}

fn bench_range(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let kv = SqliteKv::open(dir.path().join("kv.sqlite")).expect("open kv");
    let mut raw = raw_connection(&dir.path().join("raw.sqlite"));
    for first in (0..PRELOADED).step_by(BATCH as usize) {
        let payload = value(first);
        raw_insert_batch(&mut raw, first, &payload);
        kv_put_batch(&kv, first, &payload);
    }
    let mut group = c.benchmark_group("kv_range_30");
    group.throughput(Throughput::Elements(1));
    let mut start = 0u64;
    group.bench_function("raw_rusqlite", |b| {
        b.iter(|| {
            start = (start + 97) % (PRELOADED - SCAN_ROWS);
            let mut scan = raw
                .prepare_cached(
                    "SELECT key, value FROM kv WHERE address = ?1 AND key >= ?2 AND key <= ?3
                     ORDER BY key LIMIT ?4",
                )
                .expect("prepare");
            let rows = scan
                .query_map(
                    params![ADDRESS, key(start), key(start + SCAN_ROWS - 1), SCAN_ROWS],
                    |row| Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Vec<u8>>(1)?)),
                )
                .expect("query")
                .collect::<Result<Vec<_>, _>>()
                .expect("rows");
            assert_eq!(rows.len() as u64, SCAN_ROWS);
            black_box(rows);
        });
    });
    group.bench_function("sqlite_kv", |b| {
        b.iter(|| {
            start = (start + 97) % (PRELOADED - SCAN_ROWS);
            let page = kv
                .range(
                    ADDRESS,
                    &key(start),
                    &key(start + SCAN_ROWS - 1),
                    SCAN_ROWS as u32,
                    None,
                )
                .expect("range");
            assert_eq!(page.items.len() as u64, SCAN_ROWS);
            black_box(page);
        });
    });
    group.finish();
}

fn config() -> Criterion {
    // The machine is shared: short, small samples.
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
}

criterion_group! {
    name = storage;
    config = config();
    targets = bench_put, bench_range
}
criterion_main!(storage);
