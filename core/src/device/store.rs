//! The car's own SQLite store (rusqlite, bundled): its device key, the pairing in
//! progress or done, the epoch keys per (address, day), each pool address's next nonce,
//! the offline queue of signed puts, delivered in order, and the write credentials of
//! its private agent node (schema 2), each bound to one pool address on first use.
//!
//! 8 KiB pages, WAL, `synchronous = FULL` (a record accepted into the queue survives a
//! power cut). Secrets are sealed at rest (see `device::at_rest`). Schema versions are
//! tracked in `PRAGMA user_version` and applied in order on open.

use std::path::Path;
use std::time::Duration;

use bitcoin::secp256k1::SecretKey;
use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroizing;

use super::at_rest::{ColumnCipher, DEVICE_MASTER_KEY_NAME};
use super::error::DeviceStoreError;
use crate::pairing::PairingOffer;
use crate::store::SecretStore;

type Result<T> = std::result::Result<T, DeviceStoreError>;

/// Page size of new store files.
pub const DEVICE_PAGE_SIZE: u32 = 8192;
/// Schema version this build writes.
pub const DEVICE_SCHEMA_VERSION: i64 = 3;

const MIGRATIONS: [&str; 3] = [
    r#"
CREATE TABLE device_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    vid TEXT NOT NULL,
    secret_sealed BLOB NOT NULL
);
CREATE TABLE pairing (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    code_sealed BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    offer_sealed BLOB,
    chain_id TEXT,
    network TEXT
);
CREATE TABLE epochs (
    address TEXT NOT NULL,
    day TEXT NOT NULL,
    key_sealed BLOB NOT NULL,
    wrapped BLOB NOT NULL,
    PRIMARY KEY (address, day)
);
CREATE TABLE nonces (
    address TEXT PRIMARY KEY,
    next_nonce INTEGER NOT NULL
);
CREATE TABLE queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    address TEXT NOT NULL,
    key BLOB NOT NULL,
    format TEXT NOT NULL,
    envelope BLOB NOT NULL,
    tx BLOB NOT NULL,
    key_index INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'submitted'))
);
"#,
    r#"
CREATE TABLE write_credentials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id TEXT NOT NULL,
    token_sealed BLOB NOT NULL,
    address TEXT,
    spent INTEGER NOT NULL DEFAULT 0 CHECK (spent IN (0, 1))
);
CREATE INDEX write_credentials_by_address ON write_credentials (key_id, address);
"#,
    // Version 3: fee stamps the owner handed over, each paying one record put.
    r#"
CREATE TABLE fee_stamps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stamp_id BLOB NOT NULL UNIQUE,
    stamp_sealed BLOB NOT NULL
);
"#,
];

/// A write credential as the store gives it: its row and its bytes.
pub type StoredCredential = (i64, Zeroizing<Vec<u8>>);

/// An epoch as stored: the key bytes and its owner-wrapped form.
pub type StoredEpoch = (Zeroizing<Vec<u8>>, Vec<u8>);

/// A put waiting in the offline queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedPut {
    /// Queue position (increasing; delivery follows it).
    pub seq: i64,
    /// Data address.
    pub address: String,
    /// Encoded record key.
    pub key: Vec<u8>,
    /// Record format.
    pub format: String,
    /// The sealed envelope (the KV value).
    pub envelope: Vec<u8>,
    /// The signed `RecordPut` transaction, canonical bytes.
    pub tx: Vec<u8>,
    /// Index of the address in the pool (to re-sign with another nonce).
    pub key_index: u32,
    /// When it was queued (unix seconds).
    pub created_at: u64,
    /// Whether the transaction already reached the ledger (only the value remains).
    pub submitted: bool,
}

