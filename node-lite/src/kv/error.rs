//! Errors of the key-value store: bad input, uniqueness violations and backend failures.

use thiserror::Error;

/// Everything that can go wrong storing or reading an encrypted record.
#[derive(Debug, Error)]
pub enum KvError {
    /// The data address was empty.
    #[error("the data address is empty")]
    EmptyAddress,
    /// The data address is longer than [`crate::kv::MAX_ADDRESS_LEN`] bytes.
    #[error("the data address is {len} bytes long, the maximum is {max}")]
    AddressTooLong {
        /// Length of the rejected address in bytes.
        len: usize,
        /// The maximum allowed length.
        max: usize,
    },
    /// The data address holds a byte outside printable ASCII (data addresses are
    /// Bitcoin-format addresses).
    #[error("the data address must be printable ASCII")]
    AddressNotAscii,
    /// The record key was empty.
    #[error("the record key is empty")]
    EmptyKey,
    /// The record key is longer than [`crate::kv::MAX_KEY_LEN`] bytes.
    #[error("the record key is {len} bytes long, the maximum is {max}")]
    KeyTooLong {
        /// Length of the rejected key in bytes.
        len: usize,
        /// The maximum allowed length.
        max: usize,
    },
    /// The value is larger than [`crate::kv::MAX_VALUE_LEN`] bytes.
    #[error("the value is {len} bytes long, the maximum is {max}")]
    ValueTooLarge {
        /// Length of the rejected value in bytes.
        len: usize,
        /// The maximum allowed length.
        max: usize,
    },
    /// A range limit outside `1..=MAX_RANGE_LIMIT`.
    #[error("range limit {limit} is outside 1..={max}")]
    InvalidLimit {
        /// The rejected limit.
        limit: u32,
        /// The maximum allowed limit.
        max: u32,
    },
    /// The range start sorts after its inclusive end.
    #[error("the range start sorts after its end")]
    ReversedRange,
    /// The address and key already hold a different value; records are write-once.
    #[error("address {address} already holds a different value under key {key_hex}")]
    Duplicate {
        /// The data address.
        address: String,
        /// The key, hex encoded.
        key_hex: String,
    },
    /// The same address and key appear twice in one batch.
    #[error("address {address} key {key_hex} appears more than once in the batch")]
    DuplicateInBatch {
        /// The data address.
        address: String,
        /// The key, hex encoded.
        key_hex: String,
    },
    /// The backend's lock was poisoned by a panic in another thread.
    #[error("the key-value store lock is poisoned")]
    Poisoned,
    /// The SQLite backend failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A distributed backend cannot reach enough replicas (a quorum) to store or read
    /// durably; nothing was acknowledged. Retry later.
    #[error("the key-value store cannot reach its quorum: {detail}")]
    Unavailable {
        /// What the backend reported (no data, no keys).
        detail: String,
    },
    /// A distributed backend failed otherwise (a refused statement, a protocol error).
    #[error("the key-value backend failed: {detail}")]
    Backend {
        /// What the backend reported (no data, no keys).
        detail: String,
    },
    /// The backend's configuration cannot be used (e.g. a malformed `--kv` URL).
    #[error("bad key-value store configuration: {detail}")]
    BadConfig {
        /// What is wrong.
        detail: String,
    },
    /// The backend stores a batch atomically only inside one data address.
    #[error("this key-value backend stores a batch atomically only within one data address")]
    BatchSpansAddresses,
}

impl KvError {
    /// A stable, machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            KvError::EmptyAddress => "kv_empty_address",
            KvError::AddressTooLong { .. } => "kv_address_too_long",
            KvError::AddressNotAscii => "kv_address_not_ascii",
            KvError::EmptyKey => "kv_empty_key",
            KvError::KeyTooLong { .. } => "kv_key_too_long",
            KvError::ValueTooLarge { .. } => "kv_value_too_large",
            KvError::InvalidLimit { .. } => "kv_invalid_limit",
            KvError::ReversedRange => "kv_reversed_range",
            KvError::Duplicate { .. } => "kv_duplicate",
            KvError::DuplicateInBatch { .. } => "kv_duplicate_in_batch",
            KvError::Poisoned => "kv_poisoned",
            KvError::Sqlite(_) => "kv_sqlite",
            KvError::Unavailable { .. } => "kv_unavailable",
            KvError::Backend { .. } => "kv_backend",
            KvError::BadConfig { .. } => "kv_bad_config",
            KvError::BatchSpansAddresses => "kv_batch_spans_addresses",
        }
    }
}
