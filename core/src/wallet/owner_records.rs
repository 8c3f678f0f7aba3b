//! The owner's own records (the seed's `putWalKV`): data the owner enters by hand for a
//! car — its VIN, service and repair history, insurance documents — of a built-in or a
//! custom format, put, updated (a new version; every earlier one stays registered and
//! provable) and listed from the wallet.
//!
//! An owner record lives where the car's records of its day live and is sealed the way
//! the car seals them, so it reads back ([`Wallet::get_kv`], [`Wallet::get_kv_range`]
//! with [`versioned_spec`], or the calls here) and is granted (a `VIN_CODE` copy for
//! the `vin` privilege) exactly like them:
//! - its address is the car's pool address of the record's day (current pool
//!   generation; an update stays at its first version's address), and the put is
//!   signed by that address's own pool key — no owner address, no owner signature, no
//!   funded account: phase 1 reimburses its fee as it does the car's puts;
//! - its key is the format's key plus its day and version (see
//!   [`super::owner_format`]), stored encrypted with the pool seed (the ledger sees no
//!   key, day or version, nor that two registrations are versions of one record); the
//!   value is sealed to the owner's RSA key under an epoch key of its own, with a
//!   salted dHash;
//! - the registration is flagged `wallet` (putWalKV); the subscription channel passes
//!   on the car's records only, never the owner's.
//!
//! What the ledger shows is what a car's put shows: a pool address, an opaque key, the
//! format name, the size and two hashes. A custom format's name is public: one only
//! this owner uses links the records of that format (prefer shared names). On a private
//! node the value goes with an owner write credential, asked for (naming a car) on a
//! connection of its own just before: that node's operator — the owner's own agent —
//! can relate the two by timing.
//!
//! Every check (car, format, key, value, size, existing versions) runs before anything
//! is sent: bad input is a typed [`OwnerRecordError`] and leaves nothing behind. A put
//! whose registration committed but whose value did not reach a node shows as
//! `missing` in reads; its version number is not reused.

use bitcoin::secp256k1::SecretKey;
use chrono::NaiveDate;
use serde_json::{Map, Value, json};

use super::error::WalletError;
use super::identity::Wallet;
use super::owner_format::{check_owner_format, owner_key, split_owner_key, versioned_spec};
use super::owner_record_error::OwnerRecordError;
use super::reading::{DroppedRecord, KvRecord};
use crate::crypto::{HashFunc, SealingEpoch};
use crate::keys::ecc::{normal, secp};
use crate::light::LightClient;
use crate::protocol::{RecordPut, TxBody};
use crate::record::{FormatSpec, check_value_format, decode_key, encode_key};
use crate::sealed::{StoredKeyCipher, seal_record_with_stored_key};

/// Largest sealed value a node stores (the reference node's limit on a stored value's
/// body): an owner record whose sealed value is larger is refused before it is sent.
/// Sealing pads the value (see [`crate::crypto::padding`]): a plain JSON value of up
/// to 3.8 MiB always fits.
pub const MAX_OWNER_VALUE_LEN: usize = 4 * 1024 * 1024;
/// Registered versions skipped at most when their values never reached a node.
const MAX_SKIPPED_VERSIONS: u64 = 64;

/// One version of an owner record, opened.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnerRecord {
    /// The pool address it lives under.
    pub address: String,
    /// The format name.
    pub format: String,
    /// The key, the format's fields only.
    pub key: Map<String, Value>,
    /// The day it is filed under.
    pub date: NaiveDate,
    /// Its version: 1 for the first put, one more for each update.
    pub version: u64,
    /// The value, projected on the requested columns.
    pub value: Value,
    /// Block height of its registration.
    pub height: u64,
    /// Its registered dHash.
    pub d_hash: [u8; 32],
    /// The key the ledger and the nodes know it by.
    pub stored_key: Vec<u8>,
}

/// What a put or an update wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerRecordWrite {
    /// The pool address it lives under.
    pub address: String,
    /// The version written.
    pub version: u64,
    /// Block height of its registration.
    pub height: Option<u64>,
    /// Its registered dHash.
    pub d_hash: [u8; 32],
    /// The key the ledger and the nodes know it by.
    pub stored_key: Vec<u8>,
}

/// The owner records of a period: the latest version of each key, in key order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OwnerRecordList {
    /// The latest version of each record.
    pub records: Vec<OwnerRecord>,
    /// How many versions each record has, alongside `records`.
    pub versions: Vec<u64>,
    /// Owner records refused (failed verification or did not open).
    pub rejected: Vec<DroppedRecord>,
    /// Registrations under the car's addresses that no node served.
    pub missing: u64,
}

