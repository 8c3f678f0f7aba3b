//! The owner's own records on the wallet across the FFI (the seed's `putWalKV`: the
//! VIN, service history, insurance documents): put, update (a new version; the earlier
//! ones stay provable), get, versions and list, of a built-in format by name or of a
//! custom one with its key fields. Errors are `CarChainError`; bad input is
//! `InvalidInput` with an `owner_record.*` code (`unknown_format`, `invalid_format`,
//! `reserved_format`, `invalid_key`, `invalid_value`, `value_too_large`, `exists`,
//! `not_owned`), raised before anything is sent.
//!
//! Cancellation: reads only fill caches. A put or update cancelled after its ledger
//! registration and before its value reached the node leaves a registered version
//! without a value (reads count it `missing`); the next update skips its number.

use std::sync::Arc;

use carchain_core::record::FormatSpec;
use carchain_core::wallet::{
    OwnerRecord as CoreOwnerRecord, OwnerRecordWrite as CoreOwnerRecordWrite, owner_format,
};
use chrono::NaiveDate;
use serde_json::Value;

use crate::error::CarChainError;
use crate::inputs::{parse_date, parse_json, parse_record_value, to_json_text};
use crate::light::LightClient;
use crate::wallet::{DroppedRecord, Wallet};

/// One version of an owner record, opened.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OwnerRecord {
    /// The car's pool address it lives under.
    pub address: String,
    /// Its format name.
    pub format: String,
    /// Its key (the format's fields), as a JSON object.
    pub key_json: String,
    /// The day it is filed under, `YYYY-MM-DD`.
    pub date: String,
    /// 1 for the first put, one more for each update.
    pub version: u64,
    /// Its value (projected on the columns asked), as JSON.
    pub value_json: String,
    /// The block height of its registration.
    pub height: u64,
    /// Its registered dHash, hex.
    pub d_hash_hex: String,
}

impl From<CoreOwnerRecord> for OwnerRecord {
    fn from(record: CoreOwnerRecord) -> Self {
        OwnerRecord {
            address: record.address,
            format: record.format,
            key_json: to_json_text(&Value::Object(record.key)),
            date: record.date.to_string(),
            version: record.version,
            value_json: to_json_text(&record.value),
            height: record.height,
            d_hash_hex: hex::encode(record.d_hash),
        }
    }
}

/// What a put or an update wrote.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OwnerRecordWrite {
    /// The car's pool address it lives under.
    pub address: String,
    /// The version written.
    pub version: u64,
    /// The block height of its registration, when known.
    pub height: Option<u64>,
    /// Its registered dHash, hex.
    pub d_hash_hex: String,
}

impl From<CoreOwnerRecordWrite> for OwnerRecordWrite {
    fn from(write: CoreOwnerRecordWrite) -> Self {
        OwnerRecordWrite {
            address: write.address,
            version: write.version,
            height: write.height,
            d_hash_hex: hex::encode(write.d_hash),
        }
    }
}

/// The owner records of a period: the latest version of each, in key order.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OwnerRecordList {
    /// The latest version of each record.
    pub records: Vec<OwnerRecord>,
    /// How many versions each record has, alongside `records`.
    pub versions: Vec<u64>,
    /// Owner records refused by the checks.
    pub rejected: Vec<DroppedRecord>,
    /// Registrations that no node served.
    pub missing: u64,
}

/// The owner-record format `name`: built in when `key_fields` is `None`, else custom.
fn format_of(name: &str, key_fields: Option<Vec<String>>) -> Result<FormatSpec, CarChainError> {
    Ok(owner_format(name, key_fields.as_deref())?)
}

/// Where one owner record is filed, parsed from the call's text arguments.
struct RecordSlot {
    spec: FormatSpec,
    date: NaiveDate,
    key: Value,
}

impl RecordSlot {
    /// The record of `format` (custom with `key_fields`) filed under `date` with `key_json`.
    fn parse(
        format: &str,
        key_fields: Option<Vec<String>>,
        date: &str,
        key_json: &str,
    ) -> Result<Self, CarChainError> {
        Ok(RecordSlot {
            spec: format_of(format, key_fields)?,
            date: parse_date(date)?,
            key: parse_json(key_json, "record key")?,
        })
    }
}

/// Which version of an owner record a write makes.
#[derive(Debug, Clone, Copy)]
enum Version {
    /// The first (a put).
    First,
    /// The next after the latest (an update).
    Next,
}

