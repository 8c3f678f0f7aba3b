//! The [`KvStore`] contract, run against every backend: [`MemoryKv`] and [`SqliteKv`]
//! here, [`CassandraKv`] against a real 3-node cluster in `cassandra_contract`.

use proptest::prelude::*;

use super::*;

pub(super) const ALICE: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
pub(super) const BOB: &str = "bcrt1q6rhpng9evdsfnn833a4f4vej0asu6dk5srld6x";

/// A fresh store of each backend, with the temporary directory that holds the file.
fn backends() -> Vec<(&'static str, Box<dyn KvStore>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = SqliteKv::open(dir.path().join("kv.sqlite")).expect("open sqlite kv");
    vec![
        ("memory", Box::new(MemoryKv::new()), None),
        ("sqlite", Box::new(sqlite), Some(dir)),
    ]
}

/// Runs `check` on every backend, naming the backend on failure.
fn for_each_backend(check: fn(&dyn KvStore)) {
    for (name, store, _dir) in backends() {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&*store)));
        if let Err(panic) = result {
            eprintln!("KvStore contract failed on the {name} backend");
            std::panic::resume_unwind(panic);
        }
    }
}

/// A put of `value` under `address` and `key`.
fn kv_put<'a>(address: &'a str, key: &'a [u8], value: &'a [u8]) -> KvPut<'a> {
    KvPut {
        address,
        key,
        value,
    }
}

fn keys(page: &RangePage) -> Vec<Vec<u8>> {
    page.items.iter().map(|(k, _)| k.clone()).collect()
}

fn put_then_get_returns_the_value(kv: &dyn KvStore) {
    assert_eq!(kv.put(ALICE, b"k1", b"v1").unwrap(), PutOutcome::Stored);
    assert_eq!(kv.get(ALICE, b"k1").unwrap(), Some(b"v1".to_vec()));
    assert_eq!(kv.get(ALICE, b"k2").unwrap(), None);
    // An empty value is a value.
    assert_eq!(kv.put(ALICE, b"empty", b"").unwrap(), PutOutcome::Stored);
    assert_eq!(kv.get(ALICE, b"empty").unwrap(), Some(Vec::new()));
}

fn second_put_with_a_different_value_is_a_duplicate(kv: &dyn KvStore) {
    kv.put(ALICE, b"k1", b"v1").unwrap();
    let err = kv.put(ALICE, b"k1", b"v2").unwrap_err();
    match err {
        KvError::Duplicate { address, key_hex } => {
            assert_eq!(address, ALICE);
            assert_eq!(key_hex, "6b31");
        }
        other => panic!("expected Duplicate, got {other:?}"),
    }
    assert_eq!(kv.get(ALICE, b"k1").unwrap(), Some(b"v1".to_vec()));
}

fn retried_put_of_the_same_value_is_already_stored(kv: &dyn KvStore) {
    assert_eq!(kv.put(ALICE, b"k1", b"v1").unwrap(), PutOutcome::Stored);
    assert_eq!(
        kv.put(ALICE, b"k1", b"v1").unwrap(),
        PutOutcome::AlreadyStored
    );
    assert_eq!(kv.get(ALICE, b"k1").unwrap(), Some(b"v1".to_vec()));
}

fn other_address_is_invisible(kv: &dyn KvStore) {
    kv.put(ALICE, b"k1", b"alice").unwrap();
    assert_eq!(kv.get(BOB, b"k1").unwrap(), None);
    // The same key under another address is a different record, not a duplicate.
    assert_eq!(kv.put(BOB, b"k1", b"bob").unwrap(), PutOutcome::Stored);
    assert_eq!(kv.get(ALICE, b"k1").unwrap(), Some(b"alice".to_vec()));
    kv.put(BOB, b"k2", b"bob2").unwrap();
    let page = kv.range(ALICE, b"", &[0xff; 8], 1000, None).unwrap();
    assert_eq!(page.items, vec![(b"k1".to_vec(), b"alice".to_vec())]);
    assert!(kv.delete(BOB, b"k1").unwrap());
    assert_eq!(kv.get(ALICE, b"k1").unwrap(), Some(b"alice".to_vec()));
}

