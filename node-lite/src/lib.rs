//! carchain-node: the reference full node — ledger state machine, token, KV storage
//! and the HTTP API the CarChain SDK talks to.
#![forbid(unsafe_code)]

pub mod db;
pub mod kv;
pub mod service;
pub mod api;
pub mod cli;
pub mod chain;
pub mod genesis;
pub mod state;
pub mod error;
pub mod node;
