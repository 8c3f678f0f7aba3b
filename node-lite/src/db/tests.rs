//! Ledger database behaviour: atomic block commits, reads, and a Jellyfish Merkle state
//! tree that still proves its values after the file is reopened.

use jmt::storage::{TreeReader, TreeUpdateBatch};
use jmt::{JellyfishMerkleTree, KeyHash, RootHash, SimpleHasher};

use super::*;

/// The page size and journal mode of the SQLite file at `path`.
pub(crate) fn page_size_and_journal_mode(path: &std::path::Path) -> (u32, String) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let page_size: u32 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    (page_size, mode)
}

/// SHA-256 key hash with the tree's own hasher (jmt's `sha2`), as the node computes it.
fn key_hash_for<H: SimpleHasher>(
    _tree: &JellyfishMerkleTree<'_, TreeView<'_>, H>,
    key: &str,
) -> KeyHash {
    KeyHash::with::<H>(key.as_bytes())
}

/// Applies `changes` at version `height` to the tree stored in `db`.
fn tree_update(
    db: &LedgerDb,
    height: u64,
    changes: &[(&str, Option<&str>)],
) -> (RootHash, TreeUpdateBatch) {
    let view = db.tree_view().unwrap();
    let tree = jmt::Sha256Jmt::new(&view);
    let values: Vec<_> = changes
        .iter()
        .map(|(key, value)| {
            (
                key_hash_for(&tree, key),
                value.map(|v| v.as_bytes().to_vec()),
            )
        })
        .collect();
    tree.put_value_set(values, height).unwrap()
}

fn block(height: u64, txs: &[&str], tree_batch: TreeUpdateBatch) -> BlockWrite {
    BlockWrite {
        height,
        hash: format!("hash-{height}").into_bytes(),
        header: format!("header-{height}").into_bytes(),
        signature: vec![0x5a; 64],
        time: 1_700_000_000_000 + i64::try_from(height % 1_000_000).unwrap() * 5_000,
        txs: txs
            .iter()
            .map(|id| (id.as_bytes().to_vec(), format!("body of {id}").into_bytes()))
            .collect(),
        tree_batch: std::sync::Arc::new(tree_batch),
        meta: vec![("tip".to_owned(), height.to_be_bytes().to_vec())],
    }
}

/// A state change: key and new value (`None` deletes).
type Change<'a> = (&'a str, Option<&'a str>);

/// The three-block history of the tests and the state root after each block.
fn commit_three_blocks(db: &LedgerDb) -> Vec<RootHash> {
    let history: [(&[&str], &[Change<'_>]); 3] = [
        (
            &["tx-a", "tx-b"],
            &[
                ("alice", Some("100")),
                ("bob", Some("50")),
                ("carol", Some("7")),
            ],
        ),
        (&["tx-c"], &[("alice", Some("90")), ("dave", Some("10"))]),
        (
            &["tx-d", "tx-e", "tx-f"],
            &[("bob", None), ("carol", Some("8"))],
        ),
    ];
    let mut roots = Vec::new();
    for (height, (txs, changes)) in (0u64..).zip(history) {
        let (root, batch) = tree_update(db, height, changes);
        db.commit_block(&block(height, txs, batch)).unwrap();
        roots.push(root);
    }
    roots
}

/// Expected state after each of the three blocks.
fn expected_state(height: u64, key: &str) -> Option<&'static str> {
    match (height, key) {
        (0, "alice") => Some("100"),
        (1 | 2, "alice") => Some("90"),
        (0 | 1, "bob") => Some("50"),
        (0 | 1, "carol") => Some("7"),
        (2, "carol") => Some("8"),
        (1 | 2, "dave") => Some("10"),
        _ => None,
    }
}

fn open_temp() -> (tempfile::TempDir, std::path::PathBuf, LedgerDb) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    let db = LedgerDb::open(&path).unwrap();
    (dir, path, db)
}

