//! Typed errors of the pairing protocol: the payload a car shows, the sealed mailbox and
//! the two pairing messages. No variant carries a secret (codes, keys and pool seeds
//! never appear in messages).

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

crate::error_code::error_codes!(PairingPayloadError {
    Malformed => "pairing_payload.malformed",
    UnknownVersion => "pairing_payload.unknown_version",
    BadKey => "pairing_payload.bad_key",
    BadCode => "pairing_payload.bad_code",
    Expired => "pairing_payload.expired",
    BadVid => "pairing_payload.bad_vid",
    RandomnessUnavailable => "pairing_payload.randomness_unavailable",
});

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

crate::error_code::error_codes!(MailboxError {
    Truncated => "mailbox.truncated",
    UnknownVersion => "mailbox.unknown_version",
    BadEphemeralKey => "mailbox.bad_ephemeral_key",
    Authentication => "mailbox.authentication",
    InvalidDerivedKey => "mailbox.invalid_derived_key",
    RecordKey => "mailbox.record_key",
    RandomnessUnavailable => "mailbox.randomness_unavailable",
});

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

crate::error_code::error_codes!(PairingMessageError {
    Malformed => "pairing_message.malformed",
    InvalidField => "pairing_message.invalid_field",
});
