//! Google's encoded polyline format (precision 5), the compact track string map SDKs
//! accept: each coordinate is rounded to 1e-5 degree, delta-encoded against the previous
//! point, zig-zag signed, and written as 5-bit chunks offset by 63 into printable ASCII.

use super::error::TripError;
use super::point::Trip;

/// Coordinates are stored as integer multiples of 1e-5 degree.
const SCALE: f64 = 1e5;
/// Printable offset added to each 5-bit chunk.
const CHAR_OFFSET: u8 = 63;
/// Set on every chunk but the last of a value.
const CONTINUATION: u8 = 0x20;
/// Longest accepted value, in 5-bit chunks (7 chunks = 35 bits, far above 360e5).
const MAX_CHUNKS: u32 = 7;

/// Encodes `(lat, lng)` positions in degrees as a precision-5 Google polyline.
///
/// Positions are rounded to the nearest 1e-5 degree (halves away from zero); deltas are
/// taken between rounded values, so rounding errors never accumulate.
pub fn encode_polyline(points: &[(f64, f64)]) -> String {
    let mut out = String::with_capacity(points.len() * 8);
    let mut previous = (0_i64, 0_i64);
    for &(lat, lng) in points {
        let current = (to_units(lat), to_units(lng));
        encode_value(current.0.saturating_sub(previous.0), &mut out);
        encode_value(current.1.saturating_sub(previous.1), &mut out);
        previous = current;
    }
    out
}

/// Decodes a precision-5 Google polyline into `(lat, lng)` positions in degrees.
///
/// Fails on characters outside `'?'..='~'`, a value cut off mid-way, a latitude without
/// its longitude, an over-long value, or a position outside the valid ranges.
pub fn decode_polyline(encoded: &str) -> Result<Vec<(f64, f64)>, TripError> {
    let bytes = encoded.as_bytes();
    let mut position = 0;
    let mut current = (0_i64, 0_i64);
    let mut points = Vec::new();
    while position < bytes.len() {
        let point_start = position;
        let dlat = decode_value(bytes, &mut position)?;
        if position >= bytes.len() {
            return Err(invalid(position, "latitude without a longitude"));
        }
        let dlng = decode_value(bytes, &mut position)?;
        current = (
            current
                .0
                .checked_add(dlat)
                .ok_or(invalid(point_start, "overflow"))?,
            current
                .1
                .checked_add(dlng)
                .ok_or(invalid(point_start, "overflow"))?,
        );
        let (lat, lng) = (current.0 as f64 / SCALE, current.1 as f64 / SCALE);
        if !(-90.0..=90.0).contains(&lat) {
            return Err(invalid(point_start, "latitude outside [-90, 90]"));
        }
        if !(-180.0..=180.0).contains(&lng) {
            return Err(invalid(point_start, "longitude outside [-180, 180]"));
        }
        points.push((lat, lng));
    }
    Ok(points)
}

impl Trip {
    /// The trip's track as a precision-5 Google encoded polyline.
    pub fn polyline(&self) -> String {
        let positions: Vec<(f64, f64)> = self.points.iter().map(|p| (p.lat, p.lng)).collect();
        encode_polyline(&positions)
    }
}

fn to_units(degrees: f64) -> i64 {
    // `as` saturates (and maps NaN to 0), so no input can panic here.
    (degrees * SCALE).round() as i64
}

fn encode_value(value: i64, out: &mut String) {
    let mut zigzag = if value < 0 {
        !(value << 1) as u64
    } else {
        (value << 1) as u64
    };
    loop {
        let chunk = (zigzag & 0x1f) as u8;
        zigzag >>= 5;
        if zigzag == 0 {
            out.push(char::from(chunk + CHAR_OFFSET));
            return;
        }
        out.push(char::from((chunk | CONTINUATION) + CHAR_OFFSET));
    }
}

fn decode_value(bytes: &[u8], position: &mut usize) -> Result<i64, TripError> {
    let mut accumulated: u64 = 0;
    for chunk_index in 0..MAX_CHUNKS {
        let Some(&byte) = bytes.get(*position) else {
            return Err(invalid(*position, "value cut off"));
        };
        if !(CHAR_OFFSET..=CHAR_OFFSET + 63).contains(&byte) {
            return Err(invalid(*position, "character outside '?'..='~'"));
        }
        *position += 1;
        let chunk = byte - CHAR_OFFSET;
        accumulated |= u64::from(chunk & 0x1f) << (5 * chunk_index);
        if chunk & CONTINUATION == 0 {
            let magnitude = (accumulated >> 1) as i64;
            return Ok(if accumulated & 1 == 1 {
                !magnitude
            } else {
                magnitude
            });
        }
    }
    Err(invalid(*position, "value longer than 7 characters"))
}

