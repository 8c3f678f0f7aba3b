//! The error type of the record encryption module: every failure of wrapping, sealing,
//! opening, granting and checking commitments, named by its cause. No variant carries
//! key material.

use thiserror::Error;

/// Why a record-encryption operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CryptoError {
    /// The input ended before a complete structure was read.
    #[error("input truncated: needed {needed} more bytes, {available} available")]
    Truncated {
        /// Bytes the next field required.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// The input is not a well-formed structure of the expected kind.
    #[error("malformed input: {0}")]
    Malformed(&'static str),
    /// The envelope declares a format version this build does not know.
    #[error("unsupported envelope version {0}")]
    UnsupportedVersion(u8),
    /// The envelope declares a cipher suite this build does not know.
    #[error("unsupported cipher suite {0}")]
    UnsupportedSuite(u8),
    /// The wrapped key was made for a different RSA key than the one supplied.
    #[error("the wrapped key is addressed to a different RSA key")]
    WrongKey,
    /// RSA-OAEP decryption of a wrapped key failed (corrupted wrapped key).
    #[error("RSA-OAEP unwrapping failed")]
    UnwrapFailed,
    /// RSA-OAEP encryption of a key failed (unusable public key).
    #[error("RSA-OAEP wrapping failed")]
    WrapFailed,
    /// An unwrapped key did not have the expected 32-byte length.
    #[error("unwrapped key has length {0}, expected 32")]
    BadKeyLength(usize),
    /// HKDF could not produce the requested output length.
    #[error("key derivation failed")]
    KeyDerivationFailed,
    /// The AEAD tag did not verify: wrong key, wrong context or altered bytes.
    #[error("authentication failed: wrong key, wrong record context or altered envelope")]
    AuthenticationFailed,
    /// A decrypted envelope field does not end in its length padding (altered or not
    /// written by CarChain).
    #[error("bad length padding inside the envelope")]
    Padding,
    /// The AEAD cipher refused to encrypt (plaintext too long for the suite).
    #[error("encryption failed: plaintext too long")]
    EncryptionFailed,
    /// The operating system random number generator failed.
    #[error("operating system randomness unavailable")]
    RandomnessUnavailable,
    /// The RSA public key could not be encoded for its fingerprint.
    #[error("RSA public key could not be encoded")]
    PublicKeyEncoding,
    /// A length-prefixed field is longer than its prefix can express.
    #[error("field {field} is too long ({len} bytes)")]
    FieldTooLong {
        /// Which field.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// A hash function name that is neither "sha256" nor "sha256d".
    #[error("unknown hash function {0:?}")]
    UnknownHashFunc(String),
    /// The plaintext does not match the record's published dHash.
    #[error("dHash mismatch: the plaintext is not the committed record")]
    DHashMismatch,
    /// The envelope bytes do not match the record's published cHash.
    #[error("cHash mismatch: the envelope is not the committed ciphertext")]
    CHashMismatch,
    /// The subscriber is not listed in the channel key distribution.
    #[error("subscriber {0:?} is not in this channel key distribution")]
    NotASubscriber(String),
    /// The same subscriber id was listed twice for one channel key.
    #[error("subscriber {0:?} listed twice")]
    DuplicateSubscriber(String),
    /// A channel cannot rotate past the last epoch number.
    #[error("channel epoch counter exhausted")]
    EpochOverflow,
}

crate::error_code::error_codes!(CryptoError {
    Truncated => "crypto.truncated",
    Malformed => "crypto.malformed",
    UnsupportedVersion => "crypto.unsupported_version",
    UnsupportedSuite => "crypto.unsupported_suite",
    WrongKey => "crypto.wrong_key",
    UnwrapFailed => "crypto.unwrap_failed",
    WrapFailed => "crypto.wrap_failed",
    BadKeyLength => "crypto.bad_key_length",
    KeyDerivationFailed => "crypto.key_derivation_failed",
    AuthenticationFailed => "crypto.authentication_failed",
    Padding => "crypto.padding",
    EncryptionFailed => "crypto.encryption_failed",
    RandomnessUnavailable => "crypto.randomness_unavailable",
    PublicKeyEncoding => "crypto.public_key_encoding",
    FieldTooLong => "crypto.field_too_long",
    UnknownHashFunc => "crypto.unknown_hash_func",
    DHashMismatch => "crypto.d_hash_mismatch",
    CHashMismatch => "crypto.c_hash_mismatch",
    NotASubscriber => "crypto.not_a_subscriber",
    DuplicateSubscriber => "crypto.duplicate_subscriber",
    EpochOverflow => "crypto.epoch_overflow",
});

/// Result alias of the crypto module.
pub type CryptoResult<T> = Result<T, CryptoError>;
