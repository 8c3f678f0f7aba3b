//! Geometry on the Earth's surface: great-circle (haversine) distance and bounding boxes.

use serde::{Deserialize, Serialize};

use super::point::TripPoint;

/// Mean Earth radius in metres (IUGG), used for every distance in the trip module.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle distance in metres between two `(lat, lng)` positions in degrees, by the
/// haversine formula on a sphere of radius [`EARTH_RADIUS_M`].
pub fn haversine_m(from: (f64, f64), to: (f64, f64)) -> f64 {
    let (lat1, lng1) = (from.0.to_radians(), from.1.to_radians());
    let (lat2, lng2) = (to.0.to_radians(), to.1.to_radians());
    let half_dlat = ((lat2 - lat1) / 2.0).sin();
    let half_dlng = ((lng2 - lng1) / 2.0).sin();
    let a = half_dlat * half_dlat + lat1.cos() * lat2.cos() * half_dlng * half_dlng;
    // Rounding can push `a` a hair above 1 for antipodal points.
    let a = a.clamp(0.0, 1.0);
    2.0 * EARTH_RADIUS_M * a.sqrt().atan2((1.0 - a).sqrt())
}

/// Distance in metres between two trip points.
pub fn point_distance_m(from: &TripPoint, to: &TripPoint) -> f64 {
    haversine_m((from.lat, from.lng), (to.lat, to.lng))
}

/// Total length in metres of a track: the sum of the distances between consecutive points
/// (0, never `-0`, for a track of fewer than two points).
pub fn track_length_m(points: &[TripPoint]) -> f64 {
    total_distance_m(points.windows(2).map(|pair| match pair {
        [from, to] => point_distance_m(from, to),
        _ => 0.0,
    }))
}

/// The sum of distances in metres, starting from `+0.0`: an empty sum is `0`, not the
/// `-0.0` that `Iterator::sum` gives for `f64` (which prints as `-0.0 km`).
pub fn total_distance_m(distances_m: impl IntoIterator<Item = f64>) -> f64 {
    distances_m.into_iter().fold(0.0, |total, d| total + d)
}

/// The smallest latitude/longitude rectangle holding a set of points.
///
/// Longitudes are compared as plain numbers, so a track crossing the antimeridian gets
/// a box spanning the whole longitude range between its extremes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoundingBox {
    /// Southern edge, degrees.
    pub min_lat: f64,
    /// Western edge, degrees.
    pub min_lng: f64,
    /// Northern edge, degrees.
    pub max_lat: f64,
    /// Eastern edge, degrees.
    pub max_lng: f64,
}

impl BoundingBox {
    /// The box around `points`, or `None` when there are none.
    pub fn around(points: &[TripPoint]) -> Option<BoundingBox> {
        let first = points.first()?;
        let start = BoundingBox {
            min_lat: first.lat,
            min_lng: first.lng,
            max_lat: first.lat,
            max_lng: first.lng,
        };
        Some(points.iter().fold(start, |acc, p| BoundingBox {
            min_lat: acc.min_lat.min(p.lat),
            min_lng: acc.min_lng.min(p.lng),
            max_lat: acc.max_lat.max(p.lat),
            max_lng: acc.max_lng.max(p.lng),
        }))
    }

    /// The smallest box holding both `self` and `other`.
    pub fn union(&self, other: &BoundingBox) -> BoundingBox {
        BoundingBox {
            min_lat: self.min_lat.min(other.min_lat),
            min_lng: self.min_lng.min(other.min_lng),
            max_lat: self.max_lat.max(other.max_lat),
            max_lng: self.max_lng.max(other.max_lng),
        }
    }

    /// Whether `(lat, lng)` lies inside the box or on its edge.
    pub fn contains(&self, lat: f64, lng: f64) -> bool {
        (self.min_lat..=self.max_lat).contains(&lat) && (self.min_lng..=self.max_lng).contains(&lng)
    }

    /// The box as RFC 7946 orders it: `[west, south, east, north]`.
    pub fn to_geojson(&self) -> [f64; 4] {
        [self.min_lng, self.min_lat, self.max_lng, self.max_lat]
    }
}

