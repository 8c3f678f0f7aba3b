//! The owner's keys: BIP39 words, BIP32/BIP84 secp256k1 keys and addresses, and the
//! RSA key pair derived deterministically from the same seed.

pub mod error;
pub mod mnemonic;
pub mod network;
pub mod seed;

pub use error::KeyError;
pub use mnemonic::{Mnemonic, WordCount};
pub use network::Network;
pub use seed::{SEED_LEN, Seed};
