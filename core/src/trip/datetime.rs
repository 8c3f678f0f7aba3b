//! The record key's compact date-times: `YYYYMMDDhhmmss` integers such as
//! `20160511071428`.
//!
//! Cars write their local wall-clock time with no zone; CarChain reads these values as
//! UTC, so a trip's unix times are the car's local time labelled UTC. Converting back
//! gives the same integer, which is what range keys need.

use chrono::{DateTime, Datelike, NaiveDate, Timelike};

use super::error::TripError;

/// Converts a `YYYYMMDDhhmmss` integer (read as UTC) to unix seconds.
///
/// `field` names the key field in the error when the value is not a real date-time.
pub fn compact_to_unix(field: &'static str, compact: i64) -> Result<i64, TripError> {
    let invalid = || TripError::InvalidDateTime {
        field,
        value: compact.to_string(),
    };
    if !(10_000_101_000_000..=99_991_231_235_959).contains(&compact) {
        return Err(invalid());
    }
    let part = |divisor: i64, modulus: i64| (compact / divisor) % modulus;
    let year = i32::try_from(compact / 10_000_000_000).map_err(|_| invalid())?;
    let month = u32::try_from(part(100_000_000, 100)).map_err(|_| invalid())?;
    let day = u32::try_from(part(1_000_000, 100)).map_err(|_| invalid())?;
    let hour = u32::try_from(part(10_000, 100)).map_err(|_| invalid())?;
    let minute = u32::try_from(part(100, 100)).map_err(|_| invalid())?;
    let second = u32::try_from(part(1, 100)).map_err(|_| invalid())?;
    let date_time = NaiveDate::from_ymd_opt(year, month, day)
        .and_then(|date| date.and_hms_opt(hour, minute, second))
        .ok_or_else(invalid)?;
    Ok(date_time.and_utc().timestamp())
}

/// Converts unix seconds to a `YYYYMMDDhhmmss` integer (UTC).
pub fn unix_to_compact(unix: i64) -> Result<i64, TripError> {
    let date_time = utc(unix)?;
    let year = i64::from(date_time.year());
    if !(1000..=9999).contains(&year) {
        return Err(TripError::TimestampOutOfRange(unix));
    }
    Ok(year * 10_000_000_000
        + i64::from(date_time.month()) * 100_000_000
        + i64::from(date_time.day()) * 1_000_000
        + i64::from(date_time.hour()) * 10_000
        + i64::from(date_time.minute()) * 100
        + i64::from(date_time.second()))
}

/// Formats unix seconds as an RFC 3339 UTC time, e.g. `2016-05-11T07:14:28Z`.
pub fn unix_to_rfc3339(unix: i64) -> Result<String, TripError> {
    Ok(utc(unix)?.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

fn utc(unix: i64) -> Result<DateTime<chrono::Utc>, TripError> {
    DateTime::from_timestamp(unix, 0).ok_or(TripError::TimestampOutOfRange(unix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_key_times_convert_to_unix_seconds() {
        // 2016-05-11 07:14:28 UTC and 09:46:23 UTC.
        assert_eq!(
            compact_to_unix("START_TIME", 20160511071428),
            Ok(1_462_950_868)
        );
        assert_eq!(
            compact_to_unix("END_TIME", 20160511094623),
            Ok(1_462_959_983)
        );
    }

    #[test]
    fn unix_seconds_convert_back_to_the_same_integer() {
        assert_eq!(unix_to_compact(1_462_950_868), Ok(20160511071428));
        assert_eq!(unix_to_compact(0), Ok(19700101000000));
    }

    #[test]
    fn rfc3339_formatting() {
        assert_eq!(
            unix_to_rfc3339(1_462_950_868).as_deref(),
            Ok("2016-05-11T07:14:28Z")
        );
    }

    #[test]
    fn impossible_dates_are_rejected() {
        for bad in [
            20160231071428,  // 31 February
            20161311071428,  // month 13
            20160511247428,  // hour 24
            20160511076028,  // minute 60
            20160511071460,  // second 60
            2016051107142,   // 13 digits
            201605110714280, // 15 digits
            -20160511071428,
        ] {
            assert_eq!(
                compact_to_unix("START_TIME", bad),
                Err(TripError::InvalidDateTime {
                    field: "START_TIME",
                    value: bad.to_string()
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn unix_times_beyond_four_digit_years_are_rejected() {
        let year_10000 = 253_402_300_800;
        assert_eq!(
            unix_to_compact(year_10000),
            Err(TripError::TimestampOutOfRange(year_10000))
        );
        assert_eq!(
            unix_to_compact(i64::MAX),
            Err(TripError::TimestampOutOfRange(i64::MAX))
        );
    }
}
