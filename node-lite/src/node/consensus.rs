//! The node as the application of a BFT consensus engine (CometBFT over ABCI 2.0): the
//! engine orders transactions and decides blocks; the node checks transactions for the
//! engine's mempool, executes each decided block through the same state machine as the
//! embedded producer, and makes it durable on Commit. The app hash the engine agrees on
//! is the state tree's root.
//!
//! Every engine height is a ledger block (an empty one too), so heights are the same on
//! both sides: the ledger's genesis is block 0, the engine's first block is height 1.
//! The ledger header is built from what the engine decided only (its time, the
//! transactions, the parent header), so every honest node builds the same header.
//!
//! Submissions (`POST /v1/tx`, `POST /v1/records`) go to the local engine's RPC
//! (`broadcast_tx_sync`, whose answer is this node's own CheckTx) and wait for the
//! block that commits them here, as the embedded node's do.

use std::collections::HashMap;

use crate::abci::rpc::{CheckResult, CometRpc, RpcError};
use crate::abci::{bundle, codes};
use crate::chain::{Landing, build_decided_block};
use crate::state::PowerChange;

use super::*;

/// How blocks are decided.
pub(crate) enum Consensus {
    /// The built-in single-validator producer.
    Embedded,
    /// A CometBFT engine, through ABCI and its RPC.
    Comet(Box<CometLink>),
}

/// One engine transaction's CheckTx answer: one result per ledger transaction it
/// carries (one for a single transaction, one per item of a bundle).
pub(super) type CheckAnswer = Vec<Result<(), ServiceError>>;

/// Where an engine transaction's CheckTx answer goes.
type CheckSender = oneshot::Sender<CheckAnswer>;

/// The node's side of a CometBFT engine.
pub(crate) struct CometLink {
    pub(crate) rpc: CometRpc,
    /// Who waits for which transaction's commit.
    waiters: Mutex<HashMap<[u8; 32], Vec<oneshot::Sender<Landing>>>>,
    /// Who waits for which transaction's first CheckTx here (an asynchronous broadcast).
    pub(super) checks: Mutex<HashMap<[u8; 32], Vec<CheckSender>>>,
    /// The block FinalizeBlock built, made durable by Commit.
    decided: Mutex<Option<Decided>>,
}

/// One transaction of a decided block: its id (`None`: undecodable) and its place in
/// the ledger block or why it was refused.
type TxResult = (Option<[u8; 32]>, Result<u32, ServiceError>);

/// A decided block between FinalizeBlock and Commit.
struct Decided {
    block: BuiltBlock,
    /// Per transaction of the engine's block: its id (`None`: undecodable) and its place
    /// in the ledger block or why it was refused.
    results: Vec<TxResult>,
}

/// What FinalizeBlock answers.
#[derive(Debug)]
pub struct Finalized {
    /// The state root after the block: the app hash.
    pub app_hash: [u8; 32],
    /// Per engine transaction, in the block's order: accepted or why it was refused (a
    /// bundle: its first refused transaction's reason; the others of the bundle are
    /// executed, each on its own).
    pub results: Vec<Result<(), ServiceError>>,
    /// The validators whose voting power the block changed, with their new power (0:
    /// removed), in key order: FinalizeBlock's validator updates.
    pub validator_updates: Vec<PowerChange>,
}

/// How to reach the CometBFT engine the node serves.
#[derive(Debug, Clone)]
pub struct CometOptions {
    /// The engine's RPC URL (loopback), e.g. `http://127.0.0.1:26657`.
    pub rpc_url: String,
}

impl CometLink {
    pub(crate) fn new(options: &CometOptions) -> Result<Self, NodeError> {
        let rpc = CometRpc::new(&options.rpc_url)
            .map_err(|err| NodeError::Config(format!("CometBFT RPC: {err}")))?;
        Ok(CometLink {
            rpc,
            waiters: Mutex::new(HashMap::new()),
            checks: Mutex::new(HashMap::new()),
            decided: Mutex::new(None),
        })
    }

