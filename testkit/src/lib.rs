//! What CarChain's tests and benchmarks share: deterministic keys that sign transactions
//! for a test chain ([`keys`]), a real node running in-process on a loopback port
//! ([`in_process`]), the `carchain-node` binary started as a process on a free loopback
//! port and killed on drop ([`node_process`]), where the pinned CometBFT binary is
//! ([`cometbft`]), and the wallets, cars, trips, records, grant and
//! past-dated chains the end-to-end scenarios start from ([`flows`], [`car_records`],
//! [`grants_setup`], [`past`], [`standing`]); test servers on loopback ([`serve`]); the benchmarks'
//! month of long trips ([`month`]).
//!
//! It is test scaffolding, not library code: everything here panics on failure, so a
//! test that calls it fails with the reason.
// Test scaffolding reports a failure by panicking, as the tests that call it do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod car_records;
pub mod cometbft;
pub mod flows;
pub mod grants_setup;
pub mod in_process;
pub mod keys;
pub mod month;
pub mod node_process;
pub mod past;
pub mod serve;
pub mod standing;

pub use carchain_node::service::NodeMode as Mode;
pub use in_process::{
    AGENT, BASE_FEE, CHAIN_ID, InitialisedChain, TestNode, funded_key_node, init_chain,
    init_chain_with_fees, serve, start_node,
};
pub use keys::{ChainKey, DevChain, E2eChain, TestChain, TestKey};

/// A base URL where nothing listens (an offline node).
pub fn closed_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    format!("http://{address}")
}
