//! The per-day address choice (the seed's `deductFrom`): a pure function of the pool, the
//! date, the VID and the pool seed.
//!
//! index = HMAC-SHA256(pool_seed, vid || "YYYYMMDD") read as a big-endian 256-bit integer,
//! mod pool length. The car writes a day's records to that address; the owner recomputes
//! it and reads one address per day, while anyone without the pool seed must scan them all.

use bitcoin::Address;
use chrono::{Datelike, NaiveDate};
use hmac::Mac;

use super::error::PoolError;
use super::seed::{PoolSeed, hmac_sha256};

/// Longest date range [`pool_addresses_for_days`] accepts, in days (about ten years).
pub const MAX_DAYS_PER_QUERY: i64 = 3_660;

/// The date as 8 ASCII digits, YYYYMMDD.
pub fn date_digits(date: NaiveDate) -> Result<[u8; 8], PoolError> {
    let year = date.year();
    if !(0..=9_999).contains(&year) {
        return Err(PoolError::DateOutOfRange { date });
    }
    let text = format!("{year:04}{:02}{:02}", date.month(), date.day());
    let mut digits = [0u8; 8];
    if text.len() != digits.len() {
        return Err(PoolError::DateOutOfRange { date });
    }
    digits.copy_from_slice(text.as_bytes());
    Ok(digits)
}

/// The pool index for `date`, for a pool of `pool_len` addresses.
pub fn deduct_index(
    pool_len: usize,
    date: NaiveDate,
    vid: &str,
    pool_seed: &PoolSeed,
) -> Result<usize, PoolError> {
    if pool_len == 0 {
        return Err(PoolError::EmptyPool);
    }
    if vid.is_empty() {
        return Err(PoolError::EmptyVid);
    }
    let mut mac = hmac_sha256(pool_seed.as_bytes())?;
    mac.update(vid.as_bytes());
    mac.update(&date_digits(date)?);
    let digest = mac.finalize().into_bytes();
    let modulus = pool_len as u128;
    let remainder = digest
        .iter()
        .fold(0u128, |acc, &byte| (acc * 256 + u128::from(byte)) % modulus);
    usize::try_from(remainder).map_err(|_| PoolError::EmptyPool)
}

/// The pool address the device uses on `date`.
pub fn deduct_address<'a>(
    pool: &'a [Address],
    date: NaiveDate,
    vid: &str,
    pool_seed: &PoolSeed,
) -> Result<&'a Address, PoolError> {
    let index = deduct_index(pool.len(), date, vid, pool_seed)?;
    pool.get(index).ok_or(PoolError::EmptyPool)
}

