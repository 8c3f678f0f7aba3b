//! The owner's request inbox: a public mailbox address derived from the owner's
//! identity address, where a provider leaves the id of every request it sends.
//!
//! Inbox key = the first valid secp256k1 secret among
//! `SHA-256("carchain/request-inbox/v1" || u8(counter) || owner_address)`, counter from
//! 0; the inbox is its P2WPKH address. Anyone can compute the key, so anyone can leave a
//! note (and pays the put fee from the inbox account, funded just before): an entry is
//! only a pointer — record format [`INBOX_FORMAT`], key `{"REQ": "<request id hex>"}`,
//! value the 32-byte id — and the wallet believes nothing in it until the request is
//! proven on the ledger, addressed to it, from a registered provider. Because the key
//! determines the value, someone who squats an entry cannot change what it points to.

use bitcoin::secp256k1::SecretKey;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::keys::Network;
use crate::protocol::signing::{p2wpkh_address, public_key_of};
use crate::record::{FormatSpec, RecordError, encode_key};

/// Why an inbox key, address or entry key could not be made. The inbox is shared by
/// the wallet, providers and the node, so it has an error of its own.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// None of the 256 derivation attempts gave a valid secp256k1 secret.
    #[error("no inbox key for this address")]
    NoKey,
    /// The entry's record key could not be encoded.
    #[error(transparent)]
    Record(#[from] RecordError),
}

crate::error_code::error_codes!(InboxError {
    NoKey => "inbox.no_key",
    Record => inner,
});

/// Result of inbox derivations.
pub type InboxResult<T> = Result<T, InboxError>;

/// Record format of inbox entries.
pub const INBOX_FORMAT: &str = "carchain-request-inbox";
/// Domain tag of the inbox key derivation.
pub const INBOX_DOMAIN: &[u8] = b"carchain/request-inbox/v1";

/// The inbox's signing key for `owner_address` (public by design).
pub fn inbox_key(owner_address: &str) -> InboxResult<SecretKey> {
    for counter in 0..=u8::MAX {
        let digest: [u8; 32] = Sha256::new()
            .chain_update(INBOX_DOMAIN)
            .chain_update([counter])
            .chain_update(owner_address.as_bytes())
            .finalize()
            .into();
        if let Ok(secret) = SecretKey::from_slice(&digest) {
            return Ok(secret);
        }
    }
    Err(InboxError::NoKey)
}

/// The inbox address of `owner_address`.
pub fn inbox_address(owner_address: &str, network: Network) -> InboxResult<String> {
    Ok(p2wpkh_address(
        &public_key_of(&inbox_key(owner_address)?),
        network,
    ))
}

/// The inbox entry format.
pub fn inbox_spec() -> InboxResult<FormatSpec> {
    Ok(FormatSpec::custom(INBOX_FORMAT, vec!["REQ".to_owned()])?)
}

/// The record key of the inbox entry for `request_id`.
pub fn inbox_record_key(request_id: &[u8; 32]) -> InboxResult<Vec<u8>> {
    Ok(encode_key(&inbox_spec()?, &json!({"REQ": hex::encode(request_id)}))?.into_bytes())
}

/// The request id an inbox entry key points to, if it is one.
pub fn request_id_of_entry(key: &[u8]) -> Option<[u8; 32]> {
    let spec = inbox_spec().ok()?;
    let fields = crate::record::decode_key(&spec, key).ok()?;
    let text = fields.get("REQ")?.as_str()?;
    let mut id = [0u8; 32];
    hex::decode_to_slice(text, &mut id).ok()?;
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

    #[test]
    fn inbox_key_is_the_pinned_hash_of_the_owner_address() {
        let expected: [u8; 32] = Sha256::new()
            .chain_update(b"carchain/request-inbox/v1\x00")
            .chain_update(OWNER.as_bytes())
            .finalize()
            .into();
        let key = inbox_key(OWNER).expect("key");
        assert_eq!(key.secret_bytes(), expected);
        let address = inbox_address(OWNER, Network::Regtest).expect("address");
        assert!(address.starts_with("bcrt1q"), "{address}");
        assert_ne!(
            address,
            inbox_address("bcrt1qother", Network::Regtest).expect("other")
        );
    }

    #[test]
    fn entry_keys_point_back_to_their_request() {
        let id = [0x5a; 32];
        let key = inbox_record_key(&id).expect("key");
        assert_eq!(request_id_of_entry(&key), Some(id));
        assert_eq!(request_id_of_entry(b"not a key"), None);
        let other = encode_key(&inbox_spec().expect("spec"), &json!({"REQ": "zz"}))
            .expect("key")
            .into_bytes();
        assert_eq!(request_id_of_entry(&other), None);
    }
}
