//! [`GrantsError`]: the typed errors of data requests, approvals, deliveries and their
//! checks, on both the provider's and the owner's side.

use super::standing::StandingError;
use crate::compute::ComputeError;
use crate::crypto::CryptoError;
use crate::keys::KeyError;
use crate::light::LightError;
use crate::protocol::ProtocolError;
use crate::record::RecordError;
use crate::sealed::SealedRecordError;
use crate::store::StoreError;
use crate::trip::TripError;

/// Why a grant operation failed. No variant carries key material.
#[derive(Debug, thiserror::Error)]
pub enum GrantsError {
    /// A request's terms are not usable (empty formats, bad dates, unknown privilege...).
    #[error("invalid request terms: {0}")]
    InvalidTerms(String),
    /// The owner's narrowing asks for more than the request, or cannot apply.
    #[error("invalid narrowing: {0}")]
    InvalidNarrowing(String),
    /// No such request on the ledger.
    #[error("request {0} is not on the ledger")]
    UnknownRequest(String),
    /// The request is addressed to someone else.
    #[error("request {0} is not addressed to this wallet")]
    NotAddressedToMe(String),
    /// The request is no longer open (approved, rejected) or has expired.
    #[error("request {request} is not open: {reason}")]
    RequestClosed {
        /// The request id, hex.
        request: String,
        /// Its status or expiry.
        reason: String,
    },
    /// The requester is not a registered provider.
    #[error("{0} is not a registered service provider")]
    UnknownProvider(String),
    /// A computation was asked that the provider did not register.
    #[error("computation {0} is not among the provider's registered code hashes")]
    UnregisteredComputation(String),
    /// A computation this wallet cannot run (not a shipped program).
    #[error("computation {0} is not one this wallet can run")]
    UnsupportedComputation(String),
    /// Nothing in the approved scope to deliver.
    #[error("no records of the approved scope to deliver")]
    NothingToDeliver,
    /// A priced request is not (or no longer) paid for by a funded escrow to the owner.
    #[error("request priced {price} is not paid for: {reason}")]
    PaymentMissing {
        /// The request's price.
        price: u64,
        /// What is wrong with the escrow.
        reason: String,
    },
    /// No such grant known to the wallet.
    #[error("grant {0} is not known to this wallet")]
    UnknownGrant(String),
    /// The owner has not delivered yet.
    #[error("no delivery for request {0} yet")]
    NotDelivered(String),
    /// Waiting for a delivery took too long.
    #[error("no delivery for request {0} before the timeout")]
    Timeout(String),
    /// A delivery failed a check: wrong signer, wrong records, bad hashes, forged result.
    #[error("delivery refused: {0}")]
    DeliveryRefused(String),
    /// A grant on the ledger does not cover what was delivered or is not in force.
    #[error("grant refused: {0}")]
    GrantRefused(String),
    /// Encoding or decoding a delivery document failed.
    #[error("malformed delivery document: {0}")]
    MalformedDocument(String),
    /// The light client or a node failed.
    #[error(transparent)]
    Light(#[from] LightError),
    /// A step of the owner's wallet failed under a grant operation (its device list, its
    /// pool, its locks). The wallet sits above grants, so its error is kept as an opaque
    /// source; the wallet's own error type is what a caller finds by downcasting it.
    #[error(transparent)]
    Owner(Box<dyn std::error::Error + Send + Sync>),
    /// Envelope, wrapping or grant encoding failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A record failed its cHash/dHash check or did not open.
    #[error(transparent)]
    Sealed(#[from] SealedRecordError),
    /// A computation failed.
    #[error(transparent)]
    Compute(#[from] ComputeError),
    /// A key could not be used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A record key or format was invalid.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// An owner's request inbox could not be derived.
    #[error(transparent)]
    Inbox(#[from] super::inbox::InboxError),
    /// A trip could not be decoded or narrowed.
    #[error(transparent)]
    Trip(#[from] TripError),
    /// The wallet's store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A transaction could not be built or signed.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// A standing grant could not be approved, synchronised or read.
    #[error(transparent)]
    Standing(#[from] StandingError),
}

crate::error_code::error_codes!(GrantsError {
    InvalidTerms => "grants.invalid_terms",
    InvalidNarrowing => "grants.invalid_narrowing",
    UnknownRequest => "grants.unknown_request",
    NotAddressedToMe => "grants.not_addressed_to_me",
    RequestClosed => "grants.request_closed",
    UnknownProvider => "grants.unknown_provider",
    UnregisteredComputation => "grants.unregistered_computation",
    UnsupportedComputation => "grants.unsupported_computation",
    NothingToDeliver => "grants.nothing_to_deliver",
    PaymentMissing => "grants.payment_missing",
    UnknownGrant => "grants.unknown_grant",
    NotDelivered => "grants.not_delivered",
    Timeout => "grants.timeout",
    DeliveryRefused => "grants.delivery_refused",
    GrantRefused => "grants.grant_refused",
    MalformedDocument => "grants.malformed_document",
    Light => "grants.light",
    Owner => "grants.wallet",
    Crypto => "grants.crypto",
    Sealed => "grants.sealed",
    Compute => "grants.compute",
    Key => "grants.key",
    Record => "grants.record",
    Inbox => "grants.inbox",
    Trip => "grants.trip",
    Store => "grants.store",
    Protocol => "grants.protocol",
    Standing => inner,
});

/// Result of grant operations.
pub type GrantsResult<T> = Result<T, GrantsError>;
