//! A car's day: commutes on weekdays, outings at weekends, a night trip now and then,
//! and the occasional `carvio` parking violation where the car was left.
//!
//! Times follow CarChain's convention for record keys: the car's local wall-clock time
//! labelled UTC (no zone is stored), so a 07:30 commute in Shanghai starts at 07:30 of
//! its day, and the day a trip belongs to is the date of its start.

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use serde_json::{Value, json};

use super::city::{Node, RoadGrid};
use super::drive::{DrivenTrip, drive};
use super::rng::SimRng;

/// A parking violation, as the seed's `carvio` record.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The record key's `CARVIO_ID`.
    pub id: i64,
    /// When it was booked, unix seconds.
    pub time: i64,
    /// Where the car was parked.
    pub lat: f64,
    /// Where the car was parked.
    pub lng: f64,
    /// The fine, yuan.
    pub price: i64,
}

impl Violation {
    /// The `carvio` record key: `{"CARVIO_ID": id}`.
    pub fn key(&self) -> Value {
        json!({ "CARVIO_ID": self.id })
    }

    /// The `carvio` record value in the seed's shape.
    pub fn value(&self, local_date: NaiveDate) -> Value {
        let compact = i64::from(local_date.year()) * 10_000
            + i64::from(local_date.month()) * 100
            + i64::from(local_date.day());
        json!({
            "format": "carvio",
            "VEHICLE_DATA": 1,
            "datetime": compact,
            "loc": { "lat": self.lat, "lng": self.lng },
            "viotype": "vioparking",
            "price": self.price,
            "point": 0,
        })
    }
}

/// Everything one car did on one (local) day.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatedDay {
    /// The car's local date; the car writes the day's records under this date.
    pub date: NaiveDate,
    /// Trips in time order.
    pub trips: Vec<DrivenTrip>,
    /// Parking violations booked that day.
    pub violations: Vec<Violation>,
}

impl SimulatedDay {
    /// Number of records the car puts for the day.
    pub fn record_count(&self) -> usize {
        self.trips.len() + self.violations.len()
    }
}

/// Where a car lives and works, and its counters.
#[derive(Debug, Clone)]
pub(super) struct Habits {
    pub home: Node,
    pub work: Node,
    pub next_session: i64,
    pub next_violation: i64,
}

/// Plans and drives a day.
pub(super) fn simulate_day(
    grid: &RoadGrid,
    habits: &mut Habits,
    date: NaiveDate,
    sample_secs: i64,
    rng: &mut SimRng,
) -> SimulatedDay {
    let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
    let (rows, cols) = grid.size();
    let random_place = |rng: &mut SimRng| Node {
        i: rng.int(1, rows),
        j: rng.int(1, cols),
    };
    // (local start minute, from, to)
    let mut plan: Vec<(i64, Node, Node)> = Vec::new();
    if weekend {
        let outings = rng.int(1, 2);
        let mut minute = rng.int(9 * 60 + 30, 11 * 60);
        for _ in 0..outings {
            let place = random_place(rng);
            plan.push((minute, habits.home, place));
            plan.push((minute + rng.int(90, 180), place, habits.home));
            minute += rng.int(300, 420);
        }
    } else {
        plan.push((rng.int(7 * 60 + 20, 8 * 60 + 40), habits.home, habits.work));
        if rng.chance(0.35) {
            let place = random_place(rng);
            let lunch = rng.int(12 * 60, 12 * 60 + 30);
            plan.push((lunch, habits.work, place));
            plan.push((lunch + rng.int(40, 60), place, habits.work));
        }
        plan.push((rng.int(17 * 60 + 30, 19 * 60), habits.work, habits.home));
    }
    if rng.chance(if weekend { 0.6 } else { 0.3 }) {
        let place = random_place(rng);
        let night = rng.int(21 * 60 + 30, 22 * 60 + 30);
        plan.push((night, habits.home, place));
        plan.push((night + rng.int(60, 80), place, habits.home));
    }
    plan.sort_by_key(|(minute, _, _)| *minute);

    let midnight = date.and_time(NaiveTime::MIN).and_utc().timestamp();
    let mut trips: Vec<DrivenTrip> = Vec::new();
    let mut violations = Vec::new();
    let mut free_from = midnight;
    let mut harsh_left = rng.chance(0.45);
    for (minute, from, to) in plan {
        let start = (midnight + minute * 60 + rng.int(0, 59)).max(free_from + 600);
        let route = grid.route(from, to, rng.chance(0.5));
        let allow_harsh = harsh_left && rng.chance(0.5);
        let session = habits.next_session;
        let Some(driven) = drive(grid, &route, session, start, sample_secs, allow_harsh, rng)
        else {
            continue;
        };
        if !driven.harsh_brakes.is_empty() {
            harsh_left = false;
        }
        habits.next_session += 1;
        free_from = driven.trip.end;
        // Now and then the car is left where it should not be, away from home.
        if to != habits.home && rng.chance(0.22) {
            let at = driven.trip.end + rng.int(600, 1800);
            let end = driven.trip.points.last().map(|p| (p.lat, p.lng));
            if let Some((lat, lng)) = end {
                violations.push(Violation {
                    id: habits.next_violation,
                    time: at,
                    lat,
                    lng,
                    price: if rng.chance(0.3) { 200 } else { 100 },
                });
                habits.next_violation += 1;
            }
        }
        trips.push(driven);
    }
    SimulatedDay {
        date,
        trips,
        violations,
    }
}
