//! The owner's keys across the FFI: restore from words, owner address, RSA fingerprint,
//! message signing and fresh recovery words.

use std::str::FromStr;
use std::sync::Arc;

use crate::error::CarChainError;
use carchain_core::keys::{Mnemonic, Network as CoreNetwork, RsaBits, WalletKeys, WordCount};
use zeroize::Zeroizing;

/// Bitcoin network the owner's and the cars' addresses are formatted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Network {
    /// Bitcoin mainnet (`bc1...`).
    Mainnet,
    /// Bitcoin testnet (`tb1...`).
    Testnet,
    /// Local regression-test network (`bcrt1...`).
    Regtest,
}

impl From<Network> for CoreNetwork {
    fn from(network: Network) -> Self {
        match network {
            Network::Mainnet => CoreNetwork::Mainnet,
            Network::Testnet => CoreNetwork::Testnet,
            Network::Regtest => CoreNetwork::Regtest,
        }
    }
}

/// The owner's key set restored from recovery words. Thread-safe; secrets stay in Rust
/// and are erased when the object is released.
#[derive(uniffi::Object)]
pub struct OwnerKeys {
    pub(crate) keys: WalletKeys,
}

impl std::fmt::Debug for OwnerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnerKeys")
            .field("owner_address", &self.keys.owner_address().to_string())
            .finish_non_exhaustive()
    }
}

/// Restores the owner's keys (RSA-2048) from recovery words and a passphrase ("" for none).
#[uniffi::export]
pub fn restore_keys(
    words: String,
    passphrase: String,
    network: Network,
) -> Result<Arc<OwnerKeys>, CarChainError> {
    let words = Zeroizing::new(words);
    let passphrase = Zeroizing::new(passphrase);
    let mnemonic = Mnemonic::parse(&words)?;
    let keys = WalletKeys::from_mnemonic(&mnemonic, &passphrase, network.into(), RsaBits::B2048)?;
    Ok(Arc::new(OwnerKeys { keys }))
}

/// Generates fresh recovery words (12 or 24) from the OS random generator. The result is
/// secret: show it to the user once, never log it.
#[uniffi::export]
pub fn generate_words(count: u8) -> Result<String, CarChainError> {
    let count = match count {
        12 => WordCount::Twelve,
        24 => WordCount::TwentyFour,
        other => {
            return Err(CarChainError::new(
                "key.invalid_word_count",
                format!("recovery words come in 12 or 24, not {other}"),
            ));
        }
    };
    Ok(Mnemonic::generate(count)?.phrase().to_owned())
}

/// Parses a network name (`mainnet`, `testnet`, `regtest`, any case).
#[uniffi::export]
pub fn parse_network(name: String) -> Result<Network, CarChainError> {
    Ok(match CoreNetwork::from_str(&name)? {
        CoreNetwork::Mainnet => Network::Mainnet,
        CoreNetwork::Testnet => Network::Testnet,
        CoreNetwork::Regtest => Network::Regtest,
    })
}

#[uniffi::export]
impl OwnerKeys {
    /// The owner's identity address (BIP84 m/84'/coin'/0'/0/0, P2WPKH).
    pub fn owner_address(&self) -> String {
        self.keys.owner_address().to_string()
    }

    /// SHA-256 hex fingerprint of the owner's RSA public key.
    pub fn rsa_fingerprint(&self) -> String {
        self.keys.rsa_fingerprint().to_owned()
    }

    /// Signs `message` with the owner key (CarChain signed-message digest): a 64-byte
    /// compact ECDSA signature, r || s, low-S.
    pub fn sign_message(&self, message: Vec<u8>) -> Vec<u8> {
        self.keys.sign_message(&message).to_bytes().to_vec()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use carchain_core::keys::{CompactSignature, verify_message};

    /// The BIP-39 test words every unit test restores.
    pub(crate) const ABANDON: &str = "abandon abandon abandon abandon abandon abandon \
        abandon abandon abandon abandon abandon about";

    #[test]
    fn restores_the_bip84_vector_on_mainnet_and_regtest() {
        let main = restore_keys(ABANDON.into(), String::new(), Network::Mainnet).unwrap();
        assert_eq!(
            main.owner_address(),
            "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"
        );
        assert_eq!(
            main.rsa_fingerprint(),
            "bc5f41fa1db34beeece34c2073f67b817176909db41126b0398bb3d5487d075a"
        );
        let regtest = restore_keys(ABANDON.into(), String::new(), Network::Regtest).unwrap();
        assert_eq!(
            regtest.owner_address(),
            "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk"
        );
    }

    #[test]
    fn signature_crosses_as_64_bytes_and_verifies() {
        let keys = restore_keys(ABANDON.into(), String::new(), Network::Regtest).unwrap();
        let bytes = keys.sign_message(b"setup LBVNU79049SB81546".to_vec());
        let array: [u8; 64] = bytes.as_slice().try_into().unwrap();
        let signature = CompactSignature(array);
        let owner = keys.keys.owner_public_key();
        assert!(verify_message(
            &owner,
            b"setup LBVNU79049SB81546",
            &signature
        ));
        assert!(!verify_message(
            &owner,
            b"setup LBVNU79049SB81547",
            &signature
        ));
    }

    #[test]
    fn bad_checksum_is_an_invalid_mnemonic_with_its_code() {
        let words = ABANDON.replace("about", "abandon");
        let err = restore_keys(words, String::new(), Network::Mainnet).unwrap_err();
        assert!(matches!(err, CarChainError::InvalidMnemonic { .. }));
        assert_eq!(err.code(), "key.bad_checksum");
    }

    #[test]
    fn unknown_word_never_echoes_the_word() {
        let words = ABANDON.replace("about", "zzzsecret");
        let err = restore_keys(words, String::new(), Network::Mainnet).unwrap_err();
        assert_eq!(err.code(), "key.unknown_word");
        assert!(!err.to_string().contains("zzzsecret"));
    }

    #[test]
    fn wrong_word_count_has_its_code() {
        let err =
            restore_keys("abandon about".into(), String::new(), Network::Mainnet).unwrap_err();
        assert_eq!(err.code(), "key.wrong_word_count");
    }

    #[test]
    fn generated_words_restore() {
        for count in [12u8, 24] {
            let words = generate_words(count).unwrap();
            assert_eq!(words.split_whitespace().count(), usize::from(count));
            assert!(Mnemonic::parse(&words).is_ok());
        }
        let err = generate_words(13).unwrap_err();
        assert!(matches!(err, CarChainError::InvalidInput { .. }));
        assert_eq!(err.code(), "key.invalid_word_count");
    }

    #[test]
    fn network_names_parse() {
        assert_eq!(parse_network("REGTEST".into()).unwrap(), Network::Regtest);
        assert_eq!(parse_network("mainnet".into()).unwrap(), Network::Mainnet);
        assert_eq!(
            parse_network("moon".into()).unwrap_err().code(),
            "key.unknown_network"
        );
    }
}
