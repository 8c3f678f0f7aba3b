//! Serde helpers that carry byte fields as lowercase hex strings in the JSON form.
//!
//! Use with `#[serde(with = "serde_hex::...")]` on the field.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

fn decode_hex<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    deserializer.deserialize_str(HexVisitor)
}

/// Hex text to bytes, straight from the input's string (no intermediate `String`).
struct HexVisitor;

impl serde::de::Visitor<'_> for HexVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a hex string")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Vec<u8>, E> {
        let invalid = |err: hex::FromHexError| E::custom(format!("invalid hex: {err}"));
        if !text.len().is_multiple_of(2) {
            return Err(invalid(hex::FromHexError::OddLength));
        }
        let mut bytes = vec![0; text.len() / 2];
        hex::decode_to_slice(text, &mut bytes).map_err(invalid)?;
        Ok(bytes)
    }
}

fn to_array<E: serde::de::Error, const N: usize>(bytes: &[u8]) -> Result<[u8; N], E> {
    <[u8; N]>::try_from(bytes)
        .map_err(|_| E::custom(format!("expected {N} bytes of hex, got {}", bytes.len())))
}

/// Variable-length bytes as hex.
pub mod bytes {
    use super::*;

    /// Serializes as hex.
    pub fn serialize<S: Serializer>(value: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(value))
    }

    /// Parses hex.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        decode_hex(deserializer)
    }
}

/// Fixed-size byte arrays (hashes, ids) as hex of exactly `N` bytes.
pub mod fixed {
    use super::*;

    /// Serializes as hex.
    pub fn serialize<S: Serializer, const N: usize>(
        value: &[u8; N],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(value))
    }

    /// Parses hex of exactly `N` bytes.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<[u8; N], D::Error> {
        to_array(&decode_hex(deserializer)?)
    }
}

/// Optional fixed-size byte arrays as hex or `null`.
pub mod opt_fixed {
    use super::*;

    /// Serializes as hex or `null`.
    pub fn serialize<S: Serializer, const N: usize>(
        value: &Option<[u8; N]>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(bytes) => serializer.serialize_some(&hex::encode(bytes)),
            None => serializer.serialize_none(),
        }
    }

    /// Parses hex of exactly `N` bytes or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<Option<[u8; N]>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(None),
            Some(text) => {
                let bytes = hex::decode(&text)
                    .map_err(|err| D::Error::custom(format!("invalid hex: {err}")))?;
                Ok(Some(to_array(&bytes)?))
            }
        }
    }
}

/// Lists of 32-byte hashes as a list of hex strings.
pub mod vec_fixed {
    use super::*;
    use serde::ser::SerializeSeq;

    /// Serializes as a list of hex strings.
    pub fn serialize<S: Serializer, const N: usize>(
        value: &[[u8; N]],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(value.len()))?;
        for item in value {
            seq.serialize_element(&hex::encode(item))?;
        }
        seq.end()
    }

    /// Parses a list of hex strings of exactly `N` bytes each.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<Vec<[u8; N]>, D::Error> {
        Vec::<String>::deserialize(deserializer)?
            .iter()
            .map(|text| {
                let bytes = hex::decode(text)
                    .map_err(|err| D::Error::custom(format!("invalid hex: {err}")))?;
                to_array(&bytes)
            })
            .collect()
    }
}

/// Compressed secp256k1 public keys as 33-byte hex.
pub mod pubkey {
    use super::*;
    use bitcoin::secp256k1::PublicKey;

    /// Serializes as hex of the 33-byte compressed form.
    pub fn serialize<S: Serializer>(value: &PublicKey, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(value.serialize()))
    }

    /// Parses hex of a valid compressed key.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<PublicKey, D::Error> {
        let bytes: [u8; 33] = to_array(&decode_hex(deserializer)?)?;
        PublicKey::from_slice(&bytes).map_err(|_| D::Error::custom("invalid secp256k1 public key"))
    }
}

/// Optional compressed public keys as hex or `null`.
pub mod opt_pubkey {
    use super::*;
    use bitcoin::secp256k1::PublicKey;

    /// Serializes as hex or `null`.
    pub fn serialize<S: Serializer>(
        value: &Option<PublicKey>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(key) => serializer.serialize_some(&hex::encode(key.serialize())),
            None => serializer.serialize_none(),
        }
    }

    /// Parses hex of a valid compressed key, or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<PublicKey>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(None),
            Some(text) => {
                let bytes = hex::decode(&text)
                    .map_err(|err| D::Error::custom(format!("invalid hex: {err}")))?;
                let array: [u8; 33] = to_array(&bytes)?;
                PublicKey::from_slice(&array)
                    .map(Some)
                    .map_err(|_| D::Error::custom("invalid secp256k1 public key"))
            }
        }
    }
}

/// Compact low-S ECDSA signatures as 64-byte hex.
pub mod signature {
    use super::*;
    use bitcoin::secp256k1::ecdsa::Signature;

    /// Serializes as hex of the 64-byte compact form.
    pub fn serialize<S: Serializer>(value: &Signature, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(value.serialize_compact()))
    }

    /// Parses hex of a valid low-S compact signature.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Signature, D::Error> {
        let bytes: [u8; 64] = to_array(&decode_hex(deserializer)?)?;
        crate::protocol::signing::signature_from_compact(&bytes).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Sample {
        #[serde(with = "super::bytes")]
        bytes: Vec<u8>,
        #[serde(with = "super::fixed")]
        id: [u8; 2],
    }

    #[test]
    fn hex_round_trips_from_text_and_from_a_buffered_value() {
        let sample = Sample {
            bytes: vec![0, 0xab, 0xff],
            id: [1, 2],
        };
        let text = serde_json::to_string(&sample).unwrap_or_default();
        assert_eq!(text, r#"{"bytes":"00abff","id":"0102"}"#);
        let parsed: Sample = serde_json::from_str(&text).unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(parsed, sample);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let buffered: Sample = serde_json::from_value(value).unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(buffered, sample);
        let upper: Sample = serde_json::from_str(r#"{"bytes":"00ABFF","id":"0102"}"#)
            .unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(upper, sample);
    }

    #[test]
    fn bad_hex_is_refused_with_its_reason() {
        let error = |text: &str| {
            serde_json::from_str::<Sample>(text)
                .err()
                .map(|err| err.to_string())
                .unwrap_or_default()
        };
        assert!(
            error(r#"{"bytes":"abc","id":"0102"}"#)
                .starts_with("invalid hex: Odd number of digits")
        );
        assert!(
            error(r#"{"bytes":"zz","id":"0102"}"#)
                .starts_with("invalid hex: Invalid character 'z'")
        );
        assert!(
            error(r#"{"bytes":"00","id":"010203"}"#).starts_with("expected 2 bytes of hex, got 3")
        );
        assert!(error(r#"{"bytes":7,"id":"0102"}"#).contains("expected a hex string"));
    }
}
