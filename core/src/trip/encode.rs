//! Encoding a [`Trip`] back into the `trip-gps` record shape: the key and the value a car
//! puts, such that [`Trip::decode`] gives the same trip back.
//!
//! `SPEED` is written as the seed's comma string when every point has a speed, as a JSON
//! array with `null` for missing samples when only some do, and left out when none do.
//! `TIME` is left out when the point times are exactly the even spread from START_TIME
//! to END_TIME that decoding would reconstruct, and written as a comma string otherwise.

use serde_json::{Map, Value, json};

use super::datetime::unix_to_compact;
use super::decode::TRIP_FORMAT;
use super::error::TripError;
use super::point::{Trip, check_track, spread_times};

impl Trip {
    /// The record key: `{"SESSION_ID", "START_TIME", "END_TIME"}` with `YYYYMMDDhhmmss`
    /// times (UTC).
    pub fn to_key(&self) -> Result<Map<String, Value>, TripError> {
        if self.end < self.start {
            return Err(TripError::EndBeforeStart {
                start: self.start,
                end: self.end,
            });
        }
        let mut key = Map::new();
        key.insert("SESSION_ID".into(), json!(self.session_id));
        key.insert("START_TIME".into(), json!(unix_to_compact(self.start)?));
        key.insert("END_TIME".into(), json!(unix_to_compact(self.end)?));
        Ok(key)
    }

    /// The record value: `{"len", "GPS", "SPEED", "TIME", "VEHICLE_DATA", "format"}`,
    /// with `vehicle_data` naming the car's `VEHICLE_DATA` record.
    pub fn to_value(&self, vehicle_data: i64) -> Result<Value, TripError> {
        check_track(&self.points)?;
        let mut value = Map::new();
        value.insert("len".into(), json!(self.points.len()));
        let gps: Vec<Value> = self
            .points
            .iter()
            .map(|p| json!({"lat": p.lat, "lng": p.lng}))
            .collect();
        value.insert("GPS".into(), Value::Array(gps));
        if let Some(speed) = self.speed_field() {
            value.insert("SPEED".into(), speed);
        }
        if let Some(time) = self.time_field() {
            value.insert("TIME".into(), time);
        }
        value.insert("VEHICLE_DATA".into(), json!(vehicle_data));
        value.insert("format".into(), json!(TRIP_FORMAT));
        Ok(Value::Object(value))
    }

    fn speed_field(&self) -> Option<Value> {
        let speeds: Vec<Option<f64>> = self.points.iter().map(|p| p.speed_kmh).collect();
        if speeds.iter().all(Option::is_none) {
            return None;
        }
        if speeds.iter().all(Option::is_some) {
            let text: Vec<String> = speeds.iter().flatten().map(f64::to_string).collect();
            return Some(Value::String(text.join(",")));
        }
        Some(json!(speeds))
    }

