//! The single validator's block producer, as a two-stage pipeline: at each tick it builds
//! the next block from the mempool (under the ledger lock) on top of the block still
//! being written, then hands it to the writer once that write is done. Building block
//! N+1 thus overlaps the SQLite commit (and fsync) of block N.
//!
//! Blocks come every `block_time` when transactions trickle in. Under a backlog (at
//! least [`EAGER_BLOCK_TXS`] waiting, as when cars upload their queues in batches) the
//! producer does not wait for the tick: a batch admission wakes it, and once a write
//! finishes it builds again at once, so building and writing run back to back.
//!
//! Acknowledgements stay behind durability: a transaction's waiter is told its place
//! only after its block is committed to the ledger file. If a write fails, the block
//! built on top of it is void too: both blocks' waiters are told, and the state machine
//! rolls back to the committed height.

use std::time::Instant;

use super::*;
use crate::chain::{BuildResult, build_block_derived};
use crate::state::TxOutcome;

/// Transactions waiting that make the producer build without waiting for its tick.
pub const EAGER_BLOCK_TXS: usize = 256;

/// Whether the mempool holds enough for a block to be built before the next tick.
pub(super) fn has_backlog(ledger: &Ledger) -> bool {
    ledger.mempool.len() >= EAGER_BLOCK_TXS
}

/// A built block on its way to the ledger file, with who waits for its transactions.
pub(super) struct InFlight {
    /// Who waits for each transaction offered to the block, in order.
    batch: Vec<Waiter>,
    /// The signed block.
    block: BuiltBlock,
    /// Per entry of `batch`: its index in the block or why it was dropped.
    outcomes: Vec<Result<(u32, TxOutcome), TxError>>,
    /// When the block started being built (for the log).
    started: Instant,
}

/// Who waits for a transaction's landing, if anyone.
type Waiter = Option<oneshot::Sender<crate::chain::Landing>>;

/// Tells every waiter of `batch` the same refusal.
fn fail_all(batch: Vec<Waiter>, err: &ServiceError) {
    for waiter in batch.into_iter().flatten() {
        let _ = waiter.send(Err(err.clone()));
    }
}

impl Node {
    /// Builds the next block from the mempool on top of the latest built block, if the
    /// mempool holds anything. Transactions refused by the block are answered at once;
    /// when none is left (or building fails) no block comes back.
    fn build_next(&self) -> Option<InFlight> {
        let started = Instant::now();
        let mut ledger = lock(&self.ledger);
        if ledger.mempool.is_empty() {
            return None;
        }
        let taken = ledger.mempool.take(MAX_BLOCK_TXS);
        let mut txs = Vec::with_capacity(taken.len());
        let mut batch: Vec<Waiter> = Vec::with_capacity(taken.len());
        let mut derived = Vec::with_capacity(taken.len());
        for pending in taken {
            txs.push(pending.tx);
            batch.push(pending.waiter);
            derived.push(pending.derived);
        }
        let keep = ledger.app.built_height();
        let Ledger { app, built, .. } = &mut *ledger;
        let result = build_block_derived(app, &self.key, built, &txs, derived, now_ms());
        let result = match result {
            Ok(result) => result,
            Err(err) => {
                ledger.app.rollback_to(keep);
                reset_pending(&mut ledger);
                drop(ledger);
                tracing::error!(%err, "building a block failed");
                fail_all(batch, &internal(&err));
                return None;
            }
        };
        let BuildResult { block, outcomes } = result;
        // Pending nonces stay right while every offered transaction made it in: they
        // count the built block and the mempool alike. A refusal (a gap now) or an empty
        // mempool (nothing pending) resets them.
        let refused = outcomes.iter().any(Result::is_err);
        tracing::debug!(
            txs = batch.len(),
            build_us = started.elapsed().as_micros(),
            "block built"
        );
        if let Some(block) = &block {
            ledger.built = block.header.clone();
        }
        if refused || ledger.mempool.is_empty() {
            reset_pending(&mut ledger);
        }
        drop(ledger);
        if let Some(block) = block {
            Some(InFlight {
                batch,
                block,
                outcomes,
                started,
            })
        } else {
            for (waiter, outcome) in batch.into_iter().zip(outcomes) {
                if let Some(waiter) = waiter {
                    let landing = match outcome {
                        Ok(_) => Err(internal("block vanished")),
                        Err(err) => Err(ServiceError::from(err)),
                    };
                    let _ = waiter.send(landing);
                }
            }
            None
        }
    }

