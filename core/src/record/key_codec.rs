//! Order-preserving key encoding: a record key (a JSON object whose fields a format
//! names) becomes bytes whose lexicographic order is the field-by-field order of
//! the key, so a range query is a plain ordered scan inside one address.
//!
//! Each field, in the format's order, is written as:
//! - `INF_MIN`: `0x00`
//! - an integer: `0x10`, then the 8-byte big-endian value with its sign bit flipped
//! - a string: `0x20`, then its UTF-8 bytes with each `0x00` written as `0x00 0xFF`,
//!   then the terminator `0x00 0x01`
//! - `INF_MAX`: `0xFF`
//!
//! So `INF_MIN` < integers < strings < `INF_MAX`, and every field encoding is
//! prefix-free, which keeps the fields after it aligned.

use serde_json::{Map, Value};

use super::error::{RecordError, RecordResult, json_kind};
use super::format::FormatSpec;
use super::key_value::KeyValue;

const TAG_MIN: u8 = 0x00;
const TAG_INT: u8 = 0x10;
const TAG_STR: u8 = 0x20;
const TAG_MAX: u8 = 0xFF;
const STR_ESCAPE: u8 = 0x00;
const STR_ESCAPED_ZERO: u8 = 0xFF;
const STR_TERMINATOR: u8 = 0x01;
const SIGN_BIT: u64 = 1 << 63;

/// An encoded record key (or range bound). Byte order is key order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EncodedKey(Vec<u8>);

impl EncodedKey {
    /// Wraps bytes read back from a store; [`decode_key`] validates them.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The encoded bytes, by value.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// Lower-case hex of the bytes, for logs and cross-language test vectors.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }
}

impl AsRef<[u8]> for EncodedKey {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Encodes a complete record key of format `spec`.
///
/// `key` must be a JSON object with exactly the format's fields. Fails with
/// [`RecordError::KeyNotObject`], [`RecordError::UnexpectedKeyField`],
/// [`RecordError::MissingKeyField`] or the field errors of [`KeyValue::from_json`].
pub fn encode_key(spec: &FormatSpec, key: &Value) -> RecordResult<EncodedKey> {
    let values = key_values(spec, key)?;
    Ok(encode_values(&values))
}

/// Reads a complete key of format `spec` into typed field values, in field order.
pub fn key_values(spec: &FormatSpec, key: &Value) -> RecordResult<Vec<KeyValue>> {
    let object = key_object(spec, key)?;
    spec.key_fields()
        .iter()
        .map(|field| match object.get(field) {
            Some(value) => KeyValue::from_json(field, value),
            None => Err(RecordError::MissingKeyField {
                format: spec.name().to_owned(),
                field: field.clone(),
            }),
        })
        .collect()
}

/// Encodes typed field values in the given order.
pub fn encode_values(values: &[KeyValue]) -> EncodedKey {
    let mut bytes = Vec::with_capacity(values.len() * 9);
    for value in values {
        encode_value(value, &mut bytes);
    }
    EncodedKey(bytes)
}

/// Decodes a key of format `spec` back into its JSON object. Bounds come back as
/// the strings `"INF_MIN"` / `"INF_MAX"`.
pub fn decode_key(spec: &FormatSpec, bytes: &[u8]) -> RecordResult<Map<String, Value>> {
    let values = decode_values(spec, bytes)?;
    Ok(spec
        .key_fields()
        .iter()
        .zip(values)
        .map(|(field, value)| (field.clone(), value.to_json()))
        .collect())
}

/// Decodes a key of format `spec` into typed field values, in field order.
///
/// Fails with [`RecordError::TruncatedKey`], [`RecordError::BadKeyTag`],
/// [`RecordError::BadKeyEscape`], [`RecordError::KeyStringNotUtf8`] or
/// [`RecordError::TrailingKeyBytes`] on bytes that no key encodes to.
pub fn decode_values(spec: &FormatSpec, bytes: &[u8]) -> RecordResult<Vec<KeyValue>> {
    let mut offset = 0;
    let mut values = Vec::with_capacity(spec.key_fields().len());
    for field in spec.key_fields() {
        let (value, used) = decode_value(field, bytes, offset)?;
        values.push(value);
        offset += used;
    }
    match bytes.len().saturating_sub(offset) {
        0 => Ok(values),
        count => Err(RecordError::TrailingKeyBytes { count }),
    }
}

/// The key as a JSON object whose field names all belong to `spec`.
pub(crate) fn key_object<'a>(
    spec: &FormatSpec,
    key: &'a Value,
) -> RecordResult<&'a Map<String, Value>> {
    let object = key.as_object().ok_or(RecordError::KeyNotObject {
        found: json_kind(key),
    })?;
    if let Some(extra) = object
        .keys()
        .find(|name| spec.field_position(name).is_none())
    {
        return Err(RecordError::UnexpectedKeyField {
            format: spec.name().to_owned(),
            field: extra.clone(),
        });
    }
    Ok(object)
}

