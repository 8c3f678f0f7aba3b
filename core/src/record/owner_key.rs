//! The key an owner record is stored under: the format's key with two more fields last,
//! [`OWNER_DAY_FIELD`] (the day it is filed under, `YYYYMMDD`) and
//! [`OWNER_VERSION_FIELD`] (1 for the first put, one more for each update). The wallet
//! writes and reads owner records with it; a grant's period check reads the day back.
//! See `crate::wallet::owner_format` for why the key has this shape.

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

use super::{FormatSpec, MAX_KEY_FIELDS};

/// The key field that holds the day an owner record is filed under (`YYYYMMDD`).
pub const OWNER_DAY_FIELD: &str = "DAY";
/// The key field that holds an owner record's version (1 for the first put).
pub const OWNER_VERSION_FIELD: &str = "VERSION";

/// Why a format cannot key owner records, or a key cannot be an owner record's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OwnerKeyError {
    /// The format leaves no room for the day and version, or declares them itself.
    #[error("invalid owner record format: {reason}")]
    InvalidFormat {
        /// What is wrong.
        reason: String,
    },
    /// The key is not a JSON object, or sets the day or version itself.
    #[error("invalid owner record key: {reason}")]
    InvalidKey {
        /// What is wrong.
        reason: String,
    },
}

crate::error_code::error_codes!(OwnerKeyError {
    InvalidFormat => "owner_key.invalid_format",
    InvalidKey => "owner_key.invalid_key",
});

/// `date` as the [`OWNER_DAY_FIELD`] value, `YYYYMMDD`.
pub fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.year()) * 10_000 + i64::from(date.month()) * 100 + i64::from(date.day())
}

/// The date a `YYYYMMDD` [`day_number`] names; `None` for a number that is no date.
pub fn date_of_day_number(day: i64) -> Option<NaiveDate> {
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(day / 10_000).ok()?,
        u32::try_from(day / 100 % 100).ok()?,
        u32::try_from(day % 100).ok()?,
    )?;
    (day_number(date) == day).then_some(date)
}

/// `spec` with [`OWNER_DAY_FIELD`] and [`OWNER_VERSION_FIELD`] appended: the spec
/// owner records are keyed by.
pub fn versioned_spec(spec: &FormatSpec) -> Result<FormatSpec, OwnerKeyError> {
    let invalid = |reason: String| OwnerKeyError::InvalidFormat { reason };
    if spec.key_fields().len() + 2 > MAX_KEY_FIELDS {
        return Err(invalid(format!(
            "`{}` has more than {} key fields: none are left for the day and version",
            spec.name(),
            MAX_KEY_FIELDS - 2
        )));
    }
    for field in [OWNER_DAY_FIELD, OWNER_VERSION_FIELD] {
        if spec.field_position(field).is_some() {
            return Err(invalid(format!(
                "`{}` declares `{field}`, which owner records keep for themselves",
                spec.name()
            )));
        }
    }
    let fields = spec
        .key_fields()
        .iter()
        .cloned()
        .chain([OWNER_DAY_FIELD.to_owned(), OWNER_VERSION_FIELD.to_owned()]);
    FormatSpec::custom(spec.name(), fields).map_err(|e| invalid(e.to_string()))
}

/// The JSON key of the record keyed `key` (a complete key of the format) filed under
/// `date`, without its version (a bound covering every version) or with `version`.
/// Encoded with [`versioned_spec`] it is the record's range-ordered key.
pub fn owner_key(
    key: &Value,
    date: NaiveDate,
    version: Option<u64>,
) -> Result<Value, OwnerKeyError> {
    let Value::Object(fields) = key else {
        return Err(OwnerKeyError::InvalidKey {
            reason: "the key is not a JSON object".into(),
        });
    };
    for reserved in [OWNER_DAY_FIELD, OWNER_VERSION_FIELD] {
        if fields.contains_key(reserved) {
            return Err(OwnerKeyError::InvalidKey {
                reason: format!("`{reserved}` is set by the wallet, not in the key"),
            });
        }
    }
    let mut full = fields.clone();
    full.insert(OWNER_DAY_FIELD.to_owned(), Value::from(day_number(date)));
    if let Some(version) = version {
        full.insert(OWNER_VERSION_FIELD.to_owned(), Value::from(version));
    }
    Ok(Value::Object(full))
}
