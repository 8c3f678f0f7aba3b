//! Errors of the owner's wallet. Messages name the problem (VID, date, field) and never
//! carry a secret: no words, keys or pool seeds.

use thiserror::Error;

use crate::crypto::CryptoError;
use crate::keys::KeyError;
use crate::pool::PoolError;
use crate::protocol::error::ProtocolError;
use crate::record::RecordError;
use crate::sealed::SealedRecordError;
use crate::store::StoreError;
use crate::trip::TripError;

/// Everything that can go wrong in the owner's wallet.
#[derive(Debug, Error)]
pub enum WalletError {
    /// Deriving or parsing a key failed (bad recovery words, bad address, ...).
    #[error("keys: {0}")]
    Keys(#[from] KeyError),
    /// The wallet store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Deriving a pool or a day's address failed.
    #[error("pool: {0}")]
    Pool(#[from] PoolError),
    /// Building or checking a ledger transaction failed.
    #[error("protocol: {0}")]
    Protocol(#[from] ProtocolError),
    /// A record could not be sealed or opened.
    #[error("record: {0}")]
    Sealed(#[from] SealedRecordError),
    /// A record key, bound or format was not acceptable.
    #[error("record format: {0}")]
    Record(#[from] RecordError),
    /// A trip record could not be decoded.
    #[error("trip: {0}")]
    Trip(#[from] TripError),
    /// Key wrapping or encryption failed.
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),
    /// BIP32 derivation failed.
    #[error("key derivation: {0}")]
    Derivation(#[from] bitcoin::bip32::Error),
    /// The store holds no identity: create or restore a wallet first.
    #[error("the store holds no wallet identity")]
    NoIdentity,
    /// The store already holds an identity; a store holds exactly one wallet.
    #[error("the store already holds a wallet identity")]
    IdentityExists,
    /// The store's identity names a network this build does not know.
    #[error("the stored identity has an unsupported network `{network}`")]
    UnsupportedNetwork {
        /// The stored network name.
        network: String,
    },
    /// The stored identity does not restore to the address it was saved with.
    #[error("the stored identity does not match its owner address")]
    IdentityMismatch,
    /// The cached RSA private key is not valid PKCS#1 DER.
    #[error("the cached RSA private key is corrupt")]
    CorruptRsaKey,
    /// The shared store's lock was poisoned by a panic in another thread.
    #[error("wallet store lock poisoned")]
    LockPoisoned,
}
