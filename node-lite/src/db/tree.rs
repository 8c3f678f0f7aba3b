//! The Jellyfish Merkle state tree's storage: node encoding, writing a
//! [`TreeUpdateBatch`] inside a block's transaction, and [`TreeView`], a read snapshot of
//! the ledger file implementing jmt's [`TreeReader`].

use jmt::storage::{LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{KeyHash, OwnedValue, Version};
use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, params};

use super::error::{DbError, to_sql_int};
use super::pool::PooledReader;

/// Encodes a node key (version + nibble path) for the `jmt_nodes` primary key.
pub(crate) fn encode_node_key(node_key: &NodeKey) -> Result<Vec<u8>, DbError> {
    Ok(borsh::to_vec(node_key)?)
}

fn decode_node_key(bytes: &[u8]) -> Result<NodeKey, DbError> {
    Ok(borsh::from_slice(bytes)?)
}

fn encode_node(node: &Node) -> Result<Vec<u8>, DbError> {
    Ok(borsh::to_vec(node)?)
}

fn decode_node(bytes: &[u8]) -> Result<Node, DbError> {
    Ok(borsh::from_slice(bytes)?)
}

/// Checks that every node, value and stale index of `batch` belongs to version `height`.
pub(crate) fn check_batch_version(batch: &TreeUpdateBatch, height: u64) -> Result<(), DbError> {
    let node_versions = batch.node_batch.nodes().keys().map(NodeKey::version);
    let value_versions = batch
        .node_batch
        .values()
        .keys()
        .map(|(version, _)| *version);
    let stale_versions = batch
        .stale_node_index_batch
        .iter()
        .map(|stale| stale.stale_since_version);
    match node_versions
        .chain(value_versions)
        .chain(stale_versions)
        .find(|version| *version != height)
    {
        Some(version) => Err(DbError::TreeVersionMismatch { height, version }),
        None => Ok(()),
    }
}

/// Writes a tree batch inside the caller's transaction.
pub(crate) fn write_batch(tx: &Connection, batch: &TreeUpdateBatch) -> Result<(), DbError> {
    let mut insert_node = tx.prepare_cached(
        "INSERT INTO jmt_nodes (node_key, version, leaf_key_hash, node) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (node_key, node) in batch.node_batch.nodes() {
        let leaf_key_hash = match node {
            Node::Leaf(leaf) => Some(leaf.key_hash().0.to_vec()),
            _ => None,
        };
        insert_node.execute(params![
            encode_node_key(node_key)?,
            to_sql_int("version", node_key.version())?,
            leaf_key_hash,
            encode_node(node)?,
        ])?;
    }
    let mut insert_value =
        tx.prepare_cached("INSERT INTO jmt_values (key_hash, version, value) VALUES (?1, ?2, ?3)")?;
    for ((version, key_hash), value) in batch.node_batch.values() {
        insert_value.execute(params![
            key_hash.0.as_slice(),
            to_sql_int("version", *version)?,
            value.as_deref(),
        ])?;
    }
    write_stale(tx, batch)
}

/// Records the nodes `batch` retires, for pruning: one row per block (every entry of a
/// batch is retired at its block's version, see [`check_batch_version`]), the node keys
/// sorted and each once, instead of a row per node.
fn write_stale(tx: &Connection, batch: &TreeUpdateBatch) -> Result<(), DbError> {
    let Some(first) = batch.stale_node_index_batch.iter().next() else {
        return Ok(());
    };
    let retired: BTreeSet<&NodeKey> = batch
        .stale_node_index_batch
        .iter()
        .map(|stale| &stale.node_key)
        .collect();
    let node_keys: Vec<&NodeKey> = retired.into_iter().collect();
    tx.prepare_cached("INSERT INTO jmt_stale_by_block (stale_since, node_keys) VALUES (?1, ?2)")?
        .execute(params![
            to_sql_int("version", first.stale_since_version)?,
            borsh::to_vec(&node_keys)?,
        ])?;
    Ok(())
}

/// A consistent read snapshot of the state tree, for `jmt::JellyfishMerkleTree::new`.
///
/// It holds one of the pool's read connections inside a read transaction, so every node
/// it returns comes from the same committed state; drop it soon (it keeps the WAL from
/// being checkpointed past its snapshot).
pub struct TreeView<'db> {
    connection: PooledReader<'db>,
}

impl std::fmt::Debug for TreeView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeView").finish_non_exhaustive()
    }
}

impl<'db> TreeView<'db> {
    /// Opens a read transaction on `connection`.
    pub(crate) fn begin(connection: PooledReader<'db>) -> Result<Self, DbError> {
        connection.execute_batch("BEGIN DEFERRED")?;
        // Reading pins the snapshot now rather than at the view's first tree read.
        connection.query_row("SELECT count(*) FROM meta", [], |_| Ok(()))?;
        Ok(Self { connection })
    }

    fn node(&self, node_key: &NodeKey) -> Result<Option<Node>, DbError> {
        let bytes: Option<Vec<u8>> = self
            .connection
            .prepare_cached("SELECT node FROM jmt_nodes WHERE node_key = ?1")?
            .query_row([encode_node_key(node_key)?], |row| row.get(0))
            .optional()?;
        bytes.as_deref().map(decode_node).transpose()
    }

    fn value(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> Result<Option<OwnedValue>, DbError> {
        let value: Option<Option<Vec<u8>>> = self
            .connection
            .prepare_cached(
                "SELECT value FROM jmt_values WHERE key_hash = ?1 AND version <= ?2
                 ORDER BY version DESC LIMIT 1",
            )?
            .query_row(
                params![key_hash.0.as_slice(), to_sql_int("version", max_version)?],
                |row| row.get(0),
            )
            .optional()?;
        Ok(value.flatten())
    }

    fn rightmost_leaf(&self) -> Result<Option<(NodeKey, LeafNode)>, DbError> {
        let row: Option<(Vec<u8>, Vec<u8>)> = self
            .connection
            .prepare_cached(
                "SELECT node_key, node FROM jmt_nodes WHERE leaf_key_hash IS NOT NULL
                 ORDER BY leaf_key_hash DESC, version DESC LIMIT 1",
            )?
            .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        let Some((key_bytes, node_bytes)) = row else {
            return Ok(None);
        };
        match decode_node(&node_bytes)? {
            Node::Leaf(leaf) => Ok(Some((decode_node_key(&key_bytes)?, leaf))),
            _ => Err(DbError::Corrupt {
                table: "jmt_nodes",
                problem: "a row with a leaf key hash holds a non-leaf node",
            }),
        }
    }
}

impl Drop for TreeView<'_> {
    fn drop(&mut self) {
        // Ends the read transaction; the connection goes back to the pool.
        if let Err(err) = self.connection.execute_batch("ROLLBACK") {
            tracing::warn!(%err, "ending a tree read transaction failed");
        }
    }
}

impl TreeReader for TreeView<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(self.node(node_key)?)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(self.value(max_version, key_hash)?)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        Ok(self.rightmost_leaf()?)
    }
}
