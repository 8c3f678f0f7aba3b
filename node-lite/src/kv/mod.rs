//! Key-value storage for encrypted records, partitioned by data address.
//!
//! This is the seed's KVS: a car writes each (already encrypted) record under its data
//! address of the day and a key whose bytes sort like the record's fields, so reading a
//! trip or a day is an ordered scan inside one address. Address + key is write-once: a
//! second put of the same pair with a different value is refused, the same value again
//! is accepted as [`PutOutcome::AlreadyStored`], which makes a device's retried put harmless.
//!
//! [`KvStore`] is the storage contract; [`SqliteKv`] is the embedded backend,
//! [`CassandraKv`] the distributed one (an Apache Cassandra cluster) and [`MemoryKv`] an
//! in-memory one (tests, caches).

mod cassandra;
mod error;
mod group;
mod memory;
mod sqlite;
mod validate;

#[cfg(test)]
mod cassandra_contract;
#[cfg(test)]
mod contract_tests;

pub use cassandra::{CassandraConfig, CassandraKv};
pub use error::KvError;

pub use memory::MemoryKv;
pub use sqlite::SqliteKv;

/// Longest accepted data address, in bytes (bech32 addresses are at most 90 characters).
pub const MAX_ADDRESS_LEN: usize = 128;
/// Longest accepted record key, in bytes.
pub const MAX_KEY_LEN: usize = 1024;
/// Largest accepted value, in bytes.
pub const MAX_VALUE_LEN: usize = 8 * 1024 * 1024;
/// Largest accepted page size of a range read.
pub const MAX_RANGE_LIMIT: u32 = 1000;

/// What a successful put did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// The record was new and is now stored.
    Stored,
    /// The very same value was already stored under this address and key (a retry).
    AlreadyStored,
}

/// One record of a batch put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvPut<'a> {
    /// The data address (partition).
    pub address: &'a str,
    /// The record key; keys sort by their bytes.
    pub key: &'a [u8],
    /// The encrypted value.
    pub value: &'a [u8],
}

/// One page of a range read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RangePage {
    /// `(key, value)` pairs in ascending key order.
    pub items: Vec<(Vec<u8>, Vec<u8>)>,
    /// When more records lie in the range: the last key of this page, to pass as `after`
    /// to read the next page. `None` when this page ends the range.
    pub next_cursor: Option<Vec<u8>>,
}

impl RangePage {
    /// Builds a page from up to `limit + 1` rows in key order: the extra row, when
    /// present, only tells that more records follow.
    pub(crate) fn from_rows(mut rows: Vec<(Vec<u8>, Vec<u8>)>, limit: u32) -> Self {
        let wanted = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > wanted {
            rows.truncate(wanted);
            rows.last().map(|(key, _)| key.clone())
        } else {
            None
        };
        RangePage {
            items: rows,
            next_cursor,
        }
    }
}

/// Whether a store can serve reads and writes now (`/health`, `/v1/status`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KvHealth {
    /// Which backend: `sqlite`, `cassandra` or `memory`.
    pub backend: String,
    /// False when the backend cannot reach enough replicas to store durably.
    pub available: bool,
    /// Why it is not available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl KvHealth {
    /// A `backend` that can always serve (an embedded store).
    pub(crate) fn up(backend: &str) -> Self {
        KvHealth {
            backend: backend.into(),
            available: true,
            detail: None,
        }
    }
}

/// One checked page read of a range, as a backend runs it ([`KvStore::scan`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeScan<'a> {
    /// The data address (partition).
    pub address: &'a str,
    /// The lowest key of the page.
    pub lower: &'a [u8],
    /// Whether `lower` itself is left out (a cursor resumes strictly after itself).
    pub lower_excluded: bool,
    /// The highest key of the range.
    pub end_inclusive: &'a [u8],
    /// The page size, in `1..=MAX_RANGE_LIMIT`.
    pub limit: u32,
}

/// Storage of encrypted records under (data address, key).
pub trait KvStore: Send + Sync {
    /// Stores `value` under `address` and `key`.
    ///
    /// Returns [`PutOutcome::AlreadyStored`] when the identical value is already there and
    /// [`KvError::Duplicate`] when a different value is.
    fn put(&self, address: &str, key: &[u8], value: &[u8]) -> Result<PutOutcome, KvError>;

    /// Stores several records atomically: either every record is stored (or was already
    /// stored with the same value) or, on any error, none of them is. A distributed
    /// backend may refuse a batch that spans data addresses with
    /// [`KvError::BatchSpansAddresses`] (storing nothing).
    fn put_batch(&self, puts: &[KvPut<'_>]) -> Result<Vec<PutOutcome>, KvError>;

    /// [`Self::put_batch`] for records whose values the caller has checked against their
    /// ledger registration (the value's cHash): each key can only ever hold that one
    /// value, so storing it twice is harmless and a backend may store the batch without
    /// a compare-and-set. The outcomes are the same as [`Self::put_batch`]'s (a
    /// different value already stored is still [`KvError::Duplicate`], storing nothing),
    /// except that two writers of the same record racing may both see
    /// [`PutOutcome::Stored`].
    fn put_batch_verified(&self, puts: &[KvPut<'_>]) -> Result<Vec<PutOutcome>, KvError> {
        self.put_batch(puts)
    }

    /// [`Self::put_batch_verified`] for records whose registrations the caller has just
    /// seen committed: no value could be stored under a key before its registration was
    /// committed, and only the registered value ever can be, so a backend may store the
    /// batch without reading the keys first and answer [`PutOutcome::Stored`] for each
    /// (two writers of the same record racing may both see it, as there). The default
    /// is [`Self::put_batch_verified`], exact outcomes included.
    fn put_batch_registered(&self, puts: &[KvPut<'_>]) -> Result<Vec<PutOutcome>, KvError> {
        self.put_batch_verified(puts)
    }

    /// Reads the value under `address` and `key`.
    fn get(&self, address: &str, key: &[u8]) -> Result<Option<Vec<u8>>, KvError>;

    /// Reads up to `limit` records of `address` whose keys lie in `start..=end_inclusive`,
    /// in ascending key order, starting after the key `after` when given (a cursor from
    /// [`RangePage::next_cursor`]). `limit` must be in `1..=MAX_RANGE_LIMIT`.
    fn range(
        &self,
        address: &str,
        start: &[u8],
        end_inclusive: &[u8],
        limit: u32,
        after: Option<&[u8]>,
    ) -> Result<RangePage, KvError> {
        validate::check_range(address, start, end_inclusive, limit)?;
        match validate::range_lower_bound(start, end_inclusive, after) {
            None => Ok(RangePage::default()),
            Some((lower, lower_excluded)) => self.scan(RangeScan {
                address,
                lower,
                lower_excluded,
                end_inclusive,
                limit,
            }),
        }
    }

    /// The backend's side of [`Self::range`]: reads the page of `scan`, whose arguments
    /// [`Self::range`] has already checked and whose lower bound it has placed after
    /// the cursor. Callers read through [`Self::range`].
    fn scan(&self, scan: RangeScan<'_>) -> Result<RangePage, KvError>;

    /// Removes the record under `address` and `key`; returns whether there was one.
    fn delete(&self, address: &str, key: &[u8]) -> Result<bool, KvError>;

    /// Whether the store can serve reads and writes now, without waiting on the network.
    /// An embedded store always can.
    fn health(&self) -> KvHealth {
        KvHealth::up("embedded")
    }
}
