//! The CLI's [`SecretStore`]: a key file next to the wallet (or car) store, readable
//! only by its owner (mode 0600). It holds the master key that seals the store's secrets
//! at rest. A phone keeps that key in the Android Keystore or the iOS Keychain instead;
//! on a desktop the file's permissions are the protection, so keep it off shared disks.
//!
//! Format: a JSON object `{ name: hex }`, rewritten whole (temporary file + rename).

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use carchain_core::store::{SecretStore, SecretStoreError};
use zeroize::Zeroizing;

/// Named secrets in one owner-only file.
pub struct FileSecretStore {
    path: PathBuf,
    lock: Mutex<()>,
}

impl fmt::Debug for FileSecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSecretStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The key file that goes with the store at `store_path`: `<store_path>.key`.
pub fn key_file_for(store_path: &Path) -> PathBuf {
    let mut name = store_path.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

fn backend(reason: String) -> SecretStoreError {
    SecretStoreError::Backend { reason }
}

impl FileSecretStore {
    /// The secrets kept in the file at `path` (created on first save).
    pub fn new(path: impl Into<PathBuf>) -> FileSecretStore {
        FileSecretStore {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    fn read_all(&self) -> Result<BTreeMap<String, Zeroizing<String>>, SecretStoreError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => Zeroizing::new(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => {
                return Err(backend(format!(
                    "reading key file {}: {e}",
                    self.path.display()
                )));
            }
        };
        let map: BTreeMap<String, String> = serde_json::from_str(&text).map_err(|_| {
            backend(format!(
                "key file {} is not a JSON object of hex strings",
                self.path.display()
            ))
        })?;
        Ok(map
            .into_iter()
            .map(|(k, v)| (k, Zeroizing::new(v)))
            .collect())
    }

    fn write_all(&self, map: &BTreeMap<String, Zeroizing<String>>) -> Result<(), SecretStoreError> {
        let plain: BTreeMap<&str, &str> =
            map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let text = Zeroizing::new(
            serde_json::to_string(&plain)
                .map_err(|e| backend(format!("encoding the key file: {e}")))?,
        );
        let mut tmp_name = self.path.as_os_str().to_owned();
        tmp_name.push(".tmp");
        let tmp = PathBuf::from(tmp_name);
        let io =
            |e: std::io::Error| backend(format!("writing key file {}: {e}", self.path.display()));
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(fs::Permissions::from_mode(0o600))
                .map_err(io)?;
        }
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        fs::rename(&tmp, &self.path).map_err(io)
    }
}

impl SecretStore for FileSecretStore {
    fn load(&self, name: &str) -> Result<Option<Vec<u8>>, SecretStoreError> {
        let _guard = self
            .lock
            .lock()
            .map_err(|_| backend("key file lock poisoned".into()))?;
        match self.read_all()?.get(name) {
            Some(hex_text) => hex::decode(hex_text.as_str())
                .map(Some)
                .map_err(|_| backend(format!("secret `{name}` in the key file is not hex"))),
            None => Ok(None),
        }
    }

    fn save(&self, name: &str, secret: &[u8]) -> Result<(), SecretStoreError> {
        let _guard = self
            .lock
            .lock()
            .map_err(|_| backend("key file lock poisoned".into()))?;
        let mut map = self.read_all()?;
        map.insert(name.to_owned(), Zeroizing::new(hex::encode(secret)));
        self.write_all(&map)
    }

    fn delete(&self, name: &str) -> Result<(), SecretStoreError> {
        let _guard = self
            .lock
            .lock()
            .map_err(|_| backend("key file lock poisoned".into()))?;
        let mut map = self.read_all()?;
        if map.remove(name).is_some() {
            self.write_all(&map)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_replace_delete_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = key_file_for(&dir.path().join("wallet.db"));
        assert_eq!(path, dir.path().join("wallet.db.key"));
        let store = FileSecretStore::new(&path);
        assert_eq!(store.load("m").unwrap(), None);
        store.save("m", &[1, 2, 3]).unwrap();
        store.save("n", b"other").unwrap();
        store.save("m", &[9, 8]).unwrap();
        let reopened = FileSecretStore::new(&path);
        assert_eq!(reopened.load("m").unwrap(), Some(vec![9, 8]));
        assert_eq!(reopened.load("n").unwrap(), Some(b"other".to_vec()));
        reopened.delete("m").unwrap();
        reopened.delete("m").unwrap();
        assert_eq!(store.load("m").unwrap(), None);
        assert_eq!(store.load("n").unwrap(), Some(b"other".to_vec()));
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = FileSecretStore::new(dir.path().join("w.key"));
        store.save("m", &[7; 32]).unwrap();
        let mode = fs::metadata(&store.path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_corrupt_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.key");
        fs::write(&path, "not json").unwrap();
        let err = FileSecretStore::new(&path).load("m").unwrap_err();
        assert!(err.to_string().contains("not a JSON object"), "{err}");
        fs::write(&path, r#"{"m":"zz"}"#).unwrap();
        let err = FileSecretStore::new(&path).load("m").unwrap_err();
        assert!(err.to_string().contains("not hex"), "{err}");
    }

    #[test]
    fn debug_shows_the_path_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileSecretStore::new(dir.path().join("w.key"));
        store.save("m", &[0xAB; 4]).unwrap();
        let shown = format!("{store:?}");
        assert!(shown.contains("w.key"));
        assert!(!shown.contains("abab"));
    }
}
