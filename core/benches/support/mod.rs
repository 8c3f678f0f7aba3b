//! Inputs shared by carchain-core's benchmarks: synthetic trips around Shanghai.

use carchain_core::trip::{Trip, TripPoint};

/// How a synthetic trip drives: when it starts and how its speed swings.
pub struct Drive {
    /// Start time (unix seconds).
    pub start: i64,
    /// Added to each sample's index before the track's sines are taken.
    pub phase: f64,
    /// Slowest speed, km/h.
    pub min_speed_kmh: f64,
    /// How far above the slowest speed it swings, km/h.
    pub speed_swing_kmh: f64,
    /// The swing's pace: the speed follows `|sin(t / speed_period)|`.
    pub speed_period: f64,
}

/// A plausible trip of `points` samples around Shanghai, one per 5 s, driven as `drive`.
pub fn synthetic_trip(session_id: i64, points: usize, drive: &Drive) -> Trip {
    let start = drive.start;
    let track = (0..points)
        .map(|i| {
            let t = i as f64 + drive.phase;
            TripPoint {
                lat: 31.2 + 0.0004 * t + 0.002 * (t / 40.0).sin(),
                lng: 121.4 + 0.0005 * t + 0.002 * (t / 55.0).cos(),
                speed_kmh: Some(
                    drive.min_speed_kmh
                        + drive.speed_swing_kmh * (t / drive.speed_period).sin().abs(),
                ),
                time: start + 5 * i as i64,
            }
        })
        .collect();
    Trip {
        session_id,
        start,
        end: start + 5 * (points as i64 - 1),
        points: track,
    }
}
