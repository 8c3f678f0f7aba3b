//! A trip's summary figures: distance, duration, average and maximum speed, bounding
//! box and end points — what a trip list or a map header shows.

use super::error::TripError;
use super::geo::{BoundingBox, point_distance_m, track_length_m};
use super::point::{Trip, TripPoint};

/// Metres per second to kilometres per hour.
const MPS_TO_KMH: f64 = 3.6;

/// Summary figures of one trip.
#[derive(Debug, Clone, PartialEq)]
pub struct TripSummary {
    /// The trip's `SESSION_ID`.
    pub session_id: i64,
    /// Start, unix seconds.
    pub start: i64,
    /// End, unix seconds.
    pub end: i64,
    /// Haversine length of the track in metres.
    pub distance_m: f64,
    /// `end - start` in seconds.
    pub duration_s: i64,
    /// Distance over duration in km/h; 0 for a trip of zero duration.
    pub avg_speed_kmh: f64,
    /// The highest SPEED sample when the trip has any, else the highest speed between
    /// two consecutive points (segments with no elapsed time are skipped); 0 if neither.
    pub max_speed_kmh: f64,
    /// The box around all points.
    pub bbox: BoundingBox,
    /// Number of points in the track.
    pub point_count: usize,
    /// The first point.
    pub start_point: TripPoint,
    /// The last point.
    pub end_point: TripPoint,
}

impl Trip {
    /// Computes the trip's summary figures.
    pub fn summary(&self) -> Result<TripSummary, TripError> {
        let (Some(first), Some(last), Some(bbox)) = (
            self.points.first(),
            self.points.last(),
            BoundingBox::around(&self.points),
        ) else {
            return Err(TripError::EmptyTrack);
        };
        if self.end < self.start {
            return Err(TripError::EndBeforeStart {
                start: self.start,
                end: self.end,
            });
        }
        let distance_m = track_length_m(&self.points);
        let duration_s = self.end.saturating_sub(self.start);
        let avg_speed_kmh = if duration_s > 0 {
            distance_m / duration_s as f64 * MPS_TO_KMH
        } else {
            0.0
        };
        Ok(TripSummary {
            session_id: self.session_id,
            start: self.start,
            end: self.end,
            distance_m,
            duration_s,
            avg_speed_kmh,
            max_speed_kmh: max_speed_kmh(&self.points),
            bbox,
            point_count: self.points.len(),
            start_point: *first,
            end_point: *last,
        })
    }
}

fn max_speed_kmh(points: &[TripPoint]) -> f64 {
    let sampled = points.iter().filter_map(|p| p.speed_kmh).reduce(f64::max);
    sampled.unwrap_or_else(|| {
        points
            .windows(2)
            .filter_map(|pair| match pair {
                [from, to] if to.time > from.time => {
                    let seconds = (to.time - from.time) as f64;
                    Some(point_distance_m(from, to) / seconds * MPS_TO_KMH)
                }
                _ => None,
            })
            .fold(0.0, f64::max)
    })
}

#[cfg(test)]
mod tests {
    use std::f64::consts::PI;

    use super::super::geo::EARTH_RADIUS_M;
    use super::super::test_vectors::seed_trip;
    use super::*;

    #[test]
    fn seed_trip_summary() {
        let trip = seed_trip();
        let summary = trip.summary().unwrap();
        assert_eq!(summary.session_id, 1);
        assert_eq!(summary.point_count, 10);
        // Golden value: haversine sum over the seed's nine segments, pinned to 1 m.
        assert_eq!(
            summary.distance_m.round(),
            44_834.0,
            "{}",
            summary.distance_m
        );
        // 07:14:28 to 09:46:23 is 2 h 31 min 55 s.
        assert_eq!(summary.duration_s, 9_115);
        assert_eq!(summary.max_speed_kmh, 52.0);
        let avg = summary.distance_m / 9_115.0 * 3.6;
        assert!((summary.avg_speed_kmh - avg).abs() < 1e-9);
        assert_eq!(
            summary.bbox,
            BoundingBox {
                min_lat: 31.115866,
                min_lng: 121.4456,
                max_lat: 31.298483,
                max_lng: 121.77829
            }
        );
        assert_eq!(summary.start_point, trip.points[0]);
        assert_eq!(summary.end_point, trip.points[9]);
    }

    fn eastward(times: &[i64]) -> Trip {
        let points = times
            .iter()
            .enumerate()
            .map(|(i, &time)| TripPoint {
                lat: 0.0,
                lng: i as f64 * 0.01,
                speed_kmh: None,
                time,
            })
            .collect();
        Trip {
            session_id: 2,
            start: times.first().copied().unwrap_or(0),
            end: times.last().copied().unwrap_or(0),
            points,
        }
    }

    #[test]
    fn without_speed_samples_max_speed_comes_from_segments() {
        // 0.01 degree of the equator is 1,111.95 m: 100 s then 50 s.
        let trip = eastward(&[0, 100, 150]);
        let summary = trip.summary().unwrap();
        let step = EARTH_RADIUS_M * PI / 180.0 * 0.01;
        assert!((summary.max_speed_kmh - step / 50.0 * 3.6).abs() < 1e-9);
        assert!((summary.avg_speed_kmh - 2.0 * step / 150.0 * 3.6).abs() < 1e-9);
    }

    #[test]
    fn segments_without_elapsed_time_are_skipped() {
        let trip = eastward(&[0, 0, 10]);
        let step = EARTH_RADIUS_M * PI / 180.0 * 0.01;
        let summary = trip.summary().unwrap();
        assert!((summary.max_speed_kmh - step / 10.0 * 3.6).abs() < 1e-9);
    }

    #[test]
    fn single_point_trip_has_zero_distance_and_speed() {
        let trip = eastward(&[5]);
        let summary = trip.summary().unwrap();
        assert_eq!(summary.distance_m, 0.0);
        assert_eq!(summary.duration_s, 0);
        assert_eq!(summary.avg_speed_kmh, 0.0);
        assert_eq!(summary.max_speed_kmh, 0.0);
    }

    #[test]
    fn empty_trip_has_no_summary() {
        let trip = eastward(&[]);
        assert_eq!(trip.summary(), Err(TripError::EmptyTrack));
    }

    #[test]
    fn trip_ending_before_it_starts_has_no_summary() {
        let mut trip = eastward(&[0, 10]);
        trip.end = -1;
        assert_eq!(
            trip.summary(),
            Err(TripError::EndBeforeStart { start: 0, end: -1 })
        );
    }
}
