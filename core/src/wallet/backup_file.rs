//! The encrypted backup file: its layout, its key (derived from the wallet's seed, so
//! only the same words — and passphrase — open it) and its typed failures.
//!
//! Layout (all integers big-endian):
//! `magic "CCBACKUP" (8) || version u16 || key check (16) || nonce (12) ||
//! length u32 || ChaCha20-Poly1305 ciphertext of the content || tag (16)`.
//! The key check is HMAC-SHA256 of a fixed label under a key derived beside the
//! encryption key: it tells "another wallet's backup" from "a damaged backup" without
//! revealing anything to whoever stores the file (it is not linkable to the owner's
//! address). Everything before the ciphertext is the AEAD's associated data.

use chacha20poly1305::aead::{Aead, KeyInit as AeadKeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use thiserror::Error;
use zeroize::Zeroizing;

use crate::keys::Seed;

/// The file's first bytes.
pub const BACKUP_MAGIC: &[u8; 8] = b"CCBACKUP";
/// The layout version this build writes and reads.
pub const BACKUP_VERSION: u16 = 1;
const KEY_CHECK_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = BACKUP_MAGIC.len() + 2 + KEY_CHECK_LEN + NONCE_LEN + 4;
const HKDF_SALT: &[u8] = b"carchain.wallet.backup";
const KEY_INFO: &[u8] = b"backup/chacha20poly1305/v1";
const CHECK_INFO: &[u8] = b"backup/key-check/v1";
const CHECK_LABEL: &[u8] = b"carchain wallet backup key check";

/// Why a backup could not be written or restored. Messages never carry the content.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum BackupError {
    /// The file does not start like a CarChain backup.
    #[error("the file is not a CarChain wallet backup")]
    NotABackup,
    /// The file was written by a newer CarChain (a layout or content version this build
    /// does not know).
    #[error("the backup's format version {found} is newer than this app's ({supported})")]
    NewerVersion {
        /// The version in the file.
        found: u16,
        /// The newest version this build reads.
        supported: u16,
    },
    /// The file is shorter or longer than its header says.
    #[error("the backup is truncated or has trailing bytes ({found} bytes, {expected} expected)")]
    Truncated {
        /// The file's size.
        found: usize,
        /// The size its header announces.
        expected: usize,
    },
    /// The backup was made by another wallet (other words or passphrase).
    #[error("the backup belongs to another wallet (other recovery words or passphrase)")]
    WrongWallet,
    /// The backup's key check matches but its content does not decrypt or decode.
    #[error("the backup is corrupted: {reason}")]
    Corrupted {
        /// What failed (never content).
        reason: String,
    },
    /// Reading or writing the file failed.
    #[error("backup file {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        reason: String,
    },
    /// No randomness for the nonce.
    #[error("no randomness available for the backup's nonce")]
    RandomnessUnavailable,
}

crate::error_code::error_codes!(BackupError {
    NotABackup => "backup.not_a_backup",
    NewerVersion => "backup.newer_version",
    Truncated => "backup.truncated",
    WrongWallet => "backup.wrong_wallet",
    Corrupted => "backup.corrupted",
    Io => "backup.io",
    RandomnessUnavailable => "backup.randomness_unavailable",
});

/// The two keys of a wallet's backups, derived from its seed.
struct BackupKeys {
    encryption: Zeroizing<[u8; 32]>,
    check: [u8; KEY_CHECK_LEN],
}

impl BackupKeys {
    fn derive(seed: &Seed) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(HKDF_SALT), seed.as_bytes());
        let mut encryption = Zeroizing::new([0u8; 32]);
        let mut check_key = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's output limit: expand cannot fail.
        let _ = hkdf.expand(KEY_INFO, encryption.as_mut());
        let _ = hkdf.expand(CHECK_INFO, check_key.as_mut());
        let mut check = [0u8; KEY_CHECK_LEN];
        if let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(check_key.as_ref()) {
            mac.update(CHECK_LABEL);
            check.copy_from_slice(&mac.finalize().into_bytes()[..KEY_CHECK_LEN]);
        }
        BackupKeys { encryption, check }
    }
}

fn cipher_of(keys: &BackupKeys) -> Result<ChaCha20Poly1305, BackupError> {
    <ChaCha20Poly1305 as AeadKeyInit>::new_from_slice(keys.encryption.as_ref()).map_err(|_| {
        BackupError::Corrupted {
            reason: "the backup key has the wrong length".into(),
        }
    })
}

