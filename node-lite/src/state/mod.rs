//! The ledger state machine, shaped like an ABCI application so it can later run under a
//! BFT engine: [`App::check_tx`] admits transactions to the mempool,
//! [`App::begin_block`] / [`App::deliver_tx`] / [`App::finalize`] build a block's state
//! changes over the committed tree, and the block producer commits them with
//! `LedgerDb::commit_block` before calling [`App::commit`].

mod auditors;
mod bodies;
mod data_kinds;
mod error;
pub mod escrow;
pub mod grants;
mod layer;
mod lookup;
mod pending;
mod query;
mod requests;
mod rules;
pub mod stake;
pub mod token;
mod tree_update;
mod verified;

#[cfg(test)]
pub(crate) mod tests;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::db::TreeView;

use carchain_core::protocol::SignedTransaction;
use carchain_core::record::FormatRegistry;
use jmt::KeyHash;
use jmt::storage::TreeUpdateBatch;

pub use error::TxError;
pub use layer::{Committed, Layer, ReadCache, Snapshot, StateRead, Writes};
pub use pending::{PendingBlocks, PendingState, PendingView};
pub use query::{query_json, query_key};
pub use rules::{ChainParams, Derived, ExecContext, StampRules, Stateless, TxOutcome};
pub use stake::{PowerChange, StakeParams};
pub use token::{FeeSchedule, Phase};
pub use verified::{DEFAULT_VERIFIED_CAPACITY, Prechecked, VerifiedTxs};

use crate::db::LedgerDb;

/// The block being built.
struct OpenBlock {
    height: u64,
    tip: Tip,
    writes: Writes,
    /// Validators a delivered bond or unbond named (their power may have changed).
    staked: BTreeSet<[u8; 32]>,
}

/// The latest committed block as the rules see it: the ledger clock and the parent hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tip {
    height: Option<u64>,
    time: u64,
    hash: [u8; 32],
}

/// The state machine over the ledger file's committed state and the blocks built on top
/// of it that are still being written (see [`PendingBlocks`]).
pub struct App {
    db: Arc<LedgerDb>,
    params: ChainParams,
    formats: FormatRegistry,
    committed: Option<u64>,
    /// The latest built block (finalized, maybe not yet committed); at least `committed`.
    built: Option<u64>,
    pending: PendingBlocks,
    pending_nonces: HashMap<String, u64>,
    block: Option<OpenBlock>,
    verified: VerifiedTxs,
    tip: Option<Tip>,
    /// The validators whose power the latest finalized block changed.
    power_changes: Vec<PowerChange>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("params", &self.params)
            .field("committed", &self.committed)
            .finish_non_exhaustive()
    }
}

/// Where admission checks run: the block after the latest built one, on its tip.
fn admission_context<'a>(
    params: &'a ChainParams,
    formats: &'a FormatRegistry,
    built: Option<u64>,
    tip: Tip,
) -> ExecContext<'a> {
    ExecContext {
        params,
        formats,
        height: built.map_or(0, |h| h.saturating_add(1)),
        time: tip.time,
        parent_hash: tip.hash,
    }
}

/// The stateful checks of `signed` (derived values `derived`) over `state`, expecting
/// the signer's pending nonce from `pending_nonces`, which advances on success.
fn check_with(
    state: &dyn StateRead,
    ctx: &ExecContext<'_>,
    pending_nonces: &mut HashMap<String, u64>,
    signed: &SignedTransaction,
    derived: &Derived,
    stateless: Stateless,
) -> Result<(), TxError> {
    let mut scratch = Layer::new(state);
    let expected = pending_nonces.get(&derived.signer).copied();
    rules::admit(&mut scratch, ctx, signed, derived, expected, stateless)?;
    pending_nonces.insert(derived.signer.clone(), signed.tx.nonce.saturating_add(1));
    Ok(())
}

impl App {
    /// The state machine over `db` at its latest committed height.
    pub fn new(db: Arc<LedgerDb>, params: ChainParams) -> Result<Self, TxError> {
        let committed = db.latest_height().map_err(TxError::storage)?;
        Ok(Self {
            db,
            params,
            formats: FormatRegistry::with_builtins(),
            committed,
            built: committed,
            pending: PendingBlocks::default(),
            pending_nonces: HashMap::new(),
            block: None,
            verified: VerifiedTxs::new(DEFAULT_VERIFIED_CAPACITY),
            tip: None,
            power_changes: Vec::new(),
        })
    }