fn range_is_ordered_by_key_bytes_and_inclusive(kv: &dyn KvStore) {
    // Inserted out of order; byte order puts 0x00.. before 0x01 and a prefix first.
    for key in [&[2u8][..], &[1, 0], &[1], &[0xff], &[0, 9], &[1, 0xff, 0]] {
        kv.put(ALICE, key, &[key.len() as u8]).unwrap();
    }
    let page = kv.range(ALICE, &[1], &[2], 10, None).unwrap();
    assert_eq!(
        keys(&page),
        vec![vec![1], vec![1, 0], vec![1, 0xff, 0], vec![2]]
    );
    assert_eq!(page.items[2].1, vec![3]);
    assert_eq!(page.next_cursor, None);
    let all = kv.range(ALICE, &[], &[0xff, 0xff], 1000, None).unwrap();
    assert_eq!(all.items.len(), 6);
    assert_eq!(all.items[0].0, vec![0, 9]);
    assert_eq!(all.items[5].0, vec![0xff]);
    let single = kv.range(ALICE, &[1, 0], &[1, 0], 5, None).unwrap();
    assert_eq!(keys(&single), vec![vec![1, 0]]);
    let none = kv.range(ALICE, &[3], &[4], 5, None).unwrap();
    assert_eq!(none, RangePage::default());
}

fn paging_with_the_cursor_visits_every_record_once(kv: &dyn KvStore) {
    let records: Vec<(Vec<u8>, Vec<u8>)> = (0u16..25)
        .map(|i| (i.to_be_bytes().to_vec(), format!("value {i}").into_bytes()))
        .collect();
    let puts: Vec<KvPut<'_>> = records
        .iter()
        .map(|(key, value)| kv_put(ALICE, key, value))
        .collect();
    kv.put_batch(&puts).unwrap();
    let (start, end) = (3u16.to_be_bytes(), 22u16.to_be_bytes());
    let mut seen = Vec::new();
    let mut cursor: Option<Vec<u8>> = None;
    let mut pages = 0;
    loop {
        let page = kv.range(ALICE, &start, &end, 7, cursor.as_deref()).unwrap();
        pages += 1;
        assert!(page.items.len() <= 7);
        seen.extend(page.items.clone());
        match page.next_cursor {
            Some(next) => {
                assert_eq!(Some(&next), page.items.last().map(|(k, _)| k));
                cursor = Some(next);
            }
            None => break,
        }
    }
    // 20 records (3..=22) in pages of 7, 7, 6: no empty trailing page.
    assert_eq!(pages, 3);
    assert_eq!(seen, records[3..=22].to_vec());
    // A page that exactly exhausts the range has no cursor.
    let exact = kv.range(ALICE, &start, &end, 20, None).unwrap();
    assert_eq!(exact.items.len(), 20);
    assert_eq!(exact.next_cursor, None);
    // A cursor at or past the end yields an empty page; one before start is ignored.
    let past = kv.range(ALICE, &start, &end, 5, Some(&end)).unwrap();
    assert_eq!(past, RangePage::default());
    let before = kv.range(ALICE, &start, &end, 1, Some(&[0])).unwrap();
    assert_eq!(keys(&before), vec![start.to_vec()]);
}

fn range_limit_must_be_between_1_and_1000(kv: &dyn KvStore) {
    kv.put(ALICE, b"k", b"v").unwrap();
    for limit in [0, 1001, u32::MAX] {
        let err = kv.range(ALICE, b"a", b"z", limit, None).unwrap_err();
        assert!(
            matches!(err, KvError::InvalidLimit { limit: l, max: 1000 } if l == limit),
            "{err:?}"
        );
    }
    assert_eq!(kv.range(ALICE, b"a", b"z", 1, None).unwrap().items.len(), 1);
    assert_eq!(
        kv.range(ALICE, b"a", b"z", 1000, None).unwrap().items.len(),
        1
    );
}

fn reversed_range_is_refused(kv: &dyn KvStore) {
    let err = kv.range(ALICE, b"z", b"a", 10, None).unwrap_err();
    assert!(matches!(err, KvError::ReversedRange), "{err:?}");
}

fn delete_removes_once(kv: &dyn KvStore) {
    kv.put(ALICE, b"k1", b"v1").unwrap();
    assert!(kv.delete(ALICE, b"k1").unwrap());
    assert!(!kv.delete(ALICE, b"k1").unwrap());
    assert!(!kv.delete(BOB, b"never").unwrap());
    assert_eq!(kv.get(ALICE, b"k1").unwrap(), None);
    // After a delete the pair may be written again, with any value.
    assert_eq!(kv.put(ALICE, b"k1", b"v2").unwrap(), PutOutcome::Stored);
    assert_eq!(kv.get(ALICE, b"k1").unwrap(), Some(b"v2".to_vec()));
}

