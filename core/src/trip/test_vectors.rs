//! Test fixtures shared by the trip module's unit tests: the seed document's
//! `trip-gps` record.

use serde_json::{Map, Value, json};

/// The seed's record key.
pub(crate) fn seed_key() -> Map<String, Value> {
    let key =
        json!({"SESSION_ID": 1, "START_TIME": 20160511071428_i64, "END_TIME": 20160511094623_i64});
    match key {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The seed's record value (the seed writes `"format"="trip-gps"`, a typo for `:`).
pub(crate) fn seed_value() -> Value {
    json!({
        "len": 10,
        "GPS": [
            {"lat": 31.250885, "lng": 121.44662},
            {"lat": 31.251259, "lng": 121.4456},
            {"lat": 31.25419, "lng": 121.485504},
            {"lat": 31.268875, "lng": 121.59015},
            {"lat": 31.29777, "lng": 121.61309},
            {"lat": 31.298483, "lng": 121.6138},
            {"lat": 31.297743, "lng": 121.614525},
            {"lat": 31.194258, "lng": 121.74957},
            {"lat": 31.195974, "lng": 121.75078},
            {"lat": 31.115866, "lng": 121.77829}
        ],
        "SPEED": "0,23,52,45,51,33,49,49,48,37",
        "VEHICLE_DATA": 1,
        "format": "trip-gps"
    })
}

/// The seed's trip, decoded.
pub(crate) fn seed_trip() -> super::Trip {
    match super::Trip::decode(&seed_key(), &seed_value()) {
        Ok(trip) => trip,
        Err(error) => panic!("seed trip must decode: {error}"),
    }
}
