//! The validator's signing key: generated at `init`, kept in `validator.key` (hex,
//! mode 0600), never printed.

use std::path::Path;

use bitcoin::secp256k1::{PublicKey, SecretKey};
use carchain_core::protocol::signing::{public_key_of, secret_key_from_bytes};
use carchain_core::protocol::{BlockHeader, SignedHeader};
use zeroize::Zeroizing;

use super::error::ChainError;

/// The block producer's secp256k1 key.
pub struct ValidatorKey {
    secret: SecretKey,
    public: PublicKey,
}

impl std::fmt::Debug for ValidatorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidatorKey")
            .field("public", &hex::encode(self.public.serialize()))
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Drop for ValidatorKey {
    fn drop(&mut self) {
        self.secret.non_secure_erase();
    }
}

impl ValidatorKey {
    /// A fresh key from the operating system's random generator.
    pub fn generate() -> Result<Self, ChainError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        loop {
            getrandom::fill(bytes.as_mut_slice()).map_err(|_| ChainError::RandomUnavailable)?;
            if let Ok(key) = Self::from_bytes(&bytes) {
                return Ok(key);
            }
        }
    }

    /// The key with secret `bytes`.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, ChainError> {
        let secret = secret_key_from_bytes(bytes)?;
        Ok(Self {
            public: public_key_of(&secret),
            secret,
        })
    }

    /// Reads a key file (64 hex characters).
    pub fn load(path: &Path) -> Result<Self, ChainError> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|err| {
            ChainError::ValidatorKey(format!("reading {}: {err}", path.display()))
        })?);
        let mut bytes = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim(), bytes.as_mut_slice()).map_err(|_| {
            ChainError::ValidatorKey(format!("{} is not 64 hex characters", path.display()))
        })?;
        Self::from_bytes(&bytes)
    }

    /// Writes the key file, readable by its owner only; refuses to overwrite a file.
    pub fn save(&self, path: &Path) -> Result<(), ChainError> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let failed = |err: std::io::Error| {
            ChainError::ValidatorKey(format!("writing {}: {err}", path.display()))
        };
        let mut file = options.open(path).map_err(failed)?;
        let text = Zeroizing::new(hex::encode(self.secret.secret_bytes()));
        file.write_all(text.as_bytes()).map_err(failed)?;
        file.sync_all().map_err(failed)
    }

    /// The public key (the header's proposer).
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// Signs a header whose proposer is this key.
    pub fn sign(&self, header: BlockHeader) -> Result<SignedHeader, ChainError> {
        Ok(header.sign(&self.secret)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_key_loads_back_private_and_redacted() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("validator.key");
        let key = ValidatorKey::generate().unwrap_or_else(|e| panic!("{e}"));
        key.save(&path).unwrap_or_else(|e| panic!("{e}"));
        let loaded = ValidatorKey::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(loaded.public_key(), key.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o600));
        }
        let secret_hex = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(!format!("{key:?}").contains(&secret_hex));
        assert!(key.save(&path).is_err(), "overwrote an existing key file");
    }

    #[test]
    fn malformed_key_files_are_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("bad.key");
        for text in ["zz", "00", &"00".repeat(32)] {
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
            assert!(ValidatorKey::load(&path).is_err(), "{text}");
        }
    }
}
