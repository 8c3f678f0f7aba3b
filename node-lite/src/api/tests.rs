//! Router tests over an in-memory [`LedgerService`]: routes, status codes, the JSON error
//! shape (including axum's own rejections) and body limits, without a real ledger.

use std::sync::Arc;

use base64::Engine;
use carchain_core::protocol::signing::{public_key_of, secret_key_from_bytes};
use carchain_core::protocol::{
    Network, SignedHeader, SignedTransaction, Transaction, Transfer, TxBody,
};
use serde_json::{Value, json};

use super::*;
use crate::kv::{KvError, KvStore, MemoryKv, PutOutcome, RangePage};
use crate::service::{
    IssueRequest, NodeMode, RangeRequest, StateAnswer, StateQuery, SubmitReceipt, TokenKey,
    TxLookup, WriteCredential,
};

/// A ledger that checks signatures, keeps values in memory and answers fixed state.
struct FakeLedger {
    kv: MemoryKv,
    /// When set, the KV store reports it cannot reach its quorum (this reason).
    kv_down: Option<String>,
}

impl LedgerService for FakeLedger {
    fn kv_health(&self) -> crate::kv::KvHealth {
        crate::kv::KvHealth {
            backend: "memory".into(),
            available: self.kv_down.is_none(),
            detail: self.kv_down.clone(),
        }
    }

    async fn submit(
        &self,
        tx: SignedTransaction,
        wait: bool,
    ) -> Result<SubmitReceipt, ServiceError> {
        tx.verify_signature()
            .map_err(|err| ServiceError::new(ErrorCode::BadSignature, err.to_string()))?;
        Ok(SubmitReceipt {
            tx_id: tx.id(),
            height: wait.then_some(7),
            index: wait.then_some(0),
        })
    }

    fn put_value(
        &self,
        address: &str,
        key: &[u8],
        value: &[u8],
        credential: Option<&WriteCredential>,
    ) -> Result<PutOutcome, ServiceError> {
        if credential.is_some_and(|c| c.0 == [0xf0, 0x0f]) {
            return Err(ServiceError::new(
                ErrorCode::CredentialBoundElsewhere,
                "bound to another address",
            ));
        }
        self.kv.put(address, key, value).map_err(ServiceError::from)
    }

    fn get_value(
        &self,
        address: &str,
        key: &[u8],
        token: Option<&[u8]>,
    ) -> Result<Option<Vec<u8>>, ServiceError> {
        if address == "paid" && token != Some(&[9u8; 40][..]) {
            return Err(ServiceError::new(
                ErrorCode::PaymentRequired,
                "a read token is needed",
            ));
        }
        self.kv.get(address, key).map_err(ServiceError::from)
    }

    fn range_values(
        &self,
        request: &RangeRequest,
        _token: Option<&[u8]>,
    ) -> Result<RangePage, ServiceError> {
        request.read(&self.kv)
    }

    fn token_key(&self) -> Result<TokenKey, ServiceError> {
        Ok(TokenKey {
            key_id: [5; 32],
            public_key: vec![6; 3],
            price: 2,
            max_batch: 1000,
        })
    }

    fn issue_tokens(&self, request: &IssueRequest) -> Result<Vec<Vec<u8>>, ServiceError> {
        if request.payment != [8; 32] {
            return Err(ServiceError::new(ErrorCode::PaymentUsed, "used"));
        }
        Ok(request.blinded.iter().rev().cloned().collect())
    }

    fn transaction(&self, _id: &[u8; 32]) -> Result<Option<TxLookup>, ServiceError> {
        Ok(None)
    }

    fn headers_from(&self, _height: u64, _limit: u32) -> Result<Vec<SignedHeader>, ServiceError> {
        Ok(Vec::new())
    }

    fn query_state(
        &self,
        query: &StateQuery,
        height: Option<u64>,
    ) -> Result<StateAnswer, ServiceError> {
        let value = match query {
            StateQuery::Account(address) => Some(address.as_bytes().to_vec()),
            StateQuery::Record { key, .. } => Some(key.clone()),
            StateQuery::Grant(id) => Some(id.to_vec()),
            _ => None,
        };
        Ok(StateAnswer {
            height: height.unwrap_or(5),
            state_root: [3; 32],
            key_hash: [4; 32],
            value,
            value_json: None,
            proof: "00".into(),
        })
    }

