//! The versioned binary container of one encrypted record value.
//!
//! Envelope v2 (written), all integers big-endian, N = wrapped key ciphertext length,
//! K = sealed record key length (0, or the padded plaintext record key's length + 16):
//!
//! ```text
//! offset     size  field
//! 0          3     magic "CCE"
//! 3          1     version = 2
//! 4          1     suite = 1 (RSA-OAEP-SHA256 + HKDF-SHA256 + ChaCha20-Poly1305)
//! 5          2     wrapped epoch key: ciphertext length N (u16, N > 0)
//! 7          N     wrapped epoch key: RSA-OAEP ciphertext
//! 7+N        12    ChaCha20-Poly1305 nonce (random)
//! 19+N       2     sealed record key length K (u16; 0 = none)
//! 21+N       K     sealed record key: ChaCha20-Poly1305 of the plaintext key || tag
//! 21+N+K     P+16  AEAD ciphertext of the L-byte plaintext padded to P bytes || tag
//! ```
//!
//! The sealed record key carries the record's plaintext (range-ordered) key when the
//! ledger knows the record only by a keyed form of it (the keyed record keys of the record layer):
//! who holds the record key reads it without decrypting the payload. It is encrypted
//! under `HKDF-SHA256(ikm = record key, info = "carchain/envelope/v2/sealed-key")` with
//! the envelope's nonce (another key than the payload's, so the nonce is not reused
//! under one key) and associated data `"carchain/envelope/v2/key" || bytes 0..19+N ||
//! binding`, binding being `u32(len) address || u32(len) key bytes || u32(len) format`.
//!
//! Both encrypted fields are length-padded (see [`super::padding`]): the payload to its
//! Padmé length P (at most 12% more), the plaintext key to a multiple of 32 bytes, so
//! sizes do not single out one car's records.
//!
//! Nothing in it names its recipient or stays constant across records beyond magic,
//! version and suite: the owner finds the envelopes wrapped for it by trial (one RSA
//! decryption per epoch through [`EpochKeyCache`]).
//!
//! Envelope v1 (read only, records written before v2) had the recipient's 32-byte RSA
//! fingerprint (SHA-256 of its PKCS#1 DER public key) between the suite and the
//! wrapped key length, at offset 5, and the associated-data domain
//! `"carchain/envelope/v1"`.
//!
//! The header is everything before the payload's AEAD ciphertext. The AEAD key is the
//! record key derived from the epoch key and the [`RecordContext`]; the associated data
//! is `domain || header || binding` with domain `"carchain/envelope/v2"`, so an altered
//! header, or a ciphertext moved to another address, key or format, fails
//! authentication. The encoding is canonical: `from_bytes` followed by `to_bytes` gives
//! back the input (v1 included).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hkdf::Hkdf;
use rsa::PrivateKey;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::codec::Reader;
use super::epoch_cache::EpochKeyCache;
use super::error::{CryptoError, CryptoResult};
use super::hierarchy::{RecordContext, SealingEpoch, derive_record_key};
use super::padding::{pad_key, pad_payload, unpad};
use super::rng::os_random_bytes;
use super::symmetric::{EpochKey, RecordKey};
use super::wrap::{LEGACY_FINGERPRINT_LEN, WrappedKey};

/// The first three bytes of every envelope.
pub const ENVELOPE_MAGIC: [u8; 3] = *b"CCE";
/// The envelope version this build writes.
pub const ENVELOPE_VERSION: u8 = 2;
/// The legacy version this build still reads (it carried the recipient fingerprint).
pub const ENVELOPE_VERSION_V1: u8 = 1;
/// Suite 1: RSA-OAEP-SHA256 key wrap, HKDF-SHA256 record keys, ChaCha20-Poly1305.
pub const SUITE_RSA_OAEP_HKDF_CHACHA20POLY1305: u8 = 1;
/// ChaCha20-Poly1305 nonce length.
pub const NONCE_LEN: usize = 12;
/// Poly1305 tag length.
pub const TAG_LEN: usize = 16;
/// Domain tag that starts the associated data of a v2 envelope.
pub const ENVELOPE_AD_DOMAIN: &[u8] = b"carchain/envelope/v2";
/// Domain tag that starts the associated data of a v1 envelope.
pub const ENVELOPE_AD_DOMAIN_V1: &[u8] = b"carchain/envelope/v1";
/// Domain tag that starts the associated data of a v2 envelope's sealed record key.
pub const SEALED_KEY_AD_DOMAIN: &[u8] = b"carchain/envelope/v2/key";
/// HKDF info of the sealed record key's cipher key (from the record key).
pub const SEALED_KEY_INFO: &[u8] = b"carchain/envelope/v2/sealed-key";

