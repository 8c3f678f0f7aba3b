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
///
/// ```
/// use std::sync::Arc;
/// use carchain_core::store::{InMemorySecretStore, WalletStore};
///
/// let dir = tempfile::tempdir()?;
/// let secrets = Arc::new(InMemorySecretStore::new());
/// let store = WalletStore::open(dir.path().join("wallet.db"), secrets)?;
/// assert_eq!(store.schema_version()?, 5);
/// assert!(store.load_identity()?.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
        self.read(super::migrations::schema_version)
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::error::SecretStoreError;
    use super::super::grants::GrantRow;
    use super::super::headers::HeaderRow;
    use super::super::master_key::MASTER_KEY_NAME;
    use super::super::record_cache::CachedRecord;
    use super::super::secret_store::InMemorySecretStore;
    use super::super::secret_values::SecretBytes;
    use super::super::test_support::{MNEMONIC, row_count, sample_device, sample_identity};
    use super::*;

    fn temp_path() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallet.db");
        (dir, path)
    }

    /// A store of `path` at schema `version`, holding the sample identity and car VIN1.
    fn old_version(path: &Path, secrets: &Arc<dyn SecretStore>, version: usize) -> WalletStore {
        let store = WalletStore::open_connection(
            open_file(path).unwrap(),
            secrets.clone(),
            &MIGRATIONS[..version],
        )
        .unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            u32::try_from(version).unwrap()
        );
        store.save_identity(&sample_identity()).unwrap();
        store.upsert_device(&sample_device("VIN1", 7)).unwrap();
        store
    }

    fn active_grant() -> GrantRow {
        GrantRow {
            id: "g1".to_owned(),
            provider: "insurer".to_owned(),
            status: "active".to_owned(),
            json: "{}".to_owned(),
            updated_at: 5,
        }
    }

    fn pragma_i64(store: &WalletStore, name: &str) -> i64 {
        store
            .read(|conn| Ok(conn.query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))?))
            .unwrap()
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack
            .windows(needle.len())
            .any(|window| window == needle)
    }

    /// A secret store whose writes always fail.
    struct ReadOnlySecretStore;

    impl SecretStore for ReadOnlySecretStore {
        fn load(&self, _: &str) -> Result<Option<Vec<u8>>, SecretStoreError> {
            Ok(None)
        }
        fn save(&self, _: &str, _: &[u8]) -> Result<(), SecretStoreError> {
            Err(SecretStoreError::AccessDenied)
        }
        fn delete(&self, _: &str) -> Result<(), SecretStoreError> {
            Ok(())
        }
    }

    #[test]
    fn store_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<WalletStore>();
    }

    #[test]
    fn new_file_is_configured_migrated_and_keyed() {
        let (_dir, path) = temp_path();
        let secrets = Arc::new(InMemorySecretStore::new());
        let store = WalletStore::open(&path, secrets.clone()).unwrap();
        assert_eq!(pragma_i64(&store, "page_size"), 8192);
        assert_eq!(pragma_i64(&store, "synchronous"), 2);
        assert_eq!(pragma_i64(&store, "foreign_keys"), 1);
        let mode: String = store
            .read(|conn| Ok(conn.query_row("PRAGMA journal_mode", [], |row| row.get(0))?))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(store.schema_version().unwrap(), 5);
        let key = secrets.load(MASTER_KEY_NAME).unwrap().unwrap();
        assert_eq!(key.len(), 32);
        assert_ne!(key, vec![0u8; 32]);
        assert!(!format!("{store:?}").contains("cipher"));
    }

    #[test]
    fn reopen_reads_secrets_back() {
        let (_dir, path) = temp_path();
        let secrets = Arc::new(InMemorySecretStore::new());
        {
            let store = WalletStore::open(&path, secrets.clone()).unwrap();
            store.save_identity(&sample_identity()).unwrap();
            store.upsert_device(&sample_device("VIN1", 7)).unwrap();
        }
        let store = WalletStore::open(&path, secrets).unwrap();
        assert_eq!(store.load_identity().unwrap(), Some(sample_identity()));
        assert_eq!(store.device("VIN1").unwrap(), sample_device("VIN1", 7));
    }

    #[test]
    fn lost_master_key_with_secrets_is_master_key_missing() {
        let (_dir, path) = temp_path();
        {
            let store = WalletStore::open(&path, Arc::new(InMemorySecretStore::new())).unwrap();
            store.save_identity(&sample_identity()).unwrap();
        }
        let empty = Arc::new(InMemorySecretStore::new());
        let err = WalletStore::open(&path, empty.clone()).unwrap_err();
        assert!(matches!(err, StoreError::MasterKeyMissing));
        assert_eq!(
            empty.load(MASTER_KEY_NAME).unwrap(),
            None,
            "no new key made"
        );
    }

    #[test]
    fn lost_master_key_with_only_a_device_is_master_key_missing() {
        let (_dir, path) = temp_path();
        {
            let store = WalletStore::open(&path, Arc::new(InMemorySecretStore::new())).unwrap();
            store.upsert_device(&sample_device("VIN1", 7)).unwrap();
        }
        let err = WalletStore::open(&path, Arc::new(InMemorySecretStore::new())).unwrap_err();
        assert!(matches!(err, StoreError::MasterKeyMissing));
    }

    #[test]
    fn lost_master_key_without_secrets_gets_a_new_key() {
        let (_dir, path) = temp_path();
        let first = Arc::new(InMemorySecretStore::new());
        drop(WalletStore::open(&path, first.clone()).unwrap());
        let second = Arc::new(InMemorySecretStore::new());
        let store = WalletStore::open(&path, second.clone()).unwrap();
        store.save_identity(&sample_identity()).unwrap();
        let new_key = second.load(MASTER_KEY_NAME).unwrap().unwrap();
        assert_ne!(Some(new_key), first.load(MASTER_KEY_NAME).unwrap());
        drop(store);
        let reopened = WalletStore::open(&path, second).unwrap();
        assert_eq!(reopened.load_identity().unwrap(), Some(sample_identity()));
    }

    #[test]
    fn other_master_key_is_master_key_mismatch() {
        let (_dir, path) = temp_path();
        drop(WalletStore::open(&path, Arc::new(InMemorySecretStore::new())).unwrap());
        let other = Arc::new(InMemorySecretStore::new());
        other.save(MASTER_KEY_NAME, &[9u8; 32]).unwrap();
        assert!(matches!(
            WalletStore::open(&path, other),
            Err(StoreError::MasterKeyMismatch)
        ));
    }

    #[test]
    fn master_key_of_wrong_length_is_rejected() {
        let secrets = Arc::new(InMemorySecretStore::new());
        secrets.save(MASTER_KEY_NAME, &[1u8; 16]).unwrap();
        assert!(matches!(
            WalletStore::open_in_memory(secrets),
            Err(StoreError::MasterKeyWrongLength { len: 16 })
        ));
    }

    #[test]
    fn secret_store_failure_is_reported() {
        let err = WalletStore::open_in_memory(Arc::new(ReadOnlySecretStore)).unwrap_err();
        assert!(matches!(
            err,
            StoreError::SecretStore(SecretStoreError::AccessDenied)
        ));
    }

    #[test]
    fn version_one_file_is_upgraded_with_its_rows() {
        let (_dir, path) = temp_path();
        let secrets: Arc<dyn SecretStore> = Arc::new(InMemorySecretStore::new());
        let pool: Vec<String> = ["bcrt1qa", "bcrt1qb", "bcrt1qc"].map(String::from).to_vec();
        {
            let v1 = old_version(&path, &secrets, 1);
            v1.save_pool("VIN1", 0, &pool).unwrap();
            assert!(
                v1.latest_header().is_err(),
                "headers table does not exist yet"
            );
        }
        let store = WalletStore::open(&path, secrets).unwrap();
        assert_eq!(store.schema_version().unwrap(), 5);
        assert_eq!(store.load_identity().unwrap(), Some(sample_identity()));
        assert_eq!(store.device("VIN1").unwrap(), sample_device("VIN1", 7));
        assert_eq!(store.pool("VIN1").unwrap(), pool);
        let record = CachedRecord {
            address: "bcrt1qa".to_owned(),
            key: vec![1, 2, 3],
            format: "carvio".to_owned(),
            envelope: vec![9; 40],
            c_hash: vec![0xc; 32],
            d_hash: vec![0xd; 32],
            height: 1,
            signer: "02ab".to_owned(),
        };
        store.cache_record(&record).unwrap();
        assert_eq!(
            store.cached_record("bcrt1qa", &[1, 2, 3]).unwrap(),
            Some(record)
        );
        let header = HeaderRow {
            height: 1,
            hash: vec![1; 32],
            bytes: vec![2; 80],
        };
        store.save_headers(std::slice::from_ref(&header)).unwrap();
        assert_eq!(store.latest_header().unwrap(), Some(header));
        let grant = active_grant();
        store.save_grant(&grant).unwrap();
        assert_eq!(store.grants(Some("active")).unwrap(), [grant]);
    }

    #[test]
    fn version_three_file_is_upgraded_with_its_rows_and_holds_tokens() {
        let (_dir, path) = temp_path();
        let secrets: Arc<dyn SecretStore> = Arc::new(InMemorySecretStore::new());
        let grant = active_grant();
        {
            let v3 = old_version(&path, &secrets, 3);
            v3.save_grant(&grant).unwrap();
            assert!(
                v3.read_token_count(&[1; 32]).is_err(),
                "read_tokens table does not exist yet"
            );
        }
        let store = WalletStore::open(&path, secrets).unwrap();
        assert_eq!(store.schema_version().unwrap(), 5);
        assert_eq!(store.load_identity().unwrap(), Some(sample_identity()));
        assert_eq!(store.device("VIN1").unwrap(), sample_device("VIN1", 7));
        assert_eq!(store.grants(Some("active")).unwrap(), [grant]);
        let token = crate::store::StoredToken {
            token_id: vec![2; 32],
            key_id: vec![1; 32],
            token: vec![3; 355],
        };
        store.add_read_tokens(std::slice::from_ref(&token)).unwrap();
        assert_eq!(store.take_read_token(&[1; 32]).unwrap(), Some(token));
    }

    #[test]
    fn newer_schema_is_refused_and_file_untouched() {
        let (_dir, path) = temp_path();
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE future (x INTEGER); INSERT INTO future VALUES (1);
                 PRAGMA user_version = 99;",
            )
            .unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let secrets = Arc::new(InMemorySecretStore::new());
        let err = WalletStore::open(&path, secrets.clone()).unwrap_err();
        assert!(matches!(
            err,
            StoreError::SchemaTooNew {
                found: 99,
                supported: 5
            }
        ));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "file bytes unchanged"
        );
        assert_eq!(secrets.load(MASTER_KEY_NAME).unwrap(), None, "no key made");
        let conn = rusqlite::Connection::open(&path).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "delete", "journal mode not switched to WAL");
    }

    #[test]
    fn file_bytes_never_hold_mnemonic_or_pool_seed() {
        let (dir, path) = temp_path();
        let seed: Vec<u8> = (0xa0..0xc0).collect();
        let mut device = sample_device("VIN1", 0);
        device.pool_seed = SecretBytes::new(seed.clone());
        device.delivery_secret = Some(SecretBytes::from_slice(b"DELIVERY-SECRET-XYZ"));
        let identity = sample_identity();
        let read_all = || -> Vec<u8> {
            let mut bytes = Vec::new();
            for entry in std::fs::read_dir(dir.path()).unwrap() {
                bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
            }
            bytes
        };
        let store = WalletStore::open(&path, Arc::new(InMemorySecretStore::new())).unwrap();
        store.save_identity(&identity).unwrap();
        store.upsert_device(&device).unwrap();
        assert_eq!(row_count(&store, "devices"), 1);
        let while_open = read_all();
        drop(store);
        let after_close = read_all();
        for bytes in [while_open, after_close] {
            assert!(
                contains(&bytes, identity.owner_address.as_bytes()),
                "plain columns are in the files read"
            );
            assert!(!contains(&bytes, MNEMONIC.as_bytes()));
            assert!(!contains(&bytes, b"abandon abandon"));
            assert!(!contains(&bytes, &seed));
            assert!(!contains(&bytes, b"DELIVERY-SECRET-XYZ"));
            assert!(!contains(&bytes, identity.rsa_private_der.expose()));
        }
    }
}
