//! Typed errors of the car side: the car's own store and the `CarDevice` flows (the
//! pairing protocol's own errors are in [`crate::pairing::error`]). No variant carries a
//! secret (codes, keys and pool seeds never appear in messages).

use thiserror::Error;

use crate::pairing::{MailboxError, PairingMessageError, PairingPayloadError};

/// The car's own SQLite store failed.
#[derive(Debug, Error)]
pub enum DeviceStoreError {
    /// SQLite reported an error.
    #[error("car store database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The host's secure storage failed.
    #[error("car store secret storage: {0}")]
    SecretStore(#[from] crate::store::SecretStoreError),
    /// The master key in secure storage has the wrong length.
    #[error("car store master key has {len} bytes, expected 32")]
    MasterKeyWrongLength {
        /// Length found.
        len: usize,
    },
    /// The store holds sealed secrets but secure storage lost the master key.
    #[error("car store master key missing from secure storage")]
    MasterKeyMissing,
    /// A sealed value does not open (wrong master key or altered file).
    #[error("car store secret at {location} does not open")]
    SecretCorrupted {
        /// `table/column/row` of the value.
        location: String,
    },
    /// The file was written by a newer version of this SDK.
    #[error("car store schema version {found} is newer than supported {supported}")]
    SchemaTooNew {
        /// Version in the file.
        found: i64,
        /// Highest version this build knows.
        supported: i64,
    },
    /// A stored value does not decode.
    #[error("car store value {what} is invalid")]
    Invalid {
        /// What was being read.
        what: &'static str,
    },
    /// The operating system's random generator failed.
    #[error("operating system randomness unavailable")]
    Random,
}

crate::error_code::error_codes!(DeviceStoreError {
    Sqlite => "device_store.sqlite",
    SecretStore => inner,
    MasterKeyWrongLength => "device_store.master_key_wrong_length",
    MasterKeyMissing => "device_store.master_key_missing",
    SecretCorrupted => "device_store.secret_corrupted",
    SchemaTooNew => "device_store.schema_too_new",
    Invalid => "device_store.invalid",
    Random => "device_store.random",
});

/// A `CarDevice` operation failed.
#[derive(Debug, Error)]
pub enum DeviceError {
    /// The car's store failed.
    #[error(transparent)]
    Store(#[from] DeviceStoreError),
    /// The pairing payload could not be made.
    #[error(transparent)]
    Payload(#[from] PairingPayloadError),
    /// A mailbox message could not be sealed or opened.
    #[error(transparent)]
    Mailbox(#[from] MailboxError),
    /// A pairing message is invalid.
    #[error(transparent)]
    Message(#[from] PairingMessageError),
    /// Talking to the node failed.
    #[error("light client: {0}")]
    Light(#[from] crate::light::LightError),
    /// The store belongs to another VID.
    #[error("this car store belongs to VID {stored}, not {requested}")]
    WrongVid {
        /// VID in the store.
        stored: String,
        /// VID asked for.
        requested: String,
    },
    /// The car is not paired (no accepted offer).
    #[error("car is not paired")]
    NotPaired,
    /// The car is paired already: reset it before showing a new payload.
    #[error("car is already paired: reset it first")]
    AlreadyPaired,
    /// No pairing code is pending (show a payload first).
    #[error("no pairing in progress")]
    NoPairingInProgress,
    /// The pending code expired before the offer arrived.
    #[error("pairing code expired at {expires_at}")]
    CodeExpired {
        /// Expiry (unix seconds).
        expires_at: u64,
    },
    /// The offer in the mailbox names another code (not ours, or a stale offer).
    #[error("pairing offer does not carry this car's code")]
    CodeMismatch,
    /// The offer's pool branch key is on another network kind than the chain.
    #[error("pairing offer is for another network")]
    WrongNetwork,
    /// A record could not be sealed.
    #[error("sealing record: {0}")]
    Seal(#[from] crate::sealed::SealedRecordError),
    /// A trip could not be encoded.
    #[error("trip: {0}")]
    Trip(#[from] crate::trip::TripError),
    /// Pool address choice or key derivation failed.
    #[error("pool: {0}")]
    Pool(String),
    /// Encryption failed (epoch wrap).
    #[error("crypto: {0}")]
    Crypto(#[from] crate::crypto::CryptoError),
    /// A transaction could not be signed or decoded.
    #[error("protocol: {0}")]
    Protocol(#[from] crate::protocol::ProtocolError),
    /// The node refused a queued put for a reason retrying will not fix.
    #[error("node refused queued put {seq} ({code}): {message}")]
    Refused {
        /// Queue position of the put.
        seq: i64,
        /// The node's error code.
        code: String,
        /// The node's message.
        message: String,
    },
}

crate::error_code::error_codes!(DeviceError {
    Store => inner,
    Payload => inner,
    Mailbox => inner,
    Message => inner,
    Light => inner,
    WrongVid => "device.wrong_vid",
    NotPaired => "device.not_paired",
    AlreadyPaired => "device.already_paired",
    NoPairingInProgress => "device.no_pairing_in_progress",
    CodeExpired => "device.code_expired",
    CodeMismatch => "device.code_mismatch",
    WrongNetwork => "device.wrong_network",
    Seal => inner,
    Trip => inner,
    Pool => "device.pool",
    Crypto => inner,
    Protocol => inner,
    Refused => "device.refused",
});
