//! The Rust half of the bindings benchmark (`scripts/bench-bindings` runs it): a month of
//! one car's trips (30 days x 4 trips x 1,000 points, as in the light-node benchmark
//! `examples/benches/month_read.rs`) put through a `carchain-node` binary on loopback,
//! then read back with `Wallet::trips` from Rust directly, cold each run (a reopened
//! wallet and a new light client), median of the measured runs.
//!
//! It then writes a hand-off JSON for the Kotlin half (node URL, chain id, validator key,
//! wallet store path, secrets directory, words, VID, date range, the Rust timings) and
//! waits, keeping the node up, until that file is deleted.
//!
//! Run: `cargo bench -p carchain-ffi --bench month_trips -- <carchain-node> <handoff.json>`.

mod file_secrets;

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use carchain_core::device::CarDevice;
use carchain_core::keys::Network;
use carchain_core::light::{LightClient, TrustAnchor};
use carchain_core::store::{InMemorySecretStore, SecretStore};
use carchain_core::wallet::Wallet;
use carchain_testkit::AGENT;
use carchain_testkit::flows::pair;
use carchain_testkit::month::{DAYS, POINTS, TRIPS_PER_DAY, day, long_trip};
use carchain_testkit::node_process::NodeProcess;
use serde_json::json;

use file_secrets::FileSecretStore;

type BenchResult<T> = Result<T, Box<dyn Error>>;

/// The public BIP39 test words: a throwaway regtest wallet.
const WORDS: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const VID: &str = "VIN-BENCH-BINDINGS";
const WARMUPS: usize = 1;
const RUNS: usize = 5;
/// Chain id of the benchmark chain.
const CHAIN_ID: &str = "carchain-bench";

fn median_ms(samples: &[Duration]) -> f64 {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    ms.get(ms.len() / 2).copied().unwrap_or(f64::NAN)
}

/// One cold read of the month: a reopened wallet, a new light client.
async fn read_month(
    wallet_path: &Path,
    secrets: &Arc<dyn SecretStore>,
    base: &str,
    anchor: &TrustAnchor,
) -> BenchResult<Duration> {
    let wallet = Wallet::open(wallet_path, secrets.clone())?;
    let client = LightClient::new(vec![base.to_owned()], anchor.clone())?;
    let started = Instant::now();
    let list = wallet.trips(&client, VID, day(1), day(DAYS)).await?;
    let took = started.elapsed();
    let points: usize = list.trips.iter().map(|t| t.point_count).sum();
    let records = DAYS as usize * TRIPS_PER_DAY as usize;
    if list.trips.len() != records || points != records * POINTS || !list.rejected.is_empty() {
        return Err(format!(
            "read {} trips / {points} points, {} rejected; expected {records} / {}",
            list.trips.len(),
            list.rejected.len(),
            records * POINTS
        )
        .into());
    }
    Ok(took)
}

fn main() -> BenchResult<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [node_bin, handoff] = args.as_slice() else {
        return Err("usage: month_trips <carchain-node binary> <handoff.json>".into());
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(Path::new(node_bin), Path::new(handoff)))
}

async fn run(node_bin: &Path, handoff: &Path) -> BenchResult<()> {
    let work = tempfile::tempdir()?;
    let secrets_dir = work.path().join("secrets");
    let secrets: Arc<dyn SecretStore> = Arc::new(FileSecretStore::new(secrets_dir.clone())?);
    let wallet_path = work.path().join("wallet.db");
    let owner = Wallet::restore(&wallet_path, secrets.clone(), Network::Regtest, WORDS, "")?;
    // A private node of its own regtest chain, funding the owner; killed when dropped.
    let node = NodeProcess::start_binary(
        node_bin,
        CHAIN_ID,
        &[(&owner.owner_address(), 1_000_000_000)],
        &[],
        &[
            "--block-time-ms",
            "50",
            "--mode",
            "private",
            "--agent",
            AGENT,
        ],
    );
    let anchor = TrustAnchor::from_hex(CHAIN_ID, Network::Regtest, &node.validator)?;
    let light = LightClient::new(vec![node.base.clone()], anchor.clone())?;
    light.sync(&|_| {}).await?;

    let car_secrets = Arc::new(InMemorySecretStore::new());
    // The benchmark measures the node and the client, not the privacy pauses.
    let car = CarDevice::open(&work.path().join("car.db"), car_secrets, VID)?
        .with_delivery_pacing(carchain_core::device::DeliveryPacing::NONE);
    // The car named by the owner, with a pool of 32 addresses.
    pair(&owner, &light, &car, "bench car", 32).await;
    let loading = Instant::now();
    for d in 1..=DAYS {
        for session in 0..TRIPS_PER_DAY {
            car.put_trip(&long_trip(day(d), session), 1, day(d))?;
        }
    }
    let report = car.flush(&light).await?;
    let records = u64::from(DAYS) * TRIPS_PER_DAY as u64;
    if report.delivered != records {
        return Err(format!("{} of {records} trips delivered", report.delivered).into());
    }
    eprintln!(
        "month_trips: loaded {records} trips in {:.2?}",
        loading.elapsed()
    );

    let mut samples = Vec::new();
    for run in 0..=RUNS {
        let took = read_month(&wallet_path, &secrets, &node.base, &anchor).await?;
        if run >= WARMUPS {
            samples.push(took);
        }
    }
    let rust_ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    let median = median_ms(&samples);
    eprintln!("month_trips: Rust Wallet::trips median {median:.1} ms of {RUNS}");

    let doc = json!({
        "node_url": node.base,
        "chain_id": CHAIN_ID,
        "network": "regtest",
        "validator_pubkey": node.validator,
        "wallet_path": wallet_path.to_string_lossy(),
        "secrets_dir": secrets_dir.to_string_lossy(),
        "words": WORDS,
        "vid": VID,
        "from": "2024-06-01",
        "to": format!("2024-06-{DAYS:02}"),
        "trips": records,
        "points_per_trip": POINTS,
        "warmups": WARMUPS,
        "runs": RUNS,
        "rust_median_ms": median,
        "rust_runs_ms": rust_ms,
    });
    write_atomically(handoff, &serde_json::to_vec_pretty(&doc)?)?;
    wait_until_removed(handoff, Duration::from_secs(15 * 60)).await?;
    drop(node);
    Ok(())
}

/// Writes `bytes` to `path` through a sibling temporary file, so a reader never sees a
/// half-written hand-off.
fn write_atomically(path: &Path, bytes: &[u8]) -> BenchResult<()> {
    let mut partial = PathBuf::from(path);
    partial.set_extension("partial");
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)?;
    Ok(())
}

/// Keeps the node up until the Kotlin half deletes the hand-off (or `limit` passes).
async fn wait_until_removed(path: &Path, limit: Duration) -> BenchResult<()> {
    let started = Instant::now();
    while path.exists() {
        if started.elapsed() > limit {
            return Err(format!("{} still there after {limit:?}", path.display()).into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}
