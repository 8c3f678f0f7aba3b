//! Grants: the owner re-wraps one record's key for another RSA public key (a buyer or
//! service provider), leaving the stored envelope untouched. The grantee opens that
//! record, and only that record: sibling records of the same epoch have other keys.
//!
//! Encoding of a [`RecordKeyGrant`]:
//!
//! ```text
//! magic "CCG" (3) || version = 2 (1) || wrapped record key (u16 length, RSA-OAEP
//! ciphertext; OAEP label "carchain/wrap/record-key/v1")
//! ```
//!
//! Version 1 (read, never written) had the grantee's 32-byte RSA fingerprint in front
//! of the wrapped key; the grantee now finds its key by trial.

use rsa::{PrivateKey, PublicKey};

use super::codec::Reader;
use super::envelope::Envelope;
use super::epoch_cache::EpochKeyCache;
use super::error::{CryptoError, CryptoResult};
use super::hierarchy::{RecordContext, derive_record_key};
use super::symmetric::RecordKey;
use super::wrap::WrappedKey;

/// The first three bytes of an encoded grant.
pub const GRANT_MAGIC: [u8; 3] = *b"CCG";
/// The grant encoding version written.
pub const GRANT_VERSION: u8 = 2;
/// The legacy grant encoding version still read (with the grantee's fingerprint).
pub const GRANT_VERSION_V1: u8 = 1;

/// One record's key wrapped for a grantee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordKeyGrant {
    wrapped_record_key: WrappedKey,
}

/// Re-wraps the key of the record `envelope` at `ctx` for `grantee`.
///
/// The owner's epoch key comes from `cache` (one RSA decryption per epoch). The record
/// key is checked against the envelope first (`AuthenticationFailed` if `ctx` is not
/// this envelope's record), so a grant always opens what it claims to.
pub fn rewrap_record_key(
    envelope: &Envelope,
    ctx: &RecordContext<'_>,
    owner: &PrivateKey,
    cache: &mut EpochKeyCache,
    grantee: &PublicKey,
) -> CryptoResult<RecordKeyGrant> {
    let record_key = owner_record_key(envelope, ctx, owner, cache)?;
    envelope.open_with_record_key(ctx, &record_key)?;
    Ok(RecordKeyGrant {
        wrapped_record_key: WrappedKey::wrap_record_key(&record_key, grantee)?,
    })
}

/// Re-wraps the key of the record `envelope` at `ctx` for `grantee` without opening
/// the payload: the cost is the epoch key from `cache` (one RSA decryption per epoch),
/// one key derivation and one RSA encryption, whatever the record's size.
///
/// For envelopes whose bytes are already proven to be the ones the car registered (the
/// light client checks each against its cHash on the ledger): the epoch key unwraps
/// only under the owner's key (RSA-OAEP), and the record key follows from it and `ctx`
/// exactly as the car derived it. Unlike [`rewrap_record_key`] it does not catch a
/// `ctx` that is not this envelope's: the grantee's open then fails authentication.
pub fn rewrap_registered_record_key(
    envelope: &Envelope,
    ctx: &RecordContext<'_>,
    owner: &PrivateKey,
    cache: &mut EpochKeyCache,
    grantee: &PublicKey,
) -> CryptoResult<RecordKeyGrant> {
    let record_key = owner_record_key(envelope, ctx, owner, cache)?;
    Ok(RecordKeyGrant {
        wrapped_record_key: WrappedKey::wrap_record_key(&record_key, grantee)?,
    })
}

/// Domain of a record's copy tag.
pub const COPY_TAG_DOMAIN: &[u8] = b"carchain/copy-tag/v1";

/// The copy tag of the record whose key is `record_key`: HMAC-SHA256 keyed by the
/// record key over [`COPY_TAG_DOMAIN`]. A `Grant` names copied records by these tags:
/// the record key is already bound to the record's address, key and format, and only
/// its holders (the owner, the car, a grantee of a copy) can compute a tag, so a ledger
/// reader cannot match one to a registered record.
pub fn copy_tag(record_key: &RecordKey) -> [u8; 32] {
    use hmac::{Hmac, KeyInit, Mac};
    let Ok(mut mac) = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(record_key.as_bytes()) else {
        // HMAC takes a key of any length: unreachable, and a zero tag would match nothing.
        return [0; 32];
    };
    mac.update(COPY_TAG_DOMAIN);
    mac.finalize().into_bytes().into()
}

