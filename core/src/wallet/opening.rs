//! Opening a range read's records on every core: the distinct epoch keys of the read
//! are looked up in the owner's epoch-key cache and the missing ones unwrapped in
//! parallel (each once: one RSA decryption per epoch, as a sequential read), then the
//! records are opened (AEAD, dHash, JSON) in parallel chunks. Results keep the order of
//! the fetched records, and every record goes through the same checks as a record
//! opened alone ([`Wallet::open_fetched`]).

use std::collections::{BTreeSet, HashMap};
use std::thread;

use super::identity::Wallet;
use super::reading::{Fetched, KvRecord};
use crate::crypto::{CryptoResult, Envelope, EpochKey, WrappedKey};
use crate::record::FormatSpec;
use crate::store::CachedRecord;

/// Fewer records than this are opened on the calling thread.
const PARALLEL_FROM: usize = 8;
/// Most threads one read uses.
const MAX_THREADS: usize = 8;

/// Each record's outcome, in the order given, and the records to cache.
type Opened = (Vec<Result<KvRecord, String>>, Vec<CachedRecord>);

impl Wallet {
    /// Opens `fetched` (see [`Wallet::open_fetched`]) on up to [`MAX_THREADS`] threads.
    pub(super) fn open_all(
        &self,
        fetched: &[Fetched],
        request: (&FormatSpec, &[String]),
        pool: &BTreeSet<String>,
    ) -> Opened {
        let threads = thread::available_parallelism()
            .map_or(1, usize::from)
            .min(MAX_THREADS);
        if threads < 2 || fetched.len() < PARALLEL_FROM {
            return self.open_chunk(fetched, &[], request, pool);
        }
        let per_record = self.epoch_keys_of(fetched, threads);
        let chunk = fetched.len().div_ceil(threads);
        let outcomes = thread::scope(|scope| {
            let handles: Vec<_> = fetched
                .chunks(chunk)
                .zip(per_record.chunks(chunk))
                .map(|(records, keys)| {
                    scope.spawn(move || self.open_chunk(records, keys, request, pool))
                })
                .collect();
            handles
                .into_iter()
                .zip(fetched.chunks(chunk))
                .map(|(handle, records)| {
                    handle.join().unwrap_or_else(|_| {
                        let failed = records
                            .iter()
                            .map(|_| Err("the record could not be opened".to_owned()))
                            .collect();
                        (failed, Vec::new())
                    })
                })
                .collect::<Vec<_>>()
        });
        let mut opened = Vec::with_capacity(fetched.len());
        let mut to_cache = Vec::new();
        for (records, cache) in outcomes {
            opened.extend(records);
            to_cache.extend(cache);
        }
        (opened, to_cache)
    }

    /// Opens `records` one after the other, each with its epoch key from `keys` when
    /// given (else through the cache).
    fn open_chunk(
        &self,
        records: &[Fetched],
        keys: &[Option<EpochKey>],
        request: (&FormatSpec, &[String]),
        pool: &BTreeSet<String>,
    ) -> Opened {
        let mut to_cache = Vec::new();
        let opened = records
            .iter()
            .enumerate()
            .map(|(i, record)| {
                let epoch = keys.get(i).and_then(Option::as_ref);
                self.open_fetched(record, request, pool, epoch, &mut to_cache)
            })
            .collect();
        (opened, to_cache)
    }

    /// The epoch key of each fetched record that opens under the owner's key: cached
    /// keys from the cache, the others unwrapped on up to `threads` threads, each
    /// distinct wrapped key once, and remembered. A record whose envelope does not parse
    /// or whose key does not unwrap gets `None` (its sequential open reports why).
    fn epoch_keys_of(&self, fetched: &[Fetched], threads: usize) -> Vec<Option<EpochKey>> {
        let wrapped: Vec<Option<WrappedKey>> = fetched
            .iter()
            .map(|f| {
                Envelope::from_bytes(&f.envelope)
                    .ok()
                    .map(|e| e.wrapped_epoch_key().clone())
            })
            .collect();
        let mut distinct: Vec<WrappedKey> = Vec::new();
        let mut index_of: HashMap<Vec<u8>, usize> = HashMap::new();
        let record_index: Vec<Option<usize>> = wrapped
            .iter()
            .map(|w| {
                let w = w.as_ref()?;
                let bytes = w.to_bytes().ok()?;
                Some(*index_of.entry(bytes).or_insert_with(|| {
                    distinct.push(w.clone());
                    distinct.len() - 1
                }))
            })
            .collect();
        let keys = self.unwrap_distinct(&distinct, threads);
        record_index
            .into_iter()
            .map(|i| i.and_then(|i| keys.get(i).cloned().flatten()))
            .collect()
    }

