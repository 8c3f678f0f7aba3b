//! The ledger protocol shared by the node and the light client: transactions, headers,
//! canonical encoding, Merkle proofs.

pub mod codec;
pub mod error;
pub mod hashing;
pub mod network;
pub mod serde_hex;
pub mod signing;

pub use codec::{Canonical, Reader, Writer};
pub use error::{ProtocolError, Result};
pub use network::Network;
