//! The records the ledger database stores and returns: a block to commit, and the
//! stored forms of blocks and transactions. Contents are opaque bytes encoded by the
//! ledger protocol.

use std::sync::Arc;

use jmt::storage::TreeUpdateBatch;

/// Everything one block changes, committed by [`LedgerDb::commit_block`] in one SQLite
/// transaction: all of it is stored, or (on any error) none of it.
///
/// [`LedgerDb::commit_block`]: super::LedgerDb::commit_block
#[derive(Debug, Clone)]
pub struct BlockWrite {
    /// Block height; also the version of the state tree written by `tree_batch`.
    pub height: u64,
    /// Block hash (non-empty, unique).
    pub hash: Vec<u8>,
    /// Encoded block header.
    pub header: Vec<u8>,
    /// The producer's signature over the header.
    pub signature: Vec<u8>,
    /// Block time as the ledger encodes it (Unix milliseconds).
    pub time: i64,
    /// `(id, encoded transaction)` in block order; ids are unique across the ledger.
    pub txs: Vec<(Vec<u8>, Vec<u8>)>,
    /// The state tree changes of this block, from `JellyfishMerkleTree::put_value_set`
    /// at version `height` (shared with the state machine, which reads it until the
    /// block is committed).
    pub tree_batch: Arc<TreeUpdateBatch>,
    /// `(name, value)` node metadata to set (insert or replace).
    pub meta: Vec<(String, Vec<u8>)>,
}

/// A stored block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlock {
    /// Block height.
    pub height: u64,
    /// Block hash.
    pub hash: Vec<u8>,
    /// Encoded block header.
    pub header: Vec<u8>,
    /// The producer's signature over the header.
    pub signature: Vec<u8>,
    /// Block time (Unix milliseconds).
    pub time: i64,
}

/// A stored transaction with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTx {
    /// Transaction id.
    pub id: Vec<u8>,
    /// Height of the block that holds it.
    pub height: u64,
    /// Its index inside that block.
    pub index: u32,
    /// The encoded transaction.
    pub bytes: Vec<u8>,
}
