//! Errors of the owner's wallet. Messages name the problem (VID, date, field) and never
//! carry a secret: no words, keys or pool seeds.

use thiserror::Error;

use crate::crypto::CryptoError;
use crate::grants::GrantsError;
use crate::keys::KeyError;
use crate::light::LightError;
use crate::pairing::{MailboxError, PairingMessageError, PairingPayloadError};
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
    /// The light client failed (network, node refusal, failed verification).
    #[error("light client: {0}")]
    Light(#[from] LightError),
    /// The car's pairing payload is malformed, expired or of an unknown version.
    #[error("pairing payload: {0}")]
    PairingPayload(#[from] PairingPayloadError),
    /// A pairing mailbox message could not be sealed or opened.
    #[error("pairing mailbox: {0}")]
    Mailbox(#[from] MailboxError),
    /// A backup could not be written or restored (another wallet's, damaged, truncated,
    /// newer, or the file failed).
    #[error("backup: {0}")]
    Backup(#[from] super::backup_file::BackupError),
    /// An export could not be written (unknown car, bad period or path, a node that did
    /// not serve every record, the file failed).
    #[error("export: {0}")]
    Export(#[from] crate::export::ExportError),
    /// A pairing message (offer or accept) is malformed.
    #[error("pairing message: {0}")]
    PairingMessage(#[from] PairingMessageError),
    /// A pool size outside 1..=10,000.
    #[error("pool size {size} is outside 1..=10000")]
    InvalidPoolSize {
        /// The size asked for.
        size: usize,
    },
    /// The car did not answer the pairing offer in time.
    #[error("device `{vid}` did not accept the pairing within {seconds} s")]
    PairingTimeout {
        /// The car's VID.
        vid: String,
        /// How long the wallet waited.
        seconds: u64,
    },
    /// The car's accept is for another VID or its signature does not verify.
    #[error("device `{vid}` answered with an invalid pairing accept: {reason}")]
    BadPairingAccept {
        /// The car's VID.
        vid: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The device is paired to another owner on the ledger.
    #[error("device `{vid}` belongs to another owner")]
    DeviceOwnedByOther {
        /// The car's VID.
        vid: String,
    },
    /// The device is already paired with this wallet.
    #[error("device `{vid}` is already paired with this wallet")]
    AlreadyPaired {
        /// The car's VID.
        vid: String,
    },
    /// No device with this VID is paired with this wallet.
    #[error("unknown device `{vid}`")]
    UnknownDevice {
        /// The VID asked for.
        vid: String,
    },
    /// The device no longer belongs to this wallet (reset or transferred).
    #[error("device `{vid}` is no longer owned by this wallet (status {status})")]
    DeviceNotOwned {
        /// The car's VID.
        vid: String,
        /// Its stored status.
        status: String,
    },
    /// A date range that starts after it ends or spans too many days.
    #[error("invalid date range {from} .. {to}: {reason}")]
    InvalidDateRange {
        /// First day.
        from: chrono::NaiveDate,
        /// Last day.
        to: chrono::NaiveDate,
        /// What is wrong.
        reason: &'static str,
    },
    /// A record that failed the pool, hash or decryption checks.
    #[error("record under {address} rejected: {reason}")]
    RecordRejected {
        /// The data address.
        address: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A page with a zero limit.
    #[error("a page limit must be at least 1")]
    InvalidPage,
    /// A subscriber id that is empty or too long.
    #[error("invalid subscriber id: {reason}")]
    InvalidSubscriber {
        /// What is wrong.
        reason: &'static str,
    },
    /// No subscriber with this id follows the car.
    #[error("car {vid} has no subscriber `{id}`")]
    UnknownSubscriber {
        /// The car.
        vid: String,
        /// The subscriber id asked for.
        id: String,
    },
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

crate::error_code::error_codes!(WalletError {
    Keys => inner,
    Store => inner,
    Pool => inner,
    Protocol => inner,
    Sealed => inner,
    Record => inner,
    Trip => inner,
    Crypto => inner,
    Light => inner,
    PairingPayload => inner,
    Mailbox => inner,
    Backup => inner,
    Export => inner,
    PairingMessage => inner,
    InvalidPoolSize => "wallet.invalid_pool_size",
    PairingTimeout => "wallet.pairing_timeout",
    BadPairingAccept => "wallet.bad_pairing_accept",
    DeviceOwnedByOther => "wallet.device_owned_by_other",
    AlreadyPaired => "wallet.already_paired",
    UnknownDevice => "wallet.unknown_device",
    DeviceNotOwned => "wallet.device_not_owned",
    InvalidDateRange => "wallet.invalid_date_range",
    RecordRejected => "wallet.record_rejected",
    InvalidPage => "wallet.invalid_page",
    InvalidSubscriber => "wallet.invalid_subscriber",
    UnknownSubscriber => "wallet.unknown_subscriber",
    Derivation => "wallet.derivation",
    NoIdentity => "wallet.no_identity",
    IdentityExists => "wallet.identity_exists",
    UnsupportedNetwork => "wallet.unsupported_network",
    IdentityMismatch => "wallet.identity_mismatch",
    CorruptRsaKey => "wallet.corrupt_rsa_key",
    LockPoisoned => "wallet.lock_poisoned",
});

impl From<WalletError> for GrantsError {
    /// A wallet failure under a grant operation: the light client's and the store's
    /// errors as the grant's own, anything else of the wallet as
    /// [`GrantsError::Owner`].
    fn from(err: WalletError) -> Self {
        match err {
            WalletError::Light(light) => GrantsError::Light(light),
            WalletError::Store(store) => GrantsError::Store(store),
            other => GrantsError::Owner(Box::new(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wallet_failures_under_grants_keep_their_layer_or_the_wallet_error() {
        let light = GrantsError::from(WalletError::Light(LightError::InvalidInput("x".into())));
        assert!(matches!(
            light,
            GrantsError::Light(LightError::InvalidInput(_))
        ));
        let owner = GrantsError::from(WalletError::UnknownDevice { vid: "V9".into() });
        assert_eq!(owner.code(), "grants.wallet");
        assert!(owner.to_string().contains("V9"));
        let GrantsError::Owner(source) = owner else {
            panic!("an unknown device is the wallet's own failure");
        };
        let wallet = source.downcast::<WalletError>().unwrap();
        assert_eq!(wallet.code(), "wallet.unknown_device");
    }
}
