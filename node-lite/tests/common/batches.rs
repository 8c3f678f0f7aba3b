//! Signed record batches for the node's load benchmarks: 1 KiB values, a batch of one
//! key's puts as one `POST /v1/records` body, and its sending with every item checked
//! stored.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::Wallet;

/// The size of every benchmark value.
pub const VALUE_LEN: usize = 1024;

/// The value put under nonce `nonce`.
pub fn value_for(nonce: u64) -> Vec<u8> {
    (0..VALUE_LEN).map(|i| (i as u64 ^ nonce) as u8).collect()
}

/// The JSON body of one batch of `wallet`'s puts with nonces `from..from + count`.
pub fn batch_body(wallet: &Wallet, from: u64, count: u64) -> Vec<u8> {
    let items: Vec<Value> = (from..from + count)
        .map(|nonce| {
            let value = value_for(nonce);
            json!({
                "tx": wallet.record_put(nonce, &nonce.to_be_bytes(), &value),
                "value": BASE64.encode(&value),
            })
        })
        .collect();
    serde_json::to_vec(&json!({ "items": items })).expect("encode batch")
}

/// Sends one batch of `count` items; asserts every item was stored.
pub async fn send_batch(http: &reqwest::Client, base: &str, body: Vec<u8>, count: u64) {
    let response = http
        .post(format!("{base}/v1/records"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("post records");
    let status = response.status();
    let answer: Value = response.json().await.expect("records json");
    assert_eq!(status, 200, "{answer}");
    let results = answer["results"].as_array().expect("results");
    assert_eq!(results.len() as u64, count);
    for result in results {
        assert_eq!(result["outcome"], "stored", "{result}");
    }
}
