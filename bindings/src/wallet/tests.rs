//! Tests of `wallet`.

use super::*;
use crate::error::CarChainError;
use crate::secrets::tests::RecordingStore;

use crate::light::tests::{error_of, offline_client};

use crate::keys::tests::ABANDON;

fn path(dir: &tempfile::TempDir) -> String {
    dir.path().join("wallet.db").to_string_lossy().into_owned()
}

/// The wallet of the [`ABANDON`] words with `passphrase` on regtest, stored at `path`.
pub(crate) fn restore_abandon(path: String, passphrase: &str) -> Arc<Wallet> {
    Wallet::restore(
        path,
        Arc::new(RecordingStore::default()),
        Network::Regtest,
        ABANDON.into(),
        passphrase.into(),
    )
    .unwrap()
}

/// The wallet of the [`ABANDON`] words on regtest, stored in `dir`.
pub(crate) fn restored_wallet(dir: &tempfile::TempDir) -> Arc<Wallet> {
    restore_abandon(path(dir), "")
}

#[test]
fn restore_gives_the_pinned_address_and_open_finds_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(RecordingStore::default());
    let wallet = Wallet::restore(
        path(&dir),
        secrets.clone(),
        Network::Regtest,
        ABANDON.to_uppercase(),
        String::new(),
    )
    .unwrap();
    assert_eq!(
        wallet.owner_address(),
        "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk"
    );
    assert_eq!(wallet.rsa_fingerprint().len(), 64);
    assert!(wallet.devices().unwrap().is_empty());
    let fingerprint = wallet.rsa_fingerprint();
    drop(wallet);
    let opened = Wallet::open(path(&dir), secrets.clone()).unwrap();
    assert_eq!(opened.rsa_fingerprint(), fingerprint);
    let again = Wallet::restore(
        path(&dir),
        secrets,
        Network::Regtest,
        ABANDON.into(),
        String::new(),
    )
    .unwrap_err();
    assert_eq!(again.code(), "wallet.identity_exists");
}

#[test]
fn wrong_words_are_a_typed_error_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(RecordingStore::default());
    let words = ABANDON.replace("about", "abandon");
    let err = Wallet::restore(
        path(&dir),
        secrets.clone(),
        Network::Regtest,
        words,
        String::new(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "key.bad_checksum");
    assert!(matches!(err, CarChainError::InvalidMnemonic { .. }));
    assert!(!err.to_string().contains("abandon"));
    assert_eq!(
        Wallet::open(path(&dir), secrets).unwrap_err().code(),
        "wallet.no_identity"
    );
}

#[test]
fn create_returns_words_that_restore_the_same_wallet() {
    let dir = tempfile::tempdir().unwrap();
    let created = create_wallet(
        path(&dir),
        Arc::new(RecordingStore::default()),
        Network::Regtest,
        12,
        String::new(),
    )
    .unwrap();
    assert_eq!(created.words.split(' ').count(), 12);
    assert!(!format!("{created:?}").contains(&created.words));
    let other = tempfile::tempdir().unwrap();
    let restored = Wallet::restore(
        path(&other),
        Arc::new(RecordingStore::default()),
        Network::Regtest,
        created.words.clone(),
        String::new(),
    )
    .unwrap();
    assert_eq!(restored.owner_address(), created.wallet.owner_address());
    let err = create_wallet(
        path(&other),
        Arc::new(RecordingStore::default()),
        Network::Regtest,
        13,
        String::new(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "key.invalid_word_count");
}

#[test]
fn bad_payloads_and_dates_fail_before_any_network_call() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = restored_wallet(&dir);
    let light = offline_client();
    let err = error_of(wallet.pair_device(
        light.clone(),
        "not a payload".into(),
        "car".into(),
        16,
        "agent".into(),
    ));
    assert_eq!(err.code(), "pairing.malformed");
    assert!(matches!(err, CarChainError::InvalidPairingPayload { .. }));
    let err = error_of(wallet.trips(
        light.clone(),
        "V".into(),
        "2024-13-01".into(),
        "2024-05-02".into(),
    ));
    assert_eq!(err.code(), "input.invalid_date");
    let err = error_of(wallet.trips(light, "V".into(), "2024-05-01".into(), "2024-05-02".into()));
    assert_eq!(err.code(), "wallet.unknown_device");
}
