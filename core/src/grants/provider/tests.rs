//! Unit tests of the provider's pure checks: grants against requests, results against
//! programs and owners.

use super::*;
use crate::compute::ComputationResult;
use crate::grants::GrantsError;
use crate::grants::delivery::grant_id_for;
use crate::protocol::test_fixtures::request_state;
use crate::protocol::{GrantStatus, RequestState};

fn signing(byte: u8) -> SigningKey {
    SigningKey::from_secret_key(SecretKey::from_slice(&[byte; 32]).expect("secret"))
}

fn request() -> RequestState {
    request_state([1; 32], "approved", None, Some(grant_id_for(&[1; 32])))
}

fn grant() -> GrantState {
    serde_json::from_value(serde_json::json!({
        "grant_id": hex::encode(grant_id_for(&[1; 32])),
        "grantor": "bcrt1qowner",
        "grantee_address": "bcrt1qprovider",
        "records_commitment": hex::encode(opening().commitment()),
        "copy_tags": [],
        "kind": {"type": "usage", "code_hash": hex::encode([4u8; 32])},
        "expires_at": 2000,
        "status": "active",
        "height": 4,
    }))
    .expect("grant")
}

fn opening() -> GrantOpening {
    GrantOpening {
        salt: [5; 32],
        grantee_rsa_fingerprint: [9; 32],
        records: vec![RecordRef {
            address: "bcrt1qdata".into(),
            key: vec![1],
        }],
    }
}

#[test]
fn a_grant_is_checked_against_request_provider_key_status_and_expiry() {
    let ok = check_grant(
        &grant(),
        &opening(),
        &request(),
        "bcrt1qprovider",
        &[9; 32],
        1_000,
    );
    assert!(ok.is_ok(), "{ok:?}");
    let refused = |grant: GrantState, provider: &str, fingerprint: [u8; 32], now: u64| {
        matches!(
            check_grant(&grant, &opening(), &request(), provider, &fingerprint, now),
            Err(GrantsError::GrantRefused(_))
        )
    };
    // An opening that is not the commitment's: other records, another salt.
    for change in [
        |o: &mut GrantOpening| o.records[0].key.push(2),
        |o: &mut GrantOpening| o.salt[0] ^= 1,
        |o: &mut GrantOpening| o.records.clear(),
    ] {
        let mut other = opening();
        change(&mut other);
        assert!(matches!(
            check_grant(
                &grant(),
                &other,
                &request(),
                "bcrt1qprovider",
                &[9; 32],
                1_000
            ),
            Err(GrantsError::GrantRefused(_))
        ));
    }
    assert!(refused(
        GrantState {
            grantor: "bcrt1qforger".into(),
            ..grant()
        },
        "bcrt1qprovider",
        [9; 32],
        1_000
    ));
    assert!(refused(grant(), "bcrt1qsomeoneelse", [9; 32], 1_000));
    assert!(refused(grant(), "bcrt1qprovider", [8; 32], 1_000));
    assert!(refused(
        GrantState {
            status: GrantStatus::Revoked,
            ..grant()
        },
        "bcrt1qprovider",
        [9; 32],
        1_000
    ));
    assert!(refused(grant(), "bcrt1qprovider", [9; 32], 2_000));
}

#[test]
fn a_result_must_be_the_granted_program_signed_by_the_owner() {
    let owner = signing(0x11);
    let forger = signing(0x22);
    let result = ComputationResult::new([4; 32], vec![[5; 32]], vec![0; 32]);
    let signed = result.clone().sign_result(&owner).expect("sign");
    assert!(check_result(&signed, &[4; 32], &owner.public_key()).is_ok());
    assert!(matches!(
        check_result(&signed, &[3; 32], &owner.public_key()),
        Err(GrantsError::DeliveryRefused(_))
    ));
    let forged = result.sign_result(&forger).expect("sign");
    assert!(matches!(
        check_result(&forged, &[4; 32], &owner.public_key()),
        Err(GrantsError::DeliveryRefused(_))
    ));
    let mut tampered = signed;
    tampered.result.output[0] = 1;
    assert!(check_result(&tampered, &[4; 32], &owner.public_key()).is_err());
}

/// A provider's `Debug` names it by address only: its account key never shows.
#[test]
fn debug_shows_the_address_and_never_the_account_key() {
    let secret = SecretKey::from_slice(&[0x5a; 32]).expect("secret");
    let provider = ServiceProvider::new(
        secret,
        crate::grants::test_keys::provider_rsa().clone(),
        Network::Regtest,
    );
    let debug = format!("{provider:?}");
    assert!(debug.contains(&provider.address()), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
    assert!(
        !debug.contains(&hex::encode(secret.secret_bytes())),
        "{debug}"
    );
    assert!(!debug.contains("5a5a5a"), "{debug}");
}
