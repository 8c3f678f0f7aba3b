//! The owner's wallet across the FFI: create (words shown once), restore or open over the
//! host's secure storage; devices, pairing, pool changes, transfer; decrypted reads by
//! day and range; trips for the map; subscribers.
//!
//! Cancellation (a Kotlin coroutine or Swift task cancelled drops the Rust future):
//! reads (`get_kv`, `get_kv_range`, `trips`, `trip`) change nothing but caches, so they
//! are safe to cancel. `pair_device`, `set_dup` and `reset_to` write the device row only
//! after their ledger transaction is accepted; cancelled before that, nothing is kept
//! locally and calling again starts over (an unanswered mailbox offer is simply replaced).
//! `publish_channel` is idempotent: days already published are left as they are.

use std::sync::Arc;

use carchain_core::keys::WordCount;
use carchain_core::wallet::{
    DeviceInfo as CoreDeviceInfo, DroppedRecord as CoreDroppedRecord, KvRecord as CoreKvRecord,
    Wallet as CoreWallet,
};
use rsa::PublicKey as RsaPublicKey;
use rsa::pkcs1::DecodeRsaPublicKey;
use serde_json::Value;

use crate::error::CarChainError;
use crate::inputs::{format_spec, parse_date, parse_json, to_json_text};
use crate::keys::Network;
use crate::light::LightClient;
use crate::secrets::{HostSecretStore, SecretStore};
use crate::trip::{TripSummary, TripTrack, summary_from_core};

/// A car paired with this wallet, as the device list shows it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceInfo {
    /// The car's VID.
    pub vid: String,
    /// The owner's name for it.
    pub name: String,
    /// Addresses in its current pool.
    pub pool_size: u32,
    /// Pool generation (0 at first pairing, +1 per `set_dup`).
    pub generation: u32,
    /// Its agent node.
    pub agent: String,
    /// When it was paired (unix seconds).
    pub paired_at: i64,
    /// When a record of it was last read (unix seconds), if ever.
    pub last_seen: Option<i64>,
    /// `paired`, `reset` or `transferred`.
    pub status: String,
}

impl From<CoreDeviceInfo> for DeviceInfo {
    fn from(info: CoreDeviceInfo) -> Self {
        DeviceInfo {
            vid: info.vid,
            name: info.name,
            pool_size: info.pool_size,
            generation: info.generation,
            agent: info.agent,
            paired_at: info.paired_at,
            last_seen: info.last_seen,
            status: info.status,
        }
    }
}

/// One decrypted record.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct KvRecord {
    /// The day's data address it was read from.
    pub address: String,
    /// Its key, as a JSON object.
    pub key_json: String,
    /// Its format name.
    pub format: String,
    /// Its decrypted value (projected on the columns asked), as JSON.
    pub value_json: String,
    /// The block height of its registration.
    pub height: u64,
}

impl From<CoreKvRecord> for KvRecord {
    fn from(record: CoreKvRecord) -> Self {
        KvRecord {
            address: record.address,
            key_json: to_json_text(&Value::Object(record.key)),
            format: record.format,
            value_json: to_json_text(&record.value),
            height: record.height,
        }
    }
}

/// A record the wallet refused (pool, hash or decryption check failed).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DroppedRecord {
    /// Its data address.
    pub address: String,
    /// Its key bytes, hex.
    pub key_hex: String,
    /// Why it was refused.
    pub reason: String,
}

impl From<CoreDroppedRecord> for DroppedRecord {
    fn from(dropped: CoreDroppedRecord) -> Self {
        DroppedRecord {
            address: dropped.address,
            key_hex: hex::encode(dropped.key),
            reason: dropped.reason,
        }
    }
}

/// The records of a range read.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RangeRead {
    /// Records in key order, merged across days.
    pub records: Vec<KvRecord>,
    /// Records refused by the checks.
    pub rejected: Vec<DroppedRecord>,
    /// Records registered on the ledger that no node served.
    pub missing: u64,
}

