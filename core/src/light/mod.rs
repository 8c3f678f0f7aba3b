//! The embedded light node: talks HTTP/JSON to one or more CarChain nodes, verifies
//! signed headers, Merkle and state proofs and record hashes instead of trusting them,
//! fails over between nodes, and caches what it verified in the wallet's store.
//!
//! - [`client`]: the [`LightClient`], the API the wallet and the car use.
//! - [`anchor`]: the [`TrustAnchor`] (chain, network, genesis validators or trusted height).
//! - [`light_block`]: CometBFT light blocks; [`certify`]: their verification (skipping,
//!   bisection) with `tendermint-light-client-verifier`.
//! - [`bind`]: every accepted ledger header bound to the verified CometBFT chain.
//! - [`headers`]: verified header chain and its cache.
//! - [`proofs`]: state answer checks. [`records`]: cHash and range checks.
//! - [`http`]: one node's raw calls. [`wire`]: the node's JSON shapes.
//! - [`failover`]: endpoint order and failure memory. [`read_payment`]: read tokens.
//! - [`stamps`]: buying fee stamps for a car's record puts.
//! - [`write_credentials`]: obtaining a private node's write credentials.
//! - [`error`]: the [`LightError`] type.

pub mod anchor;
pub mod bind;
pub mod certify;
pub mod client;
pub mod error;
pub mod failover;
pub mod headers;
pub mod http;
pub mod node_failure;
pub use crate::protocol::light_block;
pub mod proofs;
pub mod read_payment;
pub mod records;
mod sequence;
mod signing;
pub mod stake;
pub mod stamps;
pub mod types;
pub mod wire;
pub mod write_credentials;

pub use anchor::{GenesisValidator, TrustAnchor, TrustRoot};
pub use client::{DEFAULT_MAX_LAG, LightClient, ProvenAnswers};
pub use error::{LightError, LightResult};
pub use light_block::{ConsensusSigner, LightBlock};
pub use node_failure::NodeFailure;
pub use types::{
    ItemRefusal, PutOutcome, RangeRead, Receipt, RecordUpload, RejectedRecord, SyncProgress,
    UploadResult, VerifiedRecord, WriteCredential,
};
pub use wire::NodeStatusView;