    /// Registers a waiter for `id`'s commit.
    pub(crate) fn wait_for(&self, id: [u8; 32]) -> oneshot::Receiver<Landing> {
        let (sender, receiver) = oneshot::channel();
        lock(&self.waiters).entry(id).or_default().push(sender);
        receiver
    }

    /// Forgets the waiters of `id` whose receiver is gone.
    pub(crate) fn forget(&self, id: &[u8; 32]) {
        forget_closed(&self.waiters, id);
    }

    fn tell(&self, id: &[u8; 32], landing: &Landing) {
        let senders = lock(&self.waiters).remove(id).unwrap_or_default();
        for sender in senders {
            let _ = sender.send(landing.clone());
        }
    }

    fn tell_all(&self, err: &ServiceError) {
        let all: Vec<_> = lock(&self.waiters).drain().collect();
        for (_, senders) in all {
            for sender in senders {
                let _ = sender.send(Err(err.clone()));
            }
        }
    }

    /// Hands `tx` to the engine's mempool: `Ok` once admitted (or already known to it).
    pub(crate) async fn broadcast(&self, tx: &SignedTransaction) -> Result<(), ServiceError> {
        admitted(self.rpc.broadcast_tx_sync(&tx.to_canonical()).await)
    }

    /// Registers a waiter for the first CheckTx of the engine transaction `id` on this
    /// node.
    pub(super) fn check_of(&self, id: [u8; 32]) -> oneshot::Receiver<CheckAnswer> {
        let (sender, receiver) = oneshot::channel();
        lock(&self.checks).entry(id).or_default().push(sender);
        receiver
    }

    /// Whether this node's API checked `id` and waits for its first CheckTx here (it
    /// registers the wait only after the transaction passed its stateless checks).
    fn awaits_check(&self, id: &[u8; 32]) -> bool {
        lock(&self.checks).contains_key(id)
    }

    /// Tells whoever waits for the engine transaction `id`'s CheckTx its answer.
    fn checked(&self, id: &[u8; 32], answer: &CheckAnswer) {
        let senders = lock(&self.checks).remove(id).unwrap_or_default();
        for sender in senders {
            let _ = sender.send(answer.clone());
        }
    }
}

/// Longest wait for the CheckTx of a transaction the engine took asynchronously (it
/// runs within one flush of the engine's ABCI connection, a few milliseconds, unless the
/// engine is stalled).
pub(super) const CHECK_WAIT: Duration = Duration::from_secs(15);

/// Forgets the senders waiting on `id` whose receiver is gone (a caller that stopped
/// waiting), and `id` with them when none is left.
pub(super) fn forget_closed<T>(
    waiting: &Mutex<HashMap<[u8; 32], Vec<oneshot::Sender<T>>>>,
    id: &[u8; 32],
) {
    let mut waiting = lock(waiting);
    if let Some(list) = waiting.get_mut(id) {
        list.retain(|sender| !sender.is_closed());
        if list.is_empty() {
            waiting.remove(id);
        }
    }
}

/// The engine's id of engine transaction bytes: SHA256d of them (a single
/// transaction's is its transaction id).
pub(super) fn engine_id(bytes: &[u8]) -> [u8; 32] {
    carchain_core::protocol::hashing::sha256d(&[bytes])
}

/// One engine transaction's result from its ledger transactions' results: the first
/// refusal, or accepted.
fn engine_result(results: &[TxResult]) -> Result<(), ServiceError> {
    results
        .iter()
        .find_map(|(_, result)| result.as_ref().err())
        .map_or(Ok(()), |err| Err(err.clone()))
}

/// Why an admissible transaction left the engine's mempool: another transaction of its
/// bundle was refused at a recheck, and the engine keeps a bundle whole or not at all.
fn dropped_with_bundle() -> ServiceError {
    ServiceError::new(
        ErrorCode::Unavailable,
        "the engine dropped the transaction with its bundle; send it again",
    )
}

