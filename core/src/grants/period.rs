//! Which stored records fall inside a grant's approved days.
//!
//! A pool address can serve several days (the day's address is picked from a pool of
//! N), so the records found at the approved days' addresses can include other days'.
//! A grant delivers only the records of its days: a trip belongs to the day its key's
//! `START_TIME` names, an owner's `VIN_CODE` record to the day it is filed under (its
//! key's `DAY`, see [`crate::record::owner_key`]). Keys that carry no date (a car's
//! `VIN_CODE` or `carvio`) belong to every day their address serves.
//! Of an owner record, a grant delivers the latest version only ([`superseded`]).

use chrono::{DateTime, NaiveDate};
use serde_json::{Map, Value};

use crate::record::{
    FormatSpec, OWNER_DAY_FIELD, OWNER_VERSION_FIELD, TRIP_GPS, VIN_CODE, date_of_day_number,
    decode_key, versioned_spec,
};
use crate::trip::compact_to_unix;

/// Whether the record of `format` with range-ordered key `key_bytes` belongs to a day
/// from `from` to `to` (both included). A trip key that does not decode, or whose
/// `START_TIME` is not a date-time, belongs to no period.
pub fn record_in_period(format: &str, key_bytes: &[u8], from: NaiveDate, to: NaiveDate) -> bool {
    let in_period = |day: NaiveDate| from <= day && day <= to;
    match format {
        TRIP_GPS => trip_day(key_bytes).is_some_and(in_period),
        VIN_CODE => owner_vin_day(key_bytes).is_none_or(in_period),
        _ => true,
    }
}

/// The day an owner's `VIN_CODE` record is filed under; `None` for a key without one.
fn owner_vin_day(key_bytes: &[u8]) -> Option<NaiveDate> {
    owner_vin_record(key_bytes).map(|(_, day)| day)
}

/// An owner's `VIN_CODE` record a key names (its key and day, the version left out);
/// `None` for a key that is not an owner record's.
fn owner_vin_record(key_bytes: &[u8]) -> Option<(Map<String, Value>, NaiveDate)> {
    let spec = versioned_spec(&FormatSpec::vin_code()).ok()?;
    let mut key = decode_key(&spec, key_bytes).ok()?;
    key.remove(OWNER_VERSION_FIELD)?;
    let date = date_of_day_number(key.get(OWNER_DAY_FIELD)?.as_i64()?)?;
    Some((key, date))
}

/// Whether the record of `format` at (`key_bytes`, address) `here` is an earlier version
/// of the owner record `next` (the one after it in (plaintext key, address) order, the
/// order versions sort in): a grant delivers an owner record's latest version only.
pub fn superseded(
    format: &str,
    here: &(Vec<u8>, String),
    next: Option<&(Vec<u8>, String)>,
) -> bool {
    let Some(next) = next else {
        return false;
    };
    if format != VIN_CODE || here.1 != next.1 {
        return false;
    }
    match (owner_vin_record(&here.0), owner_vin_record(&next.0)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The day a trip started, from its key.
fn trip_day(key_bytes: &[u8]) -> Option<NaiveDate> {
    let key = decode_key(&FormatSpec::trip_gps(), key_bytes).ok()?;
    let compact = key.get("START_TIME")?.as_i64()?;
    let unix = compact_to_unix("START_TIME", compact).ok()?;
    Some(DateTime::from_timestamp(unix, 0)?.date_naive())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::record::encode_key;
    use crate::record::owner_key;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 3, d).unwrap()
    }

    fn trip_key(start: i64) -> Vec<u8> {
        encode_key(
            &FormatSpec::trip_gps(),
            &json!({"SESSION_ID": 7, "START_TIME": start, "END_TIME": start + 3000}),
        )
        .unwrap()
        .into_bytes()
    }

    #[test]
    fn a_trip_belongs_to_the_day_it_started() {
        let key = trip_key(20240305235500);
        assert!(record_in_period(TRIP_GPS, &key, day(5), day(5)));
        assert!(record_in_period(TRIP_GPS, &key, day(1), day(9)));
        assert!(!record_in_period(TRIP_GPS, &key, day(6), day(9)));
        assert!(!record_in_period(TRIP_GPS, &key, day(1), day(4)));
    }

    #[test]
    fn an_undecodable_trip_key_belongs_to_no_period() {
        assert!(!record_in_period(TRIP_GPS, b"not a key", day(1), day(31)));
        let bad_time = trip_key(20241399000000);
        assert!(!record_in_period(TRIP_GPS, &bad_time, day(1), day(31)));
    }

    #[test]
    fn undated_formats_belong_to_every_period() {
        let vin = encode_key(
            &FormatSpec::vin_code(),
            &json!({"VEHICLE_DATA": "LSVAU2180N2183294"}),
        )
        .unwrap()
        .into_bytes();
        assert!(record_in_period(VIN_CODE, &vin, day(1), day(1)));
    }

    #[test]
    fn an_owners_vin_record_belongs_to_the_day_it_is_filed_under() {
        let spec = versioned_spec(&FormatSpec::vin_code()).unwrap();
        let key = owner_key(&json!({"VEHICLE_DATA": 1}), day(5), Some(2)).unwrap();
        let vin = encode_key(&spec, &key).unwrap().into_bytes();
        assert!(record_in_period(VIN_CODE, &vin, day(5), day(5)));
        assert!(record_in_period(VIN_CODE, &vin, day(1), day(9)));
        assert!(!record_in_period(VIN_CODE, &vin, day(6), day(9)));
        assert!(!record_in_period(VIN_CODE, &vin, day(1), day(4)));
    }

    #[test]
    fn an_earlier_version_of_an_owner_record_is_superseded() {
        let spec = versioned_spec(&FormatSpec::vin_code()).unwrap();
        let place = |vehicle: i64, d: u32, version: u64, address: &str| {
            let key = owner_key(&json!({"VEHICLE_DATA": vehicle}), day(d), Some(version)).unwrap();
            (
                encode_key(&spec, &key).unwrap().into_bytes(),
                address.to_owned(),
            )
        };
        let (v1, v2) = (place(1, 5, 1, "a"), place(1, 5, 2, "a"));
        assert!(superseded(VIN_CODE, &v1, Some(&v2)));
        assert!(!superseded(VIN_CODE, &v2, None));
        assert!(!superseded(VIN_CODE, &v1, Some(&place(2, 5, 1, "a"))));
        assert!(!superseded(VIN_CODE, &v1, Some(&place(1, 6, 1, "a"))));
        assert!(!superseded(VIN_CODE, &v1, Some(&place(1, 5, 2, "b"))));
        assert!(!superseded(TRIP_GPS, &v1, Some(&v2)));
        let car_vin = encode_key(&FormatSpec::vin_code(), &json!({"VEHICLE_DATA": 1}))
            .unwrap()
            .into_bytes();
        let car = (car_vin, "a".to_owned());
        assert!(!superseded(VIN_CODE, &car, Some(&car)));
    }
}