fn encode_value(value: &KeyValue, out: &mut Vec<u8>) {
    match value {
        KeyValue::Min => out.push(TAG_MIN),
        KeyValue::Int(number) => {
            out.push(TAG_INT);
            out.extend_from_slice(&((*number as u64) ^ SIGN_BIT).to_be_bytes());
        }
        KeyValue::Str(text) => {
            out.push(TAG_STR);
            for &byte in text.as_bytes() {
                out.push(byte);
                if byte == STR_ESCAPE {
                    out.push(STR_ESCAPED_ZERO);
                }
            }
            out.extend_from_slice(&[STR_ESCAPE, STR_TERMINATOR]);
        }
        KeyValue::Max => out.push(TAG_MAX),
    }
}

/// Decodes the field starting at `start`; returns it and the bytes it used.
fn decode_value(field: &str, bytes: &[u8], start: usize) -> RecordResult<(KeyValue, usize)> {
    let truncated = || RecordError::TruncatedKey {
        field: field.to_owned(),
    };
    let rest = bytes.get(start..).ok_or_else(truncated)?;
    let (&tag, body) = rest.split_first().ok_or_else(truncated)?;
    match tag {
        TAG_MIN => Ok((KeyValue::Min, 1)),
        TAG_MAX => Ok((KeyValue::Max, 1)),
        TAG_INT => {
            let raw: [u8; 8] = body
                .get(..8)
                .and_then(|slice| slice.try_into().ok())
                .ok_or_else(truncated)?;
            let number = (u64::from_be_bytes(raw) ^ SIGN_BIT) as i64;
            Ok((KeyValue::Int(number), 9))
        }
        TAG_STR => {
            let (text, used) = decode_string(field, body, start + 1)?;
            Ok((KeyValue::Str(text), 1 + used))
        }
        _ => Err(RecordError::BadKeyTag { tag, offset: start }),
    }
}

