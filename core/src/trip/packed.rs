//! The packed track: a compact little-endian byte layout of a trip's points for crossing
//! the FFI in one buffer instead of millions of boxed doubles.
//!
//! Layout (version 1): a 5-byte header — `u8` version, `u32` point count — then 18 bytes
//! per point: `i32` latitude × 1e7, `i32` longitude × 1e7, `i64` unix seconds, `u16`
//! speed × 10 km/h ([`NO_SPEED`] when the point has none). Coordinates are rounded to the
//! nearest 1e-7 degree (about 1 cm), speeds to the nearest 0.1 km/h.

use super::error::TripError;
use super::point::{Trip, TripPoint, check_position, check_track};

/// The layout version written in the first byte.
pub const PACKED_VERSION: u8 = 1;
/// Bytes before the first point.
pub const PACKED_HEADER_LEN: usize = 5;
/// Bytes per point.
pub const PACKED_POINT_LEN: usize = 18;
/// The speed field's marker for "no speed sample".
pub const NO_SPEED: u16 = u16::MAX;

/// Degrees to the packed integer unit.
const COORDINATE_SCALE: f64 = 1e7;
/// km/h to the packed integer unit.
const SPEED_SCALE: f64 = 10.0;

impl Trip {
    /// The trip's points in the packed layout.
    ///
    /// Fails on an empty track, an invalid position, more than `u32::MAX` points, or a
    /// speed that is negative or above 6,553.4 km/h.
    pub fn packed(&self) -> Result<Vec<u8>, TripError> {
        check_track(&self.points)?;
        let count = u32::try_from(self.points.len())
            .map_err(|_| TripError::TooManyPoints(self.points.len()))?;
        let mut bytes =
            Vec::with_capacity(PACKED_HEADER_LEN + self.points.len() * PACKED_POINT_LEN);
        bytes.push(PACKED_VERSION);
        bytes.extend_from_slice(&count.to_le_bytes());
        for (index, point) in self.points.iter().enumerate() {
            // Validated positions scale to at most 1.8e9, inside i32.
            let lat = (point.lat * COORDINATE_SCALE).round() as i32;
            let lng = (point.lng * COORDINATE_SCALE).round() as i32;
            bytes.extend_from_slice(&lat.to_le_bytes());
            bytes.extend_from_slice(&lng.to_le_bytes());
            bytes.extend_from_slice(&point.time.to_le_bytes());
            bytes.extend_from_slice(&pack_speed(index, point.speed_kmh)?.to_le_bytes());
        }
        Ok(bytes)
    }
}

/// Reads a packed track back into points.
///
/// Fails on an unknown version, a length that disagrees with the header, or a position
/// outside the valid ranges.
pub fn unpack(bytes: &[u8]) -> Result<Vec<TripPoint>, TripError> {
    let wrong_length = |expected: usize| TripError::PackedLength {
        expected,
        found: bytes.len(),
    };
    let (&[version], rest) = bytes
        .split_first_chunk::<1>()
        .ok_or(wrong_length(PACKED_HEADER_LEN))?;
    if version != PACKED_VERSION {
        return Err(TripError::UnsupportedPackedVersion(version));
    }
    let (count, body) = rest
        .split_first_chunk::<4>()
        .ok_or(wrong_length(PACKED_HEADER_LEN))?;
    let count = usize::try_from(u32::from_le_bytes(*count))
        .map_err(|_| TripError::TooManyPoints(usize::MAX))?;
    let expected = count
        .checked_mul(PACKED_POINT_LEN)
        .and_then(|len| len.checked_add(PACKED_HEADER_LEN))
        .ok_or(TripError::TooManyPoints(count))?;
    if bytes.len() != expected {
        return Err(wrong_length(expected));
    }
    body.chunks_exact(PACKED_POINT_LEN)
        .enumerate()
        .map(|(index, record)| unpack_point(index, record))
        .collect()
}

fn pack_speed(index: usize, speed_kmh: Option<f64>) -> Result<u16, TripError> {
    let Some(kmh) = speed_kmh else {
        return Ok(NO_SPEED);
    };
    let scaled = (kmh * SPEED_SCALE).round();
    if !(kmh >= 0.0 && scaled < f64::from(NO_SPEED)) {
        return Err(TripError::SpeedNotPackable {
            index,
            speed_kmh: kmh,
        });
    }
    Ok(scaled as u16)
}

