//! The wallet store across the FFI: opened over the host's secure storage, which keeps
//! the store's at-rest master key.

use std::sync::Arc;

use carchain_core::store::WalletStore as CoreWalletStore;

use crate::error::CarChainError;
use crate::secrets::{HostSecretStore, SecretStore};

/// The wallet's encrypted SQLite store. Thread-safe.
#[derive(uniffi::Object)]
pub struct WalletStore {
    store: CoreWalletStore,
}

impl std::fmt::Debug for WalletStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WalletStore")
    }
}

#[uniffi::export]
impl WalletStore {
    /// Opens (creating and migrating if needed) the store file at `path`; its at-rest
    /// master key is loaded from, or created in, the host's `secrets`.
    #[uniffi::constructor]
    pub fn open(path: String, secrets: Arc<dyn SecretStore>) -> Result<Arc<Self>, CarChainError> {
        let store = CoreWalletStore::open(path, Arc::new(HostSecretStore::new(secrets)))?;
        Ok(Arc::new(WalletStore { store }))
    }

    /// Opens a store held in memory only (previews, tests).
    #[uniffi::constructor]
    pub fn open_in_memory(secrets: Arc<dyn SecretStore>) -> Result<Arc<Self>, CarChainError> {
        let store = CoreWalletStore::open_in_memory(Arc::new(HostSecretStore::new(secrets)))?;
        Ok(Arc::new(WalletStore { store }))
    }

    /// The schema version of the open store.
    pub fn schema_version(&self) -> Result<u32, CarChainError> {
        Ok(self.store.schema_version()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::tests::RecordingStore;

    const MASTER_KEY_NAME: &str = carchain_core::store::MASTER_KEY_NAME;

    #[test]
    fn opening_creates_the_master_key_in_the_host_store() {
        let host = Arc::new(RecordingStore::default());
        let store = WalletStore::open_in_memory(host.clone()).unwrap();
        assert!(store.schema_version().unwrap() >= 1);
        assert_eq!(
            *host.calls.lock().unwrap(),
            [
                format!("load {MASTER_KEY_NAME}"),
                format!("save {MASTER_KEY_NAME}")
            ]
        );
        assert_eq!(host.values.lock().unwrap()[MASTER_KEY_NAME].len(), 32);
    }

    #[test]
    fn reopening_a_file_loads_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir
            .path()
            .join("wallet.sqlite")
            .to_string_lossy()
            .into_owned();
        let host = Arc::new(RecordingStore::default());
        drop(WalletStore::open(path.clone(), host.clone()).unwrap());
        host.calls.lock().unwrap().clear();
        WalletStore::open(path.clone(), host.clone()).unwrap();
        assert_eq!(
            *host.calls.lock().unwrap(),
            [format!("load {MASTER_KEY_NAME}")]
        );
        // A host store holding another key cannot open the file.
        let other = RecordingStore::default();
        other
            .values
            .lock()
            .unwrap()
            .insert(MASTER_KEY_NAME.to_owned(), vec![7; 32]);
        let err = WalletStore::open(path, Arc::new(other)).unwrap_err();
        assert!(matches!(err, CarChainError::SecretStore { .. }));
        assert_eq!(err.code(), "store.master_key_mismatch");
    }

    #[test]
    fn a_refusing_host_store_is_a_typed_error() {
        let host = Arc::new(RecordingStore {
            deny: true,
            ..Default::default()
        });
        let err = WalletStore::open_in_memory(host).unwrap_err();
        assert!(matches!(err, CarChainError::SecretStore { .. }));
        assert_eq!(err.code(), "store.secret_store");
        assert!(err.to_string().contains("denied"));
    }
}
