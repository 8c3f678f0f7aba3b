//! The seed's subscription channel ("sideKey"): people the owner lets follow a car (a
//! family member's wallet) decrypt its records without holding the owner's keys.
//!
//! The car wraps each day's epoch key once, for the owner. The owner's wallet unwraps it
//! (one RSA decryption per address-day, as for its own reads) and re-wraps it for every
//! active subscriber, publishing one channel entry per subscriber and day: the day's
//! pool addresses and their wrapped epoch keys, sealed in an envelope to the
//! subscriber's RSA key.
//!
//! Where an entry lives names no one. Each subscription has a secret channel seed
//! (HMAC under the owner's identity key of the car, the subscriber id and the
//! subscriber's RSA key fingerprint); an entry is a wallet record under a one-day
//! address whose key derives from that seed and the day, with an opaque record key
//! derived the same way. The owner hands the seed to the subscriber as a
//! [`ChannelTicket`] (out of band, like the subscriber's own RSA key); the subscriber
//! finds each day's entry from it. The node and the ledger see an unfunded address
//! that registers one `carchain-channel` record once: no owner address, subscriber
//! id, day or car, and no two entries (days, subscribers) share an address.
//!
//! Removing a subscriber stops the re-wrapping: days published after the removal carry
//! no key for them, and since a car starts a fresh epoch key for every address and day,
//! its new records are closed to them. What was already delivered (the days published
//! while they subscribed) cannot be taken back.

use core::fmt;

use bitcoin::secp256k1::SecretKey;
use chrono::NaiveDate;
use rsa::PublicKey as RsaPublicKey;
use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPublicKey};
use serde::{Deserialize, Serialize};

use super::error::WalletError;
use super::identity::Wallet;
use super::reading::pool_set;
use crate::crypto::{
    CryptoError, Envelope, EpochKey, RecordContext, SealingEpoch, WrappedKey, seal,
};
use crate::keys::{p2wpkh_address, rsa_fingerprint_bytes};
use crate::light::LightClient;
use crate::protocol::signing::public_key_of;
use crate::record::day_number;
use crate::sealed::STORED_KEYS_END;
use crate::store::GrantRow;

mod reader;

pub use reader::{SubscribedDay, SubscribedRecord, SubscriberReader};

/// Format of the owner's channel entries.
pub const CHANNEL_FORMAT: &str = "carchain-channel";
/// Longest subscriber id.
pub const MAX_SUBSCRIBER_ID_LEN: usize = 64;

/// Domain of a subscription's channel seed.
const CHANNEL_SEED_DOMAIN: &[u8] = b"carchain/channel-seed/v2";
/// Domain of a channel day's address key.
const CHANNEL_DAY_DOMAIN: &[u8] = b"carchain/channel-day/v2";
/// Domain of a channel day's record key.
const CHANNEL_KEY_DOMAIN: &[u8] = b"carchain/channel-key/v2";
/// Text form prefix of a [`ChannelTicket`].
const TICKET_PREFIX: &str = "carchain-channel-v2:";

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use hmac::{Hmac, KeyInit, Mac};
    let Ok(mut mac) = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key) else {
        return [0; 32];
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// What a subscriber needs to find a car's channel entries: the subscription's secret
/// channel seed. Handed over by the owner out of band; anyone holding it can find (not
/// open: entries are sealed to the subscriber's RSA key) the entries. `Debug` redacts it.
#[derive(Clone, PartialEq, Eq)]
pub struct ChannelTicket {
    seed: [u8; 32],
}

impl fmt::Debug for ChannelTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChannelTicket(<redacted>)")
    }
}

impl ChannelTicket {
    /// The text form: `carchain-channel-v2:` and the seed in hex.
    pub fn to_text(&self) -> String {
        format!("{TICKET_PREFIX}{}", hex::encode(self.seed))
    }

    /// Parses [`Self::to_text`]'s form.
    pub fn parse(text: &str) -> Result<Self, WalletError> {
        let bad = || WalletError::InvalidSubscriber {
            reason: "not a channel ticket",
        };
        let hex_seed = text.trim().strip_prefix(TICKET_PREFIX).ok_or_else(bad)?;
        let seed: [u8; 32] = hex::decode(hex_seed)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(bad)?;
        Ok(Self { seed })
    }