/// A put to add to the queue (its `seq` is assigned by the store).
#[derive(Clone, Debug)]
pub struct NewPut<'a> {
    /// Data address.
    pub address: &'a str,
    /// Encoded record key.
    pub key: &'a [u8],
    /// Record format.
    pub format: &'a str,
    /// Sealed envelope.
    pub envelope: &'a [u8],
    /// Signed transaction bytes.
    pub tx: &'a [u8],
    /// Index of the address in the pool.
    pub key_index: u32,
    /// Queue time (unix seconds).
    pub created_at: u64,
}

/// The car's store. One per car; not shared between processes.
pub struct DeviceStore {
    conn: Connection,
    cipher: ColumnCipher,
}

impl std::fmt::Debug for DeviceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceStore").finish_non_exhaustive()
    }
}

impl DeviceStore {
    /// Opens (creating if needed) the store at `path`, migrating it to the current
    /// schema and loading (or creating) its master key from `secrets`.
    pub fn open(path: &Path, secrets: &dyn SecretStore) -> Result<Self> {
        Self::init(Connection::open(path)?, secrets)
    }

    /// A private in-memory store (tests, tools).
    pub fn open_in_memory(secrets: &dyn SecretStore) -> Result<Self> {
        Self::init(Connection::open_in_memory()?, secrets)
    }

