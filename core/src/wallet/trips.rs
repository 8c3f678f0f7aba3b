//! A car's trips for the map view: `trip-gps` records read back and decoded into
//! summaries (the trip list) or a full track (polyline, GeoJSON, packed points).

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::error::WalletError;
use super::identity::Wallet;
use super::reading::{DroppedRecord, RangeResult};
use crate::light::LightClient;
use crate::record::FormatSpec;
use crate::trip::{Trip, TripSummary};

/// The trips of a date range.
#[derive(Debug, Clone, PartialEq)]
pub struct TripList {
    /// Summaries in key order (session, then start time).
    pub trips: Vec<TripSummary>,
    /// Records refused by the reader or not decodable as trips.
    pub rejected: Vec<DroppedRecord>,
    /// Records registered for the car's days that no node served.
    pub missing: u64,
}

/// One trip ready for a map.
#[derive(Debug, Clone, PartialEq)]
pub struct TripTrack {
    /// The decoded trip.
    pub trip: Trip,
    /// Its summary figures.
    pub summary: TripSummary,
    /// Google encoded polyline of the track.
    pub polyline: String,
    /// GeoJSON Feature of the track.
    pub geojson: String,
    /// The packed point buffer (see `trip::packed`).
    pub packed: Vec<u8>,
}

impl Wallet {
    /// Summaries of every trip the car `vid` wrote from `from` to `to` (both included).
    pub async fn trips(
        &self,
        light: &LightClient,
        vid: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<TripList, WalletError> {
        let read = self.trip_records(light, vid, from, to).await?;
        let mut list = TripList {
            trips: Vec::new(),
            rejected: read.rejected,
            missing: read.missing,
        };
        for record in read.records {
            match Trip::decode(&record.key, &record.value).and_then(|t| t.summary()) {
                Ok(summary) => list.trips.push(summary),
                Err(e) => list.rejected.push(DroppedRecord {
                    address: record.address,
                    key: record.key_bytes,
                    reason: e.to_string(),
                }),
            }
        }
        Ok(list)
    }

    /// Every `trip-gps` record the car `vid` wrote from `from` to `to` (both included),
    /// all columns, undecoded.
    pub async fn trip_records(
        &self,
        light: &LightClient,
        vid: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<RangeResult, WalletError> {
        let (spec, all) = (FormatSpec::trip_gps(), json!({}));
        self.get_kv_range(light, vid, from, to, &spec, &all, &all, &[], None)
            .await
    }

    /// The full track of the trip with `key` (SESSION_ID, START_TIME, END_TIME) that the
    /// car `vid` wrote on `date`; `None` when there is none.
    pub async fn trip(
        &self,
        light: &LightClient,
        vid: &str,
        date: NaiveDate,
        key: &Value,
    ) -> Result<Option<TripTrack>, WalletError> {
        let spec = FormatSpec::trip_gps();
        let Some(record) = self.get_kv(light, vid, date, &spec, key, &[]).await? else {
            return Ok(None);
        };
        let trip = Trip::decode(&record.key, &record.value)?;
        Ok(Some(TripTrack {
            summary: trip.summary()?,
            polyline: trip.polyline(),
            geojson: trip.to_geojson()?,
            packed: trip.packed()?,
            trip,
        }))
    }
}
