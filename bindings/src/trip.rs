//! Trips across the FFI: a decrypted `trip-gps` record becomes a [`TripTrack`] of summary
//! figures and compact track encodings (polyline, GeoJSON, packed bytes), never a list
//! of boxed doubles.

use crate::error::CarChainError;
use carchain_core::trip::{Trip, TripError as CoreTripError, TripSummary as CoreTripSummary};
use serde_json::Value;

/// The box around a track, in degrees.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct BoundingBox {
    /// Southern edge.
    pub min_lat: f64,
    /// Western edge.
    pub min_lng: f64,
    /// Northern edge.
    pub max_lat: f64,
    /// Eastern edge.
    pub max_lng: f64,
}

/// Summary figures of one trip: what a trip list or a map header shows.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TripSummary {
    /// The trip's `SESSION_ID`.
    pub session_id: i64,
    /// Start, unix seconds.
    pub start: i64,
    /// End, unix seconds.
    pub end: i64,
    /// Length of the track in metres.
    pub distance_m: f64,
    /// `end - start` in seconds.
    pub duration_s: i64,
    /// Average speed in km/h.
    pub avg_speed_kmh: f64,
    /// Highest speed in km/h.
    pub max_speed_kmh: f64,
    /// The box around all points.
    pub bbox: BoundingBox,
    /// Number of points in the track.
    pub point_count: u32,
}

/// A decoded trip ready for a map: summary plus the track in three compact encodings.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TripTrack {
    /// Summary figures.
    pub summary: TripSummary,
    /// Google encoded polyline (precision 5) of the track.
    pub polyline: String,
    /// GeoJSON Feature of the track (LineString, with times and speeds as properties).
    pub geojson: String,
    /// The packed binary track (core's `PACKED_VERSION` layout: header, then per point
    /// lat/lng as 1e-7 degree i32, time, speed in 0.1 km/h).
    pub packed: Vec<u8>,
}

fn parse_json(text: &str, code: &str, what: &str) -> Result<Value, CarChainError> {
    serde_json::from_str(text).map_err(|error| {
        CarChainError::new(
            code,
            format!(
                "the {what} is not JSON (line {}, column {})",
                error.line(),
                error.column()
            ),
        )
    })
}

/// Converts core's trip summary to the FFI record.
pub(crate) fn summary_from_core(summary: &CoreTripSummary) -> Result<TripSummary, CarChainError> {
    let point_count = u32::try_from(summary.point_count)
        .map_err(|_| CoreTripError::TooManyPoints(summary.point_count))?;
    Ok(TripSummary {
        session_id: summary.session_id,
        start: summary.start,
        end: summary.end,
        distance_m: summary.distance_m,
        duration_s: summary.duration_s,
        avg_speed_kmh: summary.avg_speed_kmh,
        max_speed_kmh: summary.max_speed_kmh,
        bbox: BoundingBox {
            min_lat: summary.bbox.min_lat,
            min_lng: summary.bbox.min_lng,
            max_lat: summary.bbox.max_lat,
            max_lng: summary.bbox.max_lng,
        },
        point_count,
    })
}

/// Decodes a `trip-gps` record from its JSON key and its decrypted JSON value (the
/// seed's `=` for `:` is accepted in the value).
#[uniffi::export]
pub fn decode_trip(key_json: String, value_json: String) -> Result<TripTrack, CarChainError> {
    let key = match parse_json(&key_json, "trip.key_not_json", "record key")? {
        Value::Object(map) => map,
        _ => {
            return Err(CarChainError::new(
                "trip.key_not_object",
                "the record key must be a JSON object",
            ));
        }
    };
    let value = carchain_core::record::parse_value(&value_json)
        .map_err(|error| CarChainError::new("trip.value_not_json", error.to_string()))?;
    let trip = Trip::decode(&key, &value)?;
    Ok(TripTrack {
        summary: summary_from_core(&trip.summary()?)?,
        polyline: trip.polyline(),
        geojson: trip.to_geojson()?,
        packed: trip.packed()?,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use carchain_core::trip::{decode_polyline, unpack};

    pub(crate) const SEED_KEY: &str =
        r#"{"SESSION_ID":1,"START_TIME":20160511071428,"END_TIME":20160511094623}"#;
    pub(crate) const SEED_VALUE: &str = r#"{"len":10,"GPS":[{"lat":31.250885,"lng":121.44662},{"lat":31.251259,"lng":121.4456},{"lat":31.25419,"lng":121.485504},{"lat":31.268875,"lng":121.59015},{"lat":31.29777,"lng":121.61309},{"lat":31.298483,"lng":121.6138},{"lat":31.297743,"lng":121.614525},{"lat":31.194258,"lng":121.74957},{"lat":31.195974,"lng":121.75078},{"lat":31.115866,"lng":121.77829}],"SPEED":"0,23,52,45,51,33,49,49,48,37","VEHICLE_DATA":1,"format"="trip-gps"}"#;

    #[test]
    fn seed_trip_crosses_with_pinned_polyline() {
        let track = decode_trip(SEED_KEY.into(), SEED_VALUE.into()).unwrap();
        assert_eq!(
            track.polyline,
            "auv}Dk`gdViAjEiQkxFyzAamSqsDknCmCmCrCqCveS_kYuIqFrsN}jD"
        );
        let summary = &track.summary;
        assert_eq!(summary.session_id, 1);
        assert_eq!(summary.point_count, 10);
        assert_eq!(summary.duration_s, summary.end - summary.start);
        assert_eq!(summary.duration_s, 2 * 3600 + 31 * 60 + 55);
        assert_eq!(summary.max_speed_kmh, 52.0);
        assert_eq!(summary.bbox.min_lat, 31.115866);
        assert_eq!(summary.bbox.max_lng, 121.77829);
        assert!(summary.distance_m > 40_000.0 && summary.distance_m < 60_000.0);
        let geojson: Value = serde_json::from_str(&track.geojson).unwrap();
        assert_eq!(geojson["geometry"]["type"], "LineString");
        assert_eq!(
            geojson["geometry"]["coordinates"].as_array().unwrap().len(),
            10
        );
        let points = unpack(&track.packed).unwrap();
        assert_eq!(points.len(), 10);
        assert_eq!(decode_polyline(&track.polyline).unwrap().len(), 10);
    }

    #[test]
    fn bad_records_have_codes() {
        let cases = [
            ("not json", SEED_VALUE, "trip.key_not_json"),
            ("[1]", SEED_VALUE, "trip.key_not_object"),
            (SEED_KEY, "{\"GPS\": [", "trip.value_not_json"),
            (
                r#"{"START_TIME":20160511071428,"END_TIME":20160511094623}"#,
                SEED_VALUE,
                "trip.missing_field",
            ),
            (SEED_KEY, r#"{"GPS":[]}"#, "trip.empty_track"),
            (
                SEED_KEY,
                r#"{"GPS":[{"lat":91,"lng":0}]}"#,
                "trip.latitude_out_of_range",
            ),
            (
                SEED_KEY,
                r#"{"GPS":[{"lat":1,"lng":2}],"format":"carvio"}"#,
                "trip.wrong_format",
            ),
        ];
        for (key, value, code) in cases {
            let err = decode_trip(key.into(), value.into()).unwrap_err();
            assert_eq!(err.code(), code, "{key} / {value}");
        }
    }
}