    fn init(mut conn: Connection, secrets: &dyn SecretStore) -> Result<Self> {
        conn.pragma_update(None, "page_size", DEVICE_PAGE_SIZE)?;
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(Duration::from_secs(5))?;
        migrate(&mut conn)?;
        let has_key: bool =
            conn.query_row("SELECT EXISTS(SELECT 1 FROM device_key)", [], |r| r.get(0))?;
        let master = match secrets.load(DEVICE_MASTER_KEY_NAME)? {
            Some(bytes) => Zeroizing::new(bytes),
            None if has_key => return Err(DeviceStoreError::MasterKeyMissing),
            None => {
                let mut fresh = Zeroizing::new(vec![0u8; 32]);
                getrandom::fill(fresh.as_mut_slice()).map_err(|_| DeviceStoreError::Random)?;
                secrets.save(DEVICE_MASTER_KEY_NAME, &fresh)?;
                fresh
            }
        };
        let cipher = ColumnCipher::from_master_key(&master)?;
        Ok(Self { conn, cipher })
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// The device key and its VID, if first boot already happened.
    pub fn device_key(&self) -> Result<Option<(String, SecretKey)>> {
        let row: Option<(String, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT vid, secret_sealed FROM device_key WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((vid, sealed)) = row else {
            return Ok(None);
        };
        let bytes = self.cipher.open("device_key/secret/1", &sealed)?;
        let secret = SecretKey::from_slice(&bytes)
            .map_err(|_| DeviceStoreError::Invalid { what: "device key" })?;
        Ok(Some((vid, secret)))
    }

    /// Saves the device key made at first boot (never replaced afterwards).
    pub fn save_device_key(&self, vid: &str, secret: &SecretKey) -> Result<()> {
        let sealed = self.cipher.seal(
            "device_key/secret/1",
            &Zeroizing::new(secret.secret_bytes())[..],
        )?;
        self.conn.execute(
            "INSERT INTO device_key (id, vid, secret_sealed) VALUES (1, ?1, ?2)",
            params![vid, sealed],
        )?;
        Ok(())
    }

    /// Starts a new pairing: stores the code shown and forgets any previous offer.
    pub fn save_pending_code(&self, code: &str, expires_at: u64) -> Result<()> {
        let sealed = self.cipher.seal("pairing/code/1", code.as_bytes())?;
        self.conn.execute(
            "INSERT OR REPLACE INTO pairing (id, code_sealed, expires_at, offer_sealed)
             VALUES (1, ?1, ?2, NULL)",
            params![sealed, to_i64(expires_at)?],
        )?;
        Ok(())
    }

    /// The code of the current pairing and its expiry.
    pub fn pending_code(&self) -> Result<Option<(Zeroizing<String>, u64)>> {
        let row: Option<(Vec<u8>, i64)> = self
            .conn
            .query_row(
                "SELECT code_sealed, expires_at FROM pairing WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((sealed, expires_at)) = row else {
            return Ok(None);
        };
        let bytes = self.cipher.open("pairing/code/1", &sealed)?;
        let code = String::from_utf8(bytes.to_vec()).map_err(|_| DeviceStoreError::Invalid {
            what: "pairing code",
        })?;
        Ok(Some((Zeroizing::new(code), from_i64(expires_at)?)))
    }

    /// Saves the owner's accepted offer (the car is paired once the ledger agrees).
    pub fn save_offer(&self, offer: &PairingOffer, chain_id: &str, network: &str) -> Result<()> {
        let json = offer
            .to_json()
            .map_err(|_| DeviceStoreError::Invalid { what: "offer" })?;
        let sealed = self.cipher.seal("pairing/offer/1", &json)?;
        let changed = self.conn.execute(
            "UPDATE pairing SET offer_sealed = ?1, chain_id = ?2, network = ?3 WHERE id = 1",
            params![sealed, chain_id, network],
        )?;
        if changed == 0 {
            return Err(DeviceStoreError::Invalid {
                what: "pairing (no code pending)",
            });
        }
        Ok(())
    }

    /// The stored offer, if pairing completed on the car's side.
    pub fn offer(&self) -> Result<Option<PairingOffer>> {
        let sealed: Option<Option<Vec<u8>>> = self
            .conn
            .query_row("SELECT offer_sealed FROM pairing WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        let Some(Some(sealed)) = sealed else {
            return Ok(None);
        };
        let json = self.cipher.open("pairing/offer/1", &sealed)?;
        PairingOffer::from_json(&json)
            .map(Some)
            .map_err(|_| DeviceStoreError::Invalid { what: "offer" })
    }

    /// The chain id and network name the car was paired on.
    pub fn chain(&self) -> Result<Option<(String, String)>> {
        let row: Option<(Option<String>, Option<String>)> = self
            .conn
            .query_row(
                "SELECT chain_id, network FROM pairing WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match row {
            Some((Some(chain), Some(network))) => Some((chain, network)),
            _ => None,
        })
    }

    /// Forgets the pairing, its epoch keys and nonces (after a reset or transfer). The
    /// queue is kept: its puts are already sealed and signed for the previous owner.
    pub fn clear_pairing(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute_batch("DELETE FROM pairing; DELETE FROM epochs; DELETE FROM nonces;")?;
        tx.commit()?;
        Ok(())
    }

    /// The epoch of (`address`, `day`): key bytes and its owner-wrapped form.
    pub fn epoch(&self, address: &str, day: &str) -> Result<Option<StoredEpoch>> {
        let row: Option<(Vec<u8>, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT key_sealed, wrapped FROM epochs WHERE address = ?1 AND day = ?2",
                params![address, day],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((sealed, wrapped)) = row else {
            return Ok(None);
        };
        let key = self.cipher.open(&epoch_location(address, day), &sealed)?;
        Ok(Some((key, wrapped)))
    }

    /// Saves the epoch of (`address`, `day`).
    pub fn save_epoch(&self, address: &str, day: &str, key: &[u8], wrapped: &[u8]) -> Result<()> {
        let sealed = self.cipher.seal(&epoch_location(address, day), key)?;
        self.conn.execute(
            "INSERT OR REPLACE INTO epochs (address, day, key_sealed, wrapped) VALUES (?1, ?2, ?3, ?4)",
            params![address, day, sealed, wrapped],
        )?;
        Ok(())
    }

    /// The next nonce to use for `address`, when known locally.
    pub fn next_nonce(&self, address: &str) -> Result<Option<u64>> {
        let nonce: Option<i64> = self
            .conn
            .query_row(
                "SELECT next_nonce FROM nonces WHERE address = ?1",
                params![address],
                |r| r.get(0),
            )
            .optional()?;
        nonce.map(from_i64).transpose()
    }

    /// Forgets the local nonce of `address` (the ledger disagreed; ask it again).
    pub fn forget_nonce(&self, address: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM nonces WHERE address = ?1", params![address])?;
        Ok(())
    }

    /// Adds `put` to the queue and records `next_nonce` for its address, atomically.
    /// Returns the queue position.
    pub fn enqueue(&mut self, put: &NewPut<'_>, next_nonce: u64) -> Result<i64> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO queue (address, key, format, envelope, tx, key_index, created_at, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending')",
            params![
                put.address,
                put.key,
                put.format,
                put.envelope,
                put.tx,
                put.key_index,
                to_i64(put.created_at)?
            ],
        )?;
        let seq = tx.last_insert_rowid();
        tx.execute(
            "INSERT OR REPLACE INTO nonces (address, next_nonce) VALUES (?1, ?2)",
            params![put.address, to_i64(next_nonce)?],
        )?;
        tx.commit()?;
        Ok(seq)
    }

