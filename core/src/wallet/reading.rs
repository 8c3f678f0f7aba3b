//! Reading a car's records back (the seed's `getKV` / `getKVRange`): the day's pool
//! address, a verified read through the light client, the signer checked against the
//! car's pool, the envelope opened with the owner's RSA key through one epoch-key cache
//! (a day costs one RSA decryption), then the requested columns.
//!
//! Every pool generation the wallet holds for the car is consulted (a `set_dup` leaves
//! older days under older pools). A range read covers the addresses of the days from
//! `from` to `to`; an address that serves several days of a small pool returns all of its
//! records within the key bounds, so narrow by key (for trips, START_TIME) when the days
//! matter. Verified records are cached in the store; when no node answers, reads come
//! from that cache (still checked and decrypted the same way).
//!
//! The ledger and the nodes know a car's records by their stored keys (see
//! [`crate::sealed::stored_key`]): `getKV` computes the stored key from the pool seed and
//! asks for it; `getKVRange` reads each address whole (one day of one car), decrypts the
//! stored keys with the pool seed and filters and sorts by the plaintext key order
//! (`INF_MIN`/`INF_MAX` bounds included), then opens only the records in range.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::devices::{parse_pool, pool_seed_of};
use super::error::WalletError;
use super::identity::Wallet;
use crate::crypto::{EpochKey, HashFunc};
use crate::keys::p2wpkh_address;
use crate::light::{LightClient, LightError, VerifiedRecord};
use crate::pool::{MAX_DAYS_PER_QUERY, PoolSeed, deduct_address};
use crate::record::{
    EncodedKey, FormatSpec, KeyRange, decode_key, encode_end_bound, encode_key, encode_start_bound,
};
use crate::sealed::{Opener, STORED_KEYS_END, SealedRecord, StoredKeyCipher, open_c_hash_checked};
use crate::store::CachedRecord;

/// Most records a range read returns from the offline cache per address.
const CACHE_PAGE: u32 = 100_000;

/// One decrypted record.
#[derive(Debug, Clone, PartialEq)]
pub struct KvRecord {
    /// The data address it lives under.
    pub address: String,
    /// The key as its JSON object.
    pub key: Map<String, Value>,
    /// The range-ordered (plaintext) key bytes.
    pub key_bytes: Vec<u8>,
    /// The key the ledger and the node know the record by (its stored key).
    pub stored_key: Vec<u8>,
    /// The record format.
    pub format: String,
    /// The decrypted value, projected on the requested columns.
    pub value: Value,
    /// Block height of its registration.
    pub height: u64,
    /// Its registered dHash (the hash of the plaintext value, proven on the ledger).
    pub d_hash: [u8; 32],
}

/// A record the wallet refused: not from this car's pool, failed verification or did
/// not open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedRecord {
    /// The data address.
    pub address: String,
    /// The key bytes as stored (the stored key of a car's record).
    pub key: Vec<u8>,
    /// Why it was dropped.
    pub reason: String,
}

/// A range read: decrypted records in key order (merged across days), and the dropped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RangeResult {
    /// Records, ascending key bytes (then address).
    pub records: Vec<KvRecord>,
    /// Records refused, with reasons.
    pub rejected: Vec<DroppedRecord>,
    /// Records the ledger lists under the car's addresses that no node served (the car
    /// may not have stored their values yet); their keys are unknown to the reader.
    pub missing: u64,
}

/// One pool generation of a car: its addresses and seed.
pub(super) struct PoolGeneration {
    addresses: Vec<bitcoin::Address>,
    seed: PoolSeed,
}

/// A record as read (from a node or the cache) before opening; its envelope has been
/// checked against its cHash either way.
pub(super) struct Fetched {
    pub(super) address: String,
    /// The key as stored (ledger and node).
    key: Vec<u8>,
    /// The range-ordered plaintext key, from the stored key and the pool seed.
    plain_key: Vec<u8>,
    format: String,
    pub(super) envelope: Vec<u8>,
    pub(super) c_hash: [u8; 32],
    d_hash: [u8; 32],
    hash_func: HashFunc,
    height: u64,
    signer_address: Option<String>,
}

