//! The car store's tests.

use bitcoin::secp256k1::SecretKey;

use super::*;
use crate::store::InMemorySecretStore;

fn put<'a>(address: &'a str, key: &'a [u8]) -> NewPut<'a> {
    NewPut {
        address,
        key,
        format: "trip-gps",
        envelope: b"envelope",
        tx: b"tx",
        key_index: 3,
        created_at: 1_700_000_000,
    }
}

#[test]
fn new_file_is_migrated_with_wal_and_8k_pages() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = InMemorySecretStore::new();
    let store = DeviceStore::open(&dir.path().join("car.db"), &secrets).unwrap();
    assert_eq!(store.schema_version().unwrap(), DEVICE_SCHEMA_VERSION);
    let page: i64 = store
        .conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    let mode: String = store
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    let sync: i64 = store
        .conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    assert_eq!((page, mode.as_str(), sync), (8192, "wal", 2));
}

#[test]
fn everything_survives_reopen_and_secrets_are_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("car.db");
    let secrets = InMemorySecretStore::new();
    let device = SecretKey::from_slice(&[9; 32]).unwrap();
    {
        let mut store = DeviceStore::open(&path, &secrets).unwrap();
        store.save_device_key("VID1", &device).unwrap();
        store.save_pending_code("7K3MQ9XZ", 1_700_000_600).unwrap();
        store
            .save_epoch("bcrt1qa", "2024-05-01", &[1; 32], b"wrapped")
            .unwrap();
        store.enqueue(&put("bcrt1qa", b"k1"), 5).unwrap();
    }
    let store = DeviceStore::open(&path, &secrets).unwrap();
    assert_eq!(store.schema_version().unwrap(), DEVICE_SCHEMA_VERSION);
    assert_eq!(store.device_key().unwrap(), Some(("VID1".into(), device)));
    let (code, exp) = store.pending_code().unwrap().unwrap();
    assert_eq!((code.as_str(), exp), ("7K3MQ9XZ", 1_700_000_600));
    let (key, wrapped) = store.epoch("bcrt1qa", "2024-05-01").unwrap().unwrap();
    assert_eq!(
        (key.as_slice(), wrapped.as_slice()),
        (&[1u8; 32][..], &b"wrapped"[..])
    );
    assert_eq!(store.next_nonce("bcrt1qa").unwrap(), Some(5));
    assert_eq!(store.queue_len().unwrap(), 1);
    drop(store);
    let raw = std::fs::read(&path).unwrap();
    let wal = std::fs::read(dir.path().join("car.db-wal")).unwrap_or_default();
    for bytes in [raw, wal] {
        assert!(!bytes.windows(8).any(|w| w == b"7K3MQ9XZ"), "code in clear");
        assert!(
            !bytes.windows(32).any(|w| w == [9u8; 32]),
            "device key in clear"
        );
    }
}

#[test]
fn lost_master_key_is_an_error_not_a_reset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("car.db");
    let store = DeviceStore::open(&path, &InMemorySecretStore::new()).unwrap();
    store
        .save_device_key("VID1", &SecretKey::from_slice(&[9; 32]).unwrap())
        .unwrap();
    drop(store);
    assert!(matches!(
        DeviceStore::open(&path, &InMemorySecretStore::new()),
        Err(DeviceStoreError::MasterKeyMissing)
    ));
    let other = InMemorySecretStore::new();
    other.save(DEVICE_MASTER_KEY_NAME, &[1; 32]).unwrap();
    let store = DeviceStore::open(&path, &other).unwrap();
    assert!(matches!(
        store.device_key(),
        Err(DeviceStoreError::SecretCorrupted { .. })
    ));
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("car.db");
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", DEVICE_SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    assert!(matches!(
        DeviceStore::open(&path, &InMemorySecretStore::new()),
        Err(DeviceStoreError::SchemaTooNew {
            found,
            supported: DEVICE_SCHEMA_VERSION
        }) if found == DEVICE_SCHEMA_VERSION + 1
    ));
}

/// A car store file in a fresh temporary folder, with its secret store.
struct Scratch {
    dir: tempfile::TempDir,
    secrets: InMemorySecretStore,
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
            secrets: InMemorySecretStore::new(),
        }
    }

    fn open(&self) -> DeviceStore {
        DeviceStore::open(&self.dir.path().join("car.db"), &self.secrets).unwrap()
    }
}

/// A store with one queued put (nonce 4 at `bcrt1qa`) taken back to an older build's
/// schema by `downgrade`, then reopened: checked to be upgraded with its queue kept.
fn upgraded_from(downgrade: &str) -> (Scratch, DeviceStore) {
    let scratch = Scratch::new();
    {
        let mut store = scratch.open();
        store.enqueue(&put("bcrt1qa", b"k1"), 4).unwrap();
        store.conn.execute_batch(downgrade).unwrap();
    }
    let store = scratch.open();
    assert_eq!(store.schema_version().unwrap(), DEVICE_SCHEMA_VERSION);
    assert_eq!(store.queue_len().unwrap(), 1);
    (scratch, store)
}

