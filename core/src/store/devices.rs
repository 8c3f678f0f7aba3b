//! Paired devices (cars): identity, pool parameters, the sealed pool seed and
//! delivery secret, agent node, status and last contact.

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::at_rest::SecretLocation;
use super::error::{StoreError, StoreResult};
use super::rows::from_columns;
use super::secret_values::SecretBytes;
use super::validate;
use super::wallet_store::WalletStore;

/// Status values a device row may hold.
pub const DEVICE_STATUSES: &[&str] = &["paired", "reset", "transferred"];
/// Largest address pool a device may have.
pub const MAX_POOL_SIZE: u32 = 10_000;
/// Length of a pool seed.
pub const POOL_SEED_LEN: usize = 32;

/// A paired device as stored by the wallet. `Debug` redacts the secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    /// The vehicle/device identifier (non-empty, unique).
    pub vid: String,
    /// Name shown to the owner.
    pub name: String,
    /// The device's signing public key, hex.
    pub device_pubkey: String,
    /// BIP32 account the pool addresses derive from.
    pub pool_account: u32,
    /// Current pool generation (a re-pair starts a new one).
    pub pool_generation: u32,
    /// Number of addresses in the pool, 1..=10,000.
    pub pool_size: u32,
    /// The 32-byte pool seed shared by car and owner, sealed at rest.
    pub pool_seed: SecretBytes,
    /// The secret used to deliver pairing data to the device, if any; sealed at rest.
    pub delivery_secret: Option<SecretBytes>,
    /// Agent node the device writes through.
    pub agent: String,
    /// Pairing time, Unix seconds.
    pub paired_at: i64,
    /// Last contact, Unix seconds.
    pub last_seen: Option<i64>,
    /// One of [`DEVICE_STATUSES`].
    pub status: String,
}

fn pool_seed_location(vid: &str) -> SecretLocation<'_> {
    SecretLocation {
        table: "devices",
        column: "pool_seed",
        row: vid,
    }
}

fn delivery_secret_location(vid: &str) -> SecretLocation<'_> {
    SecretLocation {
        table: "devices",
        column: "delivery_secret",
        row: vid,
    }
}

/// Fails with [`StoreError::InvalidDeviceStatus`] unless `status` is in [`DEVICE_STATUSES`].
fn validate_status(status: &str) -> StoreResult<()> {
    if DEVICE_STATUSES.contains(&status) {
        Ok(())
    } else {
        Err(StoreError::InvalidDeviceStatus {
            status: status.to_owned(),
        })
    }
}

/// Fails with [`StoreError::PoolSizeOutOfRange`] unless `size` is in 1..=10,000.
pub(super) fn validate_pool_size(size: usize) -> StoreResult<()> {
    if size == 0 || size > MAX_POOL_SIZE as usize {
        return Err(StoreError::PoolSizeOutOfRange { size: size as u64 });
    }
    Ok(())
}

fn validate_device(device: &DeviceRow) -> StoreResult<()> {
    validate::non_empty("vid", &device.vid)?;
    validate::non_empty("device_pubkey", &device.device_pubkey)?;
    if hex::decode(&device.device_pubkey).is_err() {
        return Err(StoreError::InvalidDevicePubkey);
    }
    validate::non_empty("agent", &device.agent)?;
    validate_pool_size(device.pool_size as usize)?;
    if device.pool_seed.len() != POOL_SEED_LEN {
        return Err(StoreError::PoolSeedLength {
            len: device.pool_seed.len(),
        });
    }
    if let Some(secret) = &device.delivery_secret {
        validate::non_empty_bytes("delivery_secret", secret.expose())?;
    }
    validate_status(&device.status)
}

/// The device's columns as read from SQLite, secrets still sealed.
struct SealedDevice {
    vid: String,
    name: String,
    device_pubkey: String,
    pool_account: i64,
    pool_generation: i64,
    pool_size: i64,
    pool_seed: Vec<u8>,
    delivery_secret: Option<Vec<u8>>,
    agent: String,
    paired_at: i64,
    last_seen: Option<i64>,
    status: String,
}

const SELECT_DEVICE: &str = "SELECT vid, name, device_pubkey, pool_account, pool_generation,
    pool_size, pool_seed_sealed, delivery_secret_sealed, agent, paired_at, last_seen, status
    FROM devices";

