//! [`MemoryKv`]: an in-memory [`KvStore`] over ordered maps, for tests and caches.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::RwLock;

use super::validate::{check_address, check_batch, check_key, check_put, duplicate};
use super::{KvError, KvPut, KvStore, PutOutcome, RangePage, RangeScan};

/// Records of one data address, ordered by key bytes.
type Partition = BTreeMap<Vec<u8>, Vec<u8>>;

/// An in-memory key-value store: one ordered map per data address.
#[derive(Debug, Default)]
pub struct MemoryKv {
    partitions: RwLock<BTreeMap<String, Partition>>,
}

impl MemoryKv {
    /// Creates an empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

/// What a put would do to `partitions`, without doing it.
fn plan_put(
    partitions: &BTreeMap<String, Partition>,
    put: &KvPut<'_>,
) -> Result<PutOutcome, KvError> {
    match partitions.get(put.address).and_then(|p| p.get(put.key)) {
        None => Ok(PutOutcome::Stored),
        Some(existing) if existing.as_slice() == put.value => Ok(PutOutcome::AlreadyStored),
        Some(_) => Err(duplicate(put.address, put.key)),
    }
}

impl KvStore for MemoryKv {
    fn put(&self, address: &str, key: &[u8], value: &[u8]) -> Result<PutOutcome, KvError> {
        let put = check_put(address, key, value)?;
        let mut partitions = self.partitions.write().map_err(|_| KvError::Poisoned)?;
        let outcome = plan_put(&partitions, &put)?;
        if outcome == PutOutcome::Stored {
            partitions
                .entry(address.to_owned())
                .or_default()
                .insert(key.to_vec(), value.to_vec());
        }
        Ok(outcome)
    }

    fn put_batch(&self, puts: &[KvPut<'_>]) -> Result<Vec<PutOutcome>, KvError> {
        check_batch(puts)?;
        let mut partitions = self.partitions.write().map_err(|_| KvError::Poisoned)?;
        let outcomes = puts
            .iter()
            .map(|put| plan_put(&partitions, put))
            .collect::<Result<Vec<_>, _>>()?;
        for (put, outcome) in puts.iter().zip(&outcomes) {
            if *outcome == PutOutcome::Stored {
                partitions
                    .entry(put.address.to_owned())
                    .or_default()
                    .insert(put.key.to_vec(), put.value.to_vec());
            }
        }
        Ok(outcomes)
    }

    fn get(&self, address: &str, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        check_address(address)?;
        check_key(key)?;
        let partitions = self.partitions.read().map_err(|_| KvError::Poisoned)?;
        Ok(partitions.get(address).and_then(|p| p.get(key)).cloned())
    }

    fn scan(&self, scan: RangeScan<'_>) -> Result<RangePage, KvError> {
        let lower = if scan.lower_excluded {
            Bound::Excluded(scan.lower)
        } else {
            Bound::Included(scan.lower)
        };
        let partitions = self.partitions.read().map_err(|_| KvError::Poisoned)?;
        let Some(partition) = partitions.get(scan.address) else {
            return Ok(RangePage::default());
        };
        let rows = partition
            .range::<[u8], _>((lower, Bound::Included(scan.end_inclusive)))
            .take(
                usize::try_from(scan.limit)
                    .unwrap_or(usize::MAX)
                    .saturating_add(1),
            )
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(RangePage::from_rows(rows, scan.limit))
    }

    fn delete(&self, address: &str, key: &[u8]) -> Result<bool, KvError> {
        check_address(address)?;
        check_key(key)?;
        let mut partitions = self.partitions.write().map_err(|_| KvError::Poisoned)?;
        let Some(partition) = partitions.get_mut(address) else {
            return Ok(false);
        };
        let removed = partition.remove(key).is_some();
        if partition.is_empty() {
            partitions.remove(address);
        }
        Ok(removed)
    }

    fn health(&self) -> super::KvHealth {
        super::KvHealth::up("memory")
    }
}
