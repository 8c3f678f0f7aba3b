//! Reading the state tree through blocks that are built but not yet (or only just)
//! written: [`PendingBlocks`] keeps each such block's tree changes in memory, and
//! [`PendingView`] reads them first and the ledger file's snapshot below them, so the
//! next block can be built while the previous one is being written to disk.
//!
//! Tree nodes are keyed by version and never change once written, so a node found in a
//! pending batch is exactly the node the ledger file holds (or will hold) under that key.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use jmt::storage::{LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{KeyHash, OwnedValue, Version};

use super::error::TxError;
use super::layer::StateRead;
use crate::db::TreeView;

/// Committed blocks whose tree changes stay in memory as a cache: the next blocks'
/// inserts mostly rewrite nodes these wrote, which are then not read back from SQLite.
pub const CACHED_COMMITTED_BLOCKS: usize = 8;

/// Tree changes of recent blocks, oldest first: those built and not yet committed, and
/// the latest `CACHED_COMMITTED_BLOCKS` (8) committed ones as a cache of tree nodes.
///
/// Values are found through an index from each state key to the held blocks that wrote
/// it, so that reading a key costs one hash look-up however many blocks are held.
///
/// Keys the ledger file was found without are remembered with the version they were
/// read at: a record put's key is looked up when the put is admitted and again when its
/// block is built, and the second look-up needs no SQLite read when every block since the
/// first is held (a block that wrote the key would be in the index).
#[derive(Debug, Default)]
pub struct PendingBlocks {
    blocks: VecDeque<(Version, Arc<TreeUpdateBatch>)>,
    /// Per state key, the versions of the held blocks that wrote it, oldest first.
    written: HashMap<KeyHash, Vec<Version>>,
    /// Keys absent at the version they were read at (from the ledger file and every held
    /// block up to it). Readers share the blocks, hence the lock.
    absent: Mutex<HashMap<KeyHash, Version>>,
}

impl PendingBlocks {
    /// Adds the changes of block `version`, built on top of every block held.
    pub fn push(&mut self, version: Version, batch: Arc<TreeUpdateBatch>) {
        for (_, key) in batch.node_batch.values().keys() {
            self.written.entry(*key).or_default().push(version);
        }
        self.blocks.push_back((version, batch));
    }

    /// Forgets committed blocks beyond the newest `CACHED_COMMITTED_BLOCKS` at or
    /// below `committed`.
    pub fn committed(&mut self, committed: Version) {
        let kept_from = committed.saturating_sub(CACHED_COMMITTED_BLOCKS as Version - 1);
        while self
            .blocks
            .front()
            .is_some_and(|(version, _)| *version < kept_from)
        {
            if let Some((version, batch)) = self.blocks.pop_front() {
                self.unindex(version, &batch);
            }
        }
        // An absence read before the oldest held block can no longer be relied on.
        if let Some(first) = self.first_held() {
            self.absent_mut()
                .retain(|_, version| version.saturating_add(1) >= first);
        }
    }

    /// Forgets blocks above `committed` (built on a block that failed to commit).
    pub fn drop_above(&mut self, committed: Option<Version>) {
        let kept = |version: Version| committed.is_some_and(|c| version <= c);
        while self
            .blocks
            .back()
            .is_some_and(|(version, _)| !kept(*version))
        {
            if let Some((version, batch)) = self.blocks.pop_back() {
                self.unindex(version, &batch);
                // Absences were read through the dropped blocks, which will be built
                // again differently.
                self.absent_mut().clear();
            }
        }
    }

    fn first_held(&self) -> Option<Version> {
        self.blocks.front().map(|(version, _)| *version)
    }

