//! [`TokenError`]: why a token, key or signing request was refused, each with a stable code.

use thiserror::Error;

/// Why a token operation failed. Messages never hold token or key bytes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TokenError {
    /// The token bytes are not a token of this version.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The token's signature does not verify under its issuer key.
    #[error("the token's signature does not verify")]
    BadSignature,
    /// The token was issued under another key than the verifier's.
    #[error("the token was issued under another key")]
    WrongKey,
    /// An issuer key (public or secret) could not be decoded or is unfit.
    #[error("bad issuer key: {0}")]
    BadKey(&'static str),
    /// A blinded message is not one the issuer can sign (wrong size, out of range).
    #[error("bad blinded message: {0}")]
    BadBlindedMessage(&'static str),
    /// A blind signature does not finalize into a valid token.
    #[error("the blind signature does not unblind into a valid token")]
    BadBlindSignature,
    /// A batch of no token, or of more than [`super::MAX_BATCH`].
    #[error("a token batch holds 1 to {max} tokens, not {found}")]
    BatchSize {
        /// Tokens asked for.
        found: usize,
        /// The most allowed.
        max: usize,
    },
    /// The system's randomness or the signature arithmetic failed.
    #[error("token cryptography failed: {0}")]
    Internal(&'static str),
}

crate::error_code::error_codes!(TokenError {
    Malformed => "token.malformed",
    BadSignature => "token.bad_signature",
    WrongKey => "token.wrong_key",
    BadKey => "token.bad_key",
    BadBlindedMessage => "token.bad_blinded_message",
    BadBlindSignature => "token.bad_blind_signature",
    BatchSize => "token.batch_size",
    Internal => "token.internal",
});

/// Checks a batch size against [`super::MAX_BATCH`].
pub(crate) fn check_batch(found: usize) -> Result<(), TokenError> {
    if found == 0 || found > super::MAX_BATCH {
        return Err(TokenError::BatchSize {
            found,
            max: super::MAX_BATCH,
        });
    }
    Ok(())
}
