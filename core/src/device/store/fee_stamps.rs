//! Fee stamps the owner handed over, each paying one record put.

use rusqlite::params;
use zeroize::Zeroizing;

use super::{DeviceStore, Result, from_i64, optional_pair};

/// Sealing location of fee stamps.
const FEE_STAMP_LOCATION: &str = "fee_stamps/stamp";

impl DeviceStore {
    /// Keeps fee stamps: `(stamp id, the [`crate::tokens::OwnedStamp`] bytes)`, the
    /// bytes sealed; a stamp held already (same id) is not added twice.
    pub fn add_fee_stamps(&mut self, stamps: &[([u8; 32], &[u8])]) -> Result<()> {
        let sealed = stamps
            .iter()
            .map(|(id, stamp)| Ok((id, self.cipher.seal(FEE_STAMP_LOCATION, stamp)?)))
            .collect::<Result<Vec<_>>>()?;
        let tx = self.conn.transaction()?;
        for (id, stamp) in sealed {
            tx.execute(
                "INSERT OR IGNORE INTO fee_stamps (stamp_id, stamp_sealed) VALUES (?1, ?2)",
                params![id.as_slice(), stamp],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Fee stamps not yet attached to a put.
    pub fn fee_stamp_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM fee_stamps", [], |r| r.get(0))?;
        from_i64(n)
    }

    /// The oldest unattached fee stamp: its row and its bytes.
    pub fn next_fee_stamp(&self) -> Result<Option<(i64, Zeroizing<Vec<u8>>)>> {
        let row: Option<(i64, Vec<u8>)> = optional_pair(
            &self.conn,
            "SELECT id, stamp_sealed FROM fee_stamps ORDER BY id LIMIT 1",
            [],
        )?;
        row.map(|(id, sealed)| Ok((id, self.cipher.open(FEE_STAMP_LOCATION, &sealed)?)))
            .transpose()
    }

    /// Forgets fee stamp `stamp_id` (it paid a put outside the queue, or was refused).
    pub fn remove_fee_stamp(&self, stamp_id: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM fee_stamps WHERE id = ?1", params![stamp_id])?;
        Ok(())
    }

    /// Attaches fee stamp `stamp_id` to the queued put `seq`, whose transaction becomes
    /// `tx` (the put carrying the stamp), in one commit: the stamp leaves the store as
    /// it enters the queue, so it is never attached to two puts.
    pub fn attach_fee_stamp(&mut self, stamp_id: i64, seq: i64, tx_bytes: &[u8]) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM fee_stamps WHERE id = ?1", params![stamp_id])?;
        tx.execute(
            "UPDATE queue SET tx = ?2 WHERE seq = ?1",
            params![seq, tx_bytes],
        )?;
        tx.commit()?;
        Ok(())
    }
}