/// The engine's answer to one broadcast: admitted (or already known), or why not.
fn admitted(answer: Result<CheckResult, RpcError>) -> Result<(), ServiceError> {
    match answer {
        Ok(check) if check.code == 0 => Ok(()),
        Ok(check) => Err(codes::to_service_error(
            &check.codespace,
            check.code,
            &check.log,
        )),
        Err(RpcError::AlreadyKnown) => Ok(()),
        Err(err) => Err(ServiceError::new(ErrorCode::Unavailable, err.to_string())),
    }
}

fn undecodable(err: impl std::fmt::Display) -> ServiceError {
    ServiceError::new(
        ErrorCode::InvalidRequest,
        format!("not a CarChain transaction: {err}"),
    )
}

impl Node {
    pub(crate) fn comet(&self) -> Option<&CometLink> {
        match &self.consensus {
            Consensus::Comet(link) => Some(link),
            Consensus::Embedded => None,
        }
    }

    fn comet_link(&self) -> Result<&CometLink, ServiceError> {
        self.comet().ok_or_else(|| {
            ServiceError::new(
                ErrorCode::ModeRefused,
                "this node produces its own blocks: it is no consensus application",
            )
        })
    }

    /// ABCI Info: the latest committed height and its app hash (the engine replays the
    /// blocks above it after a crash).
    pub fn consensus_info(&self) -> (u64, [u8; 32]) {
        let ledger = lock(&self.ledger);
        (ledger.latest.header.height, ledger.latest.header.state_root)
    }

    /// The validator set the genesis stake sets (InitChain's answer; empty when the
    /// genesis names no stake: the engine's own genesis validators stand).
    pub fn consensus_genesis_validators(&self) -> Result<Vec<PowerChange>, ServiceError> {
        self.genesis
            .validator_set()
            .map_err(|err| ServiceError::new(ErrorCode::Internal, err.to_string()))
    }

