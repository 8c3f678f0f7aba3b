//! Reading the state through pending writes: the committed Jellyfish Merkle tree at the
//! last block, a block's overlay of writes on top, and a transaction's scratch layer on
//! top of that (dropped when the transaction fails, merged when it succeeds).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use carchain_core::protocol::Canonical;
use jmt::KeyHash;
use jmt::storage::TreeReader;

use super::error::TxError;
use crate::db::LedgerDb;

/// Pending writes: `None` deletes the key.
pub type Writes = BTreeMap<KeyHash, Option<Vec<u8>>>;

/// Read access to state values by tree key.
pub trait StateRead {
    /// The canonical bytes under `key`, `None` when absent.
    fn read(&self, key: KeyHash) -> Result<Option<Vec<u8>>, TxError>;
}

/// The committed tree at `version` (`None`: before genesis, everything is absent).
pub struct Committed<'db> {
    /// The ledger file.
    pub db: &'db LedgerDb,
    /// The committed height to read at.
    pub version: Option<u64>,
}

impl StateRead for Committed<'_> {
    fn read(&self, key: KeyHash) -> Result<Option<Vec<u8>>, TxError> {
        let Some(version) = self.version else {
            return Ok(None);
        };
        let view = self.db.tree_view().map_err(TxError::storage)?;
        view.get_value_option(version, key)
            .map_err(TxError::storage)
    }
}

/// The committed tree at `version` read through one open snapshot, so that a
/// transaction's several reads share one read transaction instead of opening one each.
pub struct Snapshot<'v, 'db> {
    /// The open read snapshot of the ledger file.
    pub view: &'v crate::db::TreeView<'db>,
    /// The committed height to read at (`None`: before genesis, everything is absent).
    pub version: Option<u64>,
}

impl StateRead for Snapshot<'_, '_> {
    fn read(&self, key: KeyHash) -> Result<Option<Vec<u8>>, TxError> {
        let Some(version) = self.version else {
            return Ok(None);
        };
        self.view
            .get_value_option(version, key)
            .map_err(TxError::storage)
    }
}

/// Writes layered over a parent view.
pub struct Layer<'p> {
    parent: &'p dyn StateRead,
    writes: Writes,
}

impl<'p> Layer<'p> {
    /// An empty layer over `parent`.
    pub fn new(parent: &'p dyn StateRead) -> Self {
        Self {
            parent,
            writes: Writes::new(),
        }
    }

    /// Sets `key` to `value`.
    pub fn put(&mut self, key: KeyHash, value: Vec<u8>) {
        self.writes.insert(key, Some(value));
    }

    /// Removes `key`.
    pub fn delete(&mut self, key: KeyHash) {
        self.writes.insert(key, None);
    }

    /// Sets `key` to the canonical bytes of `value`.
    pub fn put_value<T: Canonical>(&mut self, key: KeyHash, value: &T) {
        self.put(key, value.to_canonical());
    }

    /// The value under `key` decoded, `None` when absent.
    pub fn get<T: Canonical>(&self, key: KeyHash) -> Result<Option<T>, TxError> {
        self.read(key)?
            .map(|bytes| T::from_canonical(&bytes).map_err(TxError::storage))
            .transpose()
    }

    /// The layer's writes, to merge into the layer below.
    pub fn into_writes(self) -> Writes {
        self.writes
    }
}

impl StateRead for Layer<'_> {
    fn read(&self, key: KeyHash) -> Result<Option<Vec<u8>>, TxError> {
        let overlay = Overlay {
            base: self.parent,
            writes: &self.writes,
        };
        overlay.read(key)
    }
}

/// A block's writes over the committed state: reads see the block's writes first.
pub struct Overlay<'a> {
    /// The committed state below.
    pub base: &'a dyn StateRead,
    /// The block's writes so far.
    pub writes: &'a Writes,
}

impl StateRead for Overlay<'_> {
    fn read(&self, key: KeyHash) -> Result<Option<Vec<u8>>, TxError> {
        match self.writes.get(&key) {
            Some(value) => Ok(value.clone()),
            None => self.base.read(key),
        }
    }
}

/// Reads of a state that does not change while this lives, remembered: a batch of
/// admission checks reads the same accounts and reserves once instead of once each.
pub struct ReadCache<'a> {
    base: &'a dyn StateRead,
    seen: RefCell<HashMap<KeyHash, Option<Vec<u8>>>>,
}

impl<'a> ReadCache<'a> {
    /// An empty cache over `base`.
    pub fn new(base: &'a dyn StateRead) -> Self {
        Self {
            base,
            seen: RefCell::new(HashMap::new()),
        }
    }
}

impl StateRead for ReadCache<'_> {
    fn read(&self, key: KeyHash) -> Result<Option<Vec<u8>>, TxError> {
        if let Some(value) = self.seen.borrow().get(&key) {
            return Ok(value.clone());
        }
        let value = self.base.read(key)?;
        self.seen.borrow_mut().insert(key, value.clone());
        Ok(value)
    }
}
