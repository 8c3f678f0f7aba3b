//! Load: 50 concurrent clients on loopback, each registering and storing records under
//! its own data address; no request fails and no write is lost.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod common;

use common::*;

const CLIENTS: u8 = 50;
const PUTS_PER_CLIENT: u64 = 4;

#[tokio::test]
async fn fifty_concurrent_clients_lose_no_write() {
    let (reader, chain, node) = funded_node(200, 1_000_000);

    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let base = node.base.clone();
        tasks.push(tokio::spawn(async move {
            let car = Wallet::from_byte(c + 100);
            let http = client();
            for i in 0..PUTS_PER_CLIENT {
                let key = [c, i as u8];
                let value = vec![c ^ i as u8; 1024];
                let (code, body) = submit(&base, &car.record_put(i, &key, &value), true).await;
                assert_eq!(code, 200, "client {c} put {i}: {body}");
                let response = http
                    .put(format!("{base}/v1/kv/{}/{}", car.address, hex::encode(key)))
                    .body(value)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201, "client {c} kv put {i}");
            }
        }));
    }
    for task in tasks {
        task.await.expect("client task");
    }

    let purchase = buy_tokens(
        &node.base,
        &reader,
        0,
        &chain.operator_address,
        usize::from(CLIENTS),
    )
    .await;
    for c in 0..CLIENTS {
        let car = Wallet::from_byte(c + 100);
        let page: serde_json::Value = paid_json(
            &format!("{}/v1/kv/{}?limit=100", node.base, car.address),
            &purchase.tokens[usize::from(c)],
        )
        .await;
        let keys: Vec<&str> = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|item| item["key"].as_str().unwrap())
            .collect();
        let expected: Vec<String> = (0..PUTS_PER_CLIENT)
            .map(|i| hex::encode([c, i as u8]))
            .collect();
        assert_eq!(keys, expected, "client {c}");
        let account = proven_account(&node.base, &chain.validator_pubkey, &car.address)
            .await
            .expect("car account");
        assert_eq!(account.nonce, PUTS_PER_CLIENT, "client {c}");
    }
}
