//! Which formats an owner record may have, and the versioned key it is stored under.
//!
//! An owner record is of a built-in format (`VIN_CODE`, `carvio`) or of a custom one
//! that carries its key fields. Its key is the format's key with two more fields last:
//! [`OWNER_DAY_FIELD`], the day it is filed under (`YYYYMMDD`; several days share a
//! pool address, so the day keeps their records apart), and [`OWNER_VERSION_FIELD`]:
//! 1 for the first put, one more for each update. So every version has a key of its
//! own (the ledger refuses a second put of one address and key, and keeps every
//! registration), and the versions of one record sort together, oldest first. Day and
//! version travel inside the stored key, which the pool seed encrypts: the ledger sees
//! no day, no version, no key and no link between versions.
//!
//! Not owner formats: `trip-gps` (the car's trips, which period and audit checks
//! decode) and CarChain's own `carchain-*` records (mailbox, channel, inbox, delivery).

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::owner_record_error::OwnerRecordError;
use crate::record::{FormatRegistry, FormatSpec, TRIP_GPS, date_of_day_number};

pub use crate::record::{OWNER_DAY_FIELD, OWNER_VERSION_FIELD, day_number};
/// Prefix of CarChain's own record formats, which no owner record may take.
const RESERVED_PREFIX: &str = "carchain-";

/// The format of an owner record: a built-in format by `name` when `key_fields` is
/// `None`, else the custom format `name` with those key fields (a built-in name with
/// its own fields is the built-in format). Checked as [`check_owner_format`] does.
pub fn owner_format(
    name: &str,
    key_fields: Option<&[String]>,
) -> Result<FormatSpec, OwnerRecordError> {
    let spec = match key_fields {
        None => FormatRegistry::with_builtins()
            .get(name)
            .cloned()
            .map_err(|_| OwnerRecordError::UnknownFormat {
                format: name.to_owned(),
            })?,
        Some(fields) => {
            let spec = FormatSpec::custom(name, fields.iter().cloned()).map_err(|e| {
                OwnerRecordError::InvalidFormat {
                    reason: e.to_string(),
                }
            })?;
            if FormatSpec::is_builtin_name(name) && !FormatSpec::builtins().contains(&spec) {
                return Err(OwnerRecordError::InvalidFormat {
                    reason: format!("`{name}` is a built-in format with other key fields"),
                });
            }
            spec
        }
    };
    check_owner_format(&spec)?;
    Ok(spec)
}

/// Refuses formats the owner may not write and formats that cannot carry a version.
pub fn check_owner_format(spec: &FormatSpec) -> Result<(), OwnerRecordError> {
    let name = spec.name();
    if name.eq_ignore_ascii_case(TRIP_GPS) {
        return Err(OwnerRecordError::ReservedFormat {
            format: name.to_owned(),
            reason: "trips are the car's records",
        });
    }
    if name.to_ascii_lowercase().starts_with(RESERVED_PREFIX) {
        return Err(OwnerRecordError::ReservedFormat {
            format: name.to_owned(),
            reason: "`carchain-` formats are CarChain's own records",
        });
    }
    versioned_spec(spec).map(|_| ())
}

/// `spec` with [`OWNER_DAY_FIELD`] and [`OWNER_VERSION_FIELD`] appended: the spec
/// owner records are keyed by (see [`crate::record::versioned_spec`]).
pub fn versioned_spec(spec: &FormatSpec) -> Result<FormatSpec, OwnerRecordError> {
    crate::record::versioned_spec(spec).map_err(OwnerRecordError::from)
}

/// The JSON key of the record keyed `key` (a complete key of the format) filed under
/// `date`, without its version (a bound covering every version) or with `version`.
/// Encoded with [`versioned_spec`] it is the record's range-ordered key (see
/// [`crate::record::owner_key`]).
pub fn owner_key(
    key: &Value,
    date: NaiveDate,
    version: Option<u64>,
) -> Result<Value, OwnerRecordError> {
    crate::record::owner_key(key, date, version).map_err(OwnerRecordError::from)
}

