//! RSA key pairs shared by the crypto module's unit tests: generated once per test
//! binary (keygen is slow), from fixed seeds so failures reproduce.

use std::sync::OnceLock;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rsa::PrivateKey;

/// The 2048-bit RSA key generated from `seed`, made once in `cell`.
pub(crate) fn fixed_key(cell: &'static OnceLock<PrivateKey>, seed: u8) -> &'static PrivateKey {
    cell.get_or_init(|| {
        let mut rng = ChaCha20Rng::from_seed([seed; 32]);
        match PrivateKey::new(&mut rng, 2048) {
            Ok(key) => key,
            Err(error) => panic!("test RSA key generation failed: {error}"),
        }
    })
}

/// The car owner's RSA key.
pub(crate) fn owner() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    fixed_key(&KEY, 1)
}

/// A second party: a grantee or subscriber.
pub(crate) fn grantee() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    fixed_key(&KEY, 2)
}

/// A third party who must be refused.
pub(crate) fn outsider() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    fixed_key(&KEY, 3)
}
