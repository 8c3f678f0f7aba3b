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
    /// The signer is not the party the rule requires (the grant's grantor or grantee,
    /// the escrow's buyer or seller, the request's owner).
    #[error("the signer is not the {role}")]
    NotParty {
        /// The party required.
        role: &'static str,
    },
    /// The signer (or the address named) is not a registered provider.
    #[error("{address} is not a registered provider")]
    UnknownProvider {
        /// The address.
        address: String,
    },
    /// A record a grant names is not registered.
    #[error("no record under {address} with key {key}")]
    UnknownRecord {
        /// The record's address.
        address: String,
        /// The record key (hex).
        key: String,
    },
    /// The signer is not a registered auditor.
    #[error("{address} is not a registered auditor")]
    NotAuditor {
        /// The signer's address.
        address: String,
    },
    /// No grant, request or escrow with this id.
    #[error("no {what} {id}")]
    NotFound {
        /// `grant`, `request` or `escrow`.
        what: &'static str,
        /// The id (hex).
        id: String,
    },
    /// The id is already taken (a replayed grant, request or escrow).
    #[error("{what} {id} already exists")]
    DuplicateId {
        /// `grant`, `request` or `escrow`.
        what: &'static str,
        /// The id (hex).
        id: String,
    },
    /// The grant, request or escrow is not in a state the transaction applies to.
    #[error("{what} is {status}: {reason}")]
    WrongStatus {
        /// `grant`, `request` or `escrow`.
        what: &'static str,
        /// Its current status.
        status: String,
        /// What the transaction needed.
        reason: &'static str,
    },
    /// An expiry or deadline has passed (or an expiry is already in the past).
    #[error("{what} expired at {expired_at} (ledger time {now})")]
    Expired {
        /// What expired.
        what: &'static str,
        /// Its expiry (unix ms).
        expired_at: u64,
        /// The ledger clock (unix ms).
        now: u64,
    },
    /// A deadline the transaction waits for has not passed yet.
    #[error("{what} runs until {until} (ledger time {now})")]
    TooEarly {
        /// The window still open.
        what: &'static str,
        /// When it closes (unix ms).
        until: u64,
        /// The ledger clock (unix ms).
        now: u64,
    },
    /// The grantor received these records as a copy it may not sell on.
    #[error("the copy received under grant {grant_id} may not be granted on")]
    ResaleRefused {
        /// The grant the copy came with (hex).
        grant_id: String,
    },
    /// A priced request is approved only once its price is locked in escrow.
    #[error("request price {price} is not locked in an escrow")]
    PaymentMissing {
        /// The request's price.
        price: u64,
    },
    /// The seller's answer to a possession challenge does not verify.
    #[error("possession challenge failed: {0}")]
    ChallengeFailed(String),
    /// The record put's fee stamp does not pay: no stamp issuer on this chain, not the
    /// issuer's, bound to another put, or a fee above a stamp's value.
    #[error("the fee stamp does not pay: {0}")]
    StampInvalid(String),
    /// The record put's fee stamp paid a fee before.
    #[error("the fee stamp was spent already")]
    StampSpent,
    /// The stamp escrow cannot cover the fee (stamps sold below the fees they pay).
    #[error("the stamp escrow holds {available}, the fee is {needed}")]
    StampEscrowEmpty {
        /// The fee.
        needed: u64,
        /// The escrow's balance.
        available: u64,
    },
    /// A bond or unbond of zero tokens.
    #[error("a bond or unbond must move more than zero tokens")]
    StakeZero,
    /// An unbond of more than the signer bonded to the validator.
    #[error("unbond of {requested} is more than the {bonded} bonded")]
    InsufficientStake {
        /// What the signer has bonded to the validator.
        bonded: u64,
        /// What the unbond asks for.
        requested: u64,
    },
    /// The validator key is not an ed25519 public key.
    #[error("the validator key is not an ed25519 public key")]
    InvalidValidatorKey,
    /// The bond would take the total voting power beyond what CometBFT accepts.
    #[error("the total voting power would exceed {limit}")]
    PowerOverflow {
        /// The largest total voting power.
        limit: u64,
    },
    /// The unbond would leave the chain with no voting power (no validator).
    #[error("the unbond would leave no validator with voting power")]
    LastValidator,
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
            TxError::NotParty { .. } => ErrorCode::NotOwner,
            TxError::UnknownProvider { .. }
            | TxError::UnknownRecord { .. }
            | TxError::NotAuditor { .. } => ErrorCode::NotRegistered,
            TxError::NotFound { .. } => ErrorCode::NotFound,
            TxError::DuplicateId { .. } => ErrorCode::DuplicateValue,
            TxError::PaymentMissing { .. } => ErrorCode::PaymentRequired,
            TxError::StampInvalid(_) => ErrorCode::StampInvalid,
            TxError::StampSpent => ErrorCode::StampSpent,
            TxError::StampEscrowEmpty { .. } => ErrorCode::StampEscrowEmpty,
            TxError::StakeZero => ErrorCode::StakeAmountZero,
            TxError::InsufficientStake { .. } => ErrorCode::InsufficientStake,
            TxError::InvalidValidatorKey => ErrorCode::InvalidValidatorKey,
            TxError::PowerOverflow { .. } => ErrorCode::PowerOverflow,
            TxError::LastValidator => ErrorCode::LastValidator,
            TxError::WrongStatus { .. }
            | TxError::Expired { .. }
            | TxError::TooEarly { .. }
            | TxError::ResaleRefused { .. }
            | TxError::ChallengeFailed(_)
            | TxError::Unsupported { .. }
            | TxError::Invalid(_) => ErrorCode::InvalidRequest,
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
