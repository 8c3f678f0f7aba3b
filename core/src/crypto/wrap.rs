//! RSA-OAEP(SHA-256) key wrapping: a 32-byte symmetric key encrypted to one RSA public
//! key, tagged with the SHA-256 fingerprint of that key's PKCS#1 DER encoding so the
//! wrong private key is refused before any RSA work.
//!
//! Encoding of a [`WrappedKey`] (used inside envelopes and grants):
//!
//! ```text
//! recipient fingerprint   32 bytes   SHA-256(PKCS#1 DER of the RSA public key)
//! ciphertext length        2 bytes   u16 big-endian, N > 0
//! ciphertext               N bytes   RSA-OAEP(SHA-256, MGF1-SHA-256, label) of the key
//! ```
//!
//! The OAEP label names the kind of key wrapped ([`KeyKind`]), so a wrapped record key
//! can never be unwrapped as an epoch key or the other way round.

use rsa::{Oaep, PrivateKey, PublicKey};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::codec::Reader;
use super::error::{CryptoError, CryptoResult};
use super::rng::os_seeded_rng;
use super::symmetric::{EpochKey, RecordKey, SYMMETRIC_KEY_LEN};

/// Length of an RSA public-key fingerprint.
pub const FINGERPRINT_LEN: usize = 32;

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

/// SHA-256 of the PKCS#1 DER encoding of an RSA public key (the wallet's fingerprint).
pub(crate) fn rsa_fingerprint(public: &PublicKey) -> CryptoResult<[u8; FINGERPRINT_LEN]> {
    crate::keys::rsa_fingerprint_bytes(public).map_err(|_| CryptoError::PublicKeyEncoding)
}