    fn status(&self) -> Result<NodeStatus, ServiceError> {
        Ok(NodeStatus {
            chain_id: "carchain-test".into(),
            network: "regtest".into(),
            height: 5,
            latest_hash: None,
            mode: NodeMode::Shared,
            version: "test".into(),
            peers: Vec::new(),
            validator: "02".repeat(33),
            operator_address: "bcrt1qoperator".into(),
            kv: None,
            mempool: 0,
        })
    }
}

/// Serves the router on a loopback port; returns its base URL.
async fn serve(config: ApiConfig) -> String {
    serve_ledger(
        FakeLedger {
            kv: MemoryKv::new(),
            kv_down: None,
        },
        config,
    )
    .await
}

/// Serves the router over `ledger` on a loopback port; returns its base URL.
async fn serve_ledger(ledger: FakeLedger, config: ApiConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(Arc::new(ledger), config);
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn signed_transfer() -> SignedTransaction {
    let secret = secret_key_from_bytes(&[7u8; 32]).unwrap();
    Transaction {
        chain_id: "carchain-test".into(),
        network: Network::Regtest,
        signer: public_key_of(&secret),
        nonce: 0,
        fee: 10,
        body: TxBody::Transfer(Transfer {
            to: "bcrt1qreceiver".into(),
            amount: 5,
        }),
    }
    .sign(&secret)
    .unwrap()
}

async fn error_code(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body["error"]["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn submit_waits_200_queues_202_and_maps_bad_signature_to_401() {
    let base = serve(ApiConfig::default()).await;
    let client = reqwest::Client::new();
    let tx = signed_transfer();
    let id = hex::encode(tx.id());

    let waited = client
        .post(format!("{base}/v1/tx"))
        .json(&json!({"tx": tx, "wait": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(waited.status(), 200);
    let receipt: Value = waited.json().await.unwrap();
    assert_eq!(receipt, json!({"tx_id": id, "height": 7, "index": 0}));

    let queued = client
        .post(format!("{base}/v1/tx"))
        .json(&json!({"tx": tx, "wait": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(queued.status(), 202);

    let mut tampered = tx.clone();
    tampered.tx.fee += 1;
    let refused = client
        .post(format!("{base}/v1/tx"))
        .json(&json!({"tx": tampered}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(error_code(refused).await, "bad_signature");
}

#[tokio::test]
async fn malformed_json_and_oversized_bodies_get_the_json_error_shape() {
    let base = serve(ApiConfig {
        tx_body_limit: 1024,
        kv_body_limit: 64,
    })
    .await;
    let client = reqwest::Client::new();

    let syntax = client
        .post(format!("{base}/v1/tx"))
        .body("{\"tx\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(syntax.status(), 422);
    assert_eq!(error_code(syntax).await, "malformed_json");

    let shape = client
        .post(format!("{base}/v1/tx"))
        .json(&json!({"tx": {"nonce": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(shape.status(), 422);
    assert_eq!(error_code(shape).await, "malformed_json");

    let big_tx = client
        .post(format!("{base}/v1/tx"))
        .body(vec![b' '; 2048])
        .send()
        .await
        .unwrap();
    assert_eq!(big_tx.status(), 413);
    assert_eq!(error_code(big_tx).await, "body_too_large");

    let big_value = client
        .put(format!("{base}/v1/kv/addr1/01"))
        .body(vec![0u8; 65])
        .send()
        .await
        .unwrap();
    assert_eq!(big_value.status(), 413);
    assert_eq!(error_code(big_value).await, "body_too_large");
    let fits = client
        .put(format!("{base}/v1/kv/addr1/01"))
        .body(vec![0u8; 64])
        .send()
        .await
        .unwrap();
    assert_eq!(fits.status(), 201);
}

#[tokio::test]
async fn kv_put_get_duplicate_and_range_paging() {
    let base = serve(ApiConfig::default()).await;
    let client = reqwest::Client::new();
    for i in 1u8..=5 {
        let put = client
            .put(format!("{base}/v1/kv/addr1/{i:02x}"))
            .body(vec![i; 3])
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 201);
        assert_eq!(
            put.json::<Value>().await.unwrap(),
            json!({"outcome": "stored"})
        );
    }
    let again = client
        .put(format!("{base}/v1/kv/addr1/03"))
        .body(vec![3u8; 3])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        json!({"outcome": "already_stored"})
    );
    let clash = client
        .put(format!("{base}/v1/kv/addr1/03"))
        .body(vec![9u8; 3])
        .send()
        .await
        .unwrap();
    assert_eq!(clash.status(), 409);
    assert_eq!(error_code(clash).await, "duplicate_value");

    let got = client
        .get(format!("{base}/v1/kv/addr1/04"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "application/octet-stream");
    assert_eq!(got.bytes().await.unwrap().as_ref(), &[4u8; 3]);
    let missing = client
        .get(format!("{base}/v1/kv/addr1/aa"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(error_code(missing).await, "not_found");

    let first: Value = client
        .get(format!("{base}/v1/kv/addr1?start=02&end=05&limit=2"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode([2u8; 3]);
    assert_eq!(first["items"][0], json!({"key": "02", "value": b64}));
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(first["next_cursor"], "03");
    let second: Value = client
        .get(format!(
            "{base}/v1/kv/addr1?start=02&end=05&limit=2&after=03"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys: Vec<&str> = second["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["04", "05"]);
    assert_eq!(second["next_cursor"], Value::Null);

    let bad_limit = client
        .get(format!("{base}/v1/kv/addr1?limit=0"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_limit.status(), 400);
    let bad_hex = client
        .get(format!("{base}/v1/kv/addr1/zz"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_hex.status(), 400);
    assert_eq!(error_code(bad_hex).await, "invalid_request");
}

#[tokio::test]
async fn credential_headers_and_read_tokens_are_passed_through() {
    let base = serve(ApiConfig::default()).await;
    let client = reqwest::Client::new();
    let foreign = client
        .put(format!("{base}/v1/kv/addr1/01"))
        .header("x-carchain-credential", "f00f")
        .body(vec![1u8])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    assert_eq!(error_code(foreign).await, "credential_bound_elsewhere");
    let malformed = client
        .put(format!("{base}/v1/kv/addr1/01"))
        .header("x-carchain-credential", "not hex")
        .body(vec![1u8])
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(error_code(malformed).await, "credential_malformed");
    let issue = client
        .post(format!("{base}/v1/credentials"))
        .json(&json!({"holder": {"kind": "device", "vid": "V"}, "time": 1,
            "blinded": ["00"], "signature": "00".repeat(64)}))
        .send()
        .await
        .unwrap();
    assert_eq!(issue.status(), 403, "this ledger issues nothing");
    assert_eq!(error_code(issue).await, "mode_refused");

    client
        .put(format!("{base}/v1/kv/paid/01"))
        .body(vec![1u8])
        .send()
        .await
        .unwrap();
    let unpaid = client
        .get(format!("{base}/v1/kv/paid/01"))
        .send()
        .await
        .unwrap();
    assert_eq!(unpaid.status(), 402);
    assert_eq!(error_code(unpaid).await, "payment_required");
    let paid = client
        .get(format!("{base}/v1/kv/paid/01"))
        .header("x-carchain-token", "09".repeat(40))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 200);
    let not_hex = client
        .get(format!("{base}/v1/kv/paid/01"))
        .header("x-carchain-token", "zz")
        .send()
        .await
        .unwrap();
    assert_eq!(not_hex.status(), 402);
    assert_eq!(error_code(not_hex).await, "token_malformed");
}

#[tokio::test]
async fn token_key_and_issue_speak_json() {
    let base = serve(ApiConfig::default()).await;
    let client = reqwest::Client::new();
    let key: Value = client
        .get(format!("{base}/v1/tokens/key"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(key["key_id"], hex::encode([5u8; 32]));
    assert_eq!(
        key["public_key"],
        base64::engine::general_purpose::STANDARD.encode([6u8; 3])
    );
    assert_eq!(key["price"], 2);
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let issued: Value = client
        .post(format!("{base}/v1/tokens"))
        .json(&json!({"payment": hex::encode([8u8; 32]), "blinded": [b64(b"a"), b64(b"b")], "signature": "00"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(issued["signatures"], json!([b64(b"b"), b64(b"a")]));
    let used = client
        .post(format!("{base}/v1/tokens"))
        .json(
            &json!({"payment": hex::encode([7u8; 32]), "blinded": [b64(b"a")], "signature": "00"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(used.status(), 409);
    assert_eq!(error_code(used).await, "payment_used");
    let bad = client
        .post(format!("{base}/v1/tokens"))
        .json(&json!({"payment": "00", "blinded": [], "signature": "00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(bad).await, "invalid_request");
    let unknown = client
        .post(format!("{base}/v1/tokens"))
        .json(&json!({"payment": hex::encode([8u8; 32]), "blinded": [], "signature": "00", "extra": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(unknown).await, "malformed_json");
}

#[tokio::test]
async fn state_tx_headers_status_health_and_openapi() {
    let base = serve(ApiConfig::default()).await;
    let client = reqwest::Client::new();
    let account: Value = client
        .get(format!("{base}/v1/state/account/bcrt1qabc?height=3"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(account["height"], 3);
    assert_eq!(account["value"], hex::encode("bcrt1qabc"));
    assert_eq!(account["state_root"], "03".repeat(32));
    let record: Value = client
        .get(format!("{base}/v1/state/record/bcrt1qabc/a1b2"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(record["value"], "a1b2");
    assert_eq!(record["height"], 5);
    let device: Value = client
        .get(format!("{base}/v1/state/device/VIN1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(device["value"], Value::Null);
    let bad_grant = client
        .get(format!("{base}/v1/state/grant/abcd"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_grant.status(), 400);
    let bad_height = client
        .get(format!("{base}/v1/state/account/x?height=minus"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_height.status(), 400);
    assert_eq!(error_code(bad_height).await, "invalid_request");

    let no_tx = client
        .get(format!("{base}/v1/tx/{}", "11".repeat(32)))
        .send()
        .await
        .unwrap();
    assert_eq!(no_tx.status(), 404);
    let headers: Value = client
        .get(format!("{base}/v1/headers?from=1&limit=1000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(headers, json!({"headers": []}));
    let too_many = client
        .get(format!("{base}/v1/headers?limit=1001"))
        .send()
        .await
        .unwrap();
    assert_eq!(too_many.status(), 400);
    for (path, status, code) in [
        ("/v1/light/18446744073709551616", 400, "invalid_request"),
        ("/v1/light/-1", 400, "invalid_request"),
        ("/v1/light/7", 404, "not_found"),
    ] {
        let answer = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(answer.status(), status, "{path}");
        assert_eq!(error_code(answer).await, code, "{path}");
    }

    let status: Value = client
        .get(format!("{base}/v1/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["chain_id"], "carchain-test");
    assert_eq!(status["mode"], "shared");
    let health = client.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    let openapi = client
        .get(format!("{base}/v1/openapi.yaml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(openapi.starts_with("openapi: 3.1"));
    assert_eq!(openapi, OPENAPI_YAML);

    let unknown = client
        .get(format!("{base}/v2/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(error_code(unknown).await, "not_found");
    let wrong_method = client
        .delete(format!("{base}/v1/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), 405);
    assert_eq!(error_code(wrong_method).await, "invalid_request");
}

#[tokio::test]
async fn health_answers_503_kv_unavailable_while_the_kv_store_has_no_quorum() {
    let base = serve_ledger(
        FakeLedger {
            kv: MemoryKv::new(),
            kv_down: Some("2 of 3 replicas down".into()),
        },
        ApiConfig::default(),
    )
    .await;
    let health = reqwest::get(format!("{base}/health")).await.unwrap();
    assert_eq!(health.status(), 503);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["error"]["code"], "kv_unavailable");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 of 3 replicas down"),
        "{body}"
    );
    assert_eq!(
        crate::api::error::status_for(ErrorCode::KvUnavailable),
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    );
    let refused = ServiceError::from(KvError::Unavailable {
        detail: "quorum lost".into(),
    });
    assert_eq!(refused.code, ErrorCode::KvUnavailable);
}