impl Wallet {
    /// Writes `value_json` (a JSON object) as the `version` of car `vid`'s owner record
    /// in `slot`.
    async fn write_owner_record(
        &self,
        version: Version,
        light: &LightClient,
        vid: &str,
        slot: &RecordSlot,
        value_json: &str,
    ) -> Result<OwnerRecordWrite, CarChainError> {
        let value = &parse_record_value(value_json)?;
        let (client, date, spec, key) = (&light.client, slot.date, &slot.spec, &slot.key);
        let wallet = &self.wallet;
        let written = match version {
            Version::First => {
                wallet
                    .put_owner_record(client, vid, date, spec, key, value)
                    .await
            }
            Version::Next => {
                wallet
                    .update_owner_record(client, vid, date, spec, key, value)
                    .await
            }
        };
        Ok(written?.into())
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Wallet {
    /// Writes the first version of car `vid`'s owner record filed under `date`
    /// (`YYYY-MM-DD`), of `format` (built in; with `key_fields` a custom one), under
    /// `key_json` with `value_json` (a JSON object). `owner_record.exists` when the
    /// record is there already: update it instead.
    #[allow(clippy::too_many_arguments)]
    pub async fn put_owner_record(
        &self,
        light: Arc<LightClient>,
        vid: String,
        date: String,
        format: String,
        key_fields: Option<Vec<String>>,
        key_json: String,
        value_json: String,
    ) -> Result<OwnerRecordWrite, CarChainError> {
        let slot = RecordSlot::parse(&format, key_fields, &date, &key_json)?;
        self.write_owner_record(Version::First, &light, &vid, &slot, &value_json)
            .await
    }

    /// Writes the next version of car `vid`'s owner record filed under `date` with
    /// `key_json`; the earlier versions stay registered and readable.
    /// `owner_record.not_owned` when this wallet holds no such record.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_owner_record(
        &self,
        light: Arc<LightClient>,
        vid: String,
        date: String,
        format: String,
        key_fields: Option<Vec<String>>,
        key_json: String,
        value_json: String,
    ) -> Result<OwnerRecordWrite, CarChainError> {
        let slot = RecordSlot::parse(&format, key_fields, &date, &key_json)?;
        self.write_owner_record(Version::Next, &light, &vid, &slot, &value_json)
            .await
    }

    /// The latest version of car `vid`'s owner record filed under `date` with
    /// `key_json`, projected on `columns` (all when empty); `null`/`nil` when none.
    #[allow(clippy::too_many_arguments)]
    pub async fn get_owner_record(
        &self,
        light: Arc<LightClient>,
        vid: String,
        date: String,
        format: String,
        key_fields: Option<Vec<String>>,
        key_json: String,
        columns: Vec<String>,
    ) -> Result<Option<OwnerRecord>, CarChainError> {
        let mut versions = self
            .owner_record_versions(light, vid, date, format, key_fields, key_json, columns)
            .await?;
        Ok(versions.pop())
    }

    /// Every version of car `vid`'s owner record filed under `date` with `key_json`,
    /// oldest first, each proven and opened.
    #[allow(clippy::too_many_arguments)]
    pub async fn owner_record_versions(
        &self,
        light: Arc<LightClient>,
        vid: String,
        date: String,
        format: String,
        key_fields: Option<Vec<String>>,
        key_json: String,
        columns: Vec<String>,
    ) -> Result<Vec<OwnerRecord>, CarChainError> {
        let slot = RecordSlot::parse(&format, key_fields, &date, &key_json)?;
        let (client, spec, key) = (&light.client, &slot.spec, &slot.key);
        let versions = self
            .wallet
            .owner_record_versions(client, &vid, slot.date, spec, key, &columns)
            .await?;
        Ok(versions.into_iter().map(OwnerRecord::from).collect())
    }

    /// The latest version of each of car `vid`'s owner records of `format` filed from
    /// `from_date` to `to_date` (both included), in key order, with version counts.
    #[allow(clippy::too_many_arguments)]
    pub async fn list_owner_records(
        &self,
        light: Arc<LightClient>,
        vid: String,
        from_date: String,
        to_date: String,
        format: String,
        key_fields: Option<Vec<String>>,
        columns: Vec<String>,
    ) -> Result<OwnerRecordList, CarChainError> {
        let spec = format_of(&format, key_fields)?;
        let from = parse_date(&from_date)?;
        let to = parse_date(&to_date)?;
        let list = self
            .wallet
            .list_owner_records(&light.client, &vid, from, to, &spec, &columns)
            .await?;
        Ok(OwnerRecordList {
            records: list.records.into_iter().map(OwnerRecord::from).collect(),
            versions: list.versions,
            rejected: list.rejected.into_iter().map(DroppedRecord::from).collect(),
            missing: list.missing,
        })
    }
}

#[cfg(test)]
mod tests {
    use carchain_core::wallet::{OwnerRecordError, WalletError as CoreWalletError};

    use super::*;

    #[test]
    fn owner_record_errors_are_typed_input_errors_with_their_codes() {
        let bad = format_of("insurance", None).expect_err("unknown");
        assert!(
            matches!(&bad, CarChainError::InvalidInput { code, .. } if code == "owner_record.unknown_format"),
            "{bad:?}"
        );
        let not_owned: CarChainError = OwnerRecordError::NotOwned {
            vid: "V1".into(),
            format: "VIN_CODE".into(),
            date: chrono::NaiveDate::default(),
        }
        .into();
        assert_eq!(not_owned.code(), "owner_record.not_owned");
        assert!(matches!(not_owned, CarChainError::InvalidInput { .. }));
        let unknown: CarChainError =
            OwnerRecordError::from(CoreWalletError::UnknownDevice { vid: "V1".into() }).into();
        assert!(
            matches!(&unknown, CarChainError::NotFound { code, .. } if code == "wallet.unknown_device")
        );
    }
}