impl Fetched {
    fn from_verified(record: VerifiedRecord, network: crate::keys::Network) -> Self {
        let reg = record.registration;
        Fetched {
            signer_address: Some(
                p2wpkh_address(&bitcoin::CompressedPublicKey(reg.signer), network).to_string(),
            ),
            address: reg.put.address,
            plain_key: reg.put.key.clone(),
            key: reg.put.key,
            format: reg.put.format,
            envelope: record.envelope,
            c_hash: reg.put.c_hash,
            d_hash: reg.put.d_hash,
            hash_func: reg.put.hash_func,
            height: reg.height,
        }
    }

    /// A cached record: the hash function is the one whose digest of the envelope is the
    /// cached cHash (the cache keeps only the hashes).
    fn from_cache(row: CachedRecord) -> Option<Self> {
        let c_hash: [u8; 32] = row.c_hash.as_slice().try_into().ok()?;
        let d_hash: [u8; 32] = row.d_hash.as_slice().try_into().ok()?;
        let hash_func = [HashFunc::Sha256, HashFunc::DoubleSha256]
            .into_iter()
            .find(|f| f.digest(&row.envelope) == c_hash)?;
        Some(Fetched {
            address: row.address,
            plain_key: row.key.clone(),
            key: row.key,
            format: row.format,
            envelope: row.envelope,
            c_hash,
            d_hash,
            hash_func,
            height: row.height,
            signer_address: None,
        })
    }

    /// A record sealed here, as a verified read would fetch it (tests of the opening).
    #[cfg(test)]
    pub(super) fn from_sealed(sealed: crate::sealed::SealedRecord, height: u64) -> Self {
        let key = sealed.key.as_bytes().to_vec();
        Fetched {
            address: sealed.address,
            plain_key: key.clone(),
            key,
            format: sealed.format,
            envelope: sealed.envelope,
            c_hash: sealed.c_hash,
            d_hash: sealed.d_hash,
            hash_func: sealed.hash_func,
            height,
            signer_address: None,
        }
    }

    /// The plaintext key read from the stored key with the address's `cipher`.
    fn with_plain_key(mut self, cipher: &StoredKeyCipher) -> Self {
        self.plain_key = cipher.plain_key(&self.key);
        self
    }

    fn to_cache(&self, signer: &str) -> CachedRecord {
        CachedRecord {
            address: self.address.clone(),
            key: self.key.clone(),
            format: self.format.clone(),
            envelope: self.envelope.clone(),
            c_hash: self.c_hash.to_vec(),
            d_hash: self.d_hash.to_vec(),
            height: self.height,
            signer: signer.to_owned(),
        }
    }
}

/// Whether the light client found no node at all (read from the cache instead).
fn offline(error: &LightError) -> bool {
    error.is_unreachable()
}

impl Wallet {
    /// Keeps the records of one read in the offline cache, in one transaction (one
    /// durable commit per read, not per record). The cache is a convenience: a failed
    /// write does not fail the read.
    fn cache(&self, records: &[CachedRecord]) {
        if records.is_empty() {
            return;
        }
        if let Ok(store) = self.locked_store() {
            let _ = store.cache_records(records);
        }
    }

    /// Every pool generation stored for the car, newest first.
    pub(super) fn pool_generations(&self, vid: &str) -> Result<Vec<PoolGeneration>, WalletError> {
        let row = self.device_row(vid)?;
        let store = self.locked_store()?;
        let mut generations = Vec::new();
        for generation in (0..=row.pool_generation).rev() {
            let pool = store.pool_generation(vid, generation)?;
            if pool.is_empty() {
                continue;
            }
            let seed = if generation == row.pool_generation {
                pool_seed_of(&row)?
            } else {
                self.keys().pool_seed(vid, generation)?
            };
            generations.push(PoolGeneration {
                addresses: parse_pool(&pool, self.network())?,
                seed,
            });
        }
        Ok(generations)
    }

