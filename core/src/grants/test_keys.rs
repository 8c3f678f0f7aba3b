//! RSA key pairs for the grants module's unit tests: generated once per test binary
//! from fixed seeds (key generation is slow).

use std::sync::OnceLock;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rsa::PrivateKey;

fn generate(seed: u8) -> PrivateKey {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    match PrivateKey::new(&mut rng, 2048) {
        Ok(key) => key,
        Err(error) => panic!("test RSA key generation failed: {error}"),
    }
}

/// A provider's RSA key.
pub(crate) fn provider_rsa() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| generate(0x61))
}

/// Someone else's RSA key, who must be refused.
pub(crate) fn outsider_rsa() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| generate(0x62))
}
