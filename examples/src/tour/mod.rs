//! The tour as a library: everything `tour` does, callable from tests. It starts an
//! embedded node, creates an owner wallet, pairs two cars, simulates their days, reads
//! them back day by day and as a range, renders the maps, lets an insurer buy a
//! usage-based-insurance score of the first car's week, and writes `summary.json`.
//!
//! Start with [`run_tour`] and [`TourOptions`].

mod map_trips;
mod narrator;
mod node;
mod pairing;
mod summary;
mod ubi;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use carchain_core::device::CarDevice;
use carchain_core::keys::{Mnemonic, Network, RsaBits, WalletKeys, WordCount};
use carchain_core::record::FormatSpec;
use carchain_core::store::{InMemorySecretStore, WalletStore};
use carchain_core::trip::{Trip, total_distance_m, trips_to_geojson, trips_to_gpx};
use carchain_core::wallet::Wallet;
use chrono::{Datelike, NaiveDate};
use serde_json::json;

use crate::maps::{
    DayMarks, IndexEntry, day_map_svg, index_html, interactive_map, svg_to_png, write_leaflet,
};
use crate::seed_vectors;
use crate::sim::{CarSimulator, SimConfig, SimulatedDay};
use narrator::{Narrator, ms};

pub use node::{EmbeddedNode, TOUR_AGENT, TOUR_CHAIN_ID};
pub use pairing::pair_car;
pub use summary::{CarSummary, Timings, TourSummary, UbiStep};
pub use ubi::{
    HOME_ZONE_RADIUS_M, INSURER_FUNDING, UBI_PRICE, UbiSetting, home_zone, run_ubi, tour_insurer,
};

/// The two cars of the tour: (VID, name). The first is the seed's example car.
pub const TOUR_CARS: [(&str, &str); 2] = [
    (seed_vectors::VID, "family SUV"),
    ("LSGJA52U8CH042017", "city hatchback"),
];

/// What the tour does and where it writes.
#[derive(Debug, Clone, PartialEq)]
pub struct TourOptions {
    /// Folder for the maps, exports, `index.html` and `summary.json` (created).
    pub out: PathBuf,
    /// Node data directory; a temporary one when `None`.
    pub data_dir: Option<PathBuf>,
    /// Number of days to simulate (1..=31).
    pub days: u32,
    /// First simulated day (local date).
    pub first_day: NaiveDate,
    /// Simulator settings (city box, seed, GPS interval).
    pub sim: SimConfig,
    /// Size of each car's address pool.
    pub pool_size: usize,
    /// Print the account and progress bars (off in tests).
    pub verbose: bool,
}

impl TourOptions {
    /// A week from Monday 2024-05-06 in Shanghai, writing to `out`.
    pub fn new(out: impl Into<PathBuf>) -> TourOptions {
        TourOptions {
            out: out.into(),
            data_dir: None,
            days: 7,
            first_day: NaiveDate::from_ymd_opt(2024, 5, 6).unwrap_or_default(),
            sim: SimConfig::default(),
            pool_size: 32,
            verbose: true,
        }
    }
}

