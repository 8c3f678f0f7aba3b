//! RSA key pairs for the grants module's unit tests: generated once per test binary
//! from fixed seeds (key generation is slow).

use std::sync::OnceLock;

use rsa::PrivateKey;

use crate::crypto::test_keys::fixed_key;

/// A provider's RSA key.
pub(crate) fn provider_rsa() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    fixed_key(&KEY, 0x61)
}

/// Someone else's RSA key, who must be refused.
pub(crate) fn outsider_rsa() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    fixed_key(&KEY, 0x62)
}
