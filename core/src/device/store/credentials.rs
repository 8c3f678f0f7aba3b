//! A private agent node's write credentials, each bound to one pool address on first
//! use.

use rusqlite::params;

use super::StoredCredential;
use super::{DeviceStore, Result, from_i64, optional_pair};

impl DeviceStore {
    /// Keeps freshly issued write credentials of the issuer key `key_id` (sealed).
    pub fn add_credentials(&mut self, key_id: &str, tokens: &[Vec<u8>]) -> Result<()> {
        let location = credential_location(key_id);
        let sealed = tokens
            .iter()
            .map(|token| self.cipher.seal(&location, token))
            .collect::<Result<Vec<_>>>()?;
        let tx = self.conn.transaction()?;
        for token in sealed {
            tx.execute(
                "INSERT INTO write_credentials (key_id, token_sealed) VALUES (?1, ?2)",
                params![key_id, token],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Unused credentials of `key_id`.
    pub fn fresh_credentials(&self, key_id: &str) -> Result<u64> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM write_credentials WHERE key_id = ?1 AND address IS NULL",
            params![key_id],
            |r| r.get(0),
        )?;
        from_i64(n)
    }

    /// The credential of `key_id` bound to `address` and not spent; else a fresh one,
    /// bound to `address` now (atomically). `None` when none is left.
    pub fn credential_for(
        &mut self,
        key_id: &str,
        address: &str,
    ) -> Result<Option<StoredCredential>> {
        let tx = self.conn.transaction()?;
        let bound: Option<(i64, Vec<u8>)> = optional_pair(
            &tx,
            "SELECT id, token_sealed FROM write_credentials
                 WHERE key_id = ?1 AND address = ?2 AND spent = 0 ORDER BY id LIMIT 1",
            params![key_id, address],
        )?;
        let row = match bound {
            Some(row) => Some(row),
            None => {
                let fresh: Option<(i64, Vec<u8>)> = optional_pair(
                    &tx,
                    "SELECT id, token_sealed FROM write_credentials
                         WHERE key_id = ?1 AND address IS NULL ORDER BY id LIMIT 1",
                    params![key_id],
                )?;
                if let Some((id, _)) = &fresh {
                    tx.execute(
                        "UPDATE write_credentials SET address = ?2 WHERE id = ?1",
                        params![id, address],
                    )?;
                }
                fresh
            }
        };
        tx.commit()?;
        row.map(|(id, sealed)| Ok((id, self.cipher.open(&credential_location(key_id), &sealed)?)))
            .transpose()
    }

    /// Marks a credential spent (the node says it stored all it may): its address takes
    /// a fresh one next time.
    pub fn spend_credential(&self, id: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE write_credentials SET spent = 1 WHERE id = ?1",
            params![id],
        )?;
        Ok(())
    }
}

fn credential_location(key_id: &str) -> String {
    format!("write_credentials/token/{key_id}")
}
