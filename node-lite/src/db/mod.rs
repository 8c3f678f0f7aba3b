//! Ledger persistence: blocks, transactions, the Jellyfish Merkle state tree and node
//! metadata in one SQLite file, each block committed in one transaction.
//!
//! Typical block production:
//! ```text
//! let view = db.tree_view()?;
//! let (root, tree_batch) = jmt::Sha256Jmt::new(&view).put_value_set(changes, height)?;
//! drop(view);
//! db.commit_block(&BlockWrite { height, tree_batch, .. })?;
//! ```

mod block;
mod error;
mod ledger;
pub(crate) mod pool;
mod schema;
mod tree;

#[cfg(test)]
pub(crate) mod tests;

pub use block::{BlockWrite, StoredBlock, StoredTx};
pub use error::DbError;
pub use ledger::{LedgerDb, MAX_BLOCKS_PER_READ};
pub use pool::PAGE_SIZE;
pub use tree::TreeView;