    /// Ends `flight` once its write returned `written`: on success the block becomes
    /// the committed tip and every waiter learns its place; on failure every built
    /// block above the committed tip is void and the waiters are told. Returns whether
    /// the block was committed.
    fn finish(&self, flight: InFlight, written: Result<(), ChainError>) -> bool {
        let InFlight {
            batch,
            block,
            outcomes,
            started,
        } = flight;
        let height = block.height();
        let mut ledger = lock(&self.ledger);
        let committed = match written {
            Ok(()) => {
                ledger.app.commit(height);
                if ledger.built.header.height < height {
                    ledger.built = block.header.clone();
                }
                ledger.latest = block.header;
                drop(ledger);
                true
            }
            Err(err) => {
                roll_back_to_committed(&mut ledger);
                drop(ledger);
                tracing::error!(%err, height, "writing a block failed");
                fail_all(batch, &internal(&err));
                return false;
            }
        };
        tracing::debug!(
            height,
            txs = batch.len(),
            total_us = started.elapsed().as_micros(),
            "block produced"
        );
        for (waiter, outcome) in batch.into_iter().zip(outcomes) {
            if let Some(waiter) = waiter {
                let landing = match outcome {
                    Ok((index, _)) => Ok((height, index)),
                    Err(err) => Err(ServiceError::from(err)),
                };
                let _ = waiter.send(landing);
            }
        }
        committed
    }

    /// Voids `flight`, built on a block that failed to commit (the state machine was
    /// already rolled back by [`Node::finish`]).
    fn void(&self, flight: InFlight) {
        let err = ServiceError::new(
            ErrorCode::Internal,
            "the block below this transaction's block failed to commit",
        );
        fail_all(flight.batch, &err);
    }
}

/// Forgets every block built above the committed tip (one of them failed): the state
/// machine and the built header go back to the committed ones, and the nonces still
/// waiting are re-admitted against that state.
fn roll_back_to_committed(ledger: &mut Ledger) {
    let committed = ledger.app.committed_height();
    ledger.app.rollback_to(committed);
    ledger.built = ledger.latest.clone();
    reset_pending(ledger);
}

/// Re-admits the nonces of the transactions still waiting in the mempool, against the
/// latest built state.
fn reset_pending(ledger: &mut Ledger) {
    let Ledger { app, mempool, .. } = ledger;
    app.reset_pending(mempool.transactions());
}

/// Writes `flight`'s block on a blocking thread; gives the flight back with the result.
fn spawn_write(
    node: &Arc<Node>,
    flight: InFlight,
) -> JoinHandle<(InFlight, Result<(), ChainError>)> {
    let node = Arc::clone(node);
    tokio::task::spawn_blocking(move || {
        let writing = Instant::now();
        let written = flight.block.write_to(&node.db);
        tracing::debug!(
            height = flight.block.height(),
            write_us = writing.elapsed().as_micros(),
            "block written"
        );
        (flight, written)
    })
}

/// Waits for the write in progress, if any (never completes when there is none).
async fn write_done(
    writing: &mut Option<JoinHandle<(InFlight, Result<(), ChainError>)>>,
) -> Result<(InFlight, Result<(), ChainError>), tokio::task::JoinError> {
    match writing.as_mut() {
        Some(handle) => handle.await,
        None => std::future::pending().await,
    }
}

/// Ends the write `done` returned; `false` when the block did not commit.
fn settle(
    node: &Node,
    done: Result<(InFlight, Result<(), ChainError>), tokio::task::JoinError>,
) -> bool {
    match done {
        Ok((flight, written)) => node.finish(flight, written),
        Err(err) => {
            // The write task panicked: its block's waiters were dropped (they see the
            // node as stopped); nothing above the committed height can be trusted.
            tracing::error!(%err, "writing a block panicked");
            roll_back_to_committed(&mut lock(&node.ledger));
            false
        }
    }
}

/// The producer task: every `block_time`, builds the next block (overlapping the write
/// of the previous one), then writes it; a finished write is acknowledged at once.
pub(super) async fn run_producer(node: Arc<Node>, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(node.config.block_time);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut writing: Option<JoinHandle<(InFlight, Result<(), ChainError>)>> = None;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = node.backlog.notified() => {}
            done = write_done(&mut writing) => {
                writing = None;
                settle(&node, done);
                if !has_backlog(&lock(&node.ledger)) {
                    continue;
                }
            }
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
        let builder = Arc::clone(&node);
        let next = match tokio::task::spawn_blocking(move || builder.build_next()).await {
            Ok(next) => next,
            Err(err) => {
                // Whatever the build left half done is dropped; the block being written
                // (if any) still commits on top of the committed state.
                tracing::error!(%err, "block building panicked");
                roll_back_to_committed(&mut lock(&node.ledger));
                None
            }
        };
        let mut next = next;
        if let Some(handle) = writing.take() {
            let done = handle.await;
            // The next write starts as soon as the previous one is durable, before that
            // one is acknowledged: acknowledging waits for the ledger lock, which
            // admissions queued behind the build may hold for a while.
            if matches!(&done, Ok((_, Ok(()))))
                && let Some(built) = next.take()
            {
                writing = Some(spawn_write(&node, built));
            }
            if !settle(&node, done) {
                if let Some(next) = next {
                    node.void(next);
                }
                continue;
            }
        }
        if let Some(next) = next {
            writing = Some(spawn_write(&node, next));
        }
    }
    if let Some(handle) = writing.take() {
        settle(&node, handle.await);
    }
}
