//! Trips: decoding `trip-gps` values and computing what a map view needs.
