//! Reading any JSON (a transaction, a request body) the way an adversary without a
//! format specification does: every leaf by path; strings that are addresses of the
//! chain, compressed public keys (whose P2WPKH address anyone can derive), hex blobs and
//! long tokens; every number.

use std::collections::BTreeSet;

use carchain_core::protocol::Network;
use carchain_core::protocol::signing::p2wpkh_address;
use serde_json::Value;

/// The leaves of one JSON document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields {
    /// Addresses it names, and the addresses of the public keys it carries.
    pub addresses: BTreeSet<String>,
    /// Strings of 16 characters or more that are not addresses: (path, value).
    pub tokens: Vec<(String, String)>,
    /// Hex strings decoded: (path, bytes).
    pub blobs: Vec<(String, Vec<u8>)>,
    /// Non-negative integers: (path, value).
    pub numbers: Vec<(String, u64)>,
}

/// Whether `text` looks like a bech32 address of a CarChain network.
pub fn is_address(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["bcrt1", "tb1", "bc1"]
        .iter()
        .any(|hrp| lower.starts_with(hrp))
        && (14..=90).contains(&text.len())
        && lower
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

/// Finds every address-looking word in `bytes` (ASCII scan), e.g. in a path or body.
pub fn addresses_in(bytes: &[u8]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut start = None;
    for (i, &b) in bytes.iter().chain(std::iter::once(&b' ')).enumerate() {
        let word = b.is_ascii_alphanumeric();
        match (start, word) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                if let Ok(text) = std::str::from_utf8(&bytes[s..i])
                    && is_address(text)
                {
                    found.insert(text.to_owned());
                }
                start = None;
            }
            _ => {}
        }
    }
    found
}

/// The P2WPKH address of a compressed public key given in hex, if it is one.
fn key_address(text: &str, network: Network) -> Option<String> {
    if text.len() != 66 || !(text.starts_with("02") || text.starts_with("03")) {
        return None;
    }
    let bytes = hex::decode(text).ok()?;
    let key = bitcoin::secp256k1::PublicKey::from_slice(&bytes).ok()?;
    Some(p2wpkh_address(&key, network))
}

/// All leaves of `value`.
pub fn fields(value: &Value, network: Network) -> Fields {
    let mut out = Fields::default();
    walk(value, "", network, &mut out);
    out
}

fn walk(value: &Value, path: &str, network: Network, out: &mut Fields) {
    match value {
        Value::Object(map) => {
            for (name, inner) in map {
                walk(inner, &format!("{path}/{name}"), network, out);
            }
        }
        Value::Array(items) => {
            // Arrays of small numbers are byte strings in some encodings.
            if !items.is_empty() && items.iter().all(|v| v.as_u64().is_some_and(|n| n < 256)) {
                let bytes = items.iter().filter_map(Value::as_u64).map(|n| n as u8);
                out.blobs.push((format!("{path}[]"), bytes.collect()));
                return;
            }
            for item in items {
                walk(item, &format!("{path}[]"), network, out);
            }
        }
        Value::String(text) => {
            if is_address(text) {
                out.addresses.insert(text.clone());
                return;
            }
            if let Some(address) = key_address(text, network) {
                out.addresses.insert(address);
            }
            if text.len() >= 2
                && text.len() % 2 == 0
                && text.bytes().all(|b| b.is_ascii_hexdigit())
                && let Ok(bytes) = hex::decode(text)
            {
                out.blobs.push((path.to_owned(), bytes));
            }
            if text.len() >= 16 {
                out.tokens.push((path.to_owned(), text.clone()));
            }
        }
        Value::Number(n) => {
            if let Some(n) = n.as_u64() {
                out.numbers.push((path.to_owned(), n));
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_are_classified_without_knowing_the_format() {
        let key = "02".to_owned() + &"11".repeat(32);
        let doc = serde_json::json!({
            "signer": key,
            "body": {"address": "bcrt1qexampleexampleexample0", "key": "10800000000000002a",
                     "size": 1234, "format": "trip-gps"},
            "chain_id": "carchain-adversary-chain",
        });
        // Not a valid curve point: no derived address, but still a blob and a token.
        let fields = fields(&doc, Network::Regtest);
        assert!(fields.addresses.contains("bcrt1qexampleexampleexample0"));
        assert!(
            fields
                .blobs
                .iter()
                .any(|(p, b)| p == "/body/key" && b.len() == 9)
        );
        assert!(fields.numbers.contains(&("/body/size".to_owned(), 1234)));
        assert!(fields.tokens.iter().any(|(p, _)| p == "/chain_id"));
        assert_eq!(
            addresses_in(b"GET /v1/kv/bcrt1qexampleexampleexample0/10?x=1"),
            ["bcrt1qexampleexampleexample0".to_owned()].into()
        );
    }
}
