//! The adversary suite's parts: a logging proxy in front of a real node, the fleet that
//! drives it, the public ledger export, the three adversaries (ledger reader, node
//! operator, token thief), the identifiers they look for, the scoring of a linking
//! attack, and the figures printed at the end.

pub mod fields;
pub mod figures;
pub mod fleet;
pub mod ledger;
pub mod ledger_attack;
pub mod needles;
pub mod operator_attack;
#[path = "../logging_proxy.rs"]
pub mod proxy;
pub mod replay_attack;
pub mod score;
