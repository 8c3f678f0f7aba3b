//! Driving a route second by second: the car accelerates to the road's speed, brakes
//! smoothly for red lights and waits, sometimes brakes hard for something in the road,
//! and records a GPS fix every few seconds.

use carchain_core::trip::{Trip, TripPoint};

use super::city::{METRES_PER_DEG_LAT, Node, RoadGrid};
use super::rng::SimRng;

/// Comfortable acceleration, m/s².
const ACCEL: f64 = 1.8;
/// Comfortable braking, m/s².
const BRAKE: f64 = 2.2;
/// A harsh brake, m/s² (telematics insurers flag anything above ~0.4 g).
pub const HARSH_BRAKE: f64 = 6.5;
/// Probability that an intersection's light is red.
const RED_LIGHT: f64 = 0.3;

/// A harsh brake the car made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HarshBrake {
    /// When, unix seconds.
    pub time: i64,
    /// Where.
    pub lat: f64,
    /// Where.
    pub lng: f64,
    /// Speed before the brake, km/h.
    pub from_kmh: f64,
    /// Speed after it, km/h.
    pub to_kmh: f64,
}

/// One driven trip with what happened on it.
#[derive(Debug, Clone, PartialEq)]
pub struct DrivenTrip {
    /// The trip as the car records it.
    pub trip: Trip,
    /// Harsh brakes on the way.
    pub harsh_brakes: Vec<HarshBrake>,
    /// Stops longer than 10 s (red lights, traffic).
    pub stops: usize,
}

struct Leg {
    from: (f64, f64),
    to: (f64, f64),
    length_m: f64,
    limit_ms: f64,
    red_light_wait: Option<i64>,
    harsh_brake_at: Option<f64>,
}

/// Drives `route` on `grid` starting at `start` (unix seconds), recording a fix every
/// `sample_secs`. `allow_harsh` lets one harsh brake happen.
pub fn drive(
    grid: &RoadGrid,
    route: &[Node],
    session_id: i64,
    start: i64,
    sample_secs: i64,
    allow_harsh: bool,
    rng: &mut SimRng,
) -> Option<DrivenTrip> {
    let legs = legs_of(grid, route, allow_harsh, rng);
    if legs.is_empty() {
        return None;
    }
    let sample_secs = sample_secs.max(1);
    let temper = rng.range(0.85, 1.05);
    let mut points = Vec::new();
    let mut harsh_brakes = Vec::new();
    let mut stops = 0;
    let mut t = start;
    let mut speed = 0.0_f64;
    let record = |points: &mut Vec<TripPoint>, t: i64, pos: (f64, f64), speed: f64| {
        points.push(TripPoint {
            lat: round6(pos.0),
            lng: round6(pos.1),
            speed_kmh: Some((speed * 3.6).round()),
            time: t,
        });
    };
    record(&mut points, t, legs[0].from, 0.0);
    for leg in &legs {
        let mut done = 0.0;
        let target = leg.limit_ms * temper;
        let mut harsh_pending = leg.harsh_brake_at;
        while done < leg.length_m {
            let left = leg.length_m - done;
            let must_stop = leg.red_light_wait.is_some();
            let braking_distance = speed * speed / (2.0 * BRAKE);
            if let Some(at) = harsh_pending
                && done >= at * leg.length_m
                && speed > 8.0
            {
                let before = speed;
                speed = (speed - HARSH_BRAKE * 3.0).max(2.0);
                harsh_pending = None;
                let pos = lerp(leg.from, leg.to, done / leg.length_m);
                harsh_brakes.push(HarshBrake {
                    time: t,
                    lat: pos.0,
                    lng: pos.1,
                    from_kmh: (before * 3.6).round(),
                    to_kmh: (speed * 3.6).round(),
                });
            } else if must_stop && braking_distance >= left - 2.0 {
                speed = (speed - BRAKE).max(1.0);
            } else {
                let wobble = rng.range(-0.3, 0.3);
                speed = (speed + ACCEL + wobble).min(target + wobble).max(0.5);
            }
            done += speed;
            t += 1;
            if (t - start) % sample_secs == 0 {
                let pos = lerp(leg.from, leg.to, (done / leg.length_m).min(1.0));
                record(&mut points, t, pos, speed);
            }
        }
        if let Some(wait) = leg.red_light_wait {
            speed = 0.0;
            stops += 1;
            for _ in 0..wait {
                t += 1;
                if (t - start) % sample_secs == 0 {
                    record(&mut points, t, leg.to, 0.0);
                }
            }
        }
    }
    let last = legs.last().map_or(legs[0].to, |leg| leg.to);
    t += 1;
    record(&mut points, t, last, 0.0);
    Some(DrivenTrip {
        trip: Trip {
            session_id,
            start,
            end: t,
            points,
        },
        harsh_brakes,
        stops,
    })
}

