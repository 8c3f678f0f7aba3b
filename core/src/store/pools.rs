//! A device's address pools, one list per pool generation, kept in pool order.

use std::collections::HashSet;

use rusqlite::{Connection, Transaction, params};

use super::devices::{pool_shape, validate_pool_size};
use super::error::{StoreError, StoreResult};
use super::validate;
use super::wallet_store::WalletStore;

fn validate_addresses(addresses: &[String]) -> StoreResult<()> {
    if addresses.is_empty() {
        return Err(StoreError::EmptyAddressList);
    }
    validate_pool_size(addresses.len())?;
    let mut seen = HashSet::with_capacity(addresses.len());
    for address in addresses {
        validate::non_empty("address", address)?;
        if !seen.insert(address.as_str()) {
            return Err(StoreError::DuplicateAddress {
                address: address.clone(),
            });
        }
    }
    Ok(())
}

fn read_pool(conn: &Connection, vid: &str, generation: u32) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT address FROM pool_addresses WHERE vid = ?1 AND generation = ?2 ORDER BY position",
    )?;
    let rows = stmt.query_map(params![vid, generation], |row| row.get(0))?;
    Ok(rows.collect::<Result<Vec<String>, _>>()?)
}

impl WalletStore {
    /// Stores the address pool of `generation` for the device `vid`, replacing any
    /// list saved before for that generation. For the device's current generation the
    /// list must have exactly the device's pool size.
    pub fn save_pool(&self, vid: &str, generation: u32, addresses: &[String]) -> StoreResult<()> {
        self.write(|tx| save_pool_in(tx, vid, generation, addresses))
    }
}

/// [`WalletStore::save_pool`] inside the caller's transaction.
pub(super) fn save_pool_in(
    tx: &Transaction<'_>,
    vid: &str,
    generation: u32,
    addresses: &[String],
) -> StoreResult<()> {
    validate::non_empty("vid", vid)?;
    validate_addresses(addresses)?;
    let (current_generation, pool_size) = pool_shape(tx, vid)?;
    if generation == current_generation && addresses.len() != pool_size as usize {
        return Err(StoreError::PoolSizeMismatch {
            expected: pool_size,
            actual: addresses.len(),
        });
    }
    tx.execute(
        "DELETE FROM pool_addresses WHERE vid = ?1 AND generation = ?2",
        params![vid, generation],
    )?;
    let mut insert = tx.prepare(
        "INSERT INTO pool_addresses (vid, generation, position, address)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (position, address) in addresses.iter().enumerate() {
        insert.execute(params![vid, generation, position as i64, address])?;
    }
    Ok(())
}

impl WalletStore {
    /// The addresses of the device's current pool generation, in pool order (empty
    /// until saved).
    pub fn pool(&self, vid: &str) -> StoreResult<Vec<String>> {
        self.read(|conn| {
            let (generation, _) = pool_shape(conn, vid)?;
            read_pool(conn, vid, generation)
        })
    }

