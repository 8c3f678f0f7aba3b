//! Backup and restore of the wallet's state beyond its words: paired cars (names, pool
//! metadata and seeds, delivery secrets, status), every pool generation's addresses,
//! grants and provider requests (subscriptions included, they are grants), unspent read
//! tokens, and the verified header tip the light client is pinned to.
//!
//! [`Wallet::write_backup`] encrypts it under a key derived from the wallet's seed
//! ([`super::backup_file`]) and writes the file atomically (a temporary file beside it,
//! synced, then renamed). [`Wallet::restore_backup`] opens it in a wallet restored from
//! the same words and passphrase and applies it in one go: a backup of another wallet, a
//! damaged, truncated or newer one is refused with a typed error before anything is
//! written. The record cache is left out (it is re-read from the network).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::backup_file::{BackupError, open_backup, seal_backup};
use super::error::WalletError;
use super::identity::Wallet;
use crate::store::{DeviceRow, HeaderRow, SecretBytes, StoreSnapshot, StoredToken, WalletStore};

/// The content's own version (inside the encryption).
const CONTENT_VERSION: u16 = 1;

/// What a backup holds.
#[derive(Serialize, Deserialize)]
struct BackupContent {
    version: u16,
    /// The owner address the backup was made for (checked again on restore).
    owner_address: String,
    created_at: i64,
    devices: Vec<BackedUpDevice>,
    grants: Vec<BackedUpDocument>,
    provider_requests: Vec<BackedUpDocument>,
    read_tokens: Vec<BackedUpToken>,
    header_tip: Option<BackedUpHeader>,
}

#[derive(Serialize, Deserialize)]
struct BackedUpDevice {
    vid: String,
    name: String,
    device_pubkey: String,
    pool_account: u32,
    pool_generation: u32,
    pool_size: u32,
    #[serde(with = "hex::serde")]
    pool_seed: Vec<u8>,
    delivery_secret: Option<String>,
    agent: String,
    paired_at: i64,
    last_seen: Option<i64>,
    status: String,
    /// Addresses of every generation, oldest first.
    pools: Vec<Vec<String>>,
}

#[derive(Serialize, Deserialize)]
struct BackedUpDocument {
    id: String,
    provider: String,
    status: String,
    json: String,
    updated_at: i64,
}

#[derive(Serialize, Deserialize)]
struct BackedUpToken {
    #[serde(with = "hex::serde")]
    token_id: Vec<u8>,
    #[serde(with = "hex::serde")]
    key_id: Vec<u8>,
    #[serde(with = "hex::serde")]
    token: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct BackedUpHeader {
    height: u64,
    #[serde(with = "hex::serde")]
    hash: Vec<u8>,
    #[serde(with = "hex::serde")]
    bytes: Vec<u8>,
}

/// What a restore brought back, counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RestoredCounts {
    /// Cars (paired, reset or transferred).
    pub devices: u32,
    /// Grants.
    pub grants: u32,
    /// Provider requests.
    pub provider_requests: u32,
    /// Unspent read tokens.
    pub read_tokens: u32,
}

impl Wallet {
    /// Writes an encrypted backup of the wallet's state to `path` (replacing the file
    /// there only once the new one is complete). Only a wallet restored from the same
    /// words and passphrase can open it.
    pub fn write_backup(&self, path: impl AsRef<Path>) -> Result<(), WalletError> {
        let path = path.as_ref();
        let content = self.backup_content()?;
        let json = zeroize::Zeroizing::new(serde_json::to_vec(&content).map_err(|err| {
            BackupError::Corrupted {
                reason: format!("encoding: {err}"),
            }
        })?);
        let file = seal_backup(self.keys().seed(), &json)?;
        write_atomically(path, &file)?;
        Ok(())
    }

