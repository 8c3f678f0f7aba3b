//! Errors of block production and the chain's stored blocks.

use carchain_core::protocol::ProtocolError;
use thiserror::Error;

use crate::db::DbError;
use crate::state::TxError;

/// Everything that can go wrong producing, storing or reading blocks.
#[derive(Debug, Error)]
pub enum ChainError {
    /// The ledger file failed.
    #[error("ledger database: {0}")]
    Db(#[from] DbError),
    /// The state machine failed (not a refused transaction: those are per-transaction).
    #[error("state machine: {0}")]
    State(#[from] TxError),
    /// Signing or decoding a protocol object failed.
    #[error("protocol: {0}")]
    Protocol(#[from] ProtocolError),
    /// A stored block does not decode.
    #[error("stored block {height} is corrupt: {problem}")]
    CorruptBlock {
        /// Its height.
        height: u64,
        /// What is wrong.
        problem: String,
    },
    /// A block was produced before the chain has a genesis block.
    #[error("the chain has no genesis block")]
    NoGenesis,
    /// The validator key file is missing, malformed or unwritable.
    #[error("validator key: {0}")]
    ValidatorKey(String),
    /// The operating system's random generator failed.
    #[error("the operating system random generator is unavailable")]
    RandomUnavailable,
}
