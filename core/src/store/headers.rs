//! Block headers the light client has verified, cached by height so the wallet can
//! check proofs offline.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::error::{StoreError, StoreResult};
use super::validate;
use super::wallet_store::WalletStore;

/// A block header as cached by the wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRow {
    /// Block height.
    pub height: u64,
    /// The header's hash.
    pub hash: Vec<u8>,
    /// The header's canonical encoding.
    pub bytes: Vec<u8>,
}

fn validate_headers(headers: &[HeaderRow]) -> StoreResult<()> {
    let mut hashes: HashMap<u64, &[u8]> = HashMap::with_capacity(headers.len());
    for header in headers {
        validate::to_sql_int("height", header.height)?;
        validate::non_empty_bytes("hash", &header.hash)?;
        validate::non_empty_bytes("bytes", &header.bytes)?;
        if let Some(previous) = hashes.insert(header.height, &header.hash)
            && previous != header.hash.as_slice()
        {
            return Err(StoreError::HeaderConflict {
                height: header.height,
            });
        }
    }
    Ok(())
}

fn stored_hash(conn: &Connection, height: i64) -> StoreResult<Option<Vec<u8>>> {
    Ok(conn
        .query_row(
            "SELECT hash FROM headers WHERE height = ?1",
            [height],
            |row| row.get(0),
        )
        .optional()?)
}

fn read_header(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> StoreResult<Option<HeaderRow>> {
    let raw: Option<(i64, Vec<u8>, Vec<u8>)> = conn
        .query_row(sql, args, |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .optional()?;
    raw.map(|(height, hash, bytes)| {
        Ok(HeaderRow {
            height: validate::from_sql_int("height", height)?,
            hash,
            bytes,
        })
    })
    .transpose()
}

/// [`WalletStore::save_headers`] inside the caller's transaction.
pub(super) fn save_headers_in(tx: &Transaction<'_>, headers: &[HeaderRow]) -> StoreResult<()> {
    validate_headers(headers)?;
    for header in headers {
        let height = validate::to_sql_int("height", header.height)?;
        match stored_hash(tx, height)? {
            Some(hash) if hash == header.hash => {}
            Some(_) => {
                return Err(StoreError::HeaderConflict {
                    height: header.height,
                });
            }
            None => {
                tx.execute(
                    "INSERT INTO headers (height, hash, bytes) VALUES (?1, ?2, ?3)",
                    params![height, header.hash, header.bytes],
                )?;
            }
        }
    }
    Ok(())
}

impl WalletStore {
    /// Saves headers in one transaction. A height already stored with the same hash is
    /// kept as is; a different hash fails with [`StoreError::HeaderConflict`] and
    /// nothing of the batch is written.
    pub fn save_headers(&self, headers: &[HeaderRow]) -> StoreResult<()> {
        self.write(|tx| save_headers_in(tx, headers))
    }

    /// Saves `headers` (as [`Self::save_headers`]) and replaces the light client's
    /// trusted consensus state with `(height, block)`, in one transaction.
    pub fn save_headers_and_trust(
        &self,
        headers: &[HeaderRow],
        height: u64,
        block: &[u8],
    ) -> StoreResult<()> {
        validate_headers(headers)?;
        let height = validate::to_sql_int("height", height)?;
        validate::non_empty_bytes("block", block)?;
        self.write(|tx| {
            save_headers_in(tx, headers)?;
            tx.execute(
                "INSERT OR REPLACE INTO light_trust (id, height, block) VALUES (1, ?1, ?2)",
                params![height, block],
            )?;
            Ok(())
        })
    }

    /// The light client's trusted consensus state `(height, block)`, if any.
    pub fn light_trust(&self) -> StoreResult<Option<(u64, Vec<u8>)>> {
        self.read(|conn| {
            let raw: Option<(i64, Vec<u8>)> = conn
                .query_row(
                    "SELECT height, block FROM light_trust WHERE id = 1",
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            raw.map(|(height, block)| Ok((validate::from_sql_int("height", height)?, block)))
                .transpose()
        })
    }

    /// The header at `height`, if cached.
    pub fn header(&self, height: u64) -> StoreResult<Option<HeaderRow>> {
        let Ok(height) = i64::try_from(height) else {
            return Ok(None);
        };
        self.read(|conn| {
            read_header(
                conn,
                "SELECT height, hash, bytes FROM headers WHERE height = ?1",
                [height],
            )
        })
    }

    /// The highest cached header, if any.
    pub fn latest_header(&self) -> StoreResult<Option<HeaderRow>> {
        self.read(|conn| {
            read_header(
                conn,
                "SELECT height, hash, bytes FROM headers ORDER BY height DESC LIMIT 1",
                [],
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{open_test_store, row_count};
    use super::*;

    fn header(height: u64, tag: u8) -> HeaderRow {
        HeaderRow {
            height,
            hash: vec![tag; 32],
            bytes: vec![tag, height as u8, 0xee],
        }
    }

    #[test]
    fn save_then_read_by_height_and_latest() {
        let store = open_test_store();
        assert_eq!(store.latest_header().unwrap(), None);
        store
            .save_headers(&[header(2, 2), header(0, 0), header(1, 1)])
            .unwrap();
        assert_eq!(store.header(1).unwrap(), Some(header(1, 1)));
        assert_eq!(store.header(7).unwrap(), None);
        assert_eq!(store.header(u64::MAX).unwrap(), None);
        assert_eq!(store.latest_header().unwrap(), Some(header(2, 2)));
    }

    #[test]
    fn same_header_again_is_idempotent() {
        let store = open_test_store();
        store.save_headers(&[header(5, 5)]).unwrap();
        store.save_headers(&[header(5, 5), header(6, 6)]).unwrap();
        assert_eq!(row_count(&store, "headers"), 2);
    }

    #[test]
    fn conflicting_stored_header_rejects_whole_batch() {
        let store = open_test_store();
        store.save_headers(&[header(5, 5)]).unwrap();
        let err = store
            .save_headers(&[header(6, 6), header(5, 9)])
            .unwrap_err();
        assert!(matches!(err, StoreError::HeaderConflict { height: 5 }));
        assert_eq!(row_count(&store, "headers"), 1, "height 6 not written");
        assert_eq!(store.header(5).unwrap(), Some(header(5, 5)));
    }

    #[test]
    fn conflict_inside_batch_rejected() {
        let store = open_test_store();
        let err = store
            .save_headers(&[header(3, 3), header(3, 4)])
            .unwrap_err();
        assert!(matches!(err, StoreError::HeaderConflict { height: 3 }));
        assert_eq!(row_count(&store, "headers"), 0);
    }

    #[test]
    fn empty_hash_or_bytes_rejected() {
        let store = open_test_store();
        let mut no_hash = header(1, 1);
        no_hash.hash.clear();
        assert!(matches!(
            store.save_headers(&[header(0, 0), no_hash]),
            Err(StoreError::EmptyField { field: "hash" })
        ));
        let mut no_bytes = header(1, 1);
        no_bytes.bytes.clear();
        assert!(matches!(
            store.save_headers(&[no_bytes]),
            Err(StoreError::EmptyField { field: "bytes" })
        ));
        assert_eq!(row_count(&store, "headers"), 0);
    }

    #[test]
    fn height_beyond_sqlite_range_rejected() {
        let store = open_test_store();
        assert!(matches!(
            store.save_headers(&[header(u64::MAX, 1)]),
            Err(StoreError::ValueOutOfRange { field: "height" })
        ));
        assert_eq!(row_count(&store, "headers"), 0);
    }
}
