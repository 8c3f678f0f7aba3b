//! Crash safety: a stream of record puts, KV puts and transfers; SIGKILL mid-stream;
//! restart on the same data directory: every acknowledged put and transaction is there,
//! the header chain and proofs verify, no block is half applied.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use carchain_core::protocol::AccountState;
use common::*;

/// A (key, value) pair the node acknowledged.
type KeyValue = (Vec<u8>, Vec<u8>);

#[tokio::test]
async fn every_acknowledged_write_survives_a_sigkill() {
    let alice = Wallet::from_byte(31);
    let bob = Wallet::from_byte(32);
    let car = Wallet::from_byte(33);
    let reader = Wallet::from_byte(34);
    let chain = init_chain(&[(&alice.address, 1_000_000), (&reader.address, 1_000_000)]);
    let node = NodeProcess::start(&chain.data_dir(), &[]);
    let base = node.base.clone();

    // Acknowledged writes: (key, value) stored in the KV, and transfer count.
    let acked_puts: Arc<Mutex<Vec<KeyValue>>> = Arc::default();
    let acked_transfers: Arc<Mutex<u64>> = Arc::default();

    let puts = {
        let acked = Arc::clone(&acked_puts);
        let car = car.clone();
        let base = base.clone();
        tokio::spawn(async move {
            let http = client();
            for i in 0u64.. {
                let key = i.to_be_bytes().to_vec();
                let value = vec![(i % 251) as u8; 1024];
                let (code, _) = match tokio::time::timeout(
                    Duration::from_secs(5),
                    try_submit(&base, &car.record_put(i, &key, &value)),
                )
                .await
                {
                    Ok(Some(answer)) => answer,
                    _ => return,
                };
                if code != 200 {
                    return;
                }
                let url = format!("{base}/v1/kv/{}/{}", car.address, hex::encode(&key));
                match http.put(&url).body(value.clone()).send().await {
                    Ok(response) if response.status().as_u16() == 201 => {
                        acked.lock().unwrap().push((key, value));
                    }
                    _ => return,
                }
            }
        })
    };
    let transfers = {
        let acked = Arc::clone(&acked_transfers);
        let alice = alice.clone();
        let to = bob.address.clone();
        let base = base.clone();
        tokio::spawn(async move {
            for nonce in 0u64.. {
                match try_submit(&base, &alice.transfer(nonce, &to, 7)).await {
                    Some((200, _)) => *acked.lock().unwrap() += 1,
                    _ => return,
                }
            }
        })
    };

    eventually(|| {
        let acked_puts = Arc::clone(&acked_puts);
        async move { acked_puts.lock().unwrap().len() >= 15 }
    })
    .await;
    node.kill();
    let _ = puts.await;
    let _ = transfers.await;
    let acked_puts = acked_puts.lock().unwrap().clone();
    let acked_transfers = *acked_transfers.lock().unwrap();
    assert!(
        acked_transfers > 0,
        "transfers were acknowledged before the kill"
    );

    let node = NodeProcess::start(&chain.data_dir(), &[]);
    let headers = verified_headers(&node.base, &chain.validator_pubkey).await;
    let status = status(&node.base).await;
    let tip = headers.last().unwrap();
    assert_eq!(status["height"].as_u64(), Some(tip.header.height));
    assert_eq!(
        status["latest_hash"].as_str(),
        Some(hex::encode(tip.header.hash()).as_str())
    );

    // Whole transfers only: alice's nonce counts the committed ones, bob got 7 for each.
    let alice_state = proven_account(&node.base, &chain.validator_pubkey, &alice.address)
        .await
        .expect("alice exists");
    assert!(alice_state.nonce >= acked_transfers);
    assert_eq!(
        alice_state.balance,
        1_000_000 - alice_state.nonce * (7 + BASE_FEE)
    );
    let bob_state = proven_account(&node.base, &chain.validator_pubkey, &bob.address).await;
    assert_eq!(
        bob_state,
        Some(AccountState {
            balance: 7 * alice_state.nonce,
            nonce: 0
        })
    );

    // Every acknowledged value reads back.
    let purchase = buy_tokens(
        &node.base,
        &reader,
        0,
        &chain.operator_address,
        acked_puts.len().max(1),
    )
    .await;
    for ((key, value), token) in acked_puts.iter().zip(&purchase.tokens) {
        let got = paid_get(
            &format!("{}/v1/kv/{}/{}", node.base, car.address, hex::encode(key)),
            token,
        )
        .await;
        assert_eq!(
            got.status(),
            200,
            "acknowledged put {} lost",
            hex::encode(key)
        );
        assert_eq!(got.bytes().await.unwrap().as_ref(), value.as_slice());
    }
}

/// Submits and waits; `None` when the node is gone.
async fn try_submit(
    base: &str,
    tx: &carchain_core::protocol::SignedTransaction,
) -> Option<(u16, serde_json::Value)> {
    let response = client()
        .post(format!("{base}/v1/tx"))
        .json(&serde_json::json!({ "tx": tx, "wait": true }))
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    Some((status, response.json().await.ok()?))
}
