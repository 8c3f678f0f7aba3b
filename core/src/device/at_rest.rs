//! Encryption of the car store's secret columns (device key, pairing code, offer, epoch
//! keys) under a 32-byte master key that the host keeps in its secure storage
//! ([`crate::store::SecretStore`], name [`DEVICE_MASTER_KEY_NAME`]).
//!
//! Column key = HKDF-SHA256(salt `"carchain.device.store"`, master key, info
//! `"at-rest/chacha20poly1305/v1"`). Sealed value = `0x01 || nonce (12) || ciphertext ||
//! tag`, associated data `table/column/row`, so a value moved elsewhere fails to open.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::error::DeviceStoreError;

/// Name of the car store's master key in the host's secret store.
pub const DEVICE_MASTER_KEY_NAME: &str = "carchain.device.master-key";
const VERSION: u8 = 0x01;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Seals and opens secret column values.
pub(crate) struct ColumnCipher {
    key: Zeroizing<[u8; 32]>,
}

impl ColumnCipher {
    /// Derives the column key from the master key.
    pub(crate) fn from_master_key(master: &[u8]) -> Result<Self, DeviceStoreError> {
        if master.len() != 32 {
            return Err(DeviceStoreError::MasterKeyWrongLength { len: master.len() });
        }
        let mut key = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(Some(b"carchain.device.store"), master)
            .expand(b"at-rest/chacha20poly1305/v1", key.as_mut_slice())
            .map_err(|_| DeviceStoreError::MasterKeyWrongLength { len: master.len() })?;
        Ok(Self { key })
    }

    fn cipher(&self) -> Result<ChaCha20Poly1305, DeviceStoreError> {
        ChaCha20Poly1305::new_from_slice(self.key.as_slice())
            .map_err(|_| DeviceStoreError::MasterKeyWrongLength { len: 0 })
    }

    /// Seals `plaintext` stored at `location` (`table/column/row`).
    pub(crate) fn seal(
        &self,
        location: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, DeviceStoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| DeviceStoreError::Random)?;
        let ciphertext = self
            .cipher()?
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: location.as_bytes(),
                },
            )
            .map_err(|_| DeviceStoreError::SecretCorrupted {
                location: location.to_owned(),
            })?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Opens a value sealed for `location`.
    pub(crate) fn open(
        &self,
        location: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, DeviceStoreError> {
        let corrupted = || DeviceStoreError::SecretCorrupted {
            location: location.to_owned(),
        };
        if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed.first() != Some(&VERSION) {
            return Err(corrupted());
        }
        let (nonce, ciphertext) = sealed.get(1..).ok_or_else(corrupted)?.split_at(NONCE_LEN);
        let mut nonce_bytes = [0u8; NONCE_LEN];
        nonce_bytes.copy_from_slice(nonce);
        self.cipher()?
            .decrypt(
                &Nonce::from(nonce_bytes),
                Payload {
                    msg: ciphertext,
                    aad: location.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| corrupted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_location_binding() {
        let cipher = ColumnCipher::from_master_key(&[4; 32]).unwrap();
        let sealed = cipher.seal("device/secret/1", b"key bytes").unwrap();
        assert_eq!(
            cipher.open("device/secret/1", &sealed).unwrap().as_slice(),
            b"key bytes"
        );
        assert!(cipher.open("device/secret/2", &sealed).is_err());
        let other = ColumnCipher::from_master_key(&[5; 32]).unwrap();
        assert!(other.open("device/secret/1", &sealed).is_err());
        assert!(matches!(
            ColumnCipher::from_master_key(&[0; 16]),
            Err(DeviceStoreError::MasterKeyWrongLength { len: 16 })
        ));
    }
}
