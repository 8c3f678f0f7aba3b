//! The wallet's working key set: the BIP39 seed, the BIP32 master key, the owner identity
//! key and the RSA key pair, plus the per-device derivations (pool branch, pool addresses,
//! pool seed, pool signing keys).
//!
//! Unlike [`crate::keys::WalletKeys`] it can take the RSA key from its cached DER, so
//! opening a wallet costs no RSA key generation. The derivations are the same as the
//! `pool` module's (m/84'/coin'/account'/generation/index, account from the VID).

use core::fmt;

use bitcoin::Address;
use bitcoin::bip32::{Xpriv, Xpub};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use zeroize::Zeroizing;

use super::error::WalletError;
use crate::keys::ecc::{
    bip84_account_path, derive_key, master_key, normal, owner_identity_path, p2wpkh_address, secp,
};
use crate::keys::{
    Mnemonic, Network, RsaBits, Seed, SigningKey, derive_rsa_private_key, rsa_fingerprint,
};
use crate::pool::{PoolSeed, addresses_from_branch, pool_account_index};

/// The owner's keys as the wallet uses them. Secret: `Debug` shows only public parts,
/// the master key is erased on drop (the seed and RSA key erase themselves).
pub(crate) struct Keyring {
    network: Network,
    seed: Seed,
    master: Xpriv,
    owner_key: SigningKey,
    owner_address: Address,
    rsa_bits: RsaBits,
    rsa: RsaPrivateKey,
    rsa_fingerprint: String,
}

impl Keyring {
    /// Derives every key from the words, generating the RSA key from the seed.
    pub(crate) fn derive(
        mnemonic: &Mnemonic,
        passphrase: &str,
        network: Network,
    ) -> Result<Self, WalletError> {
        let seed = mnemonic.to_seed(passphrase)?;
        let rsa_bits = RsaBits::default();
        let rsa = derive_rsa_private_key(&seed, rsa_bits)?;
        Self::assemble(seed, network, rsa_bits, rsa)
    }

    /// Derives the secp256k1 keys from the words and takes the RSA key from its PKCS#1
    /// DER (cached in the store), skipping RSA key generation.
    pub(crate) fn from_cached_rsa(
        mnemonic: &Mnemonic,
        passphrase: &str,
        network: Network,
        rsa_bits: RsaBits,
        rsa_der: &[u8],
    ) -> Result<Self, WalletError> {
        let seed = mnemonic.to_seed(passphrase)?;
        let rsa = RsaPrivateKey::from_pkcs1_der(rsa_der).map_err(|_| WalletError::CorruptRsaKey)?;
        Self::assemble(seed, network, rsa_bits, rsa)
    }

    fn assemble(
        seed: Seed,
        network: Network,
        rsa_bits: RsaBits,
        rsa: RsaPrivateKey,
    ) -> Result<Self, WalletError> {
        let master = master_key(&seed, network)?;
        let owner_key = derive_key(&master, &owner_identity_path(network)?)?;
        let owner_address = p2wpkh_address(&owner_key.public_key(), network);
        let rsa_fingerprint = rsa_fingerprint(&rsa.to_public_key())?;
        Ok(Keyring {
            network,
            seed,
            master,
            owner_key,
            owner_address,
            rsa_bits,
            rsa,
            rsa_fingerprint,
        })
    }

    /// The wallet's seed (backups derive their key from it).
    pub(crate) fn seed(&self) -> &Seed {
        &self.seed
    }

    /// The network addresses are formatted for.
    pub(crate) fn network(&self) -> Network {
        self.network
    }

    /// The owner identity signing key.
    pub(crate) fn owner_key(&self) -> &SigningKey {
        &self.owner_key
    }

    /// The owner identity P2WPKH address.
    pub(crate) fn owner_address(&self) -> &Address {
        &self.owner_address
    }

    /// The RSA key size.
    pub(crate) fn rsa_bits(&self) -> RsaBits {
        self.rsa_bits
    }

    /// The RSA private key (opens records wrapped for the owner).
    pub(crate) fn rsa_private(&self) -> &RsaPrivateKey {
        &self.rsa
    }

    /// The RSA public key (given to cars at pairing).
    pub(crate) fn rsa_public(&self) -> RsaPublicKey {
        self.rsa.to_public_key()
    }

    /// Hex SHA-256 of the PKCS#1 DER RSA public key.
    pub(crate) fn rsa_fingerprint(&self) -> &str {
        &self.rsa_fingerprint
    }

