//! Decoding a `trip-gps` record (its JSON key and decrypted JSON value) into a [`Trip`].
//!
//! Key: `{"SESSION_ID":1, "START_TIME":20160511071428, "END_TIME":20160511094623}`;
//! times are `YYYYMMDDhhmmss` integers of the car's local clock, read as UTC (see
//! [`super::datetime`]).
//!
//! Value: `{"len":10, "GPS":[{"lat":..,"lng":..},..], "SPEED":"0,23,52", "VEHICLE_DATA":1,
//! "format":"trip-gps"}`. `SPEED` (km/h) is a comma string or a JSON array of numbers
//! (`null` in an array marks a missing sample); it may be absent. `TIME` (optional) holds
//! each point's unix seconds, as a comma string or an array; without it the points are
//! spread evenly from START_TIME to END_TIME, rounded down to whole seconds. `len` and
//! `format` are optional but must agree when present; other fields are ignored.

use serde_json::{Map, Value};

use super::datetime::compact_to_unix;
use super::error::TripError;
use super::point::{Trip, TripPoint, check_position, spread_times};

/// The `format` name of trip records.
pub const TRIP_FORMAT: &str = "trip-gps";

impl Trip {
    /// Decodes a `trip-gps` record from its key and its decrypted value.
    pub fn decode(key: &Map<String, Value>, value: &Value) -> Result<Trip, TripError> {
        let session_id = key_integer(key, "SESSION_ID")?;
        let start = key_time(key, "START_TIME")?;
        let end = key_time(key, "END_TIME")?;
        if end < start {
            return Err(TripError::EndBeforeStart { start, end });
        }

        let value = value.as_object().ok_or(TripError::InvalidField {
            field: "value",
            expected: "a JSON object",
        })?;
        check_format(value)?;
        let positions = decode_gps(value)?;
        check_len(value, positions.len())?;
        let speeds = match value.get("SPEED") {
            Some(speed) => decode_speeds(speed, positions.len())?,
            None => vec![None; positions.len()],
        };
        let times = match value.get("TIME") {
            Some(time) => decode_times(time, positions.len())?,
            None => spread_times(start, end, positions.len()),
        };

        let points = positions
            .into_iter()
            .zip(speeds)
            .zip(times)
            .map(|(((lat, lng), speed_kmh), time)| TripPoint {
                lat,
                lng,
                speed_kmh,
                time,
            })
            .collect();
        Ok(Trip {
            session_id,
            start,
            end,
            points,
        })
    }
}

fn key_integer(key: &Map<String, Value>, field: &'static str) -> Result<i64, TripError> {
    key.get(field)
        .ok_or(TripError::MissingField(field))?
        .as_i64()
        .ok_or(TripError::InvalidField {
            field,
            expected: "an integer",
        })
}

fn key_time(key: &Map<String, Value>, field: &'static str) -> Result<i64, TripError> {
    let raw = key.get(field).ok_or(TripError::MissingField(field))?;
    let compact = raw.as_i64().ok_or_else(|| TripError::InvalidDateTime {
        field,
        value: raw.to_string(),
    })?;
    compact_to_unix(field, compact)
}

fn check_format(value: &Map<String, Value>) -> Result<(), TripError> {
    match value.get("format") {
        None => Ok(()),
        Some(Value::String(format)) if format == TRIP_FORMAT => Ok(()),
        Some(Value::String(format)) => Err(TripError::WrongFormat {
            found: format.clone(),
        }),
        Some(_) => Err(TripError::InvalidField {
            field: "format",
            expected: "a string",
        }),
    }
}

fn check_len(value: &Map<String, Value>, points: usize) -> Result<(), TripError> {
    let Some(len) = value.get("len") else {
        return Ok(());
    };
    let len = len.as_u64().ok_or(TripError::InvalidField {
        field: "len",
        expected: "a non-negative integer",
    })?;
    if usize::try_from(len).ok() != Some(points) {
        return Err(TripError::LenDisagrees { len, points });
    }
    Ok(())
}