    /// ABCI InitChain: the engine's genesis must name this chain and start at height 1,
    /// on a ledger holding only its genesis block; the answer is the genesis state root.
    pub fn consensus_init_chain(
        &self,
        chain_id: &str,
        initial_height: u64,
    ) -> Result<[u8; 32], ServiceError> {
        self.comet_link()?;
        if chain_id != self.genesis.chain_id {
            return Err(ServiceError::new(
                ErrorCode::WrongChain,
                format!(
                    "the engine runs chain {chain_id:?}, this node {:?}",
                    self.genesis.chain_id
                ),
            ));
        }
        if initial_height != 1 {
            return Err(ServiceError::new(
                ErrorCode::InvalidRequest,
                format!("the engine's first height must be 1, not {initial_height}"),
            ));
        }
        let ledger = lock(&self.ledger);
        if ledger.latest.header.height != 0 {
            return Err(ServiceError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "the ledger is at height {}: InitChain needs a fresh ledger",
                    ledger.latest.header.height
                ),
            ));
        }
        Ok(ledger.latest.header.state_root)
    }

    /// ABCI CheckTx: the node's admission checks of `bytes` against the latest built
    /// state and the nonces the engine's mempool already holds. A recheck that fails
    /// tells the transaction's waiters (the engine drops it).
    ///
    /// The stateless checks (signatures above all) run once per transaction on this
    /// node: a recheck (the engine re-runs CheckTx on its whole mempool after every
    /// block) and the first CheckTx of a transaction this node's API checked and handed
    /// to the engine itself skip them; only the state checks run again.
    pub fn consensus_check_tx(&self, bytes: &[u8], recheck: bool) -> Result<(), ServiceError> {
        let link = self.comet_link()?;
        let txs = bundle::decode(bytes).map_err(undecodable)?;
        let id = engine_id(bytes);
        let checked_before = recheck || link.awaits_check(&id);
        let mut answers: CheckAnswer = Vec::with_capacity(txs.len());
        let mut prechecked = Vec::with_capacity(txs.len());
        for tx in txs {
            if checked_before {
                prechecked.push(crate::state::Prechecked::checked_before(&self.params, tx));
                answers.push(Ok(()));
            } else {
                match self.precheck(tx) {
                    Ok(checked) => {
                        prechecked.push(checked);
                        answers.push(Ok(()));
                    }
                    Err(err) => answers.push(Err(err)),
                }
            }
        }
        if answers.iter().all(Result::is_ok) {
            let mut ledger = lock(&self.ledger);
            answers = match prechecked.as_slice() {
                [single] => vec![
                    ledger
                        .app
                        .check_prechecked(single)
                        .map_err(ServiceError::from),
                ],
                all => match ledger.app.check_bundle(all) {
                    Ok(each) => each
                        .into_iter()
                        .map(|a| a.map_err(ServiceError::from))
                        .collect(),
                    Err(err) => vec![Err(ServiceError::from(err)); all.len()],
                },
            };
        }
        let first_refusal = answers.iter().find_map(|a| a.as_ref().err()).cloned();
        if recheck {
            if first_refusal.is_some() {
                // The engine drops the whole engine transaction: tell each of its
                // transactions' waiters why.
                // A recheck takes every transaction as checked before: each is here.
                for (checked, answer) in prechecked.iter().zip(&answers) {
                    let why = answer.clone().err().unwrap_or_else(dropped_with_bundle);
                    link.tell(&checked.id(), &Err(why));
                }
            }
        } else {
            link.checked(&id, &answers);
        }
        first_refusal.map_or(Ok(()), Err)
    }

    /// ABCI ProcessProposal: a proposal is acceptable when it holds at most a block's
    /// worth of transactions, each a decodable CarChain transaction.
    pub fn consensus_accepts_proposal<T: AsRef<[u8]>>(&self, txs: &[T]) -> bool {
        let mut count = 0usize;
        for tx in txs {
            match bundle::decode(tx.as_ref()) {
                Ok(decoded) => count += decoded.len(),
                Err(_) => return false,
            }
        }
        count <= MAX_BLOCK_TXS
    }

    /// ABCI FinalizeBlock: executes the decided block `height` (engine time `time_ms`)
    /// on top of the latest committed one; nothing is durable before
    /// [`Node::consensus_commit`].
    pub fn consensus_finalize_block<T: AsRef<[u8]>>(
        &self,
        height: u64,
        time_ms: u64,
        txs: &[T],
    ) -> Result<Finalized, ServiceError> {
        let link = self.comet_link()?;
        let mut decoded = Vec::with_capacity(txs.len());
        let mut positions = Vec::with_capacity(txs.len());
        let mut results: Vec<TxResult> = Vec::with_capacity(txs.len());
        // Per engine transaction: where its ledger transactions' results are.
        let mut spans = Vec::with_capacity(txs.len());
        for bytes in txs {
            let from = results.len();
            match bundle::decode(bytes.as_ref()) {
                Ok(opened) => {
                    for tx in opened {
                        positions.push(results.len());
                        results.push((Some(tx.id()), Err(internal("not executed"))));
                        decoded.push(tx);
                    }
                }
                Err(err) => results.push((None, Err(undecodable(err)))),
            }
            spans.push(from..results.len());
        }
        let mut ledger = lock(&self.ledger);
        let mut decided = lock(&link.decided);
        if decided.take().is_some() {
            // A block finalized and never committed (the engine restarted its round of
            // calls): forget it.
            roll_back(&mut ledger);
        }
        let expected = ledger.latest.header.height.saturating_add(1);
        if height != expected {
            return Err(internal(format!(
                "the engine decided height {height}, the ledger expects {expected}"
            )));
        }
        let Ledger { app, latest, .. } = &mut *ledger;
        let built = build_decided_block(app, &self.key, latest, &decoded, time_ms);
        let (block, outcomes) = match built {
            Ok(built) => built,
            Err(err) => {
                roll_back(&mut ledger);
                return Err(internal(err));
            }
        };
        for (at, outcome) in positions.into_iter().zip(outcomes) {
            if let Some(slot) = results.get_mut(at) {
                slot.1 = outcome.map(|(index, _)| index).map_err(ServiceError::from);
            }
        }
        ledger.built = block.header.clone();
        let finalized = Finalized {
            app_hash: block.header.header.state_root,
            results: spans
                .into_iter()
                .map(|span| engine_result(results.get(span).unwrap_or_default()))
                .collect(),
            validator_updates: block.power_changes.clone(),
        };
        *decided = Some(Decided { block, results });
        Ok(finalized)
    }

    /// ABCI Commit: writes the finalized block (durable on return), makes it the tip,
    /// forgets the mempool's pending nonces (the engine rechecks what it still holds)
    /// and tells the waiters. Returns the committed height.
    pub fn consensus_commit(&self) -> Result<u64, ServiceError> {
        let link = self.comet_link()?;
        let mut ledger = lock(&self.ledger);
        let Some(Decided { block, results }) = lock(&link.decided).take() else {
            return Err(internal("Commit without a finalized block"));
        };
        let height = block.height();
        if let Err(err) = block.write_to(&self.db) {
            roll_back(&mut ledger);
            let err = internal(err);
            link.tell_all(&err);
            return Err(err);
        }
        ledger.app.commit(height);
        ledger.latest = block.header.clone();
        ledger.built = block.header;
        ledger.app.reset_pending(std::iter::empty());
        drop(ledger);
        for (id, result) in results {
            if let Some(id) = id {
                link.tell(&id, &result.map(|index| (height, index)));
            }
        }
        Ok(height)
    }

    /// `POST /v1/tx` on a consensus node: the stateless checks here, then the engine's
    /// mempool (this node's CheckTx), then, when `wait`, the commit.
    pub(super) async fn submit_through_engine(
        &self,
        link: &CometLink,
        tx: SignedTransaction,
        wait: bool,
    ) -> Result<SubmitReceipt, ServiceError> {
        self.check_running()?;
        let prechecked = self.precheck(tx)?;
        let tx_id = prechecked.id();
        let landing = wait.then(|| link.wait_for(tx_id));
        if let Err(err) = link.broadcast(prechecked.tx()).await {
            drop(landing);
            link.forget(&tx_id);
            return Err(err);
        }
        let Some(landing) = landing else {
            return Ok(SubmitReceipt {
                tx_id,
                height: None,
                index: None,
            });
        };
        if let Some(stored) = self.db.tx(&tx_id).map_err(internal)? {
            drop(landing);
            link.forget(&tx_id);
            return Ok(SubmitReceipt {
                tx_id,
                height: Some(stored.height),
                index: Some(stored.index),
            });
        }
        let answer = tokio::time::timeout(self.patience(), landing).await;
        link.forget(&tx_id);
        landed_receipt(tx_id, answer)
    }

    pub(super) fn patience(&self) -> Duration {
        self.config.block_time.saturating_mul(10) + Duration::from_secs(30)
    }
}

