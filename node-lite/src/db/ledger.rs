//! [`LedgerDb`]: the ledger file. Commits a whole block (header, transactions, state tree
//! changes, metadata) in one SQLite transaction and answers the node's reads.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::block::{BlockWrite, StoredBlock, StoredTx};
use super::error::{DbError, from_sql_int, is_unique_violation, to_sql_int};
use super::pool::SqlitePool;
use super::schema::SCHEMA;
use super::tree::{TreeView, check_batch_version, write_batch};

/// Most blocks one [`LedgerDb::blocks_from`] call returns.
pub const MAX_BLOCKS_PER_READ: u32 = 1000;

/// The ledger database: one SQLite file (8 KiB pages, WAL, `synchronous=FULL`).
#[derive(Debug)]
pub struct LedgerDb {
    pool: SqlitePool,
}

const BLOCK_COLUMNS: &str = "height, hash, header, signature, time";

/// A `blocks` row as SQLite returns it: height, hash, header, signature, time.
type RawBlock = (i64, Vec<u8>, Vec<u8>, Vec<u8>, i64);

fn block_from_row(row: &Row<'_>) -> rusqlite::Result<RawBlock> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn stored_block(raw: RawBlock) -> Result<StoredBlock, DbError> {
    let (height, hash, header, signature, time) = raw;
    Ok(StoredBlock {
        height: from_sql_int("blocks", height)?,
        hash,
        header,
        signature,
        time,
    })
}

fn stored_tx(raw: (Vec<u8>, i64, i64, Vec<u8>)) -> Result<StoredTx, DbError> {
    let (id, height, index, bytes) = raw;
    let index = u32::try_from(index).map_err(|_| DbError::Corrupt {
        table: "txs",
        problem: "index out of range",
    })?;
    Ok(StoredTx {
        id,
        height: from_sql_int("txs", height)?,
        index,
        bytes,
    })
}

fn latest_height_in(conn: &Connection) -> Result<Option<u64>, DbError> {
    let height: Option<i64> = conn
        .prepare_cached("SELECT max(height) FROM blocks")?
        .query_row([], |row| row.get(0))?;
    height.map(|h| from_sql_int("blocks", h)).transpose()
}

/// Writes every part of `block` on `tx`; the caller commits or rolls back.
fn write_block(tx: &Connection, block: &BlockWrite) -> Result<(), DbError> {
    if block.hash.is_empty() {
        return Err(DbError::Empty("block hash"));
    }
    if let Some(latest) = latest_height_in(tx)?
        && latest.checked_add(1) != Some(block.height)
    {
        return Err(DbError::HeightNotNext {
            latest,
            got: block.height,
        });
    }
    check_batch_version(&block.tree_batch, block.height)?;
    let height = to_sql_int("height", block.height)?;
    tx.prepare_cached(
        "INSERT INTO blocks (height, hash, header, signature, time) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        height,
        block.hash,
        block.header,
        block.signature,
        block.time
    ])
    .map_err(|err| match err {
        err if is_unique_violation(&err) => DbError::DuplicateBlockHash {
            hash_hex: hex::encode(&block.hash),
        },
        err => err.into(),
    })?;
    let mut insert_tx =
        tx.prepare_cached("INSERT INTO txs (id, height, idx, bytes) VALUES (?1, ?2, ?3, ?4)")?;
    for (index, (id, bytes)) in block.txs.iter().enumerate() {
        if id.is_empty() {
            return Err(DbError::Empty("transaction id"));
        }
        let index = i64::try_from(index).map_err(|_| DbError::OutOfRange {
            what: "transaction index",
            value: u64::MAX,
        })?;
        insert_tx
            .execute(params![id, height, index, bytes])
            .map_err(|err| match err {
                err if is_unique_violation(&err) => DbError::DuplicateTx {
                    id_hex: hex::encode(id),
                },
                err => err.into(),
            })?;
    }
    write_batch(tx, &block.tree_batch)?;
    let mut upsert_meta = tx.prepare_cached(
        "INSERT INTO meta (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )?;
    for (name, value) in &block.meta {
        if name.is_empty() {
            return Err(DbError::Empty("meta name"));
        }
        upsert_meta.execute(params![name, value])?;
    }
    Ok(())
}

