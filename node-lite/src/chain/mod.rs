//! Block production for the single-validator embedded chain: the validator key, the
//! bounded mempool and the producer that turns it into signed, committed blocks.

mod block;
mod consensus_key;
mod error;
mod issuer_key;
mod mempool;
mod read_tokens;
mod validator;

pub use block::{
    BlockResult, BuildResult, BuiltBlock, MAX_BLOCK_TXS, TxPlacement, build_block,
    build_block_derived, build_decided_block, commit_genesis, decode_header, latest_header,
    produce_block,
};
pub use consensus_key::{CONSENSUS_KEY_FILE, load_or_create_consensus_key};
pub use error::ChainError;
pub use issuer_key::{ISSUER_KEY_FILE, load_or_create_issuer, load_or_create_key_file};
pub use mempool::{Landing, Mempool, Pending};
pub use read_tokens::{PaymentTerms, ReadTokens, TOKENS_FILE};
pub use validator::ValidatorKey;
