//! Per-trip features computed in Rust from a decrypted [`Trip`]: what the shipped
//! provider programs take as input (distance, duration, night driving, speeding, harsh
//! speed changes).
//!
//! Definitions (all in whole units, so the EVM sees integers):
//! - `distance_m`: the haversine track length, rounded to the metre;
//! - `duration_s`: `end - start` of the record key;
//! - `night_s`: seconds of `[start, end)` between 22:00 and 05:00 **UTC** (the record
//!   carries no time zone; a provider that wants local night must say so and get a
//!   different program);
//! - `speeding_s`: the sum of `dt` over consecutive samples whose arriving sample's
//!   speed exceeds [`FeatureParams::speed_limit_kmh`];
//! - `harsh_events`: consecutive samples whose speed changes faster than
//!   [`FeatureParams::harsh_kmh_per_s`] (the change divided by the time between them),
//!   so the count does not depend on how often the car samples; a hard brake shorter
//!   than the sampling interval is averaged away, as any telemetry of that rate would.
//!
//! A sample's speed is the car's reported SPEED when present, else the average speed of
//! the segment that arrives at it (no speed for a first sample without SPEED, nor after a
//! segment with no elapsed time).

use crate::trip::{Trip, TripError, haversine_m, track_length_m};

use super::error::ComputeError;

/// Seconds in a day.
const DAY_S: i64 = 86_400;
/// Night starts at 22:00 UTC: shifting time by two hours puts it at midnight.
const NIGHT_SHIFT_S: i64 = 2 * 3_600;
/// Night lasts seven hours (22:00 to 05:00).
const NIGHT_LEN_S: i64 = 7 * 3_600;
/// Metres per second to kilometres per hour.
const MPS_TO_KMH: f64 = 3.6;

/// The thresholds the owner's SDK applies when computing features.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureParams {
    /// Speeds above this count as speeding (km/h). Trips carry no road data, so one
    /// limit applies everywhere.
    pub speed_limit_kmh: f64,
    /// A speed change between two consecutive samples faster than this is harsh
    /// (km/h per second; 10 is about 0.28 g).
    pub harsh_kmh_per_s: f64,
}

impl Default for FeatureParams {
    /// 120 km/h and 10 km/h per second.
    fn default() -> Self {
        FeatureParams {
            speed_limit_kmh: 120.0,
            harsh_kmh_per_s: 10.0,
        }
    }
}

impl FeatureParams {
    fn check(&self) -> Result<(), ComputeError> {
        for (name, value) in [
            ("speed_limit_kmh", self.speed_limit_kmh),
            ("harsh_kmh_per_s", self.harsh_kmh_per_s),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(ComputeError::InvalidParameter { name, value });
            }
        }
        Ok(())
    }
}

/// One trip's features, as the UBI score program takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TripFeatures {
    /// Track length, metres (rounded).
    pub distance_m: u64,
    /// `end - start`, seconds.
    pub duration_s: u64,
    /// Seconds between 22:00 and 05:00 UTC.
    pub night_s: u64,
    /// Seconds above the speed limit.
    pub speeding_s: u64,
    /// Harsh speed changes between consecutive samples.
    pub harsh_events: u64,
}

impl TripFeatures {
    /// The five values in the order of the Solidity struct.
    pub fn to_words(&self) -> [u64; 5] {
        [
            self.distance_m,
            self.duration_s,
            self.night_s,
            self.speeding_s,
            self.harsh_events,
        ]
    }
}

