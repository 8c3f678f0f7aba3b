//! RSA-OAEP(SHA-256) key wrapping: a 32-byte symmetric key encrypted to one RSA public
//! key. The wrapped key does not say whose key it is for: a reader finds its own
//! wrapped keys by trial (OAEP under the wrong private key fails), and the owner's
//! [`super::EpochKeyCache`] keeps that to one RSA decryption per epoch.
//!
//! Encoding of a [`WrappedKey`] (envelope v2, grant v2, stored epochs):
//!
//! ```text
//! ciphertext length        2 bytes   u16 big-endian, N > 0
//! ciphertext               N bytes   RSA-OAEP(SHA-256, MGF1-SHA-256, label) of the key
//! ```
//!
//! The legacy encoding (envelope v1, grant v1) prefixed the recipient's 32-byte
//! fingerprint (SHA-256 of its PKCS#1 DER public key), a constant that named the
//! owner on every stored record; it is still read, never written.
//!
//! The OAEP label names the kind of key wrapped ([`KeyKind`]), so a wrapped record key
//! can never be unwrapped as an epoch key or the other way round.

use rsa::traits::PublicKeyParts;
use rsa::{Oaep, PrivateKey, PublicKey};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::codec::Reader;
use super::error::{CryptoError, CryptoResult};
use super::rng::os_seeded_rng;
use super::symmetric::{EpochKey, RecordKey, SYMMETRIC_KEY_LEN};

/// Length of the recipient fingerprint of the legacy (v1) encoding.
pub const LEGACY_FINGERPRINT_LEN: usize = 32;

/// Which key a wrapped ciphertext carries; it selects the OAEP label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// An epoch key (owner's daily key or a subscriber channel key).
    Epoch,
    /// A single record's key (grants).
    Record,
}

impl KeyKind {
    fn oaep_label(self) -> &'static [u8] {
        match self {
            KeyKind::Epoch => b"carchain/wrap/epoch-key/v1",
            KeyKind::Record => b"carchain/wrap/record-key/v1",
        }
    }
}

/// A symmetric key encrypted to one RSA public key (which one, it does not say).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WrappedKey {
    /// The RSA-OAEP ciphertext (modulus-sized).
    pub ciphertext: Vec<u8>,
}

impl WrappedKey {
    /// Wraps `key` of kind `kind` for `recipient`.
    fn wrap(
        key: &[u8; SYMMETRIC_KEY_LEN],
        kind: KeyKind,
        recipient: &PublicKey,
    ) -> CryptoResult<Self> {
        let mut rng = os_seeded_rng()?;
        let ciphertext = recipient
            .encrypt(
                &mut rng,
                Oaep::<Sha256>::new_with_label(kind.oaep_label()),
                key,
            )
            .map_err(|_| CryptoError::WrapFailed)?;
        if ciphertext.is_empty() || ciphertext.len() > usize::from(u16::MAX) {
            return Err(CryptoError::WrapFailed);
        }
        Ok(Self { ciphertext })
    }

    /// Unwraps a key of kind `kind` by trial: `UnwrapFailed` if the ciphertext cannot be
    /// one for `private` (its length is not the modulus length), `WrongKey` if OAEP
    /// decryption fails (wrapped for another key, another kind, or altered: without a
    /// recipient tag these cannot be told apart).
    fn unwrap(&self, kind: KeyKind, private: &PrivateKey) -> CryptoResult<[u8; SYMMETRIC_KEY_LEN]> {
        if self.ciphertext.len() != private.size() {
            return Err(CryptoError::UnwrapFailed);
        }
        let mut rng = os_seeded_rng()?;
        let plain = Zeroizing::new(
            private
                .decrypt_blinded(
                    &mut rng,
                    Oaep::<Sha256>::new_with_label(kind.oaep_label()),
                    &self.ciphertext,
                )
                .map_err(|_| CryptoError::WrongKey)?,
        );
        let mut key = [0u8; SYMMETRIC_KEY_LEN];
        if plain.len() != SYMMETRIC_KEY_LEN {
            return Err(CryptoError::BadKeyLength(plain.len()));
        }
        key.copy_from_slice(&plain);
        Ok(key)
    }

    /// Wraps an epoch key for `recipient` (the owner, or a channel subscriber).
    pub fn wrap_epoch_key(key: &EpochKey, recipient: &PublicKey) -> CryptoResult<Self> {
        Self::wrap(key.as_bytes(), KeyKind::Epoch, recipient)
    }

    /// Wraps a record key for `recipient` (a grantee).
    pub fn wrap_record_key(key: &RecordKey, recipient: &PublicKey) -> CryptoResult<Self> {
        Self::wrap(key.as_bytes(), KeyKind::Record, recipient)
    }