/// The owner's copy tag of the record `envelope` at `ctx` (epoch key from `cache`).
pub fn owner_copy_tag(
    envelope: &Envelope,
    ctx: &RecordContext<'_>,
    owner: &PrivateKey,
    cache: &mut EpochKeyCache,
) -> CryptoResult<[u8; 32]> {
    Ok(copy_tag(&owner_record_key(envelope, ctx, owner, cache)?))
}

/// The record key of `envelope` at `ctx`, from the owner's epoch key.
fn owner_record_key(
    envelope: &Envelope,
    ctx: &RecordContext<'_>,
    owner: &PrivateKey,
    cache: &mut EpochKeyCache,
) -> CryptoResult<RecordKey> {
    let epoch_key = cache.epoch_key(envelope.wrapped_epoch_key(), owner)?;
    derive_record_key(&epoch_key, ctx)
}

impl RecordKeyGrant {
    /// The record key wrapped for the grantee.
    pub fn wrapped_record_key(&self) -> &WrappedKey {
        &self.wrapped_record_key
    }

    /// The record key, recovered with the grantee's private key.
    pub fn record_key(&self, grantee: &PrivateKey) -> CryptoResult<RecordKey> {
        self.wrapped_record_key.unwrap_record_key(grantee)
    }

    /// The granted record's copy tag, computed with the grantee's private key.
    pub fn copy_tag(&self, grantee: &PrivateKey) -> CryptoResult<[u8; 32]> {
        Ok(copy_tag(&self.record_key(grantee)?))
    }