    /// The secret key of `day`'s channel address.
    fn day_secret(&self, day: NaiveDate) -> Result<SecretKey, WalletError> {
        let digest = hmac_sha256(
            &self.seed,
            &[CHANNEL_DAY_DOMAIN, &day_number(day).to_be_bytes()],
        );
        SecretKey::from_slice(&digest).map_err(|_| WalletError::InvalidSubscriber {
            reason: "the channel day key is out of range",
        })
    }

    /// `day`'s channel address and record key.
    fn day_place(
        &self,
        day: NaiveDate,
        network: crate::keys::Network,
    ) -> Result<(SecretKey, String, Vec<u8>), WalletError> {
        let secret = self.day_secret(day)?;
        let address = crate::protocol::signing::p2wpkh_address(&public_key_of(&secret), network);
        let key = hmac_sha256(
            &self.seed,
            &[CHANNEL_KEY_DOMAIN, &day_number(day).to_be_bytes()],
        );
        Ok((secret, address, key.get(..16).unwrap_or_default().to_vec()))
    }
}

/// Store id of the subscription of `id` to car `vid`.
fn subscription_id(vid: &str, id: &str) -> String {
    format!("subscription/{vid}/{id}")
}

fn check_subscriber_id(id: &str) -> Result<(), WalletError> {
    if id.is_empty() {
        return Err(WalletError::InvalidSubscriber { reason: "empty" });
    }
    if id.len() > MAX_SUBSCRIBER_ID_LEN {
        return Err(WalletError::InvalidSubscriber {
            reason: "longer than 64 bytes",
        });
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(WalletError::InvalidSubscriber {
            reason: "only letters, digits, '-', '_' and '.' are allowed",
        });
    }
    Ok(())
}

/// What the wallet's store keeps of a subscription.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SubscriptionDoc {
    vid: String,
    subscriber: String,
    rsa_public_der: String,
}

/// A subscriber of one car.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberInfo {
    /// The subscriber's id (chosen by the owner; never published: it only enters the
    /// derivation of the subscription's channel ticket).
    pub id: String,
    /// The car followed.
    pub vid: String,
    /// Whether new days are still published for them.
    pub active: bool,
}

/// The pool addresses of one day and their epoch keys, wrapped for a subscriber.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ChannelAddress {
    address: String,
    epoch_keys: Vec<String>,
}

/// A channel entry's plaintext.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ChannelEntry {
    vid: String,
    /// `YYYYMMDD`.
    day: i64,
    addresses: Vec<ChannelAddress>,
}

/// What [`Wallet::publish_channel`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChannelReport {
    /// Entries written now.
    pub published: usize,
    /// Entries that were already on the network.
    pub already_published: usize,
}

impl Wallet {
    /// Lets `id` (holder of `rsa_public`) follow car `vid` from the next
    /// [`publish_channel`](Self::publish_channel) on.
    pub fn add_subscriber(
        &self,
        vid: &str,
        id: &str,
        rsa_public: &RsaPublicKey,
    ) -> Result<(), WalletError> {
        check_subscriber_id(id)?;
        self.device_row(vid)?;
        let der = rsa_public
            .to_pkcs1_der()
            .map_err(|_| WalletError::InvalidSubscriber {
                reason: "the RSA public key cannot be encoded",
            })?;
        let doc = SubscriptionDoc {
            vid: vid.to_owned(),
            subscriber: id.to_owned(),
            rsa_public_der: hex::encode(der.as_bytes()),
        };
        self.save_subscription(&doc, "active")
    }

    /// Stops publishing car `vid`'s days for `id`: records of days published from now on
    /// are closed to them. What they already received stays readable to them.
    pub fn remove_subscriber(&self, vid: &str, id: &str) -> Result<(), WalletError> {
        let (doc, _) = self.subscription(vid, id)?;
        self.save_subscription(&doc, "revoked")
    }

    /// The subscribers of car `vid`, active or removed.
    pub fn subscribers(&self, vid: &str) -> Result<Vec<SubscriberInfo>, WalletError> {
        self.device_row(vid)?;
        let prefix = subscription_id(vid, "");
        let rows = self.locked_store()?.grants(None)?;
        Ok(rows
            .into_iter()
            .filter(|row| row.id.starts_with(&prefix))
            .map(|row| SubscriberInfo {
                id: row.provider,
                vid: vid.to_owned(),
                active: row.status == "active",
            })
            .collect())
    }