    fn time_field(&self) -> Option<Value> {
        let times: Vec<i64> = self.points.iter().map(|p| p.time).collect();
        if times == spread_times(self.start, self.end, times.len()) {
            return None;
        }
        let text: Vec<String> = times.iter().map(i64::to_string).collect();
        Some(Value::String(text.join(",")))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::point::TripPoint;
    use super::super::test_vectors::{seed_key, seed_trip, seed_value};
    use super::*;

    #[test]
    fn seed_trip_encodes_to_the_seed_record() {
        let trip = seed_trip();
        assert_eq!(trip.to_key(), Ok(seed_key()));
        assert_eq!(trip.to_value(1), Ok(seed_value()));
    }

    #[test]
    fn seed_value_text_has_the_seed_speed_string() {
        let value = seed_trip().to_value(7).unwrap();
        assert_eq!(value["SPEED"], json!("0,23,52,45,51,33,49,49,48,37"));
        assert_eq!(value["VEHICLE_DATA"], json!(7));
        assert!(value.get("TIME").is_none());
    }

    fn round_trip(trip: &Trip) -> Trip {
        Trip::decode(&trip.to_key().unwrap(), &trip.to_value(1).unwrap()).unwrap()
    }

    #[test]
    fn explicit_times_and_partial_speeds_round_trip() {
        let mut trip = seed_trip();
        trip.points[3].time += 5;
        trip.points[2].speed_kmh = None;
        trip.points[5].speed_kmh = Some(33.25);
        let value = trip.to_value(1).unwrap();
        assert!(value["TIME"].is_string());
        assert!(value["SPEED"].is_array());
        assert_eq!(round_trip(&trip), trip);
    }

    #[test]
    fn trip_without_speeds_round_trips() {
        let mut trip = seed_trip();
        for point in &mut trip.points {
            point.speed_kmh = None;
        }
        assert!(trip.to_value(1).unwrap().get("SPEED").is_none());
        assert_eq!(round_trip(&trip), trip);
    }

    #[test]
    fn single_point_trip_round_trips() {
        let trip = Trip {
            session_id: -4,
            start: 1_700_000_000,
            end: 1_700_000_000,
            points: vec![TripPoint {
                lat: -33.8688,
                lng: 151.2093,
                speed_kmh: Some(0.1),
                time: 1_700_000_000,
            }],
        };
        assert_eq!(round_trip(&trip), trip);
    }

    #[test]
    fn encoding_rejects_an_empty_track() {
        let mut trip = seed_trip();
        trip.points.clear();
        assert_eq!(trip.to_value(1), Err(TripError::EmptyTrack));
    }

    #[test]
    fn encoding_rejects_invalid_positions() {
        let mut trip = seed_trip();
        trip.points[6].lat = -95.0;
        assert_eq!(
            trip.to_value(1),
            Err(TripError::LatitudeOutOfRange {
                index: 6,
                lat: -95.0
            })
        );
    }

    #[test]
    fn key_rejects_end_before_start_and_unrepresentable_times() {
        let mut trip = seed_trip();
        trip.end = trip.start - 1;
        assert!(matches!(
            trip.to_key(),
            Err(TripError::EndBeforeStart { .. })
        ));
        let mut trip = seed_trip();
        trip.end = i64::MAX;
        assert_eq!(trip.to_key(), Err(TripError::TimestampOutOfRange(i64::MAX)));
    }

    fn arbitrary_trip() -> impl Strategy<Value = Trip> {
        (
            any::<i64>(),
            0_i64..4_000_000_000,
            0_i64..200_000,
            prop::collection::vec(
                (
                    -90.0f64..=90.0,
                    -180.0f64..=180.0,
                    prop::option::of(0.0f64..300.0),
                    0_i64..200_000,
                ),
                1..30,
            ),
            any::<bool>(),
        )
            .prop_map(|(session_id, start, length, raw, spread)| {
                let end = start + length;
                let mut offsets: Vec<i64> = raw.iter().map(|r| r.3.min(length)).collect();
                offsets.sort_unstable();
                let even = spread_times(start, end, raw.len());
                let points = raw
                    .iter()
                    .zip(offsets.iter().zip(even))
                    .map(
                        |(&(lat, lng, speed_kmh, _), (&offset, even_time))| TripPoint {
                            lat,
                            lng,
                            speed_kmh,
                            time: if spread { even_time } else { start + offset },
                        },
                    )
                    .collect();
                Trip {
                    session_id,
                    start,
                    end,
                    points,
                }
            })
    }

    proptest! {
        #[test]
        fn any_valid_trip_round_trips_through_the_record(trip in arbitrary_trip()) {
            let key = trip.to_key().unwrap();
            let value = trip.to_value(3).unwrap();
            prop_assert_eq!(Trip::decode(&key, &value).unwrap(), trip.clone());
            // And through JSON text, as a stored record travels: serde_json's default
            // float parser may be off by one ulp (~1e-14 degree) without its
            // `float_roundtrip` feature.
            let value: Value = serde_json::from_str(&value.to_string()).unwrap();
            let decoded = Trip::decode(&key, &value).unwrap();
            for (got, want) in decoded.points.iter().zip(&trip.points) {
                prop_assert!((got.lat - want.lat).abs() <= 1e-12);
                prop_assert!((got.lng - want.lng).abs() <= 1e-12);
            }
        }
    }
}
