//! Why the state machine refuses a transaction, each reason mapped to the stable
//! [`ErrorCode`] clients act on.

use carchain_core::protocol::ProtocolError;
use thiserror::Error;

use crate::service::{ErrorCode, ServiceError};

/// A transaction refused by `check_tx` or `deliver_tx`, or a failure reading the state.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TxError {
    /// The chain id or network is not this chain's.
    #[error("the transaction is for another chain or network")]
    WrongChain,
    /// The transaction's (or a device's pairing) signature does not verify.
    #[error("signature does not verify: {0}")]
    BadSignature(String),
    /// The nonce was already used (or is already waiting in the mempool).
    #[error("nonce {got} was already used; the next nonce is {expected}")]
    Replay {
        /// The nonce the account expects next.
        expected: u64,
        /// The nonce the transaction carries.
        got: u64,
    },
    /// The nonce is ahead of the account's next nonce.
    #[error("nonce {got} is ahead of the next nonce {expected}")]
    BadNonce {
        /// The nonce the account expects next.
        expected: u64,
        /// The nonce the transaction carries.
        got: u64,
    },
    /// The fee is below what the transaction must pay.
    #[error("fee {offered} is below the required {required}")]
    FeeTooLow {
        /// The required fee.
        required: u64,
        /// The fee offered.
        offered: u64,
    },
    /// The signer cannot pay the amount and the fee.
    #[error("balance {available} cannot cover {needed}")]
    InsufficientBalance {
        /// What the transaction debits.
        needed: u64,
        /// The signer's balance.
        available: u64,
    },
    /// The signer is not the device's current owner (or not the owner it names).
    #[error("the signer is not the device's owner")]
    NotOwner,
    /// The device is already paired and active.
    #[error("device {vid} is already paired")]
    DeviceExists {
        /// The VID.
        vid: String,
    },
    /// No device with this VID.
    #[error("no device {vid}")]
    UnknownDevice {
        /// The VID.
        vid: String,
    },
    /// The signer's address is not the record's address.
    #[error("a record put must be signed by the key of its address")]
    NotAddressOwner,
    /// Address + key is already registered.
    #[error("address {address} already has a record under this key")]
    DuplicateRecord {
        /// The data address.
        address: String,
    },
    /// The format is neither built in nor a valid custom format name.
    #[error("unknown or invalid record format {format:?}")]
    UnknownFormat {
        /// The refused name.
        format: String,
    },
    /// A transaction kind this node does not execute yet.
    #[error("{kind} transactions are not supported yet")]
    Unsupported {
        /// The kind's JSON name.
        kind: &'static str,
    },
    /// Any other invalid transaction.
    #[error("invalid transaction: {0}")]
    Invalid(String),
    /// The ledger state could not be read or is corrupt (a node fault, not the sender's).
    #[error("ledger state: {0}")]
    Storage(String),
}

impl TxError {
    /// The stable code of this refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            TxError::WrongChain => ErrorCode::WrongChain,
            TxError::BadSignature(_) => ErrorCode::BadSignature,
            TxError::Replay { .. } => ErrorCode::Replay,
            TxError::BadNonce { .. } => ErrorCode::BadNonce,
            TxError::FeeTooLow { .. } => ErrorCode::FeeTooLow,
            TxError::InsufficientBalance { .. } => ErrorCode::InsufficientBalance,
            TxError::NotOwner => ErrorCode::NotOwner,
            TxError::DeviceExists { .. } => ErrorCode::DeviceExists,
            TxError::UnknownDevice { .. } => ErrorCode::UnknownDevice,
            TxError::NotAddressOwner => ErrorCode::NotAddressOwner,
            TxError::DuplicateRecord { .. } => ErrorCode::DuplicateRecord,
            TxError::UnknownFormat { .. } => ErrorCode::UnknownFormat,
            TxError::Unsupported { .. } | TxError::Invalid(_) => ErrorCode::InvalidRequest,
            TxError::Storage(_) => ErrorCode::Internal,
        }
    }

    /// Maps a stateless protocol check failure to its refusal.
    pub fn from_protocol(err: ProtocolError) -> Self {
        match err {
            ProtocolError::WrongChain | ProtocolError::WrongNetwork => TxError::WrongChain,
            ProtocolError::BadSignature { .. }
            | ProtocolError::HighSSignature
            | ProtocolError::InvalidSignatureEncoding => TxError::BadSignature(err.to_string()),
            ProtocolError::SignerNotRecordAddress => TxError::NotAddressOwner,
            ProtocolError::SignerNotOwner => TxError::NotOwner,
            other => TxError::Invalid(other.to_string()),
        }
    }

    /// A state read or decode failure.
    pub(crate) fn storage(err: impl std::fmt::Display) -> Self {
        TxError::Storage(err.to_string())
    }
}

impl From<TxError> for ServiceError {
    fn from(err: TxError) -> Self {
        ServiceError::new(err.code(), err.to_string())
    }
}
