//! The running node: the ledger (state machine + single-validator block producer, or
//! the application of a CometBFT engine: see `consensus`), the KV store of encrypted
//! records and read payments, behind [`LedgerService`].
//!
//! Data directory: `genesis.json`, `validator.key` (0600, the header key),
//! `consensus.key` (0600, the ed25519 validator key of the light blocks), `ledger.sqlite`,
//! `kv.sqlite`, `token-issuer.key` (0600, made on first start), `tokens.sqlite`; the
//! node that made the genesis also `stamp-issuer.key` (0600, the chain's fee stamp
//! issuer, made by `Node::init`) and `stamps.sqlite` (the stamp payments it issued); a private
//! node also `writes.key` (0600) and `writes.sqlite` (its write credentials, see
//! [`crate::writes`]). The binary adds `webhooks.sqlite` (0600, grant webhooks and their
//! outbox, see [`crate::webhooks`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use carchain_core::protocol::signing::{p2wpkh_address, signature_from_compact, verify_digest};
use carchain_core::protocol::{
    Canonical, DeviceState, DeviceStatus, InclusionProof, Network, RecordPut, RecordRegistration,
    SignedHeader, SignedTransaction, StateHasher, TxBody, encode_state_proof, state_key,
};
use jmt::JellyfishMerkleTree;
use tokio::sync::{Notify, oneshot, watch};
use tokio::task::JoinHandle;

use crate::chain::{
    BuiltBlock, ChainError, MAX_BLOCK_TXS, Mempool, Pending, ValidatorKey, commit_genesis,
    decode_header, latest_header,
};
use crate::db::{LedgerDb, MAX_BLOCKS_PER_READ};
pub use crate::error::NodeError;
pub use crate::genesis::FeeSchedule;
use crate::genesis::Genesis;
use crate::kv::{CassandraConfig, CassandraKv, KvStore, PutOutcome, RangePage, SqliteKv};
use crate::service::{
    ErrorCode, IssueRequest, LedgerService, NodeMode, NodeStatus, RangeRequest, RecordItem,
    RecordReceipt, ServiceError, StateAnswer, StateQuery, SubmitReceipt, TokenKey, TxLookup,
};
use crate::state::{
    App, ChainParams, Committed, Layer, Prechecked, TxError, query_json, query_key,
};
use crate::tokens::{PaymentTerms, ReadTokens};

mod bundling;
mod consensus;
mod ledger_service;
mod light;
mod producer;
mod records;
mod writers;

pub use consensus::{CometOptions, Finalized};
pub use records::MAX_BATCH_ITEMS;

use consensus::{CometLink, Consensus};

use crate::writes::Writes;

/// How a node runs.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The directory `Node::init` created.
    pub data_dir: PathBuf,
    /// Private (its devices only) or shared (everyone's data, paid reads).
    pub mode: NodeMode,
    /// Interval between block production attempts.
    pub block_time: Duration,
    /// Other nodes' URLs (reported in the status).
    pub peers: Vec<String>,
    /// This node's agent name, as devices name it in their pairing.
    pub agent: String,
    /// Most transactions waiting for a block.
    pub max_mempool: usize,
}

/// Where a node keeps its encrypted records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum KvChoice {
    /// `kv.sqlite` in the data directory (the embedded default).
    #[default]
    Sqlite,
    /// A Cassandra cluster (`--kv cassandra://...`).
    Cassandra(CassandraConfig),
}

/// What `Node::init` creates a chain with.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Chain identifier.
    pub chain_id: String,
    /// Address network of accounts.
    pub network: Network,
    /// Total token supply.
    pub total_supply: u64,
    /// `(address, amount)` sold at genesis out of the phase-3 reserve (20%).
    pub initial_balances: Vec<(String, u64)>,
    /// Fee schedule.
    pub fees: FeeSchedule,
}

/// Chain settings beyond [`InitOptions`] (`Node::init` uses the defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainOptions {
    /// Price of a fee stamp; `None`: the chain names no stamp issuer.
    pub stamp_price: Option<u64>,
    /// Caps the phase-1 reserve (small and test chains).
    pub phase1_reserve: Option<u64>,
    /// Bonds made at genesis (they set the CometBFT validator set).
    pub stake: Vec<crate::genesis::GenesisStake>,
    /// Stake per unit of voting power (`None`: 1).
    pub power_unit: Option<u64>,
    /// Unbonding delay in blocks (`None`: the default).
    pub unbonding_blocks: Option<u64>,
}

impl Default for ChainOptions {
    fn default() -> Self {
        ChainOptions {
            stamp_price: Some(crate::genesis::DEFAULT_STAMP_PRICE),
            phase1_reserve: None,
            stake: Vec::new(),
            power_unit: None,
            unbonding_blocks: None,
        }
    }
}

