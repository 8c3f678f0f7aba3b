//! A device's address pool (the seed's `setDup`): N P2WPKH addresses on the device's own
//! BIP32 branch m/84'/coin'/account'/generation/i.
//!
//! account' = hardened index from the first 31 bits of
//! HMAC-SHA256(key = HKDF(seed, "carchain/pool-account"), vid), so the recovery words plus
//! the VID recover the pool. A new `generation` replaces a pool (setDup again) without
//! touching the old one's data. Addresses are derived publicly from one branch xpub.

use bitcoin::Address;
use bitcoin::bip32::{DerivationPath, Xpub};
use hmac::Mac;

use super::error::PoolError;
use super::seed::{hkdf_key, hmac_sha256};
use crate::keys::ecc::{bip84_account_path, derive_public_child, normal, p2wpkh_address};
use crate::keys::{Network, Seed, SigningKey, WalletKeys};

/// HKDF info for the key that picks a device's pool account.
pub const POOL_ACCOUNT_INFO: &[u8] = b"carchain/pool-account";

/// Pool size used when the caller has no preference.
pub const DEFAULT_POOL_SIZE: usize = 32;

/// Largest pool a device may have.
pub const MAX_POOL_SIZE: usize = 10_000;

/// The BIP84 account number (below 2^31, used hardened) of a device's pool.
pub fn pool_account_index(seed: &Seed, vid: &str) -> Result<u32, PoolError> {
    if vid.is_empty() {
        return Err(PoolError::EmptyVid);
    }
    let key = hkdf_key(seed, POOL_ACCOUNT_INFO)?;
    let mut mac = hmac_sha256(key.as_ref())?;
    mac.update(vid.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut first = [0u8; 4];
    first.copy_from_slice(digest.get(..4).ok_or(PoolError::KeyDerivation)?);
    Ok(u32::from_be_bytes(first) >> 1)
}

/// The full path of one pool address: m/84'/coin'/account'/generation/index.
pub fn pool_address_path(
    network: Network,
    account: u32,
    generation: u32,
    index: u32,
) -> Result<DerivationPath, PoolError> {
    let generation = normal(generation).map_err(|_| PoolError::InvalidGeneration { generation })?;
    let index = normal(index).map_err(|_| PoolError::InvalidIndex { index })?;
    Ok(bip84_account_path(network, account)?.extend([generation, index]))
}

/// Checks a requested pool size against 1..=[`MAX_POOL_SIZE`].
pub fn check_pool_size(size: usize) -> Result<(), PoolError> {
    if (1..=MAX_POOL_SIZE).contains(&size) {
        Ok(())
    } else {
        Err(PoolError::InvalidPoolSize {
            size,
            max: MAX_POOL_SIZE,
        })
    }
}

/// Derives `size` consecutive P2WPKH addresses (indices 0..size) below a pool branch xpub
/// (the key at m/84'/coin'/account'/generation). Needs no private key.
pub fn addresses_from_branch(
    branch: &Xpub,
    network: Network,
    size: usize,
) -> Result<Vec<Address>, PoolError> {
    check_pool_size(size)?;
    let mut addresses = Vec::with_capacity(size);
    for index in 0..size {
        let index =
            u32::try_from(index).map_err(|_| PoolError::InvalidIndex { index: u32::MAX })?;
        let child = derive_public_child(branch, &[index])?;
        addresses.push(p2wpkh_address(&child.to_pub(), network));
    }
    Ok(addresses)
}

/// A device's address pool as the owner's wallet derives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressPool {
    vid: String,
    network: Network,
    account: u32,
    generation: u32,
    branch: Xpub,
    addresses: Vec<Address>,
}

impl AddressPool {
    /// Derives the pool of `size` addresses for device `vid` at `generation`.
    pub fn derive(
        wallet: &WalletKeys,
        vid: &str,
        generation: u32,
        size: usize,
    ) -> Result<Self, PoolError> {
        check_pool_size(size)?;
        let network = wallet.network();
        let account = pool_account_index(wallet.seed(), vid)?;
        let account_xpub = wallet.derive_xpub(&bip84_account_path(network, account)?)?;
        normal(generation).map_err(|_| PoolError::InvalidGeneration { generation })?;
        let branch = derive_public_child(&account_xpub, &[generation])?;
        let addresses = addresses_from_branch(&branch, network, size)?;
        Ok(AddressPool {
            vid: vid.to_owned(),
            network,
            account,
            generation,
            branch,
            addresses,
        })
    }

    /// The device identifier.
    pub fn vid(&self) -> &str {
        &self.vid
    }

    /// The network of the addresses.
    pub fn network(&self) -> Network {
        self.network
    }

    /// The hardened BIP84 account number of this device's pools.
    pub fn account(&self) -> u32 {
        self.account
    }

    /// The pool generation (bumped by setDup).
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// The branch xpub m/84'/coin'/account'/generation all addresses derive from.
    pub fn branch_xpub(&self) -> &Xpub {
        &self.branch
    }

    /// The addresses, index order.
    pub fn addresses(&self) -> &[Address] {
        &self.addresses
    }

    /// Number of addresses.
    pub fn len(&self) -> usize {
        self.addresses.len()
    }

    /// Always false: a pool has at least one address.
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty()
    }

    /// Position of `address` in the pool, if it belongs to it.
    pub fn index_of(&self, address: &Address) -> Option<usize> {
        self.addresses.iter().position(|a| a == address)
    }

    /// Full derivation path of the address at `index`.
    pub fn path_of(&self, index: u32) -> Result<DerivationPath, PoolError> {
        pool_address_path(self.network, self.account, self.generation, index)
    }
}

