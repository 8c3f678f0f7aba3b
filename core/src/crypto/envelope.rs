//! Envelope v1: the versioned binary container of one encrypted record value.
//!
//! Byte layout (all integers big-endian; N = wrapped key ciphertext length):
//!
//! ```text
//! offset   size  field
//! 0        3     magic "CCE"
//! 3        1     version = 1
//! 4        1     suite = 1 (RSA-OAEP-SHA256 + HKDF-SHA256 + ChaCha20-Poly1305)
//! 5        32    wrapped epoch key: recipient fingerprint (SHA-256 of PKCS#1 DER)
//! 37       2     wrapped epoch key: ciphertext length N (u16, N > 0)
//! 39       N     wrapped epoch key: RSA-OAEP ciphertext
//! 39+N     12    ChaCha20-Poly1305 nonce (random)
//! 51+N     L+16  AEAD ciphertext of the L-byte value || 16-byte tag
//! ```
//!
//! The header is bytes `0 .. 51+N` (everything before the AEAD ciphertext). The AEAD
//! key is the record key derived from the epoch key and the [`RecordContext`]; the
//! associated data is
//! `"carchain/envelope/v1" || header || u32(len) address || u32(len) key bytes ||
//! u32(len) format`, so an altered header, or a ciphertext moved to another address,
//! key or format, fails authentication. The encoding is canonical: `from_bytes`
//! followed by `to_bytes` gives back the input.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use rsa::PrivateKey;

use super::codec::Reader;
use super::epoch_cache::EpochKeyCache;
use super::error::{CryptoError, CryptoResult};
use super::hierarchy::{RecordContext, SealingEpoch, derive_record_key};
use super::rng::os_random_bytes;
use super::symmetric::{EpochKey, RecordKey};
use super::wrap::WrappedKey;

/// The first three bytes of every envelope.
pub const ENVELOPE_MAGIC: [u8; 3] = *b"CCE";
/// The only envelope version this build reads and writes.
pub const ENVELOPE_VERSION: u8 = 1;
/// Suite 1: RSA-OAEP-SHA256 key wrap, HKDF-SHA256 record keys, ChaCha20-Poly1305.
pub const SUITE_RSA_OAEP_HKDF_CHACHA20POLY1305: u8 = 1;
/// ChaCha20-Poly1305 nonce length.
pub const NONCE_LEN: usize = 12;
/// Poly1305 tag length.
pub const TAG_LEN: usize = 16;
/// Domain tag that starts the associated data.
pub const ENVELOPE_AD_DOMAIN: &[u8] = b"carchain/envelope/v1";

/// One encrypted record value with the owner's wrapped epoch key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    wrapped_epoch_key: WrappedKey,
    nonce: [u8; NONCE_LEN],
    ciphertext: Vec<u8>,
}

/// Encrypts `plaintext` for the record at `ctx` under the day's epoch.
pub fn seal(
    plaintext: &[u8],
    ctx: &RecordContext<'_>,
    epoch: &SealingEpoch,
) -> CryptoResult<Envelope> {
    seal_with_nonce(
        plaintext,
        ctx,
        epoch.epoch_key(),
        epoch.wrapped_key(),
        os_random_bytes::<NONCE_LEN>()?,
    )
}

/// [`seal`] with a caller-chosen nonce (known-answer tests only need this).
pub(crate) fn seal_with_nonce(
    plaintext: &[u8],
    ctx: &RecordContext<'_>,
    epoch_key: &EpochKey,
    wrapped_epoch_key: &WrappedKey,
    nonce: [u8; NONCE_LEN],
) -> CryptoResult<Envelope> {
    let record_key = derive_record_key(epoch_key, ctx)?;
    let mut envelope = Envelope {
        wrapped_epoch_key: wrapped_epoch_key.clone(),
        nonce,
        ciphertext: Vec::new(),
    };
    let aad = envelope.associated_data(ctx)?;
    envelope.ciphertext = cipher(&record_key)
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .map_err(|_| CryptoError::EncryptionFailed)?;
    Ok(envelope)
}

