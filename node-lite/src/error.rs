//! Errors of creating, starting and running a node.

use std::path::PathBuf;

use thiserror::Error;

use crate::chain::ChainError;
use crate::db::DbError;
use crate::genesis::GenesisError;
use crate::kv::KvError;
use crate::state::TxError;

/// Why a node could not be initialised or started.
#[derive(Debug, Error)]
pub enum NodeError {
    /// `init` was pointed at a directory that already holds files.
    #[error("data directory {} already exists and is not empty", path.display())]
    DataDirExists {
        /// The directory.
        path: PathBuf,
    },
    /// A file or directory operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The genesis file is missing or invalid.
    #[error("genesis: {0}")]
    Genesis(#[from] GenesisError),
    /// Blocks or the validator key failed.
    #[error("chain: {0}")]
    Chain(#[from] ChainError),
    /// A token issuer key file failed.
    #[error(transparent)]
    IssuerKey(#[from] crate::tokens::IssuerKeyError),
    /// The ledger database failed.
    #[error("ledger database: {0}")]
    Db(#[from] DbError),
    /// The key-value store failed.
    #[error("key-value store: {0}")]
    Kv(#[from] KvError),
    /// The state machine failed.
    #[error("state: {0}")]
    State(#[from] TxError),
    /// The read-token tables failed.
    #[error("read tokens: {0}")]
    Tokens(#[from] rusqlite::Error),
    /// The validator key file does not belong to the genesis' validator.
    #[error("validator.key is not the genesis validator's key")]
    ValidatorMismatch,
    /// The stored chain is not the genesis file's chain.
    #[error("the ledger holds chain {stored:?}, the genesis file names {genesis:?}")]
    ChainMismatch {
        /// Chain id in the stored headers.
        stored: String,
        /// Chain id of the genesis file.
        genesis: String,
    },
    /// The latest header's state root is not the stored state tree's root: the ledger
    /// file is damaged or was edited.
    #[error("state root mismatch at height {height}: header {header_root}, state tree {tree_root}")]
    StateRootMismatch {
        /// The latest height.
        height: u64,
        /// The header's state root (hex).
        header_root: String,
        /// The tree's root at that version (hex).
        tree_root: String,
    },
    /// A private node's write-credential key file is unreadable or cannot be made.
    #[error("write credential key: {0}")]
    WriteKey(String),
    /// A configuration value is unusable.
    #[error("configuration: {0}")]
    Config(String),
}
