//! BIP32 hierarchical keys on secp256k1: the master key, BIP84 paths, child derivation,
//! and Bitcoin-format P2WPKH (bech32) addresses.

use std::str::FromStr;
use std::sync::LazyLock;

use bitcoin::bip32::{ChildNumber, DerivationPath, Xpriv, Xpub};
use bitcoin::secp256k1::{All, Secp256k1};
use bitcoin::{Address, CompressedPublicKey};

use super::error::KeyError;
use super::network::Network;
use super::seed::Seed;
use super::signing::SigningKey;

/// BIP84 purpose (native SegWit, P2WPKH).
pub const BIP84_PURPOSE: u32 = 84;

/// One shared secp256k1 context (creating one costs more than a signature).
pub(crate) fn secp() -> &'static Secp256k1<All> {
    static CONTEXT: LazyLock<Secp256k1<All>> = LazyLock::new(Secp256k1::new);
    &CONTEXT
}

/// The BIP32 master extended private key for a seed.
pub fn master_key(seed: &Seed, network: Network) -> Result<Xpriv, KeyError> {
    Ok(Xpriv::new_master(network.kind(), seed.as_bytes())?)
}

/// A hardened child number (`index'`); `index` must be below 2^31.
pub fn hardened(index: u32) -> Result<ChildNumber, KeyError> {
    ChildNumber::from_hardened_idx(index).map_err(|_| KeyError::InvalidChildIndex {
        index,
        kind: "hardened",
    })
}

/// A normal (non-hardened) child number; `index` must be below 2^31.
pub fn normal(index: u32) -> Result<ChildNumber, KeyError> {
    ChildNumber::from_normal_idx(index).map_err(|_| KeyError::InvalidChildIndex {
        index,
        kind: "normal",
    })
}

/// The BIP84 account path `m/84'/coin'/account'`.
pub fn bip84_account_path(network: Network, account: u32) -> Result<DerivationPath, KeyError> {
    Ok(DerivationPath::from(vec![
        hardened(BIP84_PURPOSE)?,
        hardened(network.coin_type())?,
        hardened(account)?,
    ]))
}

/// The owner identity path `m/84'/coin'/0'/0/0`.
pub fn owner_identity_path(network: Network) -> Result<DerivationPath, KeyError> {
    let account = bip84_account_path(network, 0)?;
    Ok(account.extend([normal(0)?, normal(0)?]))
}

/// Parses a textual path such as `m/84'/0'/0'/0/1` (`h` also marks hardened).
pub fn parse_derivation_path(text: &str) -> Result<DerivationPath, KeyError> {
    DerivationPath::from_str(text.trim()).map_err(|_| KeyError::InvalidDerivationPath {
        path: text.to_owned(),
    })
}

/// Derives the signing key at `path` below `root` (usually the master key).
pub fn derive_key(root: &Xpriv, path: &DerivationPath) -> Result<SigningKey, KeyError> {
    let mut child = root.derive_priv(secp(), path)?;
    let key = SigningKey::from_secret_key(child.private_key);
    child.private_key.non_secure_erase();
    Ok(key)
}

/// Derives the extended public key at `path` below `root`.
pub fn derive_xpub(root: &Xpriv, path: &DerivationPath) -> Result<Xpub, KeyError> {
    let mut child = root.derive_priv(secp(), path)?;
    let xpub = Xpub::from_priv(secp(), &child);
    child.private_key.non_secure_erase();
    Ok(xpub)
}

/// Generic public child derivation: follows the normal (non-hardened) `indices` below
/// `parent`. This is how a whole branch of addresses is derived from one xpub cheaply.
pub fn derive_public_child(parent: &Xpub, indices: &[u32]) -> Result<Xpub, KeyError> {
    let mut key = *parent;
    for &index in indices {
        key = key.ckd_pub(secp(), normal(index)?)?;
    }
    Ok(key)
}

/// The P2WPKH (bech32 `bc1q`/`tb1q`/`bcrt1q`) address of a compressed public key.
pub fn p2wpkh_address(public_key: &CompressedPublicKey, network: Network) -> Address {
    Address::p2wpkh(public_key, network.hrp())
}

/// Parses an address and requires it to belong to `network`.
///
/// Text that is no address at all gives [`KeyError::InvalidAddress`]; a valid address of
/// another network gives [`KeyError::WrongNetwork`].
pub fn parse_address(text: &str, network: Network) -> Result<Address, KeyError> {
    let unchecked =
        bitcoin::Address::from_str(text.trim()).map_err(|_| KeyError::InvalidAddress)?;
    unchecked
        .require_network(network.to_bitcoin())
        .map_err(|_| KeyError::WrongNetwork { expected: network })
}

/// True when `address` is the P2WPKH address of `public_key` on `network`.
pub fn public_key_matches_address(
    public_key: &CompressedPublicKey,
    address: &Address,
    network: Network,
) -> bool {
    *address == p2wpkh_address(public_key, network)
}

