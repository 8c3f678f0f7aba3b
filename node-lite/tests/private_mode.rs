//! The binary in `--mode private`: values are stored only with a write credential the
//! node blind-signed for one of its paired cars or owners, bound to one address on first
//! use. Refused with a stable code and nothing stored: a put without a credential, with
//! a malformed, forged or other node's credential, with one bound to another address or
//! spent, and a wallet record without one (no open store). Stored: a paired car's puts
//! (one put or a batch), the owner's records with an owner credential, and the pairing
//! mailbox's two messages (the open slot). Issuance is refused to unpaired devices and
//! bad signatures.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod common;

use bitcoin::secp256k1::SecretKey;
use carchain_core::pairing::{MAILBOX_FORMAT, SEQ_ACCEPT, SEQ_OFFER, mailbox_record_key};
use carchain_core::protocol::credential_request_digest;
use carchain_core::protocol::signing::{public_key_of, secret_key_from_bytes, sign_digest};
use carchain_core::tokens::IssuerPublicKey;
use common::*;
use serde_json::{Value, json};

const FUNDS: u64 = 100_000_000;
const VID: &str = "VID-PRIVATE-1";
/// The agent name `carchain-node` runs under by default (the fixtures pair with it).
const AGENT: &str = "carchain-node";

/// `PUT /v1/kv/...` with an optional credential; the status and JSON body.
async fn kv_put(
    base: &str,
    address: &str,
    key: &[u8],
    value: &[u8],
    credential: Option<&[u8]>,
) -> (u16, Value) {
    let mut request = client()
        .put(format!("{base}/v1/kv/{address}/{}", hex::encode(key)))
        .body(value.to_vec());
    if let Some(credential) = credential {
        request = request.header("x-carchain-credential", hex::encode(credential));
    }
    let response = request.send().await.expect("kv put");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json body"))
}