fn invalid(position: usize, reason: &'static str) -> TripError {
    TripError::InvalidPolyline { position, reason }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::test_vectors::seed_trip;
    use super::*;

    const GOOGLE_EXAMPLE: &str = "_p~iF~ps|U_ulLnnqC_mqNvxq`@";

    #[test]
    fn google_published_example_encodes() {
        let points = [(38.5, -120.2), (40.7, -120.95), (43.252, -126.453)];
        assert_eq!(encode_polyline(&points), GOOGLE_EXAMPLE);
    }

    #[test]
    fn google_published_example_decodes() {
        let points = decode_polyline(GOOGLE_EXAMPLE).unwrap();
        let expected = [(38.5, -120.2), (40.7, -120.95), (43.252, -126.453)];
        assert_eq!(points.len(), 3);
        for (got, want) in points.iter().zip(expected) {
            assert!((got.0 - want.0).abs() < 1e-9 && (got.1 - want.1).abs() < 1e-9);
        }
    }

    #[test]
    fn google_single_value_example() {
        // Google's step-by-step example: -179.9832104 encodes as `` `~oia@ ``.
        let encoded = encode_polyline(&[(-179.9832104 / 2.0, -179.9832104)]);
        assert!(encoded.ends_with("`~oia@"), "{encoded}");
    }

    #[test]
    fn empty_track_is_an_empty_string() {
        assert_eq!(encode_polyline(&[]), "");
        assert_eq!(decode_polyline(""), Ok(vec![]));
    }

    #[test]
    fn seed_trip_polyline_is_pinned() {
        let encoded = seed_trip().polyline();
        // Golden value computed independently (halves rounded away from zero: the first
        // latitude, 31.250885, is exactly a half unit).
        assert_eq!(
            encoded,
            "auv}Dk`gdViAjEiQkxFyzAamSqsDknCmCmCrCqCveS_kYuIqFrsN}jD"
        );
        let decoded = decode_polyline(&encoded).unwrap();
        assert_eq!(decoded.len(), 10);
        assert!((decoded[9].0 - 31.11587).abs() < 1e-9);
        assert!((decoded[9].1 - 121.77829).abs() < 1e-9);
    }

    #[test]
    fn malformed_text_is_rejected_at_its_offset() {
        let cases = [
            ("_p~iF ps|U", 5, "character outside '?'..='~'"),
            ("_p~iF~ps|\u{e9}", 9, "character outside '?'..='~'"),
            ("_p~iF~ps|", 9, "value cut off"),
            ("_p~iF", 5, "latitude without a longitude"),
            ("~~~~~~~~?", 7, "value longer than 7 characters"),
        ];
        for (text, offset, reason) in cases {
            assert_eq!(
                decode_polyline(text),
                Err(invalid(offset, reason)),
                "{text}"
            );
        }
    }

    #[test]
    fn out_of_range_positions_are_rejected() {
        let inside_the_limits = encode_polyline(&[(45.0, 0.0), (46.0, 0.0)]);
        assert!(decode_polyline(&inside_the_limits).is_ok());
        let beyond = format!(
            "{}{}",
            encode_polyline(&[(90.0, 0.0)]),
            encode_polyline(&[(0.5, 0.0)])
        );
        assert_eq!(
            decode_polyline(&beyond),
            Err(invalid(6, "latitude outside [-90, 90]"))
        );
        let east = format!(
            "{}{}",
            encode_polyline(&[(0.0, 180.0)]),
            encode_polyline(&[(0.0, 0.5)])
        );
        assert!(matches!(
            decode_polyline(&east),
            Err(TripError::InvalidPolyline {
                reason: "longitude outside [-180, 180]",
                ..
            })
        ));
    }

    proptest! {
        #[test]
        fn round_trip_within_rounding(
            points in prop::collection::vec((-90.0f64..=90.0, -180.0f64..=180.0), 0..50)
        ) {
            let encoded = encode_polyline(&points);
            let decoded = decode_polyline(&encoded).unwrap();
            prop_assert_eq!(decoded.len(), points.len());
            for (got, want) in decoded.iter().zip(&points) {
                prop_assert!((got.0 - want.0).abs() <= 0.5e-5 + 1e-9);
                prop_assert!((got.1 - want.1).abs() <= 0.5e-5 + 1e-9);
            }
            prop_assert_eq!(encode_polyline(&decoded), encoded);
        }

        #[test]
        fn decoding_arbitrary_text_never_panics(text in "[?-~]{0,40}") {
            let _ = decode_polyline(&text);
        }
    }
}
