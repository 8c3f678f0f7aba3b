//! The car simulator: plausible, road-like driving in a city box (default Shanghai),
//! deterministic by seed, producing the `trip-gps` and `carvio` records a car puts.
//!
//! [`CarSimulator`] plans each day of a car (commutes, outings, night trips, the odd
//! harsh brake and parking violation) on a [`RoadGrid`] and drives it second by second.

pub mod car_loop;
mod city;
mod day;
mod drive;
pub mod pairing;
pub mod paying;
pub mod remote;
mod rng;

use chrono::NaiveDate;

pub use city::{CityBox, Node, RoadClass, RoadGrid};
pub use day::{SimulatedDay, Violation};
pub use drive::{DrivenTrip, HARSH_BRAKE, HarshBrake, drive};
pub use rng::SimRng;

/// Errors of the simulator's inputs.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SimError {
    /// The city box is out of range, inverted or too small.
    #[error(
        "bad city box: south {south}, west {west}, north {north}, east {east} (need south < north, west < east, at least 0.02 degrees a side)"
    )]
    BadCityBox {
        /// Southern edge.
        south: f64,
        /// Western edge.
        west: f64,
        /// Northern edge.
        north: f64,
        /// Eastern edge.
        east: f64,
    },
    /// The city box text is not four comma-separated numbers.
    #[error("bad city box {0:?}: expected south,west,north,east in degrees")]
    BadCityBoxText(String),
    /// The sample interval is outside 1..=60 s.
    #[error("sample interval {0} s is outside 1..=60")]
    BadSampleInterval(i64),
}

/// How to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// The city the cars drive in.
    pub city: CityBox,
    /// Seed of everything random.
    pub seed: u64,
    /// Seconds between recorded GPS fixes.
    pub sample_secs: i64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            city: CityBox::shanghai(),
            seed: 2016_0511,
            sample_secs: 10,
        }
    }
}

/// One simulated car: its home, work and counters, driven day by day.
#[derive(Debug, Clone)]
pub struct CarSimulator {
    grid: RoadGrid,
    vid: String,
    seed: u64,
    sample_secs: i64,
    habits: day::Habits,
}

impl CarSimulator {
    /// A car `vid` living somewhere in `config.city`; the same seed and VID give the
    /// same car and the same days.
    pub fn new(config: &SimConfig, vid: &str) -> Result<CarSimulator, SimError> {
        if !(1..=60).contains(&config.sample_secs) {
            return Err(SimError::BadSampleInterval(config.sample_secs));
        }
        let grid = RoadGrid::new(config.city);
        let (rows, cols) = grid.size();
        let mut rng = SimRng::derive(config.seed, vid);
        let home = Node {
            i: rng.int(2, rows / 3),
            j: rng.int(2, cols - 2),
        };
        let work = Node {
            i: rng.int(rows / 2, rows - 2),
            j: rng.int(2, cols - 2),
        };
        Ok(CarSimulator {
            grid,
            vid: vid.to_owned(),
            seed: config.seed,
            sample_secs: config.sample_secs,
            habits: day::Habits {
                home,
                work,
                next_session: 1,
                next_violation: 1,
            },
        })
    }

    /// The car's VID.
    pub fn vid(&self) -> &str {
        &self.vid
    }

    /// The road grid the car drives on.
    pub fn grid(&self) -> &RoadGrid {
        &self.grid
    }

    /// Simulates the local day `date` (call days in order: sessions and violation ids
    /// continue from the previous day).
    pub fn day(&mut self, date: NaiveDate) -> SimulatedDay {
        let mut rng = SimRng::derive(self.seed, &format!("{}/{date}", self.vid));
        day::simulate_day(
            &self.grid,
            &mut self.habits,
            date,
            self.sample_secs,
            &mut rng,
        )
    }

    /// Simulates `days` consecutive days from `first`.
    pub fn days(&mut self, first: NaiveDate, days: u32) -> Vec<SimulatedDay> {
        first
            .iter_days()
            .take(days as usize)
            .map(|date| self.day(date))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn week(vid: &str) -> Vec<SimulatedDay> {
        let mut car = CarSimulator::new(&SimConfig::default(), vid).unwrap();
        // Monday 2024-05-06 to Sunday 2024-05-12.
        car.days(NaiveDate::from_ymd_opt(2024, 5, 6).unwrap(), 7)
    }

    #[test]
    fn a_week_is_deterministic_and_differs_per_car() {
        assert_eq!(week("CAR-A"), week("CAR-A"));
        assert_ne!(week("CAR-A"), week("CAR-B"));
    }

    #[test]
    fn a_week_has_commutes_night_trips_brakes_and_violations() {
        let days = week("LSGJA52U8CH000001");
        let trips: Vec<&DrivenTrip> = days.iter().flat_map(|d| &d.trips).collect();
        assert!(trips.len() >= 12, "{} trips", trips.len());
        // Every weekday has at least its two commutes.
        for day in &days[..5] {
            assert!(day.trips.len() >= 2, "{}", day.date);
        }
        // Sessions are unique and increasing; trips of a day do not overlap.
        for pair in trips.windows(2) {
            assert!(pair[1].trip.session_id > pair[0].trip.session_id);
            assert!(pair[1].trip.start > pair[0].trip.end);
        }
        let local_hour = |t: i64| t.rem_euclid(86_400) / 3600;
        assert!(
            trips.iter().any(|t| local_hour(t.trip.start) >= 21),
            "no night trip"
        );
        assert!(
            trips
                .iter()
                .any(|t| (7..=9).contains(&local_hour(t.trip.start)))
        );
        let city = CityBox::shanghai();
        for t in &trips {
            assert!(t.trip.points.iter().all(|p| city.contains(p.lat, p.lng)));
            t.trip.to_value(1).unwrap();
        }
        // Over several weeks of cars, harsh brakes and violations both happen.
        let many: Vec<SimulatedDay> = (0..6).flat_map(|n| week(&format!("CAR-{n}"))).collect();
        let brakes: usize = many
            .iter()
            .flat_map(|d| &d.trips)
            .map(|t| t.harsh_brakes.len())
            .sum();
        let violations: usize = many.iter().map(|d| d.violations.len()).sum();
        let trip_count: usize = many.iter().map(|d| d.trips.len()).sum();
        assert!(
            brakes > 0 && brakes < trip_count / 3,
            "{brakes} of {trip_count}"
        );
        assert!(
            violations > 0 && violations < trip_count / 2,
            "{violations}"
        );
    }

    #[test]
    fn violations_are_seed_shaped_records() {
        let violation = Violation {
            id: 3,
            time: 0,
            lat: 31.25,
            lng: 121.44,
            price: 200,
        };
        let date = NaiveDate::from_ymd_opt(2018, 3, 10).unwrap();
        assert_eq!(violation.key(), serde_json::json!({"CARVIO_ID": 3}));
        assert_eq!(
            violation.value(date),
            serde_json::json!({"format":"carvio","VEHICLE_DATA":1,"datetime":20180310,
                "loc":{"lat":31.25,"lng":121.44},"viotype":"vioparking","price":200,"point":0})
        );
    }

    #[test]
    fn bad_sample_interval_is_refused() {
        let config = SimConfig {
            sample_secs: 0,
            ..SimConfig::default()
        };
        assert_eq!(
            CarSimulator::new(&config, "X").unwrap_err(),
            SimError::BadSampleInterval(0)
        );
    }
}
