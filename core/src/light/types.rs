//! Plain values the light client takes and returns: sync progress, receipts, verified
//! records and range reads, a device's put authorisation, put outcomes.

use crate::protocol::RecordRegistration;

/// Progress of a header sync, reported after each verified page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncProgress {
    /// Height verified so far.
    pub height: u64,
    /// The node's reported tip this sync aims at.
    pub target: u64,
}

/// What a submission achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// The transaction id.
    pub tx_id: [u8; 32],
    /// The committing block, when the caller waited for it.
    pub height: Option<u64>,
}

/// One record whose registration was proven against a verified header and whose value
/// matches the registered cHash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRecord {
    /// The proven ledger registration (address, key, format, hashes, height, signer).
    pub registration: RecordRegistration,
    /// The stored envelope bytes (still encrypted).
    pub envelope: Vec<u8>,
}

/// A range read: verified records in key order, and the items that failed verification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeRead {
    /// Verified records, ascending key order.
    pub records: Vec<VerifiedRecord>,
    /// Items the node returned that failed verification.
    pub rejected: Vec<RejectedRecord>,
    /// Records registered under the address that no node served (only known for
    /// whole-address reads, [`LightClient::records_at`](super::LightClient::records_at),
    /// which check the ledger's per-address index).
    pub missing: u64,
}

/// An item of a range answer that failed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRecord {
    /// The data address.
    pub address: String,
    /// The record key as the node returned it.
    pub key: Vec<u8>,
    /// Why it was rejected.
    pub reason: String,
}

/// A car's authorisation of a KV put on its agent node (private mode): the device key's
/// compact signature over [`crate::protocol::agent_put_digest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuth {
    /// The device's VID.
    pub vid: String,
    /// Compact (64-byte) ECDSA signature.
    pub signature: [u8; 64],
}

/// What a value put achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// The value is stored now.
    Stored,
    /// The same value was stored already (a retried put).
    AlreadyStored,
}
