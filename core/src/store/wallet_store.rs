//! [`WalletStore`]: the opened store, its connection and its at-rest cipher.
//!
//! Opening reads the schema version first and refuses a newer file before writing
//! anything, then sets the pragmas, migrates, and establishes the master key.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::at_rest::AtRestCipher;
use super::connection::{apply_pragmas, open_file, open_memory};
use super::error::{StoreError, StoreResult};
use super::master_key;
use super::migrations::{MIGRATIONS, Migration, ensure_not_newer, migrate};
use super::secret_store::SecretStore;

/// The wallet's local database: identity, paired devices, address pools, the offline
/// record and header cache, grants and provider requests. Safe to share between
/// threads; every write runs in one transaction.
pub struct WalletStore {
    pub(super) conn: Mutex<Connection>,
    pub(super) cipher: AtRestCipher,
    secrets: Arc<dyn SecretStore>,
}

impl WalletStore {
    /// Opens (creating if needed) the store file at `path`; the at-rest master key
    /// lives in `secrets`.
    pub fn open(path: impl AsRef<Path>, secrets: Arc<dyn SecretStore>) -> StoreResult<Self> {
        Self::open_connection(open_file(path.as_ref())?, secrets, MIGRATIONS)
    }

    /// Opens a store held in memory only (tests, previews).
    pub fn open_in_memory(secrets: Arc<dyn SecretStore>) -> StoreResult<Self> {
        Self::open_connection(open_memory()?, secrets, MIGRATIONS)
    }

    pub(super) fn open_connection(
        mut conn: Connection,
        secrets: Arc<dyn SecretStore>,
        steps: &[Migration],
    ) -> StoreResult<Self> {
        ensure_not_newer(&conn, steps)?;
        apply_pragmas(&conn)?;
        migrate(&mut conn, steps)?;
        let cipher = master_key::establish(&mut conn, secrets.as_ref())?;
        Ok(Self {
            conn: Mutex::new(conn),
            cipher,
            secrets,
        })
    }

    /// The host's secret store this wallet was opened with.
    pub fn secret_store(&self) -> &Arc<dyn SecretStore> {
        &self.secrets
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> StoreResult<u32> {
        self.read(|conn| super::migrations::schema_version(conn))
    }

    /// Runs `read` with the connection locked.
    pub(super) fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let conn = self.conn.lock().map_err(|_| StoreError::LockPoisoned)?;
        read(&conn)
    }

    /// Runs `write` in one immediate transaction, committed only if it returns `Ok`.
    pub(super) fn write<T>(
        &self,
        write: impl FnOnce(&Transaction<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::LockPoisoned)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = write(&tx)?;
        tx.commit()?;
        Ok(value)
    }
}

impl fmt::Debug for WalletStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalletStore").finish_non_exhaustive()
    }
}
