//! What grants and attestations publish instead of their contents (tx format v3): a
//! salted SHA-256 commitment. The opening (salt and contents) travels encrypted to the
//! grantee or requester, who checks it against the ledger; anyone holding an opening
//! can check it too, nobody else learns anything from the hash.
//!
//! - [`GrantOpening`]: the grantee's RSA key fingerprint and the granted (address, key)
//!   list behind a `Grant`'s `records_commitment`.
//! - [`AttestationOpening`]: the claim text and the dHashes behind an
//!   `AuditorAttestation`'s `commitment`.
//!
//! Both commitments are SHA-256(domain || 32-byte salt || canonical fields): the salt
//! is random (32 bytes from the OS), so a ledger reader who guesses the contents (a
//! VID, a pool address, a record's dHash from its registration) cannot test the guess.

use serde::{Deserialize, Serialize};

use super::body::RecordRef;
use super::codec::{Canonical, canonical_struct};
use super::error::{ProtocolError, Result};
use super::hashing::sha256;
use super::serde_hex;

/// Domain tag of a grant's records commitment.
pub const GRANT_COMMITMENT_DOMAIN: &[u8] = b"carchain/grant-records/v1";
/// Domain tag of an attestation's commitment.
pub const ATTESTATION_COMMITMENT_DOMAIN: &[u8] = b"carchain/attestation/v1";

/// A fresh 32-byte salt from the operating system.
pub fn fresh_salt() -> Result<[u8; 32]> {
    let mut salt = [0u8; 32];
    getrandom::fill(&mut salt).map_err(|_| ProtocolError::Randomness)?;
    Ok(salt)
}

/// What a `Grant` commits to: the grantee's RSA key (its SHA-256 fingerprint) and the
/// records granted. Held by grantor and grantee only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantOpening {
    /// The commitment's random salt.
    #[serde(with = "serde_hex::fixed")]
    pub salt: [u8; 32],
    /// SHA-256 fingerprint of the grantee's RSA public key the records are wrapped to.
    #[serde(with = "serde_hex::fixed")]
    pub grantee_rsa_fingerprint: [u8; 32],
    /// The records granted (copied, or read by the computation).
    pub records: Vec<RecordRef>,
}
canonical_struct!(GrantOpening {
    salt,
    grantee_rsa_fingerprint,
    records
});

impl GrantOpening {
    /// An opening with a fresh salt.
    pub fn new(grantee_rsa_fingerprint: [u8; 32], records: Vec<RecordRef>) -> Result<Self> {
        Ok(Self {
            salt: fresh_salt()?,
            grantee_rsa_fingerprint,
            records,
        })
    }

    /// SHA-256(`"carchain/grant-records/v1"` || canonical(opening)), the canonical
    /// opening starting with the salt.
    pub fn commitment(&self) -> [u8; 32] {
        sha256(&[GRANT_COMMITMENT_DOMAIN, &self.to_canonical()])
    }
}

/// What an `AuditorAttestation` commits to: the claim text (which names the car) and
/// the dHashes it covers. The auditor hands it, sealed, to whoever relies on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationOpening {
    /// The commitment's random salt.
    #[serde(with = "serde_hex::fixed")]
    pub salt: [u8; 32],
    /// The full claim, e.g. `mileage-complete/v1 vid=... from=... to=... trips=... metres=...`.
    pub claim: String,
    /// The dHashes the claim covers.
    #[serde(with = "serde_hex::vec_fixed")]
    pub d_hashes: Vec<[u8; 32]>,
}
canonical_struct!(AttestationOpening {
    salt,
    claim,
    d_hashes
});

impl AttestationOpening {
    /// An opening with a fresh salt.
    pub fn new(claim: String, d_hashes: Vec<[u8; 32]>) -> Result<Self> {
        Ok(Self {
            salt: fresh_salt()?,
            claim,
            d_hashes,
        })
    }

    /// SHA-256(`"carchain/attestation/v1"` || canonical(opening)).
    pub fn commitment(&self) -> [u8; 32] {
        sha256(&[ATTESTATION_COMMITMENT_DOMAIN, &self.to_canonical()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant_opening() -> GrantOpening {
        GrantOpening {
            salt: [0x11; 32],
            grantee_rsa_fingerprint: [0x22; 32],
            records: vec![RecordRef {
                address: "bcrt1qdata".into(),
                key: vec![1, 2],
            }],
        }
    }

    #[test]
    fn grant_commitment_is_pinned_and_binds_every_field() {
        let opening = grant_opening();
        let mut preimage = GRANT_COMMITMENT_DOMAIN.to_vec();
        preimage.extend_from_slice(&[0x11; 32]);
        preimage.extend_from_slice(&[0x22; 32]);
        preimage.extend_from_slice(&1u32.to_be_bytes());
        preimage.extend_from_slice(&10u32.to_be_bytes());
        preimage.extend_from_slice(b"bcrt1qdata");
        preimage.extend_from_slice(&2u32.to_be_bytes());
        preimage.extend_from_slice(&[1, 2]);
        assert_eq!(opening.commitment(), sha256(&[&preimage]));
        let base = opening.commitment();
        let mut other = opening.clone();
        other.salt[0] ^= 1;
        assert_ne!(other.commitment(), base);
        let mut other = opening.clone();
        other.grantee_rsa_fingerprint[0] ^= 1;
        assert_ne!(other.commitment(), base);
        let mut other = opening.clone();
        other.records[0].key.push(3);
        assert_ne!(other.commitment(), base);
        let mut other = opening;
        other.records.clear();
        assert_ne!(other.commitment(), base);
    }

    #[test]
    fn fresh_openings_of_the_same_contents_commit_differently() {
        let a = GrantOpening::new([0x22; 32], grant_opening().records).expect("salt");
        let b = GrantOpening::new([0x22; 32], grant_opening().records).expect("salt");
        assert_ne!(a.commitment(), b.commitment());
        let c = AttestationOpening::new("claim".into(), vec![[5; 32]]).expect("salt");
        let d = AttestationOpening::new("claim".into(), vec![[5; 32]]).expect("salt");
        assert_ne!(c.commitment(), d.commitment());
    }

    #[test]
    fn attestation_commitment_binds_claim_and_d_hashes() {
        let opening = AttestationOpening {
            salt: [0x33; 32],
            claim: "mileage-complete/v1 vid=X".into(),
            d_hashes: vec![[4; 32]],
        };
        let base = opening.commitment();
        assert_eq!(
            base,
            sha256(&[ATTESTATION_COMMITMENT_DOMAIN, &opening.to_canonical()])
        );
        let mut other = opening.clone();
        other.claim.push('!');
        assert_ne!(other.commitment(), base);
        let mut other = opening.clone();
        other.d_hashes.push([5; 32]);
        assert_ne!(other.commitment(), base);
        assert_eq!(
            AttestationOpening::from_canonical(&opening.to_canonical()),
            Ok(opening)
        );
    }
}