    /// Opens the granted record's original envelope bytes with the grantee's key.
    pub fn open(
        &self,
        envelope_bytes: &[u8],
        ctx: &RecordContext<'_>,
        grantee: &PrivateKey,
    ) -> CryptoResult<Vec<u8>> {
        let envelope = Envelope::from_bytes(envelope_bytes)?;
        envelope.open_with_record_key(ctx, &self.record_key(grantee)?)
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> CryptoResult<Vec<u8>> {
        let mut out = GRANT_MAGIC.to_vec();
        out.push(GRANT_VERSION);
        self.wrapped_record_key.encode_into(&mut out)?;
        Ok(out)
    }

    /// Parses an encoded grant (version 2, or a version 1 grant made before it, whose
    /// fingerprint is dropped: [`Self::to_bytes`] writes version 2).
    pub fn from_bytes(bytes: &[u8]) -> CryptoResult<Self> {
        let mut reader = Reader::new(bytes);
        if reader.take_array::<3>()? != GRANT_MAGIC {
            return Err(CryptoError::Malformed("not a CarChain grant (bad magic)"));
        }
        let version = reader.take_u8()?;
        let wrapped_record_key = match version {
            GRANT_VERSION => WrappedKey::decode_from(&mut reader)?,
            GRANT_VERSION_V1 => WrappedKey::decode_legacy_from(&mut reader)?.1,
            other => return Err(CryptoError::UnsupportedVersion(other)),
        };
        if reader.remaining_len() != 0 {
            return Err(CryptoError::Malformed("trailing bytes after grant"));
        }
        Ok(Self { wrapped_record_key })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::envelope::seal;
    use crate::crypto::hierarchy::SealingEpoch;
    use crate::crypto::test_keys::{grantee, outsider, owner};

    const ADDRESS: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

    fn ctx(key_bytes: &[u8]) -> RecordContext<'_> {
        RecordContext {
            address: ADDRESS,
            key_bytes,
            format: "trip-gps",
        }
    }

    struct Day {
        granted: Vec<u8>,
        sibling: Vec<u8>,
        grant: RecordKeyGrant,
    }

    /// The grant for `grantee` of the record sealed in `bytes` at `session`, made by the
    /// owner with `rewrap` (opening the payload or not).
    fn grant_for_grantee(
        rewrap: fn(
            &Envelope,
            &RecordContext<'_>,
            &PrivateKey,
            &mut EpochKeyCache,
            &PublicKey,
        ) -> CryptoResult<RecordKeyGrant>,
        bytes: &[u8],
        session: &[u8],
        cache: &mut EpochKeyCache,
    ) -> CryptoResult<RecordKeyGrant> {
        rewrap(
            &Envelope::from_bytes(bytes)?,
            &ctx(session),
            owner(),
            cache,
            grantee().as_public_key(),
        )
    }

    /// The owner's copy tag of the record sealed in `bytes` at `session`.
    fn owners_copy_tag(
        bytes: &[u8],
        session: &[u8],
        cache: &mut EpochKeyCache,
    ) -> CryptoResult<[u8; 32]> {
        owner_copy_tag(&Envelope::from_bytes(bytes)?, &ctx(session), owner(), cache)
    }

    impl Day {
        /// The granted record (`session-1`) opened with `grant` by `who`.
        fn open_granted(&self, grant: &RecordKeyGrant, who: &PrivateKey) -> CryptoResult<Vec<u8>> {
            grant.open(&self.granted, &ctx(b"session-1"), who)
        }
    }

    fn granted_day() -> CryptoResult<Day> {
        let epoch = SealingEpoch::new(owner().as_public_key())?;
        let granted = seal(b"trip 1", &ctx(b"session-1"), &epoch)?.to_bytes()?;
        let sibling = seal(b"trip 2", &ctx(b"session-2"), &epoch)?.to_bytes()?;
        let grant = grant_for_grantee(
            rewrap_record_key,
            &granted,
            b"session-1",
            &mut EpochKeyCache::new(),
        )?;
        Ok(Day {
            granted,
            sibling,
            grant,
        })
    }

    #[test]
    fn grantee_opens_the_granted_record_from_its_original_bytes() -> CryptoResult<()> {
        let day = granted_day()?;
        assert_eq!(day.open_granted(&day.grant, grantee())?, b"trip 1");
        Ok(())
    }

    #[test]
    fn grantee_and_owner_compute_the_same_copy_tag_and_siblings_differ() -> CryptoResult<()> {
        let day = granted_day()?;
        let mut cache = EpochKeyCache::new();
        let owner_tag = owners_copy_tag(&day.granted, b"session-1", &mut cache)?;
        assert_eq!(day.grant.copy_tag(grantee())?, owner_tag);
        let sibling_tag = owners_copy_tag(&day.sibling, b"session-2", &mut cache)?;
        assert_ne!(sibling_tag, owner_tag);
        // Pinned: HMAC-SHA256(record key, "carchain/copy-tag/v1").
        let key = RecordKey::from_bytes([0x42; 32]);
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&[0x42; 32])
            .map_err(|_| CryptoError::KeyDerivationFailed)?;
        mac.update(b"carchain/copy-tag/v1");
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(copy_tag(&key), expected);
        assert!(day.grant.copy_tag(outsider()).is_err());
        Ok(())
    }

    #[test]
    fn grantee_cannot_open_a_sibling_record_of_the_same_epoch() -> CryptoResult<()> {
        let day = granted_day()?;
        assert_eq!(
            day.grant
                .open(&day.sibling, &ctx(b"session-2"), grantee())
                .err(),
            Some(CryptoError::AuthenticationFailed)
        );
        // Nor by pretending the sibling lives at the granted record's key.
        assert_eq!(
            day.grant
                .open(&day.sibling, &ctx(b"session-1"), grantee())
                .err(),
            Some(CryptoError::AuthenticationFailed)
        );
        // And the grantee's RSA key does not open the owner's epoch key.
        let mut cache = EpochKeyCache::new();
        assert_eq!(
            Envelope::from_bytes(&day.sibling)?
                .open_with_owner_key(&ctx(b"session-2"), grantee(), &mut cache)
                .err(),
            Some(CryptoError::WrongKey)
        );
        Ok(())
    }

