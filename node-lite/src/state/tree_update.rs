//! A block's update of the Jellyfish Merkle state tree.
//!
//! Inserting a block's keys one by one rebuilds and rehashes the path from each new leaf
//! to the root: with thousands of record registrations per block, the top of the tree is
//! hashed thousands of times. When a block only sets values (the usual case: puts,
//! transfers, grants), its keys go in as one sorted batch instead, each touched node
//! built and hashed once. A block that deletes a key takes the key-by-key update, the
//! only one of the two that deletes. Both give the same tree (its shape depends only on
//! the keys it holds), hence the same root; the tests below check it.

use jmt::storage::{TreeReader, TreeUpdateBatch};
use jmt::{JellyfishMerkleTree, KeyHash, OwnedValue, RootHash, Version};

use carchain_core::protocol::StateHasher;

use super::layer::Writes;

/// Applies `writes` (a block's, at `version`, on top of the tree `reader` holds at
/// `version - 1`): the new root and the tree changes to store.
pub fn update_tree<R: TreeReader>(
    reader: &R,
    writes: Writes,
    version: Version,
) -> anyhow::Result<(RootHash, TreeUpdateBatch)> {
    let tree: JellyfishMerkleTree<'_, R, StateHasher> = JellyfishMerkleTree::new(reader);
    let deletes = writes.values().any(Option::is_none);
    if deletes || writes.is_empty() {
        return tree.put_value_set(writes, version);
    }
    let values: Vec<(KeyHash, OwnedValue)> = writes
        .into_iter()
        .filter_map(|(key, value)| value.map(|value| (key, value)))
        .collect();
    let (roots, batch) = tree.batch_put_value_sets(vec![values], None, version)?;
    let root = roots
        .first()
        .copied()
        .ok_or_else(|| anyhow::anyhow!("the batch update gave no root"))?;
    Ok((root, batch))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use jmt::storage::{LeafNode, Node, NodeKey};
    use proptest::prelude::*;

    use super::*;

    /// The tree's nodes and values in memory, as the ledger file would hold them.
    #[derive(Default)]
    struct MemoryTree {
        nodes: HashMap<NodeKey, Node>,
        values: BTreeMap<(KeyHash, Version), Option<OwnedValue>>,
    }

    impl MemoryTree {
        fn store(&mut self, batch: TreeUpdateBatch) {
            self.nodes.extend(batch.node_batch.nodes().clone());
            for ((version, key), value) in batch.node_batch.values() {
                self.values.insert((*key, *version), value.clone());
            }
        }
    }

    impl TreeReader for MemoryTree {
        fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
            Ok(self.nodes.get(node_key).cloned())
        }

        fn get_value_option(
            &self,
            max_version: Version,
            key_hash: KeyHash,
        ) -> anyhow::Result<Option<OwnedValue>> {
            Ok(self
                .values
                .range((key_hash, 0)..=(key_hash, max_version))
                .next_back()
                .and_then(|(_, value)| value.clone()))
        }

        fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
            Ok(None)
        }
    }

    /// The key-by-key update, for comparison.
    fn one_by_one(
        reader: &MemoryTree,
        writes: Writes,
        version: Version,
    ) -> anyhow::Result<(RootHash, TreeUpdateBatch)> {
        JellyfishMerkleTree::<'_, _, StateHasher>::new(reader).put_value_set(writes, version)
    }

    fn key(byte: u8) -> KeyHash {
        // Spread keys over the tree, sharing prefixes now and then.
        KeyHash(carchain_core::protocol::hashing::sha256(&[&[byte % 64]]))
    }

    /// A block: keys (from a small set, so that blocks overwrite each other) set to a
    /// value, or deleted.
    fn block() -> impl Strategy<Value = Vec<(u8, Option<u8>)>> {
        proptest::collection::vec(
            (any::<u8>(), proptest::option::weighted(0.9, any::<u8>())),
            1..40,
        )
    }

    fn writes_of(block: &[(u8, Option<u8>)]) -> Writes {
        block
            .iter()
            .map(|(k, v)| (key(*k), v.map(|v| vec![v; 3])))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn batch_and_key_by_key_updates_give_the_same_tree(
            blocks in proptest::collection::vec(block(), 1..8)
        ) {
            let mut batched = MemoryTree::default();
            let mut single = MemoryTree::default();
            for (at, block) in blocks.iter().enumerate() {
                let version = at as Version;
                let writes = writes_of(block);
                let (root, batch) = update_tree(&batched, writes.clone(), version)
                    .unwrap_or_else(|err| panic!("batch update: {err}"));
                let (expected, single_batch) = one_by_one(&single, writes.clone(), version)
                    .unwrap_or_else(|err| panic!("key-by-key update: {err}"));
                prop_assert_eq!(root, expected);
                batched.store(batch);
                single.store(single_batch);
                // Every key reads back the same, with a proof against the root.
                let tree = JellyfishMerkleTree::<'_, _, StateHasher>::new(&batched);
                for byte in 0..64u8 {
                    let (value, proof) = tree
                        .get_with_proof(key(byte), version)
                        .unwrap_or_else(|err| panic!("proof: {err}"));
                    prop_assert_eq!(&value, &single.get_value_option(version, key(byte)).ok().flatten());
                    prop_assert!(proof.verify(root, key(byte), value.as_deref()).is_ok());
                }
            }
        }
    }

    #[test]
    fn a_block_that_only_sets_values_takes_the_batch_update() {
        let tree = MemoryTree::default();
        let writes: Writes = (0..10u8).map(|b| (key(b), Some(vec![b]))).collect();
        let (root, batch) = update_tree(&tree, writes.clone(), 0)
            .unwrap_or_else(|err| panic!("batch update: {err}"));
        let (expected, single) =
            one_by_one(&tree, writes, 0).unwrap_or_else(|err| panic!("key-by-key: {err}"));
        assert_eq!(root, expected);
        assert_eq!(batch.node_batch.values(), single.node_batch.values());
        assert_eq!(
            batch.node_batch.nodes().len(),
            single.node_batch.nodes().len()
        );
    }
}
