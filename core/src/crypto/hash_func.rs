//! The hash functions a record may name for its dHash and cHash commitments, with the
//! names they carry in records ("sha256", "sha256d").

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use super::error::CryptoError;

/// A record's commitment hash function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum HashFunc {
    /// SHA-256, named "sha256".
    #[serde(rename = "sha256")]
    Sha256,
    /// SHA-256 applied twice (Bitcoin's hash256), named "sha256d".
    #[serde(rename = "sha256d")]
    DoubleSha256,
}

impl HashFunc {
    /// The name as it appears in records.
    pub fn name(self) -> &'static str {
        match self {
            HashFunc::Sha256 => "sha256",
            HashFunc::DoubleSha256 => "sha256d",
        }
    }

    /// Hashes `data` in one call.
    pub fn digest(self, data: &[u8]) -> [u8; 32] {
        self.digest_parts(&[data])
    }

    /// Hashes the concatenation of `parts` without copying them together.
    pub fn digest_parts(self, parts: &[&[u8]]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update(part);
        }
        let once: [u8; 32] = hasher.finalize().into();
        match self {
            HashFunc::Sha256 => once,
            HashFunc::DoubleSha256 => Sha256::digest(once).into(),
        }
    }
}

impl fmt::Display for HashFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for HashFunc {
    type Err = CryptoError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "sha256" => Ok(HashFunc::Sha256),
            "sha256d" => Ok(HashFunc::DoubleSha256),
            other => Err(CryptoError::UnknownHashFunc(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc_matches_fips_180_vector() {
        assert_eq!(
            hex::encode(HashFunc::Sha256.digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn sha256d_of_empty_input_matches_bitcoin_hash256() {
        assert_eq!(
            hex::encode(HashFunc::DoubleSha256.digest(b"")),
            "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456"
        );
    }

    #[test]
    fn digest_parts_equals_digest_of_concatenation() {
        for func in [HashFunc::Sha256, HashFunc::DoubleSha256] {
            assert_eq!(func.digest_parts(&[b"ab", b"", b"c"]), func.digest(b"abc"));
        }
    }

    #[test]
    fn names_round_trip_through_from_str_and_display() -> Result<(), CryptoError> {
        for func in [HashFunc::Sha256, HashFunc::DoubleSha256] {
            assert_eq!(func.to_string().parse::<HashFunc>()?, func);
        }
        assert_eq!("sha256d".parse::<HashFunc>()?, HashFunc::DoubleSha256);
        Ok(())
    }

    #[test]
    fn unknown_or_miscased_names_are_rejected() {
        for name in ["", "SHA256", "sha512", "sha256 "] {
            assert_eq!(
                name.parse::<HashFunc>(),
                Err(CryptoError::UnknownHashFunc(name.to_owned()))
            );
        }
    }
}