    /// Recovers a wrapped epoch key with the recipient's private key (by trial:
    /// `WrongKey` when it is not this key's).
    pub fn unwrap_epoch_key(&self, private: &PrivateKey) -> CryptoResult<EpochKey> {
        let mut bytes = Zeroizing::new(self.unwrap(KeyKind::Epoch, private)?);
        Ok(EpochKey::from_bytes(std::mem::take(&mut *bytes)))
    }

    /// Recovers a wrapped record key with the recipient's private key (by trial).
    pub fn unwrap_record_key(&self, private: &PrivateKey) -> CryptoResult<RecordKey> {
        let mut bytes = Zeroizing::new(self.unwrap(KeyKind::Record, private)?);
        Ok(RecordKey::from_bytes(std::mem::take(&mut *bytes)))
    }

    fn ciphertext_len(&self) -> CryptoResult<u16> {
        u16::try_from(self.ciphertext.len()).map_err(|_| CryptoError::FieldTooLong {
            field: "wrapped key ciphertext",
            len: self.ciphertext.len(),
        })
    }

    /// Appends the canonical encoding (u16 length, ciphertext).
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) -> CryptoResult<()> {
        let len = self.ciphertext_len()?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.ciphertext);
        Ok(())
    }

    /// Appends the legacy (v1) encoding with `fingerprint` in front; only to re-encode
    /// a parsed v1 structure byte for byte.
    pub(crate) fn encode_legacy_into(
        &self,
        fingerprint: &[u8; LEGACY_FINGERPRINT_LEN],
        out: &mut Vec<u8>,
    ) -> CryptoResult<()> {
        out.extend_from_slice(fingerprint);
        self.encode_into(out)
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> CryptoResult<Vec<u8>> {
        let mut out = Vec::with_capacity(2 + self.ciphertext.len());
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// Reads one wrapped key (canonical encoding) from the front of `reader`.
    pub(crate) fn decode_from(reader: &mut Reader<'_>) -> CryptoResult<Self> {
        let len = reader.take_u16()?;
        if len == 0 {
            return Err(CryptoError::Malformed("empty wrapped key ciphertext"));
        }
        let ciphertext = reader.take(usize::from(len))?.to_vec();
        Ok(Self { ciphertext })
    }

    /// Reads one legacy (v1) wrapped key: the recipient fingerprint and the key.
    pub(crate) fn decode_legacy_from(
        reader: &mut Reader<'_>,
    ) -> CryptoResult<([u8; LEGACY_FINGERPRINT_LEN], Self)> {
        let fingerprint = reader.take_array::<LEGACY_FINGERPRINT_LEN>()?;
        Ok((fingerprint, Self::decode_from(reader)?))
    }

    /// Parses exactly one wrapped key in the canonical encoding; trailing bytes are
    /// `Malformed`.
    pub fn from_bytes(bytes: &[u8]) -> CryptoResult<Self> {
        let mut reader = Reader::new(bytes);
        let wrapped = Self::decode_from(&mut reader)?;
        if reader.remaining_len() != 0 {
            return Err(CryptoError::Malformed("trailing bytes after wrapped key"));
        }
        Ok(wrapped)
    }

    /// Parses a wrapped key stored before this version, in either encoding, for a
    /// recipient whose modulus is `modulus_len` bytes (an RSA ciphertext is exactly
    /// that long, which tells the two encodings apart: `2 + modulus_len` bytes is the
    /// canonical one, `34 + modulus_len` the legacy one with its fingerprint).
    pub fn from_stored_bytes(bytes: &[u8], modulus_len: usize) -> CryptoResult<Self> {
        if bytes.len() == LEGACY_FINGERPRINT_LEN + 2 + modulus_len {
            let mut reader = Reader::new(bytes);
            let (_, wrapped) = Self::decode_legacy_from(&mut reader)?;
            if reader.remaining_len() != 0 {
                return Err(CryptoError::Malformed("trailing bytes after wrapped key"));
            }
            return Ok(wrapped);
        }
        Self::from_bytes(bytes)
    }

    /// [`Self::from_stored_bytes`] for a recipient public key.
    pub fn from_stored_bytes_for(bytes: &[u8], recipient: &PublicKey) -> CryptoResult<Self> {
        Self::from_stored_bytes(bytes, recipient.size())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_keys::{grantee, owner};

    #[test]
    fn epoch_key_round_trips_through_rsa_oaep() -> CryptoResult<()> {
        let key = EpochKey::from_bytes([0x42; 32]);
        let wrapped = WrappedKey::wrap_epoch_key(&key, owner().as_public_key())?;
        assert_eq!(wrapped.ciphertext.len(), 256);
        assert_eq!(
            wrapped.unwrap_epoch_key(owner())?.as_bytes(),
            key.as_bytes()
        );
        Ok(())
    }

    #[test]
    fn wrapping_is_randomised() -> CryptoResult<()> {
        let key = RecordKey::from_bytes([1; 32]);
        let a = WrappedKey::wrap_record_key(&key, owner().as_public_key())?;
        let b = WrappedKey::wrap_record_key(&key, owner().as_public_key())?;
        assert_ne!(a.ciphertext, b.ciphertext);
        Ok(())
    }

    #[test]
    fn wrong_private_key_is_found_out_by_trial() -> CryptoResult<()> {
        let wrapped = WrappedKey::wrap_epoch_key(&EpochKey::generate()?, owner().as_public_key())?;
        assert_eq!(
            wrapped.unwrap_epoch_key(grantee()).err(),
            Some(CryptoError::WrongKey)
        );
        Ok(())
    }

    #[test]
    fn the_encoding_names_no_recipient() -> CryptoResult<()> {
        let key = EpochKey::generate()?;
        let wrapped = WrappedKey::wrap_epoch_key(&key, owner().as_public_key())?;
        let bytes = wrapped.to_bytes()?;
        assert_eq!(bytes.len(), 2 + 256);
        let fingerprint = crate::keys::rsa_fingerprint_bytes(owner().as_public_key())
            .map_err(|_| CryptoError::PublicKeyEncoding)?;
        assert!(
            !bytes
                .windows(8)
                .any(|w| fingerprint.windows(8).any(|f| f == w))
        );
        Ok(())
    }

    #[test]
    fn a_ciphertext_of_the_wrong_length_is_refused_before_rsa() -> CryptoResult<()> {
        let wrapped = WrappedKey {
            ciphertext: vec![1; 255],
        };
        assert_eq!(
            wrapped.unwrap_epoch_key(owner()).err(),
            Some(CryptoError::UnwrapFailed)
        );
        Ok(())
    }

    #[test]
    fn record_key_wrap_cannot_be_unwrapped_as_epoch_key() -> CryptoResult<()> {
        let wrapped =
            WrappedKey::wrap_record_key(&RecordKey::generate()?, owner().as_public_key())?;
        assert_eq!(
            wrapped.unwrap_epoch_key(owner()).err(),
            Some(CryptoError::WrongKey)
        );
        Ok(())
    }

    #[test]
    fn flipped_ciphertext_fails_to_unwrap() -> CryptoResult<()> {
        let mut wrapped =
            WrappedKey::wrap_epoch_key(&EpochKey::generate()?, owner().as_public_key())?;
        if let Some(byte) = wrapped.ciphertext.get_mut(100) {
            *byte ^= 0x01;
        }
        assert_eq!(
            wrapped.unwrap_epoch_key(owner()).err(),
            Some(CryptoError::WrongKey)
        );
        Ok(())
    }

    #[test]
    fn encoding_round_trips_and_rejects_bad_input() -> CryptoResult<()> {
        let wrapped = WrappedKey {
            ciphertext: vec![1, 2, 3],
        };
        let bytes = wrapped.to_bytes()?;
        assert_eq!(hex::encode(&bytes), "0003010203");
        assert_eq!(WrappedKey::from_bytes(&bytes)?, wrapped);
        for cut in 0..bytes.len() {
            assert!(matches!(
                WrappedKey::from_bytes(bytes.get(..cut).unwrap_or_default()),
                Err(CryptoError::Truncated { .. })
            ));
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(matches!(
            WrappedKey::from_bytes(&trailing),
            Err(CryptoError::Malformed(_))
        ));
        assert!(matches!(
            WrappedKey::from_bytes(&[0, 0]),
            Err(CryptoError::Malformed(_))
        ));
        Ok(())
    }

    #[test]
    fn stored_keys_of_either_encoding_parse_for_a_known_modulus() -> CryptoResult<()> {
        let key = EpochKey::generate()?;
        let wrapped = WrappedKey::wrap_epoch_key(&key, owner().as_public_key())?;
        let mut legacy = Vec::new();
        wrapped.encode_legacy_into(&[0xAA; 32], &mut legacy)?;
        assert_eq!(legacy.len(), 32 + 2 + 256);
        for stored in [wrapped.to_bytes()?, legacy] {
            let parsed = WrappedKey::from_stored_bytes_for(&stored, owner().as_public_key())?;
            assert_eq!(parsed, wrapped);
            assert_eq!(parsed.unwrap_epoch_key(owner())?.as_bytes(), key.as_bytes());
        }
        Ok(())
    }
}
