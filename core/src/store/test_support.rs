//! Fixtures shared by the store's unit tests.

use std::sync::Arc;

use super::error::{StoreError, StoreResult};
use super::identity::Identity;
use super::secret_store::InMemorySecretStore;
use super::secret_values::{SecretBytes, SecretString};
use super::wallet_store::WalletStore;

/// The BIP39 test vector mnemonic (all-zero entropy).
pub const MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

/// A fresh in-memory store with its own in-memory secret store.
pub fn open_test_store() -> WalletStore {
    WalletStore::open_in_memory(Arc::new(InMemorySecretStore::new())).expect("open store")
}

/// Number of rows in `table`.
pub fn row_count(store: &WalletStore, table: &str) -> i64 {
    store
        .conn
        .lock()
        .expect("lock")
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
            row.get(0)
        })
        .expect("count rows")
}

/// Asserts that `write` of `row`, once `change`d, fails as `expected` on a fresh store
/// and leaves `table` empty.
pub fn assert_write_rejected<T>(
    mut row: T,
    change: impl FnOnce(&mut T),
    write: impl FnOnce(&WalletStore, &T) -> StoreResult<()>,
    table: &str,
    expected: fn(&StoreError) -> bool,
) {
    let store = open_test_store();
    change(&mut row);
    let err = write(&store, &row).expect_err("the write is refused");
    assert!(expected(&err), "unexpected error {err:?}");
    assert_eq!(row_count(&store, table), 0, "nothing written");
}

/// A valid identity on regtest.
pub fn sample_identity() -> Identity {
    Identity {
        network: "regtest".to_owned(),
        owner_address: "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080".to_owned(),
        rsa_bits: 2048,
        mnemonic: SecretString::from(MNEMONIC),
        passphrase: SecretString::from("TREZOR"),
        rsa_private_der: SecretBytes::new(vec![0x30, 0x82, 0x04, 0xa4, 0x02, 0x01, 0x00]),
        created_at: 1_700_000_000,
    }
}

/// A valid paired device whose pool seed is 32 bytes of `seed_byte`.
pub fn sample_device(vid: &str, seed_byte: u8) -> super::devices::DeviceRow {
    super::devices::DeviceRow {
        vid: vid.to_owned(),
        name: format!("car {vid}"),
        device_pubkey: "02".to_owned() + &"ab".repeat(32),
        pool_account: 1,
        pool_generation: 0,
        pool_size: 3,
        pool_seed: SecretBytes::new(vec![seed_byte; 32]),
        delivery_secret: None,
        agent: "http://127.0.0.1:8080".to_owned(),
        paired_at: 1_700_000_100,
        last_seen: None,
        status: "paired".to_owned(),
    }
}
