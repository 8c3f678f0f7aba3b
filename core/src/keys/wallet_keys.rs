//! Everything a wallet derives from its recovery words: the BIP32 master key, the owner
//! identity key and address (BIP84 m/84'/coin'/0'/0/0), the account xpub and the RSA pair.

use core::fmt;

use bitcoin::bip32::{DerivationPath, Fingerprint, Xpriv, Xpub};
use bitcoin::{Address, CompressedPublicKey};
use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};

use super::ecc::{
    bip84_account_path, derive_key, derive_xpub, master_key, owner_identity_path, p2wpkh_address,
    secp,
};
use super::error::KeyError;
use super::mnemonic::Mnemonic;
use super::network::Network;
use super::rsa_keys::{RsaBits, derive_rsa_private_key, rsa_fingerprint};
use super::seed::Seed;
use super::signing::{CompactSignature, SigningKey};

/// SLIP-132 version bytes of a BIP84 account public key: `zpub` (mainnet), `vpub` (test).
const ZPUB_VERSION: [u8; 4] = [0x04, 0xb2, 0x47, 0x46];
const VPUB_VERSION: [u8; 4] = [0x04, 0x5f, 0x1c, 0xf6];

/// The owner's key set, restored from words (+ optional passphrase). Secret: `Debug`
/// shows only public parts; the seed, master key and RSA key are erased on drop.
pub struct WalletKeys {
    network: Network,
    seed: Seed,
    master: Xpriv,
    account_xpub: Xpub,
    owner_key: SigningKey,
    owner_address: Address,
    rsa_bits: RsaBits,
    rsa_private: RsaPrivateKey,
    rsa_fingerprint: String,
}

impl WalletKeys {
    /// Restores the key set from recovery words and passphrase ("" for none).
    pub fn from_mnemonic(
        mnemonic: &Mnemonic,
        passphrase: &str,
        network: Network,
        rsa_bits: RsaBits,
    ) -> Result<Self, KeyError> {
        Self::from_seed(mnemonic.to_seed(passphrase)?, network, rsa_bits)
    }

    /// Restores the key set from a BIP39 seed.
    pub fn from_seed(seed: Seed, network: Network, rsa_bits: RsaBits) -> Result<Self, KeyError> {
        let master = master_key(&seed, network)?;
        let account_xpub = derive_xpub(&master, &bip84_account_path(network, 0)?)?;
        let owner_key = derive_key(&master, &owner_identity_path(network)?)?;
        let owner_address = p2wpkh_address(&owner_key.public_key(), network);
        let rsa_private = derive_rsa_private_key(&seed, rsa_bits)?;
        let rsa_fingerprint = rsa_fingerprint(&rsa_private.to_public_key())?;
        Ok(WalletKeys {
            network,
            seed,
            master,
            account_xpub,
            owner_key,
            owner_address,
            rsa_bits,
            rsa_private,
            rsa_fingerprint,
        })
    }

    /// The network addresses are formatted for.
    pub fn network(&self) -> Network {
        self.network
    }

    /// The BIP39 seed (other derivations, such as address pools, start from it).
    pub fn seed(&self) -> &Seed {
        &self.seed
    }

    /// The BIP32 master extended private key.
    pub fn master(&self) -> &Xpriv {
        &self.master
    }

    /// Fingerprint of the master key (identifies the wallet in key origins).
    pub fn master_fingerprint(&self) -> Fingerprint {
        self.master.fingerprint(secp())
    }

    /// The BIP84 account 0 extended public key (`m/84'/coin'/0'`), in xpub/tpub form.
    pub fn account_xpub(&self) -> &Xpub {
        &self.account_xpub
    }

    /// The same account key in SLIP-132 form: `zpub` on mainnet, `vpub` otherwise.
    pub fn account_slip132(&self) -> String {
        let mut data = self.account_xpub.encode();
        let version = match self.network {
            Network::Mainnet => ZPUB_VERSION,
            Network::Testnet | Network::Regtest => VPUB_VERSION,
        };
        if let Some(prefix) = data.get_mut(..4) {
            prefix.copy_from_slice(&version);
        }
        bitcoin::base58::encode_check(&data)
    }

    /// The owner identity signing key (m/84'/coin'/0'/0/0).
    pub fn owner_key(&self) -> &SigningKey {
        &self.owner_key
    }

    /// The owner identity public key.
    pub fn owner_public_key(&self) -> CompressedPublicKey {
        self.owner_key.public_key()
    }

    /// The owner identity P2WPKH address.
    pub fn owner_address(&self) -> &Address {
        &self.owner_address
    }

    /// Signs a message with the owner identity key (CarChain domain-separated digest).
    pub fn sign_message(&self, message: &[u8]) -> CompactSignature {
        self.owner_key.sign_message(message)
    }

    /// Derives the signing key at any path below the master key.
    pub fn derive_key(&self, path: &DerivationPath) -> Result<SigningKey, KeyError> {
        derive_key(&self.master, path)
    }

    /// Derives the extended public key at any path below the master key.
    pub fn derive_xpub(&self, path: &DerivationPath) -> Result<Xpub, KeyError> {
        derive_xpub(&self.master, path)
    }

    /// Size of the RSA key.
    pub fn rsa_bits(&self) -> RsaBits {
        self.rsa_bits
    }

