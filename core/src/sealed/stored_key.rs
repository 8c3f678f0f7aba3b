//! Stored record keys: what the ledger and the nodes see of a car's record key.
//!
//! A record key's range-ordered encoding names its session counters and times, so a
//! car's records are not registered under it. The ledger's `RecordPut.key` and the
//! node's KV key are its deterministic encryption instead:
//!
//! ```text
//! K          = HKDF-SHA256(ikm = pool seed, salt = "carchain/stored-key/v1",
//!                          info = address)                        -> 64 bytes
//! stored key = AES-SIV (RFC 5297, CMAC-AES-256) under K of the plaintext key bytes,
//!              associated data ["carchain/stored-key/v1"]         -> 16 + n bytes
//! ```
//!
//! Deterministic, so a retried put carries the same key (idempotent) and address + key
//! stays unique on the ledger; keyed by the pool seed and the address, so only the car
//! and its owner (and an auditor the owner disclosed the pool to) compute or read it,
//! and the stored keys of consecutive sessions share no order and no prefix. The
//! plaintext key also travels sealed in the envelope (see [`crate::crypto::envelope`])
//! for grantees and subscribers, who hold a record or epoch key but not the pool seed.

use std::fmt;

use aes_siv::aead::KeyInit;
use aes_siv::siv::Aes256Siv;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::crypto::CryptoError;
use crate::pool::PoolSeed;

/// HKDF salt of the stored-key cipher key and the AES-SIV associated data.
pub const STORED_KEY_DOMAIN: &[u8] = b"carchain/stored-key/v1";
/// Length the SIV adds to a plaintext key.
pub const STORED_KEY_OVERHEAD: usize = 16;
/// An end bound (inclusive) above every stored key and every range-ordered key, for
/// reading all of an address's records by range: stored keys are opaque bytes, any of
/// which may start with `0xFF`.
pub const STORED_KEYS_END: &[u8] = &[0xFF; 64];

/// The stored-key cipher of one pool address. Secret: `Debug` shows nothing of it.
pub struct StoredKeyCipher {
    key: Zeroizing<[u8; 64]>,
}

impl StoredKeyCipher {
    /// The cipher of `address` under the pool whose seed is `pool_seed`.
    pub fn new(pool_seed: &PoolSeed, address: &str) -> Result<Self, CryptoError> {
        let mut key = Zeroizing::new([0u8; 64]);
        Hkdf::<Sha256>::new(Some(STORED_KEY_DOMAIN), pool_seed.as_bytes())
            .expand(address.as_bytes(), key.as_mut_slice())
            .map_err(|_| CryptoError::KeyDerivationFailed)?;
        Ok(Self { key })
    }

    fn siv(&self) -> Aes256Siv {
        Aes256Siv::new((&*self.key).into())
    }

    /// The stored key of the range-ordered plaintext key `plain`.
    pub fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.siv()
            .encrypt([STORED_KEY_DOMAIN], plain)
            .map_err(|_| CryptoError::EncryptionFailed)
    }

    /// The plaintext key inside `stored`: `AuthenticationFailed` when `stored` is not a
    /// stored key of this address (for example a key registered in plaintext before
    /// stored keys existed).
    pub fn open(&self, stored: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if stored.len() < STORED_KEY_OVERHEAD {
            return Err(CryptoError::AuthenticationFailed);
        }
        self.siv()
            .decrypt([STORED_KEY_DOMAIN], stored)
            .map_err(|_| CryptoError::AuthenticationFailed)
    }

    /// The range-ordered key of a record registered under `stored`: its decryption, or
    /// `stored` itself for a record registered in plaintext before stored keys existed.
    pub fn plain_key(&self, stored: &[u8]) -> Vec<u8> {
        self.open(stored).unwrap_or_else(|_| stored.to_vec())
    }
}

