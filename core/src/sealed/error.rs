//! Errors of sealing and opening records.

use crate::crypto::CryptoError;
use crate::record::RecordError;

/// Why a record could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SealedRecordError {
    /// The key, value, format or columns were not acceptable.
    #[error("record: {0}")]
    Record(#[from] RecordError),
    /// Encryption, decryption or a commitment check failed.
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),
    /// The decrypted plaintext is not the JSON object that was sealed.
    #[error("decrypted value is not a JSON object")]
    PlaintextNotJson,
}

crate::error_code::error_codes!(SealedRecordError {
    Record => inner,
    Crypto => inner,
    PlaintextNotJson => "sealed.plaintext_not_json",
});