/// Whether a put writes the first version or an update the next one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Write {
    Put,
    Update,
}

impl OwnerRecord {
    fn from_kv(record: KvRecord) -> Option<Self> {
        let (key, date, version) = split_owner_key(record.key)?;
        Some(OwnerRecord {
            address: record.address,
            format: record.format,
            key,
            date,
            version,
            value: record.value,
            height: record.height,
            d_hash: record.d_hash,
            stored_key: record.stored_key,
        })
    }
}

impl Wallet {
    /// Writes the first version of the owner record of car `vid`, filed under `date`,
    /// of `format` (see [`super::owner_format`]) under `key` (a complete key of the
    /// format) with `value` (a JSON object). A record under that key and day already
    /// is [`OwnerRecordError::Exists`].
    pub async fn put_owner_record(
        &self,
        light: &LightClient,
        vid: &str,
        date: NaiveDate,
        format: &FormatSpec,
        key: &Value,
        value: &Value,
    ) -> Result<OwnerRecordWrite, OwnerRecordError> {
        self.write_owner_record(light, vid, date, format, key, value, Write::Put)
            .await
    }

    /// Writes the next version of the owner record of car `vid` filed under `date`
    /// with `key`; the earlier versions stay registered and readable. A record this
    /// wallet does not own (none under that key and day among the car's records it can
    /// open) is [`OwnerRecordError::NotOwned`].
    pub async fn update_owner_record(
        &self,
        light: &LightClient,
        vid: &str,
        date: NaiveDate,
        format: &FormatSpec,
        key: &Value,
        value: &Value,
    ) -> Result<OwnerRecordWrite, OwnerRecordError> {
        self.write_owner_record(light, vid, date, format, key, value, Write::Update)
            .await
    }

    /// The latest version of the owner record of car `vid` under `date` and `key`,
    /// projected on `columns` (all when empty); `None` when there is none.
    pub async fn get_owner_record(
        &self,
        light: &LightClient,
        vid: &str,
        date: NaiveDate,
        format: &FormatSpec,
        key: &Value,
        columns: &[String],
    ) -> Result<Option<OwnerRecord>, OwnerRecordError> {
        Ok(self
            .owner_record_versions(light, vid, date, format, key, columns)
            .await?
            .pop())
    }

    /// Every version of the owner record of car `vid` under `date` and `key`, oldest
    /// first, each proven and opened.
    pub async fn owner_record_versions(
        &self,
        light: &LightClient,
        vid: &str,
        date: NaiveDate,
        format: &FormatSpec,
        key: &Value,
        columns: &[String],
    ) -> Result<Vec<OwnerRecord>, OwnerRecordError> {
        check_owner_format(format)?;
        let versioned = versioned_spec(format)?;
        check_key(&versioned, key)?;
        let bound = owner_key(key, date, None)?;
        let read = self
            .owner_range(light, vid, (date, date), &versioned, &bound, columns)
            .await?;
        Ok(read
            .records
            .into_iter()
            .filter_map(OwnerRecord::from_kv)
            .collect())
    }

    /// The owner records of `format` of car `vid` filed from `from` to `to`: the latest
    /// version of each key, in key order, with the number of versions.
    pub async fn list_owner_records(
        &self,
        light: &LightClient,
        vid: &str,
        from: NaiveDate,
        to: NaiveDate,
        format: &FormatSpec,
        columns: &[String],
    ) -> Result<OwnerRecordList, OwnerRecordError> {
        check_owner_format(format)?;
        let versioned = versioned_spec(format)?;
        let read = self
            .owner_range(light, vid, (from, to), &versioned, &json!({}), columns)
            .await?;
        let mut list = OwnerRecordList {
            rejected: read.rejected,
            missing: read.missing,
            ..OwnerRecordList::default()
        };
        for record in read.records.into_iter().filter_map(OwnerRecord::from_kv) {
            let same = list
                .records
                .last()
                .is_some_and(|last| last.key == record.key && last.date == record.date);
            if same {
                if let (Some(last), Some(count)) =
                    (list.records.last_mut(), list.versions.last_mut())
                {
                    *last = record;
                    *count += 1;
                }
            } else {
                list.records.push(record);
                list.versions.push(1);
            }
        }
        Ok(list)
    }