/// Decodes an escaped string body; `base` is the body's offset, for errors.
fn decode_string(field: &str, body: &[u8], base: usize) -> RecordResult<(String, usize)> {
    let mut text = Vec::new();
    let mut index = 0;
    loop {
        let byte = *body.get(index).ok_or_else(|| RecordError::TruncatedKey {
            field: field.to_owned(),
        })?;
        if byte != STR_ESCAPE {
            text.push(byte);
            index += 1;
            continue;
        }
        match body.get(index + 1) {
            Some(&STR_ESCAPED_ZERO) => {
                text.push(0);
                index += 2;
            }
            Some(&STR_TERMINATOR) => {
                let text = String::from_utf8(text).map_err(|_| RecordError::KeyStringNotUtf8 {
                    field: field.to_owned(),
                })?;
                return Ok((text, index + 2));
            }
            Some(_) => {
                return Err(RecordError::BadKeyEscape {
                    offset: base + index,
                });
            }
            None => {
                return Err(RecordError::TruncatedKey {
                    field: field.to_owned(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// The seed's putIotKV trip key.
    fn seed_trip_key() -> Value {
        json!({"SESSION_ID": 1, "START_TIME": 20160511071428_i64, "END_TIME": 20160511094623_i64})
    }

    /// Pinned encoding of the seed's trip key, reusable by other implementations.
    const SEED_TRIP_KEY_HEX: &str = "108000000000000001\
         1080001255fc19d4c4\
         1080001255fc1a2f5f";

    #[test]
    fn seed_trip_key_encodes_to_pinned_bytes() {
        let encoded = encode_key(&FormatSpec::trip_gps(), &seed_trip_key()).unwrap();
        assert_eq!(encoded.to_hex(), SEED_TRIP_KEY_HEX);
        assert_eq!(encoded.as_bytes().len(), 27);
    }

    #[test]
    fn seed_trip_key_decodes_back() {
        let spec = FormatSpec::trip_gps();
        let encoded = encode_key(&spec, &seed_trip_key()).unwrap();
        let decoded = decode_key(&spec, encoded.as_bytes()).unwrap();
        assert_eq!(Value::Object(decoded), seed_trip_key());
    }

    #[test]
    fn seed_carvio_and_vin_keys_encode_and_decode() {
        for (spec, key) in [
            (FormatSpec::carvio(), json!({"CARVIO_ID": 1})),
            (FormatSpec::vin_code(), json!({"VEHICLE_DATA": 1})),
        ] {
            let encoded = encode_key(&spec, &key).unwrap();
            assert_eq!(encoded.to_hex(), "108000000000000001");
            let decoded = decode_key(&spec, encoded.as_bytes()).unwrap();
            assert_eq!(Value::Object(decoded), key);
        }
    }

    #[test]
    fn field_encodings_are_pinned() {
        let hex = |values: &[KeyValue]| encode_values(values).to_hex();
        assert_eq!(hex(&[KeyValue::Min]), "00");
        assert_eq!(hex(&[KeyValue::Max]), "ff");
        assert_eq!(hex(&[KeyValue::Int(-1)]), "107fffffffffffffff");
        assert_eq!(hex(&[KeyValue::Int(0)]), "108000000000000000");
        assert_eq!(hex(&[KeyValue::Int(i64::MIN)]), "100000000000000000");
        assert_eq!(hex(&[KeyValue::Str("VIN".into())]), "2056494e0001");
        assert_eq!(hex(&[KeyValue::Str("a\0b".into())]), "206100ff620001");
        assert_eq!(hex(&[KeyValue::Str(String::new())]), "200001");
    }

    #[test]
    fn field_order_comes_from_the_format_not_the_object() {
        let spec = FormatSpec::custom("pair", ["B", "A"]).unwrap();
        let encoded = encode_key(&spec, &json!({"A": "x", "B": 2})).unwrap();
        assert_eq!(
            encoded.to_hex(),
            "1080000000000000022078 0001".replace(' ', "")
        );
    }

    #[test]
    fn integer_sorts_before_numeric_string() {
        let spec = FormatSpec::carvio();
        let int = encode_key(&spec, &json!({"CARVIO_ID": 1})).unwrap();
        let text = encode_key(&spec, &json!({"CARVIO_ID": "1"})).unwrap();
        assert!(int < text);
        let decoded = decode_key(&spec, text.as_bytes()).unwrap();
        assert_eq!(decoded.get("CARVIO_ID"), Some(&json!("1")));
    }

    #[test]
    fn missing_field_is_named() {
        let err = encode_key(
            &FormatSpec::trip_gps(),
            &json!({"SESSION_ID": 1, "START_TIME": 2}),
        )
        .unwrap_err();
        assert_eq!(
            err,
            RecordError::MissingKeyField {
                format: "trip-gps".into(),
                field: "END_TIME".into()
            }
        );
    }

    #[test]
    fn extra_field_is_named() {
        let err =
            encode_key(&FormatSpec::carvio(), &json!({"CARVIO_ID": 1, "VID": 7})).unwrap_err();
        assert_eq!(
            err,
            RecordError::UnexpectedKeyField {
                format: "carvio".into(),
                field: "VID".into()
            }
        );
    }

    #[test]
    fn float_field_is_named() {
        let mut key = seed_trip_key();
        key["START_TIME"] = json!(20160511071428.5);
        let err = encode_key(&FormatSpec::trip_gps(), &key).unwrap_err();
        assert_eq!(
            err,
            RecordError::UnsupportedKeyValue {
                field: "START_TIME".into(),
                found: "float"
            }
        );
    }

    #[test]
    fn non_object_key_is_refused() {
        let err = encode_key(&FormatSpec::carvio(), &json!([1])).unwrap_err();
        assert_eq!(err, RecordError::KeyNotObject { found: "array" });
    }

    #[test]
    fn decode_refuses_truncated_bytes() {
        let spec = FormatSpec::trip_gps();
        let encoded = encode_key(&spec, &seed_trip_key()).unwrap();
        let bytes = encoded.as_bytes();
        assert_eq!(
            decode_key(&spec, &bytes[..bytes.len() - 1]).unwrap_err(),
            RecordError::TruncatedKey {
                field: "END_TIME".into()
            }
        );
        assert_eq!(
            decode_key(&spec, &bytes[..9]).unwrap_err(),
            RecordError::TruncatedKey {
                field: "START_TIME".into()
            }
        );
        assert_eq!(
            decode_key(&FormatSpec::carvio(), &[0x20, b'a']).unwrap_err(),
            RecordError::TruncatedKey {
                field: "CARVIO_ID".into()
            }
        );
        assert_eq!(
            decode_key(&FormatSpec::carvio(), &[0x20, b'a', 0x00]).unwrap_err(),
            RecordError::TruncatedKey {
                field: "CARVIO_ID".into()
            }
        );
    }

    #[test]
    fn decode_refuses_unknown_tag() {
        assert_eq!(
            decode_key(&FormatSpec::carvio(), &[0x30]).unwrap_err(),
            RecordError::BadKeyTag {
                tag: 0x30,
                offset: 0
            }
        );
    }

    #[test]
    fn decode_refuses_bad_escape() {
        assert_eq!(
            decode_key(&FormatSpec::carvio(), &[0x20, b'a', 0x00, 0x02]).unwrap_err(),
            RecordError::BadKeyEscape { offset: 2 }
        );
    }

    #[test]
    fn decode_refuses_non_utf8_string() {
        assert_eq!(
            decode_key(&FormatSpec::carvio(), &[0x20, 0xC3, 0x00, 0x01]).unwrap_err(),
            RecordError::KeyStringNotUtf8 {
                field: "CARVIO_ID".into()
            }
        );
    }

    #[test]
    fn decode_refuses_trailing_bytes() {
        assert_eq!(
            decode_key(&FormatSpec::carvio(), &[0x00, 0xFF, 0xFF]).unwrap_err(),
            RecordError::TrailingKeyBytes { count: 2 }
        );
    }

    pub(crate) fn arb_key_value() -> impl Strategy<Value = KeyValue> {
        prop_oneof![
            1 => Just(KeyValue::Min),
            4 => any::<i64>().prop_map(KeyValue::Int),
            2 => (-3_i64..3).prop_map(KeyValue::Int),
            4 => "[a\\x00\\x01\\xff\u{e9}]{0,4}"
                .prop_filter("reserved bound names", |s| s != "INF_MIN" && s != "INF_MAX")
                .prop_map(KeyValue::Str),
            1 => Just(KeyValue::Max),
        ]
    }

    fn spec_of_len(len: usize) -> FormatSpec {
        FormatSpec::custom("prop", (0..len).map(|i| format!("F{i}"))).unwrap()
    }

    fn json_key(spec: &FormatSpec, values: &[KeyValue]) -> Value {
        Value::Object(
            spec.key_fields()
                .iter()
                .cloned()
                .zip(values.iter().map(KeyValue::to_json))
                .collect(),
        )
    }

    proptest! {
        #[test]
        fn round_trip(values in proptest::collection::vec(arb_key_value(), 1..6)) {
            let spec = spec_of_len(values.len());
            let key = json_key(&spec, &values);
            let encoded = encode_key(&spec, &key).unwrap();
            prop_assert_eq!(decode_values(&spec, encoded.as_bytes()).unwrap(), values);
            prop_assert_eq!(Value::Object(decode_key(&spec, encoded.as_bytes()).unwrap()), key);
        }

        #[test]
        fn byte_order_is_field_order(
            pairs in proptest::collection::vec((arb_key_value(), arb_key_value()), 1..5),
        ) {
            let spec = spec_of_len(pairs.len());
            let (a, b): (Vec<KeyValue>, Vec<KeyValue>) = pairs.into_iter().unzip();
            let encoded_a = encode_key(&spec, &json_key(&spec, &a)).unwrap();
            let encoded_b = encode_key(&spec, &json_key(&spec, &b)).unwrap();
            prop_assert_eq!(encoded_a.cmp(&encoded_b), a.cmp(&b));
        }
    }
}
