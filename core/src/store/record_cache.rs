//! The offline cache of records fetched from the network: sealed envelopes with their
//! ledger hashes, scanned by address in key-byte order like the node's range reads.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::error::StoreResult;
use super::rows::from_columns;
use super::validate;
use super::wallet_store::WalletStore;

/// A record as cached by the wallet (the envelope stays encrypted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedRecord {
    /// Data address the record is stored under.
    pub address: String,
    /// The record's range-ordered key bytes.
    pub key: Vec<u8>,
    /// Record format name (e.g. `trip-gps`).
    pub format: String,
    /// The encrypted envelope.
    pub envelope: Vec<u8>,
    /// Ledger hash of the ciphertext.
    pub c_hash: Vec<u8>,
    /// Ledger hash of the plaintext.
    pub d_hash: Vec<u8>,
    /// Block height the put was committed at.
    pub height: u64,
    /// Who signed the put (device public key or address).
    pub signer: String,
}

fn validate_record(record: &CachedRecord) -> StoreResult<()> {
    validate::non_empty("address", &record.address)?;
    validate::non_empty_bytes("key", &record.key)?;
    validate::non_empty("format", &record.format)?;
    validate::non_empty_bytes("envelope", &record.envelope)?;
    validate::non_empty_bytes("c_hash", &record.c_hash)?;
    validate::non_empty_bytes("d_hash", &record.d_hash)?;
    validate::non_empty("signer", &record.signer)?;
    validate::to_sql_int("height", record.height)?;
    Ok(())
}

const SELECT_RECORD: &str = "SELECT address, record_key, format, envelope, c_hash, d_hash, signer, height FROM record_cache";

/// A record row with its height still as SQLite's signed integer.
type RawRecord = (CachedRecord, i64);

fn raw_record(row: &Row<'_>) -> rusqlite::Result<RawRecord> {
    let record = from_columns!(row, CachedRecord {
        address,
        key,
        format,
        envelope,
        c_hash,
        d_hash,
        signer;
        height: 0,
    });
    Ok((record, row.get(7)?))
}

fn finish(raw: RawRecord) -> StoreResult<CachedRecord> {
    let (mut record, height) = raw;
    record.height = validate::from_sql_int("height", height)?;
    Ok(record)
}

/// Inserts or replaces the row of `record`'s address and key. A row that holds the same
/// record already (same cHash, the hash of the envelope every cached record was checked
/// against, and the same other fields) is left as it is: a read that finds its records
/// cached rewrites none of their envelopes.
fn insert(conn: &Connection, record: &CachedRecord) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO record_cache
             (address, record_key, format, envelope, c_hash, d_hash, height, signer)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (address, record_key) DO UPDATE SET
             format = excluded.format, envelope = excluded.envelope,
             c_hash = excluded.c_hash, d_hash = excluded.d_hash,
             height = excluded.height, signer = excluded.signer
         WHERE c_hash IS NOT excluded.c_hash OR d_hash IS NOT excluded.d_hash
             OR format IS NOT excluded.format OR height IS NOT excluded.height
             OR signer IS NOT excluded.signer",
    )?
    .execute(params![
        record.address,
        record.key,
        record.format,
        record.envelope,
        record.c_hash,
        record.d_hash,
        validate::to_sql_int("height", record.height)?,
        record.signer
    ])?;
    Ok(())
}

/// Whether `record` is cached with the very fields [`insert`] would write (the envelope
/// is bound by its cHash).
fn cached_as_is(conn: &Connection, record: &CachedRecord) -> StoreResult<bool> {
    let found = conn
        .prepare_cached(
            "SELECT 1 FROM record_cache WHERE address = ?1 AND record_key = ?2
                 AND c_hash = ?3 AND d_hash = ?4 AND format = ?5 AND height = ?6
                 AND signer = ?7",
        )?
        .query_row(
            params![
                record.address,
                record.key,
                record.c_hash,
                record.d_hash,
                record.format,
                validate::to_sql_int("height", record.height)?,
                record.signer
            ],
            |_| Ok(()),
        )
        .optional()?;
    Ok(found.is_some())
}

