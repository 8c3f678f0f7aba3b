//! Fixed keys, one sample body of every transaction kind and a sample data request on the
//! ledger, shared by the protocol tests and the tests of the wallet and grants above it.

use bitcoin::secp256k1::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};

use super::body::*;
use super::codec::Canonical;
use super::network::Network;
use super::pairing::sign_pairing;
use super::signing::{p2wpkh_address, public_key_of, secret_key_from_bytes};
use super::tx::Transaction;

/// The secret key whose 32 bytes are all `byte` (0x01..01 is the owner in the vectors).
pub(crate) fn secret(byte: u8) -> SecretKey {
    secret_key_from_bytes(&[byte; 32]).unwrap_or_else(|_| unreachable!("valid fixed key"))
}

/// Public key of [`secret`].
pub(crate) fn public(byte: u8) -> PublicKey {
    public_key_of(&secret(byte))
}

/// Regtest address of [`secret`].
pub(crate) fn address(byte: u8) -> String {
    p2wpkh_address(&public(byte), Network::Regtest)
}

/// Asserts that `value` survives its canonical encoding and JSON unchanged, and that
/// every proper prefix of its encoding is refused.
pub(crate) fn assert_round_trips<T>(value: &T)
where
    T: Canonical + Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
{
    let bytes = value.to_canonical();
    assert_eq!(T::from_canonical(&bytes).as_ref(), Ok(value));
    let json = serde_json::to_string(value).unwrap_or_default();
    let parsed: T = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
    assert_eq!(parsed.to_canonical(), bytes);
    for len in 0..bytes.len() {
        assert!(T::from_canonical(&bytes[..len]).is_err(), "prefix {len}");
    }
}

/// Asserts that `value`'s canonical encoding is `expected_hex`, and
/// [`assert_round_trips`].
pub(crate) fn assert_pinned<T>(value: &T, expected_hex: &str)
where
    T: Canonical + Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
{
    assert_eq!(hex::encode(value.to_canonical()), expected_hex);
    assert_round_trips(value);
}

/// One body of every kind, in kind-byte order, with fixed values.
pub(crate) fn sample_bodies() -> Vec<TxBody> {
    let owner = address(1);
    let pool_commitment = [0x11; 32];
    vec![
        TxBody::Transfer(Transfer {
            to: address(3),
            amount: 1_500,
        }),
        TxBody::DeviceSetup(DeviceSetup {
            vid: "LSVAU2180N2183294".into(),
            device_pubkey: public(2),
            owner_address: owner.clone(),
            pool_commitment,
            agent: "http://127.0.0.1:8545".into(),
            device_signature: sign_pairing(
                &secret(2),
                "LSVAU2180N2183294",
                &owner,
                &pool_commitment,
            ),
        }),
        TxBody::SetDup(SetDup {
            vid: "LSVAU2180N2183294".into(),
            generation: 2,
            pool_commitment: [0x33; 32],
        }),
        TxBody::Reset(Reset {
            vid: "LSVAU2180N2183294".into(),
            new_owner_address: address(4),
            new_device_pubkey: Some(public(5)),
            new_pool_commitment: [0x44; 32],
            agent: "http://agent.example".into(),
        }),
        TxBody::RecordPut(RecordPut {
            address: address(6),
            key: vec![0x00, 0x01, 0xff],
            format: "trip-gps".into(),
            hash_func: HashFunc::DoubleSha256,
            d_hash: [0x55; 32],
            c_hash: [0x66; 32],
            size: 1_024,
            wallet: false,
            stamp: None,
        }),
        TxBody::Grant(Grant {
            grant_id: [0x77; 32],
            grantee_address: address(3),
            records_commitment: [0x88; 32],
            copy_tags: vec![[0x89; 32]],
            kind: GrantKind::Copy {
                resell: true,
                dup: false,
            },
            expires_at: Some(1_735_689_600_000),
        }),
        TxBody::Revoke(GrantRef {
            grant_id: [0x77; 32],
        }),
        TxBody::Renounce(GrantRef {
            grant_id: [0x78; 32],
        }),
        TxBody::ProviderRegister(ProviderRegister {
            name: "Insurer".into(),
            description: "pay-as-you-drive".into(),
            rsa_public_der: vec![0x30, 0x82],
            code_hashes: vec![[0x99; 32]],
        }),
        TxBody::DataRequest(DataRequest {
            request_id: [0xaa; 32],
            owner_address: owner.clone(),
            formats: vec!["trip-gps".into()],
            from_date: "2024-01-01".into(),
            to_date: "2024-01-31".into(),
            fields: vec!["SPEED".into()],
            purpose: "premium quote".into(),
            price: 250,
            expires_at: None,
        }),
        TxBody::DataResponse(DataResponse {
            request_id: [0xaa; 32],
            approved: true,
            grant_id: Some([0x77; 32]),
        }),
        TxBody::EscrowOpen(EscrowOpen {
            escrow_id: [0xbb; 32],
            seller: owner,
            amount: 250,
            request_id: Some([0xaa; 32]),
        }),
        TxBody::EscrowDeliver(EscrowDeliver {
            escrow_id: [0xbb; 32],
            d_hash_root: [0xcc; 32],
        }),
        TxBody::EscrowAccept(EscrowRef {
            escrow_id: [0xbb; 32],
        }),
        TxBody::EscrowDispute(EscrowRef {
            escrow_id: [0xbb; 32],
        }),
        TxBody::EscrowResolve(EscrowResolve {
            escrow_id: [0xbb; 32],
            seller_proved: false,
            proof: None,
        }),
        TxBody::EscrowRefund(EscrowRef {
            escrow_id: [0xbb; 32],
        }),
        TxBody::AuditorAttestation(AuditorAttestation {
            subject: hex::encode([0x77; 32]),
            claim: "mileage-complete/v1".into(),
            commitment: [0xdd; 32],
        }),
        TxBody::Bond(crate::protocol::stake::Bond {
            validator: [0xee; 32],
            amount: 5_000,
        }),
        TxBody::Unbond(crate::protocol::stake::Unbond {
            validator: [0xee; 32],
            amount: 2_000,
        }),
    ]
}

/// A regtest transaction by key 0x01..01 with nonce 0 and fee 10.
pub(crate) fn sample_tx(body: TxBody) -> Transaction {
    Transaction {
        chain_id: "carchain-test".into(),
        network: Network::Regtest,
        signer: public(1),
        nonce: 0,
        fee: 10,
        body,
    }
}

/// A data request of `bcrt1qprovider` to `bcrt1qowner` for two days of `trip-gps`
/// location history at price 5, recorded at height 3. Built from JSON so fields the
/// ledger adds with defaults need no change here.
#[cfg(feature = "sdk")]
pub(crate) fn request_state(
    request_id: [u8; 32],
    status: &str,
    expires_at: Option<u64>,
    grant_id: Option<[u8; 32]>,
) -> super::state::RequestState {
    serde_json::from_value(serde_json::json!({
        "request_id": hex::encode(request_id),
        "requester": "bcrt1qprovider",
        "owner_address": "bcrt1qowner",
        "formats": ["trip-gps"],
        "from_date": "2024-03-01",
        "to_date": "2024-03-02",
        "fields": ["location_history"],
        "purpose": "quote",
        "price": 5,
        "expires_at": expires_at,
        "status": status,
        "grant_id": grant_id.map(hex::encode),
        "height": 3,
    }))
    .unwrap_or_else(|e| panic!("sample request: {e}"))
}
