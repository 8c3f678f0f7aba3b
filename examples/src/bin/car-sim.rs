//! `car-sim`: simulates cars driving in a city box and prints what they would put,
//! day by day (trips, distance, harsh brakes, parking violations), as text or JSON.
//! Deterministic by `--seed`. Driving a remote node (`--node URL`) is not built yet.

use anyhow::Result;
use carchain_examples::sim::{CarSimulator, CityBox, SimConfig};
use chrono::NaiveDate;
use clap::Parser;
use serde_json::json;

/// Simulates cars in a city and reports their days.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Number of cars (1..=1000).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=1000))]
    cars: u32,
    /// Days to simulate (1..=366).
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=366))]
    days: u32,
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
    /// Print JSON lines instead of text.
    #[arg(long)]
    json: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let config = SimConfig {
        city: args.city.unwrap_or_else(CityBox::shanghai),
        seed: args.seed,
        sample_secs: args.sample_secs,
    };
    for n in 1..=args.cars {
        let vid = format!("SIM{n:014}");
        let mut car = CarSimulator::new(&config, &vid)?;
        for day in car.days(args.from, args.days) {
            let km: f64 = day
                .trips
                .iter()
                .filter_map(|t| t.trip.summary().ok())
                .map(|s| s.distance_m)
                .sum::<f64>()
                / 1000.0;
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
