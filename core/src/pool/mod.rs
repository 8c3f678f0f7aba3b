//! Address pools: a device's secret pool of data addresses (setDup) and the per-day
//! address choice (deductFrom).

pub mod error;
pub mod seed;

pub use error::PoolError;
pub use seed::{POOL_SEED_LEN, PoolSeed};
