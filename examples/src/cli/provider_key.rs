//! A service provider's key file, as `carchain provider new --key PATH` writes it: a
//! 64-byte random seed from which the provider's secp256k1 account key (the owner
//! identity path of the seed, on the file's network) and its RSA-2048 key (the same
//! derivation a wallet uses) both derive, so one secret backs both keys.
//!
//! Format: a JSON object `{"kind": "carchain-provider-key", "version": 1, "network":
//! "regtest", "seed": "<128 hex>", "address": .., "rsa_fingerprint": ..}`; the last two
//! are public and only for a reader of the file. The file is created owner-only (0600)
//! and never overwritten; a server would keep the seed in its key vault instead.

use std::fs;
use std::io::Write;
use std::path::Path;

use carchain_core::grants::ServiceProvider;
use carchain_core::keys::{Network, RsaBits, SEED_LEN, Seed, WalletKeys, WordCount};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::error::CliError;

/// The `kind` every provider key file carries.
pub const PROVIDER_KEY_KIND: &str = "carchain-provider-key";
/// The file format version written.
pub const PROVIDER_KEY_VERSION: u32 = 1;

/// The key file's JSON. `seed` is secret: the type is private and zeroized on drop.
#[derive(Serialize, Deserialize)]
struct KeyFileJson {
    kind: String,
    version: u32,
    network: String,
    seed: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    rsa_fingerprint: String,
}

impl Drop for KeyFileJson {
    fn drop(&mut self) {
        self.seed.zeroize();
    }
}

/// A provider loaded from (or just written to) its key file.
#[derive(Debug)]
pub struct ProviderKey {
    /// The provider's client holding both keys (its `Debug` is redacted).
    pub provider: ServiceProvider,
    /// The network its address is on.
    pub network: Network,
    /// Its RSA key's fingerprint, hex.
    pub rsa_fingerprint: String,
}

fn provider_of(seed: Seed, network: Network) -> Result<ProviderKey, CliError> {
    let keys = WalletKeys::from_seed(seed, network, RsaBits::B2048)
        .map_err(|e| CliError::Input(format!("the provider key does not derive: {e}")))?;
    let provider = ServiceProvider::new(
        *keys.owner_key().secret_key(),
        keys.rsa_private_key().clone(),
        network,
    );
    Ok(ProviderKey {
        provider,
        network,
        rsa_fingerprint: keys.rsa_fingerprint().to_owned(),
    })
}

/// Creates a provider key file at `path` for `network` (refusing an existing file) and
/// returns the provider it holds.
pub fn create(path: &Path, network: Network) -> Result<ProviderKey, CliError> {
    if path.exists() {
        return Err(CliError::Input(format!(
            "a file already exists at {}; choose another --key path",
            path.display()
        )));
    }
    let mnemonic = carchain_core::keys::Mnemonic::generate(WordCount::TwentyFour)
        .map_err(|e| CliError::Local(format!("generating the provider key: {e}")))?;
    let seed = mnemonic
        .to_seed("")
        .map_err(|e| CliError::Local(format!("generating the provider key: {e}")))?;
    let seed_hex = Zeroizing::new(hex::encode(seed.as_bytes()));
    let key = provider_of(seed, network)?;
    let doc = KeyFileJson {
        kind: PROVIDER_KEY_KIND.into(),
        version: PROVIDER_KEY_VERSION,
        network: network.to_string(),
        seed: seed_hex.to_string(),
        address: key.provider.address(),
        rsa_fingerprint: key.rsa_fingerprint.clone(),
    };
    let text = Zeroizing::new(
        serde_json::to_string_pretty(&doc)
            .map_err(|e| CliError::local("encoding the provider key file", e))?,
    );
    let io = |e: std::io::Error| CliError::local(&format!("writing {}", path.display()), e);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(key)
}

