//! The owner's cache of unwrapped epoch keys, keyed by the SHA-256 of the private key's
//! public fingerprint and the wrapped epoch key's encoding, so reading a day of records
//! from one address costs one RSA decryption. Wrapped keys name no recipient, so the
//! reader tries its key; a trial that failed is remembered too, and an envelope of
//! someone else's epoch costs no second RSA decryption. Bounded (oldest entries evicted
//! first); `Debug` shows only counts.

use std::collections::{HashMap, VecDeque};
use std::fmt;

use rsa::PrivateKey;
use sha2::{Digest, Sha256};

use super::error::{CryptoError, CryptoResult};
use super::symmetric::EpochKey;
use super::wrap::WrappedKey;

/// How a cache has been used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// RSA-OAEP decryptions attempted (cache misses).
    pub unwraps: u64,
}

/// Unwrapped epoch keys (or the failure of the trial) by the SHA-256 of the private
/// key's fingerprint and the wrapped encoding.
pub struct EpochKeyCache {
    entries: HashMap<[u8; 32], Result<EpochKey, CryptoError>>,
    insertion_order: VecDeque<[u8; 32]>,
    capacity: usize,
    stats: CacheStats,
}

impl EpochKeyCache {
    /// Capacity of [`EpochKeyCache::new`]: most of a year of daily epochs.
    pub const DEFAULT_CAPACITY: usize = 256;

    /// An empty cache holding up to [`Self::DEFAULT_CAPACITY`] keys.
    pub fn new() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }

    /// An empty cache holding up to `capacity` keys (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            insertion_order: VecDeque::new(),
            capacity: capacity.max(1),
            stats: CacheStats::default(),
        }
    }

    /// The epoch key inside `wrapped`, unwrapping it with `owner` on a miss.
    ///
    /// `WrongKey` when `wrapped` does not open under `owner` (wrapped for another RSA
    /// key, or altered). Entries are per private key, so a key cached for one owner is
    /// never released to another.
    pub fn epoch_key(
        &mut self,
        wrapped: &WrappedKey,
        owner: &PrivateKey,
    ) -> CryptoResult<EpochKey> {
        let id = entry_id(wrapped, owner)?;
        if let Some(entry) = self.lookup(&id) {
            return entry;
        }
        let entry = wrapped.unwrap_epoch_key(owner);
        self.remember(id, &entry);
        entry
    }

    /// What the cache holds for `wrapped` under `owner` (a hit is counted), or `None`
    /// on a miss: the caller may unwrap outside any lock (several keys at once on
    /// several cores) and [`Self::remember`] the outcome.
    pub fn cached(
        &mut self,
        wrapped: &WrappedKey,
        owner: &PrivateKey,
    ) -> CryptoResult<Option<CryptoResult<EpochKey>>> {
        Ok(self.lookup(&entry_id(wrapped, owner)?))
    }

    /// Keeps the outcome of unwrapping `wrapped` with `owner` (counted as one unwrap),
    /// as [`Self::epoch_key`] does on a miss.
    pub fn remember_unwrapped(
        &mut self,
        wrapped: &WrappedKey,
        owner: &PrivateKey,
        entry: &CryptoResult<EpochKey>,
    ) -> CryptoResult<()> {
        let id = entry_id(wrapped, owner)?;
        self.remember(id, entry);
        Ok(())
    }

    fn lookup(&mut self, id: &[u8; 32]) -> Option<CryptoResult<EpochKey>> {
        let entry = self.entries.get(id)?.clone();
        self.stats.hits += 1;
        Some(entry)
    }

    /// Counts an unwrap and keeps its outcome, except a failure to draw randomness (not
    /// a property of the wrapped key: the next read tries again).
    fn remember(&mut self, id: [u8; 32], entry: &CryptoResult<EpochKey>) {
        self.stats.unwraps += 1;
        if matches!(entry, Err(CryptoError::RandomnessUnavailable)) {
            return;
        }
        while self.entries.len() >= self.capacity {
            match self.insertion_order.pop_front() {
                Some(oldest) => {
                    self.entries.remove(&oldest);
                }
                None => break,
            }
        }
        if self.entries.insert(id, entry.clone()).is_none() {
            self.insertion_order.push_back(id);
        }
    }

    /// Usage counters.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    /// Number of cached keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops (and zeroizes) every cached key; counters are kept.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.insertion_order.clear();
    }
}

/// The cache's key of `wrapped` under `owner`: the SHA-256 of the private key's public
/// fingerprint and the wrapped key's encoding.
fn entry_id(wrapped: &WrappedKey, owner: &PrivateKey) -> CryptoResult<[u8; 32]> {
    let fingerprint = crate::keys::rsa_fingerprint_bytes(owner.as_public_key())
        .map_err(|_| CryptoError::PublicKeyEncoding)?;
    let mut hasher = Sha256::new();
    hasher.update(fingerprint);
    hasher.update(wrapped.to_bytes()?);
    Ok(hasher.finalize().into())
}

