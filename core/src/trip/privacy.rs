//! Privacy for shared trips: trimming the ends of a track that lie inside the owner's
//! privacy zones (home, work), and rounding coordinates for "approximate location only"
//! grants.

use super::error::TripError;
use super::geo::haversine_m;
use super::point::{Trip, TripPoint, check_position};

/// Smallest allowed zone radius in metres.
pub const MIN_ZONE_RADIUS_M: f64 = 1.0;
/// Largest allowed zone radius in metres.
pub const MAX_ZONE_RADIUS_M: f64 = 10_000.0;
/// Most decimals [`Trip::approximate`] keeps (1e-7 degree is about 1 cm).
pub const MAX_DECIMALS: u32 = 7;

/// A circle around a place the owner keeps private; built by [`PrivacyZone::new`], so
/// every zone has a valid centre and a radius of 1..=10,000 m.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrivacyZone {
    lat: f64,
    lng: f64,
    radius_m: f64,
}

impl PrivacyZone {
    /// A zone of `radius_m` metres around `(lat, lng)` in degrees.
    pub fn new(lat: f64, lng: f64, radius_m: f64) -> Result<PrivacyZone, TripError> {
        if check_position(0, lat, lng).is_err() {
            return Err(TripError::InvalidZoneCentre { lat, lng });
        }
        if !(MIN_ZONE_RADIUS_M..=MAX_ZONE_RADIUS_M).contains(&radius_m) {
            return Err(TripError::InvalidZoneRadius { radius_m });
        }
        Ok(PrivacyZone { lat, lng, radius_m })
    }

    /// Latitude of the centre, degrees.
    pub fn lat(&self) -> f64 {
        self.lat
    }

    /// Longitude of the centre, degrees.
    pub fn lng(&self) -> f64 {
        self.lng
    }

    /// Radius in metres.
    pub fn radius_m(&self) -> f64 {
        self.radius_m
    }

    /// Whether a point lies inside the zone or on its edge (haversine distance).
    pub fn contains(&self, point: &TripPoint) -> bool {
        haversine_m((self.lat, self.lng), (point.lat, point.lng)) <= self.radius_m
    }
}

impl Trip {
    /// A copy without the leading points that lie inside any zone and without the
    /// trailing points that lie inside any zone; points in the middle are kept even when
    /// inside a zone. When points are dropped at an end, that end's time becomes the
    /// time of the nearest kept point.
    ///
    /// Fails with [`TripError::EntirelyPrivate`] when every point lies inside a zone.
    pub fn trim_privacy_zones(&self, zones: &[PrivacyZone]) -> Result<Trip, TripError> {
        if self.points.is_empty() {
            return Err(TripError::EmptyTrack);
        }
        let private = |point: &TripPoint| zones.iter().any(|zone| zone.contains(point));
        let first = self.points.iter().position(|p| !private(p));
        let last = self.points.iter().rposition(|p| !private(p));
        let (Some(first), Some(last)) = (first, last) else {
            return Err(TripError::EntirelyPrivate);
        };
        let kept = self
            .points
            .get(first..=last)
            .ok_or(TripError::EntirelyPrivate)?;
        let (Some(first_kept), Some(last_kept)) = (kept.first(), kept.last()) else {
            return Err(TripError::EntirelyPrivate);
        };
        Ok(Trip {
            session_id: self.session_id,
            start: if first > 0 {
                first_kept.time
            } else {
                self.start
            },
            end: if last + 1 < self.points.len() {
                last_kept.time
            } else {
                self.end
            },
            points: kept.to_vec(),
        })
    }

