//! Encryption of the store's secret columns.
//!
//! The column key is HKDF-SHA256 of the 32-byte master key (kept by the host's secure
//! storage). Each value is sealed with ChaCha20-Poly1305 under a fresh random 12-byte
//! nonce, with the associated data `table/column/row id`, so a sealed value copied to
//! another row, column or table fails to open. Sealed layout:
//! `version (1 byte, 0x01) || nonce (12) || ciphertext || tag (16)`.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::error::{StoreError, StoreResult};

/// Length of the master key kept in the secret store.
pub const MASTER_KEY_LEN: usize = 32;
/// Version byte leading every sealed value.
const SEAL_VERSION: u8 = 0x01;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HKDF_SALT: &[u8] = b"carchain.wallet.store";
const HKDF_INFO: &[u8] = b"at-rest/chacha20poly1305/v1";

/// Where a sealed value lives; bound into the seal as associated data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretLocation<'a> {
    /// Table name.
    pub table: &'static str,
    /// Column name.
    pub column: &'static str,
    /// Row identifier (primary key as text).
    pub row: &'a str,
}

impl SecretLocation<'_> {
    fn associated_data(&self) -> Vec<u8> {
        format!("{}/{}/{}", self.table, self.column, self.row).into_bytes()
    }

    fn corrupted(&self) -> StoreError {
        StoreError::SecretCorrupted {
            table: self.table,
            column: self.column,
            row: self.row.to_owned(),
        }
    }
}

/// Seals and opens secret column values under the key derived from the master key.
pub struct AtRestCipher {
    column_key: Zeroizing<[u8; 32]>,
}

impl AtRestCipher {
    /// Derives the column key from the 32-byte master key.
    pub fn from_master_key(master_key: &[u8]) -> StoreResult<Self> {
        let wrong_length = || StoreError::MasterKeyWrongLength {
            len: master_key.len(),
        };
        if master_key.len() != MASTER_KEY_LEN {
            return Err(wrong_length());
        }
        let column_key = derive_column_key(HKDF_SALT, master_key).ok_or_else(wrong_length)?;
        Ok(Self { column_key })
    }

    /// Seals `plaintext` for `location` under a fresh random nonce.
    pub fn seal(&self, location: &SecretLocation<'_>, plaintext: &[u8]) -> StoreResult<Vec<u8>> {
        seal_value(&self.column_key, &location.associated_data(), plaintext).map_err(|failure| {
            match failure {
                SealFailure::Random => StoreError::Random,
                SealFailure::Cipher => location.corrupted(),
            }
        })
    }

    #[cfg(test)]
    fn seal_with_nonce(
        &self,
        location: &SecretLocation<'_>,
        plaintext: &[u8],
        nonce: [u8; NONCE_LEN],
    ) -> StoreResult<Vec<u8>> {
        seal_value_with_nonce(
            &self.column_key,
            &location.associated_data(),
            plaintext,
            nonce,
        )
        .ok_or_else(|| location.corrupted())
    }

    /// Opens a value sealed for `location`; fails with
    /// [`StoreError::SecretCorrupted`] if it was altered or sealed for another place.
    pub fn open(
        &self,
        location: &SecretLocation<'_>,
        sealed: &[u8],
    ) -> StoreResult<Zeroizing<Vec<u8>>> {
        open_value(&self.column_key, &location.associated_data(), sealed)
            .ok_or_else(|| location.corrupted())
    }
}

/// The column key: HKDF-SHA256 of `master_key` with `salt` and [`HKDF_INFO`]
/// (`None` if HKDF refuses it).
pub(crate) fn derive_column_key(salt: &[u8], master_key: &[u8]) -> Option<Zeroizing<[u8; 32]>> {
    let mut column_key = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(salt), master_key)
        .expand(HKDF_INFO, column_key.as_mut_slice())
        .ok()?;
    Some(column_key)
}

/// Why [`seal_value`] made nothing.
pub(crate) enum SealFailure {
    /// The operating system gave no random nonce.
    Random,
    /// The cipher refused the value.
    Cipher,
}

/// Seals `plaintext` bound to `aad` under `column_key` and a fresh random nonce, in the
/// layout of the module documentation.
pub(crate) fn seal_value(
    column_key: &[u8; 32],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, SealFailure> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|_| SealFailure::Random)?;
    seal_value_with_nonce(column_key, aad, plaintext, nonce).ok_or(SealFailure::Cipher)
}

fn seal_value_with_nonce(
    column_key: &[u8; 32],
    aad: &[u8],
    plaintext: &[u8],
    nonce: [u8; NONCE_LEN],
) -> Option<Vec<u8>> {
    let ciphertext = ChaCha20Poly1305::new(column_key.into())
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .ok()?;
    let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
    sealed.push(SEAL_VERSION);
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&ciphertext);
    Some(sealed)
}

