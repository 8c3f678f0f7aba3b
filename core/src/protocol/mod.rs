//! The ledger protocol shared by the node and the light client: transactions, headers,
//! canonical encoding, Merkle proofs.

pub mod address_index;
pub mod api;
pub mod body;
pub mod codec;
pub mod commitments;
pub mod credential_request;
pub mod error;
pub mod fee_stamp;
pub mod fees;
pub mod hashing;
pub mod header;
pub mod light_block;
pub mod merkle;
pub mod network;
pub mod pairing;
pub mod serde_hex;
pub mod signing;
pub mod stake;
pub mod state;
pub mod state_key;
pub mod state_proof;
pub mod token_issue;
pub mod tx;
pub mod tx_builder;
pub mod validate;

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
pub(crate) mod memory_tree;
#[cfg(test)]
pub(crate) mod test_fixtures;

pub use address_index::{AddressIndex, key_contribution};
pub use body::*;
pub use codec::{Canonical, Reader, Writer};
pub use commitments::{AttestationOpening, GrantOpening};
pub use credential_request::{CREDENTIAL_REQUEST_DOMAIN, credential_request_digest};
pub use error::{ProtocolError, Result};
pub use fee_stamp::{FeeStamp, StampFault, binding_digest, stamp_escrow_address, stamp_message};
pub use fees::{FeeSchedule, fee_for};
pub use header::{BlockHeader, SignedHeader, verify_chain};
pub use merkle::{InclusionProof, merkle_root};
pub use network::Network;
pub use stake::{
    Bond, Delegation, MAX_TOTAL_VOTING_POWER, Unbond, UnbondingEntry, UnbondingQueue,
    ValidatorStake,
};
pub use state::*;
pub use state_proof::{
    StateHasher, StateProof, decode_state_proof, encode_state_proof, verify_state_proof,
};
pub use token_issue::{TOKEN_ISSUE_DOMAIN, token_issue_digest};
pub use tx::{SignedTransaction, Transaction};
pub use tx_builder::TxBuilder;
pub use validate::check_account_address;
