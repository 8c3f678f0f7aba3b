//! The trip data model: a point of a GPS track and a whole trip, plus the checks every
//! position must pass.

use super::error::TripError;

/// One GPS fix of a trip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TripPoint {
    /// Latitude in degrees, WGS 84, within [-90, 90].
    pub lat: f64,
    /// Longitude in degrees, WGS 84, within [-180, 180].
    pub lng: f64,
    /// Speed reported by the car in km/h, when the record has one.
    pub speed_kmh: Option<f64>,
    /// Time of the fix, unix seconds (UTC).
    pub time: i64,
}

/// A decoded `trip-gps` record: one driving session of a car.
#[derive(Debug, Clone, PartialEq)]
pub struct Trip {
    /// The record key's `SESSION_ID`.
    pub session_id: i64,
    /// Start of the session, unix seconds (the key's `START_TIME` read as UTC).
    pub start: i64,
    /// End of the session, unix seconds (the key's `END_TIME` read as UTC).
    pub end: i64,
    /// The track, in time order.
    pub points: Vec<TripPoint>,
}

/// Checks that `(lat, lng)` is a valid WGS 84 position; `index` names the point in errors.
pub(crate) fn check_position(index: usize, lat: f64, lng: f64) -> Result<(), TripError> {
    if !(-90.0..=90.0).contains(&lat) {
        return Err(TripError::LatitudeOutOfRange { index, lat });
    }
    if !(-180.0..=180.0).contains(&lng) {
        return Err(TripError::LongitudeOutOfRange { index, lng });
    }
    Ok(())
}

/// Checks every position of a track and that it is not empty.
pub(crate) fn check_track(points: &[TripPoint]) -> Result<(), TripError> {
    if points.is_empty() {
        return Err(TripError::EmptyTrack);
    }
    points
        .iter()
        .enumerate()
        .try_for_each(|(index, p)| check_position(index, p.lat, p.lng))
}

/// Times for `count` points spread evenly from `start` to `end` (inclusive), rounded
/// down to whole seconds; a single point gets `start`.
pub(crate) fn spread_times(start: i64, end: i64, count: usize) -> Vec<i64> {
    let span = i128::from(end) - i128::from(start);
    let steps = count.saturating_sub(1).max(1) as i128;
    (0..count)
        .map(|i| {
            let offset = span * i as i128 / steps;
            // The offset lies within [0, span], so start + offset lies within [start, end].
            i64::try_from(i128::from(start) + offset).unwrap_or(end)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_on_the_limits_are_valid() {
        assert_eq!(check_position(0, 90.0, 180.0), Ok(()));
        assert_eq!(check_position(0, -90.0, -180.0), Ok(()));
    }

    #[test]
    fn positions_outside_the_limits_name_the_point() {
        assert_eq!(
            check_position(3, 90.5, 0.0),
            Err(TripError::LatitudeOutOfRange {
                index: 3,
                lat: 90.5
            })
        );
        assert_eq!(
            check_position(4, 0.0, -180.25),
            Err(TripError::LongitudeOutOfRange {
                index: 4,
                lng: -180.25
            })
        );
        assert!(matches!(
            check_position(5, f64::NAN, 0.0),
            Err(TripError::LatitudeOutOfRange { index: 5, .. })
        ));
    }

    #[test]
    fn empty_track_is_rejected() {
        assert_eq!(check_track(&[]), Err(TripError::EmptyTrack));
    }

    #[test]
    fn times_are_spread_evenly_including_both_ends() {
        assert_eq!(spread_times(100, 130, 4), vec![100, 110, 120, 130]);
        assert_eq!(spread_times(0, 10, 3), vec![0, 5, 10]);
        assert_eq!(spread_times(0, 10, 4), vec![0, 3, 6, 10]);
        assert_eq!(spread_times(50, 90, 1), vec![50]);
        assert_eq!(spread_times(7, 7, 3), vec![7, 7, 7]);
        assert_eq!(spread_times(0, 0, 0), Vec::<i64>::new());
    }

    #[test]
    fn spreading_huge_spans_does_not_overflow() {
        let times = spread_times(i64::MIN, i64::MAX, 3);
        assert_eq!(times, vec![i64::MIN, -1, i64::MAX]);
    }
}