/// One encrypted record value with the owner's wrapped epoch key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// `Some(recipient fingerprint)` for a parsed v1 envelope, `None` for v2.
    legacy_fingerprint: Option<[u8; LEGACY_FINGERPRINT_LEN]>,
    wrapped_epoch_key: WrappedKey,
    nonce: [u8; NONCE_LEN],
    /// The sealed plaintext record key with its tag (v2; empty when there is none).
    sealed_key: Vec<u8>,
    ciphertext: Vec<u8>,
}

/// Encrypts `plaintext` for the record at `ctx` under the day's epoch.
pub fn seal(
    plaintext: &[u8],
    ctx: &RecordContext<'_>,
    epoch: &SealingEpoch,
) -> CryptoResult<Envelope> {
    seal_with_fresh_nonce(plaintext, None, ctx, epoch)
}

/// [`seal`], with the record's plaintext key sealed beside the payload (for records the
/// ledger knows by a keyed form of their key: `ctx.key_bytes` is that keyed form).
pub fn seal_with_record_key(
    plaintext: &[u8],
    plain_key: &[u8],
    ctx: &RecordContext<'_>,
    epoch: &SealingEpoch,
) -> CryptoResult<Envelope> {
    seal_with_fresh_nonce(plaintext, Some(plain_key), ctx, epoch)
}

fn seal_with_fresh_nonce(
    plaintext: &[u8],
    plain_key: Option<&[u8]>,
    ctx: &RecordContext<'_>,
    epoch: &SealingEpoch,
) -> CryptoResult<Envelope> {
    seal_with_nonce(
        plaintext,
        plain_key,
        ctx,
        epoch.epoch_key(),
        epoch.wrapped_key(),
        os_random_bytes::<NONCE_LEN>()?,
    )
}

/// [`seal`] with a caller-chosen nonce (known-answer tests only need this).
pub(crate) fn seal_with_nonce(
    plaintext: &[u8],
    plain_key: Option<&[u8]>,
    ctx: &RecordContext<'_>,
    epoch_key: &EpochKey,
    wrapped_epoch_key: &WrappedKey,
    nonce: [u8; NONCE_LEN],
) -> CryptoResult<Envelope> {
    let record_key = derive_record_key(epoch_key, ctx)?;
    let mut envelope = Envelope {
        legacy_fingerprint: None,
        wrapped_epoch_key: wrapped_epoch_key.clone(),
        nonce,
        sealed_key: Vec::new(),
        ciphertext: Vec::new(),
    };
    if let Some(plain_key) = plain_key {
        let aad = envelope.sealed_key_associated_data(ctx)?;
        let padded_key = Zeroizing::new(pad_key(plain_key));
        let sealed = encrypt(&key_cipher(&record_key)?, nonce, &padded_key, &aad)?;
        if sealed.len() > usize::from(u16::MAX) {
            return Err(CryptoError::FieldTooLong {
                field: "sealed record key",
                len: sealed.len(),
            });
        }
        envelope.sealed_key = sealed;
    }
    let aad = envelope.associated_data(ctx)?;
    let padded = Zeroizing::new(pad_payload(plaintext));
    envelope.ciphertext = encrypt(&cipher(&record_key), nonce, &padded, &aad)?;
    Ok(envelope)
}

/// The cipher of a v2 envelope's sealed record key: its own key, from the record key.
fn key_cipher(record_key: &RecordKey) -> CryptoResult<ChaCha20Poly1305> {
    let mut okm = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(None, record_key.as_bytes())
        .expand(SEALED_KEY_INFO, okm.as_mut_slice())
        .map_err(|_| CryptoError::KeyDerivationFailed)?;
    Ok(ChaCha20Poly1305::new((&*okm).into()))
}

fn cipher(record_key: &RecordKey) -> ChaCha20Poly1305 {
    ChaCha20Poly1305::new(record_key.as_bytes().into())
}

/// `msg` encrypted with `cipher` under `nonce`, authenticating `aad`.
fn encrypt(
    cipher: &ChaCha20Poly1305,
    nonce: [u8; NONCE_LEN],
    msg: &[u8],
    aad: &[u8],
) -> CryptoResult<Vec<u8>> {
    cipher
        .encrypt(&Nonce::from(nonce), Payload { msg, aad })
        .map_err(|_| CryptoError::EncryptionFailed)
}