    /// A copy with every coordinate rounded to `decimals` decimal places (0..=7; 2
    /// decimals is about 1 km, 3 about 100 m). Times and speeds are unchanged.
    pub fn approximate(&self, decimals: u32) -> Result<Trip, TripError> {
        if decimals > MAX_DECIMALS {
            return Err(TripError::InvalidDecimals(decimals));
        }
        let scale = 10_f64.powi(decimals as i32);
        let round = |degrees: f64| (degrees * scale).round() / scale;
        Ok(Trip {
            points: self
                .points
                .iter()
                .map(|p| TripPoint {
                    lat: round(p.lat),
                    lng: round(p.lng),
                    ..*p
                })
                .collect(),
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_vectors::seed_trip;
    use super::*;

    fn zone_at(point: &TripPoint, radius_m: f64) -> PrivacyZone {
        PrivacyZone::new(point.lat, point.lng, radius_m).unwrap()
    }

    #[test]
    fn leading_points_inside_a_zone_are_dropped() {
        let trip = seed_trip();
        // Points 0 and 1 are ~106 m apart; point 2 is ~3.8 km away.
        let home = zone_at(&trip.points[0], 200.0);
        let trimmed = trip.trim_privacy_zones(&[home]).unwrap();
        assert_eq!(trimmed.points, trip.points[2..].to_vec());
        assert_eq!(trimmed.start, trip.points[2].time);
        assert_eq!(trimmed.end, trip.end);
    }

    #[test]
    fn trailing_points_inside_a_zone_are_dropped() {
        let trip = seed_trip();
        let work = zone_at(&trip.points[9], 500.0);
        let trimmed = trip.trim_privacy_zones(&[work]).unwrap();
        assert_eq!(trimmed.points, trip.points[..9].to_vec());
        assert_eq!(trimmed.start, trip.start);
        assert_eq!(trimmed.end, trip.points[8].time);
    }

    #[test]
    fn both_ends_are_trimmed_by_different_zones() {
        let trip = seed_trip();
        let zones = [
            zone_at(&trip.points[0], 200.0),
            zone_at(&trip.points[9], 500.0),
        ];
        let trimmed = trip.trim_privacy_zones(&zones).unwrap();
        assert_eq!(trimmed.points, trip.points[2..9].to_vec());
        assert_eq!(trimmed.session_id, 1);
    }

    #[test]
    fn points_inside_a_zone_in_the_middle_are_kept() {
        let trip = seed_trip();
        // Points 4, 5 and 6 lie within ~110 m of each other.
        let middle = zone_at(&trip.points[5], 300.0);
        assert!(middle.contains(&trip.points[4]) && middle.contains(&trip.points[6]));
        assert_eq!(trip.trim_privacy_zones(&[middle]), Ok(trip));
    }

    #[test]
    fn no_zones_keep_the_trip_unchanged() {
        let trip = seed_trip();
        assert_eq!(trip.trim_privacy_zones(&[]), Ok(trip));
    }

    #[test]
    fn trip_wholly_inside_zones_is_entirely_private() {
        let mut trip = seed_trip();
        trip.points = trip.points[4..=6].to_vec();
        let zone = zone_at(&trip.points[1], 500.0);
        assert_eq!(
            trip.trim_privacy_zones(&[zone]),
            Err(TripError::EntirelyPrivate)
        );
    }

    #[test]
    fn empty_trip_cannot_be_trimmed() {
        let mut trip = seed_trip();
        trip.points.clear();
        assert_eq!(trip.trim_privacy_zones(&[]), Err(TripError::EmptyTrack));
    }

    #[test]
    fn zone_radius_limits() {
        assert!(PrivacyZone::new(31.2, 121.4, 1.0).is_ok());
        assert!(PrivacyZone::new(31.2, 121.4, 10_000.0).is_ok());
        for radius_m in [0.0, 0.99, 10_000.5, -5.0, f64::INFINITY] {
            assert_eq!(
                PrivacyZone::new(31.2, 121.4, radius_m),
                Err(TripError::InvalidZoneRadius { radius_m })
            );
        }
        assert!(matches!(
            PrivacyZone::new(31.2, 121.4, f64::NAN),
            Err(TripError::InvalidZoneRadius { .. })
        ));
    }

    #[test]
    fn zone_centre_must_be_a_valid_position() {
        assert_eq!(
            PrivacyZone::new(91.0, 0.0, 100.0),
            Err(TripError::InvalidZoneCentre {
                lat: 91.0,
                lng: 0.0
            })
        );
        assert_eq!(
            PrivacyZone::new(0.0, -181.0, 100.0),
            Err(TripError::InvalidZoneCentre {
                lat: 0.0,
                lng: -181.0
            })
        );
    }

    #[test]
    fn zone_holds_points_up_to_its_radius() {
        let centre = TripPoint {
            lat: 0.0,
            lng: 0.0,
            speed_kmh: None,
            time: 0,
        };
        let east = TripPoint {
            lng: 0.001,
            ..centre
        }; // 111.195 m east
        let zone = zone_at(&centre, 111.19);
        assert!(!zone.contains(&east));
        let zone = zone_at(&centre, 111.2);
        assert!(zone.contains(&east));
        assert_eq!(zone.radius_m(), 111.2);
        assert_eq!((zone.lat(), zone.lng()), (0.0, 0.0));
    }

    #[test]
    fn approximate_rounds_coordinates_only() {
        let trip = seed_trip();
        let rough = trip.approximate(3).unwrap();
        assert_eq!(
            (rough.points[0].lat, rough.points[0].lng),
            (31.251, 121.447)
        );
        assert_eq!(
            (rough.points[9].lat, rough.points[9].lng),
            (31.116, 121.778)
        );
        assert_eq!(rough.points[2].speed_kmh, Some(52.0));
        assert_eq!(rough.points[2].time, trip.points[2].time);
        assert_eq!(
            (rough.start, rough.end, rough.session_id),
            (trip.start, trip.end, 1)
        );
        let coarse = trip.approximate(0).unwrap();
        assert_eq!((coarse.points[0].lat, coarse.points[0].lng), (31.0, 121.0));
        assert_eq!(trip.approximate(7).unwrap(), trip);
    }

    #[test]
    fn approximate_rejects_too_many_decimals() {
        assert_eq!(
            seed_trip().approximate(8),
            Err(TripError::InvalidDecimals(8))
        );
    }
}