/// Loads the provider key file at `path`. A missing, unreadable or malformed file is an
/// input error naming the path (never the seed).
pub fn load(path: &Path) -> Result<ProviderKey, CliError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => Zeroizing::new(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CliError::Input(format!(
                "no provider key at {}: run `carchain provider new --key {}` first",
                path.display(),
                path.display()
            )));
        }
        Err(e) => return Err(CliError::local(&format!("reading {}", path.display()), e)),
    };
    let bad = |what: &str| {
        CliError::Input(format!(
            "{} is not a provider key file: {what}",
            path.display()
        ))
    };
    let doc: KeyFileJson = serde_json::from_str(&text).map_err(|_| bad("not its JSON"))?;
    if doc.kind != PROVIDER_KEY_KIND || doc.version != PROVIDER_KEY_VERSION {
        return Err(bad("unknown kind or version"));
    }
    let network: Network = doc.network.parse().map_err(|_| bad("unknown network"))?;
    let mut bytes = Zeroizing::new([0u8; SEED_LEN]);
    hex::decode_to_slice(doc.seed.as_str(), bytes.as_mut_slice())
        .map_err(|_| bad("the seed is not 64 bytes of hex"))?;
    provider_of(Seed::from_bytes(*bytes), network)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_loads_back_as_the_same_provider_and_is_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("insurer.key");
        let created = create(&path, Network::Regtest).unwrap();
        let loaded = load(&path).unwrap();
        assert_eq!(loaded.provider.address(), created.provider.address());
        assert!(loaded.provider.address().starts_with("bcrt1q"));
        assert_eq!(loaded.rsa_fingerprint, created.rsa_fingerprint);
        assert_eq!(loaded.network, Network::Regtest);
        let shown = format!("{loaded:?}");
        let text = fs::read_to_string(&path).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let seed = doc["seed"].as_str().unwrap();
        assert_eq!(seed.len(), 2 * SEED_LEN);
        assert!(!shown.contains(seed), "Debug hides the seed: {shown}");
        assert_eq!(doc["address"], created.provider.address());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = create(&path, Network::Regtest).unwrap_err();
        assert_eq!(again.exit_code(), 3);
        assert!(again.to_string().contains("already exists"), "{again}");
    }

    #[test]
    fn a_pinned_seed_gives_a_pinned_address() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.key");
        let seed = "07".repeat(SEED_LEN);
        fs::write(
            &path,
            format!(
                r#"{{"kind":"carchain-provider-key","version":1,"network":"regtest","seed":"{seed}"}}"#
            ),
        )
        .unwrap();
        let loaded = load(&path).unwrap();
        let keys = WalletKeys::from_seed(
            Seed::from_bytes([7; SEED_LEN]),
            Network::Regtest,
            RsaBits::B2048,
        )
        .unwrap();
        assert_eq!(loaded.provider.address(), keys.owner_address().to_string());
        assert_eq!(loaded.rsa_fingerprint, keys.rsa_fingerprint());
    }

    #[test]
    fn missing_and_malformed_files_are_input_errors_without_the_seed() {
        let dir = tempfile::tempdir().unwrap();
        let missing = load(&dir.path().join("none.key")).unwrap_err();
        assert_eq!(missing.exit_code(), 3);
        assert!(missing.to_string().contains("provider new"), "{missing}");
        let path = dir.path().join("bad.key");
        for (body, needle) in [
            ("not json", "not its JSON"),
            (
                r#"{"kind":"other","version":1,"network":"regtest","seed":""}"#,
                "unknown kind",
            ),
            (
                r#"{"kind":"carchain-provider-key","version":1,"network":"moon","seed":""}"#,
                "unknown network",
            ),
            (
                r#"{"kind":"carchain-provider-key","version":1,"network":"regtest","seed":"abcd"}"#,
                "64 bytes of hex",
            ),
        ] {
            fs::write(&path, body).unwrap();
            let err = load(&path).unwrap_err();
            assert_eq!(err.exit_code(), 3, "{err}");
            assert!(err.to_string().contains(needle), "{err}");
            assert!(!err.to_string().contains("abcd"), "{err}");
        }
    }
}
