//! SHA-256 helpers for protocol digests and ids.

use sha2::{Digest, Sha256};

/// SHA-256 of the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// Double SHA-256 (`SHA256(SHA256(x))`) of the concatenation of `parts`.
pub fn sha256d(parts: &[&[u8]]) -> [u8; 32] {
    sha256(&[&sha256(parts)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_fips_vector_for_abc() {
        assert_eq!(
            hex::encode(sha256(&[b"a", b"bc"])),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn sha256d_of_empty_input_matches_bitcoin() {
        assert_eq!(
            hex::encode(sha256d(&[])),
            "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456"
        );
    }
}