fn bad_input_is_refused_with_typed_errors(kv: &dyn KvStore) {
    let long_address = "a".repeat(MAX_ADDRESS_LEN + 1);
    let long_key = vec![7u8; MAX_KEY_LEN + 1];
    let big_value = vec![0u8; MAX_VALUE_LEN + 1];
    assert!(matches!(kv.put("", b"k", b"v"), Err(KvError::EmptyAddress)));
    assert!(matches!(
        kv.put(&long_address, b"k", b"v"),
        Err(KvError::AddressTooLong { len: 129, max: 128 })
    ));
    assert!(matches!(kv.put(ALICE, b"", b"v"), Err(KvError::EmptyKey)));
    assert!(matches!(
        kv.put(ALICE, &long_key, b"v"),
        Err(KvError::KeyTooLong {
            len: 1025,
            max: 1024
        })
    ));
    assert!(matches!(
        kv.put(ALICE, b"k", &big_value),
        Err(KvError::ValueTooLarge { .. })
    ));
    assert!(matches!(kv.get("", b"k"), Err(KvError::EmptyAddress)));
    assert!(matches!(
        kv.get("Ωadresse", b"k"),
        Err(KvError::AddressNotAscii)
    ));
    assert!(matches!(
        kv.put("a b", b"k", b"v"),
        Err(KvError::AddressNotAscii)
    ));
    assert!(matches!(kv.get(ALICE, b""), Err(KvError::EmptyKey)));
    assert!(matches!(kv.delete(ALICE, b""), Err(KvError::EmptyKey)));
    assert!(matches!(
        kv.range("", b"a", b"b", 1, None),
        Err(KvError::EmptyAddress)
    ));
    // Nothing of the refused puts was stored; the longest valid pair is accepted.
    assert_eq!(
        kv.range(ALICE, b"", &[0xff; 2], 10, None)
            .unwrap()
            .items
            .len(),
        0
    );
    let max_address = "a".repeat(MAX_ADDRESS_LEN);
    let max_key = vec![7u8; MAX_KEY_LEN];
    assert_eq!(
        kv.put(&max_address, &max_key, b"v").unwrap(),
        PutOutcome::Stored
    );
}

fn batch_is_all_or_nothing(kv: &dyn KvStore) {
    kv.put(ALICE, b"k2", b"old").unwrap();
    let batch = [kv_put(ALICE, b"k1", b"v1"), kv_put(ALICE, b"k2", b"new")];
    assert!(matches!(
        kv.put_batch(&batch),
        Err(KvError::Duplicate { .. })
    ));
    assert_eq!(kv.get(ALICE, b"k1").unwrap(), None);

    let repeated = [kv_put(BOB, b"k", b"v"), kv_put(BOB, b"k", b"v")];
    assert!(matches!(
        kv.put_batch(&repeated),
        Err(KvError::DuplicateInBatch { .. })
    ));
    assert_eq!(kv.get(BOB, b"k").unwrap(), None);

    let retry = [kv_put(ALICE, b"k1", b"v1"), kv_put(ALICE, b"k2", b"old")];
    assert_eq!(
        kv.put_batch(&retry).unwrap(),
        vec![PutOutcome::Stored, PutOutcome::AlreadyStored]
    );
    assert_eq!(kv.put_batch(&[]).unwrap(), Vec::new());
}

/// A batch of values checked against the ledger answers like a plain batch: new records
/// stored, the same value again already stored, a different value a duplicate that
/// stores nothing of the batch, one address per batch on a distributed backend.
fn verified_batch_answers_like_a_batch(kv: &dyn KvStore) {
    let put = |key: &'static [u8], value: &'static [u8]| kv_put(ALICE, key, value);
    assert_eq!(
        kv.put_batch_verified(&[put(b"a", b"1"), put(b"b", b"2")])
            .unwrap(),
        vec![PutOutcome::Stored, PutOutcome::Stored]
    );
    assert_eq!(
        kv.put_batch_verified(&[put(b"b", b"2"), put(b"c", b"3")])
            .unwrap(),
        vec![PutOutcome::AlreadyStored, PutOutcome::Stored]
    );
    let clash = kv
        .put_batch_verified(&[put(b"d", b"4"), put(b"a", b"other")])
        .unwrap_err();
    assert!(matches!(clash, KvError::Duplicate { .. }), "{clash:?}");
    assert_eq!(kv.get(ALICE, b"d").unwrap(), None);
    assert_eq!(kv.get(ALICE, b"a").unwrap(), Some(b"1".to_vec()));
    assert!(matches!(
        kv.put_batch_verified(&[put(b"e", b"5"), put(b"e", b"5")]),
        Err(KvError::DuplicateInBatch { .. })
    ));
    let page = kv.range(ALICE, b"", b"\xff", 10, None).unwrap();
    assert_eq!(
        keys(&page),
        vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
    );
    assert_eq!(kv.put_batch_verified(&[]).unwrap(), Vec::new());
}