fn sealed_device(row: &Row<'_>) -> rusqlite::Result<SealedDevice> {
    Ok(from_columns!(
        row,
        SealedDevice {
            vid,
            name,
            device_pubkey,
            pool_account,
            pool_generation,
            pool_size,
            pool_seed,
            delivery_secret,
            agent,
            paired_at,
            last_seen,
            status,
        }
    ))
}

/// The device's current pool generation and size, or `UnknownDevice`.
pub(super) fn pool_shape(conn: &Connection, vid: &str) -> StoreResult<(u32, u32)> {
    let shape: Option<(i64, i64)> = conn
        .query_row(
            "SELECT pool_generation, pool_size FROM devices WHERE vid = ?1",
            [vid],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let (generation, size) = shape.ok_or_else(|| StoreError::UnknownDevice {
        vid: vid.to_owned(),
    })?;
    Ok((
        validate::from_sql_int("pool_generation", generation)?,
        validate::from_sql_int("pool_size", size)?,
    ))
}

impl WalletStore {
    /// Inserts the device, or replaces every column of the device with the same VID.
    pub fn upsert_device(&self, device: &DeviceRow) -> StoreResult<()> {
        self.write(|tx| self.upsert_device_in(tx, device))
    }

    /// [`Self::upsert_device`] inside the caller's transaction.
    pub(super) fn upsert_device_in(
        &self,
        tx: &Transaction<'_>,
        device: &DeviceRow,
    ) -> StoreResult<()> {
        validate_device(device)?;
        let pool_seed = self
            .cipher
            .seal(&pool_seed_location(&device.vid), device.pool_seed.expose())?;
        let delivery_secret = device
            .delivery_secret
            .as_ref()
            .map(|secret| {
                self.cipher
                    .seal(&delivery_secret_location(&device.vid), secret.expose())
            })
            .transpose()?;
        tx.execute(
            "INSERT INTO devices (vid, name, device_pubkey, pool_account, pool_generation,
                     pool_size, pool_seed_sealed, delivery_secret_sealed, agent, paired_at,
                     last_seen, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT (vid) DO UPDATE SET
                     name = excluded.name,
                     device_pubkey = excluded.device_pubkey,
                     pool_account = excluded.pool_account,
                     pool_generation = excluded.pool_generation,
                     pool_size = excluded.pool_size,
                     pool_seed_sealed = excluded.pool_seed_sealed,
                     delivery_secret_sealed = excluded.delivery_secret_sealed,
                     agent = excluded.agent,
                     paired_at = excluded.paired_at,
                     last_seen = excluded.last_seen,
                     status = excluded.status",
            params![
                device.vid,
                device.name,
                device.device_pubkey,
                device.pool_account,
                device.pool_generation,
                device.pool_size,
                pool_seed,
                delivery_secret,
                device.agent,
                device.paired_at,
                device.last_seen,
                device.status
            ],
        )?;
        Ok(())
    }

    /// The device with this VID, secrets opened; `UnknownDevice` if there is none.
    pub fn device(&self, vid: &str) -> StoreResult<DeviceRow> {
        let sealed = self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!("{SELECT_DEVICE} WHERE vid = ?1"),
                    [vid],
                    sealed_device,
                )
                .optional()?)
        })?;
        let sealed = sealed.ok_or_else(|| StoreError::UnknownDevice {
            vid: vid.to_owned(),
        })?;
        self.open_device(sealed)
    }

    /// Every device, by pairing time then VID.
    pub fn list_devices(&self) -> StoreResult<Vec<DeviceRow>> {
        let sealed = self.read(|conn| {
            let mut stmt = conn.prepare(&format!("{SELECT_DEVICE} ORDER BY paired_at, vid"))?;
            let rows = stmt.query_map([], sealed_device)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })?;
        sealed
            .into_iter()
            .map(|row| self.open_device(row))
            .collect()
    }

    /// Sets the device's status (one of [`DEVICE_STATUSES`]).
    pub fn set_device_status(&self, vid: &str, status: &str) -> StoreResult<()> {
        validate_status(status)?;
        self.update_device(vid, "UPDATE devices SET status = ?2 WHERE vid = ?1", status)
    }

    /// Records contact with the device at `timestamp` (Unix seconds); an older
    /// timestamp than the one stored leaves it unchanged.
    pub fn touch_last_seen(&self, vid: &str, timestamp: i64) -> StoreResult<()> {
        self.update_device(
            vid,
            "UPDATE devices SET last_seen = max(coalesce(last_seen, ?2), ?2) WHERE vid = ?1",
            timestamp,
        )
    }

    fn update_device(&self, vid: &str, sql: &str, value: impl rusqlite::ToSql) -> StoreResult<()> {
        self.write(|tx| {
            if tx.execute(sql, params![vid, value])? == 0 {
                return Err(StoreError::UnknownDevice {
                    vid: vid.to_owned(),
                });
            }
            Ok(())
        })
    }

    fn open_device(&self, sealed: SealedDevice) -> StoreResult<DeviceRow> {
        let pool_seed = self
            .cipher
            .open(&pool_seed_location(&sealed.vid), &sealed.pool_seed)?;
        let delivery_secret = sealed
            .delivery_secret
            .as_deref()
            .map(|bytes| {
                self.cipher
                    .open(&delivery_secret_location(&sealed.vid), bytes)
                    .map(|secret| SecretBytes::from_slice(&secret))
            })
            .transpose()?;
        Ok(DeviceRow {
            pool_account: validate::from_sql_int("pool_account", sealed.pool_account)?,
            pool_generation: validate::from_sql_int("pool_generation", sealed.pool_generation)?,
            pool_size: validate::from_sql_int("pool_size", sealed.pool_size)?,
            pool_seed: SecretBytes::from_slice(&pool_seed),
            delivery_secret,
            vid: sealed.vid,
            name: sealed.name,
            device_pubkey: sealed.device_pubkey,
            agent: sealed.agent,
            paired_at: sealed.paired_at,
            last_seen: sealed.last_seen,
            status: sealed.status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn upsert_then_read_round_trips() {
        let store = open_test_store();
        let mut device = sample_device("VIN1", 7);
        device.delivery_secret = Some(SecretBytes::from_slice(b"delivery"));
        store.upsert_device(&device).unwrap();
        assert_eq!(store.device("VIN1").unwrap(), device);
        assert_eq!(store.device("VIN1").unwrap().pool_seed.expose(), &[7u8; 32]);
    }

    #[test]
    fn upsert_replaces_existing_row() {
        let store = open_test_store();
        store.upsert_device(&sample_device("VIN1", 7)).unwrap();
        let mut changed = sample_device("VIN1", 9);
        changed.name = "renamed".to_owned();
        changed.pool_generation = 1;
        changed.status = "reset".to_owned();
        store.upsert_device(&changed).unwrap();
        assert_eq!(row_count(&store, "devices"), 1);
        assert_eq!(store.device("VIN1").unwrap(), changed);
    }

    #[test]
    fn list_is_ordered_by_pairing_time_then_vid() {
        let store = open_test_store();
        let mut late = sample_device("A-late", 1);
        late.paired_at += 10;
        store.upsert_device(&late).unwrap();
        store.upsert_device(&sample_device("Z", 2)).unwrap();
        store.upsert_device(&sample_device("B", 3)).unwrap();
        let vids: Vec<String> = store
            .list_devices()
            .unwrap()
            .into_iter()
            .map(|d| d.vid)
            .collect();
        assert_eq!(vids, ["B", "Z", "A-late"]);
    }

    #[test]
    fn unknown_vid_is_a_typed_error() {
        let store = open_test_store();
        let unknown =
            |e: StoreError| matches!(e, StoreError::UnknownDevice { vid } if vid == "NOPE");
        assert!(unknown(store.device("NOPE").unwrap_err()));
        assert!(unknown(
            store.set_device_status("NOPE", "reset").unwrap_err()
        ));
        assert!(unknown(store.touch_last_seen("NOPE", 5).unwrap_err()));
    }

    #[test]
    fn status_changes_and_bad_status_writes_nothing() {
        let store = open_test_store();
        store.upsert_device(&sample_device("VIN1", 7)).unwrap();
        store.set_device_status("VIN1", "transferred").unwrap();
        assert_eq!(store.device("VIN1").unwrap().status, "transferred");
        let err = store.set_device_status("VIN1", "stolen").unwrap_err();
        assert!(matches!(err, StoreError::InvalidDeviceStatus { status } if status == "stolen"));
        assert_eq!(store.device("VIN1").unwrap().status, "transferred");
    }

    #[test]
    fn last_seen_only_moves_forward() {
        let store = open_test_store();
        store.upsert_device(&sample_device("VIN1", 7)).unwrap();
        store.touch_last_seen("VIN1", 2_000).unwrap();
        assert_eq!(store.device("VIN1").unwrap().last_seen, Some(2_000));
        store.touch_last_seen("VIN1", 1_000).unwrap();
        assert_eq!(store.device("VIN1").unwrap().last_seen, Some(2_000));
        store.touch_last_seen("VIN1", 3_000).unwrap();
        assert_eq!(store.device("VIN1").unwrap().last_seen, Some(3_000));
    }

    fn assert_rejected(change: impl FnOnce(&mut DeviceRow), expected: fn(&StoreError) -> bool) {
        let device = sample_device("VIN1", 7);
        assert_write_rejected(
            device,
            change,
            WalletStore::upsert_device,
            "devices",
            expected,
        );
    }

    #[test]
    fn empty_vid_rejected() {
        assert_rejected(
            |d| d.vid = String::new(),
            |e| matches!(e, StoreError::EmptyField { field: "vid" }),
        );
    }

    #[test]
    fn pool_size_zero_or_over_ten_thousand_rejected() {
        assert_rejected(
            |d| d.pool_size = 0,
            |e| matches!(e, StoreError::PoolSizeOutOfRange { size: 0 }),
        );
        assert_rejected(
            |d| d.pool_size = 10_001,
            |e| matches!(e, StoreError::PoolSizeOutOfRange { size: 10_001 }),
        );
    }

    #[test]
    fn pool_size_ten_thousand_accepted() {
        let store = open_test_store();
        let mut device = sample_device("VIN1", 7);
        device.pool_size = MAX_POOL_SIZE;
        store.upsert_device(&device).unwrap();
        assert_eq!(store.device("VIN1").unwrap().pool_size, 10_000);
    }

    #[test]
    fn short_pool_seed_rejected() {
        assert_rejected(
            |d| d.pool_seed = SecretBytes::new(vec![1; 31]),
            |e| matches!(e, StoreError::PoolSeedLength { len: 31 }),
        );
    }

    #[test]
    fn bad_status_rejected() {
        assert_rejected(
            |d| d.status = "lost".to_owned(),
            |e| matches!(e, StoreError::InvalidDeviceStatus { .. }),
        );
    }

    #[test]
    fn non_hex_pubkey_rejected() {
        assert_rejected(
            |d| d.device_pubkey = "02zz".to_owned(),
            |e| matches!(e, StoreError::InvalidDevicePubkey),
        );
        assert_rejected(
            |d| d.device_pubkey = String::new(),
            |e| {
                matches!(
                    e,
                    StoreError::EmptyField {
                        field: "device_pubkey"
                    }
                )
            },
        );
    }

    #[test]
    fn empty_agent_rejected() {
        assert_rejected(
            |d| d.agent = " ".to_owned(),
            |e| matches!(e, StoreError::EmptyField { field: "agent" }),
        );
    }

    #[test]
    fn empty_delivery_secret_rejected() {
        assert_rejected(
            |d| d.delivery_secret = Some(SecretBytes::new(Vec::new())),
            |e| {
                matches!(
                    e,
                    StoreError::EmptyField {
                        field: "delivery_secret"
                    }
                )
            },
        );
    }

    #[test]
    fn pool_seed_copied_to_another_device_fails() {
        let store = open_test_store();
        store.upsert_device(&sample_device("VIN1", 7)).unwrap();
        store.upsert_device(&sample_device("VIN2", 8)).unwrap();
        store
            .conn
            .lock()
            .unwrap()
            .execute(
                "UPDATE devices SET pool_seed_sealed =
                     (SELECT pool_seed_sealed FROM devices WHERE vid = 'VIN1')
                 WHERE vid = 'VIN2'",
                [],
            )
            .unwrap();
        assert_eq!(store.device("VIN1").unwrap().pool_seed.expose(), &[7u8; 32]);
        let err = store.device("VIN2").unwrap_err();
        assert!(matches!(
            err,
            StoreError::SecretCorrupted { table: "devices", column: "pool_seed", ref row } if row == "VIN2"
        ));
        assert!(store.list_devices().is_err());
    }

    #[test]
    fn debug_redacts_pool_seed() {
        let mut device = sample_device("VIN1", 0xAB);
        device.delivery_secret = Some(SecretBytes::from_slice(b"deliverysecret"));
        let shown = format!("{device:?}");
        assert!(!shown.contains("171"), "{shown}");
        assert!(!shown.contains("deliverysecret"), "{shown}");
        assert!(shown.contains("VIN1"));
    }
}