    /// Restores the state in the backup at `path` into this wallet (restored from the
    /// same words): cars, pools, grants, requests, read tokens and the pinned header
    /// tip. Rows already present are replaced by the backup's. Refuses, typed and
    /// before writing anything, a backup of another wallet, a damaged, truncated or
    /// newer one.
    pub fn restore_backup(&self, path: impl AsRef<Path>) -> Result<RestoredCounts, WalletError> {
        let path = path.as_ref();
        let file = std::fs::read(path).map_err(|err| io_error(path, &err))?;
        let json = open_backup(self.keys().seed(), &file)?;
        let content: BackupContent =
            serde_json::from_slice(&json).map_err(|err| BackupError::Corrupted {
                reason: format!("content: {err}"),
            })?;
        if content.version > CONTENT_VERSION {
            return Err(BackupError::NewerVersion {
                found: content.version,
                supported: CONTENT_VERSION,
            }
            .into());
        }
        if content.owner_address != self.owner_address() {
            return Err(BackupError::WrongWallet.into());
        }
        let store = self.locked_store()?;
        apply(&store, &content)
    }

    fn backup_content(&self) -> Result<BackupContent, WalletError> {
        let store = self.locked_store()?;
        let mut devices = Vec::new();
        for device in store.list_devices()? {
            let mut pools = Vec::new();
            for generation in 0..=device.pool_generation {
                pools.push(store.pool_generation(&device.vid, generation)?);
            }
            devices.push(BackedUpDevice {
                pool_seed: device.pool_seed.expose().to_vec(),
                delivery_secret: device
                    .delivery_secret
                    .as_ref()
                    .map(|secret| hex::encode(secret.expose())),
                vid: device.vid,
                name: device.name,
                device_pubkey: device.device_pubkey,
                pool_account: device.pool_account,
                pool_generation: device.pool_generation,
                pool_size: device.pool_size,
                agent: device.agent,
                paired_at: device.paired_at,
                last_seen: device.last_seen,
                status: device.status,
                pools,
            });
        }
        let document = |id: String, provider, status, json, updated_at| BackedUpDocument {
            id,
            provider,
            status,
            json,
            updated_at,
        };
        Ok(BackupContent {
            version: CONTENT_VERSION,
            owner_address: self.owner_address(),
            created_at: self.unix_now(),
            devices,
            grants: store
                .grants(None)?
                .into_iter()
                .map(|g| document(g.id, g.provider, g.status, g.json, g.updated_at))
                .collect(),
            provider_requests: store
                .provider_requests(None)?
                .into_iter()
                .map(|r| document(r.id, r.provider, r.status, r.json, r.updated_at))
                .collect(),
            read_tokens: store
                .all_read_tokens()?
                .into_iter()
                .map(|t| BackedUpToken {
                    token_id: t.token_id,
                    key_id: t.key_id,
                    token: t.token,
                })
                .collect(),
            header_tip: store.latest_header()?.map(|h| BackedUpHeader {
                height: h.height,
                hash: h.hash,
                bytes: h.bytes,
            }),
        })
    }
}

/// Applies `content` to `store` in one transaction: all or nothing. Every value is
/// decoded before the first write.
fn apply(store: &WalletStore, content: &BackupContent) -> Result<RestoredCounts, WalletError> {
    let mut snapshot = StoreSnapshot::default();
    for device in &content.devices {
        let delivery_secret = device
            .delivery_secret
            .as_deref()
            .map(|text| hex::decode(text).map(SecretBytes::new))
            .transpose()
            .map_err(|_| BackupError::Corrupted {
                reason: "a delivery secret is not hex".into(),
            })?;
        let row = DeviceRow {
            vid: device.vid.clone(),
            name: device.name.clone(),
            device_pubkey: device.device_pubkey.clone(),
            pool_account: device.pool_account,
            pool_generation: device.pool_generation,
            pool_size: device.pool_size,
            pool_seed: SecretBytes::from_slice(&device.pool_seed),
            delivery_secret,
            agent: device.agent.clone(),
            paired_at: device.paired_at,
            last_seen: device.last_seen,
            status: device.status.clone(),
        };
        snapshot.devices.push((row, device.pools.clone()));
    }
    snapshot.grants = rows_of(&content.grants);
    snapshot.provider_requests = rows_of(&content.provider_requests);
    snapshot.read_tokens = content
        .read_tokens
        .iter()
        .map(|t| StoredToken {
            token_id: t.token_id.clone(),
            key_id: t.key_id.clone(),
            token: t.token.clone(),
        })
        .collect();
    snapshot.header_tip = content.header_tip.as_ref().map(|tip| HeaderRow {
        height: tip.height,
        hash: tip.hash.clone(),
        bytes: tip.bytes.clone(),
    });
    store.apply_snapshot(&snapshot)?;
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Ok(RestoredCounts {
        devices: count(content.devices.len()),
        grants: count(content.grants.len()),
        provider_requests: count(content.provider_requests.len()),
        read_tokens: count(content.read_tokens.len()),
    })
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it over
/// `path`: a crash leaves the old file or the new one, never half of one.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    if path.file_name().is_none() || path.is_dir() {
        return Err(BackupError::Io {
            path: path.display().to_string(),
            reason: "not a file path".into(),
        });
    }
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|_| BackupError::RandomnessUnavailable)?;
    crate::export::file::replace_through_temp(path, bytes, &suffix)
        .map_err(|err| io_error(path, &err))
}

