//! Driving a remote node (`car-sim --node URL`): pairs simulated cars with an owner
//! wallet, has each car drive its simulated days, queueing each day's records and
//! flushing them as one batch per pool address ([`super::car_loop`]), for a bounded
//! number of days, time or records, and reports the sustained records/s, the
//! acknowledged latency (p50, p99, max: from a record's queueing to the node's answer)
//! and how many records were queued, delivered, retried and left queued.
//!
//! On a shared node (the default `carchain-node run`), which charges for reads, the
//! owner's client pays its reads from the owner account and funds each car's account
//! for the car's one read, the pairing offer (see [`super::paying`]). Puts cost the cars
//! nothing while the chain's phase-1 reimbursement lasts.
//!
//! Every car runs concurrently, so the rate is what the node sustains for that many cars
//! each delivering its days; a car whose node is down keeps driving and delivers its
//! backlog when a node answers again.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use carchain_core::device::{CarDevice, DeliveryPacing};
use carchain_core::keys::{Network, WordCount};
use carchain_core::light::{LightClient, TrustAnchor};
use carchain_core::store::{InMemorySecretStore, WalletStore};
use carchain_core::wallet::Wallet;
use chrono::NaiveDate;
use futures_util::StreamExt;
use serde::Serialize;
use zeroize::Zeroizing;

use super::car_loop::{CarRun, drive_car};
use super::pairing::pair_sim_car;
use super::paying::owner_paying_light;
use super::{CarSimulator, SimConfig, SimRng};
use crate::cli::Session;

/// Most records one run may put.
pub const MAX_RECORDS: u64 = 1_000_000;
/// Longest run, seconds.
pub const MAX_SECONDS: u64 = 3_600;
/// Cars pairing at the same time by default: each pairing is some five blocks of
/// waiting (funding, offer, accept, registration, the car seeing it), and the owner's
/// transactions of many pairings share blocks, so a node pairs about this many cars per
/// few blocks.
pub const PAIRING_CONCURRENCY: usize = 64;
/// Most cars pairing at the same time.
pub const MAX_PAIRING_CONCURRENCY: usize = 256;
/// Most days one run may drive.
pub const MAX_DAYS: u32 = 366;

/// What to drive and for how long.
pub struct RemoteOptions {
    /// Node base URLs.
    pub nodes: Vec<String>,
    /// The chain the client trusts.
    pub anchor: TrustAnchor,
    /// The agent name the cars name (the node's `--agent`).
    pub agent: String,
    /// Number of cars (each pairs and drives concurrently).
    pub cars: u32,
    /// Each car's pool size.
    pub pool_size: usize,
    /// Cars pairing at the same time (1..=[`MAX_PAIRING_CONCURRENCY`]).
    pub pairing_concurrency: usize,
    /// Stop driving after this long (the run is bounded by this, `records` or `days`).
    pub seconds: Option<u64>,
    /// Stop after this many records in all.
    pub records: Option<u64>,
    /// Stop after this many days of each car.
    pub days: Option<u32>,
    /// How long a car keeps trying to deliver its queue after it stopped driving.
    pub drain: Duration,
    /// The cars' pause between two addresses of one flush (see [`DeliveryPacing`]).
    pub pacing: DeliveryPacing,
    /// Simulator settings.
    pub sim: SimConfig,
    /// The first simulated day.
    pub first_day: NaiveDate,
    /// The owner's recovery words (a fresh wallet when `None`, which needs funds).
    pub words: Option<Zeroizing<String>>,
    /// The owner's wallet store, as `carchain --wallet PATH` keeps it (its key in
    /// `<PATH>.key`): the cars are paired into it, so `carchain` reads them back later.
    /// Takes the place of `words`.
    pub wallet: Option<PathBuf>,
    /// Where to write one JSON line per acknowledged record (`vid`, `date`, `format`,
    /// `key`, `value`), for checking them against what the owner reads back.
    pub acked: Option<PathBuf>,
}

impl std::fmt::Debug for RemoteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteOptions")
            .field("nodes", &self.nodes)
            .field("cars", &self.cars)
            .field("seconds", &self.seconds)
            .field("records", &self.records)
            .field("days", &self.days)
            .field("words", &self.words.as_ref().map(|_| "<redacted>"))
            .field("wallet", &self.wallet)
            .field("acked", &self.acked)
            .finish_non_exhaustive()
    }
}

