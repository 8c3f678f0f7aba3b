//! One field of a record key as a typed value: the `INF_MIN` bound, a signed 64-bit
//! integer, a string, or the `INF_MAX` bound, converted from and to JSON.
//!
//! The strings `"INF_MIN"` and `"INF_MAX"` are reserved: in a key they always mean
//! the bounds, never the literal text. Numeric strings stay strings: `"1"` is the
//! string "1" and sorts after every integer, it is not the integer 1.

use serde_json::Value;

use super::error::{RecordError, RecordResult, json_kind};

/// The JSON string that stands for the bound below every key field value.
pub const INF_MIN: &str = "INF_MIN";
/// The JSON string that stands for the bound above every key field value.
pub const INF_MAX: &str = "INF_MAX";

/// A key field's value. The derived order is the key order:
/// `Min` < every `Int` (numeric order) < every `Str` (byte-wise order) < `Max`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyValue {
    /// `INF_MIN`: below everything.
    Min,
    /// An integer (the seed's timestamps such as 20160511071428 fit).
    Int(i64),
    /// A string other than the two reserved bound names.
    Str(String),
    /// `INF_MAX`: above everything.
    Max,
}

impl KeyValue {
    /// Reads the value of key field `field` from JSON.
    ///
    /// Integers within `i64` and strings are accepted; `"INF_MIN"` and `"INF_MAX"`
    /// become the bounds. Floats, booleans, null, arrays and objects fail with
    /// [`RecordError::UnsupportedKeyValue`]; integers beyond `i64` with
    /// [`RecordError::KeyIntegerOutOfRange`].
    pub fn from_json(field: &str, value: &Value) -> RecordResult<Self> {
        match value {
            Value::String(text) if text == INF_MIN => Ok(Self::Min),
            Value::String(text) if text == INF_MAX => Ok(Self::Max),
            Value::String(text) => Ok(Self::Str(text.clone())),
            Value::Number(number) if number.is_f64() => Err(RecordError::UnsupportedKeyValue {
                field: field.to_owned(),
                found: json_kind(value),
            }),
            Value::Number(number) => {
                number
                    .as_i64()
                    .map(Self::Int)
                    .ok_or_else(|| RecordError::KeyIntegerOutOfRange {
                        field: field.to_owned(),
                    })
            }
            _ => Err(RecordError::UnsupportedKeyValue {
                field: field.to_owned(),
                found: json_kind(value),
            }),
        }
    }

    /// The JSON form: a number, a string, or `"INF_MIN"` / `"INF_MAX"`.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Min => Value::String(INF_MIN.to_owned()),
            Self::Int(number) => Value::from(*number),
            Self::Str(text) => Value::String(text.clone()),
            Self::Max => Value::String(INF_MAX.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_integers_strings_and_bounds() {
        assert_eq!(
            KeyValue::from_json("T", &json!(20160511071428_i64)).unwrap(),
            KeyValue::Int(20_160_511_071_428)
        );
        assert_eq!(
            KeyValue::from_json("T", &json!(-5)).unwrap(),
            KeyValue::Int(-5)
        );
        assert_eq!(
            KeyValue::from_json("T", &json!("abc")).unwrap(),
            KeyValue::Str("abc".into())
        );
        assert_eq!(
            KeyValue::from_json("T", &json!("INF_MAX")).unwrap(),
            KeyValue::Max
        );
        assert_eq!(
            KeyValue::from_json("T", &json!("INF_MIN")).unwrap(),
            KeyValue::Min
        );
    }

    #[test]
    fn numeric_strings_stay_strings() {
        assert_eq!(
            KeyValue::from_json("T", &json!("1")).unwrap(),
            KeyValue::Str("1".into())
        );
        assert!(KeyValue::Str("1".into()) > KeyValue::Int(i64::MAX));
    }

    #[test]
    fn order_is_min_ints_strings_max() {
        let ordered = [
            KeyValue::Min,
            KeyValue::Int(i64::MIN),
            KeyValue::Int(-1),
            KeyValue::Int(0),
            KeyValue::Int(i64::MAX),
            KeyValue::Str(String::new()),
            KeyValue::Str("A".into()),
            KeyValue::Str("a".into()),
            KeyValue::Max,
        ];
        assert!(ordered.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn rejects_floats_naming_the_field() {
        let err = KeyValue::from_json("START_TIME", &json!(1.5)).unwrap_err();
        assert_eq!(
            err,
            RecordError::UnsupportedKeyValue {
                field: "START_TIME".into(),
                found: "float"
            }
        );
    }

    #[test]
    fn rejects_bool_null_array_object() {
        for (value, kind) in [
            (json!(true), "boolean"),
            (Value::Null, "null"),
            (json!([1]), "array"),
            (json!({"a": 1}), "object"),
        ] {
            assert_eq!(
                KeyValue::from_json("F", &value).unwrap_err(),
                RecordError::UnsupportedKeyValue {
                    field: "F".into(),
                    found: kind
                }
            );
        }
    }

    #[test]
    fn rejects_integers_beyond_i64() {
        let err = KeyValue::from_json("F", &json!(u64::MAX)).unwrap_err();
        assert_eq!(err, RecordError::KeyIntegerOutOfRange { field: "F".into() });
    }

    #[test]
    fn json_round_trip() {
        for value in [
            KeyValue::Min,
            KeyValue::Int(i64::MIN),
            KeyValue::Str("x\u{0}y".into()),
            KeyValue::Max,
        ] {
            assert_eq!(KeyValue::from_json("F", &value.to_json()).unwrap(), value);
        }
    }
}