/// The trips of a date range.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TripList {
    /// Trip summaries in key order.
    pub trips: Vec<TripSummary>,
    /// Records refused or not decodable as trips.
    pub rejected: Vec<DroppedRecord>,
    /// Records registered that no node served.
    pub missing: u64,
}

/// A subscriber of one car.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SubscriberInfo {
    /// The subscriber's id.
    pub id: String,
    /// The car followed.
    pub vid: String,
    /// Whether new days are still published for them.
    pub active: bool,
}

/// What a channel publication did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ChannelReport {
    /// Entries written now.
    pub published: u64,
    /// Entries already on the network.
    pub already_published: u64,
}

/// A newly created wallet and its recovery words, to be shown to the owner once and
/// never stored by the app. `Debug` hides the words.
#[derive(uniffi::Record)]
pub struct CreatedWallet {
    /// The wallet.
    pub wallet: Arc<Wallet>,
    /// The recovery words, space-separated.
    pub words: String,
}

impl std::fmt::Debug for CreatedWallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedWallet")
            .field("wallet", &self.wallet)
            .field("words", &"<redacted>")
            .finish()
    }
}

/// The owner's wallet. Thread-safe; its secrets stay in Rust.
#[derive(Debug, uniffi::Object)]
pub struct Wallet {
    pub(crate) wallet: CoreWallet,
}

fn word_count(count: u8) -> Result<WordCount, CarChainError> {
    match count {
        12 => Ok(WordCount::Twelve),
        24 => Ok(WordCount::TwentyFour),
        _ => Err(CarChainError::new(
            "key.invalid_word_count",
            format!("{count} words asked; use 12 or 24"),
        )),
    }
}

fn host(secrets: Arc<dyn SecretStore>) -> Arc<dyn carchain_core::store::SecretStore> {
    Arc::new(HostSecretStore::new(secrets))
}

fn pool_size(size: u32) -> usize {
    // u32 always fits in usize on the 32- and 64-bit targets CarChain builds for.
    usize::try_from(size).unwrap_or(usize::MAX)
}

/// Creates a wallet with fresh recovery words (`word_count` 12 or 24) in the store
/// file at `path`. Fails with `wallet.identity_exists` if the file holds one.
#[uniffi::export]
pub fn create_wallet(
    path: String,
    secrets: Arc<dyn SecretStore>,
    network: Network,
    word_count: u8,
    passphrase: String,
) -> Result<CreatedWallet, CarChainError> {
    let count = self::word_count(word_count)?;
    let (wallet, mnemonic) =
        CoreWallet::create(path, host(secrets), network.into(), count, &passphrase)?;
    Ok(CreatedWallet {
        wallet: Arc::new(Wallet { wallet }),
        words: mnemonic.phrase().to_owned(),
    })
}

#[uniffi::export(async_runtime = "tokio")]
impl Wallet {
    /// Restores the wallet of `words` (forgiving about case and spaces) into the store
    /// file at `path`. Wrong words are `CarChainError.InvalidMnemonic`; nothing is written.
    #[uniffi::constructor]
    pub fn restore(
        path: String,
        secrets: Arc<dyn SecretStore>,
        network: Network,
        words: String,
        passphrase: String,
    ) -> Result<Arc<Self>, CarChainError> {
        let words = zeroize::Zeroizing::new(words);
        let passphrase = zeroize::Zeroizing::new(passphrase);
        let wallet = CoreWallet::restore(path, host(secrets), network.into(), &words, &passphrase)?;
        Ok(Arc::new(Wallet { wallet }))
    }

    /// Opens the wallet saved in the store file at `path` (`wallet.no_identity` if none).
    #[uniffi::constructor]
    pub fn open(path: String, secrets: Arc<dyn SecretStore>) -> Result<Arc<Self>, CarChainError> {
        let wallet = CoreWallet::open(path, host(secrets))?;
        Ok(Arc::new(Wallet { wallet }))
    }

    /// The owner's P2WPKH identity address.
    pub fn owner_address(&self) -> String {
        self.wallet.owner_address()
    }