/// A batch of freshly registered values is stored and readable in key order; stored
/// again (two writers racing) it is accepted again and changes nothing; bad input and a
/// batch that repeats a key are refused as for any batch.
fn registered_batch_stores_without_a_read(kv: &dyn KvStore) {
    let put = |key: &'static [u8], value: &'static [u8]| kv_put(ALICE, key, value);
    let batch = [put(b"b", b"2"), put(b"a", b"1")];
    assert_eq!(
        kv.put_batch_registered(&batch).unwrap(),
        vec![PutOutcome::Stored, PutOutcome::Stored]
    );
    let again = kv.put_batch_registered(&batch).unwrap();
    assert_eq!(again.len(), 2, "{again:?}");
    assert_eq!(kv.get(ALICE, b"a").unwrap(), Some(b"1".to_vec()));
    assert_eq!(kv.get(ALICE, b"b").unwrap(), Some(b"2".to_vec()));
    let page = kv.range(ALICE, b"", b"\xff", 10, None).unwrap();
    assert_eq!(keys(&page), vec![b"a".to_vec(), b"b".to_vec()]);
    assert!(matches!(
        kv.put_batch_registered(&[put(b"e", b"5"), put(b"e", b"5")]),
        Err(KvError::DuplicateInBatch { .. })
    ));
    assert!(matches!(
        kv.put_batch_registered(&[put(b"", b"5")]),
        Err(KvError::EmptyKey)
    ));
    assert_eq!(kv.get(ALICE, b"e").unwrap(), None);
    assert_eq!(kv.put_batch_registered(&[]).unwrap(), Vec::new());
}

/// One check of the contract, run on a fresh store.
pub(super) type Check = fn(&dyn KvStore);

/// Every check of the contract, by name: each runs on a fresh store of every backend.
pub(super) const CHECKS: &[(&str, Check)] = &[
    (
        "put_then_get_returns_the_value",
        put_then_get_returns_the_value,
    ),
    (
        "second_put_with_a_different_value_is_a_duplicate",
        second_put_with_a_different_value_is_a_duplicate,
    ),
    (
        "retried_put_of_the_same_value_is_already_stored",
        retried_put_of_the_same_value_is_already_stored,
    ),
    ("other_address_is_invisible", other_address_is_invisible),
    (
        "range_is_ordered_by_key_bytes_and_inclusive",
        range_is_ordered_by_key_bytes_and_inclusive,
    ),
    (
        "paging_with_the_cursor_visits_every_record_once",
        paging_with_the_cursor_visits_every_record_once,
    ),
    (
        "range_limit_must_be_between_1_and_1000",
        range_limit_must_be_between_1_and_1000,
    ),
    ("reversed_range_is_refused", reversed_range_is_refused),
    ("delete_removes_once", delete_removes_once),
    (
        "bad_input_is_refused_with_typed_errors",
        bad_input_is_refused_with_typed_errors,
    ),
    ("batch_is_all_or_nothing", batch_is_all_or_nothing),
    (
        "verified_batch_answers_like_a_batch",
        verified_batch_answers_like_a_batch,
    ),
    (
        "registered_batch_stores_without_a_read",
        registered_batch_stores_without_a_read,
    ),
];

/// The checks as tests of the embedded backends (memory and SQLite).
mod embedded {
    #[test]
    fn put_then_get_returns_the_value() {
        super::for_each_backend(super::put_then_get_returns_the_value);
    }

    #[test]
    fn second_put_with_a_different_value_is_a_duplicate() {
        super::for_each_backend(super::second_put_with_a_different_value_is_a_duplicate);
    }

    #[test]
    fn retried_put_of_the_same_value_is_already_stored() {
        super::for_each_backend(super::retried_put_of_the_same_value_is_already_stored);
    }

    #[test]
    fn other_address_is_invisible() {
        super::for_each_backend(super::other_address_is_invisible);
    }

    #[test]
    fn range_is_ordered_by_key_bytes_and_inclusive() {
        super::for_each_backend(super::range_is_ordered_by_key_bytes_and_inclusive);
    }

    #[test]
    fn paging_with_the_cursor_visits_every_record_once() {
        super::for_each_backend(super::paging_with_the_cursor_visits_every_record_once);
    }

    #[test]
    fn range_limit_must_be_between_1_and_1000() {
        super::for_each_backend(super::range_limit_must_be_between_1_and_1000);
    }

    #[test]
    fn reversed_range_is_refused() {
        super::for_each_backend(super::reversed_range_is_refused);
    }

    #[test]
    fn delete_removes_once() {
        super::for_each_backend(super::delete_removes_once);
    }

