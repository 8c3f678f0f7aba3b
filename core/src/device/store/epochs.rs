//! Epoch keys per (pool address, day): the key, sealed at rest, and its owner-wrapped
//! form.

use rusqlite::params;

use super::StoredEpoch;
use super::{DeviceStore, Result, optional_pair};

impl DeviceStore {
    /// The epoch of (`address`, `day`): key bytes and its owner-wrapped form.
    pub fn epoch(&self, address: &str, day: &str) -> Result<Option<StoredEpoch>> {
        let row: Option<(Vec<u8>, Vec<u8>)> = optional_pair(
            &self.conn,
            "SELECT key_sealed, wrapped FROM epochs WHERE address = ?1 AND day = ?2",
            params![address, day],
        )?;
        let Some((sealed, wrapped)) = row else {
            return Ok(None);
        };
        let key = self.cipher.open(&epoch_location(address, day), &sealed)?;
        Ok(Some((key, wrapped)))
    }

    /// Saves the epoch of (`address`, `day`).
    pub fn save_epoch(&self, address: &str, day: &str, key: &[u8], wrapped: &[u8]) -> Result<()> {
        let sealed = self.cipher.seal(&epoch_location(address, day), key)?;
        self.conn.execute(
            "INSERT OR REPLACE INTO epochs (address, day, key_sealed, wrapped) VALUES (?1, ?2, ?3, ?4)",
            params![address, day, sealed, wrapped],
        )?;
        Ok(())
    }
}

fn epoch_location(address: &str, day: &str) -> String {
    format!("epochs/key/{address}/{day}")
}
