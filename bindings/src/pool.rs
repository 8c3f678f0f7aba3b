//! A car's per-day pool address across the FFI: which of the car's secret pool addresses
//! holds a given day's records (the seed's `deductFrom`).

use carchain_core::pool::{AddressPool, PoolError as CorePoolError, PoolSeed, deduct_address};
use chrono::NaiveDate;

use crate::keys::OwnerKeys;

/// Errors of the address-pool area.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum PoolError {
    /// An argument is out of range: empty VID, pool size, generation, date.
    #[error("{detail}")]
    InvalidInput {
        /// Stable code, e.g. `pool.empty_vid`, `pool.invalid_size`, `pool.invalid_date`.
        code: String,
        /// What is wrong.
        detail: String,
    },
    /// Key derivation failed.
    #[error("{detail}")]
    Internal {
        /// Stable code of the failing step.
        code: String,
        /// What failed.
        detail: String,
    },
}

impl PoolError {
    /// The stable code of this error.
    pub fn code(&self) -> &str {
        match self {
            PoolError::InvalidInput { code, .. } | PoolError::Internal { code, .. } => code,
        }
    }
}

impl From<CorePoolError> for PoolError {
    fn from(error: CorePoolError) -> Self {
        let detail = error.to_string();
        let input = |code: &str| PoolError::InvalidInput {
            code: code.to_owned(),
            detail: detail.clone(),
        };
        match &error {
            CorePoolError::InvalidPoolSize { .. } => input("pool.invalid_size"),
            CorePoolError::EmptyPool => input("pool.empty"),
            CorePoolError::EmptyVid => input("pool.empty_vid"),
            CorePoolError::InvalidGeneration { .. } => input("pool.invalid_generation"),
            CorePoolError::InvalidIndex { .. } => input("pool.invalid_index"),
            CorePoolError::ReversedDateRange { .. } => input("pool.reversed_date_range"),
            CorePoolError::DateRangeTooLong { .. } => input("pool.date_range_too_long"),
            CorePoolError::DateOutOfRange { .. } => input("pool.date_out_of_range"),
            CorePoolError::KeyDerivation => PoolError::Internal {
                code: "pool.key_derivation".to_owned(),
                detail,
            },
            CorePoolError::Key(key) => PoolError::Internal {
                code: crate::error_map::ffi_code(key.code()),
                detail,
            },
        }
    }
}

/// Parses a calendar date written `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Result<NaiveDate, PoolError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| PoolError::InvalidInput {
        code: "pool.invalid_date".to_owned(),
        detail: format!("{text:?} is not a YYYY-MM-DD date"),
    })
}

#[uniffi::export]
impl OwnerKeys {
    /// The address of car `vid`'s pool (generation `generation`, `pool_size` addresses)
    /// that holds the records of `date` (`YYYY-MM-DD`).
    pub fn day_address(
        &self,
        vid: String,
        generation: u32,
        pool_size: u32,
        date: String,
    ) -> Result<String, PoolError> {
        let date = parse_date(&date)?;
        let size = usize::try_from(pool_size).map_err(|_| PoolError::InvalidInput {
            code: "pool.invalid_size".to_owned(),
            detail: format!("pool size {pool_size} does not fit this platform"),
        })?;
        let pool = AddressPool::derive(&self.keys, &vid, generation, size)?;
        let pool_seed = PoolSeed::derive(self.keys.seed(), &vid, generation)?;
        Ok(deduct_address(pool.addresses(), date, &vid, &pool_seed)?.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Network, restore_keys};
    use carchain_core::keys::{Mnemonic, RsaBits, WalletKeys};
    use carchain_core::pool::deduct_index;

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon \
        abandon abandon abandon abandon abandon about";
    const VID: &str = "LBVNU79049SB81546";

    #[test]
    fn day_address_is_the_core_deduct_address() {
        let keys = restore_keys(ABANDON.into(), String::new(), Network::Regtest).unwrap();
        let wallet = WalletKeys::from_mnemonic(
            &Mnemonic::parse(ABANDON).unwrap(),
            "",
            carchain_core::keys::Network::Regtest,
            RsaBits::B2048,
        )
        .unwrap();
        let pool = AddressPool::derive(&wallet, VID, 0, 32).unwrap();
        let seed = PoolSeed::derive(wallet.seed(), VID, 0).unwrap();
        let date = NaiveDate::from_ymd_opt(2016, 5, 11).unwrap();
        let index = deduct_index(32, date, VID, &seed).unwrap();
        let address = keys
            .day_address(VID.into(), 0, 32, "2016-05-11".into())
            .unwrap();
        assert_eq!(address, pool.addresses()[index].to_string());
        assert!(address.starts_with("bcrt1q"));
    }

    #[test]
    fn bad_inputs_have_codes() {
        let keys = restore_keys(ABANDON.into(), String::new(), Network::Regtest).unwrap();
        let cases = [
            ("", 32, "2016-05-11", "pool.empty_vid"),
            (VID, 0, "2016-05-11", "pool.invalid_size"),
            (VID, 32, "2016-13-01", "pool.invalid_date"),
            (VID, 32, "11/05/2016", "pool.invalid_date"),
        ];
        for (vid, size, date, code) in cases {
            let err = keys
                .day_address(vid.into(), 0, size, date.into())
                .unwrap_err();
            assert_eq!(err.code(), code, "{vid} {size} {date}");
        }
        let err = keys
            .day_address(VID.into(), 1 << 31, 32, "2016-05-11".into())
            .unwrap_err();
        assert_eq!(err.code(), "pool.invalid_generation");
    }
}
