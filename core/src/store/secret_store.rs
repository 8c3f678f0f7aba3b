//! The host's secure storage seen from the wallet: a small trait the app implements
//! with the Android Keystore or the iOS Keychain, and an in-memory implementation for
//! tests and tools.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use zeroize::Zeroizing;

use super::error::SecretStoreError;

/// Secure storage for a handful of named secrets (the wallet keeps its at-rest master
/// key there). Implementations must be callable from any thread.
pub trait SecretStore: Send + Sync {
    /// The secret saved under `name`, or `None` when there is none.
    fn load(&self, name: &str) -> Result<Option<Vec<u8>>, SecretStoreError>;
    /// Saves `secret` under `name`, replacing any previous value.
    fn save(&self, name: &str, secret: &[u8]) -> Result<(), SecretStoreError>;
    /// Deletes the secret saved under `name`; deleting a missing name is not an error.
    fn delete(&self, name: &str) -> Result<(), SecretStoreError>;
}

/// A [`SecretStore`] held in process memory: values are zeroized when replaced,
/// deleted or dropped, and never shown by `Debug`.
#[derive(Default)]
pub struct InMemorySecretStore {
    secrets: Mutex<HashMap<String, Zeroizing<Vec<u8>>>>,
}

impl InMemorySecretStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn names(&self) -> Vec<String> {
        match self.secrets.lock() {
            Ok(map) => {
                let mut names: Vec<String> = map.keys().cloned().collect();
                names.sort();
                names
            }
            Err(_) => Vec::new(),
        }
    }
}

fn poisoned() -> SecretStoreError {
    SecretStoreError::Backend {
        reason: "in-memory secret store lock poisoned".to_owned(),
    }
}

impl SecretStore for InMemorySecretStore {
    fn load(&self, name: &str) -> Result<Option<Vec<u8>>, SecretStoreError> {
        let map = self.secrets.lock().map_err(|_| poisoned())?;
        Ok(map.get(name).map(|value| value.to_vec()))
    }

    fn save(&self, name: &str, secret: &[u8]) -> Result<(), SecretStoreError> {
        let mut map = self.secrets.lock().map_err(|_| poisoned())?;
        map.insert(name.to_owned(), Zeroizing::new(secret.to_vec()));
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<(), SecretStoreError> {
        let mut map = self.secrets.lock().map_err(|_| poisoned())?;
        map.remove(name);
        Ok(())
    }
}

impl fmt::Debug for InMemorySecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemorySecretStore")
            .field("names", &self.names())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_replace_delete() {
        let store = InMemorySecretStore::new();
        assert_eq!(store.load("k").unwrap(), None);
        store.save("k", b"first").unwrap();
        assert_eq!(store.load("k").unwrap(), Some(b"first".to_vec()));
        store.save("k", b"second").unwrap();
        assert_eq!(store.load("k").unwrap(), Some(b"second".to_vec()));
        store.delete("k").unwrap();
        assert_eq!(store.load("k").unwrap(), None);
        store.delete("k").unwrap();
    }

    #[test]
    fn names_are_independent() {
        let store = InMemorySecretStore::new();
        store.save("a", b"1").unwrap();
        store.save("b", b"2").unwrap();
        store.delete("a").unwrap();
        assert_eq!(store.load("a").unwrap(), None);
        assert_eq!(store.load("b").unwrap(), Some(b"2".to_vec()));
    }

    #[test]
    fn debug_shows_names_not_values() {
        let store = InMemorySecretStore::new();
        store
            .save("carchain.wallet.master-key", b"TOPSECRETVALUE")
            .unwrap();
        let shown = format!("{store:?}");
        assert!(shown.contains("carchain.wallet.master-key"));
        assert!(!shown.contains("TOPSECRETVALUE"));
        assert!(
            !shown.contains("84, 79, 80"),
            "no byte list either: {shown}"
        );
    }

    #[test]
    fn usable_as_shared_trait_object() {
        let store: std::sync::Arc<dyn SecretStore> =
            std::sync::Arc::new(InMemorySecretStore::new());
        let clone = std::sync::Arc::clone(&store);
        std::thread::spawn(move || clone.save("t", b"x").unwrap())
            .join()
            .unwrap();
        assert_eq!(store.load("t").unwrap(), Some(b"x".to_vec()));
    }
}
