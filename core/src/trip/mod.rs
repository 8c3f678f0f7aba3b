//! Trips: decoding `trip-gps` values and computing what a map view needs.
//!
//! A car stores each driving session as a `trip-gps` record; the wallet decrypts it and
//! calls [`Trip::decode`]. From a [`Trip`] the SDK computes the [`TripSummary`]
//! (distance, duration, speeds, bounding box), a Google encoded polyline, GeoJSON and
//! GPX exports, a compact packed track for the FFI, and privacy-trimmed or
//! coordinate-rounded copies for grants.

mod datetime;
mod decode;
mod encode;
mod error;
mod geo;
mod geojson;
mod gpx;
mod packed;
mod point;
mod polyline;
mod privacy;
mod stats;

pub use datetime::{compact_to_unix, unix_to_compact, unix_to_rfc3339};
pub use decode::TRIP_FORMAT;
pub use error::TripError;
pub use geo::{BoundingBox, EARTH_RADIUS_M, haversine_m, total_distance_m, track_length_m};
pub use geojson::{trips_to_geojson, trips_to_geojson_value};
pub use gpx::trips_to_gpx;
pub use packed::{NO_SPEED, PACKED_HEADER_LEN, PACKED_POINT_LEN, PACKED_VERSION, unpack};
pub use point::{Trip, TripPoint};
pub use polyline::{decode_polyline, encode_polyline};
pub use privacy::{MAX_DECIMALS, MAX_ZONE_RADIUS_M, MIN_ZONE_RADIUS_M, PrivacyZone};
pub use stats::TripSummary;

#[cfg(test)]
pub(crate) mod test_vectors;