/// Opens a value [`seal_value`] sealed bound to `aad` under `column_key`; `None` if it
/// was altered, truncated, of another version, or sealed for other associated data.
pub(crate) fn open_value(
    column_key: &[u8; 32],
    aad: &[u8],
    sealed: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    let (version, rest) = sealed.split_first()?;
    if *version != SEAL_VERSION || rest.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
    ChaCha20Poly1305::new(column_key.into())
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map(Zeroizing::new)
        .ok()
}

impl std::fmt::Debug for AtRestCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AtRestCipher(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: [u8; 32] = [0x42; 32];

    fn location(row: &str) -> SecretLocation<'_> {
        SecretLocation {
            table: "devices",
            column: "pool_seed",
            row,
        }
    }

    #[test]
    fn round_trip() {
        let cipher = AtRestCipher::from_master_key(&MASTER).unwrap();
        let sealed = cipher.seal(&location("VIN1"), b"pool seed bytes").unwrap();
        assert_eq!(sealed.len(), 1 + 12 + 15 + 16);
        assert_eq!(sealed[0], 0x01);
        let opened = cipher.open(&location("VIN1"), &sealed).unwrap();
        assert_eq!(opened.as_slice(), b"pool seed bytes");
    }

    #[test]
    fn fresh_nonce_each_seal() {
        let cipher = AtRestCipher::from_master_key(&MASTER).unwrap();
        let a = cipher.seal(&location("VIN1"), b"same").unwrap();
        let b = cipher.seal(&location("VIN1"), b"same").unwrap();
        assert_ne!(a, b);
    }

    /// Golden vector, cross-checked with Python `cryptography` (HKDF-SHA256 +
    /// ChaCha20Poly1305) so a dependency change that alters the format fails here.
    #[test]
    fn golden_vector() {
        let cipher = AtRestCipher::from_master_key(&MASTER).unwrap();
        assert_eq!(
            hex::encode(*cipher.column_key),
            "1be194e13724012e4c251485c0042cbeba529861afe3c659e9af237f541e20bb"
        );
        let sealed = cipher
            .seal_with_nonce(&location("VIN1"), b"pool seed bytes", [7u8; 12])
            .unwrap();
        assert_eq!(
            hex::encode(&sealed),
            "010707070707070707070707070f793b166f89692b4dfeac9ba7eede4dd984860ae7e0c3171a42d48436331e"
        );
    }

    #[test]
    fn copied_to_another_row_fails() {
        let cipher = AtRestCipher::from_master_key(&MASTER).unwrap();
        let sealed = cipher.seal(&location("VIN1"), b"secret").unwrap();
        let err = cipher.open(&location("VIN2"), &sealed).unwrap_err();
        assert!(matches!(
            err,
            StoreError::SecretCorrupted { table: "devices", column: "pool_seed", ref row } if row == "VIN2"
        ));
        let other_column = SecretLocation {
            table: "devices",
            column: "delivery_secret",
            row: "VIN1",
        };
        assert!(cipher.open(&other_column, &sealed).is_err());
    }

    #[test]
    fn other_master_key_fails() {
        let sealed = AtRestCipher::from_master_key(&MASTER)
            .unwrap()
            .seal(&location("VIN1"), b"secret")
            .unwrap();
        let other = AtRestCipher::from_master_key(&[0x43; 32]).unwrap();
        assert!(matches!(
            other.open(&location("VIN1"), &sealed),
            Err(StoreError::SecretCorrupted { .. })
        ));
    }

    #[test]
    fn tampered_truncated_or_wrong_version_fails() {
        let cipher = AtRestCipher::from_master_key(&MASTER).unwrap();
        let sealed = cipher.seal(&location("VIN1"), b"secret").unwrap();
        let mut flipped = sealed.clone();
        if let Some(last) = flipped.last_mut() {
            *last ^= 1;
        }
        assert!(cipher.open(&location("VIN1"), &flipped).is_err());
        let mut version = sealed.clone();
        version[0] = 0x02;
        assert!(cipher.open(&location("VIN1"), &version).is_err());
        assert!(cipher.open(&location("VIN1"), &sealed[..20]).is_err());
        assert!(cipher.open(&location("VIN1"), &[]).is_err());
    }

    #[test]
    fn master_key_must_be_32_bytes() {
        assert!(matches!(
            AtRestCipher::from_master_key(&[1u8; 31]),
            Err(StoreError::MasterKeyWrongLength { len: 31 })
        ));
        assert!(matches!(
            AtRestCipher::from_master_key(&[]),
            Err(StoreError::MasterKeyWrongLength { len: 0 })
        ));
    }

    #[test]
    fn debug_redacts_key() {
        let cipher = AtRestCipher::from_master_key(&MASTER).unwrap();
        assert_eq!(format!("{cipher:?}"), "AtRestCipher(<redacted>)");
    }
}