    /// Up to `limit` queued puts, oldest first.
    pub fn queued(&self, limit: usize) -> Result<Vec<QueuedPut>> {
        self.select_queued(
            "SELECT seq, address, key, format, envelope, tx, created_at, state, key_index
             FROM queue ORDER BY seq LIMIT ?1",
            params![i64::try_from(limit).unwrap_or(i64::MAX)],
        )
    }

    /// Up to `limit` queued puts of `address` after queue position `after`, oldest first.
    pub fn queued_for(&self, address: &str, after: i64, limit: usize) -> Result<Vec<QueuedPut>> {
        self.select_queued(
            "SELECT seq, address, key, format, envelope, tx, created_at, state, key_index
             FROM queue WHERE address = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            params![address, after, i64::try_from(limit).unwrap_or(i64::MAX)],
        )
    }

    /// The addresses that have puts waiting, each once (in no meaningful order).
    pub fn queued_addresses(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT address FROM queue ORDER BY address")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    fn select_queued(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<QueuedPut>> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map(args, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Vec<u8>>(4)?,
                r.get::<_, Vec<u8>>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, u32>(8)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, address, key, format, envelope, tx, created_at, state, key_index) = row?;
            out.push(QueuedPut {
                seq,
                address,
                key,
                format,
                envelope,
                tx,
                key_index,
                created_at: from_i64(created_at)?,
                submitted: state == "submitted",
            });
        }
        Ok(out)
    }

    /// Marks the transaction of `seq` as on the ledger (only the value remains to send).
    pub fn mark_submitted(&self, seq: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE queue SET state = 'submitted' WHERE seq = ?1",
            params![seq],
        )?;
        Ok(())
    }

    /// Replaces the signed transaction of `seq` (re-signed with the ledger's nonce, or in
    /// the current transaction format); a re-signed transaction has not reached the
    /// ledger, so the put is pending again.
    pub fn update_tx(&self, seq: i64, tx: &[u8]) -> Result<()> {
        self.conn.execute(
            "UPDATE queue SET tx = ?2, state = 'pending' WHERE seq = ?1",
            params![seq, tx],
        )?;
        Ok(())
    }

    /// Records the next nonce of `address`.
    pub fn set_next_nonce(&self, address: &str, next_nonce: u64) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO nonces (address, next_nonce) VALUES (?1, ?2)",
            params![address, to_i64(next_nonce)?],
        )?;
        Ok(())
    }

    /// Removes the delivered puts `delivered` (queue position, nonce) of `address` and
    /// moves its next nonce past the highest of them, in one commit: a batch's settlement
    /// costs one durable write, and a crash before it leaves the batch queued (sent again,
    /// the node answers "already stored").
    pub fn settle_delivered(&mut self, address: &str, delivered: &[(i64, u64)]) -> Result<()> {
        let Some(highest) = delivered.iter().map(|(_, nonce)| *nonce).max() else {
            return Ok(());
        };
        let next = to_i64(highest.saturating_add(1))?;
        let tx = self.conn.transaction()?;
        {
            let mut remove = tx.prepare_cached("DELETE FROM queue WHERE seq = ?1")?;
            for (seq, _) in delivered {
                remove.execute(params![seq])?;
            }
        }
        tx.execute(
            "INSERT INTO nonces (address, next_nonce) VALUES (?1, ?2)
             ON CONFLICT(address) DO UPDATE SET next_nonce = max(next_nonce, excluded.next_nonce)",
            params![address, next],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Keeps freshly issued write credentials of the issuer key `key_id` (sealed).
    pub fn add_credentials(&mut self, key_id: &str, tokens: &[Vec<u8>]) -> Result<()> {
        let location = credential_location(key_id);
        let sealed = tokens
            .iter()
            .map(|token| self.cipher.seal(&location, token))
            .collect::<Result<Vec<_>>>()?;
        let tx = self.conn.transaction()?;
        for token in sealed {
            tx.execute(
                "INSERT INTO write_credentials (key_id, token_sealed) VALUES (?1, ?2)",
                params![key_id, token],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Unused credentials of `key_id`.
    pub fn fresh_credentials(&self, key_id: &str) -> Result<u64> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM write_credentials WHERE key_id = ?1 AND address IS NULL",
            params![key_id],
            |r| r.get(0),
        )?;
        from_i64(n)
    }

    /// The credential of `key_id` bound to `address` and not spent; else a fresh one,
    /// bound to `address` now (atomically). `None` when none is left.
    pub fn credential_for(
        &mut self,
        key_id: &str,
        address: &str,
    ) -> Result<Option<StoredCredential>> {
        let tx = self.conn.transaction()?;
        let bound: Option<(i64, Vec<u8>)> = tx
            .query_row(
                "SELECT id, token_sealed FROM write_credentials
                 WHERE key_id = ?1 AND address = ?2 AND spent = 0 ORDER BY id LIMIT 1",
                params![key_id, address],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let row = match bound {
            Some(row) => Some(row),
            None => {
                let fresh: Option<(i64, Vec<u8>)> = tx
                    .query_row(
                        "SELECT id, token_sealed FROM write_credentials
                         WHERE key_id = ?1 AND address IS NULL ORDER BY id LIMIT 1",
                        params![key_id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                if let Some((id, _)) = &fresh {
                    tx.execute(
                        "UPDATE write_credentials SET address = ?2 WHERE id = ?1",
                        params![id, address],
                    )?;
                }
                fresh
            }
        };
        tx.commit()?;
        row.map(|(id, sealed)| Ok((id, self.cipher.open(&credential_location(key_id), &sealed)?)))
            .transpose()
    }

    /// Marks a credential spent (the node says it stored all it may): its address takes
    /// a fresh one next time.
    pub fn spend_credential(&self, id: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE write_credentials SET spent = 1 WHERE id = ?1",
            params![id],
        )?;
        Ok(())
    }

    /// Keeps fee stamps: `(stamp id, the [`crate::tokens::OwnedStamp`] bytes)`, the
    /// bytes sealed; a stamp held already (same id) is not added twice.
    pub fn add_fee_stamps(&mut self, stamps: &[([u8; 32], &[u8])]) -> Result<()> {
        let sealed = stamps
            .iter()
            .map(|(id, stamp)| Ok((id, self.cipher.seal(FEE_STAMP_LOCATION, stamp)?)))
            .collect::<Result<Vec<_>>>()?;
        let tx = self.conn.transaction()?;
        for (id, stamp) in sealed {
            tx.execute(
                "INSERT OR IGNORE INTO fee_stamps (stamp_id, stamp_sealed) VALUES (?1, ?2)",
                params![id.as_slice(), stamp],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Fee stamps not yet attached to a put.
    pub fn fee_stamp_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM fee_stamps", [], |r| r.get(0))?;
        from_i64(n)
    }

    /// The oldest unattached fee stamp: its row and its bytes.
    pub fn next_fee_stamp(&self) -> Result<Option<(i64, Zeroizing<Vec<u8>>)>> {
        let row: Option<(i64, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT id, stamp_sealed FROM fee_stamps ORDER BY id LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(id, sealed)| Ok((id, self.cipher.open(FEE_STAMP_LOCATION, &sealed)?)))
            .transpose()
    }

    /// Forgets fee stamp `stamp_id` (it paid a put outside the queue, or was refused).
    pub fn remove_fee_stamp(&self, stamp_id: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM fee_stamps WHERE id = ?1", params![stamp_id])?;
        Ok(())
    }

    /// Attaches fee stamp `stamp_id` to the queued put `seq`, whose transaction becomes
    /// `tx` (the put carrying the stamp), in one commit: the stamp leaves the store as
    /// it enters the queue, so it is never attached to two puts.
    pub fn attach_fee_stamp(&mut self, stamp_id: i64, seq: i64, tx_bytes: &[u8]) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM fee_stamps WHERE id = ?1", params![stamp_id])?;
        tx.execute(
            "UPDATE queue SET tx = ?2 WHERE seq = ?1",
            params![seq, tx_bytes],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Number of puts waiting.
    pub fn queue_len(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM queue", [], |r| r.get(0))?;
        from_i64(n)
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > DEVICE_SCHEMA_VERSION {
        return Err(DeviceStoreError::SchemaTooNew {
            found: version,
            supported: DEVICE_SCHEMA_VERSION,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let target = i64::try_from(index).unwrap_or(i64::MAX).saturating_add(1);
        if target <= version {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", target)?;
        tx.commit()?;
        tracing::info!(target_version = target, "car store migrated");
    }
    Ok(())
}

/// Sealing location of fee stamps.
const FEE_STAMP_LOCATION: &str = "fee_stamps/stamp";

fn credential_location(key_id: &str) -> String {
    format!("write_credentials/token/{key_id}")
}

fn epoch_location(address: &str, day: &str) -> String {
    format!("epochs/key/{address}/{day}")
}

fn to_i64(value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| DeviceStoreError::Invalid { what: "integer" })
}

fn from_i64(value: i64) -> Result<u64> {
    u64::try_from(value).map_err(|_| DeviceStoreError::Invalid { what: "integer" })
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn a_version_1_store_upgrades_and_keeps_its_queue() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("car.db");
        let secrets = InMemorySecretStore::new();
        {
            // A store as the schema-1 build left it: its tables, one queued put.
            let mut store = DeviceStore::open(&path, &secrets).unwrap();
            store.enqueue(&put("bcrt1qa", b"k1"), 4).unwrap();
            store
                .conn
                .execute_batch(
                    "DROP TABLE write_credentials; DROP TABLE fee_stamps; PRAGMA user_version = 1;",
                )
                .unwrap();
        }
        let mut store = DeviceStore::open(&path, &secrets).unwrap();
        assert_eq!(store.schema_version().unwrap(), DEVICE_SCHEMA_VERSION);
        assert_eq!(store.queue_len().unwrap(), 1);
        assert_eq!(store.next_nonce("bcrt1qa").unwrap(), Some(4));
        assert_eq!(store.fresh_credentials("k").unwrap(), 0);
        assert!(store.credential_for("k", "bcrt1qa").unwrap().is_none());
    }

    #[test]
    fn a_version_2_store_upgrades_and_keeps_fee_stamps_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("car.db");
        let secrets = InMemorySecretStore::new();
        {
            // A store as the schema-2 build left it: no stamp table, one queued put.
            let mut store = DeviceStore::open(&path, &secrets).unwrap();
            store.enqueue(&put("bcrt1qa", b"k1"), 4).unwrap();
            store
                .conn
                .execute_batch("DROP TABLE fee_stamps; PRAGMA user_version = 2;")
                .unwrap();
        }
        let mut store = DeviceStore::open(&path, &secrets).unwrap();
        assert_eq!(store.schema_version().unwrap(), 3);
        assert_eq!(store.queue_len().unwrap(), 1);
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
        let store = DeviceStore::open(&path, &secrets).unwrap();
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
}
