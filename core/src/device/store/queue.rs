//! The offline queue of signed puts, delivered in order, and each pool address's next
//! nonce.

use rusqlite::{OptionalExtension, params};

use super::{DeviceStore, Result, from_i64, to_i64};
use super::{NewPut, QueuedPut};

impl DeviceStore {
    /// The next nonce to use for `address`, when known locally.
    pub fn next_nonce(&self, address: &str) -> Result<Option<u64>> {
        let nonce: Option<i64> = self
            .conn
            .query_row(
                "SELECT next_nonce FROM nonces WHERE address = ?1",
                params![address],
                |r| r.get(0),
            )
            .optional()?;
        nonce.map(from_i64).transpose()
    }

    /// Forgets the local nonce of `address` (the ledger disagreed; ask it again).
    pub fn forget_nonce(&self, address: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM nonces WHERE address = ?1", params![address])?;
        Ok(())
    }

    /// Adds `put` to the queue and records `next_nonce` for its address, atomically.
    /// Returns the queue position.
    pub fn enqueue(&mut self, put: &NewPut<'_>, next_nonce: u64) -> Result<i64> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO queue (address, key, format, envelope, tx, key_index, created_at, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending')",
            params![
                put.address,
                put.key,
                put.format,
                put.envelope,
                put.tx,
                put.key_index,
                to_i64(put.created_at)?
            ],
        )?;
        let seq = tx.last_insert_rowid();
        tx.execute(
            "INSERT OR REPLACE INTO nonces (address, next_nonce) VALUES (?1, ?2)",
            params![put.address, to_i64(next_nonce)?],
        )?;
        tx.commit()?;
        Ok(seq)
    }

    /// Up to `limit` queued puts, oldest first.
    pub fn queued(&self, limit: usize) -> Result<Vec<QueuedPut>> {
        self.select_queued(
            "SELECT seq, address, key, format, envelope, tx, created_at, state, key_index
             FROM queue ORDER BY seq LIMIT ?1",
            params![i64::try_from(limit).unwrap_or(i64::MAX)],
        )
    }

    /// Up to `limit` queued puts of `address` after queue position `after`, oldest first.
    pub fn queued_for(&self, address: &str, after: i64, limit: usize) -> Result<Vec<QueuedPut>> {
        self.select_queued(
            "SELECT seq, address, key, format, envelope, tx, created_at, state, key_index
             FROM queue WHERE address = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            params![address, after, i64::try_from(limit).unwrap_or(i64::MAX)],
        )
    }

    /// The addresses that have puts waiting, each once (in no meaningful order).
    pub fn queued_addresses(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT address FROM queue ORDER BY address")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    fn select_queued(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<QueuedPut>> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map(args, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Vec<u8>>(4)?,
                r.get::<_, Vec<u8>>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, u32>(8)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, address, key, format, envelope, tx, created_at, state, key_index) = row?;
            out.push(QueuedPut {
                seq,
                address,
                key,
                format,
                envelope,
                tx,
                key_index,
                created_at: from_i64(created_at)?,
                submitted: state == "submitted",
            });
        }
        Ok(out)
    }

    /// Marks the transaction of `seq` as on the ledger (only the value remains to send).
    pub fn mark_submitted(&self, seq: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE queue SET state = 'submitted' WHERE seq = ?1",
            params![seq],
        )?;
        Ok(())
    }

    /// Replaces the signed transaction of `seq` (re-signed with the ledger's nonce, or in
    /// the current transaction format); a re-signed transaction has not reached the
    /// ledger, so the put is pending again.
    pub fn update_tx(&self, seq: i64, tx: &[u8]) -> Result<()> {
        self.conn.execute(
            "UPDATE queue SET tx = ?2, state = 'pending' WHERE seq = ?1",
            params![seq, tx],
        )?;
        Ok(())
    }

    /// Records the next nonce of `address`.
    pub fn set_next_nonce(&self, address: &str, next_nonce: u64) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO nonces (address, next_nonce) VALUES (?1, ?2)",
            params![address, to_i64(next_nonce)?],
        )?;
        Ok(())
    }

    /// Removes the delivered puts `delivered` (queue position, nonce) of `address` and
    /// moves its next nonce past the highest of them, in one commit: a batch's settlement
    /// costs one durable write, and a crash before it leaves the batch queued (sent again,
    /// the node answers "already stored").
    pub fn settle_delivered(&mut self, address: &str, delivered: &[(i64, u64)]) -> Result<()> {
        let Some(highest) = delivered.iter().map(|(_, nonce)| *nonce).max() else {
            return Ok(());
        };
        let next = to_i64(highest.saturating_add(1))?;
        let tx = self.conn.transaction()?;
        {
            let mut remove = tx.prepare_cached("DELETE FROM queue WHERE seq = ?1")?;
            for (seq, _) in delivered {
                remove.execute(params![seq])?;
            }
        }
        tx.execute(
            "INSERT INTO nonces (address, next_nonce) VALUES (?1, ?2)
             ON CONFLICT(address) DO UPDATE SET next_nonce = max(next_nonce, excluded.next_nonce)",
            params![address, next],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Number of puts waiting.
    pub fn queue_len(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM queue", [], |r| r.get(0))?;
        from_i64(n)
    }
}