/// Splits an owner key read back into the format's key, its day and its version.
pub(super) fn split_owner_key(
    mut key: Map<String, Value>,
) -> Option<(Map<String, Value>, NaiveDate, u64)> {
    let version = key.remove(OWNER_VERSION_FIELD)?.as_u64()?;
    let date = date_of_day_number(key.remove(OWNER_DAY_FIELD)?.as_i64()?)?;
    (version >= 1).then_some((key, date, version))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::record::{decode_key, encode_key, encode_start_bound};

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn built_in_formats_by_name_and_custom_ones_with_fields() {
        assert_eq!(
            owner_format("VIN_CODE", None).unwrap(),
            FormatSpec::vin_code()
        );
        let service = owner_format("service-history", Some(&strings(&["DATE", "SHOP"]))).unwrap();
        assert_eq!(service.key_fields(), ["DATE", "SHOP"]);
        assert_eq!(
            owner_format("VIN_CODE", Some(&strings(&["VEHICLE_DATA"]))).unwrap(),
            FormatSpec::vin_code()
        );
    }

    #[test]
    fn unknown_malformed_and_reserved_formats_are_typed() {
        let code = |r: Result<FormatSpec, OwnerRecordError>| r.unwrap_err().code();
        assert_eq!(
            code(owner_format("insurance", None)),
            "owner_record.unknown_format"
        );
        assert_eq!(
            code(owner_format("vin_code", None)),
            "owner_record.unknown_format"
        );
        assert_eq!(
            code(owner_format("bad name!", Some(&strings(&["A"])))),
            "owner_record.invalid_format"
        );
        assert_eq!(
            code(owner_format("docs", Some(&[]))),
            "owner_record.invalid_format"
        );
        assert_eq!(
            code(owner_format("docs", Some(&strings(&["A", "A"])))),
            "owner_record.invalid_format"
        );
        assert_eq!(
            code(owner_format("docs", Some(&strings(&["VERSION"])))),
            "owner_record.invalid_format"
        );
        let fifteen: Vec<String> = (0..15).map(|i| format!("F{i}")).collect();
        assert_eq!(
            code(owner_format("docs", Some(&fifteen))),
            "owner_record.invalid_format"
        );
        assert_eq!(
            code(owner_format("VIN_CODE", Some(&strings(&["OTHER"])))),
            "owner_record.invalid_format"
        );
        assert_eq!(
            code(owner_format("trip-gps", None)),
            "owner_record.reserved_format"
        );
        assert_eq!(
            code(owner_format("carchain-channel", Some(&strings(&["K"])))),
            "owner_record.reserved_format"
        );
    }

    fn may(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 5, d).unwrap()
    }

    #[test]
    fn versions_of_one_record_sort_together_oldest_first() {
        let spec = versioned_spec(&FormatSpec::vin_code()).unwrap();
        let key = json!({"VEHICLE_DATA": 1});
        let enc =
            |k: &Value, d, v| encode_key(&spec, &owner_key(k, may(d), Some(v)).unwrap()).unwrap();
        let (v1, v2) = (enc(&key, 1, 1), enc(&key, 1, 2));
        let next_day = enc(&key, 2, 1);
        let other = enc(&json!({"VEHICLE_DATA": 2}), 1, 1);
        assert!(v1 < v2 && v2 < next_day && next_day < other);
        // A bound without the version covers every version of the record.
        let start = encode_start_bound(&spec, &owner_key(&key, may(1), None).unwrap()).unwrap();
        assert!(start < v1);
        let decoded = decode_key(&spec, v2.as_bytes()).unwrap();
        assert_eq!(
            split_owner_key(decoded),
            Some((key.as_object().unwrap().clone(), may(1), 2))
        );
        assert_eq!(day_number(may(9)), 20240509);
    }

    #[test]
    fn the_wallet_sets_day_and_version_not_the_caller() {
        for key in [
            json!({"VEHICLE_DATA": 1, "VERSION": 9}),
            json!({"VEHICLE_DATA": 1, "DAY": 20240501}),
            json!([1]),
        ] {
            assert_eq!(
                owner_key(&key, may(1), Some(1)).unwrap_err().code(),
                "owner_record.invalid_key"
            );
        }
        assert_eq!(
            owner_format("docs", Some(&strings(&["DAY"])))
                .unwrap_err()
                .code(),
            "owner_record.invalid_format"
        );
    }

    #[test]
    fn a_key_that_is_no_owner_key_does_not_split() {
        let mut key = Map::new();
        key.insert("VEHICLE_DATA".into(), json!(1));
        key.insert("DAY".into(), json!(20241399));
        key.insert("VERSION".into(), json!(1));
        assert_eq!(split_owner_key(key.clone()), None);
        key.insert("DAY".into(), json!(20240501));
        key.insert("VERSION".into(), json!(0));
        assert_eq!(split_owner_key(key), None);
    }
}
