//! Auditors: a registered auditor countersigns a completeness claim — the mileage
//! total of a car over a period, across all of its pool addresses — after checking it
//! itself against the ledger, and a provider requires that countersignature before its
//! grant completes.
//!
//! Who is an auditor (the ledger's rule): the chain's operator is the root auditor; a
//! registered provider becomes one when an auditor attests the claim [`AUDITOR_CLAIM`]
//! about its address ([`appoint_auditor`]).
//!
//! What the auditor checks ([`Auditor::audit_mileage`]):
//! - the owner disclosed the car's pool ([`PoolDisclosure`]: pool seed, branch public
//!   key and size) and it is the pool the ledger's device state commits to, so the
//!   addresses are all of the car's addresses and nothing else;
//! - every `trip-gps` record registered under any of those addresses whose trip starts
//!   in the period (found from the keys alone, through the ledger's per-address index)
//!   is in the copy the owner granted the auditor, and the copy holds nothing else;
//! - the copied trips, opened and checked against their dHash and cHash, add up to the
//!   claimed trip count and metres ([`crate::compute::mileage_native`], the same sum the
//!   shipped `Mileage.sol` computes).
//!
//! The countersignature is an `AuditorAttestation` transaction whose subject is the
//! grant it vouches for (its id in hex); the ledger records it on that grant. Since tx
//! format v3 the transaction publishes only the kind of claim ([`MILEAGE_CLAIM_TAG`])
//! and a salted commitment to the claim's text (which names the car) and the trips'
//! dHashes; the opening ([`crate::protocol::AttestationOpening`]) reaches the requester sealed to its RSA
//! key ([`Countersignature::seal_for`]). A provider checks it with
//! [`require_attestation`]: the grant's proven state names the attestation's
//! transaction id, the signed transaction itself (handed over by the auditor, or
//! fetched from a node with [`fetch_transaction`]) carries the auditor's signature over
//! the commitment, and the opening hashes to it. Anyone holding the opening can do the
//! same check; a ledger reader learns only that the grant was countersigned.
//!
//! The scan reads each pool address through the auditor's light client: with a read
//! payer set ([`crate::light::LightClient::with_read_payer`]), each address read spends
//! a fresh blind-signed read token on a connection of its own, exactly like the
//! owner's reads, so the node cannot tell the auditor's scan from other reads or link
//! the pool's addresses through it.
//!
//! Disclosing the pool seed lets the auditor find the car's address for each day: it

mod attestation;
mod claim;
mod countersignature;
mod error;
mod mileage;
mod pool_disclosure;

pub use attestation::{
    VerifiedAttestation, appoint_auditor, check_attestation_tx, fetch_transaction, is_auditor,
    recorded_attestations, require_attestation,
};
pub use claim::{AUDITOR_CLAIM, MILEAGE_CLAIM_TAG, MileageClaim};
pub use countersignature::{COUNTERSIGNATURE_FORMAT, Countersignature};
pub use error::{AuditError, AuditResult};
pub use mileage::{AuditedMileage, Auditor};
pub use pool_disclosure::PoolDisclosure;
