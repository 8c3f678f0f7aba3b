//! The 64-byte BIP39 seed every CarChain key is derived from.

use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length of a BIP39 seed in bytes.
pub const SEED_LEN: usize = 64;

/// A BIP39 seed (PBKDF2 of the words and passphrase). Secret: zeroized on drop and
/// redacted in `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct Seed {
    bytes: [u8; SEED_LEN],
}

impl Seed {
    /// Wraps raw seed bytes (for example a seed restored from encrypted storage).
    pub fn from_bytes(bytes: [u8; SEED_LEN]) -> Self {
        Seed { bytes }
    }

    /// The raw seed bytes. Handle with care: this is the master secret.
    pub fn as_bytes(&self) -> &[u8; SEED_LEN] {
        &self.bytes
    }
}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Seed([REDACTED; 64 bytes])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let seed = Seed::from_bytes([0xab; SEED_LEN]);
        let shown = format!("{seed:?}");
        assert_eq!(shown, "Seed([REDACTED; 64 bytes])");
        assert!(!shown.contains("ab"));
    }

    #[test]
    fn zeroize_clears_bytes() {
        let mut seed = Seed::from_bytes([7; SEED_LEN]);
        seed.zeroize();
        assert_eq!(seed.as_bytes(), &[0u8; SEED_LEN]);
    }
}
