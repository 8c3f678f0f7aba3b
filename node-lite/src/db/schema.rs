//! The ledger file's tables. Heights are block heights and double as Jellyfish Merkle
//! tree versions.

/// Idempotent creation of every table of the ledger file.
///
/// `jmt_nodes.leaf_key_hash` is kept but not indexed: only a state restore asks for the
/// rightmost leaf (a scan), while an index on a random hash costs every block one random
/// page write per new leaf.
///
/// Block writes append: `txs` is clustered on `(height, idx)` and `jmt_values` on
/// `(version, key_hash)`, so a block's rows fill the last pages instead of dirtying a
/// random page per row (each dirty 8 KiB page is WAL bytes and sync time in the block's
/// commit). Lookups by transaction id and by state key go through small secondary
/// indexes. (Files created before this layout keep theirs: the queries work on both.)
///
/// `jmt_stale_by_block` lists, per block, the tree nodes it retired (borsh-encoded
/// sorted node keys), for pruning old versions: one row per block rather than one per
/// node. (Files from before keep their unused `jmt_stale_nodes` rows.)
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS blocks (
    height INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    header BLOB NOT NULL,
    signature BLOB NOT NULL,
    time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS txs (
    height INTEGER NOT NULL REFERENCES blocks (height),
    idx INTEGER NOT NULL,
    id BLOB NOT NULL UNIQUE,
    bytes BLOB NOT NULL,
    PRIMARY KEY (height, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS jmt_nodes (
    node_key BLOB PRIMARY KEY,
    version INTEGER NOT NULL,
    leaf_key_hash BLOB,
    node BLOB NOT NULL
) WITHOUT ROWID;
DROP INDEX IF EXISTS jmt_nodes_by_leaf_key;
CREATE TABLE IF NOT EXISTS jmt_values (
    version INTEGER NOT NULL,
    key_hash BLOB NOT NULL,
    value BLOB,
    PRIMARY KEY (version, key_hash)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS jmt_values_by_key ON jmt_values (key_hash, version);
CREATE TABLE IF NOT EXISTS jmt_stale_by_block (
    stale_since INTEGER PRIMARY KEY,
    node_keys BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
";
