//! The CarChain tour: the first thing a newcomer runs.
//!
//! `cargo run --release -p carchain-examples --bin tour -- --out DIR` starts an embedded
//! node, creates an owner wallet, pairs two cars, simulates a week of driving in
//! Shanghai, reads it back day by day and as a range, and writes the day maps (SVG and
//! PNG), `trips.geojson`, `trips.gpx`, `index.html` and `summary.json` to `DIR`.
//! The work is in [`carchain_examples::tour`].

use std::path::PathBuf;

use anyhow::Result;
use carchain_examples::sim::CityBox;
use carchain_examples::tour::{TourOptions, run_tour};
use clap::Parser;

/// Runs CarChain end to end: node, wallet, two cars, a week of trips, maps.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Folder for the maps, exports, index.html and summary.json.
    #[arg(long, default_value = "tour-out")]
    out: PathBuf,
    /// Node data directory (a temporary one when absent).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Days to simulate (1..=31).
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=31))]
    days: u32,
    /// Simulation seed.
    #[arg(long, default_value_t = 2016_0511)]
    seed: u64,
    /// City box `south,west,north,east` (default: central Shanghai).
    #[arg(long, value_parser = CityBox::parse)]
    city: Option<CityBox>,
    /// Size of each car's address pool.
    #[arg(long, default_value_t = 32)]
    pool_size: usize,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    let mut options = TourOptions::new(args.out);
    options.data_dir = args.data_dir;
    options.days = args.days;
    options.sim.seed = args.seed;
    options.pool_size = args.pool_size;
    if let Some(city) = args.city {
        options.sim.city = city;
    }
    run_tour(&options).await?;
    Ok(())
}