    /// Publishes, for every active subscriber of car `vid`, a channel entry for each day
    /// from `from` to `to` on which the car wrote records. Days already published are
    /// left as they are (a day's epoch key does not change).
    pub async fn publish_channel(
        &self,
        light: &LightClient,
        vid: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<ChannelReport, WalletError> {
        super::reading::check_dates(from, to)?;
        let active: Vec<(String, RsaPublicKey)> = self
            .active_subscriptions(vid)?
            .into_iter()
            .map(|doc| {
                let der = hex::decode(&doc.rsa_public_der).map_err(|_| {
                    WalletError::InvalidSubscriber {
                        reason: "stored RSA key is not hex",
                    }
                })?;
                let key = RsaPublicKey::from_pkcs1_der(&der).map_err(|_| {
                    WalletError::InvalidSubscriber {
                        reason: "stored RSA key is not PKCS#1",
                    }
                })?;
                Ok((doc.subscriber, key))
            })
            .collect::<Result<_, WalletError>>()?;
        let mut report = ChannelReport::default();
        if active.is_empty() {
            return Ok(report);
        }
        let network = light.anchor().network;
        let generations = self.pool_generations(vid)?;
        let pool = pool_set(&generations);
        for day in from.iter_days().take_while(|d| *d <= to) {
            let epochs = self
                .day_epochs(light, &Self::day_addresses(&generations, vid, day)?, &pool)
                .await?;
            if epochs.is_empty() {
                continue;
            }
            for (id, public) in &active {
                let ticket = self.ticket_for(vid, id, public)?;
                let (secret, address, key) = ticket.day_place(day, network)?;
                // Each entry (its check and its put) from a connection of its own: no
                // request or connection carries two channel addresses, or one beside
                // the owner's.
                let fresh = light.with_fresh_connections()?;
                if fresh.registration(&address, &key).await?.is_some() {
                    report.already_published += 1;
                    continue;
                }
                let entry = ChannelEntry {
                    vid: vid.to_owned(),
                    day: day_number(day),
                    addresses: epochs
                        .iter()
                        .map(|(address, keys)| {
                            Ok(ChannelAddress {
                                address: address.clone(),
                                epoch_keys: keys
                                    .iter()
                                    .map(|k| {
                                        Ok(hex::encode(
                                            WrappedKey::wrap_epoch_key(k, public)?.to_bytes()?,
                                        ))
                                    })
                                    .collect::<Result<_, WalletError>>()?,
                            })
                        })
                        .collect::<Result<_, WalletError>>()?,
                };
                let plaintext =
                    serde_json::to_vec(&entry).map_err(|_| WalletError::InvalidSubscriber {
                        reason: "channel entry cannot be encoded",
                    })?;
                let ctx = RecordContext {
                    address: &address,
                    key_bytes: &key,
                    format: CHANNEL_FORMAT,
                };
                let envelope = seal(&plaintext, &ctx, &SealingEpoch::new(public)?)?.to_bytes()?;
                self.put_wallet_entry(&fresh, &secret, CHANNEL_FORMAT, key, &envelope)
                    .await?;
                report.published += 1;
            }
        }
        Ok(report)
    }

    /// The ticket subscriber `id` of car `vid` finds its channel entries with; the
    /// owner hands it over out of band (it names nothing, but lets its holder find the
    /// entries).
    pub fn channel_ticket(&self, vid: &str, id: &str) -> Result<ChannelTicket, WalletError> {
        let (doc, _) = self.subscription(vid, id)?;
        let der = hex::decode(&doc.rsa_public_der).map_err(|_| WalletError::InvalidSubscriber {
            reason: "stored RSA key is not hex",
        })?;
        let key =
            RsaPublicKey::from_pkcs1_der(&der).map_err(|_| WalletError::InvalidSubscriber {
                reason: "stored RSA key is not PKCS#1",
            })?;
        self.ticket_for(vid, id, &key)
    }

    /// The channel seed of subscription (`vid`, `id`, `public`): HMAC-SHA256 under the
    /// owner's identity key, so it is stable across restores and changes with the
    /// subscriber's key.
    fn ticket_for(
        &self,
        vid: &str,
        id: &str,
        public: &RsaPublicKey,
    ) -> Result<ChannelTicket, WalletError> {
        let fingerprint = rsa_fingerprint_bytes(public)?;
        let owner = self.keys().owner_key().secret_key().secret_bytes();
        let seed = hmac_sha256(
            &owner,
            &[
                CHANNEL_SEED_DOMAIN,
                &(vid.len() as u32).to_be_bytes(),
                vid.as_bytes(),
                &(id.len() as u32).to_be_bytes(),
                id.as_bytes(),
                &fingerprint,
            ],
        );
        Ok(ChannelTicket { seed })
    }

    /// A reader of the channel entries the owner publishes for the holder of `ticket`,
    /// decrypting with this wallet's own RSA key (a family member's wallet).
    pub fn subscriber_reader(&self, ticket: &ChannelTicket) -> SubscriberReader<'_> {
        SubscriberReader {
            rsa: self.keys().rsa_private(),
            ticket: ticket.clone(),
        }
    }