    /// The chain parameters.
    pub fn params(&self) -> &ChainParams {
        &self.params
    }

    /// The latest committed height, `None` before genesis.
    pub fn committed_height(&self) -> Option<u64> {
        self.committed
    }

    /// The latest built height (committed or still being written), `None` before genesis.
    pub fn built_height(&self) -> Option<u64> {
        self.built
    }

    fn next_height(&self) -> u64 {
        self.built.map_or(0, |h| h.saturating_add(1))
    }

    /// Records the time and hash of the block just built at `height` (the clock and
    /// parent hash of the next block), so the next block need not read it back.
    pub fn set_tip(&mut self, height: u64, time: u64, hash: [u8; 32]) {
        self.tip = Some(Tip {
            height: Some(height),
            time,
            hash,
        });
    }

    /// The latest built block's time and hash (zero before genesis), read once per
    /// height (from the ledger file unless [`App::set_tip`] told it).
    fn tip(&mut self) -> Result<Tip, TxError> {
        if let Some(tip) = self.tip.filter(|tip| tip.height == self.built) {
            return Ok(tip);
        }
        let mut tip = Tip {
            height: self.built,
            time: 0,
            hash: [0; 32],
        };
        if let Some(height) = self.built {
            let block = self
                .db
                .block(height)
                .map_err(TxError::storage)?
                .ok_or_else(|| TxError::Storage(format!("block {height} is missing")))?;
            tip.time = u64::try_from(block.time).unwrap_or(0);
            tip.hash =
                block.hash.as_slice().try_into().map_err(|_| {
                    TxError::Storage(format!("block {height} hash is not 32 bytes"))
                })?;
        }
        self.tip = Some(tip);
        Ok(tip)
    }

    /// Checks `signed` against the committed state and the mempool's pending nonces; on
    /// success the signer's next pending nonce advances (the mempool accepts consecutive
    /// nonces of one signer).
    pub fn check_tx(&mut self, signed: &SignedTransaction) -> Result<(), TxError> {
        self.check_stateful(signed, Stateless::Check)?;
        self.verified.insert(signed.id());
        Ok(())
    }

    /// [`App::check_tx`] of a transaction whose stateless checks (the signatures) already
    /// passed, on any thread, outside whatever lock guards this app.
    pub fn check_prechecked(&mut self, prechecked: &Prechecked) -> Result<(), TxError> {
        if !prechecked.is_for(&self.params) {
            return Err(TxError::WrongChain);
        }
        self.check_stateful(prechecked.tx(), Stateless::Passed)?;
        self.verified.insert(prechecked.id());
        Ok(())
    }

    /// [`App::check_prechecked`] of each of `txs` in order through one snapshot of the
    /// ledger file, stopping after `limit` are accepted: one answer per transaction,
    /// `None` for those not checked (over the limit). `Err` only when the snapshot cannot
    /// be opened.
    pub fn check_prechecked_all(
        &mut self,
        txs: &[Prechecked],
        limit: usize,
    ) -> Result<Vec<Option<Result<(), TxError>>>, TxError> {
        let tip = self.tip()?;
        let db = Arc::clone(&self.db);
        let view = db.tree_view().map_err(TxError::storage)?;
        let latest = PendingState::new(&view, &self.pending, self.built);
        // Checks change no state, so every read of the batch can be remembered.
        let cached = ReadCache::new(&latest);
        let ctx = admission_context(&self.params, &self.formats, self.built, tip);
        let mut accepted = 0usize;
        let mut answers = Vec::with_capacity(txs.len());
        for prechecked in txs {
            if accepted >= limit {
                answers.push(None);
                continue;
            }
            let answer = if prechecked.is_for(&self.params) {
                check_with(
                    &cached,
                    &ctx,
                    &mut self.pending_nonces,
                    prechecked.tx(),
                    &prechecked.derived(),
                    Stateless::Passed,
                )
            } else {
                Err(TxError::WrongChain)
            };
            if answer.is_ok() {
                self.verified.insert(prechecked.id());
                accepted += 1;
            }
            answers.push(Some(answer));
        }
        Ok(answers)
    }