/// The receipt of `tx_id` from what waiting (at most [`Node::patience`]) for its block
/// gave: its place, the refusal it met, or why it is not known to be committed.
pub(super) fn landed_receipt(
    tx_id: [u8; 32],
    answer: Result<Result<Landing, oneshot::error::RecvError>, tokio::time::error::Elapsed>,
) -> Result<SubmitReceipt, ServiceError> {
    match answer {
        Ok(Ok(Ok((height, index)))) => Ok(SubmitReceipt {
            tx_id,
            height: Some(height),
            index: Some(index),
        }),
        Ok(Ok(Err(err))) => Err(err),
        Ok(Err(_)) => Err(ServiceError::new(
            ErrorCode::Unavailable,
            "the node stopped before the transaction was committed",
        )),
        Err(_) => Err(ServiceError::new(
            ErrorCode::Timeout,
            "no block committed the transaction in time; it may still commit",
        )),
    }
}

/// Forgets every block above the committed tip.
fn roll_back(ledger: &mut Ledger) {
    let committed = ledger.app.committed_height();
    ledger.app.rollback_to(committed);
    ledger.built = ledger.latest.clone();
    ledger.app.reset_pending(std::iter::empty());
}

/// Tells every waiter the node stops (shutdown of a consensus node).
pub(super) fn stop_waiters(consensus: &Consensus) {
    if let Consensus::Comet(link) = consensus {
        link.tell_all(&ServiceError::new(
            ErrorCode::Unavailable,
            "the node shut down before the transaction was committed",
        ));
    }
}