    /// Hex SHA-256 of the owner's RSA public key (PKCS#1 DER).
    pub fn rsa_fingerprint(&self) -> String {
        self.wallet.rsa_fingerprint().to_owned()
    }

    /// The cars paired with this wallet, including reset and transferred ones.
    pub fn devices(&self) -> Result<Vec<DeviceInfo>, CarChainError> {
        Ok(self
            .wallet
            .devices()?
            .into_iter()
            .map(DeviceInfo::from)
            .collect())
    }

    /// Pairs the car whose payload text the owner scanned, names it, gives it a pool of
    /// `pool_size` addresses and `agent` as its agent node. Completes when the car has
    /// answered through the mailbox and the pairing is on the ledger.
    pub async fn pair_device(
        &self,
        light: Arc<LightClient>,
        payload_text: String,
        name: String,
        pool_size: u32,
        agent: String,
    ) -> Result<DeviceInfo, CarChainError> {
        let info = self
            .wallet
            .pair_device(
                &light.client,
                &payload_text,
                &name,
                self::pool_size(pool_size),
                &agent,
            )
            .await?;
        Ok(info.into())
    }

    /// Gives the paired car `vid` a new pool of `new_size` addresses; the car shows a
    /// fresh payload (`payload_text`) for it.
    pub async fn set_dup(
        &self,
        light: Arc<LightClient>,
        vid: String,
        new_size: u32,
        payload_text: String,
    ) -> Result<DeviceInfo, CarChainError> {
        let info = self
            .wallet
            .set_dup(&light.client, &vid, pool_size(new_size), &payload_text)
            .await?;
        Ok(info.into())
    }

    /// Hands the car `vid` to `new_owner_address` on the ledger.
    pub async fn reset_to(
        &self,
        light: Arc<LightClient>,
        vid: String,
        new_owner_address: String,
    ) -> Result<DeviceInfo, CarChainError> {
        let info = self
            .wallet
            .reset_to(&light.client, &vid, &new_owner_address)
            .await?;
        Ok(info.into())
    }

    /// The record of `format` with the complete key `key_json` that car `vid` wrote on
    /// `date` (`YYYY-MM-DD`), decrypted and projected on `columns` (all when empty);
    /// `null`/`nil` when there is none.
    pub async fn get_kv(
        &self,
        light: Arc<LightClient>,
        vid: String,
        date: String,
        format: String,
        key_json: String,
        columns: Vec<String>,
    ) -> Result<Option<KvRecord>, CarChainError> {
        let date = parse_date(&date)?;
        let spec = format_spec(&format)?;
        let key = parse_json(&key_json, "record key")?;
        let record = self
            .wallet
            .get_kv(&light.client, &vid, date, &spec, &key, &columns)
            .await?;
        Ok(record.map(KvRecord::from))
    }

    /// Every record of `format` car `vid` wrote from `from_date` to `to_date` (both
    /// included, `YYYY-MM-DD`) with `start_json <= key <= end_json` (partial keys; `{}`
    /// is unbounded), decrypted, in key order.
    #[allow(clippy::too_many_arguments)]
    pub async fn get_kv_range(
        &self,
        light: Arc<LightClient>,
        vid: String,
        from_date: String,
        to_date: String,
        format: String,
        start_json: String,
        end_json: String,
        columns: Vec<String>,
    ) -> Result<RangeRead, CarChainError> {
        let from = parse_date(&from_date)?;
        let to = parse_date(&to_date)?;
        let spec = format_spec(&format)?;
        let start = parse_json(&start_json, "range start")?;
        let end = parse_json(&end_json, "range end")?;
        let read = self
            .wallet
            .get_kv_range(
                &light.client,
                &vid,
                from,
                to,
                &spec,
                &start,
                &end,
                &columns,
                None,
            )
            .await?;
        Ok(RangeRead {
            records: read.records.into_iter().map(KvRecord::from).collect(),
            rejected: read.rejected.into_iter().map(DroppedRecord::from).collect(),
            missing: read.missing,
        })
    }

