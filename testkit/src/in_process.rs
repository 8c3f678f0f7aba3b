//! A real node running in-process on a loopback port: a chain initialised in a fresh
//! temporary directory, the node started on it producing blocks every 50 ms, and its
//! HTTP API served on `127.0.0.1` until the handle drops.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use carchain_core::light::{LightClient, TrustAnchor};
use carchain_core::protocol::Network;
use carchain_node::api::{self, ApiConfig};
use carchain_node::node::{FeeSchedule, InitOptions, Node, NodeConfig};
use carchain_node::service::NodeMode;

use crate::keys::{E2eChain, TestChain, TestKey};
use crate::serve::serve_loopback;

pub use crate::keys::BASE_FEE;

/// Chain id of every in-process test chain.
pub const CHAIN_ID: &str = E2eChain::CHAIN_ID;
/// The agent name in-process test nodes run under.
pub const AGENT: &str = E2eChain::AGENT;
/// A node running in-process and serving its HTTP API on `127.0.0.1`.
pub struct TestNode {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub base: String,
    /// The node itself.
    pub node: Arc<Node>,
    /// What a client trusts for this chain.
    pub anchor: TrustAnchor,
    /// The operator account (read payments go here).
    pub operator_address: String,
    server: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestNode {
    /// Starts the node's webhook routes and delivery task on their own loopback listener;
    /// their base URL and the task (abort it to stop delivering).
    pub async fn serve_webhooks(&self) -> (String, tokio::task::JoinHandle<()>) {
        let (listener, address) = crate::serve::bind_loopback().await;
        let (router, task) =
            carchain_node::webhooks::start(&self.node, self.node.data_dir(), address)
                .expect("webhooks");
        crate::serve::serve_on(listener, router);
        (format!("http://{address}"), task)
    }

    /// A light client of this node alone.
    pub fn client(&self) -> LightClient {
        LightClient::new(vec![self.base.clone()], self.anchor.clone()).expect("client")
    }
}

/// A chain initialised in a fresh temporary directory, its node not started yet.
pub struct InitialisedChain {
    /// The temporary directory holding the data directory (removed on drop).
    pub dir: tempfile::TempDir,
    /// The node's data directory inside `dir`.
    pub data_dir: PathBuf,
    /// What a client trusts for this chain.
    pub anchor: TrustAnchor,
    /// The operator account (read payments go here).
    pub operator_address: String,
}

/// Initialises a chain funding `funds` (address, amount) in a fresh temporary directory.
pub fn init_chain(funds: &[(&str, u64)]) -> InitialisedChain {
    init_chain_with_fees(funds, FeeSchedule::default())
}

/// [`init_chain`] for a chain whose genesis fixes `fees`.
pub fn init_chain_with_fees(funds: &[(&str, u64)], fees: FeeSchedule) -> InitialisedChain {
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
            fees,
        },
    )
    .expect("init chain");
    let anchor = TrustAnchor::from_hex(CHAIN_ID, Network::Regtest, &summary.validator_pubkey)
        .expect("anchor");
    InitialisedChain {
        dir,
        data_dir,
        anchor,
        operator_address: summary.operator_address,
    }
}

/// Starts the node of `chain` in `mode`, producing blocks every 50 ms, and serves its
/// HTTP API on a loopback port.
pub async fn serve(chain: InitialisedChain, mode: NodeMode) -> TestNode {
    let node = Node::start(NodeConfig {
        data_dir: chain.data_dir,
        mode,
        block_time: Duration::from_millis(50),
        peers: Vec::new(),
        agent: AGENT.into(),
        max_mempool: 10_000,
    })
    .await
    .expect("start node");
    let (base, server) = serve_loopback(api::router(Arc::clone(&node), ApiConfig::default())).await;
    TestNode {
        base,
        node,
        anchor: chain.anchor,
        operator_address: chain.operator_address,
        server,
        _dir: chain.dir,
    }
}

/// Creates a chain funding `funds` (address, amount) and starts its node in `mode`,
/// producing blocks every 50 ms.
pub async fn start_node(funds: &[(&str, u64)], mode: NodeMode) -> TestNode {
    serve(init_chain(funds), mode).await
}

/// The key `[byte; 32]` and a node in `mode` whose chain funds it with `amount`.
pub async fn funded_key_node(byte: u8, amount: u64, mode: NodeMode) -> (TestKey, TestNode) {
    let key = TestKey::from_byte(byte);
    let node = start_node(&[(&key.address, amount)], mode).await;
    (key, node)
}