    /// The car's addresses of `date`, one per pool generation.
    pub(super) fn day_addresses(
        generations: &[PoolGeneration],
        vid: &str,
        date: NaiveDate,
    ) -> Result<Vec<String>, WalletError> {
        Ok(Self::keyed_day_addresses(generations, vid, date)?
            .into_iter()
            .map(|(address, _)| address)
            .collect())
    }

    /// [`Self::day_addresses`], each with the stored-key cipher of its pool.
    pub(super) fn keyed_day_addresses(
        generations: &[PoolGeneration],
        vid: &str,
        date: NaiveDate,
    ) -> Result<Vec<(String, StoredKeyCipher)>, WalletError> {
        generations
            .iter()
            .map(|g| {
                let address = deduct_address(&g.addresses, date, vid, &g.seed)?.to_string();
                let cipher = StoredKeyCipher::new(&g.seed, &address)?;
                Ok((address, cipher))
            })
            .collect()
    }

    /// Checks and opens one fetched record, with its epoch key when the caller has it
    /// (else through the owner's epoch-key cache); a record fetched from a node that
    /// passed the pool checks joins `to_cache` (the caller writes them in one
    /// transaction).
    pub(super) fn open_fetched(
        &self,
        fetched: &Fetched,
        (spec, columns): (&FormatSpec, &[String]),
        pool: &BTreeSet<String>,
        epoch: Option<&EpochKey>,
        to_cache: &mut Vec<CachedRecord>,
    ) -> Result<KvRecord, String> {
        if !pool.contains(&fetched.address) {
            return Err("the address is not in this car's pool".into());
        }
        if let Some(signer) = &fetched.signer_address {
            if !pool.contains(signer) {
                return Err("the put was not signed by a key of this car's pool".into());
            }
            to_cache.push(fetched.to_cache(signer));
        }
        if fetched.format != spec.name() {
            return Err(format!(
                "format `{}` is not the one asked for",
                fetched.format
            ));
        }
        let key = decode_key(spec, &fetched.plain_key).map_err(|e| e.to_string())?;
        let sealed = SealedRecord {
            address: fetched.address.clone(),
            format: fetched.format.clone(),
            key: EncodedKey::from_bytes(fetched.key.clone()),
            hash_func: fetched.hash_func,
            envelope: fetched.envelope.clone(),
            d_hash: fetched.d_hash,
            c_hash: fetched.c_hash,
        };
        let opened = match epoch {
            Some(epoch) => open_c_hash_checked(&sealed, Opener::Epoch(epoch), columns),
            None => {
                let mut cache = self.epoch_cache().map_err(|e| e.to_string())?;
                open_c_hash_checked(
                    &sealed,
                    Opener::Owner {
                        rsa: self.keys().rsa_private(),
                        cache: &mut cache,
                    },
                    columns,
                )
            }
        }
        .map_err(|e| e.to_string())?;
        if opened.key.as_bytes() != fetched.plain_key.as_slice() {
            return Err("the key sealed in the envelope is not the registered one".into());
        }
        let value = opened.value;
        Ok(KvRecord {
            address: fetched.address.clone(),
            key,
            key_bytes: fetched.plain_key.clone(),
            stored_key: fetched.key.clone(),
            format: fetched.format.clone(),
            value,
            height: fetched.height,
            d_hash: fetched.d_hash,
        })
    }

