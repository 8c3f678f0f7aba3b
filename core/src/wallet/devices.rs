//! The owner's cars: the device list, each car's status on the ledger, and `reset`
//! (re-pairing or transferring a car, signed by the current owner).
//!
//! Online status is kept simple: [`Wallet::device_status`] proves the car's ledger state
//! and reads the records under the car's address of `today`; the highest block height
//! among them is the last time the car wrote (the node knows nothing else about cars,
//! by design). When it finds records, it stamps the device's `last_seen` in the store.

use chrono::NaiveDate;

use super::error::WalletError;
use super::identity::Wallet;
use super::ledger::submit_signed;
use crate::grants::auditor::PoolDisclosure;
use crate::keys::parse_address;
use crate::light::LightClient;
use crate::pool::{PoolSeed, deduct_address};
use crate::protocol::{DeviceStatus, Reset, TxBody};
use crate::store::{DeviceRow, StoreError};

/// A paired car as the wallet lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The vehicle identifier.
    pub vid: String,
    /// Name the owner gave it.
    pub name: String,
    /// The device's signing public key, hex (33 bytes compressed).
    pub device_pubkey: String,
    /// Addresses in the current pool.
    pub pool_size: u32,
    /// Current pool generation (0 at pairing, raised by `set_dup`).
    pub generation: u32,
    /// The car's agent node.
    pub agent: String,
    /// Pairing time, Unix seconds.
    pub paired_at: i64,
    /// Last time the car was seen writing, Unix seconds, if ever.
    pub last_seen: Option<i64>,
    /// `paired`, `reset` or `transferred`.
    pub status: String,
}

impl DeviceInfo {
    /// The public columns of a stored device (the pool seed stays behind).
    pub(crate) fn from_row(row: &DeviceRow) -> Self {
        DeviceInfo {
            vid: row.vid.clone(),
            name: row.name.clone(),
            device_pubkey: row.device_pubkey.clone(),
            pool_size: row.pool_size,
            generation: row.pool_generation,
            agent: row.agent.clone(),
            paired_at: row.paired_at,
            last_seen: row.last_seen,
            status: row.status.clone(),
        }
    }
}

/// A car's status as the ledger and today's records show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceStatusView {
    /// Whether the ledger holds the car as active and owned by this wallet.
    pub owned_active: bool,
    /// The owner address on the ledger (`None` when the ledger has no such device).
    pub ledger_owner: Option<String>,
    /// Pool generation on the ledger.
    pub ledger_generation: Option<u32>,
    /// Records the car wrote under `today`'s address.
    pub records_today: usize,
    /// Highest block height among them.
    pub last_write_height: Option<u64>,
}

impl Wallet {
    /// Every car this wallet paired (including reset or transferred ones, see `status`),
    /// by pairing time.
    pub fn devices(&self) -> Result<Vec<DeviceInfo>, WalletError> {
        Ok(self
            .locked_store()?
            .list_devices()?
            .iter()
            .map(DeviceInfo::from_row)
            .collect())
    }

