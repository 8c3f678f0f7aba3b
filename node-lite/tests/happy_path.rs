//! End-to-end happy path against the real binary: a transfer proven against signed
//! headers, and a record registered on the ledger, stored, read back and paged.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod common;

use base64::Engine;
use carchain_core::protocol::{
    AccountState, InclusionProof, SignedHeader, decode_state_proof, state_key, verify_state_proof,
};
use common::*;

#[tokio::test]
async fn transfer_commits_and_accounts_are_proven_against_the_signed_header_chain() {
    let (alice, chain, node) = funded_node(1, 1_000_000);
    let bob = Wallet::from_byte(2);
    let validator = &chain.validator_pubkey;

    let before = proven_account(&node.base, validator, &alice.address).await;
    assert_eq!(
        before,
        Some(AccountState {
            balance: 1_000_000,
            nonce: 0
        })
    );
    assert_eq!(
        proven_account(&node.base, validator, &bob.address).await,
        None
    );

    let tx = alice.transfer(0, &bob.address, 250);
    let (code, receipt) = submit(&node.base, &tx, true).await;
    assert_eq!(code, 200, "{receipt}");
    assert_eq!(receipt["tx_id"], hex::encode(tx.id()));
    let height = receipt["height"].as_u64().expect("committed height");
    assert!(height >= 1);

    let alice_after = proven_account(&node.base, validator, &alice.address).await;
    assert_eq!(
        alice_after,
        Some(AccountState {
            balance: 1_000_000 - 250 - BASE_FEE,
            nonce: 1
        })
    );
    let bob_after = proven_account(&node.base, validator, &bob.address).await;
    assert_eq!(
        bob_after,
        Some(AccountState {
            balance: 250,
            nonce: 0
        })
    );

    let (code, found) = get_json(&format!("{}/v1/tx/{}", node.base, hex::encode(tx.id()))).await;
    assert_eq!(code, 200, "{found}");
    assert_eq!(found["height"].as_u64(), Some(height));
    let header: SignedHeader = serde_json::from_value(found["header"].clone()).unwrap();
    let proof: InclusionProof = serde_json::from_value(found["proof"].clone()).unwrap();
    proof
        .verify(&header.header.tx_root, &tx.id())
        .expect("inclusion proof");
    let chain_headers = verified_headers(&node.base, validator).await;
    assert!(
        chain_headers.contains(&header),
        "the tx's header is on the verified chain"
    );

    let status = status(&node.base).await;
    assert_eq!(status["chain_id"], CHAIN_ID);
    assert_eq!(status["operator_address"], chain.operator_address);
    assert_eq!(status["validator"], chain.validator_pubkey);
}

#[tokio::test]
async fn record_put_then_kv_put_get_and_range_paging() {
    let car = Wallet::from_byte(3);
    let (reader, chain, node) = funded_node(4, 100_000);
    let http = client();

    let values: Vec<Vec<u8>> = (0u8..5).map(|i| vec![i; 1024]).collect();
    for (i, value) in values.iter().enumerate() {
        let key = [0x10, i as u8];
        let (code, body) = submit(&node.base, &car.record_put(i as u64, &key, value), true).await;
        assert_eq!(code, 200, "{body}");
        let url = format!("{}/v1/kv/{}/{}", node.base, car.address, hex::encode(key));
        let put = http.put(&url).body(value.clone()).send().await.unwrap();
        assert_eq!(put.status(), 201);
        let again = http.put(&url).body(value.clone()).send().await.unwrap();
        assert_eq!(again.status(), 200, "a retried put is idempotent");
    }

    // The registration is on the ledger with a verifiable proof.
    let (code, answer) = get_json(&format!(
        "{}/v1/state/record/{}/1002",
        node.base, car.address
    ))
    .await;
    assert_eq!(code, 200, "{answer}");
    let headers = verified_headers(&node.base, &chain.validator_pubkey).await;
    let header = headers
        .iter()
        .find(|h| Some(h.header.height) == answer["height"].as_u64())
        .unwrap();
    let value = hex::decode(answer["value"].as_str().expect("registered")).unwrap();
    let proof = decode_state_proof(answer["proof"].as_str().unwrap()).unwrap();
    verify_state_proof(
        &header.header.state_root,
        state_key::record(&car.address, &[0x10, 2]),
        Some(&value),
        &proof,
    )
    .expect("record proof");

    // Reads in shared mode are paid: a transfer to the operator buys blind-signed
    // tokens, one spent per read.
    let unpaid = http
        .get(format!("{}/v1/kv/{}/1003", node.base, car.address))
        .send()
        .await
        .unwrap();
    assert_eq!(unpaid.status(), 402);
    let mut tokens = buy_tokens(&node.base, &reader, 0, &chain.operator_address, 10)
        .await
        .tokens
        .into_iter();

    let got = paid_get(
        &format!("{}/v1/kv/{}/1003", node.base, car.address),
        &tokens.next().unwrap(),
    )
    .await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), values[3].as_slice());

    let mut keys = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = format!(
            "{}/v1/kv/{}?start=1001&end=10ff&limit=2",
            node.base, car.address
        );
        if let Some(cursor) = &after {
            url.push_str(&format!("&after={cursor}"));
        }
        let page: serde_json::Value = paid_json(&url, &tokens.next().unwrap()).await;
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        for item in items {
            let key = item["key"].as_str().unwrap().to_owned();
            let value = base64::engine::general_purpose::STANDARD
                .decode(item["value"].as_str().unwrap())
                .unwrap();
            let index = hex::decode(&key).unwrap()[1] as usize;
            assert_eq!(value, values[index]);
            keys.push(key);
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => after = Some(cursor.to_owned()),
            None => break,
        }
    }
    assert_eq!(keys, ["1001", "1002", "1003", "1004"]);

    // A proven page: each item carries its registration proven at the asked height, so
    // the page is checked against one header with no request per record.
    let height = header.header.height;
    let proven: serde_json::Value = paid_json(
        &format!("{}/v1/kv/{}?proofs_at={height}", node.base, car.address),
        &tokens.next().unwrap(),
    )
    .await;
    let items = proven["items"].as_array().expect("items");
    assert_eq!(items.len(), 5);
    for item in items {
        let key = hex::decode(item["key"].as_str().unwrap()).unwrap();
        let registration = &item["registration"];
        assert_eq!(registration["height"], height);
        let value = hex::decode(registration["value"].as_str().expect("registered")).unwrap();
        let proof = decode_state_proof(registration["proof"].as_str().unwrap()).unwrap();
        verify_state_proof(
            &header.header.state_root,
            state_key::record(&car.address, &key),
            Some(&value),
            &proof,
        )
        .expect("the page's proof");
    }
    // A page without `proofs_at` carries none.
    let plain: serde_json::Value = paid_json(
        &format!("{}/v1/kv/{}", node.base, car.address),
        &tokens.next().unwrap(),
    )
    .await;
    assert!(plain["items"][0].get("registration").is_none(), "{plain}");
    // A height past the tip is refused before the read is paid: the token still buys a
    // read afterwards.
    let token = tokens.next().unwrap();
    let too_high = paid_get(
        &format!("{}/v1/kv/{}?proofs_at=999999999", node.base, car.address),
        &token,
    )
    .await;
    assert_eq!(
        too_high.status(),
        404,
        "as the state endpoints answer an unknown height"
    );
    let body: serde_json::Value = too_high.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found", "{body}");
    let afterwards = paid_get(&format!("{}/v1/kv/{}", node.base, car.address), &token).await;
    assert_eq!(afterwards.status(), 200, "the refused read spent nothing");
}
