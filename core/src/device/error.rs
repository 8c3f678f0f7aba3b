//! Typed errors of the car side: the pairing payload, the sealed mailbox, the pairing
//! messages, the car's own store and the `CarDevice` flows. No variant carries a secret
//! (codes, keys and pool seeds never appear in messages).

use thiserror::Error;

/// A pairing payload that cannot be made or read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PairingPayloadError {
    /// The text is not a `carchain:pair?...` payload with every field exactly once.
    #[error("malformed pairing payload: {reason}")]
    Malformed {
        /// What is wrong with the text.
        reason: String,
    },
    /// The payload's version is not one this SDK reads.
    #[error("unknown pairing payload version {version}")]
    UnknownVersion {
        /// The version the payload declares.
        version: String,
    },
    /// The device public key is not a compressed secp256k1 point in hex.
    #[error("pairing payload device key is not a valid secp256k1 public key")]
    BadKey,
    /// The pairing code is not 8 Crockford base32 characters.
    #[error("pairing code must be 8 Crockford base32 characters")]
    BadCode,
    /// The code has expired (or the time to live given was zero).
    #[error("pairing code expired at {expires_at} (now {now})")]
    Expired {
        /// When the code stopped being valid (unix seconds).
        expires_at: u64,
        /// The time it was checked at (unix seconds).
        now: u64,
    },
    /// The VID is empty, too long or holds characters a payload cannot carry.
    #[error("invalid VID for a pairing payload: {reason}")]
    BadVid {
        /// Why the VID is refused.
        reason: String,
    },
    /// The operating system's random generator failed.
    #[error("operating system randomness unavailable")]
    RandomnessUnavailable,
}

/// A mailbox message that cannot be sealed or opened, or a mailbox key that cannot be
/// derived.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum MailboxError {
    /// The sealed bytes are shorter than the fixed header plus tag.
    #[error("sealed mailbox message truncated: {len} bytes")]
    Truncated {
        /// Length received.
        len: usize,
    },
    /// The sealed message's version byte is unknown.
    #[error("unknown sealed mailbox message version {version}")]
    UnknownVersion {
        /// The version byte found.
        version: u8,
    },
    /// The ephemeral public key inside the message is not a valid point.
    #[error("sealed mailbox message carries an invalid ephemeral key")]
    BadEphemeralKey,
    /// Authentication failed: wrong recipient key or altered bytes.
    #[error("sealed mailbox message failed authentication (wrong key or altered)")]
    Authentication,
    /// The derived mailbox key is not a valid secp256k1 secret (probability ~2^-128).
    #[error("mailbox key derivation gave an invalid secp256k1 secret")]
    InvalidDerivedKey,
    /// A mailbox sequence number could not be encoded as a record key.
    #[error("mailbox record key: {reason}")]
    RecordKey {
        /// Why the key could not be encoded.
        reason: String,
    },
    /// The operating system's random generator failed.
    #[error("operating system randomness unavailable")]
    RandomnessUnavailable,
}

/// A pairing message (offer or accept) that cannot be encoded, decoded or checked.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PairingMessageError {
    /// The JSON does not describe the message.
    #[error("malformed pairing message: {reason}")]
    Malformed {
        /// What is wrong (never includes the message's secret fields).
        reason: String,
    },
    /// A field holds a value out of range (pool size, key bytes, etc.).
    #[error("invalid pairing message field {field}: {reason}")]
    InvalidField {
        /// The field name.
        field: &'static str,
        /// Why it is refused.
        reason: String,
    },
}

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
