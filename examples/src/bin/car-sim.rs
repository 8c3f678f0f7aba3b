//! `car-sim`: simulates cars driving in a city box. Without `--node` it prints what they
//! would put, day by day (trips, distance, harsh brakes, parking violations), as text or
//! JSON, deterministic by `--seed`. With `--node URL` it pairs the cars with an owner
//! wallet (a `carchain` wallet store given by `--wallet`, or words from
//! `CARCHAIN_WORDS`, or a fresh one) and drives that node for `--seconds` or
//! `--records`, reporting sustained records/s and the acknowledged put latency (p50,
//! p99). A shared node (the default `carchain-node run`) charges for reads: the owner
//! pays its own and funds each car's account for the car's.
#![forbid(unsafe_code)]

use carchain_examples::sim::remote;

use anyhow::{Context, Result, bail};
use carchain_core::device::DeliveryPacing;
use carchain_core::keys::Network;
use carchain_core::light::TrustAnchor;
use carchain_core::light::http::NodeHttp;
use carchain_core::trip::total_distance_m;
use carchain_examples::sim::{CarSimulator, CityBox, SimConfig};
use chrono::NaiveDate;
use clap::Parser;
use serde_json::json;
use zeroize::Zeroizing;

/// Simulates cars in a city and reports their days, or drives a node with them.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Number of cars (1..=1000).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=1000))]
    cars: u32,
    /// Days to simulate (1..=366; 7 when printing). With --node each car drives this
    /// many days at most.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=366))]
    days: Option<u32>,
    /// First day, YYYY-MM-DD.
    #[arg(long, default_value = "2024-05-06")]
    from: NaiveDate,
    /// Seed of everything random.
    #[arg(long, default_value_t = 2016_0511)]
    seed: u64,
    /// City box `south,west,north,east` (default: central Shanghai).
    #[arg(long, value_parser = CityBox::parse)]
    city: Option<CityBox>,
    /// Seconds between GPS fixes (1..=60).
    #[arg(long, default_value_t = 10)]
    sample_secs: i64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Drive this node (repeatable) instead of printing the days.
    #[arg(
        long = "node",
        value_name = "URL",
        env = "CARCHAIN_NODE",
        value_delimiter = ','
    )]
    nodes: Vec<String>,
    /// With --node: stop driving after this many seconds.
    #[arg(long)]
    seconds: Option<u64>,
    /// With --node: how long each car keeps trying to deliver its queue after it stopped
    /// driving (the node may be down); records still queued then are reported as such.
    #[arg(long, default_value_t = 60)]
    drain_secs: u64,
    /// With --node: the cars' longest random pause between two pool addresses of one
    /// delivery, ms (the car's default is 5,000; lower it to load a node).
    #[arg(long, default_value_t = 5_000)]
    delivery_delay_ms: u64,
    /// With --node: stop after this many records in all.
    #[arg(long)]
    records: Option<u64>,
    /// With --node: the chain id to trust (with --validator; else the node's status is
    /// trusted on first use).
    #[arg(long, env = "CARCHAIN_CHAIN_ID")]
    chain_id: Option<String>,
    /// With --node: the validator public key (hex) to trust.
    #[arg(long, env = "CARCHAIN_VALIDATOR")]
    validator: Option<String>,
    /// With --node: the agent name the cars name (the node's `--agent`).
    #[arg(long, env = "CARCHAIN_AGENT", default_value = "carchain-node")]
    agent: String,
    /// With --node: each car's address pool size.
    #[arg(long, default_value_t = 32)]
    pool_size: usize,
    /// With --node: cars pairing at the same time (1..=256).
    #[arg(long, default_value_t = remote::PAIRING_CONCURRENCY)]
    pairing_concurrency: usize,
    /// With --node: the owner's wallet store, as `carchain --wallet` keeps it; the cars
    /// are paired into it, so `carchain range` reads them back afterwards. Without it
    /// the owner is restored from CARCHAIN_WORDS in memory.
    #[arg(long, value_name = "PATH", env = "CARCHAIN_WALLET")]
    wallet: Option<std::path::PathBuf>,
    /// With --node: write one JSON line per acknowledged record (vid, date, format,
    /// key, value) to this file.
    #[arg(long, value_name = "FILE")]
    acked: Option<std::path::PathBuf>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // One line with the causes, never a backtrace: these are expected failures
            // (no funds, a node that stays away, a refused record).
            eprintln!("car-sim: error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Prints the simulated days, or drives the nodes with `--node`.
fn run(args: &Args) -> Result<()> {
    let config = SimConfig {
        city: args.city.unwrap_or_else(CityBox::shanghai),
        seed: args.seed,
        sample_secs: args.sample_secs,
    };
    if !args.nodes.is_empty() {
        return drive_node(args, config);
    }
    for n in 1..=args.cars {
        let vid = format!("SIM{n:014}");
        let mut car = CarSimulator::new(&config, &vid)?;
        for day in car.days(args.from, args.days.unwrap_or(7)) {
            let km = total_distance_m(
                day.trips
                    .iter()
                    .filter_map(|t| t.trip.summary().ok())
                    .map(|s| s.distance_m),
            ) / 1000.0;
            let points: usize = day.trips.iter().map(|t| t.trip.points.len()).sum();
            let brakes: usize = day.trips.iter().map(|t| t.harsh_brakes.len()).sum();
            if args.json {
                println!(
                    "{}",
                    json!({"vid": vid, "date": day.date.to_string(), "trips": day.trips.len(),
                        "points": points, "km": (km * 10.0).round() / 10.0,
                        "harsh_brakes": brakes, "violations": day.violations.len()})
                );
            } else {
                println!(
                    "{vid} {}  {} trips  {points:>5} fixes  {km:>6.1} km  {brakes} harsh brakes  {} violations",
                    day.date,
                    day.trips.len(),
                    day.violations.len()
                );
            }
        }
    }
    Ok(())
}

/// `--node` mode: pair, drive, report.
fn drive_node(args: &Args, sim: SimConfig) -> Result<()> {
    remote::check_bounds(args.seconds, args.records, args.days)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("async runtime")?;
    runtime.block_on(async {
        let anchor = anchor(args).await?;
        let words = match args.wallet {
            Some(_) => None,
            None => std::env::var("CARCHAIN_WORDS").ok().map(Zeroizing::new),
        };
        if words.is_none() && args.wallet.is_none() {
            eprintln!("note: CARCHAIN_WORDS is not set: a fresh owner wallet is created (it needs funds on the chain)");
        }
        let options = remote::RemoteOptions {
            nodes: args.nodes.clone(),
            anchor,
            agent: args.agent.clone(),
            cars: args.cars,
            pool_size: args.pool_size,
            pairing_concurrency: args.pairing_concurrency,
            seconds: args.seconds,
            records: args.records,
            days: args.days,
            drain: std::time::Duration::from_secs(args.drain_secs),
            pacing: DeliveryPacing {
                max_delay: std::time::Duration::from_millis(args.delivery_delay_ms),
            },
            sim,
            first_day: args.from,
            words,
            wallet: args.wallet.clone(),
            acked: args.acked.clone(),
        };
        let report = remote::drive_remote(&options).await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            println!(
                "{} cars paired on a {} node in {} ms ({:.1} cars/s) by {}\n{} records queued, {} delivered, {} still queued, {} delivery attempts retried\n{} records in {:.1} s: {:.1} records/s sustained\nacknowledged latency (queued to held by the node): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                report.cars,
                report.mode,
                report.pairing_ms,
                report.cars_paired_per_s,
                report.owner_address,
                report.queued,
                report.records,
                report.remaining,
                report.retried,
                report.records,
                report.elapsed_s,
                report.records_per_s,
                report.latency_p50_ms,
                report.latency_p99_ms,
                report.latency_max_ms
            );
        }
        Ok(())
    })
}

/// The trust anchor: the flags, or the first node's status on first use (said on stderr).
async fn anchor(args: &Args) -> Result<TrustAnchor> {
    let first = args.nodes.first().context("no --node")?;
    let status = NodeHttp::new(first, reqwest::Client::new())?
        .status()
        .await
        .with_context(|| format!("reading {first}/v1/status"))?;
    let network: Network = status
        .network
        .parse()
        .with_context(|| format!("the node's network `{}`", status.network))?;
    match (&args.chain_id, &args.validator) {
        (Some(chain_id), Some(validator)) => {
            Ok(TrustAnchor::from_hex(chain_id, network, validator)?)
        }
        (None, None) => {
            eprintln!(
                "note: trusting chain {} with validator {} as {first} reports it (trust on first use)",
                status.chain_id, status.validator
            );
            Ok(TrustAnchor::from_hex(
                &status.chain_id,
                network,
                &status.validator,
            )?)
        }
        _ => bail!("--chain-id and --validator go together"),
    }
}
