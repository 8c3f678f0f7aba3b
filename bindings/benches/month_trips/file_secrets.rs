//! A secret store kept as files (one per name, hex-named, mode 0600) in a throwaway
//! directory, so that the Kotlin half of the benchmark can open the same wallet store:
//! the Kotlin `FileSecretStore` reads the same layout. Bench-only; never a wallet's
//! real storage.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use carchain_core::store::{SecretStore, SecretStoreError};

/// Secrets as files under `dir`, named by the hex of the secret's name.
#[derive(Debug)]
pub struct FileSecretStore {
    dir: PathBuf,
}

impl FileSecretStore {
    /// A store in `dir` (created, mode 0700, if missing).
    pub fn new(dir: PathBuf) -> std::io::Result<Self> {
        fs::create_dir_all(&dir)?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))?;
        Ok(Self { dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(hex::encode(name.as_bytes()))
    }
}

fn backend(err: std::io::Error) -> SecretStoreError {
    SecretStoreError::Backend {
        reason: format!("bench secret file: {}", err.kind()),
    }
}

impl SecretStore for FileSecretStore {
    fn load(&self, name: &str) -> Result<Option<Vec<u8>>, SecretStoreError> {
        match fs::read(self.path(name)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
            Err(err) => Err(backend(err)),
        }
    }

    fn save(&self, name: &str, secret: &[u8]) -> Result<(), SecretStoreError> {
        let path = self.path(name);
        fs::write(&path, secret).map_err(backend)?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).map_err(backend)
    }

    fn delete(&self, name: &str) -> Result<(), SecretStoreError> {
        match fs::remove_file(self.path(name)) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(()),
            Err(err) => Err(backend(err)),
        }
    }
}