#[test]
fn three_blocks_survive_reopening_with_roots_values_and_proofs() {
    let (_dir, path, db) = open_temp();
    let roots = commit_three_blocks(&db);
    assert_eq!(roots.len(), 3);
    assert_ne!(roots[0], roots[1]);
    assert_ne!(roots[1], roots[2]);
    drop(db);

    let db = LedgerDb::open(&path).unwrap();
    assert_eq!(db.latest_height().unwrap(), Some(2));
    let view = db.tree_view().unwrap();
    let tree = jmt::Sha256Jmt::new(&view);
    for (height, root) in (0u64..).zip(&roots) {
        assert_eq!(tree.get_root_hash(height).unwrap(), *root);
        for key in ["alice", "bob", "carol", "dave", "erin"] {
            let key_hash = key_hash_for(&tree, key);
            let (value, proof) = tree.get_with_proof(key_hash, height).unwrap();
            let expected = expected_state(height, key).map(|v| v.as_bytes().to_vec());
            assert_eq!(value, expected, "{key} at height {height}");
            proof.verify(*root, key_hash, value.as_ref()).unwrap();
            // The proof fails for another value, another root or a missing value.
            assert!(
                proof
                    .verify(*root, key_hash, Some(b"forged".as_slice()))
                    .is_err()
            );
            let other_root = roots[(usize::try_from(height).unwrap() + 1) % 3];
            if expected_state(height, key).is_some() {
                assert!(proof.verify(other_root, key_hash, value.as_ref()).is_err());
                assert!(proof.verify_nonexistence(*root, key_hash).is_err());
            }
        }
    }
    // The snapshot's values are the latest at or below each version.
    let bob = key_hash_for(&tree, "bob");
    assert_eq!(view.get_value_option(1, bob).unwrap(), Some(b"50".to_vec()));
    assert_eq!(view.get_value_option(2, bob).unwrap(), None);
    assert!(tree.get_root_hash_option(3).unwrap().is_none());
}

#[test]
fn a_fourth_block_builds_on_the_reopened_tree() {
    let (_dir, path, db) = open_temp();
    commit_three_blocks(&db);
    drop(db);
    let db = LedgerDb::open(&path).unwrap();
    let (root, batch) = tree_update(&db, 3, &[("erin", Some("1"))]);
    db.commit_block(&block(3, &["tx-g"], batch)).unwrap();
    let view = db.tree_view().unwrap();
    let tree = jmt::Sha256Jmt::new(&view);
    let erin = key_hash_for(&tree, "erin");
    let alice = key_hash_for(&tree, "alice");
    let (value, proof) = tree.get_with_proof(erin, 3).unwrap();
    assert_eq!(value, Some(b"1".to_vec()));
    proof.verify(root, erin, value.as_ref()).unwrap();
    let (value, proof) = tree.get_with_proof(alice, 3).unwrap();
    assert_eq!(value, Some(b"90".to_vec()));
    proof.verify(root, alice, value.as_ref()).unwrap();
}

#[test]
fn block_transaction_and_meta_reads() {
    let (_dir, _path, db) = open_temp();
    assert_eq!(db.latest_height().unwrap(), None);
    assert_eq!(db.block(0).unwrap(), None);
    assert_eq!(db.meta("tip").unwrap(), None);
    commit_three_blocks(&db);

    let first = db.block(1).unwrap().unwrap();
    assert_eq!(first.height, 1);
    assert_eq!(first.hash, b"hash-1");
    assert_eq!(first.header, b"header-1");
    assert_eq!(first.signature, vec![0x5a; 64]);
    assert_eq!(first.time, 1_700_000_005_000);
    assert_eq!(db.block_by_hash(b"hash-1").unwrap(), Some(first.clone()));
    assert_eq!(db.block_by_hash(b"hash-9").unwrap(), None);

    let heights = |blocks: Vec<StoredBlock>| blocks.iter().map(|b| b.height).collect::<Vec<_>>();
    assert_eq!(heights(db.blocks_from(0, 1000).unwrap()), vec![0, 1, 2]);
    assert_eq!(heights(db.blocks_from(1, 1).unwrap()), vec![1]);
    assert_eq!(heights(db.blocks_from(2, 5).unwrap()), vec![2]);
    assert_eq!(heights(db.blocks_from(3, 5).unwrap()), Vec::<u64>::new());
    assert_eq!(
        heights(db.blocks_from(u64::MAX, 5).unwrap()),
        Vec::<u64>::new()
    );

    let tx = db.tx(b"tx-e").unwrap().unwrap();
    assert_eq!(
        tx,
        StoredTx {
            id: b"tx-e".to_vec(),
            height: 2,
            index: 1,
            bytes: b"body of tx-e".to_vec()
        }
    );
    assert_eq!(db.tx(b"tx-z").unwrap(), None);
    let ids: Vec<_> = db
        .block_txs(2)
        .unwrap()
        .into_iter()
        .map(|t| (t.id, t.index))
        .collect();
    assert_eq!(
        ids,
        vec![
            (b"tx-d".to_vec(), 0),
            (b"tx-e".to_vec(), 1),
            (b"tx-f".to_vec(), 2)
        ]
    );
    // The latest block's metadata replaced the earlier values.
    assert_eq!(db.meta("tip").unwrap(), Some(2u64.to_be_bytes().to_vec()));
}

