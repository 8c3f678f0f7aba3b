//! Errors of the owner's own records ([`super::owner_records`]), each with a stable code.
//! Every one of them is raised before anything reaches the ledger or a node, except
//! [`OwnerRecordError::Wallet`] (a node's refusal, the network, the store). Messages name
//! the format, the car and the day, never a key, a value or a secret.

use chrono::NaiveDate;
use thiserror::Error;

use super::error::WalletError;

/// Why an owner record could not be written or read.
#[derive(Debug, Error)]
pub enum OwnerRecordError {
    /// A format given by name only that is not built in.
    #[error(
        "unknown record format `{format}`: name a built-in format or give a custom one's key fields"
    )]
    UnknownFormat {
        /// The name given.
        format: String,
    },
    /// A custom format whose name or key fields are not valid, or that cannot carry a
    /// version (it declares `VERSION` itself or already has the most key fields).
    #[error("invalid record format: {reason}")]
    InvalidFormat {
        /// What is wrong.
        reason: String,
    },
    /// A format the owner may not write: the car's trips and CarChain's own records.
    #[error("format `{format}` is not an owner record format: {reason}")]
    ReservedFormat {
        /// The format.
        format: String,
        /// Why.
        reason: &'static str,
    },
    /// A key that is not a complete key of the format.
    #[error("invalid record key: {reason}")]
    InvalidKey {
        /// What is wrong.
        reason: String,
    },
    /// A value that is not a JSON object, or names another format.
    #[error("invalid record value: {reason}")]
    InvalidValue {
        /// What is wrong.
        reason: String,
    },
    /// A sealed value larger than a node stores.
    #[error("the sealed value is {size} bytes; a node stores at most {max}")]
    ValueTooLarge {
        /// Bytes the value takes sealed (or plain, when already too large).
        size: usize,
        /// The limit, [`super::MAX_OWNER_VALUE_LEN`].
        max: usize,
    },
    /// `put` of a key that already has a record: `update` writes a new version.
    #[error("car {vid} already has a `{format}` record under this key on {date}: update it")]
    Exists {
        /// The car.
        vid: String,
        /// The format.
        format: String,
        /// The record's day.
        date: NaiveDate,
    },
    /// `update` of a record this wallet does not hold: none under this key, car and day
    /// among the records of the car's pool this wallet can open.
    #[error("this wallet owns no `{format}` record of car {vid} under this key on {date}")]
    NotOwned {
        /// The car.
        vid: String,
        /// The format.
        format: String,
        /// The record's day.
        date: NaiveDate,
    },
    /// The wallet, the store, a node or the network failed.
    #[error(transparent)]
    Wallet(#[from] WalletError),
}

crate::error_code::error_codes!(OwnerRecordError {
    UnknownFormat => "owner_record.unknown_format",
    InvalidFormat => "owner_record.invalid_format",
    ReservedFormat => "owner_record.reserved_format",
    InvalidKey => "owner_record.invalid_key",
    InvalidValue => "owner_record.invalid_value",
    ValueTooLarge => "owner_record.value_too_large",
    Exists => "owner_record.exists",
    NotOwned => "owner_record.not_owned",
    Wallet => "owner_record.wallet",
});

impl From<crate::light::LightError> for OwnerRecordError {
    fn from(error: crate::light::LightError) -> Self {
        OwnerRecordError::Wallet(error.into())
    }
}

impl From<crate::record::OwnerKeyError> for OwnerRecordError {
    fn from(err: crate::record::OwnerKeyError) -> Self {
        match err {
            crate::record::OwnerKeyError::InvalidFormat { reason } => {
                OwnerRecordError::InvalidFormat { reason }
            }
            crate::record::OwnerKeyError::InvalidKey { reason } => {
                OwnerRecordError::InvalidKey { reason }
            }
        }
    }
}