    /// The RSA private key (decrypts records wrapped for the owner).
    pub fn rsa_private_key(&self) -> &RsaPrivateKey {
        &self.rsa_private
    }

    /// The RSA public key (given to devices at pairing).
    pub fn rsa_public_key(&self) -> RsaPublicKey {
        self.rsa_private.to_public_key()
    }

    /// Hex SHA-256 of the PKCS#1 DER RSA public key.
    pub fn rsa_fingerprint(&self) -> &str {
        &self.rsa_fingerprint
    }
}

impl fmt::Debug for WalletKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalletKeys")
            .field("network", &self.network)
            .field("owner_address", &self.owner_address.to_string())
            .field("rsa_bits", &self.rsa_bits)
            .field("rsa_fingerprint", &self.rsa_fingerprint)
            .field("secrets", &"[REDACTED]")
            .finish()
    }
}

impl Drop for WalletKeys {
    fn drop(&mut self) {
        self.master.private_key.non_secure_erase();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::ecc::parse_derivation_path;
    use crate::keys::signing::verify_message;
    use rsa::traits::PublicKeyParts;

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    fn abandon_wallet(network: Network, bits: RsaBits) -> WalletKeys {
        let words = Mnemonic::parse(ABANDON).unwrap();
        WalletKeys::from_mnemonic(&words, "", network, bits).unwrap()
    }

    /// Golden vector: BIP84's published first address, and the RSA-2048 fingerprint
    /// computed once and pinned (a dependency change that alters the RSA derivation must
    /// fail here, since restoring the words would no longer restore the key).
    #[test]
    fn golden_mainnet_wallet() {
        let wallet = abandon_wallet(Network::Mainnet, RsaBits::B2048);
        assert_eq!(
            wallet.owner_address().to_string(),
            "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"
        );
        assert_eq!(
            wallet.rsa_fingerprint(),
            "bc5f41fa1db34beeece34c2073f67b817176909db41126b0398bb3d5487d075a"
        );
        assert_eq!(wallet.master_fingerprint().to_string(), "73c5da0a");
        assert_eq!(
            wallet.account_slip132(),
            "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs"
        );
        // The account key as an xpub (same payload as the zpub above).
        assert_eq!(
            wallet.account_xpub().to_string(),
            "xpub6CatWdiZiodmUeTDp8LT5or8nmbKNcuyvz7WyksVFkKB4RHwCD3XyuvPEbvqAQY3rAPshWcMLoP2fMFMKHPJ4ZeZXYVUhLv1VMrjPC7PW6V"
        );
    }

    #[test]
    fn golden_test_network_owner_addresses() {
        let regtest = abandon_wallet(Network::Regtest, RsaBits::B2048);
        let testnet = abandon_wallet(Network::Testnet, RsaBits::B2048);
        assert_eq!(
            regtest.owner_address().to_string(),
            "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk"
        );
        assert_eq!(
            testnet.owner_address().to_string(),
            "tb1q6rz28mcfaxtmd6v789l9rrlrusdprr9pqcpvkl"
        );
        // Same coin type (1), so same key on both test networks, different address text.
        assert_eq!(regtest.owner_public_key(), testnet.owner_public_key());
        // The RSA key does not depend on the network.
        assert_eq!(regtest.rsa_fingerprint(), testnet.rsa_fingerprint());
    }

    #[test]
    fn golden_rsa_3072_fingerprint() {
        let wallet = abandon_wallet(Network::Regtest, RsaBits::B3072);
        assert_eq!(wallet.rsa_private_key().size(), 384);
        assert_eq!(
            wallet.rsa_fingerprint(),
            "5c3df64950bbf038d9672a4a6c2792dfc35764bfb44da970e8c247d4e69ff6a1"
        );
    }

    #[test]
    fn passphrase_changes_every_key() {
        let words = Mnemonic::parse(ABANDON).unwrap();
        let plain = abandon_wallet(Network::Mainnet, RsaBits::B2048);
        let guarded =
            WalletKeys::from_mnemonic(&words, "TREZOR", Network::Mainnet, RsaBits::B2048).unwrap();
        assert_ne!(plain.owner_address(), guarded.owner_address());
        assert_ne!(plain.rsa_fingerprint(), guarded.rsa_fingerprint());
    }

    #[test]
    fn owner_signature_verifies_and_derive_key_matches_owner() {
        let wallet = abandon_wallet(Network::Regtest, RsaBits::B2048);
        let signature = wallet.sign_message(b"setup LBVNU79049SB81546");
        assert!(verify_message(
            &wallet.owner_public_key(),
            b"setup LBVNU79049SB81546",
            &signature
        ));
        let again = wallet
            .derive_key(&parse_derivation_path("m/84'/1'/0'/0/0").unwrap())
            .unwrap();
        assert_eq!(again.public_key(), wallet.owner_public_key());
    }

    #[test]
    fn debug_shows_no_secrets() {
        let wallet = abandon_wallet(Network::Mainnet, RsaBits::B2048);
        let shown = format!("{wallet:?}");
        assert!(shown.contains("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"));
        assert!(shown.contains("[REDACTED]"));
        assert!(!shown.contains("xprv"));
        assert!(!shown.contains(&hex::encode(&wallet.seed().as_bytes()[..8])));
    }
}
