//! The fleet: owners with one or two cars each, every car with its own lifetime
//! counters, driving 14 simulated days (commutes, lunches, outings, night trips,
//! parking violations) compressed into a few seconds a day, some cars offline for days
//! and then flushing their backlog; afterwards each owner reads its cars' days back.
//!
//! Everything goes through the SDK's public API, as an app and a head unit use it:
//! `Wallet::create_in`, `Wallet::paying_reads`, `CarDevice::open`,
//! `CarDevice::paying_reads`, the simulator's pairing (`pair_sim_car`: owner funds the
//! car's reads, `CarDevice::pairing_payload` / `complete_pairing`,
//! `Wallet::pair_device_with_timeout`), `CarDevice::put_trip`, `CarDevice::put`,
//! `CarDevice::flush`, `Wallet::get_kv_range` and `Wallet::trips`. The test keeps the
//! ground truth: which pool address holds which car's records.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use carchain_core::device::CarDevice;
use carchain_core::keys::{Network, WordCount};
use carchain_core::light::{LightClient, TrustAnchor};
use carchain_core::record::FormatSpec;
use carchain_core::store::{InMemorySecretStore, WalletStore};
use carchain_core::trip::Trip;
use carchain_core::wallet::Wallet;
use carchain_examples::sim::pairing::pair_sim_car;
use carchain_examples::sim::{CarSimulator, SimConfig};
use chrono::NaiveDate;
use serde_json::{Value, json};

/// The fleet's shape and pace.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// Owners; the first `two_car_owners` have two cars, the rest one.
    pub owners: usize,
    /// Owners with two cars.
    pub two_car_owners: usize,
    /// Simulated days.
    pub days: u32,
    /// The first simulated day.
    pub first_day: NaiveDate,
    /// Wall-clock length of a simulated day.
    pub day: Duration,
    /// Each car's pool size.
    pub pool_size: usize,
    /// The node's agent name.
    pub agent: String,
}

impl FleetConfig {
    /// Number of cars.
    pub fn cars(&self) -> usize {
        self.owners + self.two_car_owners
    }
}

/// What the test knows of an owner.
pub struct Owner {
    /// The wallet.
    pub wallet: Arc<Wallet>,
    /// Its cars (indexes into [`Fleet::cars`]).
    pub cars: Vec<usize>,
}

/// Keys of a car's records by day and format name.
pub type PutKeys = BTreeMap<(NaiveDate, String), Vec<Value>>;

/// What the test knows of a car.
pub struct Car {
    /// The car.
    pub device: Arc<CarDevice>,
    /// Keys of its records by day and format name.
    pub put: PutKeys,
    /// Its pool addresses, as the owner's reads found them.
    pub addresses: BTreeSet<String>,
}

/// The fleet and its ground truth.
pub struct Fleet {
    /// Owners.
    pub owners: Vec<Owner>,
    /// Cars.
    pub cars: Vec<Car>,
    /// Records put.
    pub records: usize,
}

/// Makes the owners' wallets (in memory; two at a time, an RSA key each); fund their
/// addresses at genesis.
pub fn owners(config: &FleetConfig) -> Vec<Owner> {
    let make = || {
        let store = WalletStore::open_in_memory(Arc::new(InMemorySecretStore::new()))
            .expect("wallet store");
        let (wallet, _words) =
            Wallet::create_in(store, Network::Regtest, WordCount::Twelve, "").expect("wallet");
        Owner {
            wallet: Arc::new(wallet),
            cars: Vec::new(),
        }
    };
    std::thread::scope(|scope| {
        let half = config.owners / 2;
        let other = scope.spawn(move || (0..half).map(|_| make()).collect::<Vec<_>>());
        let mut mine: Vec<Owner> = (half..config.owners).map(|_| make()).collect();
        let mut owners = other.join().expect("wallet thread");
        owners.append(&mut mine);
        owners
    })
}

/// A 17-character VIN, distinct per car.
fn vin(car: usize) -> String {
    format!(
        "LSGJA52U{}CH{:06}",
        car % 10,
        104_729 * (car + 3) % 1_000_000
    )
}

/// One record a car puts at a moment of its day.
enum Record {
    Trip(Trip),
    Violation(Value, Value),
}

struct Event {
    at: Duration,
    date: NaiveDate,
    record: Record,
}

