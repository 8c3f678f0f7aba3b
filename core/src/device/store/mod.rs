//! The car's own SQLite store (rusqlite, bundled): its device key, the pairing in
//! progress or done, the epoch keys per (address, day), each pool address's next nonce,
//! the offline queue of signed puts, delivered in order, and the write credentials of
//! its private agent node (schema 2), each bound to one pool address on first use.
//!
//! 8 KiB pages, WAL, `synchronous = FULL` (a record accepted into the queue survives a
//! power cut). Secrets are sealed at rest (see `device::at_rest`). Schema versions are
//! tracked in `PRAGMA user_version` and applied in order on open.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::FromSql;
use rusqlite::{Connection, OptionalExtension, Params};
use zeroize::Zeroizing;

use super::at_rest::{ColumnCipher, DEVICE_MASTER_KEY_NAME};
use super::error::DeviceStoreError;
use crate::store::SecretStore;

mod chain_fees;
mod credentials;
mod epochs;
mod fee_stamps;
mod identity;
mod queue;
mod schema;
#[cfg(test)]
mod tests;

type Result<T> = std::result::Result<T, DeviceStoreError>;

/// Page size of new store files.
pub const DEVICE_PAGE_SIZE: u32 = 8192;
/// Schema version this build writes.
pub const DEVICE_SCHEMA_VERSION: i64 = 4;

/// A write credential as the store gives it: its row and its bytes.
pub type StoredCredential = (i64, Zeroizing<Vec<u8>>);

/// An epoch as stored: the key bytes and its owner-wrapped form.
pub type StoredEpoch = (Zeroizing<Vec<u8>>, Vec<u8>);

/// A put waiting in the offline queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedPut {
    /// Queue position (increasing; delivery follows it).
    pub seq: i64,
    /// Data address.
    pub address: String,
    /// Encoded record key.
    pub key: Vec<u8>,
    /// Record format.
    pub format: String,
    /// The sealed envelope (the KV value).
    pub envelope: Vec<u8>,
    /// The signed `RecordPut` transaction, canonical bytes.
    pub tx: Vec<u8>,
    /// Index of the address in the pool (to re-sign with another nonce).
    pub key_index: u32,
    /// When it was queued (unix seconds).
    pub created_at: u64,
    /// Whether the transaction already reached the ledger (only the value remains).
    pub submitted: bool,
}

/// A put to add to the queue (its `seq` is assigned by the store).
#[derive(Clone, Debug)]
pub struct NewPut<'a> {
    /// Data address.
    pub address: &'a str,
    /// Encoded record key.
    pub key: &'a [u8],
    /// Record format.
    pub format: &'a str,
    /// Sealed envelope.
    pub envelope: &'a [u8],
    /// Signed transaction bytes.
    pub tx: &'a [u8],
    /// Index of the address in the pool.
    pub key_index: u32,
    /// Queue time (unix seconds).
    pub created_at: u64,
}

/// The car's store. One per car; not shared between processes.
pub struct DeviceStore {
    conn: Connection,
    cipher: ColumnCipher,
}

impl std::fmt::Debug for DeviceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceStore").finish_non_exhaustive()
    }
}

impl DeviceStore {
    /// Opens (creating if needed) the store at `path`, migrating it to the current
    /// schema and loading (or creating) its master key from `secrets`.
    pub fn open(path: &Path, secrets: &dyn SecretStore) -> Result<Self> {
        Self::init(Connection::open(path)?, secrets)
    }

    /// A private in-memory store (tests, tools).
    pub fn open_in_memory(secrets: &dyn SecretStore) -> Result<Self> {
        Self::init(Connection::open_in_memory()?, secrets)
    }

    fn init(mut conn: Connection, secrets: &dyn SecretStore) -> Result<Self> {
        conn.pragma_update(None, "page_size", DEVICE_PAGE_SIZE)?;
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(Duration::from_secs(5))?;
        schema::migrate(&mut conn)?;
        let has_key: bool =
            conn.query_row("SELECT EXISTS(SELECT 1 FROM device_key)", [], |r| r.get(0))?;
        let master = match secrets.load(DEVICE_MASTER_KEY_NAME)? {
            Some(bytes) => Zeroizing::new(bytes),
            None if has_key => return Err(DeviceStoreError::MasterKeyMissing),
            None => {
                let mut fresh = Zeroizing::new(vec![0u8; 32]);
                getrandom::fill(fresh.as_mut_slice()).map_err(|_| DeviceStoreError::Random)?;
                secrets.save(DEVICE_MASTER_KEY_NAME, &fresh)?;
                fresh
            }
        };
        let cipher = ColumnCipher::from_master_key(&master)?;
        Ok(Self { conn, cipher })
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }
}

/// The two columns of the one row `sql` selects with `params`, or `None` for no row.
fn optional_pair<A: FromSql, B: FromSql>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
) -> Result<Option<(A, B)>> {
    Ok(conn
        .query_row(sql, params, |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

fn to_i64(value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| DeviceStoreError::Invalid { what: "integer" })
}

fn from_i64(value: i64) -> Result<u64> {
    u64::try_from(value).map_err(|_| DeviceStoreError::Invalid { what: "integer" })
}
