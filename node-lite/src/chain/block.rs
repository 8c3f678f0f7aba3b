//! Building, signing and committing one block: deliver the transactions, close the state
//! tree, sign the header over the transactions' Merkle root and the state root, and store
//! everything in one ledger transaction.

use std::sync::Arc;

use bitcoin::secp256k1::ecdsa::Signature;
use carchain_core::protocol::signing::signature_from_compact;
use carchain_core::protocol::{
    BlockHeader, Canonical, SignedHeader, SignedTransaction, merkle_root,
};

use super::error::ChainError;
use super::validator::ValidatorKey;
use crate::db::{BlockWrite, LedgerDb, StoredBlock};
use crate::genesis::Genesis;
use crate::state::{App, Derived, PowerChange, TxError, TxOutcome};
use jmt::storage::TreeUpdateBatch;

/// Where one offered transaction went: its index in the block, or why it was dropped.
pub type TxPlacement = Result<(u32, TxOutcome), TxError>;

/// Most transactions one block holds.
pub const MAX_BLOCK_TXS: usize = 5_000;

/// What happened to each transaction offered to a block.
#[derive(Debug)]
pub struct BlockResult {
    /// The committed header, `None` when every transaction was refused (no block).
    pub header: Option<SignedHeader>,
    /// Per offered transaction, in order: its index in the block, or why it was dropped.
    pub outcomes: Vec<Result<(u32, TxOutcome), TxError>>,
}

/// Decodes a stored block into its signed header.
pub fn decode_header(stored: &StoredBlock) -> Result<SignedHeader, ChainError> {
    let corrupt = |problem: String| ChainError::CorruptBlock {
        height: stored.height,
        problem,
    };
    let header = BlockHeader::from_canonical(&stored.header).map_err(|e| corrupt(e.to_string()))?;
    let compact: [u8; 64] = stored
        .signature
        .as_slice()
        .try_into()
        .map_err(|_| corrupt("signature is not 64 bytes".into()))?;
    let signature: Signature =
        signature_from_compact(&compact).map_err(|e| corrupt(e.to_string()))?;
    Ok(SignedHeader { header, signature })
}

/// The latest committed header, `None` before genesis.
pub fn latest_header(db: &LedgerDb) -> Result<Option<SignedHeader>, ChainError> {
    let Some(height) = db.latest_height()? else {
        return Ok(None);
    };
    let stored = db.block(height)?.ok_or(ChainError::CorruptBlock {
        height,
        problem: "latest block missing".into(),
    })?;
    decode_header(&stored).map(Some)
}

/// A block built, signed and ready to write: the slow, durable part (the SQLite commit
/// with its fsync) can run without the lock that guards the state machine.
#[derive(Debug)]
pub struct BuiltBlock {
    /// The signed header.
    pub header: SignedHeader,
    /// The validators whose voting power the block changed (a consensus engine's
    /// validator updates; the embedded producer has none to make).
    pub power_changes: Vec<PowerChange>,
    write: BlockWrite,
}

impl BuiltBlock {
    /// The block's height.
    pub fn height(&self) -> u64 {
        self.header.header.height
    }

    /// Writes the block to the ledger file in one transaction (durable on return). Call
    /// [`App::commit`] with its height afterwards, or [`App::abort_block`] on failure.
    pub fn write_to(&self, db: &LedgerDb) -> Result<(), ChainError> {
        db.commit_block(&self.write)?;
        Ok(())
    }
}

/// Signs `header` and tells `app` the new tip (the next block's clock and parent).
fn seal(
    app: &mut App,
    key: &ValidatorKey,
    header: BlockHeader,
    txs: Vec<(Vec<u8>, Vec<u8>)>,
    tree_batch: Arc<TreeUpdateBatch>,
) -> Result<BuiltBlock, ChainError> {
    let height = header.height;
    let signed = key.sign(header)?;
    let hash = signed.header.hash();
    app.set_tip(height, signed.header.time, hash);
    let write = BlockWrite {
        height,
        hash: hash.to_vec(),
        header: signed.header.to_canonical(),
        signature: signed.signature.serialize_compact().to_vec(),
        time: i64::try_from(signed.header.time).unwrap_or(i64::MAX),
        txs,
        tree_batch,
        meta: Vec::new(),
    };
    Ok(BuiltBlock {
        header: signed,
        power_changes: app.power_changes().to_vec(),
        write,
    })
}

fn commit(app: &mut App, db: &LedgerDb, built: BuiltBlock) -> Result<SignedHeader, ChainError> {
    built.write_to(db)?;
    app.commit(built.height());
    Ok(built.header)
}

/// Commits block 0 with the genesis state.
pub fn commit_genesis(
    app: &mut App,
    db: &LedgerDb,
    key: &ValidatorKey,
    genesis: &Genesis,
) -> Result<SignedHeader, ChainError> {
    let writes = genesis
        .state()
        .map_err(|e| TxError::Invalid(e.to_string()))?;
    app.begin_block(0)?;
    for (state_key, value) in writes {
        app.write_genesis(state_key, value)?;
    }
    let (state_root, tree_batch) = app.finalize()?;
    let header = BlockHeader {
        chain_id: genesis.chain_id.clone(),
        height: 0,
        time: genesis.genesis_time,
        prev_hash: [0; 32],
        tx_root: merkle_root(&[]),
        state_root,
        tx_count: 0,
        proposer: key.public_key(),
    };
    let built = seal(app, key, header, Vec::new(), tree_batch)?;
    commit(app, db, built)
}