/// What a run measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemoteReport {
    /// The owner address that paired the cars.
    pub owner_address: String,
    /// The node's mode as it reports it (`shared` charges for reads).
    pub mode: String,
    /// Cars driven.
    pub cars: u32,
    /// The cars' ledger VIDs.
    pub vids: Vec<String>,
    /// Tokens the owner gave the cars' accounts to pay for their reads (shared mode).
    pub car_read_funds: u64,
    /// Time to pair every car, ms.
    pub pairing_ms: u64,
    /// `cars / pairing time`.
    pub cars_paired_per_s: f64,
    /// Records acknowledged by the node.
    pub records: u64,
    /// Records the cars queued.
    pub queued: u64,
    /// Flush attempts that did not empty a car's queue (node down, restarting or busy).
    pub retried: u64,
    /// Records still queued when the cars gave up draining (not acknowledged).
    pub remaining: u64,
    /// Time spent driving and delivering, seconds.
    pub elapsed_s: f64,
    /// `records / elapsed_s`.
    pub records_per_s: f64,
    /// Median acknowledged put latency, ms.
    pub latency_p50_ms: f64,
    /// 99th percentile acknowledged put latency, ms.
    pub latency_p99_ms: f64,
    /// Slowest put, ms.
    pub latency_max_ms: f64,
}

/// The `q`-quantile (0 < q <= 1) of sorted `samples` by the nearest-rank method; 0 for
/// no samples.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted.get(index).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

/// Checks the run is bounded and within limits.
pub fn check_bounds(seconds: Option<u64>, records: Option<u64>, days: Option<u32>) -> Result<()> {
    if seconds.is_none() && records.is_none() && days.is_none() {
        bail!("give --seconds, --records or --days: a remote run must be bounded");
    }
    if days.is_some_and(|d| d == 0 || d > MAX_DAYS) {
        bail!("--days must be 1..={MAX_DAYS}");
    }
    if seconds.is_some_and(|s| s == 0 || s > MAX_SECONDS) {
        bail!("--seconds must be 1..={MAX_SECONDS}");
    }
    if records.is_some_and(|r| r == 0 || r > MAX_RECORDS) {
        bail!("--records must be 1..={MAX_RECORDS}");
    }
    Ok(())
}

/// Pairs `options.cars` cars with the owner's wallet and drives them; see the module doc.
pub async fn drive_remote(options: &RemoteOptions) -> Result<RemoteReport> {
    check_bounds(options.seconds, options.records, options.days)?;
    if options.cars == 0 || options.cars > 1000 {
        bail!("--cars must be 1..=1000");
    }
    if !(1..=MAX_PAIRING_CONCURRENCY).contains(&options.pairing_concurrency) {
        bail!("--pairing-concurrency must be 1..={MAX_PAIRING_CONCURRENCY}");
    }
    let light =
        LightClient::new(options.nodes.clone(), options.anchor.clone()).context("light client")?;
    let owner = open_owner(options)?;
    if owner.network() != options.anchor.network {
        bail!(
            "the owner wallet is on {} but the chain is on {}",
            owner.network(),
            options.anchor.network
        );
    }
    let owner_light = owner_paying_light(&owner, light.clone())?;
    let mode = light
        .status()
        .await
        .context("reading the node's status")?
        .mode;
    let balance = light
        .account(&owner.owner_address())
        .await
        .context("reading the owner's balance")?
        .balance;
    if balance == 0 {
        bail!(
            "the owner {} has no funds on this chain to pay the pairing and put fees: fund it (carchain-node init --fund) and pass its words in CARCHAIN_WORDS",
            owner.owner_address()
        );
    }
    let dir = tempfile::tempdir().context("temporary car stores")?;
    let run_tag = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        & 0xffff_ffff;
    let pairing_started = Instant::now();
    let mut car_read_funds = 0;
    // Cars pair many at a time: the owner's own transactions (funding, registration)
    // take turns only until the node admitted each, so they share blocks, and the
    // mailbox exchanges and waits overlap.
    let paired: Vec<Result<(CarDevice, LightClient, CarSimulator, u64)>> =
        futures_util::stream::iter(1..=options.cars)
            .map(|n| {
                let (owner, owner_light, light, dir) = (&owner, &owner_light, &light, &dir);
                async move {
                    // The ledger VID is unique per run (a VID pairs once); the simulated
                    // car is not.
                    let vid = format!("SIM{run_tag:08X}{n:06}");
                    let car = CarDevice::open(
                        &dir.path().join(format!("{vid}.db")),
                        Arc::new(InMemorySecretStore::new()),
                        &vid,
                    )
                    .with_context(|| format!("opening car {vid}"))?
                    .with_delivery_pacing(options.pacing);
                    let car_light = car.paying_reads(light.clone());
                    let funded = pair_sim_car(
                        owner,
                        owner_light,
                        &car,
                        &car_light,
                        options.pool_size,
                        &options.agent,
                    )
                    .await
                    .with_context(|| format!("pairing {}", car.vid()))?;
                    let sim = CarSimulator::new(&options.sim, &format!("SIM{n:014}"))?;
                    Ok((car, car_light, sim, funded))
                }
            })
            .buffered(options.pairing_concurrency)
            .collect()
            .await;
    let mut cars = Vec::with_capacity(paired.len());
    for result in paired {
        let (car, car_light, sim, funded) = result?;
        car_read_funds += funded;
        cars.push((car, car_light, sim));
    }
    let pairing_time = pairing_started.elapsed();
    let pairing_ms = u64::try_from(pairing_time.as_millis()).unwrap_or(u64::MAX);
    let cars_paired_per_s =
        (f64::from(options.cars) / pairing_time.as_secs_f64().max(1e-3) * 10.0).round() / 10.0;

    let claimed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = options.seconds.map(|s| started + Duration::from_secs(s));
    let limit = options.records.unwrap_or(MAX_RECORDS);
    let acked = match &options.acked {
        Some(path) => Some(Arc::new(Mutex::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )))),
        None => None,
    };
    let vids: Vec<String> = cars
        .iter()
        .map(|(car, _, _)| car.vid().to_owned())
        .collect();
    let mut tasks = Vec::new();
    for (n, (car, car_light, sim)) in cars.into_iter().enumerate() {
        let run = CarRun {
            first_day: options.first_day,
            days: options.days,
            claimed: Arc::clone(&claimed),
            limit,
            deadline,
            drain: options.drain,
            acked: acked.clone(),
        };
        let jitter = SimRng::derive(options.sim.seed, &format!("backoff {n}"));
        tasks.push(tokio::spawn(async move {
            drive_car(car, sim, car_light, run, jitter).await
        }));
    }
    let mut latencies = Vec::new();
    let (mut queued, mut retried, mut remaining) = (0, 0, 0);
    for task in tasks {
        let outcome = task.await.context("a car's task failed")??;
        latencies.extend(outcome.latencies);
        queued += outcome.queued;
        retried += outcome.retries;
        remaining += outcome.remaining;
    }
    let elapsed = started.elapsed();
    if let Some(acked) = acked {
        acked
            .lock()
            .map_err(|_| anyhow::anyhow!("the acknowledgement log lock is poisoned"))?
            .flush()
            .context("writing the acknowledgement log")?;
    }
    latencies.sort();
    let records = latencies.len() as u64;
    Ok(RemoteReport {
        owner_address: owner.owner_address(),
        mode,
        cars: options.cars,
        vids,
        car_read_funds,
        pairing_ms,
        cars_paired_per_s,
        records,
        queued,
        retried,
        remaining,
        elapsed_s: (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        records_per_s: (records as f64 / elapsed.as_secs_f64().max(1e-3) * 10.0).round() / 10.0,
        latency_p50_ms: ms(percentile(&latencies, 0.50)),
        latency_p99_ms: ms(percentile(&latencies, 0.99)),
        latency_max_ms: ms(latencies.last().copied().unwrap_or_default()),
    })
}