#[test]
fn blocks_from_limit_must_be_between_1_and_1000() {
    let (_dir, _path, db) = open_temp();
    for limit in [0, 1001] {
        let err = db.blocks_from(0, limit).unwrap_err();
        assert!(matches!(err, DbError::InvalidLimit { limit: l, max: 1000 } if l == limit));
    }
}

/// Asserts nothing of a failed block 3 is stored and that block 2 is the tip.
fn assert_block_3_absent(db: &LedgerDb) {
    assert_eq!(db.latest_height().unwrap(), Some(2));
    assert_eq!(db.block(3).unwrap(), None);
    assert_eq!(db.block_by_hash(b"hash-3").unwrap(), None);
    assert_eq!(db.tx(b"tx-new").unwrap(), None);
    assert_eq!(db.block_txs(3).unwrap(), Vec::new());
    assert_eq!(db.meta("tip").unwrap(), Some(2u64.to_be_bytes().to_vec()));
    let view = db.tree_view().unwrap();
    assert!(
        jmt::Sha256Jmt::new(&view)
            .get_root_hash_option(3)
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_block_failing_midway_leaves_nothing_of_it() {
    let (_dir, _path, db) = open_temp();
    commit_three_blocks(&db);
    let (root, batch) = tree_update(&db, 3, &[("erin", Some("1"))]);
    // The block row and its first transaction are written, then the second transaction
    // reuses the id of a transaction of block 1.
    let failing = block(3, &["tx-new", "tx-c"], batch.clone());
    let err = db.commit_block(&failing).unwrap_err();
    assert!(matches!(&err, DbError::DuplicateTx { id_hex } if id_hex == &hex::encode("tx-c")));
    assert_block_3_absent(&db);
    // A duplicate inside the same block is refused the same way.
    let err = db
        .commit_block(&block(3, &["tx-new", "tx-new"], batch.clone()))
        .unwrap_err();
    assert!(matches!(err, DbError::DuplicateTx { .. }));
    assert_block_3_absent(&db);
    // The same block without the bad transaction then commits whole.
    db.commit_block(&block(3, &["tx-new"], batch)).unwrap();
    assert_eq!(db.tx(b"tx-new").unwrap().map(|t| t.height), Some(3));
    let view = db.tree_view().unwrap();
    assert_eq!(jmt::Sha256Jmt::new(&view).get_root_hash(3).unwrap(), root);
}

#[test]
fn duplicate_and_skipped_heights_are_refused() {
    let (_dir, _path, db) = open_temp();
    commit_three_blocks(&db);
    let (_, batch) = tree_update(&db, 3, &[("erin", Some("1"))]);
    let mut again = block(2, &["tx-new"], TreeUpdateBatch::default());
    again.hash = b"another hash".to_vec();
    let err = db.commit_block(&again).unwrap_err();
    assert!(
        matches!(err, DbError::HeightNotNext { latest: 2, got: 2 }),
        "{err:?}"
    );
    let err = db.commit_block(&block(4, &["tx-new"], batch)).unwrap_err();
    assert!(
        matches!(err, DbError::HeightNotNext { latest: 2, got: 4 }),
        "{err:?}"
    );
    let err = db
        .commit_block(&block(u64::MAX, &[], TreeUpdateBatch::default()))
        .unwrap_err();
    assert!(matches!(err, DbError::HeightNotNext { .. }), "{err:?}");
    assert_block_3_absent(&db);

    // A first block whose height SQLite cannot hold.
    let (_dir2, _path2, fresh) = open_temp();
    let err = fresh
        .commit_block(&block(u64::MAX, &[], TreeUpdateBatch::default()))
        .unwrap_err();
    assert!(
        matches!(
            err,
            DbError::OutOfRange {
                what: "height",
                value: u64::MAX
            }
        ),
        "{err:?}"
    );
    assert_eq!(fresh.latest_height().unwrap(), None);
}

#[test]
fn malformed_blocks_are_refused_whole() {
    let (_dir, _path, db) = open_temp();
    commit_three_blocks(&db);
    let (_, batch) = tree_update(&db, 3, &[("erin", Some("1"))]);

    let mut empty_hash = block(3, &["tx-new"], batch.clone());
    empty_hash.hash.clear();
    assert!(matches!(
        db.commit_block(&empty_hash),
        Err(DbError::Empty("block hash"))
    ));

    let mut reused_hash = block(3, &["tx-new"], batch.clone());
    reused_hash.hash = b"hash-1".to_vec();
    let err = db.commit_block(&reused_hash).unwrap_err();
    assert!(
        matches!(&err, DbError::DuplicateBlockHash { hash_hex } if hash_hex == &hex::encode("hash-1"))
    );

    let mut empty_tx_id = block(3, &["tx-new"], batch.clone());
    empty_tx_id.txs.push((Vec::new(), b"body".to_vec()));
    assert!(matches!(
        db.commit_block(&empty_tx_id),
        Err(DbError::Empty("transaction id"))
    ));

    let mut empty_meta_name = block(3, &["tx-new"], batch.clone());
    empty_meta_name.meta.push((String::new(), b"x".to_vec()));
    assert!(matches!(
        db.commit_block(&empty_meta_name),
        Err(DbError::Empty("meta name"))
    ));

    // A tree batch computed for another version does not belong to this block.
    let (_, batch_for_4) = tree_update(&db, 4, &[("erin", Some("1"))]);
    let err = db
        .commit_block(&block(3, &["tx-new"], batch_for_4))
        .unwrap_err();
    assert!(
        matches!(
            err,
            DbError::TreeVersionMismatch {
                height: 3,
                version: 4
            }
        ),
        "{err:?}"
    );
    assert_block_3_absent(&db);
}

#[test]
fn a_tree_view_is_a_snapshot() {
    let (_dir, _path, db) = open_temp();
    let (_, batch) = tree_update(&db, 0, &[("alice", Some("1"))]);
    db.commit_block(&block(0, &[], batch)).unwrap();
    let before = db.tree_view().unwrap();
    let (root, batch) = tree_update(&db, 1, &[("alice", Some("2"))]);
    db.commit_block(&block(1, &[], batch)).unwrap();
    assert!(
        jmt::Sha256Jmt::new(&before)
            .get_root_hash_option(1)
            .unwrap()
            .is_none()
    );
    drop(before);
    let after = db.tree_view().unwrap();
    assert_eq!(jmt::Sha256Jmt::new(&after).get_root_hash(1).unwrap(), root);
}

#[test]
fn rightmost_leaf_has_the_greatest_key_hash() {
    let (_dir, _path, db) = open_temp();
    let empty = db.tree_view().unwrap();
    assert!(empty.get_rightmost_leaf().unwrap().is_none());
    drop(empty);
    commit_three_blocks(&db);
    let view = db.tree_view().unwrap();
    let tree = jmt::Sha256Jmt::new(&view);
    let greatest = ["alice", "bob", "carol", "dave"]
        .into_iter()
        .map(|key| key_hash_for(&tree, key))
        .max()
        .unwrap();
    let (node_key, leaf) = view.get_rightmost_leaf().unwrap().unwrap();
    assert_eq!(leaf.key_hash(), greatest);
    let stored = view.get_node(&node_key).unwrap();
    assert_eq!(stored, jmt::storage::Node::Leaf(leaf));
}

#[test]
fn ledger_file_uses_8k_pages_and_wal() {
    let (_dir, path, db) = open_temp();
    commit_three_blocks(&db);
    assert_eq!(page_size_and_journal_mode(&path), (PAGE_SIZE, "wal".into()));
}

#[test]
fn each_block_records_the_tree_nodes_it_retires_in_one_row() {
    let (_dir, path, db) = open_temp();
    commit_three_blocks(&db);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let rows: Vec<(u64, Vec<u8>)> = conn
        .prepare("SELECT stale_since, node_keys FROM jmt_stale_by_block ORDER BY stale_since")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // Blocks 1 and 2 rewrite keys of earlier blocks, so each retires nodes.
    let heights: Vec<u64> = rows.iter().map(|(height, _)| *height).collect();
    assert!(heights.contains(&1) && heights.contains(&2), "{heights:?}");
    let view = db.tree_view().unwrap();
    for (height, bytes) in rows {
        let keys: Vec<jmt::storage::NodeKey> = borsh::from_slice(&bytes).unwrap();
        assert!(!keys.is_empty());
        assert!(
            keys.windows(2).all(|pair| pair[0] < pair[1]),
            "sorted, each once"
        );
        for key in keys {
            // A retired node was written by an earlier block and is still stored.
            assert!(key.version() < height);
            assert!(view.get_node_option(&key).unwrap().is_some());
        }
    }
}
