//! Tests of `decode`.

use serde_json::{Value, json};

use super::super::test_vectors::{seed_key, seed_trip, seed_value};
use super::*;

fn with(field: &str, replacement: Value) -> Value {
    let mut value = seed_value();
    if let Value::Object(map) = &mut value {
        map.insert(field.to_string(), replacement);
    }
    value
}

fn without(field: &str) -> Value {
    let mut value = seed_value();
    if let Value::Object(map) = &mut value {
        map.remove(field);
    }
    value
}

fn decode_value(value: &Value) -> Result<Trip, TripError> {
    Trip::decode(&seed_key(), value)
}

fn key_with(field: &str, replacement: Value) -> Map<String, Value> {
    let mut key = seed_key();
    key.insert(field.to_string(), replacement);
    key
}

#[test]
fn seed_record_decodes() {
    let trip = seed_trip();
    assert_eq!(trip.session_id, 1);
    assert_eq!(trip.start, 1_462_950_868);
    assert_eq!(trip.end, 1_462_959_983);
    assert_eq!(trip.points.len(), 10);
    assert_eq!(
        trip.points[0],
        TripPoint {
            lat: 31.250885,
            lng: 121.44662,
            speed_kmh: Some(0.0),
            time: 1_462_950_868
        }
    );
    assert_eq!(trip.points[2].speed_kmh, Some(52.0));
    // 9,115 s over 9 gaps: 1,012.77 s each, rounded down.
    assert_eq!(trip.points[1].time, 1_462_950_868 + 1012);
    assert_eq!(trip.points[9].time, 1_462_959_983);
    assert_eq!(trip.points[9].lng, 121.77829);
}

#[test]
fn speed_as_array_matches_speed_as_text() {
    let array = with("SPEED", json!([0, 23, 52, 45, 51, 33, 49, 49, 48, 37]));
    assert_eq!(decode_value(&array), Ok(seed_trip()));
}

#[test]
fn speed_array_may_mark_missing_samples_with_null() {
    let array = with("SPEED", json!([0, null, 52.5, 45, 51, 33, 49, 49, 48, 37]));
    let trip = decode_value(&array).unwrap();
    assert_eq!(trip.points[1].speed_kmh, None);
    assert_eq!(trip.points[2].speed_kmh, Some(52.5));
}

#[test]
fn speed_text_tolerates_spaces() {
    let spaced = with("SPEED", json!("0, 23,52 ,45,51,33,49,49,48,37"));
    assert_eq!(decode_value(&spaced), Ok(seed_trip()));
}

#[test]
fn missing_speed_gives_points_without_speed() {
    let trip = decode_value(&without("SPEED")).unwrap();
    assert!(trip.points.iter().all(|p| p.speed_kmh.is_none()));
}

#[test]
fn explicit_times_are_used_as_given() {
    let times: Vec<i64> = (0..10).map(|i| 1_462_950_868 + i * 60).collect();
    let text = times
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let from_text = decode_value(&with("TIME", json!(text))).unwrap();
    let from_array = decode_value(&with("TIME", json!(times))).unwrap();
    assert_eq!(from_text, from_array);
    assert_eq!(from_text.points[3].time, 1_462_950_868 + 180);
}

#[test]
fn len_and_format_are_optional() {
    let bare = without("len");
    let bare = {
        let mut bare = bare;
        if let Value::Object(map) = &mut bare {
            map.remove("format");
        }
        bare
    };
    assert_eq!(decode_value(&bare), Ok(seed_trip()));
}

#[test]
fn missing_gps_is_rejected() {
    assert_eq!(
        decode_value(&without("GPS")),
        Err(TripError::MissingField("GPS"))
    );
}

#[test]
fn gps_that_is_not_an_array_is_rejected() {
    assert!(matches!(
        decode_value(&with("GPS", json!({"lat": 1, "lng": 2}))),
        Err(TripError::InvalidField { field: "GPS", .. })
    ));
}

#[test]
fn empty_gps_is_rejected() {
    let empty = with("GPS", json!([]));
    let empty = {
        let mut empty = empty;
        if let Value::Object(map) = &mut empty {
            map.remove("SPEED");
            map.remove("len");
        }
        empty
    };
    assert_eq!(decode_value(&empty), Err(TripError::EmptyTrack));
}

#[test]
fn malformed_gps_points_name_their_index() {
    let cases = [
        (json!([{"lat": 1.0, "lng": 2.0}, 5]), 1, "not an object"),
        (json!([{"lng": 2.0}]), 0, "lat is missing"),
        (json!([{"lat": 1.0}]), 0, "lng is missing"),
        (
            json!([{"lat": "31.2", "lng": 2.0}]),
            0,
            "lat is not a number",
        ),
        (json!([{"lat": 1.0, "lng": null}]), 0, "lng is not a number"),
    ];
    for (gps, index, reason) in cases {
        let mut value = with("GPS", gps);
        if let Value::Object(map) = &mut value {
            map.remove("SPEED");
            map.remove("len");
        }
        assert_eq!(
            decode_value(&value),
            Err(TripError::InvalidGpsPoint { index, reason })
        );
    }
}

