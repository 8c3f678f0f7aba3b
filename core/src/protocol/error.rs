//! The error type of the ledger protocol: decoding, signatures, chain links and proofs.

use thiserror::Error;

/// Everything that can go wrong when decoding, signing or verifying protocol objects.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtocolError {
    /// The canonical bytes ended before a field was complete.
    #[error("canonical bytes end early: needed {needed} more byte(s) for {field}")]
    UnexpectedEnd {
        /// What was being read.
        field: &'static str,
        /// How many bytes were missing.
        needed: usize,
    },
    /// Bytes were left over after a complete value was decoded.
    #[error("{count} trailing byte(s) after a complete value")]
    TrailingBytes {
        /// How many bytes were left.
        count: usize,
    },
    /// A length prefix announces more items or bytes than the input holds.
    #[error("length {length} of {field} exceeds the remaining input")]
    BadLength {
        /// What was being read.
        field: &'static str,
        /// The announced length.
        length: u64,
    },
    /// A string field is not valid UTF-8.
    #[error("{field} is not valid UTF-8")]
    InvalidUtf8 {
        /// What was being read.
        field: &'static str,
    },
    /// A tag byte (enum kind, option marker, boolean) has no meaning.
    #[error("unknown {what} tag {tag}")]
    UnknownTag {
        /// Which tagged value.
        what: &'static str,
        /// The byte found.
        tag: u8,
    },
    /// A public key is not a valid compressed secp256k1 point.
    #[error("{field} is not a valid compressed secp256k1 public key")]
    InvalidPublicKey {
        /// Which key.
        field: &'static str,
    },
    /// A signature is not a valid 64-byte compact ECDSA signature.
    #[error("invalid compact ECDSA signature")]
    InvalidSignatureEncoding,
    /// A signature is in high-S form; only low-S signatures are accepted.
    #[error("signature is not in low-S form")]
    HighSSignature,
    /// A signature does not verify against the digest and key.
    #[error("signature does not verify for {what}")]
    BadSignature {
        /// What was signed.
        what: &'static str,
    },
    /// The secret key given to sign does not belong to the transaction's declared signer.
    #[error("the signing key does not match the transaction's signer")]
    SignerMismatch,
    /// The operating system gave no randomness for a commitment's salt.
    #[error("no randomness available for a commitment salt")]
    Randomness,
    /// A secret key is out of range for secp256k1.
    #[error("invalid secp256k1 secret key")]
    InvalidSecretKey,
    /// A hexadecimal field does not decode.
    #[error("{field} is not valid hexadecimal of the expected length")]
    InvalidHex {
        /// Which field.
        field: &'static str,
    },
    /// The transaction is for another chain.
    #[error("transaction is for another chain")]
    WrongChain,
    /// The transaction names another network's address format.
    #[error("transaction is for another network")]
    WrongNetwork,
    /// An address field is not a canonical P2WPKH address of the chain's network.
    #[error("{field} is not a P2WPKH address of this network in canonical form")]
    InvalidAddress {
        /// Which field.
        field: &'static str,
    },
    /// A date field is not a valid `YYYY-MM-DD` date (or the range is reversed).
    #[error("{field} is not a valid YYYY-MM-DD date in order")]
    InvalidDate {
        /// Which field.
        field: &'static str,
    },
    /// A record put is not signed by the key of the address it writes to.
    #[error("a record put must be signed by the key of its address")]
    SignerNotRecordAddress,
    /// A device setup is not signed by the owner it names.
    #[error("a device setup must be signed by the owner it names")]
    SignerNotOwner,
    /// Two headers do not link into a chain.
    #[error("header chain broken: {reason}")]
    BrokenChain {
        /// Which link rule failed.
        reason: &'static str,
    },
    /// A Merkle inclusion proof is malformed or does not lead to the root.
    #[error("Merkle inclusion proof rejected: {reason}")]
    InclusionProof {
        /// Why.
        reason: &'static str,
    },
    /// A state proof does not verify against the state root.
    #[error("state proof rejected: {reason}")]
    StateProof {
        /// Why (from the authenticated tree's verifier).
        reason: String,
    },
}

crate::error_code::error_codes!(ProtocolError {
    UnexpectedEnd => "protocol.unexpected_end",
    TrailingBytes => "protocol.trailing_bytes",
    BadLength => "protocol.bad_length",
    InvalidUtf8 => "protocol.invalid_utf8",
    UnknownTag => "protocol.unknown_tag",
    InvalidPublicKey => "protocol.invalid_public_key",
    InvalidSignatureEncoding => "protocol.invalid_signature_encoding",
    HighSSignature => "protocol.high_s_signature",
    BadSignature => "protocol.bad_signature",
    SignerMismatch => "protocol.signer_mismatch",
    Randomness => "protocol.randomness",
    InvalidSecretKey => "protocol.invalid_secret_key",
    InvalidHex => "protocol.invalid_hex",
    WrongChain => "protocol.wrong_chain",
    WrongNetwork => "protocol.wrong_network",
    InvalidAddress => "protocol.invalid_address",
    InvalidDate => "protocol.invalid_date",
    SignerNotRecordAddress => "protocol.signer_not_record_address",
    SignerNotOwner => "protocol.signer_not_owner",
    BrokenChain => "protocol.broken_chain",
    InclusionProof => "protocol.inclusion_proof",
    StateProof => "protocol.state_proof",
});

/// Result alias for the protocol module.
pub type Result<T> = std::result::Result<T, ProtocolError>;
