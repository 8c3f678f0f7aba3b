//! The owner's wallet: identity, paired cars (the seed's device list), pairing, setDup and
//! reset, reading a car's records and trips back, and subscribers.
//!
//! - [`Wallet`]: create / restore / open, owner address, RSA fingerprint, balance.
//! - [`WalletError`]: the typed errors of every wallet operation.

mod error;
mod keyring;
mod wallet;

pub use error::WalletError;
pub use wallet::Wallet;