    /// The epoch keys of the car's records at each of `addresses` (only records signed by
    /// keys of the car's pool), unwrapped with the owner's RSA key through the cache.
    async fn day_epochs(
        &self,
        light: &LightClient,
        addresses: &[String],
        pool: &std::collections::BTreeSet<String>,
    ) -> Result<Vec<(String, Vec<EpochKey>)>, WalletError> {
        let network = self.network();
        let mut out = Vec::new();
        for address in addresses {
            let read = light
                .records_in_range(address, &[], STORED_KEYS_END)
                .await?;
            let mut wrapped: Vec<WrappedKey> = Vec::new();
            for record in read.records {
                let signer = p2wpkh_address(
                    &bitcoin::CompressedPublicKey(record.registration.signer),
                    network,
                )
                .to_string();
                // The car's records only: the owner's own (flagged `wallet`: the VIN,
                // documents) reach others by grant, never through the channel.
                if !pool.contains(&signer) || record.registration.put.wallet {
                    continue;
                }
                let Ok(envelope) = Envelope::from_bytes(&record.envelope) else {
                    continue;
                };
                let key = envelope.wrapped_epoch_key();
                if !wrapped.contains(key) {
                    wrapped.push(key.clone());
                }
            }
            // Wrapped keys name no recipient: the owner's are found by trial, each
            // distinct one costing at most one RSA decryption through the cache.
            let mut cache = self.epoch_cache()?;
            let mut keys = Vec::new();
            for w in &wrapped {
                match cache.epoch_key(w, self.keys().rsa_private()) {
                    Ok(key) => keys.push(key),
                    Err(CryptoError::WrongKey | CryptoError::UnwrapFailed) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            if keys.is_empty() {
                continue;
            }
            out.push((address.clone(), keys));
        }
        Ok(out)
    }

    fn save_subscription(&self, doc: &SubscriptionDoc, status: &str) -> Result<(), WalletError> {
        let json = serde_json::to_string(doc).map_err(|_| WalletError::InvalidSubscriber {
            reason: "subscription cannot be encoded",
        })?;
        self.locked_store()?.save_grant(&GrantRow {
            id: subscription_id(&doc.vid, &doc.subscriber),
            provider: doc.subscriber.clone(),
            status: status.to_owned(),
            json,
            updated_at: self.unix_now(),
        })?;
        Ok(())
    }

    fn subscription(&self, vid: &str, id: &str) -> Result<(SubscriptionDoc, String), WalletError> {
        let unknown = || WalletError::UnknownSubscriber {
            vid: vid.to_owned(),
            id: id.to_owned(),
        };
        let row = self
            .locked_store()?
            .grant(&subscription_id(vid, id))?
            .ok_or_else(unknown)?;
        let doc = serde_json::from_str(&row.json).map_err(|_| unknown())?;
        Ok((doc, row.status))
    }

    fn active_subscriptions(&self, vid: &str) -> Result<Vec<SubscriptionDoc>, WalletError> {
        self.subscribers(vid)?
            .into_iter()
            .filter(|s| s.active)
            .map(|s| self.subscription(vid, &s.id).map(|(doc, _)| doc))
            .collect()
    }
}

#[cfg(test)]
mod tests;
