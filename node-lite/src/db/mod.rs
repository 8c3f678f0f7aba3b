//! Ledger persistence: blocks, transactions, the Jellyfish Merkle state tree and node
//! metadata in one SQLite file, each block committed in one transaction.

pub(crate) mod pool;

pub use pool::PAGE_SIZE;
