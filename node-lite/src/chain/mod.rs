//! Block production for the single-validator embedded chain: the validator key, the
//! bounded mempool and the producer that turns it into signed, committed blocks.

mod block;
mod consensus_key;
mod error;
mod mempool;
mod validator;

pub use block::{
    BlockResult, BuildResult, BuiltBlock, MAX_BLOCK_TXS, TxPlacement, build_block,
    build_block_derived, build_decided_block, commit_genesis, decode_header, latest_header,
    produce_block,
};
pub use consensus_key::{CONSENSUS_KEY_FILE, load_or_create_consensus_key};
pub use error::ChainError;
pub use mempool::{Landing, Mempool, Pending};
pub use validator::ValidatorKey;