impl fmt::Debug for StoredKeyCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoredKeyCipher([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{FormatSpec, encode_key};
    use serde_json::json;

    const ADDRESS: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

    fn seed(byte: u8) -> PoolSeed {
        PoolSeed::from_bytes([byte; 32])
    }

    fn trip_key(session: i64) -> Vec<u8> {
        encode_key(
            &FormatSpec::trip_gps(),
            &json!({"SESSION_ID": session, "START_TIME": 240_501_080_000i64,
                    "END_TIME": 240_501_083_000i64}),
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .into_bytes()
    }

    /// Known answer computed independently with Python `cryptography` (HKDF-SHA256 and
    /// AESSIV) from the documented construction.
    #[test]
    fn stored_key_matches_the_known_answer() -> Result<(), CryptoError> {
        let cipher = StoredKeyCipher::new(&seed(7), ADDRESS)?;
        let plain = trip_key(42);
        assert_eq!(
            hex::encode(&plain),
            "10800000000000002a1080000037fefb3fc01080000037fefb4b78"
        );
        let stored = cipher.seal(&plain)?;
        assert_eq!(hex::encode(&stored), KNOWN_STORED_KEY);
        assert_eq!(cipher.open(&stored)?, plain);
        Ok(())
    }

    const KNOWN_STORED_KEY: &str =
        "69980a2cd129357e19ede0b28cc2ccee5be562c019d7b2c3e2311ca34cbf26bcf5c64ea5f60fca56415806";

    #[test]
    fn deterministic_per_address_and_pool() -> Result<(), CryptoError> {
        let plain = trip_key(1);
        let cipher = StoredKeyCipher::new(&seed(1), ADDRESS)?;
        assert_eq!(cipher.seal(&plain)?, cipher.seal(&plain)?);
        assert_eq!(
            cipher.seal(&plain)?.len(),
            plain.len() + STORED_KEY_OVERHEAD
        );
        let other_address = StoredKeyCipher::new(&seed(1), "bcrt1qother")?;
        let other_pool = StoredKeyCipher::new(&seed(2), ADDRESS)?;
        assert_ne!(other_address.seal(&plain)?, cipher.seal(&plain)?);
        assert_ne!(other_pool.seal(&plain)?, cipher.seal(&plain)?);
        // Another address's cipher does not open it; a plaintext key reads as itself.
        assert_eq!(
            other_address.open(&cipher.seal(&plain)?),
            Err(CryptoError::AuthenticationFailed)
        );
        assert_eq!(cipher.plain_key(&plain), plain);
        assert!(cipher.seal(&plain)?.as_slice() <= STORED_KEYS_END);
        Ok(())
    }

    /// Consecutive sessions' stored keys share no order and no common prefix: sorting
    /// them says nothing about the sessions' order.
    #[test]
    fn consecutive_sessions_share_no_prefix_or_order() -> Result<(), CryptoError> {
        let cipher = StoredKeyCipher::new(&seed(9), ADDRESS)?;
        let stored: Vec<Vec<u8>> = (1..=64)
            .map(|session| cipher.seal(&trip_key(session)))
            .collect::<Result<_, _>>()?;
        let common_prefix =
            |a: &[u8], b: &[u8]| a.iter().zip(b).take_while(|(x, y)| x == y).count();
        let longest = stored
            .windows(2)
            .map(|pair| common_prefix(&pair[0], &pair[1]))
            .max()
            .unwrap_or(0);
        assert!(
            longest <= 2,
            "consecutive stored keys share {longest} bytes"
        );
        let ascending = stored.windows(2).filter(|p| p[0] < p[1]).count();
        // In order for 63 of 63 pairs with plaintext keys; about half with stored keys.
        assert!(
            (16..=47).contains(&ascending),
            "{ascending} of 63 pairs ascend"
        );
        Ok(())
    }

    #[test]
    fn debug_shows_no_key() -> Result<(), CryptoError> {
        let cipher = StoredKeyCipher::new(&seed(0x5A), ADDRESS)?;
        assert_eq!(format!("{cipher:?}"), "StoredKeyCipher([REDACTED])");
        Ok(())
    }
}