/// Encrypts `content` into a backup file's bytes for the wallet of `seed`.
pub fn seal_backup(seed: &Seed, content: &[u8]) -> Result<Vec<u8>, BackupError> {
    let keys = BackupKeys::derive(seed);
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|_| BackupError::RandomnessUnavailable)?;
    let length = u32::try_from(content.len() + TAG_LEN).map_err(|_| BackupError::Corrupted {
        reason: "the content is too large".into(),
    })?;
    let mut out = Vec::with_capacity(HEADER_LEN + content.len() + TAG_LEN);
    out.extend_from_slice(BACKUP_MAGIC);
    out.extend_from_slice(&BACKUP_VERSION.to_be_bytes());
    out.extend_from_slice(&keys.check);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&length.to_be_bytes());
    let cipher = cipher_of(&keys)?;
    let sealed = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: content,
                aad: &out,
            },
        )
        .map_err(|_| BackupError::Corrupted {
            reason: "encryption failed".into(),
        })?;
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens a backup file's bytes with the wallet of `seed`: the content, or why not.
pub fn open_backup(seed: &Seed, file: &[u8]) -> Result<Zeroizing<Vec<u8>>, BackupError> {
    if file.len() < BACKUP_MAGIC.len() || &file[..BACKUP_MAGIC.len()] != BACKUP_MAGIC {
        return Err(BackupError::NotABackup);
    }
    if file.len() < HEADER_LEN {
        return Err(BackupError::Truncated {
            found: file.len(),
            expected: HEADER_LEN + TAG_LEN,
        });
    }
    let (header, sealed) = file.split_at(HEADER_LEN);
    let version = u16::from_be_bytes([header[8], header[9]]);
    if version > BACKUP_VERSION {
        return Err(BackupError::NewerVersion {
            found: version,
            supported: BACKUP_VERSION,
        });
    }
    if version == 0 {
        return Err(BackupError::NotABackup);
    }
    let check = &header[10..10 + KEY_CHECK_LEN];
    let nonce = &header[10 + KEY_CHECK_LEN..10 + KEY_CHECK_LEN + NONCE_LEN];
    let mut length = [0u8; 4];
    length.copy_from_slice(&header[HEADER_LEN - 4..]);
    let length = u32::from_be_bytes(length) as usize;
    if sealed.len() != length || length < TAG_LEN {
        return Err(BackupError::Truncated {
            found: file.len(),
            expected: HEADER_LEN + length.max(TAG_LEN),
        });
    }
    let keys = BackupKeys::derive(seed);
    if check != keys.check {
        return Err(BackupError::WrongWallet);
    }
    let mut nonce_bytes = [0u8; NONCE_LEN];
    nonce_bytes.copy_from_slice(nonce);
    let cipher = cipher_of(&keys)?;
    cipher
        .decrypt(
            &Nonce::from(nonce_bytes),
            Payload {
                msg: sealed,
                aad: header,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| BackupError::Corrupted {
            reason: "the content does not authenticate".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(byte: u8) -> Seed {
        Seed::from_bytes([byte; 64])
    }

    #[test]
    fn a_backup_opens_with_its_own_seed_only() {
        let file = seal_backup(&seed(1), b"{\"devices\":[]}").unwrap();
        assert_eq!(&file[..8], BACKUP_MAGIC);
        assert_eq!(
            open_backup(&seed(1), &file).unwrap().as_slice(),
            b"{\"devices\":[]}"
        );
        assert_eq!(open_backup(&seed(2), &file), Err(BackupError::WrongWallet));
    }

    #[test]
    fn the_content_is_not_in_the_file() {
        let file = seal_backup(&seed(1), b"VIN-SECRET-NAME").unwrap();
        assert!(!file.windows(6).any(|w| w == b"SECRET"));
    }

    #[test]
    fn every_flipped_byte_is_caught() {
        let file = seal_backup(&seed(1), b"some wallet state").unwrap();
        for i in 0..file.len() {
            let mut bad = file.clone();
            bad[i] ^= 0x01;
            let err = open_backup(&seed(1), &bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    BackupError::NotABackup
                        | BackupError::Corrupted { .. }
                        | BackupError::WrongWallet
                        | BackupError::Truncated { .. }
                        | BackupError::NewerVersion { .. }
                ),
                "byte {i}: {err:?}"
            );
        }
    }

    #[test]
    fn truncated_longer_newer_and_foreign_files_are_refused_by_kind() {
        let file = seal_backup(&seed(1), b"state").unwrap();
        for cut in [9, HEADER_LEN - 1, HEADER_LEN, file.len() - 1] {
            assert!(
                matches!(
                    open_backup(&seed(1), &file[..cut]),
                    Err(BackupError::Truncated { .. })
                ),
                "cut at {cut}"
            );
        }
        let mut longer = file.clone();
        longer.push(0);
        assert!(matches!(
            open_backup(&seed(1), &longer),
            Err(BackupError::Truncated { .. })
        ));
        let mut newer = file.clone();
        newer[8..10].copy_from_slice(&(BACKUP_VERSION + 1).to_be_bytes());
        assert_eq!(
            open_backup(&seed(1), &newer),
            Err(BackupError::NewerVersion {
                found: BACKUP_VERSION + 1,
                supported: BACKUP_VERSION
            })
        );
        assert_eq!(
            open_backup(&seed(1), b"PK\x03\x04 a zip file"),
            Err(BackupError::NotABackup)
        );
        assert_eq!(open_backup(&seed(1), b""), Err(BackupError::NotABackup));
        let mut body = file.clone();
        let last = body.len() - 1;
        body[last] ^= 0x80;
        assert!(matches!(
            open_backup(&seed(1), &body),
            Err(BackupError::Corrupted { .. })
        ));
    }

    #[test]
    fn codes_are_stable() {
        assert_eq!(BackupError::WrongWallet.code(), "backup.wrong_wallet");
        assert_eq!(BackupError::NotABackup.code(), "backup.not_a_backup");
    }
}
