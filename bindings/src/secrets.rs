//! The host's secure storage (Android Keystore, iOS Keychain) as a foreign trait, and its
//! adapter to core's [`carchain_core::store::SecretStore`].

use std::fmt;
use std::sync::Arc;

use carchain_core::store::{SecretStore as CoreSecretStore, SecretStoreError as CoreError};

/// Errors the host's secure storage reports. Reasons must not contain secret material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum SecretStoreError {
    /// The storage cannot be reached now (device locked, service down).
    #[error("secure storage unavailable: {reason}")]
    Unavailable {
        /// The host's explanation.
        reason: String,
    },
    /// The user or the platform refused access.
    #[error("access to secure storage denied")]
    AccessDenied,
    /// Any other failure of the host's storage.
    #[error("secure storage failure: {reason}")]
    Backend {
        /// The host's explanation.
        reason: String,
    },
}

impl SecretStoreError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            SecretStoreError::Unavailable { .. } => "secret_store.unavailable",
            SecretStoreError::AccessDenied => "secret_store.access_denied",
            SecretStoreError::Backend { .. } => "secret_store.backend",
        }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for SecretStoreError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        SecretStoreError::Backend {
            reason: format!("the host's secret store threw: {}", error.reason),
        }
    }
}

impl From<SecretStoreError> for CoreError {
    fn from(error: SecretStoreError) -> Self {
        match error {
            SecretStoreError::Unavailable { reason } => CoreError::Unavailable { reason },
            SecretStoreError::AccessDenied => CoreError::AccessDenied,
            SecretStoreError::Backend { reason } => CoreError::Backend { reason },
        }
    }
}

/// Secure storage for a handful of named secrets, implemented by the host app
/// (Keystore/Keychain). Called from any thread.
#[uniffi::export(with_foreign)]
pub trait SecretStore: Send + Sync {
    /// The secret saved under `name`, or `null`/`nil` when there is none.
    fn load(&self, name: String) -> Result<Option<Vec<u8>>, SecretStoreError>;
    /// Saves `secret` under `name`, replacing any previous value.
    fn save(&self, name: String, secret: Vec<u8>) -> Result<(), SecretStoreError>;
    /// Deletes the secret under `name`; deleting a missing name is not an error.
    fn delete(&self, name: String) -> Result<(), SecretStoreError>;
}

/// Core's view of a host [`SecretStore`].
pub(crate) struct HostSecretStore {
    host: Arc<dyn SecretStore>,
}

impl HostSecretStore {
    /// Wraps the host's store for core.
    pub(crate) fn new(host: Arc<dyn SecretStore>) -> Self {
        HostSecretStore { host }
    }
}

impl fmt::Debug for HostSecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HostSecretStore")
    }
}

impl CoreSecretStore for HostSecretStore {
    fn load(&self, name: &str) -> Result<Option<Vec<u8>>, CoreError> {
        Ok(self.host.load(name.to_owned())?)
    }

    fn save(&self, name: &str, secret: &[u8]) -> Result<(), CoreError> {
        Ok(self.host.save(name.to_owned(), secret.to_vec())?)
    }

    fn delete(&self, name: &str) -> Result<(), CoreError> {
        Ok(self.host.delete(name.to_owned())?)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// A host store in Rust that records every call, as a Kotlin or Swift one would.
    #[derive(Default)]
    pub(crate) struct RecordingStore {
        pub(crate) values: Mutex<HashMap<String, Vec<u8>>>,
        pub(crate) calls: Mutex<Vec<String>>,
        pub(crate) deny: bool,
    }

    impl SecretStore for RecordingStore {
        fn load(&self, name: String) -> Result<Option<Vec<u8>>, SecretStoreError> {
            self.calls.lock().unwrap().push(format!("load {name}"));
            Ok(self.values.lock().unwrap().get(&name).cloned())
        }
        fn save(&self, name: String, secret: Vec<u8>) -> Result<(), SecretStoreError> {
            self.calls.lock().unwrap().push(format!("save {name}"));
            if self.deny {
                return Err(SecretStoreError::AccessDenied);
            }
            self.values.lock().unwrap().insert(name, secret);
            Ok(())
        }
        fn delete(&self, name: String) -> Result<(), SecretStoreError> {
            self.calls.lock().unwrap().push(format!("delete {name}"));
            self.values.lock().unwrap().remove(&name);
            Ok(())
        }
    }

    #[test]
    fn adapter_forwards_every_call() {
        let host = Arc::new(RecordingStore::default());
        let store = HostSecretStore::new(host.clone());
        store.save("a", &[1, 2, 3]).unwrap();
        assert_eq!(store.load("a").unwrap(), Some(vec![1, 2, 3]));
        store.delete("a").unwrap();
        assert_eq!(store.load("a").unwrap(), None);
        assert_eq!(
            *host.calls.lock().unwrap(),
            ["save a", "load a", "delete a", "load a"]
        );
    }

    #[test]
    fn host_errors_map_to_core_errors() {
        let cases = [
            (
                SecretStoreError::Unavailable {
                    reason: "locked".into(),
                },
                CoreError::Unavailable {
                    reason: "locked".into(),
                },
            ),
            (SecretStoreError::AccessDenied, CoreError::AccessDenied),
            (
                SecretStoreError::Backend {
                    reason: "io".into(),
                },
                CoreError::Backend {
                    reason: "io".into(),
                },
            ),
        ];
        for (host, core) in cases {
            assert_eq!(CoreError::from(host).to_string(), core.to_string());
        }
        assert_eq!(
            SecretStoreError::AccessDenied.code(),
            "secret_store.access_denied"
        );
    }

    #[test]
    fn unexpected_host_exceptions_become_backend_errors() {
        let error = SecretStoreError::from(uniffi::UnexpectedUniFFICallbackError {
            reason: "NullPointerException".into(),
        });
        assert_eq!(error.code(), "secret_store.backend");
        assert!(error.to_string().contains("NullPointerException"));
    }
}