    fn absent_mut(&self) -> std::sync::MutexGuard<'_, HashMap<KeyHash, Version>> {
        self.absent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Remembers that `key` is absent at `version` (neither the ledger file nor a held
    /// block up to `version` has it).
    fn remember_absent(&self, key: KeyHash, version: Version) {
        let mut absent = self.absent_mut();
        let known = absent.entry(key).or_insert(version);
        *known = (*known).max(version);
    }

    /// Whether `key` is known absent at `max_version`, given that no held block up to
    /// `max_version` wrote it: it was absent at some version `v <= max_version` and every
    /// block after `v` is held.
    fn known_absent(&self, max_version: Version, key: KeyHash) -> bool {
        let Some(read_at) = self.absent_mut().get(&key).copied() else {
            return false;
        };
        read_at == max_version
            || (read_at < max_version
                && self
                    .first_held()
                    .is_some_and(|first| read_at.saturating_add(1) >= first))
    }

    /// Removes block `version`'s keys from the index.
    fn unindex(&mut self, version: Version, batch: &TreeUpdateBatch) {
        for (_, key) in batch.node_batch.values().keys() {
            if let Some(versions) = self.written.get_mut(key) {
                versions.retain(|written| *written != version);
                if versions.is_empty() {
                    self.written.remove(key);
                }
            }
        }
    }

    /// The newest value of `key` written by a held block at or below `max_version`:
    /// `None` when no such block wrote it (then the ledger file has it, if anyone).
    fn value(&self, max_version: Version, key: KeyHash) -> Option<Option<OwnedValue>> {
        let version = *self
            .written
            .get(&key)?
            .iter()
            .rev()
            .find(|version| **version <= max_version)?;
        // Held versions are consecutive, oldest first: the block is found by position
        // (or, were they not, by a search).
        let first = self.blocks.front()?.0;
        let by_position = usize::try_from(version.saturating_sub(first))
            .ok()
            .and_then(|at| self.blocks.get(at))
            .filter(|(held, _)| *held == version);
        let (_, batch) = match by_position {
            Some(block) => block,
            None => self.blocks.iter().find(|(held, _)| *held == version)?,
        };
        batch.node_batch.values().get(&(version, key)).cloned()
    }

    /// Number of blocks held.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// Whether no block is held.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }
}

/// The tree as of the newest pending block: pending changes first, then the snapshot.
pub struct PendingView<'a, 'db> {
    /// The ledger file's read snapshot.
    pub view: &'a TreeView<'db>,
    /// Blocks not (or only just) in the snapshot.
    pub pending: &'a PendingBlocks,
}

impl PendingView<'_, '_> {
    fn node(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        for (version, batch) in self.pending.blocks.iter().rev() {
            if *version == node_key.version()
                && let Some(node) = batch.node_batch.get_node(node_key)
            {
                return Ok(Some(node.clone()));
            }
        }
        self.view.get_node_option(node_key)
    }

    fn value(&self, max_version: Version, key: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        if let Some(value) = self.pending.value(max_version, key) {
            return Ok(value);
        }
        if self.pending.known_absent(max_version, key) {
            return Ok(None);
        }
        let value = self.view.get_value_option(max_version, key)?;
        if value.is_none() {
            self.pending.remember_absent(key, max_version);
        }
        Ok(value)
    }
}

impl TreeReader for PendingView<'_, '_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        self.node(node_key)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        self.value(max_version, key_hash)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only a state restore asks, never while blocks are pending.
        self.view.get_rightmost_leaf()
    }
}

/// The state at `version` (`None`: before genesis, everything absent) read through a
/// [`PendingView`].
pub struct PendingState<'a, 'db> {
    /// The tree with its pending blocks.
    pub tree: PendingView<'a, 'db>,
    /// The height to read at.
    pub version: Option<Version>,
}

impl<'a, 'db> PendingState<'a, 'db> {
    /// The state at `version` of the tree in `view` with the `pending` blocks on top.
    pub fn new(
        view: &'a TreeView<'db>,
        pending: &'a PendingBlocks,
        version: Option<Version>,
    ) -> Self {
        PendingState {
            tree: PendingView { view, pending },
            version,
        }
    }
}

