//! [`Wallet`]: the owner's wallet created from fresh words, restored from typed words or
//! opened from its store, with its identity (owner address, RSA fingerprint).
//!
//! The store keeps the words and passphrase (sealed at rest) and caches the RSA private
//! key's DER, so opening derives the secp256k1 keys from the words and skips RSA key
//! generation. Nothing is written to the store unless the whole identity derived.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use bitcoin::Address;
use rsa::PublicKey as RsaPublicKey;

use super::error::WalletError;
use super::keyring::Keyring;
use crate::clock::{Clock, SharedClock, SystemClock, system_clock};
use crate::crypto::EpochKeyCache;
use crate::keys::{Mnemonic, Network, RsaBits, WordCount};
use crate::store::{Identity, SecretBytes, SecretStore, SecretString, WalletStore};

/// The owner's wallet: keys restored from the stored words and the wallet store.
/// `Debug` shows only public parts.
#[derive(Debug)]
pub struct Wallet {
    store: Arc<Mutex<WalletStore>>,
    keys: Keyring,
    epoch_cache: Mutex<EpochKeyCache>,
    /// What "now" is for pairing payload expiry, the day a request is judged on and the
    /// times the wallet stores.
    clock: SharedClock,
}

/// `clock`'s time as the signed seconds the store keeps.
fn unix_secs(clock: &dyn Clock) -> i64 {
    i64::try_from(clock.now_secs()).unwrap_or(i64::MAX)
}

impl Wallet {
    /// Creates a wallet with fresh recovery words in the store at `store_path` (created
    /// if needed). Returns the wallet and the words, to be shown to the owner once.
    /// Fails with [`WalletError::IdentityExists`] if the store already holds a wallet.
    pub fn create(
        store_path: impl AsRef<Path>,
        secrets: Arc<dyn SecretStore>,
        network: Network,
        words: WordCount,
        passphrase: &str,
    ) -> Result<(Wallet, Mnemonic), WalletError> {
        Self::create_in(
            WalletStore::open(store_path, secrets)?,
            network,
            words,
            passphrase,
        )
    }

    /// [`Wallet::create`] in an already opened store (for example an in-memory one).
    pub fn create_in(
        store: WalletStore,
        network: Network,
        words: WordCount,
        passphrase: &str,
    ) -> Result<(Wallet, Mnemonic), WalletError> {
        let mnemonic = Mnemonic::generate(words)?;
        let wallet = Self::install(store, &mnemonic, passphrase, network)?;
        Ok((wallet, mnemonic))
    }

    /// Restores a wallet from typed recovery words (forgiving about case and spaces)
    /// into the store at `store_path`. Bad words give a typed [`WalletError::Keys`] error
    /// and write nothing.
    pub fn restore(
        store_path: impl AsRef<Path>,
        secrets: Arc<dyn SecretStore>,
        network: Network,
        words_text: &str,
        passphrase: &str,
    ) -> Result<Wallet, WalletError> {
        let mnemonic = Mnemonic::parse(words_text)?;
        Self::install(
            WalletStore::open(store_path, secrets)?,
            &mnemonic,
            passphrase,
            network,
        )
    }

    /// [`Wallet::restore`] in an already opened store.
    pub fn restore_in(
        store: WalletStore,
        network: Network,
        words_text: &str,
        passphrase: &str,
    ) -> Result<Wallet, WalletError> {
        let mnemonic = Mnemonic::parse(words_text)?;
        Self::install(store, &mnemonic, passphrase, network)
    }

    /// Opens the wallet saved in the store at `store_path`: [`WalletError::NoIdentity`]
    /// if none was created there.
    pub fn open(
        store_path: impl AsRef<Path>,
        secrets: Arc<dyn SecretStore>,
    ) -> Result<Wallet, WalletError> {
        Self::open_in(WalletStore::open(store_path, secrets)?)
    }

