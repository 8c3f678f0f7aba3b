//! An in-memory state tree for tests: a Jellyfish Merkle tree over hash maps, hashed as
//! the chain's state tree is, that writes a set of values and proves a key against its
//! root.

use std::cell::RefCell;
use std::collections::HashMap;

use jmt::storage::{LeafNode, Node, NodeBatch, NodeKey, TreeReader, TreeWriter};
use jmt::{JellyfishMerkleTree, KeyHash, OwnedValue, Version};

use super::state_proof::{StateHasher, StateProof};

/// Every version of one key's value, oldest first.
type ValueHistory = Vec<(Version, Option<OwnedValue>)>;

/// An in-memory tree store over hash maps.
#[derive(Default)]
pub(crate) struct MemoryTree {
    nodes: RefCell<HashMap<NodeKey, Node>>,
    values: RefCell<HashMap<KeyHash, ValueHistory>>,
}

impl MemoryTree {
    /// Writes `values` as version 0 of the tree and returns its root.
    pub(crate) fn put(
        &self,
        values: impl IntoIterator<Item = (KeyHash, Option<OwnedValue>)>,
    ) -> [u8; 32] {
        let tree: JellyfishMerkleTree<'_, Self, StateHasher> = JellyfishMerkleTree::new(self);
        let (root, batch) = tree
            .put_value_set(values, 0)
            .unwrap_or_else(|e| panic!("{e}"));
        self.write_node_batch(&batch.node_batch)
            .unwrap_or_else(|e| panic!("{e}"));
        root.0
    }

    /// The value under `key` in version 0 (or `None`) with its proof.
    pub(crate) fn prove(&self, key: KeyHash) -> (Option<OwnedValue>, StateProof) {
        let tree: JellyfishMerkleTree<'_, Self, StateHasher> = JellyfishMerkleTree::new(self);
        tree.get_with_proof(key, 0)
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

impl TreeReader for MemoryTree {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(self.nodes.borrow().get(node_key).cloned())
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(self.values.borrow().get(&key_hash).and_then(|history| {
            history
                .iter()
                .rev()
                .find(|(v, _)| *v <= max_version)
                .and_then(|(_, x)| x.clone())
        }))
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        let nodes = self.nodes.borrow();
        let leaves = nodes.iter().filter_map(|(key, node)| match node {
            Node::Leaf(leaf) => Some((key.clone(), leaf.clone())),
            _ => None,
        });
        Ok(leaves.max_by_key(|(_, leaf)| leaf.key_hash()))
    }
}

impl TreeWriter for MemoryTree {
    fn write_node_batch(&self, batch: &NodeBatch) -> anyhow::Result<()> {
        let mut nodes = self.nodes.borrow_mut();
        for (key, node) in batch.nodes() {
            nodes.insert(key.clone(), node.clone());
        }
        let mut values = self.values.borrow_mut();
        for ((version, key_hash), value) in batch.values() {
            values
                .entry(*key_hash)
                .or_default()
                .push((*version, value.clone()));
        }
        Ok(())
    }
}