/// The car's days as timed events, its counters moved to its own starting values.
fn events(config: &FleetConfig, car: usize) -> Vec<Event> {
    let sim_config = SimConfig {
        sample_secs: 30,
        ..SimConfig::default()
    };
    let mut sim = CarSimulator::new(&sim_config, &format!("FLEET-CAR-{car}")).expect("sim");
    // Lifetime counters: every car has driven and been fined before.
    let session_base = 1 + (car as i64 * 7919 + 311) % 9000 * 3;
    let violation_base = (car as i64 * 104_729) % 700;
    let day_ms = config.day.as_millis() as f64;
    let mut events = Vec::new();
    for (n, day) in sim
        .days(config.first_day, config.days)
        .into_iter()
        .enumerate()
    {
        let midnight = day
            .date
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp();
        let at = |seconds: i64| {
            let fraction = ((seconds - midnight) as f64 / 86_400.0).clamp(0.0, 0.999);
            Duration::from_millis(((n as f64 + fraction) * day_ms) as u64)
        };
        for driven in day.trips {
            let mut trip = driven.trip;
            trip.session_id += session_base;
            events.push(Event {
                at: at(trip.end),
                date: day.date,
                record: Record::Trip(trip),
            });
        }
        for mut violation in day.violations {
            violation.id += violation_base;
            events.push(Event {
                at: at(violation.time),
                date: day.date,
                record: Record::Violation(violation.key(), violation.value(day.date)),
            });
        }
    }
    events.sort_by_key(|e| e.at);
    events
}

/// Days (0-based) a car is offline: its records wait in its queue until it is back.
fn offline(car: usize, day: usize) -> bool {
    match car % 5 {
        1 => (3..=5).contains(&day),
        3 => (8..=10).contains(&day),
        _ => false,
    }
}

/// A light client of the node through `base` (the logging proxy).
pub fn light(base: &str, anchor: &TrustAnchor) -> LightClient {
    LightClient::new(vec![base.to_owned()], anchor.clone()).expect("light client")
}

/// Pairs every car with its owner (owners in parallel), then drives the days: each
/// car puts each record when its trip ends and flushes when online. Returns the fleet.
pub async fn drive(
    config: &FleetConfig,
    mut owners: Vec<Owner>,
    base: &str,
    anchor: &TrustAnchor,
    dir: &std::path::Path,
) -> Fleet {
    let mut cars = Vec::new();
    for car in 0..config.cars() {
        let owner = if car < 2 * config.two_car_owners {
            car / 2
        } else {
            car - config.two_car_owners
        };
        let vid = vin(car);
        let device = CarDevice::open(
            &dir.join(format!("{vid}.db")),
            Arc::new(InMemorySecretStore::new()),
            &vid,
        )
        .expect("car store");
        owners[owner].cars.push(car);
        cars.push(Car {
            device: Arc::new(device),
            put: BTreeMap::new(),
            addresses: BTreeSet::new(),
        });
    }

    let mut pairings = tokio::task::JoinSet::new();
    for owner in &owners {
        let wallet = Arc::clone(&owner.wallet);
        let devices: Vec<Arc<CarDevice>> = owner
            .cars
            .iter()
            .map(|c| Arc::clone(&cars[*c].device))
            .collect();
        let (base, anchor, config) = (base.to_owned(), anchor.clone(), config.clone());
        pairings.spawn(async move {
            let owner_light = wallet.paying_reads(light(&base, &anchor));
            for device in devices {
                let car_light = device.paying_reads(light(&base, &anchor));
                pair_sim_car(
                    &wallet,
                    &owner_light,
                    &device,
                    &car_light,
                    config.pool_size,
                    &config.agent,
                )
                .await
                .unwrap_or_else(|e| panic!("pairing {}: {e:#}", device.vid()));
            }
        });
    }
    while let Some(done) = pairings.join_next().await {
        done.expect("pairing task");
    }
    eprintln!("fleet: {} cars paired", cars.len());

    let started = Instant::now();
    let mut drives = tokio::task::JoinSet::new();
    let mut records = 0;
    for (n, car) in cars.iter_mut().enumerate() {
        let events = events(config, n);
        records += events.len();
        for event in &events {
            let (format, key) = match &event.record {
                Record::Trip(trip) => (
                    FormatSpec::trip_gps().name().to_owned(),
                    Value::Object(trip.to_key().expect("trip key")),
                ),
                Record::Violation(key, _) => (FormatSpec::carvio().name().to_owned(), key.clone()),
            };
            car.put.entry((event.date, format)).or_default().push(key);
        }
        let device = Arc::clone(&car.device);
        let car_light = device.paying_reads(light(base, anchor));
        let first_day = config.first_day;
        drives.spawn(async move {
            for event in events {
                tokio::time::sleep_until((started + event.at).into()).await;
                match &event.record {
                    Record::Trip(trip) => device.put_trip(trip, 1, event.date),
                    Record::Violation(key, value) => {
                        device.put(&FormatSpec::carvio(), key, value, event.date)
                    }
                }
                .unwrap_or_else(|e| panic!("{} put: {e}", device.vid()));
                let day = (event.date - first_day).num_days() as usize;
                if !offline(n, day) {
                    let report = device
                        .flush(&car_light)
                        .await
                        .unwrap_or_else(|e| panic!("{} flush: {e}", device.vid()));
                    assert_eq!(report.remaining, 0, "{} kept puts", device.vid());
                }
            }
            let report = device.flush(&car_light).await.expect("last flush");
            assert_eq!(report.remaining, 0);
        });
    }
    while let Some(done) = drives.join_next().await {
        done.expect("car task");
    }
    eprintln!(
        "fleet: {records} records put in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Fleet {
        owners,
        cars,
        records,
    }
}