#[test]
fn a_version_1_store_upgrades_and_keeps_its_queue() {
    // As the schema-1 build left it: no credential, stamp or fee tables.
    let (_scratch, mut store) = upgraded_from(
        "DROP TABLE write_credentials; DROP TABLE fee_stamps; DROP TABLE chain_fees;
         PRAGMA user_version = 1;",
    );
    assert_eq!(store.next_nonce("bcrt1qa").unwrap(), Some(4));
    assert_eq!(store.fresh_credentials("k").unwrap(), 0);
    assert!(store.credential_for("k", "bcrt1qa").unwrap().is_none());
}

#[test]
fn a_version_2_store_upgrades_and_keeps_fee_stamps_sealed() {
    // As the schema-2 build left it: no stamp or fee tables.
    let (scratch, mut store) =
        upgraded_from("DROP TABLE fee_stamps; DROP TABLE chain_fees; PRAGMA user_version = 2;");
    assert_eq!(store.fee_stamp_count().unwrap(), 0);
    let stamps = [
        ([1; 32], b"stamp-one".as_slice()),
        ([2; 32], b"stamp-two".as_slice()),
    ];
    store.add_fee_stamps(&stamps).unwrap();
    // The same stamp again is held once.
    store.add_fee_stamps(&stamps[..1]).unwrap();
    assert_eq!(store.fee_stamp_count().unwrap(), 2);
    let raw: Vec<u8> = store
        .conn
        .query_row("SELECT stamp_sealed FROM fee_stamps LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(!raw.windows(5).any(|w| w == b"stamp"), "sealed at rest");
    let (id, bytes) = store.next_fee_stamp().unwrap().unwrap();
    assert_eq!(bytes.as_slice(), b"stamp-one");
    let seq = store.queued(1).unwrap()[0].seq;
    store.attach_fee_stamp(id, seq, b"stamped tx").unwrap();
    assert_eq!(store.fee_stamp_count().unwrap(), 1);
    assert_eq!(store.queued(1).unwrap()[0].tx, b"stamped tx");
    drop(store);
    let store = scratch.open();
    assert_eq!(
        store.next_fee_stamp().unwrap().map(|(_, b)| b.to_vec()),
        Some(b"stamp-two".to_vec())
    );
}

#[test]
fn a_credential_binds_to_one_address_until_spent_and_is_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("car.db");
    let secrets = InMemorySecretStore::new();
    let mut store = DeviceStore::open(&path, &secrets).unwrap();
    let tokens = vec![vec![0x5a; 40], vec![0x6b; 40]];
    store.add_credentials("key1", &tokens).unwrap();
    assert_eq!(store.fresh_credentials("key1").unwrap(), 2);
    let (first, bytes) = store.credential_for("key1", "bcrt1qa").unwrap().unwrap();
    assert_eq!(bytes.as_slice(), tokens[0].as_slice());
    let (again, _) = store.credential_for("key1", "bcrt1qa").unwrap().unwrap();
    assert_eq!(again, first, "the same credential for the same address");
    let (other, bytes) = store.credential_for("key1", "bcrt1qb").unwrap().unwrap();
    assert_ne!(other, first, "another address takes another credential");
    assert_eq!(bytes.as_slice(), tokens[1].as_slice());
    assert!(
        store.credential_for("key2", "bcrt1qa").unwrap().is_none(),
        "other key"
    );
    store.spend_credential(first).unwrap();
    assert!(
        store.credential_for("key1", "bcrt1qa").unwrap().is_none(),
        "spent, and none fresh is left"
    );
    drop(store);
    let raw = std::fs::read(&path).unwrap();
    let wal = std::fs::read(dir.path().join("car.db-wal")).unwrap_or_default();
    for bytes in [raw, wal] {
        assert!(
            !bytes.windows(40).any(|w| w == [0x5a; 40]),
            "token in clear"
        );
    }
}

