//! Errors of the address-pool area.

use chrono::NaiveDate;
use thiserror::Error;

use crate::keys::KeyError;

/// Everything that can go wrong while deriving a pool or choosing a day's address.
#[derive(Debug, Error)]
pub enum PoolError {
    /// Pool size outside 1..=10,000.
    #[error("a pool has 1 to {max} addresses, {size} requested")]
    InvalidPoolSize {
        /// Size requested.
        size: usize,
        /// Largest size allowed.
        max: usize,
    },
    /// An empty address list was given where a day's address must be chosen.
    #[error("the address pool is empty")]
    EmptyPool,
    /// The device identifier is empty.
    #[error("the device identifier (VID) is empty")]
    EmptyVid,
    /// A pool generation that is not a normal BIP32 index (must be below 2^31).
    #[error("pool generation {generation} is out of range (must be below 2^31)")]
    InvalidGeneration {
        /// Generation requested.
        generation: u32,
    },
    /// An address index that is not a normal BIP32 index (must be below 2^31).
    #[error("pool address index {index} is out of range (must be below 2^31)")]
    InvalidIndex {
        /// Index requested.
        index: u32,
    },
    /// A date range whose start is after its end.
    #[error("date range starts {from} after it ends {to}")]
    ReversedDateRange {
        /// First day asked for.
        from: NaiveDate,
        /// Last day asked for.
        to: NaiveDate,
    },
    /// A date range longer than the allowed number of days.
    #[error("date range covers {days} days, at most {max} allowed")]
    DateRangeTooLong {
        /// Days in the range (inclusive).
        days: i64,
        /// Most days allowed.
        max: i64,
    },
    /// A date whose year cannot be written as four digits (YYYYMMDD).
    #[error("date {date} is outside years 0000-9999")]
    DateOutOfRange {
        /// The date given.
        date: NaiveDate,
    },
    /// An HKDF/HMAC step refused its input (cannot happen with the fixed sizes used).
    #[error("pool key derivation failed")]
    KeyDerivation,
    /// Key derivation failed.
    #[error(transparent)]
    Key(#[from] KeyError),
}

crate::error_code::error_codes!(PoolError {
    InvalidPoolSize => "pool.invalid_pool_size",
    EmptyPool => "pool.empty_pool",
    EmptyVid => "pool.empty_vid",
    InvalidGeneration => "pool.invalid_generation",
    InvalidIndex => "pool.invalid_index",
    ReversedDateRange => "pool.reversed_date_range",
    DateRangeTooLong => "pool.date_range_too_long",
    DateOutOfRange => "pool.date_out_of_range",
    KeyDerivation => "pool.key_derivation",
    Key => inner,
});
