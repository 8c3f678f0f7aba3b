//! Errors of the ledger database.

use thiserror::Error;

/// Everything that can go wrong persisting or reading the ledger.
#[derive(Debug, Error)]
pub enum DbError {
    /// A height, version or count does not fit SQLite's signed 64-bit integers.
    #[error("{what} {value} is out of range for the database")]
    OutOfRange {
        /// What the number is ("height", "version", ...).
        what: &'static str,
        /// The rejected number.
        value: u64,
    },
    /// A block's height is not the one after the latest stored block.
    #[error("block height {got} does not follow the latest stored height {latest}")]
    HeightNotNext {
        /// The latest stored height.
        latest: u64,
        /// The height of the rejected block.
        got: u64,
    },
    /// A required byte field (block hash, tx id) was empty.
    #[error("the {0} is empty")]
    Empty(&'static str),
    /// A block with this hash is already stored.
    #[error("a block with hash {hash_hex} is already stored")]
    DuplicateBlockHash {
        /// The hash, hex encoded.
        hash_hex: String,
    },
    /// A transaction with this id is already stored (in this or an earlier block).
    #[error("a transaction with id {id_hex} is already stored")]
    DuplicateTx {
        /// The transaction id, hex encoded.
        id_hex: String,
    },
    /// The tree batch holds a node or value for a version other than the block height.
    #[error("the tree batch holds version {version}, the block height is {height}")]
    TreeVersionMismatch {
        /// The block height.
        height: u64,
        /// The offending version in the batch.
        version: u64,
    },
    /// A range limit outside `1..=MAX_BLOCKS_PER_READ`.
    #[error("limit {limit} is outside 1..={max}")]
    InvalidLimit {
        /// The rejected limit.
        limit: u32,
        /// The maximum allowed limit.
        max: u32,
    },
    /// A stored tree node or node key could not be encoded or decoded.
    #[error("tree node encoding: {0}")]
    NodeEncoding(#[from] std::io::Error),
    /// A stored row holds a value this code cannot have written.
    #[error("corrupt row in {table}: {problem}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What is wrong.
        problem: &'static str,
    },
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Converts an unsigned height or version to SQLite's integer type.
pub(crate) fn to_sql_int(what: &'static str, value: u64) -> Result<i64, DbError> {
    i64::try_from(value).map_err(|_| DbError::OutOfRange { what, value })
}

/// Converts a stored integer back to an unsigned height, version or index.
pub(crate) fn from_sql_int(table: &'static str, value: i64) -> Result<u64, DbError> {
    u64::try_from(value).map_err(|_| DbError::Corrupt {
        table,
        problem: "negative integer",
    })
}

/// Whether `err` is SQLite refusing a row for a UNIQUE or PRIMARY KEY constraint.
pub(crate) fn is_unique_violation(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ConstraintViolation)
    )
}
