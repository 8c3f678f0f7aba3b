//! The at-rest master key: 32 random bytes kept by the host's secret store under
//! [`MASTER_KEY_NAME`], created on the first open.
//!
//! A key-check value (a fixed text sealed under the key) in `meta` detects a secret
//! store that returns another key. When the secret store has lost the key and the
//! file already holds sealed secrets, opening fails with
//! [`StoreError::MasterKeyMissing`] rather than silently starting over.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use zeroize::Zeroizing;

use super::at_rest::{AtRestCipher, MASTER_KEY_LEN, SecretLocation};
use super::error::{StoreError, StoreResult};
use super::secret_store::SecretStore;

/// Name of the master key in the host's secret store.
pub const MASTER_KEY_NAME: &str = "carchain.wallet.master-key";
const KEY_CHECK_ROW: &str = "at_rest_key_check";
const KEY_CHECK_TEXT: &[u8] = b"carchain wallet store key check";
const KEY_CHECK_LOCATION: SecretLocation<'static> = SecretLocation {
    table: "meta",
    column: "value",
    row: KEY_CHECK_ROW,
};

/// Loads the master key (creating it on a store without secrets) and returns the
/// cipher for the secret columns. Needs the schema at version 1 or later.
pub fn establish(conn: &mut Connection, secrets: &dyn SecretStore) -> StoreResult<AtRestCipher> {
    match secrets.load(MASTER_KEY_NAME)? {
        Some(bytes) => {
            let master_key = Zeroizing::new(bytes);
            let cipher = AtRestCipher::from_master_key(&master_key)?;
            match read_key_check(conn)? {
                Some(sealed) => {
                    cipher
                        .open(&KEY_CHECK_LOCATION, &sealed)
                        .map_err(|_| StoreError::MasterKeyMismatch)?;
                }
                None => write_key_check(conn, &cipher)?,
            }
            Ok(cipher)
        }
        None => {
            if holds_sealed_secrets(conn)? {
                return Err(StoreError::MasterKeyMissing);
            }
            let mut master_key = Zeroizing::new([0u8; MASTER_KEY_LEN]);
            getrandom::fill(master_key.as_mut_slice()).map_err(|_| StoreError::Random)?;
            secrets.save(MASTER_KEY_NAME, master_key.as_slice())?;
            let cipher = AtRestCipher::from_master_key(master_key.as_slice())?;
            write_key_check(conn, &cipher)?;
            Ok(cipher)
        }
    }
}

fn read_key_check(conn: &Connection) -> StoreResult<Option<Vec<u8>>> {
    Ok(conn
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            [KEY_CHECK_ROW],
            |row| row.get(0),
        )
        .optional()?)
}

fn write_key_check(conn: &mut Connection, cipher: &AtRestCipher) -> StoreResult<()> {
    let sealed = cipher.seal(&KEY_CHECK_LOCATION, KEY_CHECK_TEXT)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
        params![KEY_CHECK_ROW, sealed],
    )?;
    tx.commit()?;
    Ok(())
}

fn holds_sealed_secrets(conn: &Connection) -> StoreResult<bool> {
    let count: i64 = conn.query_row(
        "SELECT (SELECT count(*) FROM identity) + (SELECT count(*) FROM devices)",
        [],
        |row| row.get(0),
    )?;
    Ok(count > 0)
}
