//! The 32-byte symmetric keys of the record key hierarchy: an [`EpochKey`] per data
//! address and day, and a [`RecordKey`] per record derived from it. Both are generated
//! from the OS CSPRNG, zeroized on drop and redacted in `Debug`.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::error::CryptoResult;
use super::rng::os_random_bytes;

/// Length in bytes of every symmetric key in the hierarchy.
pub const SYMMETRIC_KEY_LEN: usize = 32;

macro_rules! secret_key_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; SYMMETRIC_KEY_LEN]);

        impl $name {
            /// A fresh random key from the operating system CSPRNG.
            pub fn generate() -> CryptoResult<Self> {
                Ok(Self(os_random_bytes::<SYMMETRIC_KEY_LEN>()?))
            }

            /// Wraps existing key bytes (for example, just unwrapped or derived).
            pub fn from_bytes(bytes: [u8; SYMMETRIC_KEY_LEN]) -> Self {
                Self(bytes)
            }

            /// The raw key bytes; keep them out of logs.
            pub fn as_bytes(&self) -> &[u8; SYMMETRIC_KEY_LEN] {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

secret_key_type!(
    /// The key of one epoch: one data address on one day. The car makes one, wraps it
    /// once for the owner's RSA key, and derives every record key of the day from it.
    EpochKey
);

secret_key_type!(
    /// The key of one record, derived from its epoch key and its address, key and
    /// format; it encrypts that record's value and can be granted on its own.
    RecordKey
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_redacts_key_bytes() {
        let epoch = EpochKey::from_bytes([0xAB; 32]);
        let record = RecordKey::from_bytes([0xCD; 32]);
        assert_eq!(format!("{epoch:?}"), "EpochKey(<redacted>)");
        assert_eq!(format!("{record:?}"), "RecordKey(<redacted>)");
        assert!(!format!("{epoch:?}{record:#?}").contains("171"));
    }

    #[test]
    fn generated_keys_are_random() -> CryptoResult<()> {
        let a = EpochKey::generate()?;
        let b = EpochKey::generate()?;
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_ne!(RecordKey::generate()?.as_bytes(), &[0u8; 32]);
        Ok(())
    }

    #[test]
    fn zeroize_clears_key_bytes() {
        let mut key = RecordKey::from_bytes([7; 32]);
        key.zeroize();
        assert_eq!(key.as_bytes(), &[0u8; 32]);
    }

    #[test]
    fn from_bytes_keeps_bytes() {
        assert_eq!(EpochKey::from_bytes([9; 32]).as_bytes(), &[9u8; 32]);
    }
}
