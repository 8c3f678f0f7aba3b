//! Errors of the key area: words, seeds, BIP32 derivation, addresses, signatures and RSA.
//!
//! No variant ever carries secret material: an unknown mnemonic word is reported by its
//! position only, never by its text.

use thiserror::Error;

use super::network::Network;

/// Everything that can go wrong while handling the owner's keys.
#[derive(Debug, Error)]
pub enum KeyError {
    /// The phrase does not have a BIP39 word count (12, 15, 18, 21 or 24).
    #[error("a recovery phrase has 12, 15, 18, 21 or 24 words, this one has {count}")]
    WrongWordCount {
        /// How many words were given.
        count: usize,
    },
    /// A word is not in the BIP39 English list.
    #[error("word {position} of the recovery phrase is not a BIP39 word")]
    UnknownWord {
        /// 1-based position of the offending word.
        position: usize,
    },
    /// All words are valid but the checksum does not match: a word is wrong or misplaced.
    #[error("the recovery phrase checksum does not match (a word is wrong or out of order)")]
    BadChecksum,
    /// Entropy of a length BIP39 does not accept.
    #[error("BIP39 entropy must be 16, 20, 24, 28 or 32 bytes, got {len}")]
    BadEntropyLength {
        /// Length given, in bytes.
        len: usize,
    },
    /// The operating system's random generator failed.
    #[error("the operating system random generator is unavailable")]
    RandomUnavailable,
    /// A network name other than mainnet/testnet/regtest.
    #[error("unknown network {name:?} (expected mainnet, testnet or regtest)")]
    UnknownNetwork {
        /// The name given.
        name: String,
    },
    /// Text that is not a valid Bitcoin address at all.
    #[error("not a valid address")]
    InvalidAddress,
    /// A valid address that belongs to another network.
    #[error("the address is valid but not for {expected}")]
    WrongNetwork {
        /// Network the caller asked for.
        expected: Network,
    },
    /// A derivation path that does not parse.
    #[error("invalid derivation path {path:?}")]
    InvalidDerivationPath {
        /// The path text given (paths are not secret).
        path: String,
    },
    /// A child index out of range (hardened-only or >= 2^31 where a normal index is needed).
    #[error("child index {index} is out of range for a {kind} derivation")]
    InvalidChildIndex {
        /// The index given.
        index: u32,
        /// "normal" or "hardened".
        kind: &'static str,
    },
    /// BIP32 derivation failed (invalid child key, depth exceeded, hardened from public).
    #[error("BIP32 derivation failed: {0}")]
    Derivation(#[from] bitcoin::bip32::Error),
    /// Bytes that are not a valid compressed secp256k1 public key.
    #[error("not a valid compressed secp256k1 public key")]
    InvalidPublicKey,
    /// RSA key generation failed.
    #[error("RSA key generation failed: {0}")]
    RsaGeneration(#[source] rsa::Error),
    /// An RSA public key could not be DER-encoded.
    #[error("RSA public key could not be encoded")]
    RsaEncoding,
}

crate::error_code::error_codes!(KeyError {
    WrongWordCount => "keys.wrong_word_count",
    UnknownWord => "keys.unknown_word",
    BadChecksum => "keys.bad_checksum",
    BadEntropyLength => "keys.bad_entropy_length",
    RandomUnavailable => "keys.random_unavailable",
    UnknownNetwork => "keys.unknown_network",
    InvalidAddress => "keys.invalid_address",
    WrongNetwork => "keys.wrong_network",
    InvalidDerivationPath => "keys.invalid_derivation_path",
    InvalidChildIndex => "keys.invalid_child_index",
    Derivation => "keys.derivation",
    InvalidPublicKey => "keys.invalid_public_key",
    RsaGeneration => "keys.rsa_generation",
    RsaEncoding => "keys.rsa_encoding",
});
