//! A wallet's state applied in one transaction (what a backup restores): cars with
//! every pool generation, grants, provider requests, read tokens and the pinned header
//! tip — all of it or, on any failure, nothing.

use super::devices::DeviceRow;
use super::error::StoreResult;
use super::grants::{GrantRow, ProviderRequestRow, save_grant_in, save_provider_request_in};
use super::headers::{HeaderRow, save_headers_in};
use super::pools::save_pool_in;
use super::read_tokens::{StoredToken, add_read_tokens_in};
use super::wallet_store::WalletStore;

/// The state a backup carries, as store rows.
#[derive(Default)]
pub struct StoreSnapshot {
    /// Each car with the addresses of its pool generations, oldest first.
    pub devices: Vec<(DeviceRow, Vec<Vec<String>>)>,
    /// Grants.
    pub grants: Vec<GrantRow>,
    /// Provider requests.
    pub provider_requests: Vec<ProviderRequestRow>,
    /// Unspent read tokens.
    pub read_tokens: Vec<StoredToken>,
    /// The verified header tip the light client is pinned to.
    pub header_tip: Option<HeaderRow>,
}

impl std::fmt::Debug for StoreSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSnapshot")
            .field("devices", &self.devices.len())
            .field("grants", &self.grants.len())
            .field("provider_requests", &self.provider_requests.len())
            .field("read_tokens", &self.read_tokens.len())
            .finish_non_exhaustive()
    }
}

impl WalletStore {
    /// Writes `snapshot` in one transaction: cars (replacing those with the same VID)
    /// and their pools, grants and requests (replacing those with the same id), tokens
    /// (kept once) and the header tip (a conflicting header at its height fails). Any
    /// failure leaves the store as it was.
    pub fn apply_snapshot(&self, snapshot: &StoreSnapshot) -> StoreResult<()> {
        self.write(|tx| {
            for (device, pools) in &snapshot.devices {
                self.upsert_device_in(tx, device)?;
                for (generation, addresses) in (0u32..).zip(pools) {
                    save_pool_in(tx, &device.vid, generation, addresses)?;
                }
            }
            for grant in &snapshot.grants {
                save_grant_in(tx, grant)?;
            }
            for request in &snapshot.provider_requests {
                save_provider_request_in(tx, request)?;
            }
            add_read_tokens_in(tx, &snapshot.read_tokens)?;
            if let Some(tip) = &snapshot.header_tip {
                save_headers_in(tx, std::slice::from_ref(tip))?;
            }
            Ok(())
        })
    }
}