    /// Summaries of the trips car `vid` wrote from `from_date` to `to_date` (included).
    pub async fn trips(
        &self,
        light: Arc<LightClient>,
        vid: String,
        from_date: String,
        to_date: String,
    ) -> Result<TripList, CarChainError> {
        let from = parse_date(&from_date)?;
        let to = parse_date(&to_date)?;
        let list = self.wallet.trips(&light.client, &vid, from, to).await?;
        Ok(TripList {
            trips: list
                .trips
                .iter()
                .map(summary_from_core)
                .collect::<Result<_, _>>()
                .map_err(|e| CarChainError::new(e.code().to_owned(), e.to_string()))?,
            rejected: list.rejected.into_iter().map(DroppedRecord::from).collect(),
            missing: list.missing,
        })
    }

    /// The track of the trip with key `key_json` (SESSION_ID, START_TIME, END_TIME) car
    /// `vid` wrote on `date`, ready for a map; `null`/`nil` when there is none.
    pub async fn trip(
        &self,
        light: Arc<LightClient>,
        vid: String,
        date: String,
        key_json: String,
    ) -> Result<Option<TripTrack>, CarChainError> {
        let date = parse_date(&date)?;
        let key = parse_json(&key_json, "trip key")?;
        let Some(track) = self.wallet.trip(&light.client, &vid, date, &key).await? else {
            return Ok(None);
        };
        let summary = summary_from_core(&track.summary)
            .map_err(|e| CarChainError::new(e.code().to_owned(), e.to_string()))?;
        Ok(Some(TripTrack {
            summary,
            polyline: track.polyline,
            geojson: track.geojson,
            packed: track.packed,
        }))
    }

    /// Lets subscriber `id`, holder of the RSA public key `rsa_public_pkcs1_der`, follow
    /// car `vid` from the next `publish_channel` on.
    pub fn add_subscriber(
        &self,
        vid: String,
        id: String,
        rsa_public_pkcs1_der: Vec<u8>,
    ) -> Result<(), CarChainError> {
        let key = RsaPublicKey::from_pkcs1_der(&rsa_public_pkcs1_der).map_err(|_| {
            CarChainError::new(
                "wallet.invalid_rsa_key",
                "the subscriber's key is not a PKCS#1 DER RSA public key",
            )
        })?;
        Ok(self.wallet.add_subscriber(&vid, &id, &key)?)
    }

    /// Stops publishing car `vid`'s days for subscriber `id`.
    pub fn remove_subscriber(&self, vid: String, id: String) -> Result<(), CarChainError> {
        Ok(self.wallet.remove_subscriber(&vid, &id)?)
    }

    /// The ticket subscriber `id` of car `vid` finds its channel entries with
    /// (`carchain-channel-v2:` and 64 hex digits). Hand it to the subscriber out of band:
    /// it names nothing, but whoever holds it can find (not open) the entries.
    pub fn channel_ticket(&self, vid: String, id: String) -> Result<String, CarChainError> {
        Ok(self.wallet.channel_ticket(&vid, &id)?.to_text())
    }

    /// The subscribers of car `vid`, active or removed.
    pub fn subscribers(&self, vid: String) -> Result<Vec<SubscriberInfo>, CarChainError> {
        Ok(self
            .wallet
            .subscribers(&vid)?
            .into_iter()
            .map(|s| SubscriberInfo {
                id: s.id,
                vid: s.vid,
                active: s.active,
            })
            .collect())
    }

    /// Publishes, for every active subscriber of car `vid`, the days from `from_date` to
    /// `to_date` on which it wrote records. Idempotent.
    pub async fn publish_channel(
        &self,
        light: Arc<LightClient>,
        vid: String,
        from_date: String,
        to_date: String,
    ) -> Result<ChannelReport, CarChainError> {
        let from = parse_date(&from_date)?;
        let to = parse_date(&to_date)?;
        let report = self
            .wallet
            .publish_channel(&light.client, &vid, from, to)
            .await?;
        Ok(ChannelReport {
            published: report.published as u64,
            already_published: report.already_published as u64,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