    /// The stored device, or [`WalletError::UnknownDevice`].
    pub(crate) fn device_row(&self, vid: &str) -> Result<DeviceRow, WalletError> {
        match self.locked_store()?.device(vid) {
            Ok(row) => Ok(row),
            Err(StoreError::UnknownDevice { .. }) => Err(WalletError::UnknownDevice {
                vid: vid.to_owned(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The stored device if it is still paired with this wallet.
    pub(crate) fn owned_device(&self, vid: &str) -> Result<DeviceRow, WalletError> {
        let row = self.device_row(vid)?;
        if row.status != "paired" {
            return Err(WalletError::DeviceNotOwned {
                vid: vid.to_owned(),
                status: row.status,
            });
        }
        Ok(row)
    }

    /// The car's proven ledger state, refused unless the ledger names this wallet its
    /// owner ([`WalletError::UnknownDevice`], [`WalletError::DeviceOwnedByOther`]).
    pub(super) async fn ledger_device_of_mine(
        &self,
        light: &LightClient,
        vid: &str,
    ) -> Result<crate::protocol::DeviceState, WalletError> {
        let state = light
            .device(vid)
            .await?
            .ok_or_else(|| WalletError::UnknownDevice {
                vid: vid.to_owned(),
            })?;
        if state.owner_address != self.owner_address() {
            return Err(WalletError::DeviceOwnedByOther {
                vid: vid.to_owned(),
            });
        }
        Ok(state)
    }

    /// The car's ledger state and its writes under `today`'s pool address.
    pub async fn device_status(
        &self,
        light: &LightClient,
        vid: &str,
        today: NaiveDate,
    ) -> Result<DeviceStatusView, WalletError> {
        let row = self.device_row(vid)?;
        let state = light.device(vid).await?;
        let owner = self.owner_address();
        let owned_active = state
            .as_ref()
            .is_some_and(|s| s.status == DeviceStatus::Active && s.owner_address == owner);
        let pool = self.locked_store()?.pool(vid)?;
        let seed = pool_seed_of(&row)?;
        let parsed = parse_pool(&pool, self.network())?;
        let address = deduct_address(&parsed, today, vid, &seed)?.to_string();
        let read = light.records_in_range(&address, &[], &[0xff; 64]).await?;
        let last_write_height = read.records.iter().map(|r| r.registration.height).max();
        if !read.records.is_empty() {
            self.locked_store()?.touch_last_seen(vid, self.unix_now())?;
        }
        Ok(DeviceStatusView {
            owned_active,
            ledger_owner: state.as_ref().map(|s| s.owner_address.clone()),
            ledger_generation: state.as_ref().map(|s| s.generation),
            records_today: read.records.len(),
            last_write_height,
        })
    }

    /// Hands the car to `new_owner_address` (the seed's `reset`), signed by this owner.
    ///
    /// The `Reset` carries an all-zero pool commitment: this owner cannot know the new
    /// owner's pool. The car, seeing a new owner on the ledger, forgets its offer and
    /// shows a fresh pairing payload; the new owner pairs with it (`pair_device`, which
    /// then submits a `SetDup` with its own pool commitment). From then on the car
    /// encrypts to the new owner's RSA key under the new owner's pool, so this wallet
    /// can no longer open its new data. The device stays listed here as `transferred`
    /// (or `reset` when the new owner is this wallet).
    pub async fn reset_to(
        &self,
        light: &LightClient,
        vid: &str,
        new_owner_address: &str,
    ) -> Result<DeviceInfo, WalletError> {
        parse_address(new_owner_address, self.network())?;
        let row = self.owned_device(vid)?;
        self.ledger_device_of_mine(light, vid).await?;
        submit_signed(
            light,
            self.keys().owner_key().secret_key(),
            TxBody::Reset(Reset {
                vid: vid.to_owned(),
                new_owner_address: new_owner_address.to_owned(),
                new_device_pubkey: None,
                new_pool_commitment: [0; 32],
                agent: row.agent.clone(),
            }),
        )
        .await?;
        let status = if new_owner_address == self.owner_address() {
            "reset"
        } else {
            "transferred"
        };
        let store = self.locked_store()?;
        store.set_device_status(vid, status)?;
        Ok(DeviceInfo::from_row(&store.device(vid)?))
    }
}

impl Wallet {
    /// The disclosure of car `vid`'s pool to an auditor the owner chose (the car must
    /// still be paired with this wallet): its pool seed, branch public key and size.
    pub fn pool_disclosure(&self, vid: &str) -> Result<PoolDisclosure, WalletError> {
        let row = self.owned_device(vid)?;
        let branch_xpub = self.keys().pool_branch_xpub(vid, row.pool_generation)?;
        Ok(PoolDisclosure::new(
            vid,
            row.pool_size,
            branch_xpub,
            pool_seed_of(&row)?,
        ))
    }
}

/// The stored pool seed of a device row.
pub(crate) fn pool_seed_of(row: &DeviceRow) -> Result<PoolSeed, WalletError> {
    let bytes: [u8; 32] = row
        .pool_seed
        .expose()
        .try_into()
        .map_err(|_| WalletError::Store(StoreError::EmptyField { field: "pool_seed" }))?;
    Ok(PoolSeed::from_bytes(bytes))
}

/// Parses stored pool addresses.
pub(crate) fn parse_pool(
    pool: &[String],
    network: crate::keys::Network,
) -> Result<Vec<bitcoin::Address>, WalletError> {
    pool.iter()
        .map(|a| parse_address(a, network).map_err(WalletError::from))
        .collect()
}