impl WalletStore {
    /// Caches one record, replacing a cached record with the same address and key.
    pub fn cache_record(&self, record: &CachedRecord) -> StoreResult<()> {
        self.cache_records(std::slice::from_ref(record))
    }

    /// Caches several records in one transaction; if any is invalid none is written.
    ///
    /// Records already cached as they are cost a read, not a write: a month read again
    /// commits (and syncs) nothing.
    pub fn cache_records(&self, records: &[CachedRecord]) -> StoreResult<()> {
        records.iter().try_for_each(validate_record)?;
        let changed = self.read(|conn| {
            let mut changed = Vec::new();
            for record in records {
                if !cached_as_is(conn, record)? {
                    changed.push(record);
                }
            }
            Ok(changed)
        })?;
        if changed.is_empty() {
            return Ok(());
        }
        self.write(|tx| changed.iter().try_for_each(|record| insert(tx, record)))
    }

    /// The cached record at `address` and `key`, if any.
    pub fn cached_record(&self, address: &str, key: &[u8]) -> StoreResult<Option<CachedRecord>> {
        let raw = self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!("{SELECT_RECORD} WHERE address = ?1 AND record_key = ?2"),
                    params![address, key],
                    raw_record,
                )
                .optional()?)
        })?;
        raw.map(finish).transpose()
    }

    /// Up to `limit` cached records of `address` whose key lies in
    /// `start_key..=end_key_inclusive`, ordered by key bytes (shorter prefix first).
    pub fn cached_range(
        &self,
        address: &str,
        start_key: &[u8],
        end_key_inclusive: &[u8],
        limit: u32,
    ) -> StoreResult<Vec<CachedRecord>> {
        let raw = self.read(|conn| {
            let mut stmt = conn.prepare(&format!(
                "{SELECT_RECORD} WHERE address = ?1 AND record_key >= ?2 AND record_key <= ?3
                 ORDER BY record_key LIMIT ?4"
            ))?;
            let rows = stmt.query_map(
                params![address, start_key, end_key_inclusive, limit],
                raw_record,
            )?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })?;
        raw.into_iter().map(finish).collect()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::error::StoreError;
    use super::super::test_support::{open_test_store, row_count};
    use super::*;

    fn record(address: &str, key: &[u8]) -> CachedRecord {
        CachedRecord {
            address: address.to_owned(),
            key: key.to_vec(),
            format: "trip-gps".to_owned(),
            envelope: [b"env:".as_slice(), key].concat(),
            c_hash: vec![0xc1; 32],
            d_hash: vec![0xd1; 32],
            height: 42,
            signer: "02abcdef".to_owned(),
        }
    }

    fn keys(records: &[CachedRecord]) -> Vec<Vec<u8>> {
        records.iter().map(|r| r.key.clone()).collect()
    }

    #[test]
    fn cache_then_read_back() {
        let store = open_test_store();
        let rec = record("bcrt1qa", b"\x01\x02");
        store.cache_record(&rec).unwrap();
        assert_eq!(
            store.cached_record("bcrt1qa", b"\x01\x02").unwrap(),
            Some(rec)
        );
        assert_eq!(store.cached_record("bcrt1qa", b"\x01").unwrap(), None);
        assert_eq!(store.cached_record("bcrt1qb", b"\x01\x02").unwrap(), None);
    }

    #[test]
    fn recaching_a_new_version_replaces_its_envelope_and_the_same_one_rewrites_nothing() {
        let store = open_test_store();
        store.cache_record(&record("bcrt1qa", b"k")).unwrap();
        let mut newer = record("bcrt1qa", b"k");
        newer.envelope = b"env:second".to_vec();
        newer.c_hash = vec![0xc2; 32];
        store.cache_record(&newer).unwrap();
        assert_eq!(
            store.cached_record("bcrt1qa", b"k").unwrap(),
            Some(newer.clone())
        );
        // The same record (same cHash and fields) again: its row is left as it is, which
        // an envelope that does not match its cHash (never cached in practice) shows.
        let mut same = newer.clone();
        same.envelope = b"env:unchecked".to_vec();
        store.cache_record(&same).unwrap();
        assert_eq!(store.cached_record("bcrt1qa", b"k").unwrap(), Some(newer));
        assert_eq!(row_count(&store, "record_cache"), 1);
    }

    #[test]
    fn recaching_replaces() {
        let store = open_test_store();
        store.cache_record(&record("bcrt1qa", b"k")).unwrap();
        let mut newer = record("bcrt1qa", b"k");
        newer.height = 43;
        store.cache_record(&newer).unwrap();
        assert_eq!(row_count(&store, "record_cache"), 1);
        assert_eq!(
            store
                .cached_record("bcrt1qa", b"k")
                .unwrap()
                .unwrap()
                .height,
            43
        );
    }

    #[test]
    fn range_is_ordered_by_key_bytes_inclusive_and_limited() {
        let store = open_test_store();
        let all: [&[u8]; 6] = [
            b"\xff",
            b"\x01\x00",
            b"\x02",
            b"\x01",
            b"\x00\xff",
            b"\x01\xff\xff",
        ];
        for key in all {
            store.cache_record(&record("bcrt1qa", key)).unwrap();
        }
        store.cache_record(&record("bcrt1qother", b"\x01")).unwrap();
        let range = store
            .cached_range("bcrt1qa", b"\x01", b"\x02", 100)
            .unwrap();
        assert_eq!(
            keys(&range),
            [
                b"\x01".to_vec(),
                b"\x01\x00".to_vec(),
                b"\x01\xff\xff".to_vec(),
                b"\x02".to_vec()
            ]
        );
        let limited = store.cached_range("bcrt1qa", b"\x00", b"\xff", 2).unwrap();
        assert_eq!(keys(&limited), [b"\x00\xff".to_vec(), b"\x01".to_vec()]);
        assert!(
            store
                .cached_range("bcrt1qa", b"\x03", b"\x02", 10)
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .cached_range("bcrt1qa", b"\x00", b"\xff", 0)
                .unwrap()
                .is_empty()
        );
    }

    fn assert_rejected(change: impl FnOnce(&mut CachedRecord), field: &'static str) {
        let store = open_test_store();
        let mut rec = record("bcrt1qa", b"k");
        change(&mut rec);
        let err = store
            .cache_records(&[record("bcrt1qa", b"ok"), rec])
            .unwrap_err();
        let matched = match err {
            StoreError::EmptyField { field: f } | StoreError::ValueOutOfRange { field: f } => f,
            other => panic!("unexpected error {other:?}"),
        };
        assert_eq!(matched, field);
        assert_eq!(row_count(&store, "record_cache"), 0, "nothing written");
    }

    /// One change that makes a record invalid.
    type RecordChange = fn(&mut CachedRecord);

    #[test]
    fn empty_fields_and_an_out_of_range_height_are_rejected() {
        let cases: [(RecordChange, &str); 8] = [
            (|r| r.address.clear(), "address"),
            (|r| r.key.clear(), "key"),
            (|r| r.format.clear(), "format"),
            (|r| r.envelope.clear(), "envelope"),
            (|r| r.c_hash.clear(), "c_hash"),
            (|r| r.d_hash.clear(), "d_hash"),
            (|r| r.signer.clear(), "signer"),
            (|r| r.height = u64::MAX, "height"),
        ];
        for (change, field) in cases {
            assert_rejected(change, field);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// A range read equals filtering and sorting the keys in memory.
        #[test]
        fn range_matches_sorted_filter(
            key_set in proptest::collection::btree_set(proptest::collection::vec(any::<u8>(), 1..5), 1..30),
            start in proptest::collection::vec(any::<u8>(), 0..4),
            end in proptest::collection::vec(any::<u8>(), 0..4),
            limit in 0u32..40,
        ) {
            let store = open_test_store();
            let records: Vec<CachedRecord> = key_set.iter().map(|k| record("bcrt1qa", k)).collect();
            store.cache_records(&records).unwrap();
            let expected: Vec<Vec<u8>> = key_set
                .iter()
                .filter(|k| k.as_slice() >= start.as_slice() && k.as_slice() <= end.as_slice())
                .take(limit as usize)
                .cloned()
                .collect();
            let got = store.cached_range("bcrt1qa", &start, &end, limit).unwrap();
            prop_assert_eq!(keys(&got), expected);
        }
    }
}