/// Computes a trip's features.
pub fn trip_features(trip: &Trip, params: &FeatureParams) -> Result<TripFeatures, ComputeError> {
    params.check()?;
    if trip.points.is_empty() {
        return Err(TripError::EmptyTrack.into());
    }
    if trip.end < trip.start {
        return Err(TripError::EndBeforeStart {
            start: trip.start,
            end: trip.end,
        }
        .into());
    }
    let speeds = sample_speeds(trip);
    let mut speeding_s: u64 = 0;
    let mut harsh_events: u64 = 0;
    for (i, pair) in trip.points.windows(2).enumerate() {
        let (Some(before), Some(after)) = (pair.first(), pair.get(1)) else {
            continue;
        };
        let previous_speed = speeds.get(i).copied().flatten();
        let speed = speeds.get(i + 1).copied().flatten();
        let dt = after.time.saturating_sub(before.time);
        if dt > 0 && speed.is_some_and(|v| v > params.speed_limit_kmh) {
            speeding_s = speeding_s.saturating_add(dt.unsigned_abs());
        }
        if let (Some(v0), Some(v1)) = (previous_speed, speed)
            && dt > 0
            && (v1 - v0).abs() / dt as f64 > params.harsh_kmh_per_s
        {
            harsh_events += 1;
        }
    }
    Ok(TripFeatures {
        // A finite, non-negative length: the cast rounds and cannot wrap.
        distance_m: track_length_m(&trip.points).round() as u64,
        duration_s: trip.end.abs_diff(trip.start),
        night_s: night_seconds(trip.start, trip.end),
        speeding_s,
        harsh_events,
    })
}

/// Each sample's speed: reported, else the arriving segment's average, else none.
fn sample_speeds(trip: &Trip) -> Vec<Option<f64>> {
    let mut speeds = Vec::with_capacity(trip.points.len());
    let mut previous = None;
    for point in &trip.points {
        let derived = previous.and_then(|p: &crate::trip::TripPoint| {
            let dt = point.time.saturating_sub(p.time);
            (dt > 0).then(|| {
                haversine_m((p.lat, p.lng), (point.lat, point.lng)) / dt as f64 * MPS_TO_KMH
            })
        });
        speeds.push(point.speed_kmh.or(derived));
        previous = Some(point);
    }
    speeds
}

/// Seconds of `[start, end)` that fall between 22:00 and 05:00 UTC.
pub fn night_seconds(start: i64, end: i64) -> u64 {
    if end <= start {
        return 0;
    }
    let before_end = night_seconds_before(i128::from(end));
    let before_start = night_seconds_before(i128::from(start));
    u64::try_from(before_end - before_start).unwrap_or(u64::MAX)
}

