//! The car's identity and its pairing in progress: the device key and VID, the
//! pending pairing code, the owner's offer and the chain it names.

use bitcoin::secp256k1::SecretKey;
use rusqlite::{OptionalExtension, params};
use zeroize::Zeroizing;

use super::{DeviceStore, Result, from_i64, optional_pair, to_i64};
use crate::device::error::DeviceStoreError;
use crate::pairing::PairingOffer;

impl DeviceStore {
    /// The device key and its VID, if first boot already happened.
    pub fn device_key(&self) -> Result<Option<(String, SecretKey)>> {
        let row: Option<(String, Vec<u8>)> = optional_pair(
            &self.conn,
            "SELECT vid, secret_sealed FROM device_key WHERE id = 1",
            [],
        )?;
        let Some((vid, sealed)) = row else {
            return Ok(None);
        };
        let bytes = self.cipher.open("device_key/secret/1", &sealed)?;
        let secret = SecretKey::from_slice(&bytes)
            .map_err(|_| DeviceStoreError::Invalid { what: "device key" })?;
        Ok(Some((vid, secret)))
    }

    /// Saves the device key made at first boot (never replaced afterwards).
    pub fn save_device_key(&self, vid: &str, secret: &SecretKey) -> Result<()> {
        let sealed = self.cipher.seal(
            "device_key/secret/1",
            &Zeroizing::new(secret.secret_bytes())[..],
        )?;
        self.conn.execute(
            "INSERT INTO device_key (id, vid, secret_sealed) VALUES (1, ?1, ?2)",
            params![vid, sealed],
        )?;
        Ok(())
    }

    /// Starts a new pairing: stores the code shown and forgets any previous offer.
    pub fn save_pending_code(&self, code: &str, expires_at: u64) -> Result<()> {
        let sealed = self.cipher.seal("pairing/code/1", code.as_bytes())?;
        self.conn.execute(
            "INSERT OR REPLACE INTO pairing (id, code_sealed, expires_at, offer_sealed)
             VALUES (1, ?1, ?2, NULL)",
            params![sealed, to_i64(expires_at)?],
        )?;
        Ok(())
    }

    /// The code of the current pairing and its expiry.
    pub fn pending_code(&self) -> Result<Option<(Zeroizing<String>, u64)>> {
        let row: Option<(Vec<u8>, i64)> = optional_pair(
            &self.conn,
            "SELECT code_sealed, expires_at FROM pairing WHERE id = 1",
            [],
        )?;
        let Some((sealed, expires_at)) = row else {
            return Ok(None);
        };
        let bytes = self.cipher.open("pairing/code/1", &sealed)?;
        let code = String::from_utf8(bytes.to_vec()).map_err(|_| DeviceStoreError::Invalid {
            what: "pairing code",
        })?;
        Ok(Some((Zeroizing::new(code), from_i64(expires_at)?)))
    }

    /// Saves the owner's accepted offer (the car is paired once the ledger agrees).
    pub fn save_offer(&self, offer: &PairingOffer, chain_id: &str, network: &str) -> Result<()> {
        let json = offer
            .to_json()
            .map_err(|_| DeviceStoreError::Invalid { what: "offer" })?;
        let sealed = self.cipher.seal("pairing/offer/1", &json)?;
        let changed = self.conn.execute(
            "UPDATE pairing SET offer_sealed = ?1, chain_id = ?2, network = ?3 WHERE id = 1",
            params![sealed, chain_id, network],
        )?;
        if changed == 0 {
            return Err(DeviceStoreError::Invalid {
                what: "pairing (no code pending)",
            });
        }
        Ok(())
    }

    /// The stored offer, if pairing completed on the car's side.
    pub fn offer(&self) -> Result<Option<PairingOffer>> {
        let sealed: Option<Option<Vec<u8>>> = self
            .conn
            .query_row("SELECT offer_sealed FROM pairing WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        let Some(Some(sealed)) = sealed else {
            return Ok(None);
        };
        let json = self.cipher.open("pairing/offer/1", &sealed)?;
        PairingOffer::from_json(&json)
            .map(Some)
            .map_err(|_| DeviceStoreError::Invalid { what: "offer" })
    }

    /// The chain id and network name the car was paired on.
    pub fn chain(&self) -> Result<Option<(String, String)>> {
        let row: Option<(Option<String>, Option<String>)> = optional_pair(
            &self.conn,
            "SELECT chain_id, network FROM pairing WHERE id = 1",
            [],
        )?;
        Ok(match row {
            Some((Some(chain), Some(network))) => Some((chain, network)),
            _ => None,
        })
    }

    /// Forgets the pairing, its epoch keys and nonces (after a reset or transfer). The
    /// queue is kept: its puts are already sealed and signed for the previous owner.
    pub fn clear_pairing(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute_batch("DELETE FROM pairing; DELETE FROM epochs; DELETE FROM nonces;")?;
        tx.commit()?;
        Ok(())
    }
}
