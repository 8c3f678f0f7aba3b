//! Wallet and car helpers shared by the end-to-end tests and the benchmarks: wallets
//! restored from published test words, cars with their own stores, plausible trips, and
//! the two sides of a pairing run together.

use std::sync::Arc;
use std::time::Duration;

use carchain_core::device::CarDevice;
use carchain_core::keys::Network;
use carchain_core::light::LightClient;
use carchain_core::record::FormatSpec;
use carchain_core::store::{InMemorySecretStore, WalletStore};
use carchain_core::trip::{Trip, TripPoint};
use carchain_core::wallet::{RangeResult, Wallet};
use chrono::{Datelike, NaiveDate, NaiveTime};

use crate::{AGENT, Mode, TestNode, start_node};

pub const WORDS_A: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
pub const WORDS_B: &str =
    "legal winner thank year wave sausage worth useful legal winner thank yellow";

pub fn wallet(words: &str) -> Wallet {
    let store = WalletStore::open_in_memory(Arc::new(InMemorySecretStore::new())).expect("store");
    Wallet::restore_in(store, Network::Regtest, words, "").expect("wallet")
}

pub fn car(dir: &tempfile::TempDir, vid: &str) -> CarDevice {
    let secrets = Arc::new(InMemorySecretStore::new());
    CarDevice::open(&dir.path().join(format!("{vid}.db")), secrets, vid)
        .expect("car")
        .with_delivery_pacing(carchain_core::device::DeliveryPacing {
            max_delay: std::time::Duration::from_millis(10),
        })
}

pub fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 5, n).expect("date")
}

/// A plausible trip on `date`: a 20-point drive heading north-east from a per-car
/// origin at 30-60 km/h, one point every 30 s from 08:00 UTC.
pub fn trip_on(date: NaiveDate, session: i64, origin: (f64, f64)) -> Trip {
    let start = date
        .and_time(NaiveTime::from_hms_opt(8, 0, 0).expect("time"))
        .and_utc()
        .timestamp();
    let points: Vec<TripPoint> = (0..20)
        .map(|i| TripPoint {
            lat: origin.0 + f64::from(i) * 0.0021 + f64::from(date.day0()) * 0.01,
            lng: origin.1 + f64::from(i) * 0.0017,
            speed_kmh: Some(30.0 + f64::from(i % 7) * 5.0),
            time: start + i64::from(i) * 30,
        })
        .collect();
    Trip {
        session_id: session,
        start,
        end: start + 19 * 30,
        points,
    }
}

/// Runs the owner's pairing of `car` (its payload valid 600 s, named `name`, a pool of
/// `size` addresses) and the car's side of it together.
pub async fn pair(owner: &Wallet, light: &LightClient, car: &CarDevice, name: &str, size: usize) {
    let text = car.pairing_payload(600).expect("payload").to_text();
    pair_with_code(owner, light, car, name, size, text).await;
}

/// [`pair`] with the code `text` the car shows (e.g. after a reset).
pub async fn pair_with_code(
    owner: &Wallet,
    light: &LightClient,
    car: &CarDevice,
    name: &str,
    size: usize,
    text: String,
) {
    let car_side = async {
        for _ in 0..300 {
            if car.complete_pairing(light).await.expect("car pairing") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the car never saw the offer");
    };
    let owner_side =
        owner.pair_device_with_timeout(light, &text, name, size, AGENT, Duration::from_secs(30));
    let (info, ()) = tokio::join!(owner_side, car_side);
    let info = info.expect("pair");
    assert_eq!(info.vid, car.vid());
    for _ in 0..100 {
        if car.is_paired(light).await.expect("is paired") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the car never saw itself paired");
}

/// The owner's range read of car `vid`'s `trip-gps` records from `from` to `to` through
/// `light`, with no bounds or projection.
pub async fn trip_range(
    owner: &Wallet,
    light: &LightClient,
    vid: &str,
    (from, to): (NaiveDate, NaiveDate),
) -> RangeResult {
    let all = serde_json::json!({});
    owner
        .get_kv_range(
            light,
            vid,
            from,
            to,
            &FormatSpec::trip_gps(),
            &all,
            &all,
            &[],
            None,
        )
        .await
        .expect("range")
}

/// Where most end-to-end scenarios start: starts a private node funding `owner` with
/// 1,000,000 and pairs the owner's car `vid` (named `name`, a pool of `size` addresses:
/// see [`pair`]). Returns the node, a client of it, the folder of the car's store and
/// the car.
pub async fn owner_with_car(
    owner: &Wallet,
    vid: &str,
    name: &str,
    size: usize,
) -> (TestNode, LightClient, tempfile::TempDir, CarDevice) {
    let node = start_node(&[(&owner.owner_address(), 1_000_000)], Mode::Private).await;
    let light = node.client();
    let dir = tempfile::tempdir().expect("dir");
    let car = car(&dir, vid);
    pair(owner, &light, &car, name, size).await;
    (node, light, dir, car)
}
