//! Plain values the light client takes and returns: sync progress, receipts, verified
//! records and range reads, write credentials, batch uploads, put outcomes.

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

pub use crate::protocol::api::WriteCredential;

/// One record of a batch upload (`POST /v1/records`): its signed `RecordPut`, the
/// encrypted value, and the address's write credential when the node is private.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordUpload {
    /// The signed registration.
    pub tx: crate::protocol::SignedTransaction,
    /// The encrypted value; its hash is the registration's cHash.
    pub value: Vec<u8>,
    /// The write credential of the record's address (private nodes).
    pub credential: Option<WriteCredential>,
}

/// Why the node refused one item of a batch: its stable code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRefusal {
    /// The node's stable snake_case code (`duplicate_record`, `credential_spent`, ...).
    pub code: String,
    /// For people.
    pub message: String,
}

/// One item's result of a batch upload, in the items' order.
pub type UploadResult = Result<PutOutcome, ItemRefusal>;

/// What a value put achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// The value is stored now.
    Stored,
    /// The same value was stored already (a retried put).
    AlreadyStored,
}