fn io_error(path: &Path, err: &std::io::Error) -> BackupError {
    BackupError::Io {
        path: path.display().to_string(),
        reason: err.kind().to_string(),
    }
}

/// Store rows of backed-up grant or request documents.
fn rows_of<R: From<(String, String, String, String, i64)>>(docs: &[BackedUpDocument]) -> Vec<R> {
    docs.iter()
        .map(|d| {
            R::from((
                d.id.clone(),
                d.provider.clone(),
                d.status.clone(),
                d.json.clone(),
                d.updated_at,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::keys::Network;
    use crate::store::{GrantRow, InMemorySecretStore, ProviderRequestRow};

    const WORDS: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    const OTHER_WORDS: &str =
        "legal winner thank year wave sausage worth useful legal winner thank yellow";

    fn wallet(words: &str) -> Wallet {
        let store = WalletStore::open_in_memory(Arc::new(InMemorySecretStore::new())).unwrap();
        Wallet::restore_in(store, Network::Regtest, words, "").unwrap()
    }

    fn device(vid: &str, generation: u32) -> DeviceRow {
        DeviceRow {
            vid: vid.into(),
            name: format!("{vid}'s name"),
            device_pubkey: "02".repeat(33),
            pool_account: 7,
            pool_generation: generation,
            pool_size: 2,
            pool_seed: SecretBytes::from_slice(&[0x5e; 32]),
            delivery_secret: Some(SecretBytes::from_slice(&[0xd1; 32])),
            agent: "agent-1".into(),
            paired_at: 1_700_000_000,
            last_seen: Some(1_700_000_100),
            status: "paired".into(),
        }
    }

    /// A wallet with two cars (one re-paired), a grant, a request, tokens and a tip.
    fn populated() -> Wallet {
        let wallet = wallet(WORDS);
        {
            let store = wallet.locked_store().unwrap();
            for (vid, generation) in [("VIN-A", 0), ("VIN-B", 1)] {
                store.upsert_device(&device(vid, generation)).unwrap();
                for g in 0..=generation {
                    let pool = vec![format!("bcrt1q{vid}{g}a"), format!("bcrt1q{vid}{g}b")];
                    store.save_pool(vid, g, &pool).unwrap();
                }
            }
            store
                .save_grant(&GrantRow {
                    id: "g1".into(),
                    provider: "bcrt1qinsurer".into(),
                    status: "active".into(),
                    json: "{\"scope\":\"trips\"}".into(),
                    updated_at: 5,
                })
                .unwrap();
            store
                .save_provider_request(&ProviderRequestRow {
                    id: "r1".into(),
                    provider: "bcrt1qinsurer".into(),
                    status: "pending".into(),
                    json: "{}".into(),
                    updated_at: 6,
                })
                .unwrap();
            store
                .add_read_tokens(&[StoredToken {
                    token_id: vec![1; 32],
                    key_id: vec![2; 32],
                    token: vec![3; 64],
                }])
                .unwrap();
            store
                .save_headers(&[HeaderRow {
                    height: 42,
                    hash: vec![4; 32],
                    bytes: vec![5; 100],
                }])
                .unwrap();
        }
        wallet
    }

    #[test]
    fn a_restored_phone_gets_every_car_grant_token_and_its_pinned_tip_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wallet.ccbackup");
        populated().write_backup(&file).unwrap();
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(5).any(|w| w == b"VIN-A"),
            "names are encrypted"
        );

        let phone = wallet(WORDS);
        let counts = phone.restore_backup(&file).unwrap();
        assert_eq!(
            counts,
            RestoredCounts {
                devices: 2,
                grants: 1,
                provider_requests: 1,
                read_tokens: 1
            }
        );
        let store = phone.locked_store().unwrap();
        let restored = store.device("VIN-B").unwrap();
        assert_eq!(restored, device("VIN-B", 1));
        assert_eq!(
            store.pool_generation("VIN-B", 0).unwrap(),
            vec!["bcrt1qVIN-B0a".to_owned(), "bcrt1qVIN-B0b".to_owned()]
        );
        assert_eq!(store.pool("VIN-A").unwrap().len(), 2);
        assert_eq!(store.grant("g1").unwrap().unwrap().status, "active");
        assert!(store.provider_request("r1").unwrap().is_some());
        assert_eq!(store.read_token_count(&[2; 32]).unwrap(), 1);
        assert_eq!(store.latest_header().unwrap().unwrap().height, 42);
        drop(store);
        // Restoring twice changes nothing and fails nothing.
        assert_eq!(phone.restore_backup(&file).unwrap().devices, 2);
        assert_eq!(
            phone
                .locked_store()
                .unwrap()
                .read_token_count(&[2; 32])
                .unwrap(),
            1
        );
    }

    #[test]
    fn another_wallets_damaged_or_truncated_backup_is_refused_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wallet.ccbackup");
        populated().write_backup(&file).unwrap();
        let bytes = std::fs::read(&file).unwrap();

        let stranger = wallet(OTHER_WORDS);
        let refused = |path: &Path| match stranger.restore_backup(path) {
            Err(WalletError::Backup(err)) => err.code(),
            other => panic!("{other:?}"),
        };
        assert_eq!(refused(&file), "backup.wrong_wallet");

        let phone = wallet(WORDS);
        let code_for = |bad: &[u8]| {
            let path = dir.path().join("bad.ccbackup");
            std::fs::write(&path, bad).unwrap();
            match phone.restore_backup(&path) {
                Err(WalletError::Backup(err)) => err.code(),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(code_for(&bytes[..bytes.len() / 2]), "backup.truncated");
        let mut flipped = bytes.clone();
        let middle = bytes.len() - 40;
        flipped[middle] ^= 0x10;
        assert_eq!(code_for(&flipped), "backup.corrupted");
        assert_eq!(code_for(b"not a backup"), "backup.not_a_backup");
        let mut newer = bytes.clone();
        newer[8..10].copy_from_slice(&9u16.to_be_bytes());
        assert_eq!(code_for(&newer), "backup.newer_version");
        match phone.restore_backup(dir.path().join("missing")) {
            Err(WalletError::Backup(err)) => assert_eq!(err.code(), "backup.io"),
            other => panic!("{other:?}"),
        }
        for wallet in [&stranger, &phone] {
            let store = wallet.locked_store().unwrap();
            assert!(store.list_devices().unwrap().is_empty());
            assert!(store.grants(None).unwrap().is_empty());
            assert!(store.latest_header().unwrap().is_none());
        }
    }

    #[test]
    fn a_failed_write_leaves_the_previous_backup_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wallet.ccbackup");
        let wallet = populated();
        wallet.write_backup(&file).unwrap();
        let before = std::fs::read(&file).unwrap();
        // A directory where the file should go, and a path into a missing directory.
        match wallet.write_backup(dir.path()) {
            Err(WalletError::Backup(err)) => assert_eq!(err.code(), "backup.io"),
            other => panic!("{other:?}"),
        }
        match wallet.write_backup(dir.path().join("missing/wallet.ccbackup")) {
            Err(WalletError::Backup(err)) => assert_eq!(err.code(), "backup.io"),
            other => panic!("{other:?}"),
        }
        assert_eq!(std::fs::read(&file).unwrap(), before);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_conflicting_tip_on_the_phone_refuses_the_whole_restore() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wallet.ccbackup");
        populated().write_backup(&file).unwrap();
        let phone = wallet(WORDS);
        phone
            .locked_store()
            .unwrap()
            .save_headers(&[HeaderRow {
                height: 42,
                hash: vec![9; 32],
                bytes: vec![9; 100],
            }])
            .unwrap();
        assert!(matches!(
            phone.restore_backup(&file),
            Err(WalletError::Store(_))
        ));
        assert!(
            phone
                .locked_store()
                .unwrap()
                .list_devices()
                .unwrap()
                .is_empty()
        );
    }
}
