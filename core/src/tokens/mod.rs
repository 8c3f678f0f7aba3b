//! Unlinkable tokens: RFC 9474 blind RSA signatures (RSABSSA-SHA384-PSS-Randomized, from
//! the maintained `blind-rsa-signatures` crate) wrapped for CarChain.
//!
//! An issuer (a node) holds an [`IssuerKeyPair`] and publishes its [`IssuerPublicKey`],
//! named by a [`KeyId`] (SHA-256 of its DER). A client draws fresh random token messages
//! and blinds them ([`IssuerPublicKey::blind`]); the issuer signs the blinded messages
//! without seeing them ([`IssuerKeyPair::blind_sign`]); the client unblinds each answer
//! into a [`Token`] ([`IssuerPublicKey::finalize`]). Anyone holding the public key can
//! [`IssuerPublicKey::verify`] a token, and nobody, the issuer included, can tell which
//! signing request it came from. A verifier keeps a table of spent [`Token::token_id`]s
//! so each token is good once.
//!
//! - [`issuer`]: the issuer's key pair and blind signing.
//! - [`public`]: the public key, its id, blinding, finalizing and verifying.
//! - [`stamp`]: fee stamps, tokens committing to a one-time key that pay a put's fee.
//! - [`token`]: the finalized token, its canonical bytes, and a client's pending token.
//! - [`error`]: [`TokenError`] with stable codes.

pub mod error;
pub mod issuer;
pub mod public;
pub mod stamp;
pub mod token;

#[cfg(test)]
mod tests;

pub use error::TokenError;
pub use issuer::IssuerKeyPair;
pub use public::{IssuerPublicKey, KeyId, batch_digest};
pub use stamp::{OwnedStamp, PendingStamp, prepare_stamps};
pub use token::{PendingToken, TOKEN_MESSAGE_LEN, Token};

/// Size of the issuer's RSA modulus, in bits.
pub const ISSUER_KEY_BITS: usize = 2048;
/// Most tokens one signing request may ask for.
pub const MAX_BATCH: usize = 1_000;
