//! The key hierarchy: one [`EpochKey`] per data address and day, wrapped once for the
//! owner ([`SealingEpoch`]), and one [`RecordKey`] per record derived from it with
//! HKDF-SHA256 over the record's [`RecordContext`].
//!
//! ```text
//! RecordKey = HKDF-SHA256(ikm  = epoch key,
//!                         salt = "carchain/record-key/v1",
//!                         info = u32be(len) address || u32be(len) key bytes
//!                                || u32be(len) format name)      -> 32 bytes
//! ```

use std::fmt;

use hkdf::Hkdf;
use rsa::PublicKey;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::codec::put_len_prefixed;
use super::error::{CryptoError, CryptoResult};
use super::symmetric::{EpochKey, RecordKey, SYMMETRIC_KEY_LEN};
use super::wrap::WrappedKey;

/// HKDF salt of record-key derivation.
pub const RECORD_KEY_SALT: &[u8] = b"carchain/record-key/v1";

/// Where a record lives and how it is encoded: bound into its key and its envelope, so
/// a ciphertext moved to another address, key or format no longer opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordContext<'a> {
    /// The data address (a Bitcoin-format address string).
    pub address: &'a str,
    /// The record key's canonical (range-ordered) byte encoding.
    pub key_bytes: &'a [u8],
    /// The record format name, e.g. "trip-gps".
    pub format: &'a str,
}

impl RecordContext<'_> {
    /// `u32be(len) address || u32be(len) key bytes || u32be(len) format`.
    pub fn binding_bytes(&self) -> CryptoResult<Vec<u8>> {
        let mut out =
            Vec::with_capacity(12 + self.address.len() + self.key_bytes.len() + self.format.len());
        self.append_binding(&mut out)?;
        Ok(out)
    }

    /// Appends [`Self::binding_bytes`] to `out`.
    pub(crate) fn append_binding(&self, out: &mut Vec<u8>) -> CryptoResult<()> {
        put_len_prefixed(out, "address", self.address.as_bytes())?;
        put_len_prefixed(out, "key bytes", self.key_bytes)?;
        put_len_prefixed(out, "format", self.format.as_bytes())
    }
}

/// Derives the key of the record at `ctx` from its epoch key.
pub fn derive_record_key(epoch: &EpochKey, ctx: &RecordContext<'_>) -> CryptoResult<RecordKey> {
    let info = ctx.binding_bytes()?;
    let hkdf = Hkdf::<Sha256>::new(Some(RECORD_KEY_SALT), epoch.as_bytes());
    let mut okm = Zeroizing::new([0u8; SYMMETRIC_KEY_LEN]);
    hkdf.expand(&info, okm.as_mut_slice())
        .map_err(|_| CryptoError::KeyDerivationFailed)?;
    Ok(RecordKey::from_bytes(*okm))
}

/// What a car holds to seal one epoch's records: the epoch key and its wrapped form
/// for the owner, made once per (address, day).
#[derive(Clone)]
pub struct SealingEpoch {
    key: EpochKey,
    wrapped: WrappedKey,
}

impl SealingEpoch {
    /// A fresh epoch key, wrapped for the owner's RSA public key (one RSA encryption).
    pub fn new(owner: &PublicKey) -> CryptoResult<Self> {
        let key = EpochKey::generate()?;
        let wrapped = WrappedKey::wrap_epoch_key(&key, owner)?;
        Ok(Self { key, wrapped })
    }

    /// An epoch from a key and its already-wrapped form (for example, a key restored
    /// from the car's storage). The caller vouches that `wrapped` wraps `key`.
    pub fn from_parts(key: EpochKey, wrapped: WrappedKey) -> Self {
        Self { key, wrapped }
    }

    /// The epoch key.
    pub fn epoch_key(&self) -> &EpochKey {
        &self.key
    }

    /// The epoch key wrapped for the owner.
    pub fn wrapped_key(&self) -> &WrappedKey {
        &self.wrapped
    }
}

impl fmt::Debug for SealingEpoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealingEpoch")
            .field("key", &self.key)
            .field("wrapped_len", &self.wrapped.ciphertext.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_keys::owner;

    const ADDRESS: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

    fn fixed_epoch_key() -> EpochKey {
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::try_from(i).unwrap_or(0);
        }
        EpochKey::from_bytes(bytes)
    }

    fn ctx(key_bytes: &[u8]) -> RecordContext<'_> {
        RecordContext {
            address: ADDRESS,
            key_bytes,
            format: "trip-gps",
        }
    }

    #[test]
    fn binding_bytes_are_length_prefixed_fields() -> CryptoResult<()> {
        assert_eq!(
            hex::encode(ctx(&[1, 2, 3, 4, 5]).binding_bytes()?),
            "0000002c62637274317177353038643671656a7874646734793572337a6172766172793063\
             357877376b79677430383000000005010203040500000008747269702d677073"
        );
        Ok(())
    }

    /// Known-answer vectors computed independently with Python `cryptography`'s HKDF.
    #[test]
    fn record_key_derivation_matches_known_answers() -> CryptoResult<()> {
        let epoch = fixed_epoch_key();
        assert_eq!(
            hex::encode(derive_record_key(&epoch, &ctx(&[1, 2, 3, 4, 5]))?.as_bytes()),
            "286b6d44fbdf3ebe8861f992c3e75145904fb5d58c6e8975bacace2415bf25d9"
        );
        assert_eq!(
            hex::encode(derive_record_key(&epoch, &ctx(&[1, 2, 3, 4, 6]))?.as_bytes()),
            "7e8fad959ccbb2eefcd08ac025f3de31d3ff7d679a2a85110ab4d11657ecde16"
        );
        Ok(())
    }

    #[test]
    fn every_context_field_changes_the_record_key() -> CryptoResult<()> {
        let epoch = fixed_epoch_key();
        let base = RecordContext {
            address: "ab",
            key_bytes: b"c",
            format: "d",
        };
        // Same concatenation, different field boundaries: prefixes keep them apart.
        let shifted = RecordContext {
            address: "a",
            key_bytes: b"bc",
            format: "d",
        };
        let other_format = RecordContext {
            format: "e",
            ..base
        };
        let base_key = derive_record_key(&epoch, &base)?;
        assert_ne!(
            derive_record_key(&epoch, &shifted)?.as_bytes(),
            base_key.as_bytes()
        );
        assert_ne!(
            derive_record_key(&epoch, &other_format)?.as_bytes(),
            base_key.as_bytes()
        );
        let other_epoch = EpochKey::from_bytes([0xFF; 32]);
        assert_ne!(
            derive_record_key(&other_epoch, &base)?.as_bytes(),
            base_key.as_bytes()
        );
        Ok(())
    }

    #[test]
    fn sealing_epoch_wraps_its_key_for_the_owner() -> CryptoResult<()> {
        let epoch = SealingEpoch::new(owner().as_public_key())?;
        let recovered = epoch.wrapped_key().unwrap_epoch_key(owner())?;
        assert_eq!(recovered.as_bytes(), epoch.epoch_key().as_bytes());
        Ok(())
    }

    #[test]
    fn sealing_epoch_debug_hides_the_key() {
        let epoch = SealingEpoch::from_parts(
            EpochKey::from_bytes([0x5A; 32]),
            WrappedKey {
                ciphertext: vec![0x11; 3],
            },
        );
        let debug = format!("{epoch:?}");
        assert!(debug.contains("<redacted>"));
        assert!(!debug.contains("5a5a") && !debug.contains("90"));
        assert!(debug.contains("wrapped_len: 3"));
    }
}
