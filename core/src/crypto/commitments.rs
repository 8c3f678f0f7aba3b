//! The two ledger commitments of a record.
//!
//! - `dHash` commits to the plaintext: `H("carchain/dhash/v1" || salt || plaintext)`,
//!   where the 16-byte salt is `HKDF-SHA256(ikm = record key, no salt,
//!   info = "carchain/dhash-salt")`. Whoever holds the record key (owner, grantee) can
//!   check it; a low-entropy value such as a VIN cannot be guessed from its public hash.
//! - `cHash` commits to the stored envelope: `H(envelope bytes)`, so a reader checks
//!   what a storage node returned before decrypting it.
//!
//! `H` is the record's [`HashFunc`].

use hkdf::Hkdf;
use sha2::Sha256;

use super::error::{CryptoError, CryptoResult};
use super::hash_func::HashFunc;
use super::symmetric::RecordKey;

/// Domain tag prefixed to every dHash input.
pub const DHASH_DOMAIN: &[u8] = b"carchain/dhash/v1";
/// HKDF info of the dHash salt derivation.
pub const DHASH_SALT_INFO: &[u8] = b"carchain/dhash-salt";
/// Length of the dHash salt.
pub const DHASH_SALT_LEN: usize = 16;

/// The dHash salt of the record whose key is `record_key`.
pub fn dhash_salt(record_key: &RecordKey) -> CryptoResult<[u8; DHASH_SALT_LEN]> {
    let mut salt = [0u8; DHASH_SALT_LEN];
    Hkdf::<Sha256>::new(None, record_key.as_bytes())
        .expand(DHASH_SALT_INFO, &mut salt)
        .map_err(|_| CryptoError::KeyDerivationFailed)?;
    Ok(salt)
}

/// `H("carchain/dhash/v1" || salt || plaintext)`.
pub fn d_hash(func: HashFunc, salt: &[u8; DHASH_SALT_LEN], plaintext: &[u8]) -> [u8; 32] {
    func.digest_parts(&[DHASH_DOMAIN, salt, plaintext])
}

/// The dHash of `plaintext` for the record whose key is `record_key`.
pub fn d_hash_for_record(
    func: HashFunc,
    record_key: &RecordKey,
    plaintext: &[u8],
) -> CryptoResult<[u8; 32]> {
    Ok(d_hash(func, &dhash_salt(record_key)?, plaintext))
}

/// `Ok` if `plaintext` matches the published dHash, else `DHashMismatch`.
pub fn verify_d_hash(
    func: HashFunc,
    record_key: &RecordKey,
    plaintext: &[u8],
    expected: &[u8; 32],
) -> CryptoResult<()> {
    if &d_hash_for_record(func, record_key, plaintext)? == expected {
        Ok(())
    } else {
        Err(CryptoError::DHashMismatch)
    }
}

/// `H(envelope bytes)`.
pub fn c_hash(func: HashFunc, envelope_bytes: &[u8]) -> [u8; 32] {
    func.digest(envelope_bytes)
}

/// `Ok` if `envelope_bytes` match the published cHash, else `CHashMismatch`.
pub fn verify_c_hash(
    func: HashFunc,
    envelope_bytes: &[u8],
    expected: &[u8; 32],
) -> CryptoResult<()> {
    if &c_hash(func, envelope_bytes) == expected {
        Ok(())
    } else {
        Err(CryptoError::CHashMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::hierarchy::derive_record_key;
    use crate::crypto::symmetric::EpochKey;
    use crate::crypto::test_vectors::{counting_epoch_key, ctx, pinned_envelope};

    fn vector_record_key() -> CryptoResult<RecordKey> {
        derive_record_key(&counting_epoch_key(), &ctx())
    }

    /// Vectors computed independently with Python `hashlib` and `cryptography`'s HKDF.
    #[test]
    fn d_hash_matches_known_answers() -> CryptoResult<()> {
        let record_key = vector_record_key()?;
        assert_eq!(
            hex::encode(dhash_salt(&record_key)?),
            "3fbf5f7701b2b7654f5a8f90f3aa333d"
        );
        assert_eq!(
            hex::encode(d_hash_for_record(
                HashFunc::Sha256,
                &record_key,
                b"hello carchain"
            )?),
            "064b415d309176863303b1d955360d74bc90dcdfef8cf67274f03b07745ee6be"
        );
        assert_eq!(
            hex::encode(d_hash_for_record(
                HashFunc::DoubleSha256,
                &record_key,
                b"hello carchain"
            )?),
            "92ddf9a227c0b16564446fcea5df24cd221065d677cbfd93ee3c714b2abcc1cd"
        );
        Ok(())
    }

    #[test]
    fn c_hash_matches_known_answers_for_the_pinned_envelope() -> CryptoResult<()> {
        let bytes = pinned_envelope(None)?.to_bytes()?;
        assert_eq!(
            hex::encode(c_hash(HashFunc::Sha256, &bytes)),
            "6610135bac958ca81e29c89cf5efaa3f64bf2e2e234b980023a0f09ab6e2ad60"
        );
        assert_eq!(
            hex::encode(c_hash(HashFunc::DoubleSha256, &bytes)),
            "a1c0ef5bc3b40060dce26679a20cdf5fd38815117a8068c9574ae4ae88b85479"
        );
        Ok(())
    }

    #[test]
    fn verify_d_hash_accepts_the_value_and_rejects_others() -> CryptoResult<()> {
        let record_key = vector_record_key()?;
        let vin = b"WVWZZZ1JZXW000001";
        let published = d_hash_for_record(HashFunc::Sha256, &record_key, vin)?;
        verify_d_hash(HashFunc::Sha256, &record_key, vin, &published)?;
        assert_eq!(
            verify_d_hash(
                HashFunc::Sha256,
                &record_key,
                b"WVWZZZ1JZXW000002",
                &published
            ),
            Err(CryptoError::DHashMismatch)
        );
        assert_eq!(
            verify_d_hash(HashFunc::DoubleSha256, &record_key, vin, &published),
            Err(CryptoError::DHashMismatch)
        );
        Ok(())
    }

    #[test]
    fn d_hash_of_a_vin_is_not_its_unsalted_hash() -> CryptoResult<()> {
        let vin = b"WVWZZZ1JZXW000001";
        let salted = d_hash_for_record(HashFunc::Sha256, &vector_record_key()?, vin)?;
        assert_ne!(salted, HashFunc::Sha256.digest(vin));
        assert_ne!(salted, d_hash(HashFunc::Sha256, &[0; DHASH_SALT_LEN], vin));
        // Another record's key gives another salt, so equal values hash differently.
        let other_key = derive_record_key(&EpochKey::from_bytes([9; 32]), &ctx())?;
        assert_ne!(
            salted,
            d_hash_for_record(HashFunc::Sha256, &other_key, vin)?
        );
        Ok(())
    }

    #[test]
    fn verify_c_hash_rejects_altered_bytes() {
        let envelope_bytes = b"CCE\x01\x01 stand-in bytes".to_vec();
        let published = c_hash(HashFunc::DoubleSha256, &envelope_bytes);
        assert_eq!(
            verify_c_hash(HashFunc::DoubleSha256, &envelope_bytes, &published),
            Ok(())
        );
        let mut altered = envelope_bytes.clone();
        altered.push(0);
        assert_eq!(
            verify_c_hash(HashFunc::DoubleSha256, &altered, &published),
            Err(CryptoError::CHashMismatch)
        );
    }
}
