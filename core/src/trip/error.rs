//! The one error type of the trip module: every way a `trip-gps` record, a polyline, a
//! packed track or a privacy setting can be wrong, each naming the problem.

use thiserror::Error;

/// Everything that can go wrong while decoding, encoding, exporting or trimming a trip.
///
/// Trip data is not secret key material, so values (coordinates, offending text) may
/// appear in messages to help the caller find the bad record.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TripError {
    /// A required field of the record key or value is absent.
    #[error("missing field {0}")]
    MissingField(&'static str),

    /// A field is present but has the wrong JSON type or shape.
    #[error("field {field} must be {expected}")]
    InvalidField {
        /// The field name as it appears in the record.
        field: &'static str,
        /// What the field should have been.
        expected: &'static str,
    },

    /// The record's `format` field names another format.
    #[error("record format is {found:?}, expected \"trip-gps\"")]
    WrongFormat {
        /// The format the record claims.
        found: String,
    },

    /// A GPS entry is not an object with numeric `lat` and `lng`.
    #[error("GPS point {index} is invalid: {reason}")]
    InvalidGpsPoint {
        /// Position of the entry in the GPS array.
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A latitude outside [-90, 90] (or not finite).
    #[error("GPS point {index} has latitude {lat} outside [-90, 90]")]
    LatitudeOutOfRange {
        /// Position of the point in the track.
        index: usize,
        /// The offending latitude.
        lat: f64,
    },

    /// A longitude outside [-180, 180] (or not finite).
    #[error("GPS point {index} has longitude {lng} outside [-180, 180]")]
    LongitudeOutOfRange {
        /// Position of the point in the track.
        index: usize,
        /// The offending longitude.
        lng: f64,
    },

    /// A SPEED entry that is not a finite, non-negative number of km/h.
    #[error("SPEED entry {index} is not a non-negative number: {text:?}")]
    InvalidSpeed {
        /// Position of the entry in SPEED.
        index: usize,
        /// The entry as written in the record.
        text: String,
    },

    /// A TIME entry that is not an integer number of unix seconds.
    #[error("TIME entry {index} is not an integer unix time: {text:?}")]
    InvalidTime {
        /// Position of the entry in TIME.
        index: usize,
        /// The entry as written in the record.
        text: String,
    },

    /// A point's time is earlier than the previous point's.
    #[error("TIME entry {index} is earlier than the entry before it")]
    TimeGoesBackwards {
        /// Position of the first out-of-order entry.
        index: usize,
    },

    /// SPEED or TIME has a different number of entries than GPS.
    #[error("{field} has {found} entries but GPS has {expected}")]
    LengthMismatch {
        /// `SPEED` or `TIME`.
        field: &'static str,
        /// The number of GPS points.
        expected: usize,
        /// The number of entries found.
        found: usize,
    },

    /// The record's `len` disagrees with the number of GPS points.
    #[error("len says {len} points but GPS has {points}")]
    LenDisagrees {
        /// The declared `len`.
        len: u64,
        /// The actual number of GPS points.
        points: usize,
    },

    /// START_TIME or END_TIME is not a valid YYYYMMDDhhmmss date-time.
    #[error("{field} is not a valid YYYYMMDDhhmmss date-time: {value}")]
    InvalidDateTime {
        /// `START_TIME` or `END_TIME`.
        field: &'static str,
        /// The value as written.
        value: String,
    },

    /// A unix time that cannot be shown as a calendar date-time (years 1000-9999 only).
    #[error("unix time {0} is outside the representable years 1000-9999")]
    TimestampOutOfRange(i64),

    /// The trip ends before it starts.
    #[error("trip ends at {end} before it starts at {start}")]
    EndBeforeStart {
        /// Start, unix seconds.
        start: i64,
        /// End, unix seconds.
        end: i64,
    },

    /// The trip has no points.
    #[error("trip has no GPS points")]
    EmptyTrack,

    /// An encoded polyline is malformed.
    #[error("encoded polyline is invalid at byte {position}: {reason}")]
    InvalidPolyline {
        /// Byte offset of the problem.
        position: usize,
        /// What is wrong.
        reason: &'static str,
    },

    /// A privacy zone radius outside 1..=10,000 metres.
    #[error("privacy zone radius {radius_m} m is outside 1..=10000 m")]
    InvalidZoneRadius {
        /// The offending radius.
        radius_m: f64,
    },

    /// A privacy zone centre with an invalid latitude or longitude.
    #[error("privacy zone centre ({lat}, {lng}) is not a valid position")]
    InvalidZoneCentre {
        /// Latitude of the centre.
        lat: f64,
        /// Longitude of the centre.
        lng: f64,
    },

    /// Every point of the trip lies inside a privacy zone.
    #[error("the whole trip lies inside privacy zones")]
    EntirelyPrivate,

    /// Coordinates may be rounded to 0..=7 decimals only.
    #[error("cannot round coordinates to {0} decimals (0..=7 allowed)")]
    InvalidDecimals(u32),

    /// A packed track written by an unknown version of the format.
    #[error("packed track version {0} is not supported")]
    UnsupportedPackedVersion(u8),

    /// A packed track whose length does not match its header.
    #[error("packed track should be {expected} bytes but is {found}")]
    PackedLength {
        /// Length implied by the header.
        expected: usize,
        /// Actual length.
        found: usize,
    },

    /// A speed too large (or negative) for the packed format's u16 of 0.1 km/h.
    #[error("point {index} speed {speed_kmh} km/h cannot be packed (0..=6553.4 allowed)")]
    SpeedNotPackable {
        /// Position of the point.
        index: usize,
        /// The offending speed.
        speed_kmh: f64,
    },

    /// A track with more points than the packed format's u32 count.
    #[error("track has {0} points, more than a packed track can hold")]
    TooManyPoints(usize),
}

crate::error_code::error_codes!(TripError {
    MissingField => "trip.missing_field",
    InvalidField => "trip.invalid_field",
    WrongFormat => "trip.wrong_format",
    InvalidGpsPoint => "trip.invalid_gps_point",
    LatitudeOutOfRange => "trip.latitude_out_of_range",
    LongitudeOutOfRange => "trip.longitude_out_of_range",
    InvalidSpeed => "trip.invalid_speed",
    InvalidTime => "trip.invalid_time",
    TimeGoesBackwards => "trip.time_goes_backwards",
    LengthMismatch => "trip.length_mismatch",
    LenDisagrees => "trip.len_disagrees",
    InvalidDateTime => "trip.invalid_date_time",
    TimestampOutOfRange => "trip.timestamp_out_of_range",
    EndBeforeStart => "trip.end_before_start",
    EmptyTrack => "trip.empty_track",
    InvalidPolyline => "trip.invalid_polyline",
    InvalidZoneRadius => "trip.invalid_zone_radius",
    InvalidZoneCentre => "trip.invalid_zone_centre",
    EntirelyPrivate => "trip.entirely_private",
    InvalidDecimals => "trip.invalid_decimals",
    UnsupportedPackedVersion => "trip.unsupported_packed_version",
    PackedLength => "trip.packed_length",
    SpeedNotPackable => "trip.speed_not_packable",
    TooManyPoints => "trip.too_many_points",
});