    /// Each distinct wrapped key's epoch key (`None` where it did not unwrap): from the
    /// cache, else unwrapped in parallel outside the cache's lock and then remembered.
    fn unwrap_distinct(&self, distinct: &[WrappedKey], threads: usize) -> Vec<Option<EpochKey>> {
        let rsa = self.keys().rsa_private();
        let Ok(mut cache) = self.epoch_cache() else {
            return vec![None; distinct.len()];
        };
        let known: Vec<Option<CryptoResult<EpochKey>>> = distinct
            .iter()
            .map(|w| cache.cached(w, rsa).ok().flatten())
            .collect();
        drop(cache);
        let missing: Vec<usize> = (0..distinct.len())
            .filter(|&i| known[i].is_none())
            .collect();
        let chunk = missing.len().div_ceil(threads).max(1);
        let unwrapped: Vec<(usize, CryptoResult<EpochKey>)> = thread::scope(|scope| {
            let handles: Vec<_> = missing
                .chunks(chunk)
                .map(|indices| {
                    scope.spawn(move || {
                        indices
                            .iter()
                            .map(|&i| (i, distinct[i].unwrap_epoch_key(rsa)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .filter_map(|h| h.join().ok())
                .flatten()
                .collect()
        });
        let mut keys: Vec<Option<EpochKey>> =
            known.into_iter().map(|k| k.and_then(Result::ok)).collect();
        if let Ok(mut cache) = self.epoch_cache() {
            for (i, entry) in &unwrapped {
                let _ = cache.remember_unwrapped(&distinct[*i], rsa, entry);
            }
        }
        for (i, entry) in unwrapped {
            keys[i] = entry.ok();
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::crypto::{HashFunc, SealingEpoch};
    use crate::keys::{Network, WordCount};
    use crate::sealed::seal_record;
    use crate::store::{InMemorySecretStore, WalletStore};

    const ADDRESS: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

    fn wallet() -> Wallet {
        let store = WalletStore::open_in_memory(Arc::new(InMemorySecretStore::new())).unwrap();
        Wallet::create_in(store, Network::Regtest, WordCount::Twelve, "")
            .unwrap()
            .0
    }

    /// Three epochs of four records each, the seventh one altered after sealing (its
    /// cHash recomputed, as if registered so): every record is opened in its place, the
    /// altered one refused there, and each epoch costs one RSA decryption.
    #[test]
    fn a_parallel_open_keeps_order_checks_and_one_unwrap_per_epoch() {
        let wallet = wallet();
        let spec = FormatSpec::carvio();
        let owner = wallet.keys().rsa_public();
        let mut fetched = Vec::new();
        for epoch in 0..3u32 {
            let sealing = SealingEpoch::new(&owner).unwrap();
            for n in 0..4 {
                let id = epoch * 4 + n;
                let sealed = seal_record(
                    &spec,
                    ADDRESS,
                    &json!({ "CARVIO_ID": format!("c{id:02}") }),
                    &json!({ "n": id }),
                    HashFunc::Sha256,
                    &sealing,
                )
                .unwrap();
                fetched.push(Fetched::from_sealed(sealed, u64::from(id)));
            }
        }
        let altered = &mut fetched[6];
        if let Some(byte) = altered.envelope.last_mut() {
            *byte ^= 1;
        }
        altered.c_hash = HashFunc::Sha256.digest(&altered.envelope);
        let pool = BTreeSet::from([ADDRESS.to_owned()]);

        let (opened, _) = wallet.open_all(&fetched, (&spec, &[]), &pool);

        assert_eq!(opened.len(), 12);
        for (id, outcome) in opened.iter().enumerate() {
            match outcome {
                Ok(record) => {
                    assert_ne!(id, 6, "the altered record opened");
                    assert_eq!(record.value, json!({ "n": id }));
                    assert_eq!(record.height, id as u64);
                }
                Err(reason) => assert_eq!(id, 6, "record {id} refused: {reason}"),
            }
        }
        assert_eq!(wallet.epoch_cache().unwrap().stats().unwraps, 3);
    }
}