/// What [`build_block`] made of the offered transactions.
#[derive(Debug)]
pub struct BuildResult {
    /// The block to write, `None` when every transaction was refused (no block).
    pub block: Option<BuiltBlock>,
    /// Per offered transaction, in order: its index in the block, or why it was dropped.
    pub outcomes: Vec<Result<(u32, TxOutcome), TxError>>,
}

/// Delivers `txs` (at most [`MAX_BLOCK_TXS`]) on top of `prev`, closes the state tree
/// and signs the header at `time` (never before `prev`'s time), without writing
/// anything: the caller writes the block ([`BuiltBlock::write_to`]) then calls
/// [`App::commit`]. Refused transactions are dropped; when none is left no block is made.
pub fn build_block(
    app: &mut App,
    key: &ValidatorKey,
    prev: &SignedHeader,
    txs: &[SignedTransaction],
    time: u64,
) -> Result<BuildResult, ChainError> {
    build_block_derived(app, key, prev, txs, Vec::new(), time)
}

/// [`build_block`] with what admission derived from each transaction (`derived[i]`
/// belongs to `txs[i]`; a missing entry is derived again).
pub fn build_block_derived(
    app: &mut App,
    key: &ValidatorKey,
    prev: &SignedHeader,
    txs: &[SignedTransaction],
    derived: Vec<Option<Derived>>,
    time: u64,
) -> Result<BuildResult, ChainError> {
    build(app, key, prev, txs, derived, time, false)
}

/// [`build_block_derived`] for a block a consensus engine already decided: the block is
/// made even when no transaction is left (every height of the engine's chain is a
/// ledger block, so the engine's heights and the ledger's stay equal).
pub fn build_decided_block(
    app: &mut App,
    key: &ValidatorKey,
    prev: &SignedHeader,
    txs: &[SignedTransaction],
    time: u64,
) -> Result<(BuiltBlock, Vec<TxPlacement>), ChainError> {
    let built = build(app, key, prev, txs, Vec::new(), time, true)?;
    let block = built.block.ok_or_else(|| ChainError::CorruptBlock {
        height: prev.header.height.saturating_add(1),
        problem: "a decided block was not built".into(),
    })?;
    Ok((block, built.outcomes))
}

fn build(
    app: &mut App,
    key: &ValidatorKey,
    prev: &SignedHeader,
    txs: &[SignedTransaction],
    derived: Vec<Option<Derived>>,
    time: u64,
    keep_empty: bool,
) -> Result<BuildResult, ChainError> {
    let height = prev.header.height.saturating_add(1);
    app.begin_block(height)?;
    let mut outcomes = Vec::with_capacity(txs.len());
    let mut included: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut ids = Vec::new();
    let offered = txs.get(..MAX_BLOCK_TXS).unwrap_or(txs);
    let delivered = app.deliver_txs(offered, derived)?;
    for (signed, delivery) in offered.iter().zip(delivered) {
        match delivery {
            Ok(outcome) => {
                let index = u32::try_from(ids.len()).unwrap_or(u32::MAX);
                ids.push(outcome.tx_id);
                included.push((outcome.tx_id.to_vec(), signed.to_canonical()));
                outcomes.push(Ok((index, outcome)));
            }
            Err(err) => outcomes.push(Err(err)),
        }
    }
    for _ in txs.iter().skip(MAX_BLOCK_TXS) {
        outcomes.push(Err(TxError::Invalid("block is full".into())));
    }
    if ids.is_empty() && !keep_empty {
        app.abort_block();
        return Ok(BuildResult {
            block: None,
            outcomes,
        });
    }
    let (state_root, tree_batch) = app.finalize()?;
    let header = BlockHeader {
        chain_id: prev.header.chain_id.clone(),
        height,
        time: time.max(prev.header.time),
        prev_hash: prev.header.hash(),
        tx_root: merkle_root(&ids),
        state_root,
        tx_count: u32::try_from(ids.len()).unwrap_or(u32::MAX),
        proposer: key.public_key(),
    };
    let block = seal(app, key, header, included, tree_batch)?;
    Ok(BuildResult {
        block: Some(block),
        outcomes,
    })
}

/// Delivers `txs` (at most [`MAX_BLOCK_TXS`]) on top of `prev` and commits the block at
/// `time` (never before `prev`'s time): [`build_block`], write, [`App::commit`].
/// Refused transactions are dropped; when none is left no block is made.
pub fn produce_block(
    app: &mut App,
    db: &LedgerDb,
    key: &ValidatorKey,
    prev: &SignedHeader,
    txs: &[SignedTransaction],
    time: u64,
) -> Result<BlockResult, ChainError> {
    let built = build_block(app, key, prev, txs, time)?;
    let header = built
        .block
        .map(|block| commit(app, db, block))
        .transpose()?;
    Ok(BlockResult {
        header,
        outcomes: built.outcomes,
    })
}