/// The owner's wallet: the store at `options.wallet`, or restored from
/// `options.words` in memory, or a fresh one in memory.
fn open_owner(options: &RemoteOptions) -> Result<Wallet> {
    if let Some(path) = &options.wallet {
        if !path.exists() {
            bail!(
                "no wallet at {}: create it with `carchain --wallet {} wallet new` (or restore)",
                path.display(),
                path.display()
            );
        }
        return Wallet::open(path, Session::secrets_for(path))
            .with_context(|| format!("opening the owner wallet {}", path.display()));
    }
    let network: Network = options.anchor.network;
    let store = WalletStore::open_in_memory(Arc::new(InMemorySecretStore::new()))
        .context("wallet store")?;
    Ok(match &options.words {
        Some(words) => Wallet::restore_in(store, network, words, "")
            .context("restoring the owner wallet from CARCHAIN_WORDS")?,
        None => {
            Wallet::create_in(store, network, WordCount::Twelve, "")
                .context("creating an owner wallet")?
                .0
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn nearest_rank_percentiles() {
        let sorted: Vec<Duration> = (1..=100).map(d).collect();
        assert_eq!(percentile(&sorted, 0.50), d(50));
        assert_eq!(percentile(&sorted, 0.99), d(99));
        assert_eq!(percentile(&sorted, 1.0), d(100));
        assert_eq!(percentile(&[d(7)], 0.5), d(7));
        assert_eq!(percentile(&[d(1), d(2), d(3)], 0.5), d(2));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }

    #[test]
    fn a_run_must_be_bounded_and_within_limits() {
        assert!(
            check_bounds(None, None, None)
                .unwrap_err()
                .to_string()
                .contains("bounded")
        );
        assert!(check_bounds(Some(0), None, None).is_err());
        assert!(check_bounds(Some(MAX_SECONDS + 1), None, None).is_err());
        assert!(check_bounds(None, Some(MAX_RECORDS + 1), None).is_err());
        assert!(check_bounds(None, None, Some(0)).is_err());
        assert!(check_bounds(None, None, Some(MAX_DAYS + 1)).is_err());
        assert!(check_bounds(Some(5), None, None).is_ok());
        assert!(check_bounds(None, Some(10), None).is_ok());
        assert!(check_bounds(None, None, Some(3)).is_ok());
    }
}