/// `msg` decrypted with `cipher` under `nonce`; a wrong key, nonce, `aad` or any
/// changed byte is `AuthenticationFailed`.
fn decrypt(
    cipher: &ChaCha20Poly1305,
    nonce: [u8; NONCE_LEN],
    msg: &[u8],
    aad: &[u8],
) -> CryptoResult<Vec<u8>> {
    cipher
        .decrypt(&Nonce::from(nonce), Payload { msg, aad })
        .map_err(|_| CryptoError::AuthenticationFailed)
}

impl Envelope {
    /// The format version: [`ENVELOPE_VERSION`], or [`ENVELOPE_VERSION_V1`] for an
    /// envelope written before it.
    pub fn version(&self) -> u8 {
        if self.legacy_fingerprint.is_some() {
            ENVELOPE_VERSION_V1
        } else {
            ENVELOPE_VERSION
        }
    }

    /// The cipher suite (always [`SUITE_RSA_OAEP_HKDF_CHACHA20POLY1305`]).
    pub fn suite(&self) -> u8 {
        SUITE_RSA_OAEP_HKDF_CHACHA20POLY1305
    }

    /// The epoch key wrapped for the owner.
    pub fn wrapped_epoch_key(&self) -> &WrappedKey {
        &self.wrapped_epoch_key
    }

    /// The AEAD nonce.
    pub fn nonce(&self) -> &[u8; NONCE_LEN] {
        &self.nonce
    }

    /// The AEAD ciphertext including its 16-byte tag.
    pub fn ciphertext(&self) -> &[u8] {
        &self.ciphertext
    }

    /// The bytes the sealed record key's associated data covers: magic, version,
    /// suite, (v1: recipient fingerprint,) wrapped epoch key, nonce.
    fn prefix_bytes(&self) -> CryptoResult<Vec<u8>> {
        let mut out = Vec::with_capacity(
            ENVELOPE_MAGIC.len() + 2 + 36 + self.wrapped_epoch_key.ciphertext.len() + NONCE_LEN,
        );
        out.extend_from_slice(&ENVELOPE_MAGIC);
        out.push(self.version());
        out.push(SUITE_RSA_OAEP_HKDF_CHACHA20POLY1305);
        match &self.legacy_fingerprint {
            Some(fingerprint) => self
                .wrapped_epoch_key
                .encode_legacy_into(fingerprint, &mut out)?,
            None => self.wrapped_epoch_key.encode_into(&mut out)?,
        }
        out.extend_from_slice(&self.nonce);
        Ok(out)
    }

