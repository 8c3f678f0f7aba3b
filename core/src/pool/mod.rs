//! Address pools: a device's secret pool of data addresses (setDup) and the per-day
//! address choice (deductFrom).

pub mod address_pool;
pub mod deduct;
pub mod error;
pub mod seed;

pub use address_pool::{
    AddressPool, DEFAULT_POOL_SIZE, MAX_POOL_SIZE, addresses_from_branch, pool_account_index,
    pool_address_path, pool_signing_key,
};
pub use deduct::{
    MAX_DAYS_PER_QUERY, date_digits, deduct_address, deduct_index, pool_addresses_for_days,
};
pub use error::PoolError;
pub use seed::{POOL_SEED_LEN, PoolSeed};
