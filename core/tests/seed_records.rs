//! The seed's three example records (two putIotKV, one putWalKV) end to end in core:
//! restore the owner's keys, pick the day's pool address, seal, open with one RSA
//! unwrap per day, project the seed's columns, and check dHash / cHash.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

use carchain_core::crypto::{CryptoError, EpochKeyCache, HashFunc, SealingEpoch};
use carchain_core::keys::{Mnemonic, Network, RsaBits, WalletKeys};
use carchain_core::pool::{AddressPool, PoolSeed, deduct_address};
use carchain_core::record::{FormatRegistry, parse_value};
use carchain_core::sealed::{Opener, SealedRecord, SealedRecordError, open_record, seal_record};
use chrono::NaiveDate;
use serde_json::{Value, json};
use std::sync::OnceLock;

const WORDS: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const VID: &str = "LBVNU79049SB81546";

/// The seed's trip value, verbatim, including its `"format"="trip-gps"`.
const SEED_TRIP_VALUE: &str = r#"{"len":10,"GPS":[{"lat":31.250885,"lng":121.44662},{"lat":31.251259,"lng":121.4456},{"lat":31.25419,"lng":121.485504},{"lat":31.268875,"lng":121.59015},{"lat":31.29777,"lng":121.61309},{"lat":31.298483,"lng":121.6138},{"lat":31.297743,"lng":121.614525},{"lat":31.194258,"lng":121.74957},{"lat":31.195974,"lng":121.75078},{"lat":31.115866,"lng":121.77829}],"SPEED":"0,23,52,45,51,33,49,49,48,37","VEHICLE_DATA":1,"format"="trip-gps"}"#;
const SEED_CARVIO_VALUE: &str = r#"{"format":"carvio", "VEHICLE_DATA":1, "datetime":20180310,"loc":{"lat":31.250885,"lng":121.44662},"viotype":"vioparking","price":200,"point":0}"#;
const SEED_VIN_VALUE: &str = r#"{"VIN":"LBVNU79049SB81546"}"#;

fn owner() -> &'static WalletKeys {
    static KEYS: OnceLock<WalletKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let words = Mnemonic::parse(WORDS).expect("seed words");
        WalletKeys::from_mnemonic(&words, "", Network::Regtest, RsaBits::B2048).expect("keys")
    })
}

fn stranger() -> &'static WalletKeys {
    static KEYS: OnceLock<WalletKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let words = Mnemonic::parse(
            "legal winner thank year wave sausage worth useful legal winner thank yellow",
        )
        .expect("words");
        WalletKeys::from_mnemonic(&words, "", Network::Regtest, RsaBits::B2048).expect("keys")
    })
}

fn day_address(date: NaiveDate) -> String {
    let keys = owner();
    let pool = AddressPool::derive(keys, VID, 0, 32).expect("pool");
    let seed = PoolSeed::derive(keys.seed(), VID, 0).expect("pool seed");
    deduct_address(pool.addresses(), date, VID, &seed)
        .expect("address")
        .to_string()
}

fn trip_key() -> Value {
    json!({"SESSION_ID": 1, "START_TIME": 20160511071428i64, "END_TIME": 20160511094623i64})
}

/// Seals one record for the owner of the example wallet with a fresh epoch.
fn seal_for_owner(format: &str, address: &str, key: &Value, value_text: &str) -> SealedRecord {
    let registry = FormatRegistry::with_builtins();
    let epoch = SealingEpoch::new(&owner().rsa_public_key()).expect("epoch");
    let value = parse_value(value_text).expect("value parses");
    seal_record(
        registry.get(format).expect("format"),
        address,
        key,
        &value,
        HashFunc::Sha256,
        &epoch,
    )
    .expect("seal")
}

/// Opens `record` with `keys`' RSA key through `cache`.
fn open_as(
    keys: &WalletKeys,
    record: &SealedRecord,
    cache: &mut EpochKeyCache,
    columns: &[String],
) -> Result<Value, SealedRecordError> {
    open_record(
        record,
        Opener::Owner {
            rsa: keys.rsa_private_key(),
            cache,
        },
        columns,
    )
}

