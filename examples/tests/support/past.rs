//! A chain whose first blocks lie in the past, for the ledger's time windows (escrow
//! delivery, review and challenge windows of days): the genesis is dated `genesis_time`
//! and blocks are produced by the node's own state machine and block builder
//! (`carchain_node::chain::produce_block`) at chosen times; then the real node starts
//! on the same data directory and serves it on loopback. Its first block is stamped
//! with the wall clock, so the ledger clock jumps from the past blocks to now, exactly
//! as if days had passed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bitcoin::secp256k1::SecretKey;
use carchain_core::light::TrustAnchor;
use carchain_core::protocol::signing::secret_key_from_bytes;
use carchain_core::protocol::{Network, SignedHeader, SignedTransaction};
use carchain_node::api::{self, ApiConfig};
use carchain_node::chain::{ValidatorKey, commit_genesis, produce_block};
use carchain_node::db::LedgerDb;
use carchain_node::genesis::Genesis;
use carchain_node::node::{FeeSchedule, InitOptions, Node, NodeConfig};
use carchain_node::service::NodeMode;
use carchain_node::state::{App, TxError};

use super::{AGENT, CHAIN_ID, TestNode};

/// One day in milliseconds.
pub const DAY_MS: u64 = 24 * 3600 * 1000;

/// Wall-clock time, unix ms.
pub fn now_ms() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).expect("clock")
}

/// A chain being written in the past, before its node starts.
pub struct PastChain {
    dir: tempfile::TempDir,
    data_dir: PathBuf,
    app: App,
    db: Arc<LedgerDb>,
    key: ValidatorKey,
    tip: SignedHeader,
    /// What a client trusts for this chain.
    pub anchor: TrustAnchor,
    /// The operator (root auditor) account.
    pub operator_address: String,
    /// The operator's key, read from the data directory's `validator.key`.
    pub operator_secret: SecretKey,
}

/// A chain funding `funds` whose genesis is dated `genesis_time` (unix ms).
pub fn past_chain(funds: &[(&str, u64)], genesis_time: u64) -> PastChain {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("node");
    let summary = Node::init(
        &data_dir,
        &InitOptions {
            chain_id: CHAIN_ID.into(),
            network: Network::Regtest,
            total_supply: 21_000_000_000,
            initial_balances: funds
                .iter()
                .map(|(address, amount)| ((*address).to_owned(), *amount))
                .collect(),
            fees: FeeSchedule::default(),
        },
    )
    .expect("init chain");
    let genesis_path = data_dir.join("genesis.json");
    let mut genesis = Genesis::load(&genesis_path).expect("genesis");
    genesis.genesis_time = genesis_time;
    genesis.save(&genesis_path).expect("dated genesis");
    let key_path = data_dir.join("validator.key");
    let key = ValidatorKey::load(&key_path).expect("validator key");
    let mut secret_bytes = [0u8; 32];
    let text = std::fs::read_to_string(&key_path).expect("key file");
    hex::decode_to_slice(text.trim(), &mut secret_bytes).expect("hex key");
    let operator_secret = secret_key_from_bytes(&secret_bytes).expect("operator key");
    let db = Arc::new(LedgerDb::open(data_dir.join("ledger.sqlite")).expect("ledger db"));
    let mut app = App::new(Arc::clone(&db), genesis.params()).expect("app");
    let tip = commit_genesis(&mut app, &db, &key, &genesis).expect("genesis block");
    let anchor = TrustAnchor::from_hex(CHAIN_ID, Network::Regtest, &summary.validator_pubkey)
        .expect("anchor");
    PastChain {
        dir,
        data_dir,
        app,
        db,
        key,
        tip,
        anchor,
        operator_address: summary.operator_address,
        operator_secret,
    }
}

impl PastChain {
    /// The latest block's header.
    pub fn tip(&self) -> &SignedHeader {
        &self.tip
    }

    /// Produces one block of `txs` at `time` (never before the tip's time); returns each
    /// transaction's outcome (refused ones are left out of the block).
    pub fn block(&mut self, txs: &[SignedTransaction], time: u64) -> Vec<Result<(), TxError>> {
        let result = produce_block(&mut self.app, &self.db, &self.key, &self.tip, txs, time)
            .expect("block production");
        if let Some(header) = result.header {
            self.tip = header;
        }
        result
            .outcomes
            .into_iter()
            .map(|outcome| outcome.map(|_| ()))
            .collect()
    }

    /// Starts the real node on this chain (`mode`, blocks every 50 ms) and serves its
    /// API on loopback.
    pub async fn start(self, mode: NodeMode) -> TestNode {
        let PastChain {
            dir,
            data_dir,
            app,
            db,
            anchor,
            operator_address,
            ..
        } = self;
        drop(app);
        drop(db);
        let node = Node::start(NodeConfig {
            data_dir,
            mode,
            block_time: Duration::from_millis(50),
            peers: Vec::new(),
            agent: AGENT.into(),
            max_mempool: 10_000,
        })
        .await
        .expect("start node");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let app = api::router(Arc::clone(&node), ApiConfig::default());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestNode {
            base,
            node,
            anchor,
            operator_address,
            server,
            _dir: dir,
        }
    }
}