fn decode_gps(value: &Map<String, Value>) -> Result<Vec<(f64, f64)>, TripError> {
    let gps = value
        .get("GPS")
        .ok_or(TripError::MissingField("GPS"))?
        .as_array()
        .ok_or(TripError::InvalidField {
            field: "GPS",
            expected: "an array of {\"lat\", \"lng\"} objects",
        })?;
    if gps.is_empty() {
        return Err(TripError::EmptyTrack);
    }
    gps.iter()
        .enumerate()
        .map(|(index, entry)| decode_gps_point(index, entry))
        .collect()
}

fn decode_gps_point(index: usize, entry: &Value) -> Result<(f64, f64), TripError> {
    let entry = entry.as_object().ok_or(TripError::InvalidGpsPoint {
        index,
        reason: "not an object",
    })?;
    let coordinate = |name: &'static str, missing: &'static str, not_number: &'static str| {
        entry
            .get(name)
            .ok_or(TripError::InvalidGpsPoint {
                index,
                reason: missing,
            })?
            .as_f64()
            .ok_or(TripError::InvalidGpsPoint {
                index,
                reason: not_number,
            })
    };
    let lat = coordinate("lat", "lat is missing", "lat is not a number")?;
    let lng = coordinate("lng", "lng is missing", "lng is not a number")?;
    check_position(index, lat, lng)?;
    Ok((lat, lng))
}

/// The entries of a SPEED or TIME field: a comma string or a JSON array.
enum Entries<'a> {
    Text(Vec<&'a str>),
    Array(&'a [Value]),
}

fn entries<'a>(
    raw: &'a Value,
    field: &'static str,
    expected: &'static str,
    points: usize,
) -> Result<Entries<'a>, TripError> {
    let entries = match raw {
        Value::String(text) => Entries::Text(text.split(',').collect()),
        Value::Array(items) => Entries::Array(items),
        _ => return Err(TripError::InvalidField { field, expected }),
    };
    let found = match &entries {
        Entries::Text(parts) => parts.len(),
        Entries::Array(items) => items.len(),
    };
    if found != points {
        return Err(TripError::LengthMismatch {
            field,
            expected: points,
            found,
        });
    }
    Ok(entries)
}

fn decode_speeds(raw: &Value, points: usize) -> Result<Vec<Option<f64>>, TripError> {
    let check = |index: usize, speed: Option<f64>, text: &dyn Fn() -> String| match speed {
        Some(kmh) if kmh.is_finite() && kmh >= 0.0 => Ok(Some(kmh)),
        _ => Err(TripError::InvalidSpeed {
            index,
            text: text(),
        }),
    };
    match entries(
        raw,
        "SPEED",
        "a comma string or an array of numbers",
        points,
    )? {
        Entries::Text(parts) => parts
            .iter()
            .enumerate()
            .map(|(index, part)| {
                check(index, part.trim().parse::<f64>().ok(), &|| {
                    (*part).to_string()
                })
            })
            .collect(),
        Entries::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| match item {
                Value::Null => Ok(None),
                other => check(index, other.as_f64(), &|| other.to_string()),
            })
            .collect(),
    }
}

fn decode_times(raw: &Value, points: usize) -> Result<Vec<i64>, TripError> {
    let times: Vec<i64> = match entries(
        raw,
        "TIME",
        "a comma string or an array of integers",
        points,
    )? {
        Entries::Text(parts) => parts
            .iter()
            .enumerate()
            .map(|(index, part)| {
                part.trim()
                    .parse::<i64>()
                    .map_err(|_| TripError::InvalidTime {
                        index,
                        text: (*part).to_string(),
                    })
            })
            .collect::<Result<_, _>>()?,
        Entries::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                item.as_i64().ok_or_else(|| TripError::InvalidTime {
                    index,
                    text: item.to_string(),
                })
            })
            .collect::<Result<_, _>>()?,
    };
    if let Some(index) = times
        .windows(2)
        .position(|pair| matches!(pair, [earlier, later] if later < earlier))
    {
        return Err(TripError::TimeGoesBackwards { index: index + 1 });
    }
    Ok(times)
}

#[cfg(test)]
mod tests;
