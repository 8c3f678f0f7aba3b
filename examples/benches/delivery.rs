//! The car's delivery path (plain `main`, no harness), on an in-process shared node on
//! loopback producing a block every 50 ms:
//!
//! (a) **A backlog.** One car back in coverage holds 30 days x 40 records in its durable
//! queue (signed and sealed while offline, untimed) and flushes: each day's pool address
//! goes as one batch, one block. Baseline: 30 block intervals. The car's privacy pacing
//! (a random pause of up to 5 s between two addresses by default) is turned off here
//! and adds its own, chosen delay on top.
//!
//! (b) **Many cars at once.** `CARCHAIN_BENCH_CARS` (default 200) paired cars each hold a
//! day of 40 records and all flush at the same time: delivered records/s. Baseline, in
//! the same run on the same node: the node's batch capacity, the same number of records
//! of the same size pre-signed by as many raw keys and posted as one `POST /v1/records`
//! batch per key, all at once (no sealing, credentials, pacing or nonce check). Goal:
//! the cars reach at least 0.5 of it.
//!
//! Run: `cargo bench -p carchain-examples --bench delivery`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use carchain_core::device::{CarDevice, DeliveryPacing};
use carchain_core::light::{LightClient, RecordUpload};
use carchain_core::record::FormatSpec;
use carchain_examples::sim::pairing::pair_sim_car;
use carchain_testkit::flows::{WORDS_A, car, wallet};
use carchain_testkit::{AGENT, Mode, TestKey, start_node};
use chrono::NaiveDate;
use serde_json::json;

use common::setup::block_on;

/// Days in the backlog of (a).
const BACKLOG_DAYS: u32 = 30;
/// Records per day, in (a) and (b).
const RECORDS_PER_DAY: u32 = 40;
/// The node's block interval.
const BLOCK: Duration = Duration::from_millis(50);

fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 6, 1).expect("date")
}

/// A parking-violation record's key and value (a few hundred bytes sealed).
fn record(n: u32, date: NaiveDate) -> (serde_json::Value, serde_json::Value) {
    let compact = date.format("%Y%m%d").to_string();
    (
        json!({ "CARVIO_ID": n }),
        json!({ "datetime": compact.parse::<u64>().unwrap_or_default(), "lat": 31.23 + f64::from(n) * 1e-4,
                "lng": 121.47, "place": format!("street {n}"), "fine": 200, "format": "carvio" }),
    )
}

/// Queues `days` days of [`RECORDS_PER_DAY`] records in `car` from `from` on.
fn queue_days(car: &CarDevice, from: NaiveDate, days: u32) {
    let spec = FormatSpec::carvio();
    for d in 0..days {
        let date = from + chrono::Days::new(u64::from(d));
        for n in 0..RECORDS_PER_DAY {
            let (key, value) = record(d * RECORDS_PER_DAY + n, date);
            car.put(&spec, &key, &value, date).expect("queue");
        }
    }
}