    /// [`Wallet::open`] over an already opened store.
    pub fn open_in(store: WalletStore) -> Result<Wallet, WalletError> {
        let identity = store.load_identity()?.ok_or(WalletError::NoIdentity)?;
        let network: Network =
            identity
                .network
                .parse()
                .map_err(|_| WalletError::UnsupportedNetwork {
                    network: identity.network.clone(),
                })?;
        let rsa_bits = match identity.rsa_bits {
            2048 => RsaBits::B2048,
            3072 => RsaBits::B3072,
            _ => return Err(WalletError::CorruptRsaKey),
        };
        let mnemonic = Mnemonic::parse(identity.mnemonic.expose())?;
        let keys = Keyring::from_cached_rsa(
            &mnemonic,
            identity.passphrase.expose(),
            network,
            rsa_bits,
            identity.rsa_private_der.expose(),
        )?;
        if keys.owner_address().to_string() != identity.owner_address {
            return Err(WalletError::IdentityMismatch);
        }
        Ok(Wallet {
            store: Arc::new(Mutex::new(store)),
            keys,
            epoch_cache: Mutex::new(EpochKeyCache::new()),
            clock: system_clock(),
        })
    }

    /// Derives every key, then saves the identity; nothing is written on failure.
    fn install(
        store: WalletStore,
        mnemonic: &Mnemonic,
        passphrase: &str,
        network: Network,
    ) -> Result<Wallet, WalletError> {
        if store.load_identity()?.is_some() {
            return Err(WalletError::IdentityExists);
        }
        let keys = Keyring::derive(mnemonic, passphrase, network)?;
        let rsa_der = keys.rsa_private_der()?;
        let bits = u32::try_from(keys.rsa_bits().bits()).map_err(|_| WalletError::CorruptRsaKey)?;
        store.save_identity(&Identity {
            network: network.as_str().to_owned(),
            owner_address: keys.owner_address().to_string(),
            rsa_bits: bits,
            mnemonic: SecretString::from(mnemonic.phrase()),
            passphrase: SecretString::from(passphrase),
            rsa_private_der: SecretBytes::from_slice(&rsa_der),
            created_at: unix_secs(&SystemClock),
        })?;
        Ok(Wallet {
            store: Arc::new(Mutex::new(store)),
            keys,
            epoch_cache: Mutex::new(EpochKeyCache::new()),
            clock: system_clock(),
        })
    }

    /// The network the wallet's addresses belong to.
    pub fn network(&self) -> Network {
        self.keys.network()
    }

    /// The owner identity P2WPKH address.
    pub fn owner_address(&self) -> String {
        self.keys.owner_address().to_string()
    }

    /// The owner identity address, parsed.
    pub fn owner_bitcoin_address(&self) -> &Address {
        self.keys.owner_address()
    }

    /// Hex SHA-256 of the owner's PKCS#1 DER RSA public key.
    pub fn rsa_fingerprint(&self) -> &str {
        self.keys.rsa_fingerprint()
    }

    /// The owner's RSA public key (what cars encrypt to).
    pub fn rsa_public_key(&self) -> RsaPublicKey {
        self.keys.rsa_public()
    }

    /// The wallet store, shared (hand it to `LightClient::with_store` for offline reads).
    pub fn store(&self) -> Arc<Mutex<WalletStore>> {
        Arc::clone(&self.store)
    }

    /// This wallet judging time by `clock` instead of the device's clock.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The clock the wallet judges time by.
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// Now, as seconds since the Unix epoch, by the wallet's clock.
    pub(crate) fn unix_now(&self) -> i64 {
        unix_secs(self.clock.as_ref())
    }

    /// Today (UTC) by the wallet's clock.
    pub(crate) fn today(&self) -> chrono::NaiveDate {
        chrono::DateTime::from_timestamp(self.unix_now(), 0)
            .unwrap_or_default()
            .date_naive()
    }

    /// The keys, for the wallet's other files.
    pub(crate) fn keys(&self) -> &Keyring {
        &self.keys
    }