/// Night seconds in `[origin, t)`, where the origin is 22:00 UTC of 1969-12-31 and
/// night is the first seven hours of every day counted from there.
fn night_seconds_before(t: i128) -> i128 {
    let shifted = t + i128::from(NIGHT_SHIFT_S);
    let day = i128::from(DAY_S);
    let days = shifted.div_euclid(day);
    let into_day = shifted.rem_euclid(day);
    days * i128::from(NIGHT_LEN_S) + into_day.min(i128::from(NIGHT_LEN_S))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trip::TripPoint;

    /// 2024-03-01T00:00:00Z.
    const MARCH_1: i64 = 1_709_251_200;

    fn point(lat: f64, lng: f64, speed: Option<f64>, time: i64) -> TripPoint {
        TripPoint {
            lat,
            lng,
            speed_kmh: speed,
            time,
        }
    }

    #[test]
    fn night_is_22_to_05_utc() {
        // 21:00 to 23:00: one hour of night.
        assert_eq!(night_seconds(MARCH_1 - 3 * 3600, MARCH_1 - 3600), 3600);
        // 04:00 to 06:00: one hour.
        assert_eq!(night_seconds(MARCH_1 + 4 * 3600, MARCH_1 + 6 * 3600), 3600);
        // Noon to noon next day: the full seven hours.
        assert_eq!(
            night_seconds(MARCH_1 + 12 * 3600, MARCH_1 + 36 * 3600),
            25_200
        );
        // Daytime only, and an empty or reversed interval.
        assert_eq!(night_seconds(MARCH_1 + 6 * 3600, MARCH_1 + 21 * 3600), 0);
        assert_eq!(night_seconds(MARCH_1, MARCH_1), 0);
        assert_eq!(night_seconds(MARCH_1 + 10, MARCH_1), 0);
        // Before 1970 too: 1969-12-31 23:00 to 1970-01-01 01:00.
        assert_eq!(night_seconds(-3600, 3600), 7200);
        // The whole i64 range neither overflows nor panics: about 7/24 of it is night.
        let all = night_seconds(i64::MIN, i64::MAX);
        let expected = u64::MAX / 24 * 7;
        assert!(all.abs_diff(expected) < DAY_S as u64, "{all} vs {expected}");
    }

    #[test]
    fn reported_speeds_drive_speeding_and_harsh_counts() -> Result<(), ComputeError> {
        let noon = MARCH_1 + 12 * 3600;
        let trip = Trip {
            session_id: 1,
            start: noon,
            end: noon + 22,
            points: vec![
                point(0.0, 0.0, Some(100.0), noon),
                point(0.0, 0.001, Some(130.0), noon + 2), // +15 km/h/s: harsh, speeding 2 s
                point(0.0, 0.002, Some(125.0), noon + 12), // speeding 10 s
                point(0.0, 0.003, Some(90.0), noon + 22), // -3.5 km/h/s: not harsh
            ],
        };
        let features = trip_features(&trip, &FeatureParams::default())?;
        assert_eq!(features.duration_s, 22);
        assert_eq!(features.speeding_s, 12);
        assert_eq!(features.harsh_events, 1);
        // The same -35 km/h in 2 s is harsh: the rate counts, not the change.
        let mut quick = trip.clone();
        quick.points[3].time = noon + 14;
        quick.end = noon + 14;
        assert_eq!(
            trip_features(&quick, &FeatureParams::default())?.harsh_events,
            2
        );
        assert_eq!(features.night_s, 0);
        // 0.003 degrees of longitude on the equator.
        let expected = (0.003f64.to_radians() * crate::trip::EARTH_RADIUS_M).round() as u64;
        assert_eq!(features.distance_m, expected);
        Ok(())
    }

    #[test]
    fn missing_speeds_are_derived_from_positions() -> Result<(), ComputeError> {
        // 1 km in 20 s is 180 km/h, then 1 km in 120 s is 30 km/h.
        let km_in_degrees = 1000.0 / crate::trip::EARTH_RADIUS_M;
        let lng = km_in_degrees.to_degrees();
        let trip = Trip {
            session_id: 2,
            start: MARCH_1 - 600,
            end: MARCH_1 - 460,
            points: vec![
                point(0.0, 0.0, None, MARCH_1 - 600),
                point(0.0, lng, None, MARCH_1 - 580),
                point(0.0, 2.0 * lng, None, MARCH_1 - 460),
            ],
        };
        let features = trip_features(&trip, &FeatureParams::default())?;
        assert_eq!(features.distance_m, 2000);
        assert_eq!(features.speeding_s, 20);
        // 180 -> 30 km/h over 120 s is 1.25 km/h per second: not harsh.
        assert_eq!(features.harsh_events, 0);
        assert_eq!(features.night_s, 140);
        Ok(())
    }

    #[test]
    fn bad_trips_and_parameters_are_refused() {
        let good = Trip {
            session_id: 3,
            start: 10,
            end: 20,
            points: vec![point(1.0, 1.0, None, 10)],
        };
        let reversed = Trip {
            start: 30,
            ..good.clone()
        };
        assert_eq!(
            trip_features(&reversed, &FeatureParams::default()),
            Err(ComputeError::Trip(TripError::EndBeforeStart {
                start: 30,
                end: 20
            }))
        );
        let empty = Trip {
            points: Vec::new(),
            ..good.clone()
        };
        assert_eq!(
            trip_features(&empty, &FeatureParams::default()),
            Err(ComputeError::Trip(TripError::EmptyTrack))
        );
        for bad in [0.0, -5.0, f64::NAN, f64::INFINITY] {
            let params = FeatureParams {
                speed_limit_kmh: bad,
                ..FeatureParams::default()
            };
            assert!(matches!(
                trip_features(&good, &params),
                Err(ComputeError::InvalidParameter {
                    name: "speed_limit_kmh",
                    ..
                })
            ));
            let params = FeatureParams {
                harsh_kmh_per_s: bad,
                ..FeatureParams::default()
            };
            assert!(matches!(
                trip_features(&good, &params),
                Err(ComputeError::InvalidParameter {
                    name: "harsh_kmh_per_s",
                    ..
                })
            ));
        }
    }
}
