//! Operating-system randomness for the crypto module: fixed-size random arrays and a
//! ChaCha20 generator seeded from the OS, for the `rsa` crate's RNG parameter.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zeroize::Zeroizing;

use super::error::{CryptoError, CryptoResult};

/// `N` bytes from the operating system CSPRNG.
pub(crate) fn os_random_bytes<const N: usize>() -> CryptoResult<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| CryptoError::RandomnessUnavailable)?;
    Ok(bytes)
}

/// A fresh ChaCha20 CSPRNG seeded from the operating system.
pub(crate) fn os_seeded_rng() -> CryptoResult<ChaCha20Rng> {
    let seed = Zeroizing::new(os_random_bytes::<32>()?);
    Ok(ChaCha20Rng::from_seed(*seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_arrays_differ_between_calls() -> CryptoResult<()> {
        let first = os_random_bytes::<32>()?;
        let second = os_random_bytes::<32>()?;
        assert_ne!(first, second);
        assert_ne!(first, [0u8; 32]);
        Ok(())
    }
}