    /// The owner records filed under the car's days `days` keyed within `key` (a
    /// partial owner key: every version, and every key when `{}`), the car's own
    /// records and other days' records at the same addresses left out.
    async fn owner_range(
        &self,
        light: &LightClient,
        vid: &str,
        days: (NaiveDate, NaiveDate),
        versioned: &FormatSpec,
        key: &Value,
        columns: &[String],
    ) -> Result<super::reading::RangeResult, WalletError> {
        let name = versioned.name().to_owned();
        let (from, to) = days;
        let keep = move |format: &str, plain: &[u8]| {
            format == name
                && decode_key(versioned, plain)
                    .ok()
                    .and_then(split_owner_key)
                    .is_some_and(|(_, date, _)| from <= date && date <= to)
        };
        self.get_kv_range_kept(
            light,
            vid,
            days,
            versioned,
            (key, key),
            columns,
            None,
            &keep,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_owner_record(
        &self,
        light: &LightClient,
        vid: &str,
        date: NaiveDate,
        format: &FormatSpec,
        key: &Value,
        value: &Value,
        write: Write,
    ) -> Result<OwnerRecordWrite, OwnerRecordError> {
        self.owned_device(vid)?;
        check_owner_format(format)?;
        let versioned = versioned_spec(format)?;
        check_key(&versioned, key)?;
        check_value(format, value)?;
        // One connection for this address's reads and writes, none other's.
        let fresh = light.with_fresh_connections().map_err(WalletError::from)?;
        let bound = owner_key(key, date, None)?;
        let existing = self
            .owner_range(&fresh, vid, (date, date), &versioned, &bound, &[])
            .await?;
        let generations = self.pool_generations(vid)?;
        let day = Self::keyed_day_addresses(&generations, vid, date)?;
        let latest = existing.records.last();
        let (address, cipher, mut version) = match (write, latest) {
            (Write::Put, Some(_)) => return Err(self.exists(vid, format, date)),
            (Write::Update, None) => {
                return Err(OwnerRecordError::NotOwned {
                    vid: vid.to_owned(),
                    format: format.name().to_owned(),
                    date,
                });
            }
            (Write::Put, None) => {
                let (address, cipher) =
                    day.into_iter()
                        .next()
                        .ok_or_else(|| WalletError::UnknownDevice {
                            vid: vid.to_owned(),
                        })?;
                (address, cipher, 1)
            }
            (Write::Update, Some(record)) => {
                let version = decode_key(&versioned, &record.key_bytes)
                    .ok()
                    .and_then(split_owner_key)
                    .map_or(0, |(_, _, v)| v);
                let (address, cipher) = day
                    .into_iter()
                    .find(|(address, _)| *address == record.address)
                    .ok_or_else(|| WalletError::RecordRejected {
                        address: record.address.clone(),
                        reason: "the record's address is not the car's of its day".into(),
                    })?;
                (address, cipher, version.saturating_add(1))
            }
        };
        // A version registered whose value never reached a node is not reused.
        let mut skipped = 0;
        let stored_key = loop {
            let plain = encode_key(&versioned, &owner_key(key, date, Some(version))?)
                .map_err(|e| invalid_key(&e))?;
            let stored = cipher.seal(plain.as_bytes()).map_err(WalletError::from)?;
            if fresh.registration(&address, &stored).await?.is_none() {
                break stored;
            }
            if write == Write::Put {
                return Err(self.exists(vid, format, date));
            }
            skipped += 1;
            if skipped > MAX_SKIPPED_VERSIONS {
                return Err(WalletError::RecordRejected {
                    address,
                    reason: "too many versions registered without a value".into(),
                }
                .into());
            }
            version += 1;
        };
        let secret = self.pool_signer(vid, &address)?;
        let sealed = self.seal_owner_record(
            &versioned,
            &address,
            &owner_key(key, date, Some(version))?,
            value,
            &cipher,
        )?;
        debug_assert_eq!(sealed.key.as_bytes(), stored_key.as_slice());
        let put = RecordPut {
            address: address.clone(),
            key: stored_key.clone(),
            format: sealed.format.clone(),
            hash_func: sealed.hash_func,
            d_hash: sealed.d_hash,
            c_hash: sealed.c_hash,
            size: sealed.size(),
            wallet: true,
            stamp: None,
        };
        let receipt = fresh
            .sign_and_submit(&secret, TxBody::RecordPut(put))
            .await?;
        self.store_owner_value(&fresh, &address, &stored_key, &sealed.envelope)
            .await?;
        Ok(OwnerRecordWrite {
            address,
            version,
            height: receipt.height,
            d_hash: sealed.d_hash,
            stored_key,
        })
    }

    /// Seals the record to the owner under an epoch key of its own, refusing a sealed
    /// value over [`MAX_OWNER_VALUE_LEN`].
    fn seal_owner_record(
        &self,
        versioned: &FormatSpec,
        address: &str,
        key: &Value,
        value: &Value,
        cipher: &StoredKeyCipher,
    ) -> Result<crate::sealed::SealedRecord, OwnerRecordError> {
        let epoch = SealingEpoch::new(&self.keys().rsa_public()).map_err(WalletError::from)?;
        let sealed = seal_record_with_stored_key(
            versioned,
            address,
            key,
            value,
            HashFunc::Sha256,
            &epoch,
            cipher,
        )
        .map_err(WalletError::from)?;
        if sealed.envelope.len() > MAX_OWNER_VALUE_LEN {
            return Err(OwnerRecordError::ValueTooLarge {
                size: sealed.envelope.len(),
                max: MAX_OWNER_VALUE_LEN,
            });
        }
        Ok(sealed)
    }

    /// The key of pool address `address` of car `vid` (any generation the wallet holds).
    fn pool_signer(&self, vid: &str, address: &str) -> Result<SecretKey, WalletError> {
        let row = self.device_row(vid)?;
        for generation in (0..=row.pool_generation).rev() {
            let pool = self.locked_store()?.pool_generation(vid, generation)?;
            if let Some(index) = pool.iter().position(|a| a == address) {
                let index = u32::try_from(index)
                    .map_err(|_| WalletError::InvalidPoolSize { size: pool.len() })?;
                let branch = self.keys().pool_branch_xpriv(vid, generation)?;
                return Ok(branch.derive_priv(secp(), &[normal(index)?])?.private_key);
            }
        }
        Err(WalletError::RecordRejected {
            address: address.to_owned(),
            reason: "the address is not in this car's pool".into(),
        })
    }

    fn exists(&self, vid: &str, format: &FormatSpec, date: NaiveDate) -> OwnerRecordError {
        OwnerRecordError::Exists {
            vid: vid.to_owned(),
            format: format.name().to_owned(),
            date,
        }
    }
}

/// Refuses a key that is not a complete key of the format (day and version aside).
fn check_key(versioned: &FormatSpec, key: &Value) -> Result<(), OwnerRecordError> {
    let any_day = NaiveDate::default();
    encode_key(versioned, &owner_key(key, any_day, Some(1))?)
        .map(|_| ())
        .map_err(|e| invalid_key(&e))
}

fn invalid_key(error: &crate::record::RecordError) -> OwnerRecordError {
    OwnerRecordError::InvalidKey {
        reason: error.to_string(),
    }
}

/// Refuses a value that is not a JSON object, names another format, or is already over
/// the limit before sealing.
fn check_value(format: &FormatSpec, value: &Value) -> Result<(), OwnerRecordError> {
    if !value.is_object() {
        return Err(OwnerRecordError::InvalidValue {
            reason: "the value is not a JSON object".into(),
        });
    }
    check_value_format(format.name(), value).map_err(|e| OwnerRecordError::InvalidValue {
        reason: e.to_string(),
    })?;
    let size = serde_json::to_vec(value).map_or(usize::MAX, |bytes| bytes.len());
    if size > MAX_OWNER_VALUE_LEN {
        return Err(OwnerRecordError::ValueTooLarge {
            size,
            max: MAX_OWNER_VALUE_LEN,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_must_be_objects_of_their_format_within_the_limit() {
        let vin = FormatSpec::vin_code();
        assert!(check_value(&vin, &json!({"VIN": "LBVNU79049SB81546"})).is_ok());
        assert!(check_value(&vin, &json!({"VIN": "X", "format": "VIN_CODE"})).is_ok());
        let code = |v: Value| check_value(&vin, &v).unwrap_err().code();
        assert_eq!(
            code(json!("LBVNU79049SB81546")),
            "owner_record.invalid_value"
        );
        assert_eq!(
            code(json!({"format": "carvio"})),
            "owner_record.invalid_value"
        );
        let big = "x".repeat(MAX_OWNER_VALUE_LEN);
        assert_eq!(code(json!({ "doc": big })), "owner_record.value_too_large");
    }

    #[test]
    fn keys_must_be_complete_keys_of_the_format() {
        let spec = versioned_spec(&FormatSpec::vin_code()).unwrap();
        assert!(check_key(&spec, &json!({"VEHICLE_DATA": 1})).is_ok());
        for bad in [
            json!({}),
            json!({"VEHICLE_DATA": 1, "OTHER": 2}),
            json!({"VEHICLE_DATA": 1.5}),
            json!({"VEHICLE_DATA": 1, "VERSION": 1}),
            json!({"VEHICLE_DATA": 1, "DAY": 20240501}),
        ] {
            assert_eq!(
                check_key(&spec, &bad).unwrap_err().code(),
                "owner_record.invalid_key",
                "{bad}"
            );
        }
    }
}