impl StateRead for PendingState<'_, '_> {
    fn read(&self, key: KeyHash) -> Result<Option<Vec<u8>>, TxError> {
        let Some(version) = self.version else {
            return Ok(None);
        };
        self.tree.value(version, key).map_err(TxError::storage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(pending: &PendingBlocks) -> Vec<Version> {
        pending.blocks.iter().map(|(version, _)| *version).collect()
    }

    fn batch_writing(version: Version, writes: &[(u8, Option<&[u8]>)]) -> Arc<TreeUpdateBatch> {
        let mut batch = TreeUpdateBatch::default();
        batch.node_batch.extend(
            [],
            writes
                .iter()
                .map(|(key, value)| ((version, KeyHash([*key; 32])), value.map(<[u8]>::to_vec))),
        );
        Arc::new(batch)
    }

    #[test]
    fn a_value_comes_from_the_newest_held_block_at_or_below_the_version_read() {
        let mut pending = PendingBlocks::default();
        pending.push(
            1,
            batch_writing(1, &[(7, Some(b"one")), (8, Some(b"eight"))]),
        );
        pending.push(2, batch_writing(2, &[(9, Some(b"nine"))]));
        pending.push(3, batch_writing(3, &[(7, None)]));
        let read =
            |pending: &PendingBlocks, version, key| pending.value(version, KeyHash([key; 32]));
        assert_eq!(read(&pending, 3, 7), Some(None), "deleted by block 3");
        assert_eq!(read(&pending, 2, 7), Some(Some(b"one".to_vec())));
        assert_eq!(read(&pending, 3, 8), Some(Some(b"eight".to_vec())));
        assert_eq!(read(&pending, 1, 9), None, "written after the version read");
        assert_eq!(
            read(&pending, 3, 6),
            None,
            "never written: the ledger file answers"
        );
        pending.drop_above(Some(2));
        assert_eq!(
            read(&pending, 3, 7),
            Some(Some(b"one".to_vec())),
            "block 3 dropped"
        );
        pending.push(3, batch_writing(3, &[(8, Some(b"again"))]));
        assert_eq!(read(&pending, 3, 8), Some(Some(b"again".to_vec())));
        // Committing far ahead forgets the old blocks and their index entries.
        pending.committed(3 + CACHED_COMMITTED_BLOCKS as Version);
        assert!(pending.is_empty());
        assert!(pending.written.is_empty());
        assert_eq!(read(&pending, 3, 8), None);
    }

    #[test]
    fn an_absence_holds_while_every_block_after_it_is_held() {
        let mut pending = PendingBlocks::default();
        for version in 0..4 {
            pending.push(version, batch_writing(version, &[(1, Some(b"other"))]));
        }
        let key = KeyHash([9; 32]);
        assert!(!pending.known_absent(3, key), "nothing remembered yet");
        pending.remember_absent(key, 2);
        assert!(pending.known_absent(2, key));
        assert!(
            pending.known_absent(3, key),
            "block 3 is held and did not write it"
        );
        assert!(
            !pending.known_absent(1, key),
            "absent at 2 says nothing about 1"
        );
        // Blocks 0..=2 leave the cache: block 3 is still held, the absence at 2 holds.
        pending.committed(2 + CACHED_COMMITTED_BLOCKS as Version);
        pending.push(4, batch_writing(4, &[(1, Some(b"again"))]));
        assert_eq!(pending.first_held(), Some(3));
        assert!(pending.known_absent(4, key), "blocks 3 and 4 are held");
        // Once a block after the absence is no longer held, the ledger file is asked again.
        pending.committed(4 + CACHED_COMMITTED_BLOCKS as Version);
        pending.push(5, batch_writing(5, &[(1, Some(b"later"))]));
        assert!(!pending.known_absent(5, key));
        // Dropping built blocks forgets every absence read through them.
        pending.remember_absent(key, 5);
        assert!(pending.known_absent(5, key));
        pending.drop_above(Some(4));
        assert!(!pending.known_absent(5, key));
    }

    #[test]
    fn keeps_the_newest_committed_blocks_and_every_built_one() {
        let mut pending = PendingBlocks::default();
        for version in 0..20 {
            pending.push(version, Arc::new(TreeUpdateBatch::default()));
        }
        pending.committed(15);
        let expected: Vec<Version> = (8..20).collect();
        assert_eq!(versions(&pending), expected);
        assert_eq!(pending.len(), CACHED_COMMITTED_BLOCKS + 4);
        pending.drop_above(Some(15));
        assert_eq!(versions(&pending), (8..16).collect::<Vec<_>>());
        pending.drop_above(None);
        assert!(pending.is_empty());
    }
}
