//! The ledger file's tables. Heights are block heights and double as Jellyfish Merkle
//! tree versions.

/// Idempotent creation of every table of the ledger file.
///
/// `jmt_nodes.leaf_key_hash` is kept but not indexed: only a state restore asks for the
/// rightmost leaf (a scan), while an index on a random hash costs every block one random
/// page write per new leaf.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS blocks (
    height INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    header BLOB NOT NULL,
    signature BLOB NOT NULL,
    time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS txs (
    id BLOB PRIMARY KEY,
    height INTEGER NOT NULL REFERENCES blocks (height),
    idx INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    UNIQUE (height, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS jmt_nodes (
    node_key BLOB PRIMARY KEY,
    version INTEGER NOT NULL,
    leaf_key_hash BLOB,
    node BLOB NOT NULL
) WITHOUT ROWID;
DROP INDEX IF EXISTS jmt_nodes_by_leaf_key;
CREATE TABLE IF NOT EXISTS jmt_values (
    key_hash BLOB NOT NULL,
    version INTEGER NOT NULL,
    value BLOB,
    PRIMARY KEY (key_hash, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS jmt_stale_nodes (
    stale_since INTEGER NOT NULL,
    node_key BLOB NOT NULL,
    PRIMARY KEY (stale_since, node_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
";
