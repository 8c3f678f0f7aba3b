//! The per-address record index kept in the state tree: how many records an address
//! holds and an order-independent digest of their keys. A reader that fetched every
//! record of an address recomputes both and so detects a node that dropped one (a range
//! read alone cannot: absence from a page proves nothing).
//!
//! digest = XOR over the address's keys of SHA-256(`"carchain/address-index/v1"` ||
//! bytes(key)). Keys are unique per address, so no two records cancel out, and leaving
//! any set of records out changes the digest except with negligible probability.

use serde::{Deserialize, Serialize};

use super::codec::{Writer, canonical_struct};
use super::hashing::sha256;
use super::serde_hex;

/// Domain tag of a key's contribution to the digest.
pub const ADDRESS_INDEX_DOMAIN: &[u8] = b"carchain/address-index/v1";

/// The records registered under one data address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressIndex {
    /// Number of registered records.
    pub count: u64,
    /// XOR of every key's contribution.
    #[serde(with = "serde_hex::fixed")]
    pub keys_digest: [u8; 32],
}
canonical_struct!(AddressIndex { count, keys_digest });

/// One key's contribution to an [`AddressIndex`] digest.
pub fn key_contribution(key: &[u8]) -> [u8; 32] {
    let mut w = Writer::new();
    w.raw(ADDRESS_INDEX_DOMAIN);
    w.bytes(key);
    sha256(&[&w.into_bytes()])
}

impl AddressIndex {
    /// The index after registering `key`.
    pub fn with_key(self, key: &[u8]) -> Self {
        let mut digest = self.keys_digest;
        for (d, c) in digest.iter_mut().zip(key_contribution(key)) {
            *d ^= c;
        }
        AddressIndex {
            count: self.count.saturating_add(1),
            keys_digest: digest,
        }
    }

    /// The index of exactly `keys` (a reader's recomputation).
    pub fn of_keys<'a>(keys: impl IntoIterator<Item = &'a [u8]>) -> Self {
        keys.into_iter()
            .fold(AddressIndex::default(), |index, key| index.with_key(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Canonical;

    #[test]
    fn order_does_not_matter_and_omissions_show() {
        let keys: [&[u8]; 3] = [b"a", b"bb", b"ccc"];
        let forward = AddressIndex::of_keys(keys);
        let backward = AddressIndex::of_keys(keys.iter().rev().copied());
        assert_eq!(forward, backward);
        assert_eq!(forward.count, 3);
        let missing = AddressIndex::of_keys([keys[0], keys[2]]);
        assert_ne!(missing, forward);
        // Same count, another key in place of one: the digest differs.
        let swapped = AddressIndex::of_keys([keys[0], keys[1], b"ddd".as_slice()]);
        assert_eq!(swapped.count, forward.count);
        assert_ne!(swapped.keys_digest, forward.keys_digest);
    }

    #[test]
    fn canonical_layout_is_pinned() {
        let index = AddressIndex::default().with_key(b"k");
        let bytes = index.to_canonical();
        assert_eq!(bytes.len(), 8 + 32);
        assert_eq!(&bytes[..8], &1u64.to_be_bytes());
        assert_eq!(
            AddressIndex::from_canonical(&bytes).expect("decodes"),
            index
        );
        assert_eq!(
            hex::encode(key_contribution(b"k")),
            hex::encode(sha256(&[ADDRESS_INDEX_DOMAIN, &[0, 0, 0, 1], b"k"]))
        );
    }
}