/// Each owner (in parallel) reads back every day of each of its cars, one day at a
/// time (`Wallet::get_kv_range`), then its violations over the period and its trip
/// list (`Wallet::trips`); checks them against what was put and records the
/// addresses that held them.
pub async fn read_back(config: &FleetConfig, fleet: &mut Fleet, base: &str, anchor: &TrustAnchor) {
    let last_day = config.first_day + chrono::Days::new(u64::from(config.days) - 1);
    let mut reads = tokio::task::JoinSet::new();
    for owner in &fleet.owners {
        let wallet = Arc::clone(&owner.wallet);
        let cars: Vec<(usize, String, PutKeys)> = owner
            .cars
            .iter()
            .map(|c| {
                (
                    *c,
                    fleet.cars[*c].device.vid().to_owned(),
                    fleet.cars[*c].put.clone(),
                )
            })
            .collect();
        let (base, anchor, first_day) = (base.to_owned(), anchor.clone(), config.first_day);
        reads.spawn(async move {
            let owner_light = wallet.paying_reads(light(&base, &anchor));
            let mut found: Vec<(usize, String)> = Vec::new();
            let (trip_gps, carvio) = (FormatSpec::trip_gps(), FormatSpec::carvio());
            let all = json!({});
            for (car, vid, put) in cars {
                let mut day = first_day;
                let mut trips = 0;
                while day <= last_day {
                    let read = wallet
                        .get_kv_range(
                            &owner_light,
                            &vid,
                            day,
                            day,
                            &trip_gps,
                            &all,
                            &all,
                            &[],
                            None,
                        )
                        .await
                        .unwrap_or_else(|e| panic!("{vid} {day}: {e}"));
                    assert_eq!(read.missing, 0, "{vid} {day}");
                    let want = put
                        .get(&(day, trip_gps.name().to_owned()))
                        .cloned()
                        .unwrap_or_default();
                    // The day's address may also hold another day's trips (a pool
                    // address can come back): keep the day's own.
                    let stamp = day.format("%Y%m%d").to_string();
                    let got: Vec<Value> = read
                        .records
                        .iter()
                        .map(|r| Value::Object(r.key.clone()))
                        .filter(|key| key["START_TIME"].to_string().starts_with(&stamp))
                        .collect();
                    assert_eq!(sorted(&got), sorted(&want), "{vid} {day}: trips read back");
                    trips += got.len();
                    found.extend(read.records.iter().map(|r| (car, r.address.clone())));
                    day = day.succ_opt().expect("next day");
                }
                let read = wallet
                    .get_kv_range(
                        &owner_light,
                        &vid,
                        first_day,
                        last_day,
                        &carvio,
                        &all,
                        &all,
                        &[],
                        None,
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{vid} violations: {e}"));
                let want: Vec<Value> = put
                    .iter()
                    .filter(|((_, format), _)| format == carvio.name())
                    .flat_map(|(_, keys)| keys.clone())
                    .collect();
                let got: Vec<Value> = read
                    .records
                    .iter()
                    .map(|r| Value::Object(r.key.clone()))
                    .collect();
                assert_eq!(sorted(&got), sorted(&want), "{vid}: violations read back");
                found.extend(read.records.iter().map(|r| (car, r.address.clone())));
                let list = wallet
                    .trips(&owner_light, &vid, first_day, last_day)
                    .await
                    .unwrap_or_else(|e| panic!("{vid} trips: {e}"));
                assert_eq!(list.trips.len(), trips, "{vid}: the trip list");
            }
            found
        });
    }
    while let Some(done) = reads.join_next().await {
        for (car, address) in done.expect("read task") {
            fleet.cars[car].addresses.insert(address);
        }
    }
}

fn sorted(values: &[Value]) -> Vec<String> {
    let mut texts: Vec<String> = values.iter().map(Value::to_string).collect();
    texts.sort();
    texts
}
