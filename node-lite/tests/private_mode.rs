//! The binary in `--mode private` with a paired device: a device record is stored only
//! with the device's signature (one put or in a batch), an unsigned device put is
//! refused with `mode_refused` and changes nothing, and the owner's wallet records
//! (`wallet: true`) are stored without a device.

mod common;

use bitcoin::secp256k1::SecretKey;
use carchain_core::protocol::agent_put_digest;
use carchain_core::protocol::hashing::sha256;
use carchain_core::protocol::signing::{secret_key_from_bytes, sign_digest};
use common::*;

const FUNDS: u64 = 1_000_000;
const VID: &str = "VID-PRIVATE-1";

/// The device's compact signature authorising `value` under `address` and `key`.
fn device_signature(device: &SecretKey, address: &str, key: &[u8], value: &[u8]) -> Vec<u8> {
    let digest = agent_put_digest(address, key, &sha256(&[value]));
    sign_digest(device, &digest).serialize_compact().to_vec()
}

/// `PUT /v1/kv/...` with optional device headers; the status and JSON body.
async fn kv_put(
    base: &str,
    address: &str,
    key: &[u8],
    value: &[u8],
    device: Option<&[u8]>,
) -> (u16, serde_json::Value) {
    let mut request = client()
        .put(format!("{base}/v1/kv/{address}/{}", hex::encode(key)))
        .body(value.to_vec());
    if let Some(signature) = device {
        request = request
            .header("x-carchain-vid", VID)
            .header("x-carchain-device-sig", hex::encode(signature));
    }
    let response = request.send().await.expect("kv put");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json body"))
}

#[tokio::test]
async fn a_private_node_stores_paired_device_records_and_wallet_records_only() {
    let owner = Wallet::from_byte(31);
    let car = Wallet::from_byte(32);
    let device = secret_key_from_bytes(&[33; 32]).expect("device key");
    let chain = init_chain(&[(&owner.address, FUNDS), (&car.address, FUNDS)]);
    let node = NodeProcess::start(&chain.data_dir(), &["--mode", "private"]);
    assert_eq!(status(&node.base).await["mode"], "private");
    let (code, body) = submit(&node.base, &owner.device_setup(0, VID, &device), true).await;
    assert_eq!(code, 200, "{body}");

    // A device record, one put: refused without the device, stored with it.
    let value = b"trip ciphertext".to_vec();
    let (code, body) = submit(&node.base, &car.record_put(0, b"trip-1", &value), true).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = kv_put(&node.base, &car.address, b"trip-1", &value, None).await;
    assert_error(code, &body, 403, "mode_refused");
    assert_eq!(
        get_value(&node.base, &car.address, b"trip-1", None).await,
        None
    );
    let signature = device_signature(&device, &car.address, b"trip-1", &value);
    let (code, body) = kv_put(
        &node.base,
        &car.address,
        b"trip-1",
        &value,
        Some(&signature),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(
        get_value(&node.base, &car.address, b"trip-1", None).await,
        Some(value.clone())
    );

    // Device records in a batch: the signed one is stored, the unsigned one refused
    // before it reaches the ledger (the car's nonce does not move past the stored one).
    let signed_value = b"second trip".to_vec();
    let signed_tx = car.record_put(1, b"trip-2", &signed_value);
    let signed_sig = device_signature(&device, &car.address, b"trip-2", &signed_value);
    let unsigned_tx = car.record_put(2, b"trip-3", b"third trip");
    let (code, body) = put_records(
        &node.base,
        &[
            record_item(&signed_tx, &signed_value, Some((VID, &signed_sig))),
            record_item(&unsigned_tx, b"third trip", None),
        ],
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["results"][0]["outcome"], "stored", "{body}");
    assert_eq!(
        body["results"][1]["error"]["code"], "mode_refused",
        "{body}"
    );
    let account = proven_account(&node.base, &chain.validator_pubkey, &car.address)
        .await
        .expect("car account");
    assert_eq!(account.nonce, 2, "the refused item was never admitted");
    assert_eq!(
        get_value(&node.base, &car.address, b"trip-3", None).await,
        None
    );

    // Wallet records need no device: one put and in a batch.
    let mailbox = b"pairing mailbox".to_vec();
    let (code, body) = submit(
        &node.base,
        &owner.wallet_record_put(1, b"mailbox", &mailbox),
        true,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = kv_put(&node.base, &owner.address, b"mailbox", &mailbox, None).await;
    assert_eq!(code, 201, "{body}");
    let note = b"owner note".to_vec();
    let (code, body) = put_records(
        &node.base,
        &[record_item(
            &owner.wallet_record_put(2, b"note", &note),
            &note,
            None,
        )],
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["results"][0]["outcome"], "stored", "{body}");
    assert_eq!(
        get_value(&node.base, &owner.address, b"mailbox", None).await,
        Some(mailbox)
    );
    assert_eq!(
        get_value(&node.base, &owner.address, b"note", None).await,
        Some(note)
    );
}