    /// The addresses of one pool generation of the device, in pool order.
    pub fn pool_generation(&self, vid: &str, generation: u32) -> StoreResult<Vec<String>> {
        self.read(|conn| {
            pool_shape(conn, vid)?;
            read_pool(conn, vid, generation)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{open_test_store, row_count, sample_device};
    use super::*;

    fn addresses(prefix: &str, count: usize) -> Vec<String> {
        (0..count)
            .map(|i| format!("bcrt1q{prefix}{i:04}"))
            .collect()
    }

    fn store_with_device() -> WalletStore {
        let store = open_test_store();
        store.upsert_device(&sample_device("VIN1", 7)).unwrap();
        store
    }

    #[test]
    fn saved_pool_comes_back_in_order() {
        let store = store_with_device();
        let list = vec![
            "bcrt1qzz".to_owned(),
            "bcrt1qaa".to_owned(),
            "bcrt1qmm".to_owned(),
        ];
        store.save_pool("VIN1", 0, &list).unwrap();
        assert_eq!(store.pool("VIN1").unwrap(), list);
    }

    #[test]
    fn pool_is_empty_before_saving() {
        let store = store_with_device();
        assert!(store.pool("VIN1").unwrap().is_empty());
    }

    #[test]
    fn resaving_a_generation_replaces_it() {
        let store = store_with_device();
        store.save_pool("VIN1", 0, &addresses("a", 3)).unwrap();
        store.save_pool("VIN1", 0, &addresses("b", 3)).unwrap();
        assert_eq!(store.pool("VIN1").unwrap(), addresses("b", 3));
        assert_eq!(row_count(&store, "pool_addresses"), 3);
    }

    #[test]
    fn pool_follows_the_device_generation() {
        let store = store_with_device();
        store.save_pool("VIN1", 0, &addresses("old", 3)).unwrap();
        store.save_pool("VIN1", 1, &addresses("new", 5)).unwrap();
        assert_eq!(store.pool("VIN1").unwrap(), addresses("old", 3));
        let mut device = sample_device("VIN1", 7);
        device.pool_generation = 1;
        device.pool_size = 5;
        store.upsert_device(&device).unwrap();
        assert_eq!(store.pool("VIN1").unwrap(), addresses("new", 5));
        assert_eq!(
            store.pool_generation("VIN1", 0).unwrap(),
            addresses("old", 3)
        );
    }

    #[test]
    fn unknown_device_rejected_and_nothing_written() {
        let store = store_with_device();
        let err = store.save_pool("VIN9", 0, &addresses("a", 3)).unwrap_err();
        assert!(matches!(err, StoreError::UnknownDevice { vid } if vid == "VIN9"));
        assert_eq!(row_count(&store, "pool_addresses"), 0);
        assert!(matches!(
            store.pool("VIN9"),
            Err(StoreError::UnknownDevice { .. })
        ));
        assert!(matches!(
            store.pool_generation("VIN9", 0),
            Err(StoreError::UnknownDevice { .. })
        ));
    }

    fn assert_rejected(vid: &str, list: &[String], expected: fn(&StoreError) -> bool) {
        let store = store_with_device();
        store.save_pool("VIN1", 0, &addresses("keep", 3)).unwrap();
        let err = store.save_pool(vid, 0, list).unwrap_err();
        assert!(expected(&err), "unexpected error {err:?}");
        assert_eq!(row_count(&store, "pool_addresses"), 3, "nothing written");
        assert_eq!(store.pool("VIN1").unwrap(), addresses("keep", 3));
    }

    #[test]
    fn empty_vid_rejected() {
        assert_rejected("", &addresses("a", 3), |e| {
            matches!(e, StoreError::EmptyField { field: "vid" })
        });
    }

    #[test]
    fn empty_address_list_rejected() {
        assert_rejected("VIN1", &[], |e| matches!(e, StoreError::EmptyAddressList));
    }

    #[test]
    fn more_than_ten_thousand_addresses_rejected() {
        assert_rejected("VIN1", &addresses("a", 10_001), |e| {
            matches!(e, StoreError::PoolSizeOutOfRange { size: 10_001 })
        });
    }

    #[test]
    fn empty_address_rejected() {
        let list = vec!["bcrt1qa".to_owned(), String::new(), "bcrt1qc".to_owned()];
        assert_rejected("VIN1", &list, |e| {
            matches!(e, StoreError::EmptyField { field: "address" })
        });
    }

    #[test]
    fn duplicate_address_rejected() {
        let list = vec![
            "bcrt1qa".to_owned(),
            "bcrt1qb".to_owned(),
            "bcrt1qa".to_owned(),
        ];
        assert_rejected(
            "VIN1",
            &list,
            |e| matches!(e, StoreError::DuplicateAddress { address } if address == "bcrt1qa"),
        );
    }

    #[test]
    fn wrong_size_for_current_generation_rejected() {
        assert_rejected("VIN1", &addresses("a", 4), |e| {
            matches!(
                e,
                StoreError::PoolSizeMismatch {
                    expected: 3,
                    actual: 4
                }
            )
        });
    }
}