/// The address of every day from `from` to `to`, both included.
pub fn pool_addresses_for_days(
    pool: &[Address],
    from: NaiveDate,
    to: NaiveDate,
    vid: &str,
    pool_seed: &PoolSeed,
) -> Result<Vec<(NaiveDate, Address)>, PoolError> {
    if from > to {
        return Err(PoolError::ReversedDateRange { from, to });
    }
    let days = (to - from).num_days() + 1;
    if days > MAX_DAYS_PER_QUERY {
        return Err(PoolError::DateRangeTooLong {
            days,
            max: MAX_DAYS_PER_QUERY,
        });
    }
    let mut out = Vec::with_capacity(usize::try_from(days).unwrap_or_default());
    for date in from.iter_days().take_while(|date| *date <= to) {
        out.push((date, deduct_address(pool, date, vid, pool_seed)?.clone()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Mnemonic, Network, RsaBits, WalletKeys};
    use crate::pool::{AddressPool, DEFAULT_POOL_SIZE};

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    const VID: &str = "LBVNU79049SB81546";

    fn fixed_seed() -> PoolSeed {
        let bytes: [u8; 32] =
            hex::decode("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
                .unwrap()
                .try_into()
                .unwrap();
        PoolSeed::from_bytes(bytes)
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2016, 5, d).unwrap()
    }

    fn abandon_pool() -> AddressPool {
        let words = Mnemonic::parse(ABANDON).unwrap();
        let wallet =
            WalletKeys::from_mnemonic(&words, "", Network::Mainnet, RsaBits::B2048).unwrap();
        AddressPool::derive(&wallet, VID, 0, DEFAULT_POOL_SIZE).unwrap()
    }

    fn digest_for(seed: &PoolSeed, date: &str) -> Vec<u8> {
        let mut mac = hmac_sha256(seed.as_bytes()).unwrap();
        mac.update(VID.as_bytes());
        mac.update(date.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    #[test]
    fn golden_indices_for_a_week() {
        let seed = fixed_seed();
        let indices: Vec<usize> = (11..=17)
            .map(|d| deduct_index(DEFAULT_POOL_SIZE, day(d), VID, &seed).unwrap())
            .collect();
        assert_eq!(indices, vec![18, 6, 21, 17, 21, 14, 5]);
    }

    #[test]
    fn golden_addresses_for_a_week() {
        let pool = abandon_pool();
        let seed = fixed_seed();
        let days = pool_addresses_for_days(pool.addresses(), day(11), day(17), VID, &seed).unwrap();
        let shown: Vec<String> = days.iter().map(|(_, a)| a.to_string()).collect();
        assert_eq!(
            shown,
            vec![
                "bc1q9kfrq43cglvuqt4wy0ujq6kcek953uzhea7kku",
                "bc1qhem9sc6ape2xqn249mr26g7dus028a6mtelw8k",
                "bc1q6ejkqqqs30wzm0k37kvvpyspvzfqvtxs958je6",
                "bc1qu2mxhluyn5nd6rf3zv22f0v5z7ngcy3uyv76mc",
                "bc1q6ejkqqqs30wzm0k37kvvpyspvzfqvtxs958je6",
                "bc1ql8vausuyjuu6jp4en8e8l5k67jkra0l5cxayr8",
                "bc1qf064vyrwwrglvkx98h2cstf0cgyx5yzyycgwzh",
            ]
        );
        for ((date, address), index) in days.iter().zip([18, 6, 21, 17, 21, 14, 5]) {
            assert_eq!(address, &pool.addresses()[index]);
            assert_eq!(
                deduct_address(pool.addresses(), *date, VID, &seed).unwrap(),
                address
            );
        }
        assert_eq!(days.first().unwrap().0, day(11));
        assert_eq!(days.last().unwrap().0, day(17));
    }

    #[test]
    fn reduction_agrees_with_independent_arithmetic() {
        let seed = fixed_seed();
        for d in 1..=31 {
            let digest = digest_for(&seed, &format!("201605{d:02}"));
            // 256 | 2^k: only the last byte matters.
            assert_eq!(
                deduct_index(32, day(d), VID, &seed).unwrap(),
                usize::from(digest[31] % 32)
            );
            assert_eq!(
                deduct_index(256, day(d), VID, &seed).unwrap(),
                usize::from(digest[31])
            );
            // 256 = 1 (mod 3 and mod 5 and mod 255): the byte sum decides.
            let sum: usize = digest.iter().map(|&b| usize::from(b)).sum();
            for modulus in [3, 5, 255] {
                assert_eq!(
                    deduct_index(modulus, day(d), VID, &seed).unwrap(),
                    sum % modulus
                );
            }
            assert_eq!(deduct_index(1, day(d), VID, &seed).unwrap(), 0);
        }
    }

    #[test]
    fn thirty_days_spread_over_the_pool_and_depend_on_the_seed() {
        let seed = fixed_seed();
        let other = PoolSeed::from_bytes([0x42; 32]);
        let start = day(1);
        let first: Vec<usize> = start
            .iter_days()
            .take(30)
            .map(|d| deduct_index(DEFAULT_POOL_SIZE, d, VID, &seed).unwrap())
            .collect();
        let second: Vec<usize> = start
            .iter_days()
            .take(30)
            .map(|d| deduct_index(DEFAULT_POOL_SIZE, d, VID, &other).unwrap())
            .collect();
        assert!(first.iter().any(|&i| i != first[0]));
        assert_ne!(first, second);
        let other_car: Vec<usize> = start
            .iter_days()
            .take(30)
            .map(|d| deduct_index(DEFAULT_POOL_SIZE, d, "WVWZZZ1JZXW000001", &seed).unwrap())
            .collect();
        assert_ne!(first, other_car);
    }

    #[test]
    fn date_digits_are_yyyymmdd() {
        assert_eq!(&date_digits(day(11)).unwrap(), b"20160511");
        assert_eq!(
            &date_digits(NaiveDate::from_ymd_opt(7, 1, 2).unwrap()).unwrap(),
            b"00070102"
        );
        let far = NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap();
        assert!(matches!(
            date_digits(far),
            Err(PoolError::DateOutOfRange { .. })
        ));
    }

    #[test]
    fn empty_pool_and_empty_vid_are_typed_errors() {
        let seed = fixed_seed();
        assert!(matches!(
            deduct_address(&[], day(11), VID, &seed),
            Err(PoolError::EmptyPool)
        ));
        assert!(matches!(
            deduct_index(4, day(11), "", &seed),
            Err(PoolError::EmptyVid)
        ));
    }

    #[test]
    fn date_range_bounds() {
        let pool = abandon_pool();
        let seed = fixed_seed();
        assert!(matches!(
            pool_addresses_for_days(pool.addresses(), day(17), day(11), VID, &seed),
            Err(PoolError::ReversedDateRange { .. })
        ));
        let single =
            pool_addresses_for_days(pool.addresses(), day(11), day(11), VID, &seed).unwrap();
        assert_eq!(single.len(), 1);
        let from = NaiveDate::from_ymd_opt(2016, 1, 1).unwrap();
        let last_allowed = from + chrono::Days::new(3_659);
        let full =
            pool_addresses_for_days(pool.addresses(), from, last_allowed, VID, &seed).unwrap();
        assert_eq!(full.len(), 3_660);
        assert!(matches!(
            pool_addresses_for_days(
                pool.addresses(),
                from,
                last_allowed + chrono::Days::new(1),
                VID,
                &seed
            ),
            Err(PoolError::DateRangeTooLong {
                days: 3_661,
                max: 3_660
            })
        ));
    }

    proptest::proptest! {
        #[test]
        fn index_is_in_range_and_deterministic(
            len in 1usize..=10_000,
            day_offset in 0u64..40_000,
            seed in proptest::array::uniform32(proptest::num::u8::ANY),
        ) {
            let seed = PoolSeed::from_bytes(seed);
            let date = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Days::new(day_offset);
            let index = deduct_index(len, date, VID, &seed).unwrap();
            proptest::prop_assert!(index < len);
            proptest::prop_assert_eq!(index, deduct_index(len, date, VID, &seed).unwrap());
            let digest = digest_for(&seed, core::str::from_utf8(&date_digits(date).unwrap()).unwrap());
            let sum: usize = digest.iter().map(|&b| usize::from(b)).sum();
            proptest::prop_assert_eq!(deduct_index(255, date, VID, &seed).unwrap(), sum % 255);
        }
    }
}