/// The private key of pool address `index` of device `vid` at `generation`: the owner
/// signs with it to prove the data under that address is hers.
pub fn pool_signing_key(
    wallet: &WalletKeys,
    vid: &str,
    generation: u32,
    index: u32,
) -> Result<SigningKey, PoolError> {
    let account = pool_account_index(wallet.seed(), vid)?;
    let path = pool_address_path(wallet.network(), account, generation, index)?;
    Ok(wallet.derive_key(&path)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Mnemonic, RsaBits, public_key_matches_address};

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    const VID: &str = "LBVNU79049SB81546";

    fn abandon_wallet(network: Network) -> WalletKeys {
        let words = Mnemonic::parse(ABANDON).unwrap();
        WalletKeys::from_mnemonic(&words, "", network, RsaBits::B2048).unwrap()
    }

    #[test]
    fn golden_pool_of_abandon_wallet() {
        let wallet = abandon_wallet(Network::Mainnet);
        let pool = AddressPool::derive(&wallet, VID, 0, DEFAULT_POOL_SIZE).unwrap();
        assert_eq!(pool.account(), 207_391_010);
        assert_eq!(pool.len(), 32);
        assert_eq!(
            pool.addresses()[0].to_string(),
            "bc1qrtyx7pet9s44muetekc00nydj2253cnh9wfury"
        );
        assert_eq!(
            pool.addresses()[31].to_string(),
            "bc1qe8390whs3g9sv6rr4vvfsqz4308k2plrtua6zl"
        );
    }

    #[test]
    fn public_derivation_matches_private_key_path() {
        let wallet = abandon_wallet(Network::Regtest);
        let pool = AddressPool::derive(&wallet, VID, 2, 5).unwrap();
        for index in [0u32, 4] {
            let key = pool_signing_key(&wallet, VID, 2, index).unwrap();
            let address = &pool.addresses()[index as usize];
            assert!(public_key_matches_address(
                &key.public_key(),
                address,
                Network::Regtest
            ));
            let via_path = wallet.derive_key(&pool.path_of(index).unwrap()).unwrap();
            assert_eq!(via_path.public_key(), key.public_key());
        }
        assert_eq!(
            pool.path_of(4).unwrap().to_string(),
            format!("84'/1'/{}'/2/4", pool.account())
        );
    }

    #[test]
    fn pools_differ_by_vid_and_generation_and_restore_identically() {
        let wallet = abandon_wallet(Network::Regtest);
        let pool = AddressPool::derive(&wallet, VID, 0, 8).unwrap();
        let restored = AddressPool::derive(&abandon_wallet(Network::Regtest), VID, 0, 8).unwrap();
        assert_eq!(pool, restored);
        let other_car = AddressPool::derive(&wallet, "WVWZZZ1JZXW000001", 0, 8).unwrap();
        assert_ne!(pool.account(), other_car.account());
        assert!(
            pool.addresses()
                .iter()
                .all(|a| other_car.index_of(a).is_none())
        );
        let dup = AddressPool::derive(&wallet, VID, 1, 8).unwrap();
        assert_eq!(dup.account(), pool.account());
        assert!(pool.addresses().iter().all(|a| dup.index_of(a).is_none()));
        // A larger pool extends a smaller one of the same generation.
        let larger = AddressPool::derive(&wallet, VID, 0, 16).unwrap();
        assert_eq!(&larger.addresses()[..8], pool.addresses());
        assert_eq!(pool.index_of(&pool.addresses()[5]), Some(5));
    }

    #[test]
    fn pool_account_is_first_31_bits_of_the_hmac() {
        let wallet = abandon_wallet(Network::Regtest);
        let account = pool_account_index(wallet.seed(), VID).unwrap();
        assert!(account < 1 << 31);
        // Recomputed step by step with the primitives themselves.
        let mut key = [0u8; 32];
        hkdf::Hkdf::<sha2::Sha256>::new(None, wallet.seed().as_bytes())
            .expand(b"carchain/pool-account", &mut key)
            .unwrap();
        let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::KeyInit>::new_from_slice(&key).unwrap();
        mac.update(VID.as_bytes());
        let digest = mac.finalize().into_bytes();
        let top = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        assert_eq!(account, top >> 1);
        assert_eq!(account, 207_391_010);
    }

    #[test]
    fn pool_size_bounds() {
        let wallet = abandon_wallet(Network::Regtest);
        for size in [0, MAX_POOL_SIZE + 1] {
            assert!(matches!(
                AddressPool::derive(&wallet, VID, 0, size),
                Err(PoolError::InvalidPoolSize { size: s, max: MAX_POOL_SIZE }) if s == size
            ));
        }
        assert!(check_pool_size(1).is_ok());
        assert!(check_pool_size(MAX_POOL_SIZE).is_ok());
        let largest = AddressPool::derive(&wallet, VID, 0, MAX_POOL_SIZE).unwrap();
        assert_eq!(largest.len(), MAX_POOL_SIZE);
    }

    #[test]
    fn bad_generation_index_and_vid_are_typed_errors() {
        let wallet = abandon_wallet(Network::Regtest);
        assert!(matches!(
            AddressPool::derive(&wallet, VID, 1 << 31, 4),
            Err(PoolError::InvalidGeneration { generation }) if generation == 1 << 31
        ));
        assert!(matches!(
            pool_signing_key(&wallet, VID, 0, 1 << 31),
            Err(PoolError::InvalidIndex { .. })
        ));
        assert!(matches!(
            AddressPool::derive(&wallet, "", 0, 4),
            Err(PoolError::EmptyVid)
        ));
    }
}