impl LedgerDb {
    /// Opens the ledger file at `path`, creating it and its tables if needed.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, DbError> {
        Ok(Self {
            pool: SqlitePool::open(path.as_ref(), SCHEMA)?,
        })
    }

    /// Stores a block with its transactions, state tree changes and metadata in one
    /// transaction. The first block may have any height; each later one must be the
    /// latest height + 1. On any error nothing of the block is stored.
    pub fn commit_block(&self, block: &BlockWrite) -> Result<(), DbError> {
        self.pool.write(|tx| write_block(tx, block))?;
        tracing::debug!(
            height = block.height,
            txs = block.txs.len(),
            "block committed"
        );
        Ok(())
    }

    /// A read snapshot of the state tree, to build `jmt::Sha256Jmt::new(&view)` on for
    /// `put_value_set(values, next_height)` or `get_with_proof(key_hash, height)`.
    pub fn tree_view(&self) -> Result<TreeView<'_>, DbError> {
        TreeView::begin(self.pool.reader())
    }

    /// The highest stored block height, `None` before the first block.
    pub fn latest_height(&self) -> Result<Option<u64>, DbError> {
        self.pool.read(latest_height_in)
    }

    /// The block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<StoredBlock>, DbError> {
        self.block_where("height", to_sql_int("height", height)?)
    }

    /// The block whose hash is `hash`.
    pub fn block_by_hash(&self, hash: &[u8]) -> Result<Option<StoredBlock>, DbError> {
        self.block_where("hash", hash)
    }

    /// The block whose `column` (`height` or `hash`) is `value`.
    fn block_where(
        &self,
        column: &str,
        value: impl rusqlite::ToSql,
    ) -> Result<Option<StoredBlock>, DbError> {
        self.pool.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {BLOCK_COLUMNS} FROM blocks WHERE {column} = ?1"
            ))?
            .query_row([value], block_from_row)
            .optional()?
            .map(stored_block)
            .transpose()
        })
    }

    /// Up to `limit` blocks (`1..=MAX_BLOCKS_PER_READ`) from `height` upwards, in order.
    pub fn blocks_from(&self, height: u64, limit: u32) -> Result<Vec<StoredBlock>, DbError> {
        if limit == 0 || limit > MAX_BLOCKS_PER_READ {
            return Err(DbError::InvalidLimit {
                limit,
                max: MAX_BLOCKS_PER_READ,
            });
        }
        let Ok(height) = i64::try_from(height) else {
            return Ok(Vec::new());
        };
        self.pool.read(|conn| {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {BLOCK_COLUMNS} FROM blocks WHERE height >= ?1 ORDER BY height LIMIT ?2"
            ))?;
            let rows = statement.query_map(params![height, limit], block_from_row)?;
            rows.map(|raw| stored_block(raw?)).collect()
        })
    }

    /// The transaction with id `id`, with its block height and index.
    pub fn tx(&self, id: &[u8]) -> Result<Option<StoredTx>, DbError> {
        self.pool.read(|conn| {
            conn.prepare_cached("SELECT id, height, idx, bytes FROM txs WHERE id = ?1")?
                .query_row([id], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })
                .optional()?
                .map(stored_tx)
                .transpose()
        })
    }

    /// The transactions of the block at `height`, in block order.
    pub fn block_txs(&self, height: u64) -> Result<Vec<StoredTx>, DbError> {
        let Ok(height) = i64::try_from(height) else {
            return Ok(Vec::new());
        };
        self.pool.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT id, height, idx, bytes FROM txs WHERE height = ?1 ORDER BY idx",
            )?;
            let rows = statement.query_map([height], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?;
            rows.map(|raw| stored_tx(raw?)).collect()
        })
    }

    /// The metadata value named `name`.
    pub fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, DbError> {
        self.pool.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT value FROM meta WHERE name = ?1")?
                .query_row([name], |row| row.get(0))
                .optional()?)
        })
    }
}