impl Default for EpochKeyCache {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for EpochKeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EpochKeyCache")
            .field("cached_keys", &self.entries.len())
            .field("capacity", &self.capacity)
            .field("stats", &self.stats)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_keys::{grantee, owner};

    fn stats(hits: u64, unwraps: u64) -> CacheStats {
        CacheStats { hits, unwraps }
    }

    fn wrapped_for_owner(key: &EpochKey) -> CryptoResult<WrappedKey> {
        WrappedKey::wrap_epoch_key(key, owner().as_public_key())
    }

    #[test]
    fn second_lookup_is_a_hit_without_rsa() -> CryptoResult<()> {
        let key = EpochKey::generate()?;
        let wrapped = wrapped_for_owner(&key)?;
        let mut cache = EpochKeyCache::new();
        for _ in 0..3 {
            assert_eq!(
                cache.epoch_key(&wrapped, owner())?.as_bytes(),
                key.as_bytes()
            );
        }
        assert_eq!(cache.stats(), stats(2, 1));
        assert_eq!(cache.len(), 1);
        Ok(())
    }

    /// The lookup-then-remember path (a read unwrapping several epochs on several
    /// cores) keeps the same entries and counts as `epoch_key`.
    #[test]
    fn an_unwrap_done_outside_is_remembered_once() -> CryptoResult<()> {
        let key = EpochKey::generate()?;
        let wrapped = wrapped_for_owner(&key)?;
        let mut cache = EpochKeyCache::new();
        assert!(cache.cached(&wrapped, owner())?.is_none());
        let unwrapped = wrapped.unwrap_epoch_key(owner());
        cache.remember_unwrapped(&wrapped, owner(), &unwrapped)?;
        let hit = cache.cached(&wrapped, owner())?.expect("remembered")?;
        assert_eq!(hit.as_bytes(), key.as_bytes());
        assert_eq!(
            cache.epoch_key(&wrapped, owner())?.as_bytes(),
            key.as_bytes()
        );
        assert!(cache.cached(&wrapped, grantee())?.is_none());
        assert_eq!(cache.stats(), stats(2, 1));
        assert_eq!(cache.len(), 1);
        Ok(())
    }

    #[test]
    fn cached_key_is_not_released_to_the_wrong_private_key() -> CryptoResult<()> {
        let wrapped = wrapped_for_owner(&EpochKey::generate()?)?;
        let mut cache = EpochKeyCache::new();
        cache.epoch_key(&wrapped, owner())?;
        assert_eq!(
            cache.epoch_key(&wrapped, grantee()).err(),
            Some(CryptoError::WrongKey)
        );
        // The trial under the other key is its own RSA decryption, not a cache hit.
        assert_eq!(cache.stats(), stats(0, 2));
        Ok(())
    }

    #[test]
    fn a_failed_trial_is_remembered_and_costs_one_rsa_decryption() -> CryptoResult<()> {
        let mut wrapped = wrapped_for_owner(&EpochKey::generate()?)?;
        if let Some(byte) = wrapped.ciphertext.first_mut() {
            *byte ^= 0x80;
        }
        let mut cache = EpochKeyCache::new();
        for _ in 0..3 {
            assert_eq!(
                cache.epoch_key(&wrapped, owner()).err(),
                Some(CryptoError::WrongKey)
            );
        }
        assert_eq!(cache.stats(), stats(2, 1));
        Ok(())
    }

    #[test]
    fn capacity_evicts_the_oldest_key() -> CryptoResult<()> {
        let first = wrapped_for_owner(&EpochKey::generate()?)?;
        let second = wrapped_for_owner(&EpochKey::generate()?)?;
        let mut cache = EpochKeyCache::with_capacity(1);
        cache.epoch_key(&first, owner())?;
        cache.epoch_key(&second, owner())?;
        assert_eq!(cache.len(), 1);
        cache.epoch_key(&second, owner())?;
        cache.epoch_key(&first, owner())?;
        assert_eq!(cache.stats(), stats(1, 3));
        cache.clear();
        assert!(cache.is_empty());
        Ok(())
    }

    #[test]
    fn debug_shows_counts_not_keys() -> CryptoResult<()> {
        let key = EpochKey::from_bytes([0x77; 32]);
        let mut cache = EpochKeyCache::new();
        cache.epoch_key(&wrapped_for_owner(&key)?, owner())?;
        let debug = format!("{cache:?}");
        assert!(debug.contains("cached_keys: 1"));
        assert!(!debug.contains("119") && !debug.contains("7777"));
        Ok(())
    }
}
