//! The files people open, derived from the verified records: `records.json` (every
//! record with its key and decrypted value), `records.csv` (one row per record, one
//! column per value field), `trips.geojson` and `trips.gpx` (the `trip-gps` records).
//! Derivation is deterministic, so the verifier derives them again from the records it
//! proved and opened, and any changed byte (a cell, a point) is caught.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::error::ExportError;
use super::ledger::OpenedEntry;
use super::manifest::{RECORDS_CSV, RECORDS_JSON, TRIPS_GEOJSON, TRIPS_GPX};
use crate::record::{FormatRegistry, decode_key};
use crate::trip::{TRIP_FORMAT, Trip, trips_to_geojson, trips_to_gpx};

/// The GPX `creator` of an export.
const GPX_CREATOR: &str = "CarChain export";

/// The derived files and the number of trips among the records.
pub struct Derived {
    /// (name, bytes), in archive order.
    pub files: Vec<(&'static str, Vec<u8>)>,
    /// Trips found among the records.
    pub trips: u64,
}

/// The record's key as JSON: its fields when the format is a known one, else the
/// range-ordered key bytes in hex.
fn key_json(registry: &FormatRegistry, entry: &OpenedEntry) -> Map<String, Value> {
    registry
        .get(&entry.format)
        .ok()
        .and_then(|spec| decode_key(spec, &entry.plain_key).ok())
        .unwrap_or_else(|| {
            let mut map = Map::new();
            map.insert(
                "key_hex".into(),
                Value::String(hex::encode(&entry.plain_key)),
            );
            map
        })
}

/// Derives every file from `records` (in archive order).
pub fn derive(records: &[OpenedEntry]) -> Result<Derived, ExportError> {
    let registry = FormatRegistry::with_builtins();
    let keyed: Vec<(Map<String, Value>, &OpenedEntry)> = records
        .iter()
        .map(|entry| (key_json(&registry, entry), entry))
        .collect();
    let trips: Vec<Trip> = keyed
        .iter()
        .filter(|(_, entry)| entry.format == TRIP_FORMAT)
        .filter_map(|(key, entry)| Trip::decode(key, &entry.value).ok())
        .collect();
    let trip_error = |err: crate::trip::TripError| ExportError::RecordInvalid {
        address: "(trips)".into(),
        reason: err.to_string(),
    };
    let json_doc: Vec<Value> = keyed
        .iter()
        .map(|(key, entry)| {
            json!({"address": entry.address, "format": entry.format, "height": entry.height,
                   "key": key, "value": entry.value})
        })
        .collect();
    let mut records_json =
        serde_json::to_vec_pretty(&json_doc).map_err(|err| ExportError::RecordInvalid {
            address: "(records)".into(),
            reason: err.to_string(),
        })?;
    records_json.push(b'\n');
    let mut geojson = trips_to_geojson(&trips).map_err(trip_error)?.into_bytes();
    geojson.push(b'\n');
    let gpx = trips_to_gpx(&trips, GPX_CREATOR).map_err(trip_error)?;
    Ok(Derived {
        files: vec![
            (RECORDS_JSON, records_json),
            (RECORDS_CSV, csv(&keyed).into_bytes()),
            (TRIPS_GEOJSON, geojson),
            (TRIPS_GPX, gpx.into_bytes()),
        ],
        trips: trips.len() as u64,
    })
}

/// RFC 4180 CSV: `address,format,height,key` then every value field (sorted); strings
/// as they are, other values as compact JSON, absent fields empty.
fn csv(records: &[(Map<String, Value>, &OpenedEntry)]) -> String {
    let fields: BTreeSet<&str> = records
        .iter()
        .filter_map(|(_, entry)| entry.value.as_object())
        .flat_map(|object| object.keys().map(String::as_str))
        .collect();
    let mut out = String::new();
    let header: Vec<String> = ["address", "format", "height", "key"]
        .into_iter()
        .chain(fields.iter().copied())
        .map(cell)
        .collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for (key, entry) in records {
        let mut row = vec![
            cell(&entry.address),
            cell(&entry.format),
            entry.height.to_string(),
            cell(&Value::Object(key.clone()).to_string()),
        ];
        for field in &fields {
            row.push(match entry.value.get(*field) {
                None => String::new(),
                Some(Value::String(text)) => cell(text),
                Some(other) => cell(&other.to_string()),
            });
        }
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// One CSV cell, quoted when it holds a comma, a quote or a line break.
fn cell(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_only_when_needed() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn records_give_one_row_each_with_their_fields() {
        let entry = |address: &str, value: Value| OpenedEntry {
            address: address.into(),
            format: "custom".into(),
            height: 7,
            stored_key: vec![1],
            plain_key: vec![0xab],
            value,
        };
        let records = [
            entry("bcrt1qa", json!({"speed": 42, "note": "x,y"})),
            entry("bcrt1qb", json!({"fuel": 0.5})),
        ];
        let derived = derive(&records).unwrap();
        let csv = String::from_utf8(derived.files[1].1.clone()).unwrap();
        assert_eq!(
            csv,
            "address,format,height,key,fuel,note,speed\r\n\
             bcrt1qa,custom,7,\"{\"\"key_hex\"\":\"\"ab\"\"}\",,\"x,y\",42\r\n\
             bcrt1qb,custom,7,\"{\"\"key_hex\"\":\"\"ab\"\"}\",0.5,,\r\n"
        );
        assert_eq!(derived.trips, 0);
        assert_eq!(derive(&records).unwrap().files, derived.files);
    }
}
