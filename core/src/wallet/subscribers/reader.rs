//! The subscriber's side of the channel: [`SubscriberReader`] finds a day's entry from
//! its [`ChannelTicket`], unwraps the epoch keys the owner published for it and opens
//! the car's records of that day with them.

use chrono::NaiveDate;
use rsa::PrivateKey as RsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Map, Value};

use crate::crypto::{Envelope, EpochKey, EpochKeyCache, RecordContext, WrappedKey};
use crate::light::LightClient;
use crate::record::{FormatSpec, decode_key};
use crate::sealed::{Opener, STORED_KEYS_END, SealedRecord, open_record_with_key};
use crate::wallet::error::WalletError;

use super::{CHANNEL_FORMAT, ChannelEntry, ChannelTicket, day_number};

/// One record a subscriber decrypted.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscribedRecord {
    /// The data address it lives under.
    pub address: String,
    /// Its key as a JSON object.
    pub key: Map<String, Value>,
    /// The decrypted value.
    pub value: Value,
}

/// A day read through the channel.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SubscribedDay {
    /// Records decrypted, in key order per address.
    pub records: Vec<SubscribedRecord>,
    /// Channel entries for this subscriber id that this key cannot open.
    pub unreadable_entries: usize,
    /// Records of the day's addresses none of the delivered epoch keys opens (written
    /// under an epoch the subscriber was not given).
    pub closed_records: usize,
}

/// Reads a car's days through the owner's channel, as the holder of a ticket.
pub struct SubscriberReader<'a> {
    pub(super) rsa: &'a RsaPrivateKey,
    pub(super) ticket: ChannelTicket,
}

impl SubscriberReader<'_> {
    /// Car `vid`'s records of `format` written on `day`, decrypted with the epoch keys the
    /// owner published for this subscriber.
    pub async fn read_day(
        &self,
        light: &LightClient,
        vid: &str,
        day: NaiveDate,
        format: &FormatSpec,
    ) -> Result<SubscribedDay, WalletError> {
        let (_, address, key) = self.ticket.day_place(day, light.anchor().network)?;
        let mut out = SubscribedDay::default();
        let mut cache = EpochKeyCache::new();
        // The day's entry, on a connection of its own.
        let entry_record = match light.with_fresh_connections()?.record(&address, &key).await {
            Ok(found) => found,
            Err(crate::light::LightError::ValueMissing { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        if let Some(entry_record) = entry_record {
            let ctx = RecordContext {
                address: &address,
                key_bytes: &key,
                format: CHANNEL_FORMAT,
            };
            let entry = Envelope::from_bytes(&entry_record.envelope)
                .and_then(|env| env.open_with_owner_key(&ctx, self.rsa, &mut cache))
                .ok()
                .and_then(|plain| serde_json::from_slice::<ChannelEntry>(&plain).ok());
            let entry = entry.filter(|e| e.vid == vid && e.day == day_number(day));
            let Some(entry) = entry else {
                out.unreadable_entries += 1;
                return Ok(out);
            };
            for channel in entry.addresses {
                let epochs: Vec<EpochKey> = channel
                    .epoch_keys
                    .iter()
                    .filter_map(|h| hex::decode(h).ok())
                    .filter_map(|bytes| WrappedKey::from_stored_bytes(&bytes, self.rsa.size()).ok())
                    .filter_map(|w| w.unwrap_epoch_key(self.rsa).ok())
                    .collect();
                self.open_address(light, &channel.address, &epochs, format, &mut out)
                    .await?;
            }
        }
        Ok(out)
    }

    async fn open_address(
        &self,
        light: &LightClient,
        address: &str,
        epochs: &[EpochKey],
        format: &FormatSpec,
        out: &mut SubscribedDay,
    ) -> Result<(), WalletError> {
        // A car's records are under stored keys, opaque bytes that may start with 0xFF.
        let read = light
            .records_in_range(address, &[], STORED_KEYS_END)
            .await?;
        let mut opened_records = Vec::new();
        for record in read.records {
            let put = &record.registration.put;
            if put.format != format.name() {
                continue;
            }
            let sealed = SealedRecord::registered(put, record.envelope.clone());
            let opened = epochs
                .iter()
                .find_map(|epoch| open_record_with_key(&sealed, Opener::Epoch(epoch), &[]).ok());
            let Some(opened) = opened else {
                out.closed_records += 1;
                continue;
            };
            match decode_key(format, opened.key.as_bytes()) {
                Ok(key) => opened_records.push((opened.key, key, opened.value)),
                Err(_) => out.closed_records += 1,
            }
        }
        opened_records.sort_by(|a, b| a.0.cmp(&b.0));
        out.records.extend(
            opened_records
                .into_iter()
                .map(|(_, key, value)| SubscribedRecord {
                    address: address.to_owned(),
                    key,
                    value,
                }),
        );
        Ok(())
    }
}