    /// One record of the car `vid` written on `date` under `key_json` (a complete key of
    /// `format`), decrypted and projected on `columns` (all when empty). `None` when the
    /// car wrote no such record. A record that fails the pool or hash checks is
    /// [`WalletError::RecordRejected`].
    pub async fn get_kv(
        &self,
        light: &LightClient,
        vid: &str,
        date: NaiveDate,
        format: &FormatSpec,
        key_json: &Value,
        columns: &[String],
    ) -> Result<Option<KvRecord>, WalletError> {
        let key = encode_key(format, key_json)?.into_bytes();
        let generations = self.pool_generations(vid)?;
        let pool = pool_set(&generations);
        let network = self.network();
        for (address, cipher) in Self::keyed_day_addresses(&generations, vid, date)? {
            let stored = cipher.seal(&key)?;
            let fetched = match light.record(&address, &stored).await {
                Ok(Some(record)) => Fetched::from_verified(record, network),
                Ok(None) => continue,
                Err(e) if offline(&e) => {
                    // The cache may still hold a record registered under its plaintext
                    // key before stored keys existed; only the local cache is asked.
                    let store = self.locked_store()?;
                    let cached = match store.cached_record(&address, &stored)? {
                        Some(row) => Some(row),
                        None => store.cached_record(&address, &key)?,
                    };
                    match cached.and_then(Fetched::from_cache) {
                        Some(fetched) => fetched,
                        None => continue,
                    }
                }
                Err(e) => return Err(e.into()),
            };
            let fetched = fetched.with_plain_key(&cipher);
            let mut to_cache = Vec::new();
            let opened = self.open_fetched(&fetched, (format, columns), &pool, None, &mut to_cache);
            self.cache(&to_cache);
            return opened
                .map(Some)
                .map_err(|reason| WalletError::RecordRejected { address, reason });
        }
        Ok(None)
    }

    /// Every record of `format` the car `vid` wrote from `from_date` to `to_date` (both
    /// included) with `start_json <= key <= end_json` (partial keys: missing trailing
    /// fields are INF_MIN at the start and INF_MAX at the end; `{}` means unbounded),
    /// decrypted, projected on `columns`, in key order, merged across days; `page` =
    /// `(offset, limit)` slices the merged list. Records of other formats at the same
    /// addresses (the car's other records, the owner's records) are left out, not
    /// reported as rejected.
    #[allow(clippy::too_many_arguments)]
    pub async fn get_kv_range(
        &self,
        light: &LightClient,
        vid: &str,
        from_date: NaiveDate,
        to_date: NaiveDate,
        format: &FormatSpec,
        start_json: &Value,
        end_json: &Value,
        columns: &[String],
        page: Option<(usize, usize)>,
    ) -> Result<RangeResult, WalletError> {
        self.get_kv_range_kept(
            light,
            vid,
            (from_date, to_date),
            format,
            (start_json, end_json),
            columns,
            page,
            &|record_format, _| record_format == format.name(),
        )
        .await
    }

