//! What an owner discloses to the auditor it chose: the car's pool (seed, branch public
//! key, size), enough to recompute the ledger's pool commitment and every address.

use core::fmt;

use bitcoin::bip32::Xpub;

use super::error::{AuditError, AuditResult};
use crate::keys::Network;
use crate::pairing::pool_commitment;
use crate::pool::{PoolSeed, addresses_from_branch};

/// A car's pool as its owner discloses it to an auditor: enough to recompute the
/// ledger's pool commitment and every pool address. Secret (the pool seed): `Debug`
/// redacts it, and it is erased on drop.
#[derive(Clone)]
pub struct PoolDisclosure {
    /// The car.
    pub vid: String,
    /// Addresses in the pool.
    pub size: u32,
    /// The pool branch public key the addresses derive from.
    pub branch_xpub: Xpub,
    pool_seed: PoolSeed,
}

impl fmt::Debug for PoolDisclosure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolDisclosure")
            .field("vid", &self.vid)
            .field("size", &self.size)
            .field("pool_seed", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl PoolDisclosure {
    /// A disclosure from its parts.
    pub fn new(vid: &str, size: u32, branch_xpub: Xpub, pool_seed: PoolSeed) -> Self {
        PoolDisclosure {
            vid: vid.to_owned(),
            size,
            branch_xpub,
            pool_seed,
        }
    }

    /// The disclosed pool seed (for the auditor's own scan).
    pub(super) fn pool_seed(&self) -> &PoolSeed {
        &self.pool_seed
    }

    /// The commitment the ledger keeps for this pool.
    pub fn commitment(&self) -> [u8; 32] {
        pool_commitment(&self.pool_seed, &self.branch_xpub)
    }

    /// Every pool address, index order.
    pub fn addresses(&self, network: Network) -> AuditResult<Vec<String>> {
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        let addresses = addresses_from_branch(&self.branch_xpub, network, size).map_err(|e| {
            AuditError::PoolMismatch {
                vid: self.vid.clone(),
                reason: e.to_string(),
            }
        })?;
        Ok(addresses.iter().map(ToString::to_string).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disclosure(seed: u8) -> PoolDisclosure {
        let master = bitcoin::bip32::Xpriv::new_master(bitcoin::NetworkKind::Test, &[7; 32])
            .expect("master");
        let xpub = Xpub::from_priv(&bitcoin::secp256k1::Secp256k1::new(), &master);
        PoolDisclosure::new("VIN-1", 3, xpub, PoolSeed::from_bytes([seed; 32]))
    }

    #[test]
    fn a_disclosure_recomputes_the_commitment_and_hides_the_seed() {
        let pool = disclosure(0x5e);
        assert_eq!(
            pool.commitment(),
            pool_commitment(&PoolSeed::from_bytes([0x5e; 32]), &pool.branch_xpub)
        );
        assert_ne!(pool.commitment(), disclosure(0x5f).commitment());
        let addresses = pool.addresses(Network::Regtest).expect("addresses");
        assert_eq!(addresses.len(), 3);
        assert!(addresses.iter().all(|a| a.starts_with("bcrt1q")));
        let debug = format!("{pool:?}");
        assert!(!debug.contains(&hex::encode([0x5eu8; 32])), "{debug}");
        assert!(debug.contains("<redacted>"));
        let empty = PoolDisclosure { size: 0, ..pool };
        assert!(matches!(
            empty.addresses(Network::Regtest),
            Err(AuditError::PoolMismatch { .. })
        ));
    }
}
