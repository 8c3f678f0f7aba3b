//! Why an audit or an attestation check failed.

use crate::grants::error::GrantsError;
use crate::light::LightError;

/// Why an audit or an attestation check failed. No variant carries key material.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A claim's text or fields are not usable.
    #[error("invalid claim: {0}")]
    InvalidClaim(String),
    /// The disclosed pool is not the one the ledger commits for the car.
    #[error("the disclosed pool of {vid} does not match the ledger: {reason}")]
    PoolMismatch {
        /// The car.
        vid: String,
        /// What differs.
        reason: String,
    },
    /// A node did not serve every record the ledger registers under an address.
    #[error("address {address}: {missing} registered records were not served")]
    ScanIncomplete {
        /// The pool address.
        address: String,
        /// Records registered but not served or failing verification.
        missing: u64,
    },
    /// The copy lacks trips the ledger registers for the period.
    #[error("{missing} trips of the period are not in the copy")]
    Incomplete {
        /// How many.
        missing: usize,
    },
    /// The copy holds trips outside the car's pool or the period.
    #[error("{extra} copied trips are outside the car's pool or the period")]
    OutsideClaim {
        /// How many.
        extra: usize,
    },
    /// The trips do not add up to the claim.
    #[error(
        "the claim says {claimed_trips} trips, {claimed_m} m; the ledger's trips give {trips}, {total_m} m"
    )]
    ClaimMismatch {
        /// Trips claimed.
        claimed_trips: u64,
        /// Metres claimed.
        claimed_m: u64,
        /// Trips found.
        trips: u64,
        /// Metres found.
        total_m: u64,
    },
    /// The signer is not a registered auditor.
    #[error("{0} is not a registered auditor")]
    NotAnAuditor(String),
    /// No countersignature of the claim is recorded on the grant.
    #[error("grant {grant} carries no attestation of the claim by {auditor}")]
    AttestationMissing {
        /// The grant id, hex.
        grant: String,
        /// The auditor's address.
        auditor: String,
    },
    /// The attestation transaction is not a valid countersignature of the claim.
    #[error("attestation refused: {0}")]
    AttestationInvalid(String),
    /// Reading the ledger, opening records or submitting failed.
    #[error(transparent)]
    Grants(#[from] GrantsError),
}

crate::error_code::error_codes!(AuditError {
    InvalidClaim => "audit.invalid_claim",
    PoolMismatch => "audit.pool_mismatch",
    ScanIncomplete => "audit.scan_incomplete",
    Incomplete => "audit.incomplete",
    OutsideClaim => "audit.outside_claim",
    ClaimMismatch => "audit.claim_mismatch",
    NotAnAuditor => "audit.not_an_auditor",
    AttestationMissing => "audit.attestation_missing",
    AttestationInvalid => "audit.attestation_invalid",
    Grants => inner,
});

impl From<LightError> for AuditError {
    fn from(err: LightError) -> Self {
        AuditError::Grants(err.into())
    }
}

/// Result of auditor operations.
pub type AuditResult<T> = Result<T, AuditError>;
