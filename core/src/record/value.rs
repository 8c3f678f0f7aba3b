//! Record values: lenient parsing of what users and devices send, and the optional
//! `format` field a value may carry.
//!
//! The seed writes `"format"="trip-gps"`, with `=` where JSON wants `:`. Outside
//! string literals `=` is never valid JSON, so [`parse_value`] rewrites every `=`
//! outside strings to `:` (one character for one, so error positions still point
//! into the original text) and then parses standard JSON. An `=` inside a string,
//! escaped quotes included, is left alone.

use serde_json::Value;

use super::error::{RecordError, RecordResult, json_kind};

/// Name of the optional value field that repeats the record's format.
pub const FORMAT_FIELD: &str = "format";

/// Parses a record value: a JSON object, accepting `=` for `:` outside strings.
///
/// Fails with [`RecordError::MalformedJson`] (1-based line and column, no quoted
/// content) or [`RecordError::ValueNotObject`] when the top level is not an object.
pub fn parse_value(text: &str) -> RecordResult<Value> {
    let rewritten = equals_to_colons(text);
    let value: Value = serde_json::from_str(&rewritten).map_err(malformed)?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(RecordError::ValueNotObject {
            found: json_kind(&value),
        })
    }
}

/// The value's `format` field, when present and a string.
pub fn value_format(value: &Value) -> Option<&str> {
    value.get(FORMAT_FIELD).and_then(Value::as_str)
}

/// Checks that a value's own `format` field, if it has one, names `declared`.
///
/// A value without the field passes. Fails with [`RecordError::FormatMismatch`] on
/// another name, [`RecordError::FormatFieldNotString`] when the field is not a
/// string and [`RecordError::ValueNotObject`] when the value is not an object.
pub fn check_value_format(declared: &str, value: &Value) -> RecordResult<()> {
    let object = value.as_object().ok_or(RecordError::ValueNotObject {
        found: json_kind(value),
    })?;
    match object.get(FORMAT_FIELD) {
        None => Ok(()),
        Some(Value::String(found)) if found == declared => Ok(()),
        Some(Value::String(found)) => Err(RecordError::FormatMismatch {
            declared: declared.to_owned(),
            found: found.clone(),
        }),
        Some(other) => Err(RecordError::FormatFieldNotString {
            found: json_kind(other),
        }),
    }
}

/// Rewrites `=` to `:` outside JSON string literals, honouring `\` escapes.
fn equals_to_colons(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        let rewritten = match c {
            _ if escaped => {
                escaped = false;
                c
            }
            '\\' if in_string => {
                escaped = true;
                c
            }
            '"' => {
                in_string = !in_string;
                c
            }
            '=' if !in_string => ':',
            _ => c,
        };
        out.push(rewritten);
    }
    out
}