/// A symmetric key encrypted to one RSA public key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WrappedKey {
    /// SHA-256 of the recipient's PKCS#1 DER public key.
    pub recipient_fingerprint: [u8; FINGERPRINT_LEN],
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
        let recipient_fingerprint = rsa_fingerprint(recipient)?;
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
        Ok(Self {
            recipient_fingerprint,
            ciphertext,
        })
    }

    /// Unwraps a key of kind `kind`: `WrongKey` if the fingerprint is not `private`'s,
    /// `UnwrapFailed` if OAEP decryption fails.
    fn unwrap(&self, kind: KeyKind, private: &PrivateKey) -> CryptoResult<[u8; SYMMETRIC_KEY_LEN]> {
        if rsa_fingerprint(private.as_public_key())? != self.recipient_fingerprint {
            return Err(CryptoError::WrongKey);
        }
        let mut rng = os_seeded_rng()?;
        let plain = Zeroizing::new(
            private
                .decrypt_blinded(
                    &mut rng,
                    Oaep::<Sha256>::new_with_label(kind.oaep_label()),
                    &self.ciphertext,
                )
                .map_err(|_| CryptoError::UnwrapFailed)?,
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

    /// Recovers a wrapped epoch key with the recipient's private key.
    pub fn unwrap_epoch_key(&self, private: &PrivateKey) -> CryptoResult<EpochKey> {
        let mut bytes = Zeroizing::new(self.unwrap(KeyKind::Epoch, private)?);
        Ok(EpochKey::from_bytes(std::mem::take(&mut *bytes)))
    }

    /// Recovers a wrapped record key with the recipient's private key.
    pub fn unwrap_record_key(&self, private: &PrivateKey) -> CryptoResult<RecordKey> {
        let mut bytes = Zeroizing::new(self.unwrap(KeyKind::Record, private)?);
        Ok(RecordKey::from_bytes(std::mem::take(&mut *bytes)))
    }

    /// Whether this key was wrapped for `public`.
    pub fn is_for(&self, public: &PublicKey) -> CryptoResult<bool> {
        Ok(rsa_fingerprint(public)? == self.recipient_fingerprint)
    }

    /// Appends the canonical encoding (fingerprint, u16 length, ciphertext).
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) -> CryptoResult<()> {
        let len = u16::try_from(self.ciphertext.len()).map_err(|_| CryptoError::FieldTooLong {
            field: "wrapped key ciphertext",
            len: self.ciphertext.len(),
        })?;
        out.extend_from_slice(&self.recipient_fingerprint);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.ciphertext);
        Ok(())
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> CryptoResult<Vec<u8>> {
        let mut out = Vec::with_capacity(FINGERPRINT_LEN + 2 + self.ciphertext.len());
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// Reads one wrapped key from the front of `reader`.
    pub(crate) fn decode_from(reader: &mut Reader<'_>) -> CryptoResult<Self> {
        let recipient_fingerprint = reader.take_array::<FINGERPRINT_LEN>()?;
        let len = reader.take_u16()?;
        if len == 0 {
            return Err(CryptoError::Malformed("empty wrapped key ciphertext"));
        }
        let ciphertext = reader.take(usize::from(len))?.to_vec();
        Ok(Self {
            recipient_fingerprint,
            ciphertext,
        })
    }

    /// Parses exactly one wrapped key; trailing bytes are `Malformed`.
    pub fn from_bytes(bytes: &[u8]) -> CryptoResult<Self> {
        let mut reader = Reader::new(bytes);
        let wrapped = Self::decode_from(&mut reader)?;
        if reader.remaining_len() != 0 {
            return Err(CryptoError::Malformed("trailing bytes after wrapped key"));
        }
        Ok(wrapped)
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
        assert!(wrapped.is_for(owner().as_public_key())?);
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
    fn wrong_private_key_is_refused_by_fingerprint() -> CryptoResult<()> {
        let wrapped = WrappedKey::wrap_epoch_key(&EpochKey::generate()?, owner().as_public_key())?;
        assert_eq!(
            wrapped.unwrap_epoch_key(grantee()).err(),
            Some(CryptoError::WrongKey)
        );
        Ok(())
    }

    #[test]
    fn forged_fingerprint_still_fails_at_oaep() -> CryptoResult<()> {
        let mut wrapped =
            WrappedKey::wrap_epoch_key(&EpochKey::generate()?, owner().as_public_key())?;
        wrapped.recipient_fingerprint = rsa_fingerprint(grantee().as_public_key())?;
        assert_eq!(
            wrapped.unwrap_epoch_key(grantee()).err(),
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
            Some(CryptoError::UnwrapFailed)
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
            Some(CryptoError::UnwrapFailed)
        );
        Ok(())
    }

    #[test]
    fn fingerprint_is_sha256_of_pkcs1_der() -> CryptoResult<()> {
        let public = owner().as_public_key();
        let der = rsa::pkcs1::EncodeRsaPublicKey::to_pkcs1_der(public)
            .map_err(|_| CryptoError::PublicKeyEncoding)?;
        assert_eq!(der.as_bytes().len(), 270);
        assert_eq!(
            rsa_fingerprint(public)?,
            crate::crypto::HashFunc::Sha256.digest(der.as_bytes())
        );
        assert_ne!(
            rsa_fingerprint(public)?,
            rsa_fingerprint(grantee().as_public_key())?
        );
        Ok(())
    }

    #[test]
    fn encoding_round_trips_and_rejects_bad_input() -> CryptoResult<()> {
        let wrapped = WrappedKey {
            recipient_fingerprint: [0xAA; 32],
            ciphertext: vec![1, 2, 3],
        };
        let bytes = wrapped.to_bytes()?;
        assert_eq!(
            hex::encode(&bytes),
            format!("{}0003010203", "aa".repeat(32))
        );
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
        let mut empty = vec![0xAA; 32];
        empty.extend_from_slice(&[0, 0]);
        assert!(matches!(
            WrappedKey::from_bytes(&empty),
            Err(CryptoError::Malformed(_))
        ));
        Ok(())
    }
}