#[test]
fn seed_records_seal_and_open_with_one_unwrap_per_day() {
    let registry = FormatRegistry::with_builtins();
    let keys = owner();
    let day = NaiveDate::from_ymd_opt(2016, 5, 11).expect("date");
    let address = day_address(day);
    let epoch = SealingEpoch::new(&keys.rsa_public_key()).expect("epoch");

    let trip_value = parse_value(SEED_TRIP_VALUE).expect("the seed's trip value parses");
    let carvio_value = parse_value(SEED_CARVIO_VALUE).expect("carvio value");
    let vin_value = parse_value(SEED_VIN_VALUE).expect("VIN value");

    let trip = seal_record(
        registry.get("trip-gps").expect("format"),
        &address,
        &trip_key(),
        &trip_value,
        HashFunc::Sha256,
        &epoch,
    )
    .expect("seal trip");
    let carvio = seal_record(
        registry.get("carvio").expect("format"),
        &address,
        &json!({"CARVIO_ID": 1}),
        &carvio_value,
        HashFunc::DoubleSha256,
        &epoch,
    )
    .expect("seal carvio");
    // putWalKV: the wallet's own record, stored under the owner's identity address.
    let wallet_epoch = SealingEpoch::new(&keys.rsa_public_key()).expect("epoch");
    let vin = seal_record(
        registry.get("VIN_CODE").expect("format"),
        &keys.owner_address().to_string(),
        &json!({"VEHICLE_DATA": 1}),
        &vin_value,
        HashFunc::Sha256,
        &wallet_epoch,
    )
    .expect("seal VIN");

    // The plaintext is not visible in the stored envelope.
    assert!(!String::from_utf8_lossy(&vin.envelope).contains("LBVNU79049SB81546"));
    assert_ne!(trip.d_hash, trip.c_hash);

    let mut cache = EpochKeyCache::new();
    let columns: Vec<String> = ["VEHICLE_DATA", "GPS", "SPEED"].map(String::from).into();
    let projected = open_as(keys, &trip, &mut cache, &columns).expect("open trip");
    assert_eq!(projected["VEHICLE_DATA"], json!(1));
    assert_eq!(projected["SPEED"], json!("0,23,52,45,51,33,49,49,48,37"));
    assert_eq!(projected["GPS"].as_array().map(Vec::len), Some(10));
    assert!(
        projected.get("len").is_none(),
        "projection drops other fields"
    );

    let whole = open_as(keys, &carvio, &mut cache, &[]).expect("open carvio");
    assert_eq!(whole, carvio_value);
    assert_eq!(
        cache.stats().unwraps,
        1,
        "one RSA decryption for the day's records"
    );

    let vin_plain = open_as(keys, &vin, &mut cache, &["VIN".to_owned()]).expect("open VIN");
    assert_eq!(vin_plain, json!({"VIN": "LBVNU79049SB81546"}));
    assert_eq!(cache.stats().unwraps, 2);
}

#[test]
fn altered_ciphertext_is_caught_by_chash_before_decrypting() {
    let address = day_address(NaiveDate::from_ymd_opt(2016, 5, 12).expect("date"));
    let mut record = seal_for_owner("trip-gps", &address, &trip_key(), SEED_TRIP_VALUE);
    let last = record.envelope.len() - 1;
    record.envelope[last] ^= 0x01;
    let mut cache = EpochKeyCache::new();
    let err = open_as(owner(), &record, &mut cache, &[]).expect_err("tampered");
    assert!(
        matches!(err, SealedRecordError::Crypto(CryptoError::CHashMismatch)),
        "{err:?}"
    );
    assert_eq!(cache.stats().unwraps, 0, "nothing was decrypted");
}

#[test]
fn a_published_dhash_that_does_not_match_is_reported() {
    let address = day_address(NaiveDate::from_ymd_opt(2018, 3, 10).expect("date"));
    let mut record = seal_for_owner(
        "carvio",
        &address,
        &json!({"CARVIO_ID": 1}),
        SEED_CARVIO_VALUE,
    );
    record.d_hash[0] ^= 0xff;
    let err = open_as(owner(), &record, &mut EpochKeyCache::new(), &[]).expect_err("dHash");
    assert!(
        matches!(err, SealedRecordError::Crypto(CryptoError::DHashMismatch)),
        "{err:?}"
    );
}

#[test]
fn another_wallet_cannot_open_the_owners_records() {
    let address = owner().owner_address().to_string();
    let record = seal_for_owner(
        "VIN_CODE",
        &address,
        &json!({"VEHICLE_DATA": 1}),
        SEED_VIN_VALUE,
    );
    let err = open_as(stranger(), &record, &mut EpochKeyCache::new(), &[]).expect_err("wrong key");
    assert!(
        matches!(err, SealedRecordError::Crypto(CryptoError::WrongKey)),
        "{err:?}"
    );
    // The owner still can.
    let opened = open_as(owner(), &record, &mut EpochKeyCache::new(), &[]).expect("owner opens");
    assert_eq!(opened, json!({"VIN": "LBVNU79049SB81546"}));
}

#[test]
fn bad_records_are_refused_before_anything_is_sealed() {
    let registry = FormatRegistry::with_builtins();
    let epoch = SealingEpoch::new(&owner().rsa_public_key()).expect("epoch");
    let trip = registry.get("trip-gps").expect("format");
    let value = parse_value(SEED_TRIP_VALUE).expect("value");
    // A key missing a format field.
    let err = seal_record(
        trip,
        "addr",
        &json!({"SESSION_ID": 1}),
        &value,
        HashFunc::Sha256,
        &epoch,
    )
    .expect_err("missing END_TIME/START_TIME");
    assert!(matches!(err, SealedRecordError::Record(_)), "{err:?}");
    // A value declaring another format.
    let carvio = parse_value(SEED_CARVIO_VALUE).expect("value");
    let err = seal_record(trip, "addr", &trip_key(), &carvio, HashFunc::Sha256, &epoch)
        .expect_err("format mismatch");
    assert!(matches!(err, SealedRecordError::Record(_)), "{err:?}");
    // Unknown formats are refused by the registry.
    assert!(registry.get("made-up").is_err());
}
