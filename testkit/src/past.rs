//! A chain whose first blocks lie in the past, for the ledger's time windows (escrow
//! delivery, review and challenge windows of days): the genesis is dated `genesis_time`
//! and blocks are produced by the node's own state machine and block builder
//! (`carchain_node::chain::produce_block`) at chosen times; then the real node starts
//! on the same data directory and serves it on loopback. Its first block is stamped
//! with the wall clock, so the ledger clock jumps from the past blocks to now, exactly
//! as if days had passed.

use std::sync::Arc;

use bitcoin::secp256k1::SecretKey;
use carchain_core::light::TrustAnchor;
use carchain_core::protocol::signing::secret_key_from_bytes;
use carchain_core::protocol::{SignedHeader, SignedTransaction};
use carchain_node::chain::{ValidatorKey, commit_genesis, produce_block};
use carchain_node::db::LedgerDb;
use carchain_node::genesis::Genesis;
use carchain_node::service::NodeMode;
use carchain_node::state::{App, TxError};

use crate::{InitialisedChain, TestNode, init_chain, serve};

/// One day in milliseconds.
pub const DAY_MS: u64 = 24 * 3600 * 1000;

/// Wall-clock time, unix ms.
pub fn now_ms() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).expect("clock")
}

/// A chain being written in the past, before its node starts.
pub struct PastChain {
    chain: InitialisedChain,
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
    let chain = init_chain(funds);
    let data_dir = &chain.data_dir;
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
    PastChain {
        anchor: chain.anchor.clone(),
        operator_address: chain.operator_address.clone(),
        chain,
        app,
        db,
        key,
        tip,
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
        let PastChain { chain, app, db, .. } = self;
        // The node opens the ledger itself: the writers of the past blocks close first.
        drop(app);
        drop(db);
        serve(chain, mode).await
    }
}