fn main() {
    block_on(async {
        let cars: usize = std::env::var("CARCHAIN_BENCH_CARS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200);
        let owner = wallet(WORDS_A);
        let raw_keys: Vec<TestKey> = (1..=cars)
            .map(|n| TestKey::from_byte(u8::try_from(n % 250 + 1).expect("byte")))
            .collect();
        let mut funds = vec![(owner.owner_address(), 1_000_000_000_u64)];
        for key in &raw_keys {
            if !funds.iter().any(|(a, _)| a == &key.address) {
                funds.push((key.address.clone(), 10_000_000));
            }
        }
        let funds_ref: Vec<(&str, u64)> = funds.iter().map(|(a, n)| (a.as_str(), *n)).collect();
        let node = start_node(&funds_ref, Mode::Shared).await;
        let light = node.client();
        let owner_light = owner.paying_reads(light.clone());
        let dir = tempfile::tempdir().expect("dir");

        // Pair every car (untimed).
        let pairing = Instant::now();
        let mut paired = Vec::with_capacity(cars + 1);
        for n in 0..=cars {
            let car =
                car(&dir, &format!("BENCH{n:012}")).with_delivery_pacing(DeliveryPacing::NONE);
            let car_light = car.paying_reads(light.clone());
            pair_sim_car(&owner, &owner_light, &car, &car_light, 32, AGENT)
                .await
                .expect("pairing");
            paired.push((car, car_light));
        }
        eprintln!("paired {} cars in {:?}", cars + 1, pairing.elapsed());

        // (a) One car's backlog of 30 days.
        let (backlog_car, backlog_light) = &paired[0];
        queue_days(backlog_car, first_day(), BACKLOG_DAYS);
        let started = Instant::now();
        let report = backlog_car.flush(backlog_light).await.expect("flush");
        let backlog = started.elapsed();
        assert_eq!(report.remaining, 0, "{report:?}");
        assert_eq!(report.delivered, u64::from(BACKLOG_DAYS * RECORDS_PER_DAY));
        let intervals = BLOCK * BACKLOG_DAYS;

        // (b) Every other car flushes one day at the same time.
        let day = first_day() + chrono::Days::new(u64::from(BACKLOG_DAYS));
        for (car, _) in &paired[1..] {
            queue_days(car, day, 1);
        }
        let sealed_size = queued_value_size(&dir.path().join(format!("BENCH{:012}.db", 1)));
        eprintln!("flushing {cars} cars");
        let started = Instant::now();
        let mut flushes = tokio::task::JoinSet::new();
        for (car, car_light) in paired.drain(1..) {
            // As a car does: a flush that leaves records queued (the node busy) is tried
            // again after a short pause, until the day is out.
            flushes.spawn(async move {
                let (mut delivered, mut retries) = (0, 0u32);
                loop {
                    let report = car.flush(&car_light).await.expect("flush");
                    assert!(report.refused.is_empty(), "{report:?}");
                    delivered += report.delivered + report.already_there;
                    if report.remaining == 0 {
                        return (delivered, retries);
                    }
                    retries += 1;
                    assert!(
                        retries < 200,
                        "still queued after {retries} flushes: {report:?}"
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            });
        }
        let (mut delivered, mut retried_flushes) = (0, 0);
        while let Some(outcome) = flushes.join_next().await {
            let (car_delivered, retries) = outcome.expect("task");
            delivered += car_delivered;
            retried_flushes += retries;
        }
        let cars_elapsed = started.elapsed();
        eprintln!("flushed in {cars_elapsed:?}");
        assert_eq!(delivered, (cars as u64) * u64::from(RECORDS_PER_DAY));
        let cars_rate = delivered as f64 / cars_elapsed.as_secs_f64();

        // Baseline of (b): the same number of records, pre-signed by raw keys, one batch
        // per key, all at once. Values of the size the cars sealed.
        let mut batches = Vec::with_capacity(cars);
        let mut nonces = std::collections::BTreeMap::<String, u64>::new();
        for key in &raw_keys {
            let nonce = nonces.entry(key.address.clone()).or_insert(0);
            let mut items = Vec::with_capacity(RECORDS_PER_DAY as usize);
            for n in 0..RECORDS_PER_DAY {
                let mut value = vec![0_u8; sealed_size];
                value[..8].copy_from_slice(&(u64::from(n) ^ (*nonce << 16)).to_le_bytes());
                let key_bytes = [(*nonce >> 8) as u8, *nonce as u8, n as u8];
                items.push(RecordUpload {
                    tx: key.record_put(*nonce, &key_bytes, &value),
                    value,
                    credential: None,
                });
                *nonce += 1;
            }
            batches.push(items);
        }
        let started = Instant::now();
        let mut posts = tokio::task::JoinSet::new();
        for items in batches {
            let client =
                LightClient::new(vec![node.base.clone()], node.anchor.clone()).expect("client");
            posts.spawn(async move { client.put_records(&items).await.expect("batch") });
        }
        let mut stored = 0;
        while let Some(results) = posts.join_next().await {
            stored += results.expect("task").iter().filter(|r| r.is_ok()).count();
        }
        let raw_elapsed = started.elapsed();
        assert_eq!(
            stored,
            cars * RECORDS_PER_DAY as usize,
            "every raw record stored"
        );
        let raw_rate = stored as f64 / raw_elapsed.as_secs_f64();

        println!(
            "| delivery | one car's backlog of {BACKLOG_DAYS} days x {RECORDS_PER_DAY} records, `CarDevice::flush` (one batch per address, pacing off) | {:.2} s | {:.2} s: {BACKLOG_DAYS} block intervals of {} ms | {:.2} | |",
            backlog.as_secs_f64(),
            intervals.as_secs_f64(),
            BLOCK.as_millis(),
            backlog.as_secs_f64() / intervals.as_secs_f64()
        );
        println!(
            "| delivery | {cars} cars each flushing a day of {RECORDS_PER_DAY} records at once: delivered records/s | {cars_rate:.0} /s | {raw_rate:.0} /s: the node's batch capacity, {} raw pre-signed records of {sealed_size} B in one batch per key, at once | **{:.2}** | ≥ 0.5 |",
            stored,
            cars_rate / raw_rate
        );
        println!(
            "| (info) flushes that left records queued (node busy) and were tried again after 50 ms | {retried_flushes} |"
        );
    });
}

/// The mean size of the sealed values queued in the car store at `path`.
fn queued_value_size(path: &std::path::Path) -> usize {
    let db = rusqlite::Connection::open(path).expect("car store");
    let mean: f64 = db
        .query_row("SELECT avg(length(envelope)) FROM queue", [], |row| {
            row.get(0)
        })
        .expect("queued sizes");
    mean.round() as usize
}
