//! The benchmarks' data and timing helpers: a month of long trips (30 days x 4 trips x
//! 1,000 points, ~36 KB of JSON each, the examples' and the bindings' benchmarks read
//! the same month), medians and milliseconds.

use std::time::Duration;

use carchain_core::trip::{Trip, TripPoint};
use chrono::{NaiveDate, NaiveTime};

/// Days of trips the car stores.
pub const DAYS: u32 = 30;
/// Trips per day.
pub const TRIPS_PER_DAY: i64 = 4;
/// Points per trip (~36 KB of JSON each).
pub const POINTS: usize = 1_000;
/// Trips in the month.
pub const MONTH_TRIPS: usize = DAYS as usize * TRIPS_PER_DAY as usize;

/// Day `n` of June 2024.
pub fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 6, n).expect("date")
}

/// A 1,000-point trip, one point every 5 s, starting at 07:00 + 3 h per session.
pub fn long_trip(date: NaiveDate, session: i64) -> Trip {
    let start = date
        .and_time(NaiveTime::from_hms_opt(7, 0, 0).expect("time"))
        .and_utc()
        .timestamp()
        + session * 3 * 3600;
    let points = (0..POINTS)
        .map(|i| {
            let t = i as f64;
            TripPoint {
                lat: 31.2 + 0.0003 * t + 0.001 * (t / 37.0).sin(),
                lng: 121.4 + 0.0004 * t + 0.001 * (t / 53.0).cos(),
                speed_kmh: Some(25.0 + 30.0 * (t / 41.0).sin().abs()),
                time: start + 5 * i as i64,
            }
        })
        .collect();
    Trip {
        session_id: session,
        start,
        end: start + 5 * (POINTS as i64 - 1),
        points,
    }
}

/// Every trip the car stores, in (day, session) order.
pub fn month_of_trips() -> Vec<(NaiveDate, Trip)> {
    (1..=DAYS)
        .flat_map(|d| (0..TRIPS_PER_DAY).map(move |s| (day(d), long_trip(day(d), s))))
        .collect()
}

/// The median of `samples` (the upper one of an even count).
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Milliseconds, for the JSON summaries.
pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