    #[test]
    fn bad_input_is_refused_with_typed_errors() {
        super::for_each_backend(super::bad_input_is_refused_with_typed_errors);
    }

    #[test]
    fn batch_is_all_or_nothing() {
        super::for_each_backend(super::batch_is_all_or_nothing);
    }

    #[test]
    fn verified_batch_answers_like_a_batch() {
        super::for_each_backend(super::verified_batch_answers_like_a_batch);
    }

    #[test]
    fn registered_batch_stores_without_a_read() {
        super::for_each_backend(super::registered_batch_stores_without_a_read);
    }
}

#[test]
fn sqlite_records_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kv.sqlite");
    {
        let kv = SqliteKv::open(&path).unwrap();
        kv.put(ALICE, b"trip-1", b"ciphertext").unwrap();
    }
    let kv = SqliteKv::open(&path).unwrap();
    assert_eq!(
        kv.get(ALICE, b"trip-1").unwrap(),
        Some(b"ciphertext".to_vec())
    );
    assert_eq!(
        kv.put(ALICE, b"trip-1", b"ciphertext").unwrap(),
        PutOutcome::AlreadyStored
    );
    assert_eq!(
        crate::db::tests::page_size_and_journal_mode(&path),
        (8192, "wal".into())
    );
}

#[test]
fn sqlite_reads_do_not_wait_for_an_open_write() {
    let dir = tempfile::tempdir().unwrap();
    let kv = SqliteKv::open(dir.path().join("kv.sqlite")).unwrap();
    kv.put(ALICE, b"k1", b"v1").unwrap();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let kv = &kv;
        scope.spawn(move || {
            kv.pool
                .write(|tx| {
                    tx.execute(
                        "INSERT INTO kv (address, key, value) VALUES (?1, ?2, ?3)",
                        rusqlite::params![ALICE, b"k2".as_slice(), b"v2".as_slice()],
                    )?;
                    started_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    Ok::<_, KvError>(())
                })
                .unwrap();
        });
        started_rx.recv().unwrap();
        // The write transaction is open and holds the writer: reads still answer, from
        // the last committed snapshot.
        assert_eq!(kv.get(ALICE, b"k1").unwrap(), Some(b"v1".to_vec()));
        assert_eq!(kv.get(ALICE, b"k2").unwrap(), None);
        release_tx.send(()).unwrap();
    });
    assert_eq!(kv.get(ALICE, b"k2").unwrap(), Some(b"v2".to_vec()));
}

/// One operation of the model test.
#[derive(Debug, Clone)]
enum Op {
    Put(u8, Vec<u8>, Vec<u8>),
    Delete(u8, Vec<u8>),
    Range(u8, Vec<u8>, Vec<u8>, u32),
}

fn op() -> impl Strategy<Value = Op> {
    let key = prop::collection::vec(0u8..4, 1..4);
    let value = prop::collection::vec(any::<u8>(), 0..3);
    prop_oneof![
        (0u8..2, key.clone(), value).prop_map(|(a, k, v)| Op::Put(a, k, v)),
        (0u8..2, key.clone()).prop_map(|(a, k)| Op::Delete(a, k)),
        (0u8..2, key.clone(), key, 1u32..5).prop_map(|(a, s, e, l)| Op::Range(a, s, e, l)),
    ]
}

/// Flattens a result so two backends' answers compare (errors by their message).
fn summary<T: std::fmt::Debug>(result: Result<T, KvError>) -> String {
    match result {
        Ok(value) => format!("ok {value:?}"),
        Err(err) => format!("err {err}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Both backends give the same answer to every sequence of operations.
    #[test]
    fn sqlite_behaves_like_memory(ops in prop::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = SqliteKv::open(dir.path().join("kv.sqlite")).unwrap();
        let memory = MemoryKv::new();
        for op in ops {
            let (a, b) = match &op {
                Op::Put(addr, k, v) => {
                    let address = [ALICE, BOB][usize::from(*addr)];
                    (summary(sqlite.put(address, k, v)), summary(memory.put(address, k, v)))
                }
                Op::Delete(addr, k) => {
                    let address = [ALICE, BOB][usize::from(*addr)];
                    (summary(sqlite.delete(address, k)), summary(memory.delete(address, k)))
                }
                Op::Range(addr, s, e, l) => {
                    let address = [ALICE, BOB][usize::from(*addr)];
                    (
                        summary(sqlite.range(address, s, e, *l, None)),
                        summary(memory.range(address, s, e, *l, None)),
                    )
                }
            };
            prop_assert_eq!(a, b, "diverged on {:?}", op);
        }
    }
}
