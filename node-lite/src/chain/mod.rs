//! Block production for the single-validator embedded chain: the validator key, the
//! bounded mempool and the producer that turns it into signed, committed blocks.

mod block;
mod error;
mod validator;

pub use block::{
    BlockResult, MAX_BLOCK_TXS, commit_genesis, decode_header, latest_header, produce_block,
};
pub use error::ChainError;
pub use validator::ValidatorKey;