#[test]
fn out_of_range_coordinates_name_their_index() {
    let mut value = seed_value();
    value["GPS"][4]["lat"] = json!(91.5);
    assert_eq!(
        decode_value(&value),
        Err(TripError::LatitudeOutOfRange {
            index: 4,
            lat: 91.5
        })
    );
    let mut value = seed_value();
    value["GPS"][7]["lng"] = json!(-180.5);
    assert_eq!(
        decode_value(&value),
        Err(TripError::LongitudeOutOfRange {
            index: 7,
            lng: -180.5
        })
    );
}

#[test]
fn non_numeric_speed_entries_name_index_and_text() {
    let cases = [
        (json!("0,23,fast,45,51,33,49,49,48,37"), 2, "fast"),
        (json!("0,23,52,45,,33,49,49,48,37"), 4, ""),
        (json!("0,23,52,45,51,33,49,49,48,NaN"), 9, "NaN"),
        (json!("0,23,52,45,51,33,49,49,48,inf"), 9, "inf"),
        (json!("0,-23,52,45,51,33,49,49,48,37"), 1, "-23"),
        (
            json!([0, 23, "52", 45, 51, 33, 49, 49, 48, 37]),
            2,
            "\"52\"",
        ),
        (json!([0, 23, 52, 45, 51, 33, 49, -1, 48, 37]), 7, "-1"),
    ];
    for (speed, index, text) in cases {
        assert_eq!(
            decode_value(&with("SPEED", speed)),
            Err(TripError::InvalidSpeed {
                index,
                text: text.to_string()
            })
        );
    }
}

#[test]
fn speed_of_the_wrong_type_is_rejected() {
    assert!(matches!(
        decode_value(&with("SPEED", json!(52))),
        Err(TripError::InvalidField { field: "SPEED", .. })
    ));
}

#[test]
fn speed_and_time_lengths_must_match_gps() {
    let cases = [
        ("SPEED", json!("0,23,52"), 3),
        ("TIME", json!([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), 11),
    ];
    for (field, series, found) in cases {
        assert_eq!(
            decode_value(&with(field, series)),
            Err(TripError::LengthMismatch {
                field,
                expected: 10,
                found
            })
        );
    }
}

#[test]
fn non_integer_times_name_index_and_text() {
    assert_eq!(
        decode_value(&with("TIME", json!("1,2,3,x,5,6,7,8,9,10"))),
        Err(TripError::InvalidTime {
            index: 3,
            text: "x".to_string()
        })
    );
    assert_eq!(
        decode_value(&with("TIME", json!([1, 2, 3, 4, 5.5, 6, 7, 8, 9, 10]))),
        Err(TripError::InvalidTime {
            index: 4,
            text: "5.5".to_string()
        })
    );
    assert!(matches!(
        decode_value(&with("TIME", json!(true))),
        Err(TripError::InvalidField { field: "TIME", .. })
    ));
}

#[test]
fn times_going_backwards_are_rejected() {
    assert_eq!(
        decode_value(&with("TIME", json!([1, 2, 3, 4, 5, 6, 5, 8, 9, 10]))),
        Err(TripError::TimeGoesBackwards { index: 6 })
    );
}

#[test]
fn len_disagreeing_with_gps_is_rejected() {
    assert_eq!(
        decode_value(&with("len", json!(11))),
        Err(TripError::LenDisagrees {
            len: 11,
            points: 10
        })
    );
    assert!(matches!(
        decode_value(&with("len", json!(-1))),
        Err(TripError::InvalidField { field: "len", .. })
    ));
}

#[test]
fn other_formats_are_rejected() {
    assert_eq!(
        decode_value(&with("format", json!("carvio"))),
        Err(TripError::WrongFormat {
            found: "carvio".to_string()
        })
    );
    assert!(matches!(
        decode_value(&with("format", json!(1))),
        Err(TripError::InvalidField {
            field: "format",
            ..
        })
    ));
}

#[test]
fn value_must_be_an_object() {
    assert!(matches!(
        decode_value(&json!([1, 2])),
        Err(TripError::InvalidField { field: "value", .. })
    ));
}

#[test]
fn key_fields_are_required() {
    for field in ["SESSION_ID", "START_TIME", "END_TIME"] {
        let mut key = seed_key();
        key.remove(field);
        assert_eq!(
            Trip::decode(&key, &seed_value()),
            Err(TripError::MissingField(field))
        );
    }
}

#[test]
fn session_id_must_be_an_integer() {
    let key = key_with("SESSION_ID", json!("1"));
    assert!(matches!(
        Trip::decode(&key, &seed_value()),
        Err(TripError::InvalidField {
            field: "SESSION_ID",
            ..
        })
    ));
}

#[test]
fn invalid_start_or_end_time_is_rejected() {
    let key = key_with("START_TIME", json!(20160532071428_i64));
    assert_eq!(
        Trip::decode(&key, &seed_value()),
        Err(TripError::InvalidDateTime {
            field: "START_TIME",
            value: "20160532071428".to_string()
        })
    );
    let key = key_with("END_TIME", json!("INF_MAX"));
    assert_eq!(
        Trip::decode(&key, &seed_value()),
        Err(TripError::InvalidDateTime {
            field: "END_TIME",
            value: "\"INF_MAX\"".to_string()
        })
    );
}

#[test]
fn end_before_start_is_rejected() {
    let key = key_with("END_TIME", json!(20160511071427_i64));
    assert_eq!(
        Trip::decode(&key, &seed_value()),
        Err(TripError::EndBeforeStart {
            start: 1_462_950_868,
            end: 1_462_950_867
        })
    );
}
