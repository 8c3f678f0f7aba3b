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

impl SealedRecordError {
    /// A stable, machine-readable code for this error (`sealed.<kind>`; a wrapped error
    /// answers its own code), for apps, logs and exit statuses: never reworded.
    pub fn code(&self) -> &'static str {
        match self {
            SealedRecordError::Record(inner) => inner.code(),
            SealedRecordError::Crypto(inner) => inner.code(),
            SealedRecordError::PlaintextNotJson => "sealed.plaintext_not_json",
        }
    }
}