#[test]
fn queue_keeps_order_and_state() {
    let secrets = InMemorySecretStore::new();
    let mut store = DeviceStore::open_in_memory(&secrets).unwrap();
    let keys: Vec<Vec<u8>> = (0..5u8).map(|i| vec![b'k', 9 - i]).collect();
    let seqs: Vec<i64> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| store.enqueue(&put("bcrt1qa", k), i as u64 + 1).unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(store.next_nonce("bcrt1qa").unwrap(), Some(5));
    store.mark_submitted(seqs[0]).unwrap();
    let queued = store.queued(10).unwrap();
    let got: Vec<Vec<u8>> = queued.iter().map(|q| q.key.clone()).collect();
    assert_eq!(got, keys, "insertion order, not key order");
    assert!(queued[0].submitted && !queued[1].submitted);
    assert_eq!(queued[0].key_index, 3);
    store.update_tx(seqs[1], b"tx2").unwrap();
    assert_eq!(store.queued(2).unwrap()[1].tx, b"tx2");
    store.set_next_nonce("bcrt1qa", 9).unwrap();
    assert_eq!(store.next_nonce("bcrt1qa").unwrap(), Some(9));
    store.settle_delivered("bcrt1qa", &[(seqs[0], 0)]).unwrap();
    assert_eq!(
        store.queued(2).unwrap().first().map(|q| q.seq),
        Some(seqs[1])
    );
    assert_eq!(store.queue_len().unwrap(), 4);
    // A removed row's number is never reused: order stays monotonic.
    let last = store.enqueue(&put("bcrt1qa", b"z"), 6).unwrap();
    assert!(last > seqs[4]);
    store.forget_nonce("bcrt1qa").unwrap();
    assert_eq!(store.next_nonce("bcrt1qa").unwrap(), None);
}

#[test]
fn a_batch_settles_in_one_commit_and_the_nonce_never_goes_back() {
    let secrets = InMemorySecretStore::new();
    let mut store = DeviceStore::open_in_memory(&secrets).unwrap();
    let seqs: Vec<i64> = (0..4u8)
        .map(|i| {
            store
                .enqueue(&put("bcrt1qa", &[i]), u64::from(i) + 1)
                .unwrap()
        })
        .collect();
    let other = store.enqueue(&put("bcrt1qb", b"o"), 1).unwrap();
    // Items 0 and 2 delivered (nonces 0 and 2); 1 and 3 stay queued.
    store
        .settle_delivered("bcrt1qa", &[(seqs[0], 0), (seqs[2], 2)])
        .unwrap();
    let left: Vec<i64> = store.queued(10).unwrap().iter().map(|q| q.seq).collect();
    assert_eq!(left, [seqs[1], seqs[3], other]);
    assert_eq!(
        store.next_nonce("bcrt1qa").unwrap(),
        Some(4),
        "the queue's next nonce (4) is ahead of the delivered ones: kept"
    );
    store.set_next_nonce("bcrt1qa", 1).unwrap();
    store.settle_delivered("bcrt1qa", &[(seqs[1], 7)]).unwrap();
    assert_eq!(store.next_nonce("bcrt1qa").unwrap(), Some(8));
    // Nothing delivered changes nothing.
    store.settle_delivered("bcrt1qb", &[]).unwrap();
    assert_eq!(store.next_nonce("bcrt1qb").unwrap(), Some(1));
    assert_eq!(store.queue_len().unwrap(), 2);
}

#[test]
fn clear_pairing_keeps_key_and_queue() {
    let secrets = InMemorySecretStore::new();
    let mut store = DeviceStore::open_in_memory(&secrets).unwrap();
    let device = SecretKey::from_slice(&[9; 32]).unwrap();
    store.save_device_key("VID1", &device).unwrap();
    store.save_pending_code("7K3MQ9XZ", 10).unwrap();
    store.save_epoch("a", "d", &[1; 32], b"w").unwrap();
    store.enqueue(&put("a", b"k"), 1).unwrap();
    store.clear_pairing().unwrap();
    assert!(store.pending_code().unwrap().is_none());
    assert!(store.epoch("a", "d").unwrap().is_none());
    assert!(store.next_nonce("a").unwrap().is_none());
    assert_eq!(store.queue_len().unwrap(), 1);
    assert!(store.device_key().unwrap().is_some());
    assert!(matches!(store.offer(), Ok(None)));
}

/// The chain's schedule kept at pairing survives a reopen, a later pairing replaces it,
/// and a value that does not decode is a typed error, not a default.
#[test]
fn the_chains_fee_schedule_is_kept_and_replaced() {
    use crate::protocol::FeeSchedule;
    let scratch = Scratch::new();
    let own = FeeSchedule {
        base_fee: 37,
        put_per_byte: 2,
        read_per_address: 3,
    };
    {
        let mut store = scratch.open();
        assert_eq!(store.fee_schedule().unwrap(), None);
        store.save_fee_schedule(&FeeSchedule::DEFAULT).unwrap();
        store.save_fee_schedule(&own).unwrap();
    }
    let store = scratch.open();
    assert_eq!(store.fee_schedule().unwrap(), Some(own));
    store
        .conn
        .execute("UPDATE chain_fees SET schedule = x'01'", [])
        .unwrap();
    assert_eq!(
        store.fee_schedule().unwrap_err().code(),
        "device_store.invalid"
    );
}
