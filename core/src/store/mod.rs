//! The wallet's SQLite store: versioned migrations and secrets encrypted at rest.
//!
//! [`WalletStore`] keeps the owner identity, paired devices and their address pools,
//! an offline cache of records and block headers, grants and provider requests, and
//! unspent read tokens.
//! Secret columns are sealed with ChaCha20-Poly1305 under a key derived from a master
//! key that the host keeps in its secure storage through [`SecretStore`].
//! The store speaks plain types (strings, bytes, integers) and depends on no other
//! CarChain module.

pub(crate) mod at_rest;
mod connection;
mod devices;
mod error;
mod grants;
mod headers;
mod identity;
mod master_key;
mod migrations;
mod pools;
mod read_tokens;
mod record_cache;
mod rows;
mod secret_store;
mod secret_values;
mod snapshot;
#[cfg(test)]
mod test_support;
mod validate;
mod wallet_store;

pub use at_rest::MASTER_KEY_LEN;
pub use connection::PAGE_SIZE;
pub use devices::{DEVICE_STATUSES, DeviceRow, MAX_POOL_SIZE, POOL_SEED_LEN};
pub use error::{SecretStoreError, StoreError, StoreResult};
pub use grants::{GRANT_STATUSES, GrantRow, ProviderRequestRow, REQUEST_STATUSES};
pub use headers::HeaderRow;
pub use identity::{Identity, NETWORKS};
pub use master_key::MASTER_KEY_NAME;
pub use read_tokens::StoredToken;
pub use record_cache::CachedRecord;
pub use secret_store::{InMemorySecretStore, SecretStore};
pub use secret_values::{SecretBytes, SecretString};
pub use snapshot::StoreSnapshot;
pub use wallet_store::WalletStore;