#[cfg(test)]
mod tests {
    use std::f64::consts::PI;

    use super::*;

    fn at(lat: f64, lng: f64) -> TripPoint {
        TripPoint {
            lat,
            lng,
            speed_kmh: None,
            time: 0,
        }
    }

    #[test]
    fn one_degree_along_a_meridian_is_an_arc_of_the_mean_radius() {
        let expected = EARTH_RADIUS_M * PI / 180.0; // 111,195.08 m
        assert!((haversine_m((0.0, 0.0), (1.0, 0.0)) - expected).abs() < 1e-6);
        assert!((haversine_m((45.0, 7.0), (46.0, 7.0)) - expected).abs() < 1e-6);
        assert!((expected - 111_195.08).abs() < 0.01);
    }

    #[test]
    fn quarter_and_half_circumference() {
        let quarter = EARTH_RADIUS_M * PI / 2.0;
        assert!((haversine_m((0.0, 0.0), (0.0, 90.0)) - quarter).abs() < 1e-6);
        assert!((haversine_m((0.0, 0.0), (90.0, 0.0)) - quarter).abs() < 1e-6);
        let half = EARTH_RADIUS_M * PI;
        assert!((haversine_m((0.0, 0.0), (0.0, 180.0)) - half).abs() < 1e-6);
        assert!((haversine_m((0.0, -90.0), (0.0, 90.0)) - half).abs() < 1e-6);
    }

    #[test]
    fn distance_is_symmetric_and_zero_for_one_place() {
        let a = (31.250885, 121.44662);
        let b = (31.115866, 121.77829);
        assert_eq!(haversine_m(a, a), 0.0);
        assert_eq!(haversine_m(a, b), haversine_m(b, a));
    }

    #[test]
    fn crossing_the_antimeridian_takes_the_short_way() {
        let d = haversine_m((0.0, 179.5), (0.0, -179.5));
        assert!((d - EARTH_RADIUS_M * PI / 180.0).abs() < 1e-6);
    }

    #[test]
    fn track_length_sums_segments() {
        let track = [at(0.0, 0.0), at(1.0, 0.0), at(1.0, 0.0), at(2.0, 0.0)];
        let degree = EARTH_RADIUS_M * PI / 180.0;
        assert!((track_length_m(&track) - 2.0 * degree).abs() < 1e-6);
        assert_eq!(track_length_m(&track[..1]), 0.0);
        assert_eq!(track_length_m(&[]), 0.0);
    }

    #[test]
    fn bounding_box_holds_every_point() {
        let points = [at(31.2, 121.7), at(31.3, 121.4), at(31.1, 121.5)];
        let bbox = BoundingBox::around(&points).unwrap();
        assert_eq!(
            bbox,
            BoundingBox {
                min_lat: 31.1,
                min_lng: 121.4,
                max_lat: 31.3,
                max_lng: 121.7
            }
        );
        assert!(points.iter().all(|p| bbox.contains(p.lat, p.lng)));
        assert!(!bbox.contains(31.0, 121.5));
        assert_eq!(bbox.to_geojson(), [121.4, 31.1, 121.7, 31.3]);
        assert_eq!(BoundingBox::around(&[]), None);
    }

    #[test]
    fn union_covers_both_boxes() {
        let a = BoundingBox::around(&[at(1.0, 2.0), at(3.0, 4.0)]).unwrap();
        let b = BoundingBox::around(&[at(-1.0, 3.0), at(2.0, 5.0)]).unwrap();
        assert_eq!(
            a.union(&b),
            BoundingBox {
                min_lat: -1.0,
                min_lng: 2.0,
                max_lat: 3.0,
                max_lng: 5.0
            }
        );
    }

    #[test]
    fn an_empty_distance_sum_is_positive_zero() {
        let empty = total_distance_m(std::iter::empty());
        assert!(empty == 0.0 && empty.is_sign_positive());
        assert_eq!(format!("{:.1}", empty / 1000.0), "0.0");
        assert!(track_length_m(&[]).is_sign_positive());
        assert_eq!(total_distance_m([1_000.0, 500.5]), 1_500.5);
    }
}