fn legs_of(grid: &RoadGrid, route: &[Node], allow_harsh: bool, rng: &mut SimRng) -> Vec<Leg> {
    let city = grid.city();
    let lng_m = city.metres_per_deg_lng();
    let count = route.len().saturating_sub(1);
    let harsh_leg = if allow_harsh && count > 2 {
        Some(rng.int(1, count as i64 - 2) as usize)
    } else {
        None
    };
    route
        .windows(2)
        .enumerate()
        .filter_map(|(n, pair)| {
            let (a, b) = (*pair.first()?, *pair.get(1)?);
            let from = grid.position(a);
            let to = grid.position(b);
            let dy = (to.0 - from.0) * METRES_PER_DEG_LAT;
            let dx = (to.1 - from.1) * lng_m;
            let last = n + 1 == count;
            let turn_or_cross = rng.chance(RED_LIGHT);
            let red_light_wait = if last {
                Some(1)
            } else if turn_or_cross {
                Some(rng.int(15, 55))
            } else {
                None
            };
            Some(Leg {
                from,
                to,
                length_m: (dx * dx + dy * dy).sqrt().max(1.0),
                limit_ms: grid.road_class(a, b).limit_kmh() / 3.6,
                red_light_wait,
                harsh_brake_at: (harsh_leg == Some(n)).then(|| rng.range(0.3, 0.7)),
            })
        })
        .collect()
}

fn lerp(a: (f64, f64), b: (f64, f64), f: f64) -> (f64, f64) {
    (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f)
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::city::CityBox;

    fn sample_trip(allow_harsh: bool, seed: u64) -> DrivenTrip {
        let grid = RoadGrid::new(CityBox::shanghai());
        let route = grid.route(Node { i: 4, j: 4 }, Node { i: 18, j: 22 }, true);
        let mut rng = SimRng::new(seed);
        drive(&grid, &route, 1, 1_715_000_000, 5, allow_harsh, &mut rng).unwrap()
    }

    #[test]
    fn speeds_are_realistic_and_the_car_stops() {
        let driven = sample_trip(false, 1);
        let summary = driven.trip.summary().unwrap();
        // 14 + 18 blocks of ~550 m: about 17 km.
        assert!(
            (14_000.0..22_000.0).contains(&summary.distance_m),
            "{summary:?}"
        );
        assert!(summary.max_speed_kmh <= 90.0, "{summary:?}");
        assert!(summary.max_speed_kmh >= 55.0, "{summary:?}");
        assert!((18.0..60.0).contains(&summary.avg_speed_kmh), "{summary:?}");
        assert!(driven.stops > 0);
        assert!(driven.harsh_brakes.is_empty());
        let stopped = driven
            .trip
            .points
            .iter()
            .filter(|p| p.speed_kmh == Some(0.0))
            .count();
        assert!(stopped > 2, "no stop recorded");
        // Times strictly increase, one fix every 5 s.
        for pair in driven.trip.points.windows(2) {
            assert!(pair[1].time > pair[0].time);
            assert!(pair[1].time - pair[0].time <= 5);
        }
    }

    #[test]
    fn consecutive_fixes_are_close_not_jitter() {
        let driven = sample_trip(false, 2);
        for pair in driven.trip.points.windows(2) {
            let d = carchain_core::trip::haversine_m(
                (pair[0].lat, pair[0].lng),
                (pair[1].lat, pair[1].lng),
            );
            // At most 90 km/h for 5 s = 125 m (a bend can cut a corner).
            assert!(d < 130.0, "{d} m between fixes");
        }
    }

    #[test]
    fn a_harsh_brake_drops_speed_sharply() {
        let driven = sample_trip(true, 3);
        assert_eq!(driven.harsh_brakes.len(), 1);
        let brake = driven.harsh_brakes[0];
        assert!(brake.from_kmh - brake.to_kmh >= 30.0, "{brake:?}");
    }

    #[test]
    fn same_seed_same_trip() {
        assert_eq!(sample_trip(true, 9), sample_trip(true, 9));
        assert_ne!(sample_trip(true, 9), sample_trip(true, 10));
    }

    #[test]
    fn a_route_of_one_node_is_no_trip() {
        let grid = RoadGrid::new(CityBox::shanghai());
        let mut rng = SimRng::new(1);
        assert!(drive(&grid, &[Node { i: 2, j: 2 }], 1, 0, 5, false, &mut rng).is_none());
    }
}
