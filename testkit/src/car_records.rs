//! A car's records end to end: the owner's wallet and a car on disk, short trips to
//! queue, a pairing that polls patiently (a slow cluster), flushing until the queue
//! drains, and the owner reading the car's whole pool back and opening every record.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use carchain_core::crypto::EpochKeyCache;
use carchain_core::device::{CarDevice, DeliveryPacing};
use carchain_core::keys::{Mnemonic, Network, RsaBits, WalletKeys};
use carchain_core::light::LightClient;
use carchain_core::pool::AddressPool;
use carchain_core::record::{EncodedKey, FormatSpec, decode_key};
use carchain_core::sealed::{Opener, SealedRecord, open_record_with_key};
use carchain_core::store::InMemorySecretStore;
use carchain_core::trip::{Trip, TripPoint};
use carchain_core::wallet::Wallet;
use chrono::NaiveDate;

/// The owner's wallet restored from `words` and car `vid`, both stored in `dir`, the car
/// pausing at most `max_delay` between two addresses.
pub fn wallet_and_car(
    dir: &tempfile::TempDir,
    words: &str,
    vid: &str,
    max_delay: Duration,
) -> (Wallet, CarDevice) {
    let wallet = Wallet::restore(
        dir.path().join("wallet.db"),
        Arc::new(InMemorySecretStore::new()),
        Network::Regtest,
        words,
        "",
    )
    .expect("wallet");
    let car = CarDevice::open(
        &dir.path().join("car.db"),
        Arc::new(InMemorySecretStore::new()),
        vid,
    )
    .expect("car")
    .with_delivery_pacing(DeliveryPacing { max_delay });
    (wallet, car)
}

/// The owner's keys from `words` (no passphrase, regtest, a 2048-bit RSA key).
pub fn owner_keys(words: &str) -> WalletKeys {
    WalletKeys::from_mnemonic(
        &Mnemonic::parse(words).expect("words"),
        "",
        Network::Regtest,
        RsaBits::B2048,
    )
    .expect("keys")
}

/// A 20-point trip on 2024-05-`day` from 08:00 UTC, one point every 10 s, as session
/// `day * 100`.
pub fn short_trip(day: u32) -> (NaiveDate, Trip) {
    let session = i64::from(day) * 100;
    let date = NaiveDate::from_ymd_opt(2024, 5, day).expect("date");
    let start = date
        .and_hms_opt(8, 0, 0)
        .expect("time")
        .and_utc()
        .timestamp();
    let points = (0..20)
        .map(|i| TripPoint {
            lat: 31.2 + f64::from(i) * 0.001,
            lng: 121.4 + f64::from(i) * 0.001,
            speed_kmh: Some(40.0 + f64::from(i)),
            time: start + i64::from(i) * 10,
        })
        .collect();
    let trip = Trip {
        session_id: session,
        start,
        end: start + 190,
        points,
    };
    (date, trip)
}

/// Queues each of `trips` in `car` (format version 1, on its day).
pub fn queue_trips(car: &CarDevice, trips: &[(NaiveDate, Trip)]) {
    for (date, trip) in trips {
        car.put_trip(trip, 1, *date).expect("queue");
    }
}

/// The wallet pairs `car` (named "family car", a pool of `pool` addresses, `agent`)
/// through `owner_light` while the car polls for the offer through `car_light` until
/// `patience` runs out; a car's failed poll is retried (the offer's registration may land
/// a moment before its value is stored).
pub async fn pair_patiently(
    wallet: &Wallet,
    owner_light: &LightClient,
    car: &CarDevice,
    car_light: &LightClient,
    (pool, agent): (usize, &str),
    patience: Duration,
) {
    let payload = car.pairing_payload(600).expect("payload").to_text();
    let car_side = async {
        let deadline = Instant::now() + patience;
        loop {
            match car.complete_pairing(car_light).await {
                Ok(true) => break,
                Ok(false) => {}
                Err(err) => eprintln!("car pairing, polling again: {err}"),
            }
            assert!(Instant::now() < deadline, "no offer reached the car");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let (paired, ()) = tokio::join!(
        wallet.pair_device(owner_light, &payload, "family car", pool, agent),
        car_side
    );
    paired.expect("wallet pairing");
}

/// Flushes until the queue is empty, for at most `patience`; a put may be refused only
/// as `kv_unavailable` (a replica died under it: not acknowledged, kept queued, sent
/// again).
pub async fn flush_until_empty(car: &CarDevice, light: &LightClient, patience: Duration) {
    let deadline = Instant::now() + patience;
    loop {
        let report = car.flush(light).await.expect("flush");
        for refused in &report.refused {
            assert_eq!(refused.code, "kv_unavailable", "{refused:?}");
        }
        if report.remaining == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the queue never drained: {report:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Reads the whole pool (`pool` addresses) of car `vid` through `light` and opens every
/// record with the owner's key: the sessions of the trips found, sorted, one per record.
/// Each record must be one of `trips`, intact, its stored key not readable without the
/// envelope.
pub async fn pool_sessions(
    light: &LightClient,
    keys: &WalletKeys,
    (vid, pool): (&str, usize),
    trips: &[(NaiveDate, Trip)],
) -> Vec<i64> {
    let pool = AddressPool::derive(keys, vid, 0, pool).expect("pool");
    let spec = FormatSpec::trip_gps();
    let mut cache = EpochKeyCache::new();
    let mut sessions = Vec::new();
    for address in pool.addresses() {
        let range = light
            .records_in_range(&address.to_string(), &[], &[0xff; 64])
            .await
            .expect("range read");
        assert!(range.rejected.is_empty(), "{:?}", range.rejected);
        for record in &range.records {
            let put = &record.registration.put;
            let sealed = SealedRecord {
                address: put.address.clone(),
                format: put.format.clone(),
                key: EncodedKey::from_bytes(put.key.clone()),
                hash_func: put.hash_func,
                envelope: record.envelope.clone(),
                d_hash: put.d_hash,
                c_hash: put.c_hash,
            };
            let opened = open_record_with_key(
                &sealed,
                Opener::Owner {
                    rsa: keys.rsa_private_key(),
                    cache: &mut cache,
                },
                &[],
            )
            .expect("open");
            // The ledger holds the stored key; the plaintext key travels in the envelope.
            assert!(decode_key(&spec, &put.key).is_err());
            let key = decode_key(&spec, opened.key.as_bytes()).expect("key");
            let (_, expected) = trips
                .iter()
                .find(|(_, t)| serde_json::json!(t.session_id) == key["SESSION_ID"])
                .expect("a trip the car queued");
            assert_eq!(opened.value, expected.to_value(1).expect("value"), "intact");
            sessions.push(expected.session_id);
        }
    }
    sessions.sort_unstable();
    sessions
}

/// The distinct sessions of `trips`, sorted.
pub fn sessions_of(trips: &[(NaiveDate, Trip)]) -> Vec<i64> {
    let set: BTreeSet<i64> = trips.iter().map(|(_, t)| t.session_id).collect();
    set.into_iter().collect()
}