    /// Checks the transactions of one engine bundle in order, all or none: one answer
    /// per transaction, and when any is refused the mempool's pending nonces are left as
    /// they were before the bundle (the engine keeps none of it). `Err` only when the
    /// ledger file cannot be read.
    pub fn check_bundle(
        &mut self,
        txs: &[Prechecked],
    ) -> Result<Vec<Result<(), TxError>>, TxError> {
        let before: Vec<(String, Option<u64>)> = txs
            .iter()
            .map(|tx| {
                let signer = tx.derived().signer;
                let nonce = self.pending_nonces.get(&signer).copied();
                (signer, nonce)
            })
            .collect();
        let answers: Vec<Result<(), TxError>> = self
            .check_prechecked_all(txs, usize::MAX)?
            .into_iter()
            .map(|answer| answer.unwrap_or_else(|| Err(TxError::Invalid("not checked".into()))))
            .collect();
        if answers.iter().any(Result::is_err) {
            // In reverse, so that a signer's first (oldest) value is the one left.
            for (signer, nonce) in before.into_iter().rev() {
                match nonce {
                    Some(nonce) => self.pending_nonces.insert(signer, nonce),
                    None => self.pending_nonces.remove(&signer),
                };
            }
        }
        Ok(answers)
    }

    /// How many admitted transaction ids are remembered as verified.
    pub fn verified_len(&self) -> usize {
        self.verified.len()
    }

    fn check_stateful(
        &mut self,
        signed: &SignedTransaction,
        stateless: Stateless,
    ) -> Result<(), TxError> {
        let db = Arc::clone(&self.db);
        let view = db.tree_view().map_err(TxError::storage)?;
        self.check_on(&view, signed, stateless)
    }

    fn check_on(
        &mut self,
        view: &TreeView<'_>,
        signed: &SignedTransaction,
        stateless: Stateless,
    ) -> Result<(), TxError> {
        let tip = self.tip()?;
        let latest = PendingState::new(view, &self.pending, self.built);
        let ctx = admission_context(&self.params, &self.formats, self.built, tip);
        check_with(
            &latest,
            &ctx,
            &mut self.pending_nonces,
            signed,
            &Derived::of(signed),
            stateless,
        )
    }

