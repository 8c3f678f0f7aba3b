//! [`SqliteKv`]: the embedded [`KvStore`] backend, one SQLite file with one
//! `WITHOUT ROWID` table clustered on (address, key), so a range read inside one address
//! is a sequential scan of adjacent pages.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::group::GroupCommit;
use super::validate::{check_address, check_batch, check_key, check_put, duplicate};
use super::{KvError, KvPut, KvStore, PutOutcome, RangePage, RangeScan};
use crate::db::pool::SqlitePool;

/// Table of records; `(address, key)` is the clustered primary key.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kv (
    address TEXT NOT NULL,
    key BLOB NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (address, key)
) WITHOUT ROWID;
";

/// The embedded key-value backend: one SQLite file (8 KiB pages, WAL, `synchronous=FULL`),
/// one writer connection and a pool of readers that never wait behind a write.
#[derive(Debug)]
pub struct SqliteKv {
    pub(super) pool: SqlitePool,
    /// Concurrent batch puts share one commit.
    group: GroupCommit,
}

impl SqliteKv {
    /// Opens the store at `path`, creating the file and its table if needed.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, KvError> {
        Ok(Self {
            pool: SqlitePool::open(path.as_ref(), SCHEMA)?,
            group: GroupCommit::default(),
        })
    }
}

/// Inserts one record unless its address + key exists; reports what happened.
fn put_in(tx: &Connection, put: &KvPut<'_>) -> Result<PutOutcome, KvError> {
    let inserted = tx
        .prepare_cached(
            "INSERT INTO kv (address, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (address, key) DO NOTHING",
        )?
        .execute(params![put.address, put.key, put.value])?;
    if inserted == 1 {
        return Ok(PutOutcome::Stored);
    }
    let same: bool = tx
        .prepare_cached("SELECT value = ?3 FROM kv WHERE address = ?1 AND key = ?2")?
        .query_row(params![put.address, put.key, put.value], |row| row.get(0))?;
    if same {
        Ok(PutOutcome::AlreadyStored)
    } else {
        Err(duplicate(put.address, put.key))
    }
}

impl KvStore for SqliteKv {
    fn put(&self, address: &str, key: &[u8], value: &[u8]) -> Result<PutOutcome, KvError> {
        let put = check_put(address, key, value)?;
        self.pool.write(|tx| put_in(tx, &put))
    }

    fn put_batch(&self, puts: &[KvPut<'_>]) -> Result<Vec<PutOutcome>, KvError> {
        check_batch(puts)?;
        self.group.put_batch(&self.pool, puts, put_in)
    }

    fn get(&self, address: &str, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        check_address(address)?;
        check_key(key)?;
        self.pool.read(|conn| {
            let value = conn
                .prepare_cached("SELECT value FROM kv WHERE address = ?1 AND key = ?2")?
                .query_row(params![address, key], |row| row.get(0))
                .optional()?;
            Ok(value)
        })
    }

    fn scan(&self, scan: RangeScan<'_>) -> Result<RangePage, KvError> {
        self.pool.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT key, value FROM kv
                 WHERE address = ?1 AND key >= ?2 AND key <= ?3 AND (?4 = 0 OR key > ?2)
                 ORDER BY key LIMIT ?5",
            )?;
            let rows = statement.query_map(
                params![
                    scan.address,
                    scan.lower,
                    scan.end_inclusive,
                    scan.lower_excluded,
                    i64::from(scan.limit) + 1
                ],
                |row| Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Vec<u8>>(1)?)),
            )?;
            let rows = rows.collect::<Result<Vec<_>, _>>()?;
            Ok(RangePage::from_rows(rows, scan.limit))
        })
    }

    fn delete(&self, address: &str, key: &[u8]) -> Result<bool, KvError> {
        check_address(address)?;
        check_key(key)?;
        self.pool.write(|tx| {
            let removed = tx
                .prepare_cached("DELETE FROM kv WHERE address = ?1 AND key = ?2")?
                .execute(params![address, key])?;
            Ok(removed == 1)
        })
    }

    fn health(&self) -> super::KvHealth {
        super::KvHealth::up("sqlite")
    }
}
