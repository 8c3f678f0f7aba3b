//! End-to-end tests of `POST /v1/records` on the real binary: a batch registers and
//! stores every record, a bad item among good ones is refused alone (and changes
//! nothing), and sending the same batch again is harmless.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod common;

use carchain_core::protocol::{TxBody, hashing::sha256};
use common::*;
use serde_json::Value;

const FUNDS: u64 = 1_000_000;

fn value_for(i: u64) -> Vec<u8> {
    (0..1024u64).map(|b| (b ^ (i * 31)) as u8).collect()
}

/// Asserts `result` is a success with `outcome`; returns `(tx_id, height, index)`.
fn landed(result: &Value, outcome: &str) -> (String, u64, u64) {
    assert_eq!(result["outcome"], outcome, "{result}");
    (
        result["tx_id"].as_str().expect("tx_id").to_owned(),
        result["height"].as_u64().expect("height"),
        result["index"].as_u64().expect("index"),
    )
}

#[tokio::test]
async fn a_batch_registers_and_stores_every_record_and_a_retry_is_harmless() {
    let car = Wallet::from_byte(21);
    let reader = Wallet::from_byte(25);
    let chain = init_chain(&[(&car.address, FUNDS), (&reader.address, FUNDS)]);
    let node = NodeProcess::start(&chain.data_dir(), &[]);
    let mut tokens = buy_tokens(&node.base, &reader, 0, &chain.operator_address, 60)
        .await
        .tokens
        .into_iter();
    let txs: Vec<_> = (0..40u64)
        .map(|i| car.record_put(i, &i.to_be_bytes(), &value_for(i)))
        .collect();
    let items: Vec<Value> = txs
        .iter()
        .zip(0..)
        .map(|(tx, i)| record_item(tx, &value_for(i), None))
        .collect();
    let (code, body) = put_records(&node.base, &items).await;
    assert_eq!(code, 200, "{body}");
    let results = body["results"].as_array().expect("results");
    assert_eq!(results.len(), 40);
    let first: Vec<_> = results.iter().map(|r| landed(r, "stored")).collect();
    for ((tx_id, height, _), tx) in first.iter().zip(&txs) {
        assert_eq!(*tx_id, hex::encode(tx.id()));
        assert!(*height >= 1);
    }
    for i in 0..40u64 {
        assert_eq!(
            get_value(
                &node.base,
                &car.address,
                &i.to_be_bytes(),
                tokens.next().as_deref()
            )
            .await,
            Some(value_for(i))
        );
    }
    // The registrations are on the ledger with their inclusion proofs.
    let (code, found) = get_json(&format!("{}/v1/tx/{}", node.base, first[7].0)).await;
    assert_eq!(code, 200, "{found}");
    assert_eq!(found["height"].as_u64(), Some(first[7].1));
    assert_eq!(found["index"].as_u64(), Some(first[7].2));

    // The same batch again: nothing new on the ledger, every value already stored.
    let height = status(&node.base).await["height"].as_u64().expect("height");
    let (code, body) = put_records(&node.base, &items).await;
    assert_eq!(code, 200, "{body}");
    let again: Vec<_> = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| landed(r, "already_stored"))
        .collect();
    assert_eq!(again, first);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(status(&node.base).await["height"].as_u64(), Some(height));
    let account = proven_account(&node.base, &chain.validator_pubkey, &car.address)
        .await
        .expect("account");
    assert_eq!(account.nonce, 40);
}

#[tokio::test]
async fn bad_items_are_refused_alone_and_change_nothing() {
    let ([car, other, reader], chain, node) = funded_keys_node([22, 23, 26], FUNDS);
    let mut tokens = buy_tokens(&node.base, &reader, 0, &chain.operator_address, 60)
        .await
        .tokens
        .into_iter();
    let good0 = car.record_put(0, b"k0", &value_for(0));
    let good1 = car.record_put(1, b"k1", &value_for(1));
    // A value that is not the registered ciphertext.
    let mismatched = other.record_put(0, b"m", &value_for(2));
    // A registration changed after signing.
    let mut tampered = other.record_put(1, b"t", &value_for(3));
    tampered.tx.fee += 1;
    // A transaction that is not a record put.
    let transfer = other.transfer(0, &car.address, 5);
    let items = vec![
        record_item(&good0, &value_for(0), None),
        record_item(&mismatched, &value_for(9), None),
        record_item(&tampered, &value_for(3), None),
        record_item(&transfer, b"", None),
        record_item(&good1, &value_for(1), None),
    ];
    let (code, body) = put_records(&node.base, &items).await;
    assert_eq!(code, 200, "{body}");
    let results = body["results"].as_array().expect("results");
    assert_eq!(results.len(), 5);
    landed(&results[0], "stored");
    assert_eq!(results[1]["error"]["code"], "chash_mismatch", "{body}");
    assert_eq!(results[2]["error"]["code"], "bad_signature", "{body}");
    assert_eq!(results[3]["error"]["code"], "invalid_request", "{body}");
    landed(&results[4], "stored");
    assert_eq!(
        get_value(&node.base, &car.address, b"k1", tokens.next().as_deref()).await,
        Some(value_for(1))
    );
    // Nothing of the refused items reached the ledger or the store.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        proven_account(&node.base, &chain.validator_pubkey, &other.address)
            .await
            .map(|a| (a.nonce, a.balance)),
        Some((0, FUNDS))
    );
    assert_eq!(
        get_value(&node.base, &other.address, b"m", tokens.next().as_deref()).await,
        None
    );
    let (code, body) = get_json(&format!(
        "{}/v1/state/record/{}/{}",
        node.base,
        other.address,
        hex::encode(b"m")
    ))
    .await;
    assert_eq!(code, 200, "{body}");
    assert!(body["value"].is_null(), "{body}");
    // The mismatched item's registration is still free: its right value is accepted.
    let (code, body) =
        put_records(&node.base, &[record_item(&mismatched, &value_for(2), None)]).await;
    assert_eq!(code, 200, "{body}");
    landed(&body["results"][0], "stored");
    assert!(
        matches!(mismatched.tx.body, TxBody::RecordPut(ref p) if p.c_hash == sha256(&[&value_for(2)]))
    );
}

#[tokio::test]
async fn malformed_and_empty_batches_are_refused_whole() {
    let chain = init_chain(&[]);
    let node = NodeProcess::start(&chain.data_dir(), &[]);
    let (code, body) = put_records(&node.base, &[]).await;
    assert_error(code, &body, 400, "invalid_request");
    let response = client()
        .post(format!("{}/v1/records", node.base))
        .header("content-type", "application/json")
        .body("{\"items\": [{\"tx\": 1}]}")
        .send()
        .await
        .expect("post");
    let code = response.status().as_u16();
    let body: Value = response.json().await.expect("json");
    assert_error(code, &body, 422, "malformed_json");
    let car = Wallet::from_byte(24);
    let tx = car.record_put(0, b"k", b"v");
    let mut item = record_item(&tx, b"v", None);
    item["value"] = Value::from("not base64!");
    let (code, body) = put_records(&node.base, &[item]).await;
    assert_error(code, &body, 400, "invalid_request");
}
