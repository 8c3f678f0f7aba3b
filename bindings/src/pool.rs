//! A car's per-day pool address across the FFI: which of the car's secret pool addresses
//! holds a given day's records (the seed's `deductFrom`).

use carchain_core::pool::{AddressPool, PoolSeed, deduct_address};
use chrono::NaiveDate;

use crate::error::CarChainError;
use crate::keys::OwnerKeys;

/// Parses a calendar date written `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Result<NaiveDate, CarChainError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        CarChainError::new(
            "pool.invalid_date",
            format!("{text:?} is not a YYYY-MM-DD date"),
        )
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
    ) -> Result<String, CarChainError> {
        let date = parse_date(&date)?;
        let size = usize::try_from(pool_size).map_err(|_| {
            CarChainError::new(
                "pool.invalid_pool_size",
                format!("pool size {pool_size} does not fit this platform"),
            )
        })?;
        let pool = AddressPool::derive(&self.keys, &vid, generation, size)?;
        let pool_seed = PoolSeed::derive(self.keys.seed(), &vid, generation)?;
        Ok(deduct_address(pool.addresses(), date, &vid, &pool_seed)?.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::tests::ABANDON;
    use crate::keys::{Network, restore_keys};
    use carchain_core::keys::{Mnemonic, RsaBits, WalletKeys};
    use carchain_core::pool::deduct_index;

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
            (VID, 0, "2016-05-11", "pool.invalid_pool_size"),
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
