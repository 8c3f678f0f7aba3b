//! Tests of `car_device`.

use super::*;
use crate::store::InMemorySecretStore;

/// A car store written before envelope v2 keeps the day's wrapped epoch key in the
/// legacy encoding (owner fingerprint in front): the car reads it, seals v2
/// envelopes with it (no fingerprint) and the owner opens them.
#[test]
fn an_epoch_stored_in_the_legacy_encoding_still_seals_for_the_owner() {
    use crate::crypto::test_keys::owner;
    use crate::crypto::{EpochKeyCache, RecordContext, seal};
    use rsa::pkcs1::EncodeRsaPublicKey;

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let secrets = InMemorySecretStore::new();
    let store =
        DeviceStore::open(&dir.path().join("car.db"), &secrets).unwrap_or_else(|e| panic!("{e}"));
    let owner_public = owner().as_public_key();
    let key = EpochKey::from_bytes([0x24; 32]);
    let wrapped = WrappedKey::wrap_epoch_key(&key, owner_public).unwrap_or_else(|e| panic!("{e}"));
    let mut legacy = vec![0xAB; 32];
    legacy.extend_from_slice(&wrapped.to_bytes().unwrap_or_else(|e| panic!("{e}")));
    let address = "bcrt1qlegacyepoch";
    store
        .save_epoch(address, "2024-05-01", key.as_bytes(), &legacy)
        .unwrap_or_else(|e| panic!("{e}"));
    let branch =
        Xpriv::new_master(bitcoin::Network::Regtest, &[7; 32]).unwrap_or_else(|e| panic!("{e}"));
    let offer = PairingOffer {
        code: "ABCD-EFGH".to_owned(),
        owner_address: "bcrt1qowner".to_owned(),
        owner_rsa_public_der: owner_public
            .to_pkcs1_der()
            .unwrap_or_else(|e| panic!("{e}"))
            .as_bytes()
            .to_vec(),
        pool_branch_xpriv: branch,
        generation: 0,
        pool_size: 4,
        pool_seed: crate::pool::PoolSeed::from_bytes([3; 32]),
        agent: "node".to_owned(),
        owner_pubkey: public_key_of(
            &SecretKey::from_slice(&[1; 32]).unwrap_or_else(|e| panic!("{e}")),
        ),
        fee_stamps: Vec::new(),
    };
    let date = NaiveDate::from_ymd_opt(2024, 5, 1).unwrap_or_else(|| panic!("date"));
    let epoch = epoch_for(&store, &offer, address, date).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(epoch.wrapped_key(), &wrapped);
    assert_eq!(epoch.epoch_key().as_bytes(), key.as_bytes());
    let ctx = RecordContext {
        address,
        key_bytes: b"k",
        format: "trip-gps",
    };
    let envelope = seal(b"old epoch", &ctx, &epoch).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(envelope.version(), 2);
    assert!(
        !envelope
            .to_bytes()
            .unwrap_or_default()
            .windows(32)
            .any(|w| w == [0xAB; 32])
    );
    let opened = envelope
        .open_with_owner_key(&ctx, owner(), &mut EpochKeyCache::new())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(opened, b"old epoch");
}

#[test]
fn the_car_account_is_its_device_key_address_and_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("car.db");
    let secrets: Arc<dyn SecretStore> = Arc::new(InMemorySecretStore::new());
    let car = CarDevice::open(&path, Arc::clone(&secrets), "LSVTEST0000000001")
        .unwrap_or_else(|e| panic!("{e}"));
    let address = car.account_address(Network::Regtest);
    assert!(address.starts_with("bcrt1q"), "{address}");
    assert_eq!(
        address,
        p2wpkh_address(&car.device_pubkey(), Network::Regtest)
    );
    assert!(car.account_address(Network::Mainnet).starts_with("bc1q"));
    drop(car);
    let reopened =
        CarDevice::open(&path, secrets, "LSVTEST0000000001").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reopened.account_address(Network::Regtest), address);
}