fn unpack_point(index: usize, record: &[u8]) -> Result<TripPoint, TripError> {
    let truncated = TripError::PackedLength {
        expected: PACKED_POINT_LEN,
        found: record.len(),
    };
    let (lat, rest) = record.split_first_chunk::<4>().ok_or(truncated.clone())?;
    let (lng, rest) = rest.split_first_chunk::<4>().ok_or(truncated.clone())?;
    let (time, rest) = rest.split_first_chunk::<8>().ok_or(truncated.clone())?;
    let (speed, _) = rest.split_first_chunk::<2>().ok_or(truncated)?;
    let lat = f64::from(i32::from_le_bytes(*lat)) / COORDINATE_SCALE;
    let lng = f64::from(i32::from_le_bytes(*lng)) / COORDINATE_SCALE;
    check_position(index, lat, lng)?;
    let speed = u16::from_le_bytes(*speed);
    Ok(TripPoint {
        lat,
        lng,
        speed_kmh: (speed != NO_SPEED).then(|| f64::from(speed) / SPEED_SCALE),
        time: i64::from_le_bytes(*time),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::test_vectors::seed_trip;
    use super::*;

    #[test]
    fn seed_trip_packs_into_the_documented_layout() {
        let trip = seed_trip();
        let bytes = trip.packed().unwrap();
        assert_eq!(bytes.len(), 5 + 10 * 18);
        assert_eq!(&bytes[..5], &[1, 10, 0, 0, 0]);
        // First point: 312508850, 1214466200, 1462950868, speed 0.
        let mut first = Vec::new();
        first.extend_from_slice(&312_508_850_i32.to_le_bytes());
        first.extend_from_slice(&1_214_466_200_i32.to_le_bytes());
        first.extend_from_slice(&1_462_950_868_i64.to_le_bytes());
        first.extend_from_slice(&0_u16.to_le_bytes());
        assert_eq!(&bytes[5..23], first.as_slice());
        // Third point's speed: 52 km/h = 520 tenths.
        assert_eq!(&bytes[5 + 2 * 18 + 16..5 + 3 * 18], &520_u16.to_le_bytes());
    }

    #[test]
    fn seed_trip_round_trips() {
        let trip = seed_trip();
        let points = unpack(&trip.packed().unwrap()).unwrap();
        assert_eq!(points.len(), trip.points.len());
        for (got, want) in points.iter().zip(&trip.points) {
            assert!((got.lat - want.lat).abs() <= 1e-7);
            assert!((got.lng - want.lng).abs() <= 1e-7);
            assert_eq!(got.time, want.time);
            assert_eq!(got.speed_kmh, want.speed_kmh);
        }
    }

    #[test]
    fn missing_speed_uses_the_marker() {
        let mut trip = seed_trip();
        trip.points[0].speed_kmh = None;
        let bytes = trip.packed().unwrap();
        assert_eq!(&bytes[21..23], &[0xFF, 0xFF]);
        assert_eq!(unpack(&bytes).unwrap()[0].speed_kmh, None);
    }

    #[test]
    fn unpackable_speeds_are_rejected() {
        for bad in [-0.5, 6553.5, 1e9, f64::NAN, f64::INFINITY] {
            let mut trip = seed_trip();
            trip.points[4].speed_kmh = Some(bad);
            assert!(
                matches!(
                    trip.packed(),
                    Err(TripError::SpeedNotPackable { index: 4, .. })
                ),
                "{bad}"
            );
        }
        let mut trip = seed_trip();
        trip.points[4].speed_kmh = Some(6553.4);
        assert_eq!(
            unpack(&trip.packed().unwrap()).unwrap()[4].speed_kmh,
            Some(6553.4)
        );
    }

    #[test]
    fn empty_or_invalid_tracks_are_not_packed() {
        let mut trip = seed_trip();
        trip.points[3].lat = 90.1;
        assert!(matches!(
            trip.packed(),
            Err(TripError::LatitudeOutOfRange { index: 3, .. })
        ));
        trip.points.clear();
        assert_eq!(trip.packed(), Err(TripError::EmptyTrack));
    }

    #[test]
    fn unknown_version_is_rejected() {
        let mut bytes = seed_trip().packed().unwrap();
        bytes[0] = 2;
        assert_eq!(unpack(&bytes), Err(TripError::UnsupportedPackedVersion(2)));
    }

    #[test]
    fn wrong_lengths_are_rejected() {
        let bytes = seed_trip().packed().unwrap();
        assert_eq!(
            unpack(&bytes[..bytes.len() - 1]),
            Err(TripError::PackedLength {
                expected: 185,
                found: 184
            })
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            unpack(&longer),
            Err(TripError::PackedLength {
                expected: 185,
                found: 186
            })
        );
        assert_eq!(
            unpack(&bytes[..3]),
            Err(TripError::PackedLength {
                expected: 5,
                found: 3
            })
        );
        assert_eq!(
            unpack(&[]),
            Err(TripError::PackedLength {
                expected: 5,
                found: 0
            })
        );
        let huge_count = [1, 0xFF, 0xFF, 0xFF, 0xFF];
        assert!(matches!(
            unpack(&huge_count),
            Err(TripError::PackedLength { found: 5, .. })
        ));
    }

    #[test]
    fn out_of_range_packed_positions_are_rejected() {
        let mut bytes = seed_trip().packed().unwrap();
        let north = 900_000_001_i32.to_le_bytes();
        bytes[5 + 18..5 + 18 + 4].copy_from_slice(&north);
        assert!(matches!(
            unpack(&bytes),
            Err(TripError::LatitudeOutOfRange { index: 1, .. })
        ));
    }

    #[test]
    fn zero_points_unpack_to_nothing() {
        assert_eq!(unpack(&[1, 0, 0, 0, 0]), Ok(vec![]));
    }

    proptest! {
        #[test]
        fn packing_round_trips_within_a_ten_millionth_of_a_degree(
            raw in prop::collection::vec(
                (-90.0f64..=90.0, -180.0f64..=180.0, any::<i64>(), prop::option::of(0.0f64..6553.0)),
                1..40,
            )
        ) {
            let points: Vec<TripPoint> = raw
                .iter()
                .map(|&(lat, lng, time, speed_kmh)| TripPoint { lat, lng, speed_kmh, time })
                .collect();
            let trip = Trip { session_id: 9, start: 0, end: 0, points };
            let unpacked = unpack(&trip.packed().unwrap()).unwrap();
            prop_assert_eq!(unpacked.len(), trip.points.len());
            for (got, want) in unpacked.iter().zip(&trip.points) {
                prop_assert!((got.lat - want.lat).abs() <= 1e-7);
                prop_assert!((got.lng - want.lng).abs() <= 1e-7);
                prop_assert_eq!(got.time, want.time);
                match (got.speed_kmh, want.speed_kmh) {
                    (Some(got), Some(want)) => prop_assert!((got - want).abs() <= 0.05 + 1e-9),
                    (None, None) => {}
                    other => prop_assert!(false, "speed mismatch {:?}", other),
                }
            }
        }

        #[test]
        fn unpacking_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
            let _ = unpack(&bytes);
        }
    }
}