fn cipher(record_key: &RecordKey) -> ChaCha20Poly1305 {
    ChaCha20Poly1305::new(record_key.as_bytes().into())
}

impl Envelope {
    /// The format version (always [`ENVELOPE_VERSION`] for a parsed envelope).
    pub fn version(&self) -> u8 {
        ENVELOPE_VERSION
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

    /// Header bytes: magic, version, suite, wrapped epoch key, nonce.
    pub fn header_bytes(&self) -> CryptoResult<Vec<u8>> {
        let mut out = Vec::with_capacity(
            ENVELOPE_MAGIC.len() + 2 + 34 + self.wrapped_epoch_key.ciphertext.len() + NONCE_LEN,
        );
        out.extend_from_slice(&ENVELOPE_MAGIC);
        out.push(ENVELOPE_VERSION);
        out.push(SUITE_RSA_OAEP_HKDF_CHACHA20POLY1305);
        self.wrapped_epoch_key.encode_into(&mut out)?;
        out.extend_from_slice(&self.nonce);
        Ok(out)
    }

    fn associated_data(&self, ctx: &RecordContext<'_>) -> CryptoResult<Vec<u8>> {
        let mut aad = ENVELOPE_AD_DOMAIN.to_vec();
        aad.extend_from_slice(&self.header_bytes()?);
        ctx.append_binding(&mut aad)?;
        Ok(aad)
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
        if version != ENVELOPE_VERSION {
            return Err(CryptoError::UnsupportedVersion(version));
        }
        let suite = reader.take_u8()?;
        if suite != SUITE_RSA_OAEP_HKDF_CHACHA20POLY1305 {
            return Err(CryptoError::UnsupportedSuite(suite));
        }
        let wrapped_epoch_key = WrappedKey::decode_from(&mut reader)?;
        let nonce = reader.take_array::<NONCE_LEN>()?;
        let ciphertext = reader.remaining();
        if ciphertext.len() < TAG_LEN {
            return Err(CryptoError::Truncated {
                needed: TAG_LEN,
                available: ciphertext.len(),
            });
        }
        Ok(Self {
            wrapped_epoch_key,
            nonce,
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
        cipher(record_key)
            .decrypt(
                &Nonce::from(self.nonce),
                Payload {
                    msg: &self.ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::AuthenticationFailed)
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
mod tests {
    use super::*;
    use crate::crypto::test_keys::{grantee, owner};
    use proptest::prelude::*;

    const ADDRESS: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
    const KEY_BYTES: &[u8] = &[1, 2, 3, 4, 5];

    fn ctx() -> RecordContext<'static> {
        RecordContext {
            address: ADDRESS,
            key_bytes: KEY_BYTES,
            format: "trip-gps",
        }
    }

    fn owner_epoch() -> CryptoResult<SealingEpoch> {
        SealingEpoch::new(owner().as_public_key())
    }

    fn counting_epoch_key() -> EpochKey {
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::try_from(i).unwrap_or(0);
        }
        EpochKey::from_bytes(bytes)
    }

    #[test]
    fn round_trips_empty_one_byte_and_30_kib_values() -> CryptoResult<()> {
        let epoch = owner_epoch()?;
        let mut cache = EpochKeyCache::new();
        let large: Vec<u8> = (0..30 * 1024u32).map(|i| (i % 251) as u8).collect();
        for plaintext in [Vec::new(), vec![0x5A], large] {
            let envelope = seal(&plaintext, &ctx(), &epoch)?;
            assert_eq!(envelope.ciphertext().len(), plaintext.len() + TAG_LEN);
            let bytes = envelope.to_bytes()?;
            assert_eq!(bytes.len(), 51 + 256 + plaintext.len() + TAG_LEN);
            let parsed = Envelope::from_bytes(&bytes)?;
            assert_eq!(parsed, envelope);
            assert_eq!(parsed.to_bytes()?, bytes);
            assert_eq!(
                parsed.open_with_owner_key(&ctx(), owner(), &mut cache)?,
                plaintext
            );
            assert_eq!(
                parsed.open_with_epoch_key(&ctx(), epoch.epoch_key())?,
                plaintext
            );
        }
        assert_eq!(cache.stats().unwraps, 1);
        Ok(())
    }

    #[test]
    fn sealing_twice_uses_fresh_nonces() -> CryptoResult<()> {
        let epoch = owner_epoch()?;
        let a = seal(b"same", &ctx(), &epoch)?;
        let b = seal(b"same", &ctx(), &epoch)?;
        assert_ne!(a.nonce(), b.nonce());
        assert_ne!(a.ciphertext(), b.ciphertext());
        Ok(())
    }

    /// Layout and ciphertext computed independently with Python `cryptography`
    /// (HKDF-SHA256 and ChaCha20-Poly1305) from the documented construction.
    #[test]
    fn pinned_envelope_layout_vector() -> CryptoResult<()> {
        let wrapped = WrappedKey {
            recipient_fingerprint: [0xAA; 32],
            ciphertext: vec![0xBB; 4],
        };
        let envelope = seal_with_nonce(
            b"hello carchain",
            &ctx(),
            &counting_epoch_key(),
            &wrapped,
            [0x0C; NONCE_LEN],
        )?;
        let expected_header = format!(
            "4343450101{}0004bbbbbbbb{}",
            "aa".repeat(32),
            "0c".repeat(12)
        );
        assert_eq!(hex::encode(envelope.header_bytes()?), expected_header);
        let bytes = envelope.to_bytes()?;
        assert_eq!(
            hex::encode(&bytes),
            format!(
                "{expected_header}341d84dfe824bd9bb2f0a23bd14b2830270fd2d7ca0d3a0cec901ab6e0d2"
            )
        );
        assert_eq!(
            Envelope::from_bytes(&bytes)?.open_with_epoch_key(&ctx(), &counting_epoch_key())?,
            b"hello carchain"
        );
        Ok(())
    }

    #[test]
    fn every_single_byte_flip_fails_for_every_opening_path() -> CryptoResult<()> {
        let epoch = owner_epoch()?;
        let record_key = derive_record_key(epoch.epoch_key(), &ctx())?;
        let bytes = seal(b"odometer=123456", &ctx(), &epoch)?.to_bytes()?;
        let mut cache = EpochKeyCache::new();
        for index in 0..bytes.len() {
            let mut altered = bytes.clone();
            if let Some(byte) = altered.get_mut(index) {
                *byte ^= 0x01;
            }
            let Ok(envelope) = Envelope::from_bytes(&altered) else {
                continue;
            };
            assert!(
                envelope
                    .open_with_epoch_key(&ctx(), epoch.epoch_key())
                    .is_err()
            );
            assert!(envelope.open_with_record_key(&ctx(), &record_key).is_err());
            assert!(
                envelope
                    .open_with_owner_key(&ctx(), owner(), &mut cache)
                    .is_err(),
                "flip at {index} opened"
            );
        }
        Ok(())
    }

    #[test]
    fn flips_in_the_body_fail_authentication_with_the_epoch_key() -> CryptoResult<()> {
        let epoch = owner_epoch()?;
        let bytes = seal(b"vin", &ctx(), &epoch)?.to_bytes()?;
        // Fingerprint, wrapped key, nonce, ciphertext: parse fine, must not authenticate.
        for index in 5..bytes.len() {
            if index == 37 || index == 38 {
                continue; // the length field changes the parse instead
            }
            let mut altered = bytes.clone();
            if let Some(byte) = altered.get_mut(index) {
                *byte ^= 0x80;
            }
            assert_eq!(
                Envelope::from_bytes(&altered)?
                    .open_with_epoch_key(&ctx(), epoch.epoch_key())
                    .err(),
                Some(CryptoError::AuthenticationFailed),
                "flip at {index}"
            );
        }
        Ok(())
    }

    #[test]
    fn header_flips_give_typed_parse_errors() -> CryptoResult<()> {
        let bytes = seal(b"x", &ctx(), &owner_epoch()?)?.to_bytes()?;
        let with = |index: usize, value: u8| {
            let mut altered = bytes.clone();
            if let Some(byte) = altered.get_mut(index) {
                *byte = value;
            }
            Envelope::from_bytes(&altered)
        };
        assert!(matches!(with(0, b'X'), Err(CryptoError::Malformed(_))));
        assert_eq!(with(3, 2).err(), Some(CryptoError::UnsupportedVersion(2)));
        assert_eq!(with(4, 9).err(), Some(CryptoError::UnsupportedSuite(9)));
        // Length field claims more bytes than present.
        assert!(matches!(with(37, 0xFF), Err(CryptoError::Truncated { .. })));
        // Length 0x0000: an empty wrapped key.
        assert!(matches!(with(37, 0), Err(CryptoError::Malformed(_))));
        Ok(())
    }

    #[test]
    fn garbage_and_empty_input_are_rejected() {
        assert!(matches!(
            Envelope::from_bytes(b""),
            Err(CryptoError::Truncated { .. })
        ));
        assert!(matches!(
            Envelope::from_bytes(b"CC"),
            Err(CryptoError::Truncated { .. })
        ));
        assert!(matches!(
            Envelope::from_bytes(b"garbage that is not an envelope"),
            Err(CryptoError::Malformed(_))
        ));
        let mut zero_length_key = b"CCE\x01\x01".to_vec();
        zero_length_key.extend_from_slice(&[0; 34 + 12 + 16]);
        assert!(matches!(
            Envelope::from_bytes(&zero_length_key),
            Err(CryptoError::Malformed(_))
        ));
    }

    #[test]
    fn every_truncation_fails_with_a_typed_error() -> CryptoResult<()> {
        let epoch = owner_epoch()?;
        let bytes = seal(b"trip payload", &ctx(), &epoch)?.to_bytes()?;
        for cut in 0..bytes.len() {
            let prefix = bytes.get(..cut).unwrap_or_default();
            match Envelope::from_bytes(prefix) {
                Err(CryptoError::Truncated { .. }) => {}
                Ok(envelope) => assert_eq!(
                    envelope
                        .open_with_epoch_key(&ctx(), epoch.epoch_key())
                        .err(),
                    Some(CryptoError::AuthenticationFailed),
                    "cut at {cut}"
                ),
                Err(other) => panic!("cut at {cut}: unexpected {other:?}"),
            }
        }
        Ok(())
    }

    #[test]
    fn moving_to_another_address_key_or_format_fails() -> CryptoResult<()> {
        let epoch = owner_epoch()?;
        let envelope = seal(b"{\"speed\":88}", &ctx(), &epoch)?;
        let moved = [
            RecordContext {
                address: "bcrt1qother",
                ..ctx()
            },
            RecordContext {
                key_bytes: &[1, 2, 3, 4, 6],
                ..ctx()
            },
            RecordContext {
                format: "carvio",
                ..ctx()
            },
        ];
        let mut cache = EpochKeyCache::new();
        for wrong in &moved {
            assert_eq!(
                envelope.open_with_epoch_key(wrong, epoch.epoch_key()).err(),
                Some(CryptoError::AuthenticationFailed)
            );
            assert_eq!(
                envelope
                    .open_with_owner_key(wrong, owner(), &mut cache)
                    .err(),
                Some(CryptoError::AuthenticationFailed)
            );
            // Even the right record key cannot open it under the wrong context.
            let right_key = derive_record_key(epoch.epoch_key(), &ctx())?;
            assert_eq!(
                envelope.open_with_record_key(wrong, &right_key).err(),
                Some(CryptoError::AuthenticationFailed)
            );
        }
        Ok(())
    }

    #[test]
    fn wrong_rsa_key_is_refused() -> CryptoResult<()> {
        let envelope = seal(b"secret", &ctx(), &owner_epoch()?)?;
        let mut cache = EpochKeyCache::new();
        assert_eq!(
            envelope
                .open_with_owner_key(&ctx(), grantee(), &mut cache)
                .err(),
            Some(CryptoError::WrongKey)
        );
        assert_eq!(cache.stats().unwraps, 0);
        Ok(())
    }

    #[test]
    fn wrong_epoch_or_record_key_fails_authentication() -> CryptoResult<()> {
        let envelope = seal(b"secret", &ctx(), &owner_epoch()?)?;
        assert_eq!(
            envelope
                .open_with_epoch_key(&ctx(), &EpochKey::generate()?)
                .err(),
            Some(CryptoError::AuthenticationFailed)
        );
        assert_eq!(
            envelope
                .open_with_record_key(&ctx(), &RecordKey::generate()?)
                .err(),
            Some(CryptoError::AuthenticationFailed)
        );
        Ok(())
    }

    #[test]
    fn a_day_of_four_records_costs_one_rsa_unwrap() -> CryptoResult<()> {
        let day = owner_epoch()?;
        let sessions: [&[u8]; 4] = [b"s1", b"s2", b"s3", b"s4"];
        let stored: Vec<Vec<u8>> = sessions
            .iter()
            .map(|session| {
                let ctx = RecordContext {
                    key_bytes: session,
                    ..ctx()
                };
                seal(session, &ctx, &day)?.to_bytes()
            })
            .collect::<CryptoResult<_>>()?;
        let mut cache = EpochKeyCache::new();
        for (session, bytes) in sessions.iter().zip(&stored) {
            let ctx = RecordContext {
                key_bytes: session,
                ..ctx()
            };
            let plaintext =
                Envelope::from_bytes(bytes)?.open_with_owner_key(&ctx, owner(), &mut cache)?;
            assert_eq!(plaintext, *session);
        }
        assert_eq!(cache.stats().unwraps, 1);
        assert_eq!(cache.stats().hits, 3);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_value_and_context_round_trips(
            plaintext in proptest::collection::vec(any::<u8>(), 0..2048),
            address in "[a-z0-9]{0,64}",
            key_bytes in proptest::collection::vec(any::<u8>(), 0..64),
            format in "[a-zA-Z_-]{0,16}",
        ) {
            let wrapped = WrappedKey { recipient_fingerprint: [3; 32], ciphertext: vec![7; 256] };
            let epoch = SealingEpoch::from_parts(counting_epoch_key(), wrapped);
            let ctx = RecordContext { address: &address, key_bytes: &key_bytes, format: &format };
            let bytes = seal(&plaintext, &ctx, &epoch)?.to_bytes()?;
            let opened = Envelope::from_bytes(&bytes)?.open_with_epoch_key(&ctx, epoch.epoch_key())?;
            prop_assert_eq!(opened, plaintext);
        }

        #[test]
        fn arbitrary_bytes_parse_to_a_typed_result_and_re_encode_canonically(
            fingerprint in proptest::array::uniform32(any::<u8>()),
            wrapped_len in 0u16..64,
            rest in proptest::collection::vec(any::<u8>(), 0..160),
        ) {
            let mut framed = b"CCE\x01\x01".to_vec();
            framed.extend_from_slice(&fingerprint);
            framed.extend_from_slice(&wrapped_len.to_be_bytes());
            framed.extend_from_slice(&rest);
            for input in [&rest, &framed] {
                match Envelope::from_bytes(input) {
                    Ok(envelope) => prop_assert_eq!(&envelope.to_bytes()?, input),
                    Err(error) => {
                        let typed = matches!(
                            error,
                            CryptoError::Truncated { .. }
                                | CryptoError::Malformed(_)
                                | CryptoError::UnsupportedVersion(_)
                                | CryptoError::UnsupportedSuite(_)
                        );
                        prop_assert!(typed, "unexpected error {:?}", error);
                    }
                }
            }
        }
    }
}