    /// Header bytes (everything before the payload ciphertext): magic, version, suite,
    /// (v1: recipient fingerprint,) wrapped epoch key, nonce, (v2: sealed record key).
    pub fn header_bytes(&self) -> CryptoResult<Vec<u8>> {
        let mut out = self.prefix_bytes()?;
        if self.legacy_fingerprint.is_none() {
            let len =
                u16::try_from(self.sealed_key.len()).map_err(|_| CryptoError::FieldTooLong {
                    field: "sealed record key",
                    len: self.sealed_key.len(),
                })?;
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&self.sealed_key);
        }
        Ok(out)
    }

    fn sealed_key_associated_data(&self, ctx: &RecordContext<'_>) -> CryptoResult<Vec<u8>> {
        let mut aad = SEALED_KEY_AD_DOMAIN.to_vec();
        aad.extend_from_slice(&self.prefix_bytes()?);
        ctx.append_binding(&mut aad)?;
        Ok(aad)
    }

    fn associated_data(&self, ctx: &RecordContext<'_>) -> CryptoResult<Vec<u8>> {
        let domain = if self.legacy_fingerprint.is_some() {
            ENVELOPE_AD_DOMAIN_V1
        } else {
            ENVELOPE_AD_DOMAIN
        };
        let mut aad = domain.to_vec();
        aad.extend_from_slice(&self.header_bytes()?);
        ctx.append_binding(&mut aad)?;
        Ok(aad)
    }

    /// Whether the envelope carries a sealed plaintext record key.
    pub fn has_sealed_key(&self) -> bool {
        !self.sealed_key.is_empty()
    }

    /// The record's plaintext key sealed in the envelope, opened with the record key:
    /// `None` when the envelope has none (v1, or a record whose ledger key is its
    /// plaintext key), `AuthenticationFailed` for a wrong key, context or altered bytes.
    pub fn open_sealed_key(
        &self,
        ctx: &RecordContext<'_>,
        record_key: &RecordKey,
    ) -> CryptoResult<Option<Vec<u8>>> {
        if self.sealed_key.is_empty() {
            return Ok(None);
        }
        let aad = self.sealed_key_associated_data(ctx)?;
        let padded = decrypt(&key_cipher(record_key)?, self.nonce, &self.sealed_key, &aad)?;
        unpad(padded).map(Some)
    }

    /// The canonical encoding (see the module documentation).
    pub fn to_bytes(&self) -> CryptoResult<Vec<u8>> {
        let mut out = self.header_bytes()?;
        out.extend_from_slice(&self.ciphertext);
        Ok(out)
    }

    /// Parses an envelope: `Truncated` if it ends early, `Malformed` if the magic or
    /// the wrapped key is wrong, `UnsupportedVersion` / `UnsupportedSuite` otherwise.
    pub fn from_bytes(bytes: &[u8]) -> CryptoResult<Self> {
        let mut reader = Reader::new(bytes);
        if reader.take_array::<3>()? != ENVELOPE_MAGIC {
            return Err(CryptoError::Malformed(
                "not a CarChain envelope (bad magic)",
            ));
        }
        let version = reader.take_u8()?;
        if version != ENVELOPE_VERSION && version != ENVELOPE_VERSION_V1 {
            return Err(CryptoError::UnsupportedVersion(version));
        }
        let suite = reader.take_u8()?;
        if suite != SUITE_RSA_OAEP_HKDF_CHACHA20POLY1305 {
            return Err(CryptoError::UnsupportedSuite(suite));
        }
        let (legacy_fingerprint, wrapped_epoch_key) = if version == ENVELOPE_VERSION_V1 {
            let (fingerprint, wrapped) = WrappedKey::decode_legacy_from(&mut reader)?;
            (Some(fingerprint), wrapped)
        } else {
            (None, WrappedKey::decode_from(&mut reader)?)
        };
        let nonce = reader.take_array::<NONCE_LEN>()?;
        let sealed_key = if legacy_fingerprint.is_none() {
            let len = reader.take_u16()?;
            if len != 0 && usize::from(len) < TAG_LEN {
                return Err(CryptoError::Malformed(
                    "sealed record key shorter than its tag",
                ));
            }
            reader.take(usize::from(len))?.to_vec()
        } else {
            Vec::new()
        };
        let ciphertext = reader.remaining();
        if ciphertext.len() < TAG_LEN {
            return Err(CryptoError::Truncated {
                needed: TAG_LEN,
                available: ciphertext.len(),
            });
        }
        Ok(Self {
            legacy_fingerprint,
            wrapped_epoch_key,
            nonce,
            sealed_key,
            ciphertext: ciphertext.to_vec(),
        })
    }

    /// Decrypts with the record's own key (a grantee's path).
    pub fn open_with_record_key(
        &self,
        ctx: &RecordContext<'_>,
        record_key: &RecordKey,
    ) -> CryptoResult<Vec<u8>> {
        let aad = self.associated_data(ctx)?;
        let opened = decrypt(&cipher(record_key), self.nonce, &self.ciphertext, &aad)?;
        if self.legacy_fingerprint.is_some() {
            // v1 payloads were not padded.
            return Ok(opened);
        }
        unpad(opened)
    }

    /// Decrypts with the epoch key (a subscriber's path, or a car reading back).
    pub fn open_with_epoch_key(
        &self,
        ctx: &RecordContext<'_>,
        epoch_key: &EpochKey,
    ) -> CryptoResult<Vec<u8>> {
        self.open_with_record_key(ctx, &derive_record_key(epoch_key, ctx)?)
    }

    /// Decrypts with the owner's RSA private key; the epoch key comes from `cache`,
    /// so all records of one epoch cost a single RSA decryption.
    pub fn open_with_owner_key(
        &self,
        ctx: &RecordContext<'_>,
        owner: &PrivateKey,
        cache: &mut EpochKeyCache,
    ) -> CryptoResult<Vec<u8>> {
        let epoch_key = cache.epoch_key(&self.wrapped_epoch_key, owner)?;
        self.open_with_epoch_key(ctx, &epoch_key)
    }
}

#[cfg(test)]
mod tests;
