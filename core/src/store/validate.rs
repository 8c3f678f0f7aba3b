//! Small input checks shared by the repositories; each returns a typed error before
//! anything is written.

use super::error::{StoreError, StoreResult};

/// Fails with [`StoreError::EmptyField`] when `value` is empty or only whitespace.
pub fn non_empty(field: &'static str, value: &str) -> StoreResult<()> {
    if value.trim().is_empty() {
        return Err(StoreError::EmptyField { field });
    }
    Ok(())
}

/// Fails with [`StoreError::EmptyField`] when `value` has no bytes.
pub fn non_empty_bytes(field: &'static str, value: &[u8]) -> StoreResult<()> {
    if value.is_empty() {
        return Err(StoreError::EmptyField { field });
    }
    Ok(())
}

/// Converts an unsigned value to SQLite's signed integer.
pub fn to_sql_int(field: &'static str, value: u64) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| StoreError::ValueOutOfRange { field })
}

/// Converts a stored integer back to an unsigned value of type `T`.
pub fn from_sql_int<T: TryFrom<i64>>(field: &'static str, value: i64) -> StoreResult<T> {
    T::try_from(value).map_err(|_| StoreError::ValueOutOfRange { field })
}

/// Fails with [`StoreError::InvalidJson`] when `value` is not a JSON document.
pub fn json(field: &'static str, value: &str) -> StoreResult<()> {
    serde_json::from_str::<serde_json::Value>(value)
        .map(|_| ())
        .map_err(|_| StoreError::InvalidJson { field })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_blank_text_rejected() {
        assert!(non_empty("vid", "VIN1").is_ok());
        assert!(matches!(
            non_empty("vid", ""),
            Err(StoreError::EmptyField { field: "vid" })
        ));
        assert!(matches!(
            non_empty("vid", "  \t"),
            Err(StoreError::EmptyField { field: "vid" })
        ));
        assert!(non_empty_bytes("key", &[0]).is_ok());
        assert!(matches!(
            non_empty_bytes("key", &[]),
            Err(StoreError::EmptyField { field: "key" })
        ));
    }

    #[test]
    fn integer_conversions_check_range() {
        assert_eq!(to_sql_int("height", 7).unwrap(), 7);
        assert!(matches!(
            to_sql_int("height", u64::MAX),
            Err(StoreError::ValueOutOfRange { field: "height" })
        ));
        assert_eq!(from_sql_int::<u32>("size", 10).unwrap(), 10);
        assert!(from_sql_int::<u32>("size", -1).is_err());
        assert!(from_sql_int::<u32>("size", i64::from(u32::MAX) + 1).is_err());
    }

    #[test]
    fn json_must_parse() {
        assert!(json("json", r#"{"a":1}"#).is_ok());
        assert!(matches!(
            json("json", "{oops"),
            Err(StoreError::InvalidJson { field: "json" })
        ));
        assert!(json("json", "").is_err());
    }
}
