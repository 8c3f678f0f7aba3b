//! Records across the FFI: lenient value parsing (the seed's `=` for `:`) and the
//! range-ordered key encoding of the built-in formats, as hex.

use crate::error::CarChainError;
use carchain_core::record::{
    FormatRegistry, decode_key, encode_key, parse_value as core_parse_value, value_format,
};
use serde_json::Value;

/// A record value parsed leniently and returned as canonical JSON text, with its
/// optional `format` field.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ParsedValue {
    /// The value as standard JSON.
    pub json: String,
    /// The value's `format` field, when present.
    pub format: Option<String>,
}

/// Parses a record value: a JSON object, accepting `=` for `:` outside strings.
#[uniffi::export]
pub fn parse_value(text: String) -> Result<ParsedValue, CarChainError> {
    let value = core_parse_value(&text)?;
    let format = value_format(&value).map(str::to_owned);
    let json = serde_json::to_string(&value)
        .map_err(|_| CarChainError::new("record.not_serialisable", "value cannot be re-encoded"))?;
    Ok(ParsedValue { json, format })
}

/// Encodes the JSON `key_json` of a built-in format (`trip-gps`, `carvio`, `vin-code`)
/// to its range-ordered bytes, as lower-case hex.
#[uniffi::export]
pub fn encode_key_hex(format: String, key_json: String) -> Result<String, CarChainError> {
    let registry = FormatRegistry::with_builtins();
    let spec = registry.get(&format)?;
    let key: Value = serde_json::from_str(&key_json).map_err(|error| {
        CarChainError::new(
            "record.malformed_json",
            format!(
                "the key is not JSON (line {}, column {})",
                error.line(),
                error.column()
            ),
        )
    })?;
    Ok(encode_key(spec, &key)?.to_hex())
}

/// Decodes hex key bytes of a built-in format back to the key as JSON text.
#[uniffi::export]
pub fn decode_key_hex(format: String, key_hex: String) -> Result<String, CarChainError> {
    let registry = FormatRegistry::with_builtins();
    let spec = registry.get(&format)?;
    let bytes = hex::decode(key_hex.trim())
        .map_err(|_| CarChainError::new("record.invalid_hex", "the key is not hexadecimal"))?;
    let key = decode_key(spec, &bytes)?;
    serde_json::to_string(&Value::Object(key))
        .map_err(|_| CarChainError::new("record.not_serialisable", "key cannot be re-encoded"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trip::tests::{SEED_KEY, SEED_VALUE};

    const SEED_TRIP_KEY_HEX: &str = "1080000000000000011080001255fc19d4c41080001255fc1a2f5f";

    #[test]
    fn seed_value_with_equals_parses_with_its_format() {
        let parsed = parse_value(SEED_VALUE.into()).unwrap();
        assert_eq!(parsed.format.as_deref(), Some("trip-gps"));
        let value: Value = serde_json::from_str(&parsed.json).unwrap();
        assert_eq!(value["len"], 10);
    }

    #[test]
    fn seed_trip_key_encodes_to_the_pinned_hex_and_back() {
        let hex = encode_key_hex("trip-gps".into(), SEED_KEY.into()).unwrap();
        assert_eq!(hex, SEED_TRIP_KEY_HEX);
        let back = decode_key_hex("trip-gps".into(), hex).unwrap();
        let back: Value = serde_json::from_str(&back).unwrap();
        let original: Value = serde_json::from_str(SEED_KEY).unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn bad_inputs_have_codes() {
        assert_eq!(
            parse_value("{\"a\": ".into()).unwrap_err().code(),
            "record.malformed_json"
        );
        assert_eq!(
            parse_value("[1, 2]".into()).unwrap_err().code(),
            "record.value_not_object"
        );
        assert_eq!(
            encode_key_hex("nope".into(), SEED_KEY.into())
                .unwrap_err()
                .code(),
            "record.unknown_format"
        );
        assert_eq!(
            encode_key_hex("trip-gps".into(), "{".into())
                .unwrap_err()
                .code(),
            "record.malformed_json"
        );
        assert_eq!(
            encode_key_hex("trip-gps".into(), r#"{"SESSION_ID":1}"#.into())
                .unwrap_err()
                .code(),
            "record.missing_key_field"
        );
        assert_eq!(
            decode_key_hex("trip-gps".into(), "zz".into())
                .unwrap_err()
                .code(),
            "record.invalid_hex"
        );
        assert_eq!(
            decode_key_hex("trip-gps".into(), "1080".into())
                .unwrap_err()
                .code(),
            "record.truncated_key"
        );
    }
}