/// File name of the chain's fee stamp issuer key (only in the genesis node's directory).
pub const STAMP_KEY_FILE: &str = "stamp-issuer.key";
/// File name of the stamp payments table.
pub const STAMPS_FILE: &str = "stamps.sqlite";

/// What `Node::init` created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitSummary {
    /// The trust anchor text of the chain: the validator's ed25519 consensus key (hex).
    pub validator_pubkey: String,
    /// The operator account (fees and read payments go here).
    pub operator_address: String,
    /// The genesis file written.
    pub genesis_path: PathBuf,
}

/// The state machine with its mempool and the chain tips, changed together.
struct Ledger {
    app: App,
    mempool: Mempool,
    /// The latest committed (durable) header.
    latest: SignedHeader,
    /// The latest built header: `latest`, or the block being written on top of it.
    built: SignedHeader,
}

/// A running node.
pub struct Node {
    config: NodeConfig,
    genesis: Genesis,
    params: ChainParams,
    db: Arc<LedgerDb>,
    kv: Box<dyn KvStore>,
    tokens: ReadTokens,
    /// The fee stamp issuer, on the node holding its key (its payment table; its spent
    /// table stays empty: stamps are spent in the ledger state).
    stamps: Option<ReadTokens>,
    /// A private node's write credentials (`None` on a shared node).
    writes: Option<Writes>,
    key: ValidatorKey,
    /// The ed25519 consensus key signing the embedded node's light blocks.
    consensus_key: carchain_core::protocol::light_block::ConsensusSigner,
    /// Ids of the light blocks built so far (index = CometBFT height - 1).
    light_ids: Mutex<Vec<tendermint::block::Id>>,
    /// Under a CometBFT engine, its genesis validators in the trust anchor's text form
    /// (read once from the engine's light block 1).
    engine_anchor: std::sync::OnceLock<String>,
    ledger: Mutex<Ledger>,
    stopping: AtomicBool,
    stop: watch::Sender<bool>,
    /// Wakes the producer before its tick: the mempool holds a full enough block.
    backlog: Notify,
    producer: Mutex<Option<JoinHandle<()>>>,
    /// Who decides blocks: the built-in producer or a consensus engine.
    consensus: Consensus,
    /// This node itself, for work it hands to blocking threads.
    this: Weak<Node>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("config", &self.config)
            .field("chain_id", &self.genesis.chain_id)
            .finish_non_exhaustive()
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> NodeError + '_ {
    move |source| NodeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn internal(err: impl std::fmt::Display) -> ServiceError {
    ServiceError::new(ErrorCode::Internal, err.to_string())
}

/// The stamp issuer of `dir`, when the genesis names one and `dir` holds its key.
fn open_stamp_issuer(dir: &Path, genesis: &Genesis) -> Result<Option<ReadTokens>, NodeError> {
    let path = dir.join(STAMP_KEY_FILE);
    let Some(rules) = genesis.stamp_rules()? else {
        return Ok(None);
    };
    if !path.exists() {
        return Ok(None);
    }
    let issuer = crate::tokens::load_or_create_key_file(&path)?;
    if issuer.public().key_id() != rules.issuer.key_id() {
        return Err(NodeError::Config(format!(
            "{} is not the stamp issuer the genesis names",
            path.display()
        )));
    }
    Ok(Some(ReadTokens::open(&dir.join(STAMPS_FILE), issuer)?))
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Node {
    /// Creates a data directory: `genesis.json` and a fresh `validator.key` (0600).
    /// Refuses a directory that exists and is not empty.
    pub fn init(data_dir: &Path, options: &InitOptions) -> Result<InitSummary, NodeError> {
        Self::init_with(data_dir, options, &ChainOptions::default())
    }

    /// [`Node::init`] with chain settings: with a stamp price, also the chain's fee stamp
    /// issuer key (`stamp-issuer.key`, 0600), named in the genesis.
    pub fn init_with(
        data_dir: &Path,
        options: &InitOptions,
        chain: &ChainOptions,
    ) -> Result<InitSummary, NodeError> {
        if data_dir.exists() {
            let mut entries = std::fs::read_dir(data_dir).map_err(io_error(data_dir))?;
            if entries.next().is_some() {
                return Err(NodeError::DataDirExists {
                    path: data_dir.to_path_buf(),
                });
            }
        }
        std::fs::create_dir_all(data_dir).map_err(io_error(data_dir))?;
        let key = ValidatorKey::generate()?;
        let operator_address = p2wpkh_address(&key.public_key(), options.network);
        let mut genesis = Genesis {
            chain_id: options.chain_id.clone(),
            network: options.network,
            total_supply: options.total_supply,
            initial_balances: options.initial_balances.clone(),
            fees: options.fees,
            validator_pubkey: hex::encode(key.public_key().serialize()),
            operator_address: operator_address.clone(),
            genesis_time: now_ms(),
            stamps: None,
            phase1_reserve: chain.phase1_reserve,
            stake: chain.stake.clone(),
            power_unit: chain.power_unit,
            unbonding_blocks: chain.unbonding_blocks,
        };
        genesis.validate()?;
        if let Some(price) = chain.stamp_price {
            let issuer = crate::tokens::load_or_create_key_file(&data_dir.join(STAMP_KEY_FILE))?;
            genesis.stamps = Some(crate::genesis::StampGenesis {
                public_key: hex::encode(issuer.public().der()),
                price,
            });
            genesis.validate()?;
        }
        let genesis_path = data_dir.join("genesis.json");
        genesis.save(&genesis_path)?;
        key.save(&data_dir.join("validator.key"))?;
        let consensus = crate::chain::load_or_create_consensus_key(
            &data_dir.join(crate::chain::CONSENSUS_KEY_FILE),
        )?;
        Ok(InitSummary {
            validator_pubkey: consensus.public_hex(),
            operator_address,
            genesis_path,
        })
    }

    /// Opens the data directory, commits the genesis block on first start, checks that
    /// the latest header's state root is the state tree's root, and starts producing
    /// blocks every `block_time`.
    pub async fn start(config: NodeConfig) -> Result<Arc<Node>, NodeError> {
        Self::start_with(config, Consensus::Embedded, KvChoice::Sqlite).await
    }

    /// [`Node::start`] with the records kept where `kv` says: a Cassandra cluster is
    /// connected to (and its keyspace and table created) before the node starts.
    pub async fn start_with_kv(config: NodeConfig, kv: KvChoice) -> Result<Arc<Node>, NodeError> {
        Self::start_with(config, Consensus::Embedded, kv).await
    }

    /// Opens the data directory like [`Node::start`] but produces no blocks: the node is
    /// the application of the CometBFT engine reached at `options` (serve it with
    /// [`crate::abci::serve`]). Every node of the network holds the same genesis file
    /// and header key.
    pub async fn start_cometbft(
        config: NodeConfig,
        options: &CometOptions,
    ) -> Result<Arc<Node>, NodeError> {
        Self::start_cometbft_with_kv(config, options, KvChoice::Sqlite).await
    }

    /// [`Node::start_cometbft`] with the records kept where `kv` says.
    pub async fn start_cometbft_with_kv(
        config: NodeConfig,
        options: &CometOptions,
        kv: KvChoice,
    ) -> Result<Arc<Node>, NodeError> {
        let link = CometLink::new(options)?;
        Self::start_with(config, Consensus::Comet(Box::new(link)), kv).await
    }

    async fn start_with(
        config: NodeConfig,
        consensus: Consensus,
        kv: KvChoice,
    ) -> Result<Arc<Node>, NodeError> {
        if config.max_mempool == 0 || config.block_time.is_zero() {
            return Err(NodeError::Config(
                "max_mempool and block_time must be above zero".into(),
            ));
        }
        let dir = config.data_dir.clone();
        let genesis = Genesis::load(&dir.join("genesis.json"))?;
        let key = ValidatorKey::load(&dir.join("validator.key"))?;
        if Some(key.public_key()) != genesis.proposer().ok() {
            return Err(NodeError::ValidatorMismatch);
        }
        let consensus_key = crate::chain::load_or_create_consensus_key(
            &dir.join(crate::chain::CONSENSUS_KEY_FILE),
        )?;
        let db = Arc::new(LedgerDb::open(dir.join("ledger.sqlite"))?);
        let kv: Box<dyn KvStore> = match kv {
            KvChoice::Sqlite => Box::new(SqliteKv::open(dir.join("kv.sqlite"))?),
            KvChoice::Cassandra(cassandra) => {
                // Connecting waits on the network: off the async workers.
                let connected =
                    tokio::task::spawn_blocking(move || CassandraKv::connect(cassandra))
                        .await
                        .map_err(|err| {
                            NodeError::Config(format!("the KV connect task failed: {err}"))
                        })?;
                Box::new(connected?)
            }
        };
        let issuer = crate::tokens::load_or_create_issuer(&dir)?;
        let tokens = ReadTokens::open(&dir.join(crate::tokens::TOKENS_FILE), issuer)?;
        let stamps = open_stamp_issuer(&dir, &genesis)?;
        let writes = match config.mode {
            NodeMode::Private => Some(Writes::open(&dir)?),
            NodeMode::Shared => None,
        };
        let mut app = App::new(db.clone(), genesis.params())?;
        let latest = match latest_header(&db)? {
            Some(header) => {
                verify_tip(&db, &genesis, &header)?;
                header
            }
            None => commit_genesis(&mut app, &db, &key, &genesis)?,
        };
        let (stop, stop_rx) = watch::channel(false);
        let node = Arc::new_cyclic(|this| Node {
            ledger: Mutex::new(Ledger {
                app,
                mempool: Mempool::new(config.max_mempool),
                built: latest.clone(),
                latest,
            }),
            config,
            params: genesis.params(),
            genesis,
            db,
            kv,
            tokens,
            stamps,
            writes,
            key,
            consensus_key,
            light_ids: Mutex::new(Vec::new()),
            engine_anchor: std::sync::OnceLock::new(),
            stopping: AtomicBool::new(false),
            stop,
            backlog: Notify::new(),
            producer: Mutex::new(None),
            consensus,
            this: this.clone(),
        });
        if matches!(node.consensus, Consensus::Embedded) {
            let handle = tokio::spawn(producer::run_producer(node.clone(), stop_rx));
            *lock(&node.producer) = Some(handle);
        }
        tracing::info!(chain = %node.genesis.chain_id, "node started");
        Ok(node)
    }

    /// Stops the producer after the block it may be committing; waiting submitters are
    /// told `Unavailable`. Idempotent.
    pub async fn shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Ignored: no receiver left means the producer already stopped.
        let _ = self.stop.send(true);
        let handle = lock(&self.producer).take();
        if let Some(handle) = handle
            && let Err(err) = handle.await
        {
            tracing::error!(%err, "block producer task failed");
        }
        consensus::stop_waiters(&self.consensus);
        let waiting = lock(&self.ledger).mempool.drain();
        for pending in waiting {
            if let Some(waiter) = pending.waiter {
                let _ = waiter.send(Err(ServiceError::new(
                    ErrorCode::Unavailable,
                    "the node shut down before the transaction was committed",
                )));
            }
        }
    }

    /// The genesis file the node runs.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The node's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    /// Runs the stateless checks of `tx` (signatures) without any lock, so that
    /// admissions verify on every core at once.
    fn precheck(&self, tx: SignedTransaction) -> Result<Prechecked, ServiceError> {
        Prechecked::check(&self.params, tx).map_err(ServiceError::from)
    }

    /// Checks `tx` and queues it with `waiter`.
    fn admit(
        &self,
        tx: SignedTransaction,
        waiter: Option<oneshot::Sender<crate::chain::Landing>>,
    ) -> Result<(), ServiceError> {
        self.check_running()?;
        let prechecked = self.precheck(tx)?;
        let mut ledger = lock(&self.ledger);
        admit_locked(&mut ledger, prechecked, waiter)
    }

    /// Refuses work once shutdown has begun.
    fn check_running(&self) -> Result<(), ServiceError> {
        if self.stopping.load(Ordering::SeqCst) {
            return Err(ServiceError::new(
                ErrorCode::Unavailable,
                "the node is shutting down",
            ));
        }
        Ok(())
    }

    fn committed_height(&self) -> Result<u64, ServiceError> {
        self.db
            .latest_height()
            .map_err(internal)?
            .ok_or_else(|| internal("no genesis block"))
    }
}

/// Checks a prechecked transaction against the state and queues it, under the lock.
fn admit_locked(
    ledger: &mut Ledger,
    prechecked: Prechecked,
    waiter: Option<oneshot::Sender<crate::chain::Landing>>,
) -> Result<(), ServiceError> {
    if !ledger.mempool.has_room() {
        return Err(ServiceError::new(
            ErrorCode::Unavailable,
            "the mempool is full",
        ));
    }
    ledger.app.check_prechecked(&prechecked)?;
    let (tx, derived) = prechecked.into_parts();
    ledger
        .mempool
        .push(Pending {
            tx,
            waiter,
            derived: Some(derived),
        })
        .map_err(|_| ServiceError::new(ErrorCode::Unavailable, "the mempool is full"))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Checks the stored tip against the genesis and the state tree.
fn verify_tip(db: &LedgerDb, genesis: &Genesis, tip: &SignedHeader) -> Result<(), NodeError> {
    if tip.header.chain_id != genesis.chain_id {
        return Err(NodeError::ChainMismatch {
            stored: tip.header.chain_id.clone(),
            genesis: genesis.chain_id.clone(),
        });
    }
    let height = tip.header.height;
    let view = db.tree_view()?;
    let tree: JellyfishMerkleTree<'_, _, StateHasher> = JellyfishMerkleTree::new(&view);
    let root = tree
        .get_root_hash(height)
        .map_err(|err| ChainError::State(TxError::storage(err)))?;
    if root.0 != tip.header.state_root {
        return Err(NodeError::StateRootMismatch {
            height,
            header_root: hex::encode(tip.header.state_root),
            tree_root: hex::encode(root.0),
        });
    }
    Ok(())
}