/// Parses 33 bytes of a compressed secp256k1 public key.
pub fn parse_public_key(bytes: &[u8]) -> Result<CompressedPublicKey, KeyError> {
    CompressedPublicKey::from_slice(bytes).map_err(|_| KeyError::InvalidPublicKey)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::mnemonic::Mnemonic;

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    fn abandon_master(network: Network) -> Xpriv {
        let seed = Mnemonic::parse(ABANDON).unwrap().to_seed("").unwrap();
        master_key(&seed, network).unwrap()
    }

    fn address_at(master: &Xpriv, path: &str, network: Network) -> String {
        let key = derive_key(master, &parse_derivation_path(path).unwrap()).unwrap();
        p2wpkh_address(&key.public_key(), network).to_string()
    }

    /// BIP84 published test vectors (mnemonic "abandon ... about", no passphrase).
    #[test]
    fn bip84_published_addresses_and_keys() {
        let master = abandon_master(Network::Mainnet);
        assert_eq!(
            address_at(&master, "m/84'/0'/0'/0/0", Network::Mainnet),
            "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"
        );
        assert_eq!(
            address_at(&master, "m/84'/0'/0'/0/1", Network::Mainnet),
            "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g"
        );
        assert_eq!(
            address_at(&master, "m/84'/0'/0'/1/0", Network::Mainnet),
            "bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el"
        );
        let first = derive_key(&master, &owner_identity_path(Network::Mainnet).unwrap()).unwrap();
        assert_eq!(
            hex::encode(first.public_key().to_bytes()),
            "0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c"
        );
    }

    /// The published account zpub, compared on its 74-byte payload (zpub only differs
    /// from xpub in the 4 version bytes).
    #[test]
    fn bip84_published_account_zpub_payload() {
        let master = abandon_master(Network::Mainnet);
        let xpub = derive_xpub(&master, &bip84_account_path(Network::Mainnet, 0).unwrap()).unwrap();
        let zpub = bitcoin::base58::decode_check(
            "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs",
        )
        .unwrap();
        assert_eq!(&zpub[..4], &[0x04, 0xb2, 0x47, 0x46]);
        assert_eq!(&zpub[4..], &xpub.encode()[4..]);
    }

    #[test]
    fn public_derivation_matches_private_derivation() {
        let master = abandon_master(Network::Mainnet);
        let account =
            derive_xpub(&master, &bip84_account_path(Network::Mainnet, 0).unwrap()).unwrap();
        let via_public = derive_public_child(&account, &[0, 1]).unwrap();
        assert_eq!(
            p2wpkh_address(&via_public.to_pub(), Network::Mainnet).to_string(),
            "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g"
        );
        assert!(matches!(
            derive_public_child(&account, &[1 << 31]),
            Err(KeyError::InvalidChildIndex { kind: "normal", .. })
        ));
    }

    #[test]
    fn parse_address_distinguishes_wrong_network_from_garbage() {
        let main = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu";
        assert_eq!(
            parse_address(main, Network::Mainnet).unwrap().to_string(),
            main
        );
        assert!(matches!(
            parse_address(main, Network::Regtest),
            Err(KeyError::WrongNetwork {
                expected: Network::Regtest
            })
        ));
        assert!(matches!(
            parse_address(main, Network::Testnet),
            Err(KeyError::WrongNetwork {
                expected: Network::Testnet
            })
        ));
        assert!(matches!(
            parse_address(
                "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyv",
                Network::Mainnet
            ),
            Err(KeyError::InvalidAddress)
        ));
        assert!(matches!(
            parse_address("hello", Network::Mainnet),
            Err(KeyError::InvalidAddress)
        ));
    }

    #[test]
    fn key_matches_only_its_own_address() {
        let master = abandon_master(Network::Mainnet);
        let first = derive_key(&master, &owner_identity_path(Network::Mainnet).unwrap()).unwrap();
        let own = parse_address(
            "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu",
            Network::Mainnet,
        )
        .unwrap();
        let other = parse_address(
            "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g",
            Network::Mainnet,
        )
        .unwrap();
        assert!(public_key_matches_address(
            &first.public_key(),
            &own,
            Network::Mainnet
        ));
        assert!(!public_key_matches_address(
            &first.public_key(),
            &other,
            Network::Mainnet
        ));
        assert!(!public_key_matches_address(
            &first.public_key(),
            &own,
            Network::Regtest
        ));
    }

    #[test]
    fn bad_paths_and_keys_are_typed_errors() {
        assert!(matches!(
            parse_derivation_path("m/84'/x"),
            Err(KeyError::InvalidDerivationPath { .. })
        ));
        assert!(matches!(
            hardened(1 << 31),
            Err(KeyError::InvalidChildIndex { .. })
        ));
        assert!(matches!(
            parse_public_key(&[2u8; 5]),
            Err(KeyError::InvalidPublicKey)
        ));
    }
}