    #[test]
    fn a_grant_made_without_opening_the_payload_opens_the_same_record() -> CryptoResult<()> {
        let day = granted_day()?;
        let mut cache = EpochKeyCache::new();
        let registered = grant_for_grantee(
            rewrap_registered_record_key,
            &day.granted,
            b"session-1",
            &mut cache,
        )?;
        assert_eq!(day.open_granted(&registered, grantee())?, b"trip 1");
        assert_eq!(
            registered.record_key(grantee())?.as_bytes(),
            day.grant.record_key(grantee())?.as_bytes()
        );
        // Made for the wrong context, it opens nothing.
        let wrong = grant_for_grantee(
            rewrap_registered_record_key,
            &day.granted,
            b"session-2",
            &mut cache,
        )?;
        assert_eq!(
            day.open_granted(&wrong, grantee()).err(),
            Some(CryptoError::AuthenticationFailed)
        );
        Ok(())
    }

    #[test]
    fn another_party_cannot_use_the_grant() -> CryptoResult<()> {
        let day = granted_day()?;
        assert_eq!(
            day.open_granted(&day.grant, outsider()).err(),
            Some(CryptoError::WrongKey)
        );
        Ok(())
    }

    #[test]
    fn granting_under_the_wrong_context_is_refused() -> CryptoResult<()> {
        let epoch = SealingEpoch::new(owner().as_public_key())?;
        let envelope = seal(b"trip", &ctx(b"session-1"), &epoch)?;
        let mut cache = EpochKeyCache::new();
        // Under another record's key, or by someone who is not the owner.
        for (key, granter, expected) in [
            (b"session-9", owner(), CryptoError::AuthenticationFailed),
            (b"session-1", outsider(), CryptoError::WrongKey),
        ] {
            let refused = rewrap_record_key(
                &envelope,
                &ctx(key),
                granter,
                &mut cache,
                grantee().as_public_key(),
            );
            assert_eq!(refused.err(), Some(expected));
        }
        Ok(())
    }

    #[test]
    fn grant_encoding_round_trips_and_rejects_bad_input() -> CryptoResult<()> {
        let day = granted_day()?;
        let bytes = day.grant.to_bytes()?;
        assert_eq!(bytes.get(..4), Some(&b"CCG\x02"[..]));
        assert_eq!(bytes.len(), 4 + 2 + 256);
        let parsed = RecordKeyGrant::from_bytes(&bytes)?;
        assert_eq!(parsed, day.grant);
        assert_eq!(day.open_granted(&parsed, grantee())?, b"trip 1");

        assert!(matches!(
            RecordKeyGrant::from_bytes(&bytes[..40]),
            Err(CryptoError::Truncated { .. })
        ));
        assert!(matches!(
            RecordKeyGrant::from_bytes(b"XYZ\x01"),
            Err(CryptoError::Malformed(_))
        ));
        let mut future = bytes.clone();
        if let Some(version) = future.get_mut(3) {
            *version = 3;
        }
        assert_eq!(
            RecordKeyGrant::from_bytes(&future),
            Err(CryptoError::UnsupportedVersion(3))
        );
        // A version 1 grant (grantee fingerprint in front) still opens.
        let mut v1 = b"CCG\x01".to_vec();
        day.grant
            .wrapped_record_key()
            .encode_legacy_into(&[0x77; 32], &mut v1)?;
        let old = RecordKeyGrant::from_bytes(&v1)?;
        assert_eq!(old, day.grant);
        assert_eq!(day.open_granted(&old, grantee())?, b"trip 1");
        let mut trailing = bytes;
        trailing.push(0);
        assert!(matches!(
            RecordKeyGrant::from_bytes(&trailing),
            Err(CryptoError::Malformed(_))
        ));
        Ok(())
    }

    #[test]
    fn a_grant_carries_only_the_key_never_the_payload() -> CryptoResult<()> {
        let epoch = SealingEpoch::new(owner().as_public_key())?;
        let large = vec![0x42u8; 30 * 1024];
        let envelope = seal(&large, &ctx(b"session-big"), &epoch)?;
        let grant = rewrap_record_key(
            &envelope,
            &ctx(b"session-big"),
            owner(),
            &mut EpochKeyCache::new(),
            grantee().as_public_key(),
        )?;
        assert_eq!(grant.to_bytes()?.len(), 4 + 2 + 256);
        assert_eq!(
            grant.open(&envelope.to_bytes()?, &ctx(b"session-big"), grantee())?,
            large
        );
        Ok(())
    }
}
