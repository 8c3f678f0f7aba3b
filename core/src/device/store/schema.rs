//! The car store's schema, applied in order on open (`PRAGMA user_version`).

use rusqlite::Connection;

use super::{DEVICE_SCHEMA_VERSION, Result};
use crate::device::error::DeviceStoreError;

const MIGRATIONS: [&str; 4] = [
    r"
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
",
    r"
CREATE TABLE write_credentials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id TEXT NOT NULL,
    token_sealed BLOB NOT NULL,
    address TEXT,
    spent INTEGER NOT NULL DEFAULT 0 CHECK (spent IN (0, 1))
);
CREATE INDEX write_credentials_by_address ON write_credentials (key_id, address);
",
    // Version 3: fee stamps the owner handed over, each paying one record put.
    r"
CREATE TABLE fee_stamps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stamp_id BLOB NOT NULL UNIQUE,
    stamp_sealed BLOB NOT NULL
);
",
    // Version 4: the chain's fee schedule, read with its proof at pairing, for the
    // puts the car signs offline.
    r"
CREATE TABLE chain_fees (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    schedule BLOB NOT NULL
);
",
];

pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
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
