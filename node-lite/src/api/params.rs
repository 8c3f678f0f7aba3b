//! Parsing of path, query and header parameters (hex ids and keys, JSON bodies) into
//! typed values, with a clear [`ApiError`] for each bad input.

use axum::body::Bytes;
use axum::http::HeaderMap;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::service::ErrorCode;

/// Parses a 32-byte id (transaction, grant, request, escrow) from 64 hex digits.
pub fn parse_id(field: &str, text: &str) -> Result<[u8; 32], ApiError> {
    let bytes = parse_hex(field, text)?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| ApiError::invalid(format!("{field} must be 32 bytes (64 hex digits)")))
}

/// Parses bytes (a record key, a cursor) from hex digits.
pub fn parse_hex(field: &str, text: &str) -> Result<Vec<u8>, ApiError> {
    hex::decode(text).map_err(|_| ApiError::invalid(format!("{field} is not valid hex")))
}

/// Parses an optional hex header; an absent header is `None`, a malformed one an error.
pub fn optional_hex_header(headers: &HeaderMap, name: &str) -> Result<Option<Vec<u8>>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => {
            let text = value
                .to_str()
                .map_err(|_| ApiError::invalid(format!("header {name} is not text")))?;
            parse_hex(name, text.trim()).map(Some)
        }
    }
}

/// Parses an optional text header.
pub fn optional_text_header(headers: &HeaderMap, name: &str) -> Result<Option<String>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(|text| Some(text.trim().to_owned()))
            .map_err(|_| ApiError::invalid(format!("header {name} is not text"))),
    }
}

/// Parses an optional 32-byte id header.
pub fn optional_id_header(headers: &HeaderMap, name: &str) -> Result<Option<[u8; 32]>, ApiError> {
    match optional_hex_header(headers, name)? {
        None => Ok(None),
        Some(bytes) => <[u8; 32]>::try_from(bytes.as_slice())
            .map(Some)
            .map_err(|_| {
                ApiError::invalid(format!("header {name} must be 32 bytes (64 hex digits)"))
            }),
    }
}

/// Parses a JSON body of type `T`, whatever its content type; syntax and shape errors are
/// [`ErrorCode::MalformedJson`].
pub fn parse_json<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|err| {
        ApiError::new(
            ErrorCode::MalformedJson,
            format!("malformed JSON body: {err}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn ids_must_be_exactly_32_bytes_of_hex() {
        let good = "ab".repeat(32);
        assert_eq!(parse_id("tx id", &good).unwrap(), [0xab; 32]);
        assert_eq!(
            parse_id("tx id", "abcd").unwrap_err().code(),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            parse_id("tx id", &"zz".repeat(32)).unwrap_err().code(),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            parse_id("tx id", &"ab".repeat(33)).unwrap_err().code(),
            ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn hex_keys_decode_and_odd_length_is_refused() {
        assert_eq!(parse_hex("key", "00ff10").unwrap(), vec![0x00, 0xff, 0x10]);
        assert_eq!(parse_hex("key", "").unwrap(), Vec::<u8>::new());
        assert!(parse_hex("key", "abc").is_err());
    }

    #[test]
    fn headers_absent_present_and_malformed() {
        let mut headers = HeaderMap::new();
        assert_eq!(optional_id_header(&headers, "x-carchain-id").unwrap(), None);
        headers.insert(
            "x-carchain-id",
            HeaderValue::from_static(
                "0101010101010101010101010101010101010101010101010101010101010101",
            ),
        );
        assert_eq!(
            optional_id_header(&headers, "x-carchain-id").unwrap(),
            Some([1u8; 32])
        );
        headers.insert("x-carchain-id", HeaderValue::from_static("0101"));
        assert!(optional_id_header(&headers, "x-carchain-id").is_err());
        headers.insert("x-carchain-vid", HeaderValue::from_static(" VIN123 "));
        assert_eq!(
            optional_text_header(&headers, "x-carchain-vid")
                .unwrap()
                .as_deref(),
            Some("VIN123")
        );
    }

    #[test]
    fn json_errors_are_malformed_json() {
        let err = parse_json::<serde_json::Value>(&Bytes::from_static(b"{not json")).unwrap_err();
        assert_eq!(err.code(), ErrorCode::MalformedJson);
        let value: serde_json::Value = parse_json(&Bytes::from_static(b"{\"a\":1}")).unwrap();
        assert_eq!(value["a"], 1);
    }
}