    /// The owner's cache of unwrapped epoch keys, locked.
    pub(crate) fn epoch_cache(&self) -> Result<MutexGuard<'_, EpochKeyCache>, WalletError> {
        self.epoch_cache
            .lock()
            .map_err(|_| WalletError::LockPoisoned)
    }

    /// The store, locked.
    pub(crate) fn locked_store(&self) -> Result<MutexGuard<'_, WalletStore>, WalletError> {
        self.store.lock().map_err(|_| WalletError::LockPoisoned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyError, WalletKeys};
    use crate::store::InMemorySecretStore;

    const WORDS: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    fn secrets() -> Arc<dyn SecretStore> {
        Arc::new(InMemorySecretStore::new())
    }

    #[test]
    fn restore_matches_the_keys_module_and_reopens_identically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallet.db");
        let secrets = secrets();
        let wallet =
            Wallet::restore(&path, Arc::clone(&secrets), Network::Regtest, WORDS, "").unwrap();
        let mnemonic = Mnemonic::parse(WORDS).unwrap();
        let keys =
            WalletKeys::from_mnemonic(&mnemonic, "", Network::Regtest, RsaBits::B2048).unwrap();
        assert_eq!(wallet.owner_address(), keys.owner_address().to_string());
        assert_eq!(wallet.rsa_fingerprint(), keys.rsa_fingerprint());
        assert!(wallet.owner_address().starts_with("bcrt1q"));
        drop(wallet);
        let opened = Wallet::open(&path, secrets).unwrap();
        assert_eq!(opened.owner_address(), keys.owner_address().to_string());
        assert_eq!(opened.rsa_fingerprint(), keys.rsa_fingerprint());
        assert_eq!(opened.network(), Network::Regtest);
    }

    #[test]
    fn create_returns_words_that_restore_the_same_wallet() {
        let store = WalletStore::open_in_memory(secrets()).unwrap();
        let (wallet, words) =
            Wallet::create_in(store, Network::Testnet, WordCount::Twelve, "pass").unwrap();
        assert_eq!(words.word_count(), 12);
        let other = WalletStore::open_in_memory(secrets()).unwrap();
        let restored = Wallet::restore_in(other, Network::Testnet, words.phrase(), "pass").unwrap();
        assert_eq!(restored.owner_address(), wallet.owner_address());
        assert_eq!(restored.rsa_fingerprint(), wallet.rsa_fingerprint());
        assert!(wallet.owner_address().starts_with("tb1q"));
        let without_passphrase = Wallet::restore_in(
            WalletStore::open_in_memory(secrets()).unwrap(),
            Network::Testnet,
            words.phrase(),
            "",
        )
        .unwrap();
        assert_ne!(without_passphrase.owner_address(), wallet.owner_address());
    }

    #[test]
    fn bad_words_are_typed_errors_and_write_nothing() {
        let typo = WORDS.replace("about", "abuot");
        let err = Wallet::restore_in(
            WalletStore::open_in_memory(secrets()).unwrap(),
            Network::Regtest,
            &typo,
            "",
        )
        .unwrap_err();
        assert!(matches!(
            err,
            WalletError::Keys(KeyError::UnknownWord { position: 12 })
        ));
        assert!(!err.to_string().contains("abuot"));
        let short = Wallet::restore_in(
            WalletStore::open_in_memory(secrets()).unwrap(),
            Network::Regtest,
            "abandon abandon",
            "",
        );
        assert!(matches!(
            short,
            Err(WalletError::Keys(KeyError::WrongWordCount { count: 2 }))
        ));
    }

    #[test]
    fn a_failed_restore_leaves_the_store_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallet.db");
        let secrets = secrets();
        let result = Wallet::restore(&path, Arc::clone(&secrets), Network::Regtest, "zoo zoo", "");
        assert!(result.is_err());
        assert!(matches!(
            Wallet::open(&path, secrets),
            Err(WalletError::NoIdentity)
        ));
    }

    #[test]
    fn a_store_holds_one_wallet() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallet.db");
        let secrets = secrets();
        let first =
            Wallet::restore(&path, Arc::clone(&secrets), Network::Regtest, WORDS, "").unwrap();
        drop(first);
        let second = Wallet::create(&path, secrets, Network::Regtest, WordCount::Twelve, "");
        assert!(matches!(second, Err(WalletError::IdentityExists)));
    }

    #[test]
    fn opening_an_empty_store_is_no_identity() {
        let store = WalletStore::open_in_memory(secrets()).unwrap();
        assert!(matches!(
            Wallet::open_in(store),
            Err(WalletError::NoIdentity)
        ));
    }

    #[test]
    fn debug_shows_no_secret() {
        let store = WalletStore::open_in_memory(secrets()).unwrap();
        let wallet = Wallet::restore_in(store, Network::Regtest, WORDS, "").unwrap();
        let shown = format!("{wallet:?}");
        assert!(shown.contains(&wallet.owner_address()));
        assert!(!shown.contains("abandon"));
    }
}