    /// [`Self::get_kv_range`] over the records `keep` accepts (by format and plaintext
    /// key) before they are opened: the others are neither opened nor reported as
    /// rejected (an owner's record read leaves the car's records of the same format).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn get_kv_range_kept(
        &self,
        light: &LightClient,
        vid: &str,
        (from_date, to_date): (NaiveDate, NaiveDate),
        format: &FormatSpec,
        (start_json, end_json): (&Value, &Value),
        columns: &[String],
        page: Option<(usize, usize)>,
        keep: &(dyn Fn(&str, &[u8]) -> bool + Sync),
    ) -> Result<RangeResult, WalletError> {
        check_dates(from_date, to_date)?;
        if matches!(page, Some((_, 0))) {
            return Err(WalletError::InvalidPage);
        }
        let range = KeyRange::from_bounds(
            encode_start_bound(format, start_json)?,
            encode_end_bound(format, end_json)?,
        )?;
        let generations = self.pool_generations(vid)?;
        let pool = pool_set(&generations);
        let mut addresses = std::collections::BTreeMap::new();
        let mut day = from_date;
        while day <= to_date {
            addresses.extend(Self::keyed_day_addresses(&generations, vid, day)?);
            day = day.succ_opt().ok_or(WalletError::InvalidDateRange {
                from: from_date,
                to: to_date,
                reason: "the range runs past the last representable date",
            })?;
        }
        let network = self.network();
        let mut result = RangeResult::default();
        let mut fetched = Vec::new();
        let start = range.start().as_bytes();
        let end = range.end().as_bytes();
        let in_range = |f: &Fetched| {
            start <= f.plain_key.as_slice()
                && f.plain_key.as_slice() <= end
                && keep(&f.format, &f.plain_key)
        };
        // Each whole address (one day of one car), checked complete against the ledger's
        // index, its stored keys decrypted, then the plaintext key bounds: a node cannot
        // drop a record unnoticed, and learns nothing of the bounds. All against one
        // header per node.
        let listed: Vec<String> = addresses.keys().cloned().collect();
        let reads = light.records_at_many(&listed).await;
        for ((address, cipher), read) in addresses.iter().zip(reads) {
            match read {
                Ok(read) => {
                    result.missing += read.missing;
                    fetched.extend(
                        read.records
                            .into_iter()
                            .map(|r| Fetched::from_verified(r, network).with_plain_key(cipher))
                            .filter(|f| in_range(f)),
                    );
                    result
                        .rejected
                        .extend(read.rejected.into_iter().map(|r| DroppedRecord {
                            address: r.address,
                            key: r.key,
                            reason: r.reason,
                        }));
                }
                Err(e) if offline(&e) => {
                    let cached = self.locked_store()?.cached_range(
                        address,
                        &[],
                        STORED_KEYS_END,
                        CACHE_PAGE,
                    )?;
                    fetched.extend(
                        cached
                            .into_iter()
                            .filter_map(Fetched::from_cache)
                            .map(|f| f.with_plain_key(cipher))
                            .filter(|f| in_range(f)),
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
        fetched.sort_by(|a, b| (&a.plain_key, &a.address).cmp(&(&b.plain_key, &b.address)));
        let (opened, to_cache) = self.open_all(&fetched, (format, columns), &pool);
        for (item, opened) in fetched.iter().zip(opened) {
            match opened {
                Ok(record) => result.records.push(record),
                Err(reason) => result.rejected.push(DroppedRecord {
                    address: item.address.clone(),
                    key: item.key.clone(),
                    reason,
                }),
            }
        }
        self.cache(&to_cache);
        if let Some((offset, limit)) = page {
            result.records = result
                .records
                .into_iter()
                .skip(offset)
                .take(limit)
                .collect();
        }
        Ok(result)
    }
}

/// Every address of every generation, for membership checks.
pub(super) fn pool_set(generations: &[PoolGeneration]) -> BTreeSet<String> {
    generations
        .iter()
        .flat_map(|g| g.addresses.iter().map(ToString::to_string))
        .collect()
}

/// Refuses a range that starts after it ends or spans more than [`MAX_DAYS_PER_QUERY`].
pub(crate) fn check_dates(from: NaiveDate, to: NaiveDate) -> Result<(), WalletError> {
    if from > to {
        return Err(WalletError::InvalidDateRange {
            from,
            to,
            reason: "the first day is after the last",
        });
    }
    if (to - from).num_days() + 1 > MAX_DAYS_PER_QUERY {
        return Err(WalletError::InvalidDateRange {
            from,
            to,
            reason: "more days than one query may span",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn date_ranges_are_checked() {
        assert!(check_dates(day(2024, 5, 1), day(2024, 5, 1)).is_ok());
        assert!(check_dates(day(2024, 5, 1), day(2024, 5, 7)).is_ok());
        assert!(matches!(
            check_dates(day(2024, 5, 2), day(2024, 5, 1)),
            Err(WalletError::InvalidDateRange {
                reason: "the first day is after the last",
                ..
            })
        ));
        assert!(matches!(
            check_dates(day(2000, 1, 1), day(2024, 1, 1)),
            Err(WalletError::InvalidDateRange {
                reason: "more days than one query may span",
                ..
            })
        ));
    }
}