/// Who asks for credentials in [`issue`].
enum Holder<'a> {
    Device(&'a SecretKey),
    Owner(&'a SecretKey),
}

/// Asks the node for `count` credentials as `holder` of `vid`; the answer's status and
/// body, and the finished credentials when it signed.
async fn issue(
    base: &str,
    vid: &str,
    holder: Holder<'_>,
    count: usize,
) -> (u16, Value, Vec<Vec<u8>>) {
    let (_, key) = get_json(&format!("{base}/v1/credentials/key")).await;
    let der = hex::decode(key["public_key"].as_str().expect("key")).expect("hex");
    let issuer = IssuerPublicKey::from_der(&der).expect("issuer key");
    assert_eq!(key["key_id"], issuer.key_id().to_string());
    let pending = issuer.blind(count).expect("blind");
    let blinded: Vec<Vec<u8>> = pending
        .iter()
        .map(|p| p.blinded_message().to_vec())
        .collect();
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let (kind, owner, secret, holder_json) = match holder {
        Holder::Device(secret) => (
            "device",
            Vec::new(),
            secret,
            json!({"kind": "device", "vid": vid}),
        ),
        Holder::Owner(secret) => {
            let owner = public_key_of(secret).serialize().to_vec();
            let json = json!({"kind": "owner", "vid": vid, "owner_pubkey": hex::encode(&owner)});
            ("owner", owner, secret, json)
        }
    };
    let digest = credential_request_digest(AGENT, kind, vid, &owner, time, &blinded);
    let signature = sign_digest(secret, &digest).serialize_compact();
    let response = client()
        .post(format!("{base}/v1/credentials"))
        .json(&json!({
            "holder": holder_json,
            "time": time,
            "blinded": blinded.iter().map(hex::encode).collect::<Vec<_>>(),
            "signature": hex::encode(signature),
        }))
        .send()
        .await
        .expect("issue");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("json");
    let tokens = if status == 200 {
        pending
            .iter()
            .zip(body["signed"].as_array().expect("signed"))
            .map(|(p, signed)| {
                let signed = hex::decode(signed.as_str().expect("hex")).expect("hex");
                issuer.finalize(p, &signed).expect("finalize").to_bytes()
            })
            .collect()
    } else {
        Vec::new()
    };
    (status, body, tokens)
}

#[tokio::test]
async fn a_private_node_stores_only_what_its_users_credentials_cover() {
    let owner = Wallet::from_byte(31);
    let car = Wallet::from_byte(32);
    let other_address = Wallet::from_byte(34);
    let device = secret_key_from_bytes(&[33; 32]).expect("device key");
    let stranger = secret_key_from_bytes(&[35; 32]).expect("stranger key");
    let chain = init_chain_funding(&[&owner, &car, &other_address], FUNDS);
    let node = NodeProcess::start(&chain.data_dir(), &["--mode", "private"]);
    assert_eq!(status(&node.base).await["mode"], "private");

    // Before pairing nobody gets credentials; a bad signature never does.
    let (code, body, _) = issue(&node.base, VID, Holder::Device(&device), 4).await;
    assert_error(code, &body, 403, "mode_refused");
    let (code, body) = submit(&node.base, &owner.device_setup(0, VID, &device), true).await;
    assert_eq!(code, 200, "{body}");
    let (code, body, _) = issue(&node.base, VID, Holder::Device(&stranger), 4).await;
    assert_error(code, &body, 401, "bad_signature");
    let (code, body, _) = issue(&node.base, VID, Holder::Owner(&stranger), 1).await;
    assert_error(code, &body, 403, "mode_refused");
    let (code, body, credentials) = issue(&node.base, VID, Holder::Device(&device), 4).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(credentials.len(), 4);

    // One put: refused without a credential, with a malformed or forged one; stored
    // with a credential, which is then bound to the address.
    let value = b"trip ciphertext".to_vec();
    let (code, body) = submit(&node.base, &car.record_put(0, b"trip-1", &value), true).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = kv_put(&node.base, &car.address, b"trip-1", &value, None).await;
    assert_error(code, &body, 403, "credential_missing");
    let (code, body) = kv_put(&node.base, &car.address, b"trip-1", &value, Some(b"junk")).await;
    assert_error(code, &body, 400, "credential_malformed");
    let mut forged = credentials[0].clone();
    forged[40] ^= 1;
    let (code, body) = kv_put(&node.base, &car.address, b"trip-1", &value, Some(&forged)).await;
    assert_error(code, &body, 403, "credential_invalid");
    assert_eq!(
        get_value(&node.base, &car.address, b"trip-1", None).await,
        None
    );
    let (code, body) = kv_put(
        &node.base,
        &car.address,
        b"trip-1",
        &value,
        Some(&credentials[0]),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(
        get_value(&node.base, &car.address, b"trip-1", None).await,
        Some(value.clone())
    );

    // The same credential on another address is refused, and nothing is stored.
    let other_value = b"another day".to_vec();
    let (code, body) = submit(
        &node.base,
        &other_address.record_put(0, b"trip-9", &other_value),
        true,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = kv_put(
        &node.base,
        &other_address.address,
        b"trip-9",
        &other_value,
        Some(&credentials[0]),
    )
    .await;
    assert_error(code, &body, 403, "credential_bound_elsewhere");
    assert_eq!(
        get_value(&node.base, &other_address.address, b"trip-9", None).await,
        None
    );

    // A batch: the credentialed item is stored, the bare one refused before it reaches
    // the ledger (the car's nonce does not move past the stored one).
    let second = b"second trip".to_vec();
    let (code, body) = put_records(
        &node.base,
        &[
            record_item(
                &car.record_put(1, b"trip-2", &second),
                &second,
                Some(&credentials[0]),
            ),
            record_item(&car.record_put(2, b"trip-3", b"third"), b"third", None),
        ],
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["results"][0]["outcome"], "stored", "{body}");
    assert_eq!(
        body["results"][1]["error"]["code"], "credential_missing",
        "{body}"
    );
    let account = proven_account(&node.base, &chain.validator_pubkey, &car.address)
        .await
        .expect("car account");
    assert_eq!(account.nonce, 2, "the refused item was never admitted");

    // A credential stores at most 1024 values: one batch of 1024 on a fresh address,
    // then the next put of that address is refused as spent.
    let spender = Wallet::from_byte(36);
    let (code, body) = submit(
        &node.base,
        &owner.transfer(1, &spender.address, FUNDS / 2),
        true,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let items: Vec<Value> = (0..1024u64)
        .map(|i| {
            let key = i.to_be_bytes();
            record_item(
                &spender.record_put(i, &key, &key),
                &key,
                Some(&credentials[1]),
            )
        })
        .collect();
    let (code, body) = put_records(&node.base, &items).await;
    assert_eq!(code, 200, "{body}");
    let stored = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["outcome"] == "stored")
        .count();
    assert_eq!(stored, 1024);
    let (code, body) = put_records(
        &node.base,
        &[record_item(
            &spender.record_put(1024, b"one more", b"v"),
            b"v",
            Some(&credentials[1]),
        )],
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body["results"][0]["error"]["code"], "credential_spent",
        "{body}"
    );
    assert_eq!(
        get_value(&node.base, &spender.address, b"one more", None).await,
        None
    );

    // Wallet records: no open store. Without a credential a note is refused; with an
    // owner credential it is stored; the mailbox's two messages are the open slot.
    let note = b"owner note".to_vec();
    let (code, body) = submit(
        &node.base,
        &owner.wallet_record_put(2, b"note", &note),
        true,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = kv_put(&node.base, &owner.address, b"note", &note, None).await;
    assert_error(code, &body, 403, "credential_missing");
    let (code, body, owner_credentials) =
        issue(&node.base, VID, Holder::Owner(&owner.secret), 1).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = kv_put(
        &node.base,
        &owner.address,
        b"note",
        &note,
        Some(&owner_credentials[0]),
    )
    .await;
    assert_eq!(code, 201, "{body}");

    let mailbox = Wallet::from_byte(37);
    let (code, body) = submit(
        &node.base,
        &owner.transfer(3, &mailbox.address, 100_000),
        true,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let sealed = vec![7u8; 600];
    for (nonce, seq) in [(0, SEQ_OFFER), (1, SEQ_ACCEPT), (2, 3)] {
        let key = mailbox_record_key(seq).expect("mailbox key");
        let tx = mailbox.record_put_as(nonce, &key, &sealed, MAILBOX_FORMAT, true);
        let (code, body) = submit(&node.base, &tx, true).await;
        assert_eq!(code, 200, "{body}");
        let (code, body) = kv_put(&node.base, &mailbox.address, &key, &sealed, None).await;
        if seq == 3 {
            assert_error(code, &body, 403, "credential_missing");
        } else {
            assert_eq!(code, 201, "mailbox message {seq}: {body}");
        }
    }
}
