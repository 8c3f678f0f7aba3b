//! Encryption of the car store's secret columns (device key, pairing code, offer, epoch
//! keys) under a 32-byte master key that the host keeps in its secure storage
//! ([`crate::store::SecretStore`], name [`DEVICE_MASTER_KEY_NAME`]).
//!
//! Column key = HKDF-SHA256(salt `"carchain.device.store"`, master key, info
//! `"at-rest/chacha20poly1305/v1"`). Sealed value = `0x01 || nonce (12) || ciphertext ||
//! tag`, associated data `table/column/row`, so a value moved elsewhere fails to open.

use zeroize::Zeroizing;

use super::error::DeviceStoreError;
use crate::store::at_rest::{SealFailure, derive_column_key, open_value, seal_value};

/// Name of the car store's master key in the host's secret store.
pub const DEVICE_MASTER_KEY_NAME: &str = "carchain.device.master-key";

/// Seals and opens secret column values.
pub(crate) struct ColumnCipher {
    key: Zeroizing<[u8; 32]>,
}

impl ColumnCipher {
    /// Derives the column key from the master key.
    pub(crate) fn from_master_key(master: &[u8]) -> Result<Self, DeviceStoreError> {
        let wrong_length = || DeviceStoreError::MasterKeyWrongLength { len: master.len() };
        if master.len() != 32 {
            return Err(wrong_length());
        }
        let key = derive_column_key(b"carchain.device.store", master).ok_or_else(wrong_length)?;
        Ok(Self { key })
    }

    /// Seals `plaintext` stored at `location` (`table/column/row`).
    pub(crate) fn seal(
        &self,
        location: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, DeviceStoreError> {
        seal_value(&self.key, location.as_bytes(), plaintext).map_err(|failure| match failure {
            SealFailure::Random => DeviceStoreError::Random,
            SealFailure::Cipher => corrupted(location),
        })
    }

    /// Opens a value sealed for `location`.
    pub(crate) fn open(
        &self,
        location: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, DeviceStoreError> {
        open_value(&self.key, location.as_bytes(), sealed).ok_or_else(|| corrupted(location))
    }
}

fn corrupted(location: &str) -> DeviceStoreError {
    DeviceStoreError::SecretCorrupted {
        location: location.to_owned(),
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