/// Runs the whole tour and writes its files to `options.out`; returns the summary that
/// was written to `summary.json`.
pub async fn run_tour(options: &TourOptions) -> Result<TourSummary> {
    if !(1..=31).contains(&options.days) {
        bail!("days must be 1..=31, not {}", options.days);
    }
    let started = Instant::now();
    let say = Narrator {
        verbose: options.verbose,
    };
    let mut timings = Timings::default();
    fs::create_dir_all(&options.out)
        .with_context(|| format!("creating {}", options.out.display()))?;

    say.say("CarChain tour\n=============\n");
    say.say("1. A wallet restored from the design's 12 example words");
    let step = Instant::now();
    let words = Mnemonic::parse(seed_vectors::WORDS).context("parsing the example words")?;
    for network in [Network::Regtest, Network::Testnet, Network::Mainnet] {
        let keys = WalletKeys::from_mnemonic(&words, "", network, RsaBits::B2048)
            .context("restoring the example keys")?;
        say.say(format!(
            "   {network:<8} owner address {}",
            keys.owner_address()
        ));
        if network == Network::Regtest {
            say.say(format!(
                "   RSA-2048 key fingerprint {} (the same words always give the same key)",
                keys.rsa_fingerprint()
            ));
        }
    }
    timings.wallet_facts_ms = ms(step);

    say.say("\n2. The owner creates a new wallet on the phone");
    let step = Instant::now();
    let store = WalletStore::open_in_memory(Arc::new(InMemorySecretStore::new()))
        .context("opening the wallet store")?;
    let (owner, _words) = Wallet::create_in(store, Network::Regtest, WordCount::Twelve, "")
        .context("creating the owner wallet")?;
    say.say(format!(
        "   owner address {} (its 12 recovery words stay on the phone and are not printed)",
        owner.owner_address()
    ));
    timings.wallet_create_ms = ms(step);

    say.say("\n3. An embedded node starts: ledger and encrypted KV store in SQLite");
    let step = Instant::now();
    let temp = tempfile_dir(options.data_dir.as_deref())?;
    let data_dir = temp.path().join("node");
    let funding = 1_000_000_000_u64;
    let insurer = tour_insurer()?;
    let node = EmbeddedNode::start(
        &data_dir,
        &[
            (owner.owner_address(), funding),
            (insurer.address(), INSURER_FUNDING),
        ],
    )
    .await?;
    let light = node.client()?;
    say.say(format!(
        "   chain {TOUR_CHAIN_ID} at {} (data in {}), owner funded with {funding}, an insurer with {INSURER_FUNDING}",
        node.base,
        data_dir.display()
    ));
    timings.node_start_ms = ms(step);

    say.say("\n4. Two cars show a pairing code; the owner scans it and pairs them");
    let step = Instant::now();
    let cars_dir = temp.path().join("cars");
    fs::create_dir_all(&cars_dir)?;
    let mut cars = Vec::new();
    for (vid, name) in TOUR_CARS {
        let car = CarDevice::open(
            &cars_dir.join(format!("{vid}.db")),
            Arc::new(InMemorySecretStore::new()),
            vid,
        )
        .with_context(|| format!("opening car {vid}"))?;
        pair_car(&owner, &light, &car, name, options.pool_size, TOUR_AGENT).await?;
        say.say(format!(
            "   {vid} ({name}) paired: a secret pool of {} addresses",
            options.pool_size
        ));
        cars.push(car);
    }
    timings.pairing_ms = ms(step);

    say.say(format!(
        "\n5. The cars drive around Shanghai for {} days and put every record",
        options.days
    ));
    let step = Instant::now();
    let mut simulated: Vec<Vec<SimulatedDay>> = Vec::new();
    for car in &cars {
        let mut sim = CarSimulator::new(&options.sim, car.vid())?;
        simulated.push(sim.days(options.first_day, options.days));
    }
    let total_days = (cars.len() as u64) * u64::from(options.days);
    let bar = say.bar(total_days, "putting car-days");
    let mut records_put = 0_u64;
    let mut value_bytes = 0_u64;
    for (car, days) in cars.iter().zip(&simulated) {
        for day in days {
            for driven in &day.trips {
                value_bytes += driven.trip.to_value(1)?.to_string().len() as u64;
                car.put_trip(&driven.trip, 1, day.date)?;
            }
            for violation in &day.violations {
                let value = violation.value(day.date);
                value_bytes += value.to_string().len() as u64;
                car.put(&FormatSpec::carvio(), &violation.key(), &value, day.date)?;
            }
            let report = car.flush(&light).await?;
            if report.remaining > 0 {
                bail!("{} puts of {} stayed queued", report.remaining, car.vid());
            }
            records_put += report.delivered + report.already_there;
            bar.set_message(format!("{} {}", car.vid(), day.date));
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    timings.put_ms = ms(step);
    let trips_put: u64 = simulated
        .iter()
        .flatten()
        .map(|d| d.trips.len() as u64)
        .sum();
    let violations_put: u64 = simulated
        .iter()
        .flatten()
        .map(|d| d.violations.len() as u64)
        .sum();
    let put_rate = records_put as f64 / (timings.put_ms.max(1) as f64 / 1000.0);
    say.say(format!(
        "   {records_put} records put ({trips_put} trips, {violations_put} parking violations), {value_bytes} plaintext bytes, {put_rate:.0} records/s"
    ));

    say.say("\n6. The owner's phone reads each day back through the secret pool");
    let step = Instant::now();
    let bar = say.bar(total_days, "reading car-days");
    let mut car_summaries = Vec::new();
    let mut all_trips: Vec<Trip> = Vec::new();
    let mut read_trips: BTreeMap<(String, NaiveDate), Vec<Trip>> = BTreeMap::new();
    // The pool address each car's trips of each day were read from.
    let mut day_addresses: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    let mut trips_read = 0_u64;
    let mut violations_read = 0_u64;
    let mut mismatches = Vec::new();
    let all = json!({});
    for (car, days) in cars.iter().zip(&simulated) {
        for day in days {
            let read = owner
                .trip_records(&light, car.vid(), day.date, day.date)
                .await?;
            // The day's address may also serve other days of the pool (the seed's
            // deductFrom picks one of N addresses per day): every trip of the day must be
            // among what it holds.
            let mut decoded = Vec::new();
            for record in &read.records {
                decoded.push(Trip::decode(&record.key, &record.value)?);
            }
            let expected: Vec<&Trip> = day.trips.iter().map(|d| &d.trip).collect();
            let day_trips: Vec<Trip> = decoded
                .iter()
                .filter(|t| expected.contains(t))
                .cloned()
                .collect();
            let addresses_of_day = day_addresses.entry(car.vid().to_owned()).or_default();
            for (record, trip) in read.records.iter().zip(&decoded) {
                if expected.contains(&trip) {
                    addresses_of_day.insert(record.address.clone());
                }
            }
            // The day's address also holds `carvio` records (this day's and, when the pool
            // gives it to several days, other days'): a `trip-gps` read sets exactly those
            // aside; anything else set aside is a failure.
            let other_formats = read
                .rejected
                .iter()
                .filter(|r| r.reason.contains("`carvio`"))
                .count();
            if day_trips.iter().collect::<Vec<_>>() != expected
                || other_formats != read.rejected.len()
            {
                let first_diff = day_trips
                    .iter()
                    .zip(&expected)
                    .find(|(got, want)| got != *want)
                    .map(|(got, want)| {
                        let diff = got
                            .points
                            .iter()
                            .zip(&want.points)
                            .position(|(a, b)| a != b);
                        format!(
                            "session {} vs {}, {} vs {} points, first point differing {diff:?}",
                            got.session_id,
                            want.session_id,
                            got.points.len(),
                            want.points.len()
                        )
                    })
                    .unwrap_or_default();
                mismatches.push(format!(
                    "{} {} trips: read {} of {}, rejected {:?}; {first_diff}",
                    car.vid(),
                    day.date,
                    day_trips.len(),
                    expected.len(),
                    read.rejected.iter().map(|r| &r.reason).collect::<Vec<_>>()
                ));
            }
            trips_read += day_trips.len() as u64;
            let carvio = owner
                .get_kv_range(
                    &light,
                    car.vid(),
                    day.date,
                    day.date,
                    &FormatSpec::carvio(),
                    &all,
                    &all,
                    &[],
                    None,
                )
                .await?;
            let expected_values: Vec<serde_json::Value> =
                day.violations.iter().map(|v| v.value(day.date)).collect();
            let compact_day = json!(
                i64::from(day.date.year()) * 10_000
                    + i64::from(day.date.month()) * 100
                    + i64::from(day.date.day())
            );
            let got_values: Vec<serde_json::Value> = carvio
                .records
                .iter()
                .filter(|r| r.value["datetime"] == compact_day)
                .map(|r| r.value.clone())
                .collect();
            if got_values != expected_values {
                mismatches.push(format!("{} {} violations", car.vid(), day.date));
            }
            violations_read += got_values.len() as u64;
            all_trips.extend(day_trips.iter().cloned());
            read_trips.insert((car.vid().to_owned(), day.date), day_trips);
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    timings.read_days_ms = ms(step);
    say.say(format!(
        "   {trips_read} trips and {violations_read} violations read back, decrypted and equal to what the cars put ({} mismatches)",
        mismatches.len()
    ));

    say.say("\n7. The whole period as one range read per car");
    let step = Instant::now();
    let last_day = options
        .first_day
        .checked_add_days(chrono::Days::new(u64::from(options.days - 1)))
        .context("date overflow")?;
    let mut range_records = 0_u64;
    for (car, days) in cars.iter().zip(&simulated) {
        let range = owner
            .trip_records(&light, car.vid(), options.first_day, last_day)
            .await?;
        let list = owner
            .trips(&light, car.vid(), options.first_day, last_day)
            .await?;
        let put_here: u64 = days.iter().map(|d| d.trips.len() as u64).sum();
        let distance_km = total_distance_m(list.trips.iter().map(|t| t.distance_m)) / 1000.0;
        let addresses: std::collections::BTreeSet<String> =
            range.records.iter().map(|r| r.address.clone()).collect();
        if range.records.len() as u64 != put_here || list.trips.len() as u64 != put_here {
            mismatches.push(format!("{} range", car.vid()));
        }
        // The range read spans exactly the addresses the day reads found the trips under
        // (the pool may give two days one address, so there can be fewer than days).
        if day_addresses.get(car.vid()).cloned().unwrap_or_default() != addresses {
            mismatches.push(format!("{} range addresses", car.vid()));
        }
        range_records += range.records.len() as u64;
        say.say(format!(
            "   {}: {} trips, {distance_km:.1} km, from {} different pool addresses",
            car.vid(),
            range.records.len(),
            addresses.len()
        ));
        car_summaries.push(CarSummary {
            vid: car.vid().to_owned(),
            trips_put: put_here,
            violations_put: days.iter().map(|d| d.violations.len() as u64).sum(),
            harsh_brakes: days
                .iter()
                .flat_map(|d| &d.trips)
                .map(|t| t.harsh_brakes.len() as u64)
                .sum(),
            range_trips_read: range.records.len() as u64,
            distance_km,
            addresses_used: addresses.len() as u64,
            days_with_trips: days.iter().filter(|d| !d.trips.is_empty()).count() as u64,
        });
    }
    timings.read_range_ms = ms(step);

    say.say("\n8. Maps of every car and day");
    let step = Instant::now();
    let bar = say.bar(total_days, "rendering maps");
    let mut entries = Vec::new();
    let mut files = Vec::new();
    let mut interactive_trips = Vec::new();
    for (c, (car, days)) in cars.iter().zip(&simulated).enumerate() {
        for day in days {
            let trips = read_trips
                .get(&(car.vid().to_owned(), day.date))
                .cloned()
                .unwrap_or_default();
            bar.inc(1);
            if trips.is_empty() {
                continue;
            }
            let marks = DayMarks {
                harsh_brakes: day
                    .trips
                    .iter()
                    .flat_map(|t| &t.harsh_brakes)
                    .map(|b| (b.lat, b.lng))
                    .collect(),
                violations: day.violations.iter().map(|v| (v.lat, v.lng)).collect(),
            };
            let km = total_distance_m(
                trips
                    .iter()
                    .filter_map(|t| t.summary().ok())
                    .map(|s| s.distance_m),
            ) / 1000.0;
            let heading = format!(
                "{} ({}) · {} · {} trips, {km:.1} km",
                car.vid(),
                TOUR_CARS.get(c).map_or("", |(_, name)| name),
                day.date,
                trips.len()
            );
            interactive_trips.extend(map_trips::map_trips_of_day(
                &format!(
                    "{} ({})",
                    car.vid(),
                    TOUR_CARS.get(c).map_or("", |(_, name)| name)
                ),
                c,
                &day.date.to_string(),
                &trips,
                day,
            ));
            let svg = day_map_svg(&heading, &trips, &marks)?;
            let stem = format!("car{}-{}", c + 1, day.date);
            let svg_file = format!("{stem}.svg");
            let png_file = format!("{stem}.png");
            fs::write(options.out.join(&svg_file), &svg)?;
            fs::write(options.out.join(&png_file), svg_to_png(&svg)?)?;
            files.push(svg_file.clone());
            files.push(png_file.clone());
            entries.push(IndexEntry {
                heading,
                svg_file,
                png_file: Some(png_file),
                svg,
            });
        }
    }
    bar.finish_and_clear();
    fs::write(
        options.out.join("trips.geojson"),
        trips_to_geojson(&all_trips)?,
    )?;
    fs::write(
        options.out.join("trips.gpx"),
        trips_to_gpx(&all_trips, "carchain-tour")?,
    )?;
    let intro = format!(
        "Two cars, {} days around Shanghai, every trip written encrypted under a secret daily address and read back by the owner's wallet.",
        options.days
    );
    files.extend(write_leaflet(&options.out)?);
    fs::write(
        options.out.join("index.html"),
        index_html(
            "CarChain tour: a week of trips",
            &intro,
            Some(&interactive_map(&interactive_trips)),
            &entries,
        ),
    )?;
    files.extend(["trips.geojson", "trips.gpx", "index.html"].map(String::from));
    timings.maps_ms = ms(step);
    say.say(format!(
        "   {} day maps (SVG + PNG), trips.geojson, trips.gpx and index.html in {}",
        entries.len(),
        options.out.display()
    ));

    say.say("\n9. An insurer's usage-based-insurance request, approved and paid");
    let step = Instant::now();
    let (first_car, first_days) = cars
        .first()
        .zip(simulated.first())
        .context("the tour has a car")?;
    let home = first_days
        .iter()
        .flat_map(|d| &d.trips)
        .find_map(|t| t.trip.points.first())
        .copied()
        .context("the first car drove no trip")?;
    let ubi = run_ubi(&UbiSetting {
        owner: &owner,
        insurer: &insurer,
        light: &light,
        base: &node.base,
        vid: first_car.vid(),
        from: options.first_day,
        to: last_day,
        home,
    })
    .await?;
    timings.ubi_ms = ms(step);
    say.say(format!(
        "   {}: the insurer asked for {}'s trips from {} to {}, the owner approved with a {HOME_ZONE_RADIUS_M:.0} m privacy zone around home",
        ubi.status,
        first_car.vid(),
        options.first_day,
        last_day
    ));
    say.say(format!("   {}", ubi.note));
    say.say(format!(
        "   owner balance {} -> {} (+{} price, less the approval's fees)",
        ubi.owner_balance_before, ubi.owner_balance_after, ubi.price
    ));

    let owner_balance = light.account(&owner.owner_address()).await?.balance;
    let operator_balance = light.account(&node.operator_address).await?.balance;
    timings.total_ms = ms(started);
    let summary = TourSummary {
        chain_id: TOUR_CHAIN_ID.into(),
        days: options.days,
        first_day: options.first_day.to_string(),
        cars: car_summaries,
        records_put,
        trips_put,
        violations_put,
        trips_read,
        violations_read,
        range_records,
        all_read_back: mismatches.is_empty()
            && trips_read == trips_put
            && violations_read == violations_put,
        mismatches,
        value_bytes,
        owner_funded: funding,
        owner_balance,
        operator_balance,
        ubi,
        files,
        timings,
    };
    fs::write(
        options.out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
    say.say(format!(
        "\nDone in {:.1} s: owner balance {owner_balance} (fees paid {}), summary.json written.",
        summary.timings.total_ms as f64 / 1000.0,
        funding.saturating_sub(owner_balance)
    ));
    Ok(summary)
}

/// The node's data directory: `given` (kept), or a temporary one removed at the end.
fn tempfile_dir(given: Option<&Path>) -> Result<tempfile::TempDir> {
    match given {
        Some(dir) => {
            fs::create_dir_all(dir)?;
            tempfile::Builder::new()
                .prefix("tour-")
                .disable_cleanup(true)
                .tempdir_in(dir)
                .context("data directory")
        }
        None => tempfile::tempdir().context("temporary data directory"),
    }
}