    /// The RSA private key as PKCS#1 DER, for the store's cache.
    pub(crate) fn rsa_private_der(&self) -> Result<Zeroizing<Vec<u8>>, WalletError> {
        let doc = self
            .rsa
            .to_pkcs1_der()
            .map_err(|_| WalletError::CorruptRsaKey)?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// The BIP84 account of device `vid`'s pools.
    pub(crate) fn pool_account(&self, vid: &str) -> Result<u32, WalletError> {
        Ok(pool_account_index(&self.seed, vid)?)
    }

    /// The pool branch key m/84'/coin'/account'/generation of device `vid` (the car
    /// signs its puts with children of it).
    pub(crate) fn pool_branch_xpriv(
        &self,
        vid: &str,
        generation: u32,
    ) -> Result<Xpriv, WalletError> {
        let account = self.pool_account(vid)?;
        let generation = normal(generation)?;
        let path = bip84_account_path(self.network, account)?.extend([generation]);
        Ok(self.master.derive_priv(secp(), &path)?)
    }

    /// The public half of [`Self::pool_branch_xpriv`].
    pub(crate) fn pool_branch_xpub(&self, vid: &str, generation: u32) -> Result<Xpub, WalletError> {
        let branch = self.pool_branch_xpriv(vid, generation)?;
        Ok(Xpub::from_priv(secp(), &branch))
    }

    /// The `size` pool addresses of device `vid` at `generation`, index order.
    pub(crate) fn pool_addresses(
        &self,
        vid: &str,
        generation: u32,
        size: usize,
    ) -> Result<Vec<Address>, WalletError> {
        let branch = self.pool_branch_xpub(vid, generation)?;
        Ok(addresses_from_branch(&branch, self.network, size)?)
    }

    /// The pool seed of device `vid` at `generation`.
    pub(crate) fn pool_seed(&self, vid: &str, generation: u32) -> Result<PoolSeed, WalletError> {
        Ok(PoolSeed::derive(&self.seed, vid, generation)?)
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("network", &self.network)
            .field("owner_address", &self.owner_address.to_string())
            .field("rsa_fingerprint", &self.rsa_fingerprint)
            .finish_non_exhaustive()
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        self.master.private_key.non_secure_erase();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::WalletKeys;
    use crate::pairing::pool_commitment;
    use crate::pool::AddressPool;
    use sha2::{Digest, Sha256};

    const WORDS: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    fn keyring() -> (Keyring, WalletKeys) {
        let mnemonic = Mnemonic::parse(WORDS).unwrap();
        let ring = Keyring::derive(&mnemonic, "", Network::Regtest).unwrap();
        let keys =
            WalletKeys::from_mnemonic(&mnemonic, "", Network::Regtest, RsaBits::default()).unwrap();
        (ring, keys)
    }

    #[test]
    fn derivations_match_the_keys_and_pool_modules() {
        let (ring, keys) = keyring();
        assert_eq!(ring.owner_address(), keys.owner_address());
        assert_eq!(ring.rsa_fingerprint(), keys.rsa_fingerprint());
        let pool = AddressPool::derive(&keys, "VIN-1", 3, 5).unwrap();
        assert_eq!(
            ring.pool_addresses("VIN-1", 3, 5).unwrap(),
            pool.addresses()
        );
        assert_eq!(
            &ring.pool_branch_xpub("VIN-1", 3).unwrap(),
            pool.branch_xpub()
        );
        assert_eq!(
            ring.pool_seed("VIN-1", 3).unwrap().as_bytes(),
            PoolSeed::derive(keys.seed(), "VIN-1", 3)
                .unwrap()
                .as_bytes()
        );
    }

    #[test]
    fn cached_rsa_der_restores_the_same_key() {
        let (ring, _) = keyring();
        let der = ring.rsa_private_der().unwrap();
        let mnemonic = Mnemonic::parse(WORDS).unwrap();
        let again =
            Keyring::from_cached_rsa(&mnemonic, "", Network::Regtest, RsaBits::default(), &der)
                .unwrap();
        assert_eq!(again.rsa_fingerprint(), ring.rsa_fingerprint());
        assert_eq!(again.owner_address(), ring.owner_address());
    }

    #[test]
    fn corrupt_rsa_der_is_a_typed_error() {
        let mnemonic = Mnemonic::parse(WORDS).unwrap();
        let result = Keyring::from_cached_rsa(
            &mnemonic,
            "",
            Network::Regtest,
            RsaBits::default(),
            &[0x30, 0x03, 0x02, 0x01, 0x00],
        );
        assert!(matches!(result, Err(WalletError::CorruptRsaKey)));
    }

    #[test]
    fn pool_commitment_golden_vector_and_binding() {
        let (ring, _) = keyring();
        let seed = ring.pool_seed("VIN-1", 0).unwrap();
        let xpub = ring.pool_branch_xpub("VIN-1", 0).unwrap();
        let commitment = pool_commitment(&seed, &xpub);
        let mut hasher = Sha256::new();
        hasher.update(b"carchain/pool-commitment/v1");
        hasher.update(seed.as_bytes());
        hasher.update(xpub.encode());
        let expected: [u8; 32] = hasher.finalize().into();
        assert_eq!(commitment, expected);
        // Pinned once: words "abandon ... about", regtest, VID "VIN-1", generation 0.
        assert_eq!(
            hex::encode(commitment),
            "e0292e5c10aabe425d475d6287107abb0c187083031dac1eff6f926fb5b93fc8"
        );
        let other_seed = ring.pool_seed("VIN-1", 1).unwrap();
        assert_ne!(pool_commitment(&other_seed, &xpub), commitment);
    }

    #[test]
    fn debug_shows_no_secret() {
        let (ring, _) = keyring();
        let shown = format!("{ring:?}");
        assert!(shown.contains(&ring.owner_address().to_string()));
        assert!(!shown.contains("abandon"));
        assert!(!shown.contains(&ring.master.to_string()));
    }
}