    /// Forgets pending nonces and re-admits the nonces of `waiting` transactions (those
    /// still in the mempool after a block).
    pub fn reset_pending<'a>(&mut self, waiting: impl IntoIterator<Item = &'a SignedTransaction>) {
        self.pending_nonces.clear();
        for signed in waiting {
            let next = signed.tx.nonce.saturating_add(1);
            let entry = self
                .pending_nonces
                .entry(signed.tx.signer_address())
                .or_insert(next);
            *entry = (*entry).max(next);
        }
    }

    /// Opens block `height`, which must follow the committed height (0 for genesis).
    pub fn begin_block(&mut self, height: u64) -> Result<(), TxError> {
        if height != self.next_height() {
            return Err(TxError::Invalid(format!(
                "block {height} does not follow the committed height {:?}",
                self.committed
            )));
        }
        let tip = self.tip()?;
        self.block = Some(OpenBlock {
            height,
            tip,
            writes: Writes::new(),
            staked: BTreeSet::new(),
        });
        Ok(())
    }

    /// Executes `signed` in the open block; on failure nothing of it is kept. A
    /// transaction admitted by `check_tx` (its id remembered) skips the stateless checks
    /// it already passed.
    pub fn deliver_tx(&mut self, signed: &SignedTransaction) -> Result<TxOutcome, TxError> {
        let db = Arc::clone(&self.db);
        let view = db.tree_view().map_err(TxError::storage)?;
        self.deliver_on(&view, signed, None)
    }

    /// [`App::deliver_tx`] of each of `txs` in order, all reading the committed state
    /// through one snapshot, with what admission derived from each transaction
    /// (`derived[i]` is [`Derived::of`] `txs[i]`; a missing entry is derived here). One
    /// result per transaction; `Err` only when the snapshot cannot be opened.
    pub fn deliver_txs(
        &mut self,
        txs: &[SignedTransaction],
        derived: Vec<Option<Derived>>,
    ) -> Result<Vec<Result<TxOutcome, TxError>>, TxError> {
        let db = Arc::clone(&self.db);
        let view = db.tree_view().map_err(TxError::storage)?;
        let mut derived = derived.into_iter();
        Ok(txs
            .iter()
            .map(|signed| {
                let known = derived.next().flatten();
                self.deliver_on(&view, signed, known)
            })
            .collect())
    }

    fn deliver_on(
        &mut self,
        view: &TreeView<'_>,
        signed: &SignedTransaction,
        known: Option<Derived>,
    ) -> Result<TxOutcome, TxError> {
        let derived = known.unwrap_or_else(|| Derived::of(signed));
        debug_assert_eq!(derived, Derived::of(signed));
        let stateless = if self.verified.take(&derived.id) {
            Stateless::Passed
        } else {
            Stateless::Check
        };
        let block = self
            .block
            .as_mut()
            .ok_or_else(|| TxError::Invalid("no open block".into()))?;
        let latest = PendingState::new(view, &self.pending, self.built);
        let overlay = layer::Overlay {
            base: &latest,
            writes: &block.writes,
        };
        let mut scratch = Layer::new(&overlay);
        let ctx = ExecContext {
            params: &self.params,
            formats: &self.formats,
            height: block.height,
            time: block.tip.time,
            parent_hash: block.tip.hash,
        };
        let outcome = rules::execute(&mut scratch, &ctx, signed, &derived, None, stateless)?;
        let writes = scratch.into_writes();
        block.writes.extend(writes);
        if let Some(validator) = stake::validator_of(&signed.tx.body) {
            block.staked.insert(validator);
        }
        Ok(outcome)
    }

    /// Writes `value` under `key` in the open block without rules (genesis state only).
    pub(crate) fn write_genesis(&mut self, key: KeyHash, value: Vec<u8>) -> Result<(), TxError> {
        match self.block.as_mut() {
            Some(block) if block.height == 0 => {
                block.writes.insert(key, Some(value));
                Ok(())
            }
            _ => Err(TxError::Invalid("genesis writes need block 0 open".into())),
        }
    }

    /// Closes the open block: releases the unbondings due at its height, notes the
    /// validators whose power it changed ([`App::power_changes`]), and gives the new
    /// state root and the tree changes to commit at its height. The block becomes the
    /// latest built one: the next block and admission checks build on it while it is
    /// written. Call [`App::commit`] once the ledger file holds it, or
    /// [`App::rollback_to`] if writing it failed.
    pub fn finalize(&mut self) -> Result<([u8; 32], Arc<TreeUpdateBatch>), TxError> {
        let mut block = self
            .block
            .take()
            .ok_or_else(|| TxError::Invalid("no open block".into()))?;
        let view = self.db.tree_view().map_err(TxError::storage)?;
        let before = PendingState::new(&view, &self.pending, self.built);
        let overlay = layer::Overlay {
            base: &before,
            writes: &block.writes,
        };
        let mut end = Layer::new(&overlay);
        stake::end_block(&mut end, block.height)?;
        let released = end.into_writes();
        block.writes.extend(released);
        let after = layer::Overlay {
            base: &before,
            writes: &block.writes,
        };
        self.power_changes = stake::power_changes(&before, &after, &block.staked)?;
        let reader = PendingView {
            view: &view,
            pending: &self.pending,
        };
        let (root, batch) = tree_update::update_tree(&reader, block.writes, block.height)
            .map_err(TxError::storage)?;
        drop(view);
        let batch = Arc::new(batch);
        self.pending.push(block.height, Arc::clone(&batch));
        self.built = Some(block.height);
        Ok((root.0, batch))
    }

    /// The validators whose voting power the latest finalized block changed, with their
    /// new power (0: no longer a validator), in key order.
    pub fn power_changes(&self) -> &[PowerChange] {
        &self.power_changes
    }

    /// Records that block `height` is committed in the ledger file.
    pub fn commit(&mut self, height: u64) {
        self.committed = Some(height);
        self.built = self.built.max(self.committed);
        self.pending.committed(height);
    }

    /// Drops the open block and forgets every built block above `keep` (at least the
    /// committed height): writing one of them failed, so those built on it are void too.
    pub fn rollback_to(&mut self, keep: Option<u64>) {
        let keep = keep.max(self.committed);
        self.block = None;
        self.pending.drop_above(keep);
        self.built = keep;
        self.tip = self.tip.filter(|tip| tip.height == keep);
    }

    /// How many built blocks are held in memory (being written, or the latest
    /// committed one kept as a cache).
    pub fn pending_blocks(&self) -> usize {
        self.pending.len()
    }

    /// Drops the open block, if any (its transactions failed to commit).
    pub fn abort_block(&mut self) {
        self.block = None;
    }
}