/// Maps a serde_json error to [`RecordError::MalformedJson`], keeping its reason
/// but not its position suffix (kept as numbers instead).
fn malformed(error: serde_json::Error) -> RecordError {
    let message = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let reason = message.strip_suffix(&suffix).unwrap_or(&message).to_owned();
    RecordError::MalformedJson {
        line: error.line(),
        column: error.column(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::test_vectors::{SEED_CARVIO_VALUE, SEED_TRIP_VALUE, SEED_VIN_VALUE};
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn seed_trip_value_parses_despite_equals() {
        let value = parse_value(SEED_TRIP_VALUE).unwrap();
        assert_eq!(value_format(&value), Some("trip-gps"));
        assert_eq!(value["len"], json!(10));
        assert_eq!(value["GPS"].as_array().map(Vec::len), Some(10));
        assert_eq!(value["GPS"][9], json!({"lat": 31.115866, "lng": 121.77829}));
        assert_eq!(value["SPEED"], json!("0,23,52,45,51,33,49,49,48,37"));
        assert_eq!(value["VEHICLE_DATA"], json!(1));
        check_value_format("trip-gps", &value).unwrap();
    }

    #[test]
    fn seed_carvio_value_parses() {
        let value = parse_value(SEED_CARVIO_VALUE).unwrap();
        assert_eq!(
            value,
            json!({"format": "carvio", "VEHICLE_DATA": 1, "datetime": 20180310,
                   "loc": {"lat": 31.250885, "lng": 121.44662},
                   "viotype": "vioparking", "price": 200, "point": 0})
        );
        check_value_format("carvio", &value).unwrap();
    }

    #[test]
    fn seed_vin_value_parses() {
        let value = parse_value(SEED_VIN_VALUE).unwrap();
        assert_eq!(value, json!({"VIN": "LBVNU79049SB81546"}));
        assert_eq!(value_format(&value), None);
        check_value_format("VIN_CODE", &value).unwrap();
    }

    #[test]
    fn equals_inside_strings_is_kept() {
        let value =
            parse_value(r#"{"note"="a=b", "q":"say \"x=y\"", "path":"c:\\", "k"=2}"#).unwrap();
        assert_eq!(
            value,
            json!({"note": "a=b", "q": "say \"x=y\"", "path": "c:\\", "k": 2})
        );
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        let err = parse_value("{\n  \"a\": 1,\n  \"b\" 2\n}").unwrap_err();
        assert_eq!(
            err,
            RecordError::MalformedJson {
                line: 3,
                column: 7,
                reason: "expected `:`".into()
            }
        );
    }

    #[test]
    fn truncated_json_is_malformed() {
        let err = parse_value(r#"{"VIN":"LBVNU79049SB81546", dHash)"#).unwrap_err();
        assert!(
            matches!(
                err,
                RecordError::MalformedJson {
                    line: 1,
                    column: 29,
                    ..
                }
            ),
            "{err:?}"
        );
        let err = parse_value("").unwrap_err();
        assert!(
            matches!(
                err,
                RecordError::MalformedJson {
                    line: 1,
                    column: 0,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn malformed_json_error_does_not_quote_the_value() {
        let err = parse_value(r#"{"VIN": LBVNU79049SB81546}"#).unwrap_err();
        assert!(!err.to_string().contains("LBVNU"), "{err}");
    }

    #[test]
    fn non_object_top_level_is_refused() {
        for (text, kind) in [
            ("[1,2]", "array"),
            ("\"x\"", "string"),
            ("3", "integer"),
            ("null", "null"),
        ] {
            assert_eq!(
                parse_value(text).unwrap_err(),
                RecordError::ValueNotObject { found: kind }
            );
        }
    }

    #[test]
    fn format_mismatch_is_refused() {
        let value = parse_value(SEED_TRIP_VALUE).unwrap();
        assert_eq!(
            check_value_format("carvio", &value).unwrap_err(),
            RecordError::FormatMismatch {
                declared: "carvio".into(),
                found: "trip-gps".into()
            }
        );
    }

    #[test]
    fn non_string_format_field_is_refused() {
        let value = json!({"format": 3});
        assert_eq!(value_format(&value), None);
        assert_eq!(
            check_value_format("carvio", &value).unwrap_err(),
            RecordError::FormatFieldNotString { found: "integer" }
        );
        assert_eq!(
            check_value_format("carvio", &json!([1])).unwrap_err(),
            RecordError::ValueNotObject { found: "array" }
        );
    }

    proptest! {
        #[test]
        fn standard_json_objects_parse_unchanged(
            fields in proptest::collection::btree_map(
                "[a-z=\"\\\\:]{0,6}",
                prop_oneof![
                    "[a-z=\"\\\\:{}\u{e9}]{0,8}".prop_map(Value::from),
                    any::<i64>().prop_map(Value::from),
                    any::<bool>().prop_map(Value::from),
                ],
                0..6,
            ),
        ) {
            let value = Value::Object(fields.into_iter().collect());
            let text = serde_json::to_string(&value).unwrap();
            prop_assert_eq!(parse_value(&text).unwrap(), value);
        }
    }
}
