//! The tour's embedded node: a fresh chain in a data directory (SQLite), funded for the
//! owner, served over HTTP on a loopback port inside this process.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use carchain_core::light::{LightClient, TrustAnchor};
use carchain_core::protocol::Network;
use carchain_node::api::{self, ApiConfig};
use carchain_node::node::{FeeSchedule, InitOptions, Node, NodeConfig};
use carchain_node::service::NodeMode;

/// Chain id of the tour's chain.
pub const TOUR_CHAIN_ID: &str = "carchain-tour";
/// The agent name the tour's node runs under (cars name it as their agent).
pub const TOUR_AGENT: &str = "tour-node";

/// A node running in this process.
pub struct EmbeddedNode {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub base: String,
    /// What clients trust for this chain.
    pub anchor: TrustAnchor,
    /// The operator account (fees go here).
    pub operator_address: String,
    /// The node.
    pub node: Arc<Node>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for EmbeddedNode {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl EmbeddedNode {
    /// Creates a chain in `data_dir` funding `funds` and serves it on 127.0.0.1.
    pub async fn start(data_dir: &Path, funds: &[(String, u64)]) -> Result<EmbeddedNode> {
        let summary = Node::init(
            data_dir,
            &InitOptions {
                chain_id: TOUR_CHAIN_ID.into(),
                network: Network::Regtest,
                total_supply: 21_000_000_000,
                initial_balances: funds.to_vec(),
                fees: FeeSchedule::default(),
            },
        )
        .with_context(|| format!("creating the chain in {}", data_dir.display()))?;
        let node = Node::start(NodeConfig {
            data_dir: data_dir.to_path_buf(),
            mode: NodeMode::Private,
            block_time: Duration::from_millis(50),
            peers: Vec::new(),
            agent: TOUR_AGENT.into(),
            max_mempool: 10_000,
        })
        .await
        .context("starting the node")?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding a loopback port")?;
        let base = format!("http://{}", listener.local_addr()?);
        let app = api::router(Arc::clone(&node), ApiConfig::default());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let anchor =
            TrustAnchor::from_hex(TOUR_CHAIN_ID, Network::Regtest, &summary.validator_pubkey)
                .context("trust anchor")?;
        Ok(EmbeddedNode {
            base,
            anchor,
            operator_address: summary.operator_address,
            node,
            server,
        })
    }

    /// A light client of this node.
    pub fn client(&self) -> Result<LightClient> {
        LightClient::new(vec![self.base.clone()], self.anchor.clone()).context("light client")
    }
}
