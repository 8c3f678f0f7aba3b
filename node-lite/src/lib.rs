//! carchain-node: the reference full node — ledger state machine, token, KV storage
//! and the HTTP API the CarChain SDK talks to.
//!
//! - [`state`]: the ledger state machine (check, deliver, finalize, commit), token and fees.
//! - [`chain`]: mempool, block producer, validator key, read tokens (issuer key, payments
//!   and spent tokens).
//! - [`db`], [`kv`]: the ledger's SQLite file and the KV store of encrypted records.
//! - [`node`]: a running node implementing [`service::LedgerService`].
//! - [`webhooks`]: grant notifications POSTed to the providers' registered URLs.
//! - [`writes`]: a private node's anonymous write credentials.
//! - [`abci`]: the node as a CometBFT application (ABCI 2.0 server, RPC client).
//! - [`api`], [`cli`]: the HTTP/JSON API under `/v1` and the `carchain-node` command line.
#![forbid(unsafe_code)]

pub mod abci;
pub mod api;
pub mod chain;
pub mod cli;
pub mod db;
pub mod error;
pub mod genesis;
pub mod kv;
pub mod node;
pub mod service;
pub mod state;
pub mod tokens;
pub mod webhooks;
pub mod writes;
