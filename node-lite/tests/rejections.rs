//! Every refusal returns the JSON error shape with its code and changes nothing: each
//! test re-reads the proven account state and the height after the refused request.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod common;

use carchain_core::protocol::AccountState;
use carchain_core::protocol::signing::secret_key_from_bytes;
use common::*;
use serde_json::Value;

const FUNDS: u64 = 1_000_000;

struct Setup {
    chain: Chain,
    node: NodeProcess,
    alice: Wallet,
    bob: Wallet,
}

fn setup() -> Setup {
    let alice = Wallet::from_byte(11);
    let bob = Wallet::from_byte(12);
    let chain = init_chain(&[(&alice.address, FUNDS), (&bob.address, FUNDS)]);
    let node = NodeProcess::start(&chain.data_dir(), &[]);
    Setup {
        chain,
        node,
        alice,
        bob,
    }
}

impl Setup {
    async fn account(&self, wallet: &Wallet) -> Option<AccountState> {
        proven_account(
            &self.node.base,
            &self.chain.validator_pubkey,
            &wallet.address,
        )
        .await
    }

    async fn height(&self) -> u64 {
        status(&self.node.base).await["height"].as_u64().unwrap()
    }

    /// Asserts that a refused request left the accounts and the chain as they were.
    async fn assert_unchanged(
        &self,
        alice: Option<AccountState>,
        bob: Option<AccountState>,
        height: u64,
    ) {
        // Give the producer a few block times to (wrongly) commit something.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert_eq!(self.account(&self.alice).await, alice);
        assert_eq!(self.account(&self.bob).await, bob);
        assert_eq!(self.height().await, height);
    }

    async fn snapshot(&self) -> (Option<AccountState>, Option<AccountState>, u64) {
        (
            self.account(&self.alice).await,
            self.account(&self.bob).await,
            self.height().await,
        )
    }
}

#[tokio::test]
async fn bad_signature_is_401_and_changes_nothing() {
    let s = setup();
    let (a, b, h) = s.snapshot().await;
    let mut tx = s.alice.transfer(0, &s.bob.address, 5);
    tx.tx.fee += 1; // changed after signing: the signature no longer matches
    let (code, body) = submit(&s.node.base, &tx, true).await;
    assert_error(code, &body, 401, "bad_signature");
    s.assert_unchanged(a, b, h).await;
}

#[tokio::test]
async fn a_nonce_ahead_is_409_bad_nonce() {
    let s = setup();
    let (a, b, h) = s.snapshot().await;
    let (code, body) = submit(&s.node.base, &s.alice.transfer(3, &s.bob.address, 5), true).await;
    assert_error(code, &body, 409, "bad_nonce");
    s.assert_unchanged(a, b, h).await;
}

#[tokio::test]
async fn a_replayed_transaction_is_409_replay() {
    let s = setup();
    let tx = s.alice.transfer(0, &s.bob.address, 5);
    let (code, body) = submit(&s.node.base, &tx, true).await;
    assert_eq!(code, 200, "{body}");
    let (a, b, h) = s.snapshot().await;
    assert_eq!(
        a,
        Some(AccountState {
            balance: FUNDS - 5 - BASE_FEE,
            nonce: 1
        })
    );
    let (code, body) = submit(&s.node.base, &tx, true).await;
    assert_error(code, &body, 409, "replay");
    s.assert_unchanged(a, b, h).await;
}

#[tokio::test]
async fn a_reset_of_an_unknown_device_is_404_unknown_device() {
    let s = setup();
    let (a, b, h) = s.snapshot().await;
    let (code, body) = submit(
        &s.node.base,
        &s.alice.reset(0, "NO-SUCH-VIN", &s.bob.address),
        true,
    )
    .await;
    assert_error(code, &body, 404, "unknown_device");
    s.assert_unchanged(a, b, h).await;
}

#[tokio::test]
async fn a_reset_not_signed_by_the_previous_owner_is_403_not_owner() {
    let s = setup();
    let device = secret_key_from_bytes(&[21; 32]).unwrap();
    let (code, body) = submit(
        &s.node.base,
        &s.alice.device_setup(0, "VIN-A", &device),
        true,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let device_url = format!("{}/v1/state/device/VIN-A", s.node.base);
    let (_, device_before) = get_json(&device_url).await;
    assert!(device_before["value"].is_string(), "{device_before}");
    let (a, b, h) = s.snapshot().await;

    let (code, body) = submit(&s.node.base, &s.bob.reset(0, "VIN-A", &s.bob.address), true).await;
    assert_error(code, &body, 403, "not_owner");
    s.assert_unchanged(a, b, h).await;
    let (_, device_after) = get_json(&device_url).await;
    assert_eq!(device_after["value"], device_before["value"]);
}

#[tokio::test]
async fn a_second_put_of_the_same_address_and_key_is_409_duplicate_record() {
    let s = setup();
    let (code, body) = submit(&s.node.base, &s.alice.record_put(0, b"k1", b"first"), true).await;
    assert_eq!(code, 200, "{body}");
    let (a, b, h) = s.snapshot().await;
    let (code, body) = submit(&s.node.base, &s.alice.record_put(1, b"k1", b"second"), true).await;
    assert_error(code, &body, 409, "duplicate_record");
    s.assert_unchanged(a, b, h).await;
}

#[tokio::test]
async fn a_transaction_for_another_chain_or_network_is_400_wrong_chain() {
    let s = setup();
    let (a, b, h) = s.snapshot().await;
    let mut other_chain = s.alice.transfer(0, &s.bob.address, 5).tx;
    other_chain.chain_id = "another-chain".into();
    let other_chain = other_chain.sign(&s.alice.secret).expect("sign");
    let (code, body) = submit(&s.node.base, &other_chain, true).await;
    assert_error(code, &body, 400, "wrong_chain");
    let mut other_network = s.alice.transfer(0, &s.bob.address, 5).tx;
    other_network.network = carchain_core::protocol::Network::Testnet;
    let other_network = other_network.sign(&s.alice.secret).expect("sign");
    let (code, body) = submit(&s.node.base, &other_network, true).await;
    assert_error(code, &body, 400, "wrong_chain");
    s.assert_unchanged(a, b, h).await;
}

#[tokio::test]
async fn a_fee_below_the_schedule_is_400_fee_too_low() {
    let s = setup();
    let (a, b, h) = s.snapshot().await;
    // A transfer pays the base fee; a record put also pays per byte stored.
    let cheap_transfer = s.alice.sign(
        0,
        BASE_FEE - 1,
        carchain_core::protocol::TxBody::Transfer(carchain_core::protocol::Transfer {
            to: s.bob.address.clone(),
            amount: 5,
        }),
    );
    let (code, body) = submit(&s.node.base, &cheap_transfer, true).await;
    assert_error(code, &body, 400, "fee_too_low");
    let mut cheap_put = s.alice.record_put(0, b"k", &[7u8; 100]).tx;
    cheap_put.fee = BASE_FEE + 99;
    let cheap_put = cheap_put.sign(&s.alice.secret).expect("sign");
    let (code, body) = submit(&s.node.base, &cheap_put, true).await;
    assert_error(code, &body, 400, "fee_too_low");
    s.assert_unchanged(a, b, h).await;
}

#[tokio::test]
async fn spending_more_than_the_balance_is_402_insufficient_balance() {
    let s = setup();
    let (a, b, h) = s.snapshot().await;
    let (code, body) = submit(
        &s.node.base,
        &s.alice.transfer(0, &s.bob.address, FUNDS),
        true,
    )
    .await;
    assert_error(code, &body, 402, "insufficient_balance");
    s.assert_unchanged(a, b, h).await;
}

#[tokio::test]
async fn oversized_bodies_are_413_body_too_large() {
    let s = setup();
    let (a, b, h) = s.snapshot().await;
    let http = client();
    let big_tx = http
        .post(format!("{}/v1/tx", s.node.base))
        .body(vec![b' '; 300 * 1024])
        .send()
        .await
        .unwrap();
    let code = big_tx.status().as_u16();
    let body: Value = big_tx.json().await.unwrap();
    assert_error(code, &body, 413, "body_too_large");

    let (code, body) = submit(&s.node.base, &s.alice.record_put(0, b"big", b"v"), true).await;
    assert_eq!(code, 200, "{body}");
    let (a2, b2, h2) = s.snapshot().await;
    assert!(h2 > h && a2 != a && b2 == b);
    let big_value = http
        .put(format!(
            "{}/v1/kv/{}/{}",
            s.node.base,
            s.alice.address,
            hex::encode(b"big")
        ))
        .body(vec![0u8; 4 * 1024 * 1024 + 1])
        .send()
        .await
        .unwrap();
    let code = big_value.status().as_u16();
    let body: Value = big_value.json().await.unwrap();
    assert_error(code, &body, 413, "body_too_large");
    s.assert_unchanged(a2, b2, h2).await;
}

#[tokio::test]
async fn malformed_json_is_422_malformed_json() {
    let s = setup();
    let (a, b, h) = s.snapshot().await;
    let http = client();
    for body in [
        "{\"tx\": ",
        "[1,2,3]",
        "{\"tx\": {\"tx\": {}, \"signature\": \"00\"}}",
    ] {
        let response = http
            .post(format!("{}/v1/tx", s.node.base))
            .body(body)
            .send()
            .await
            .unwrap();
        let code = response.status().as_u16();
        let json: Value = response.json().await.unwrap();
        assert_error(code, &json, 422, "malformed_json");
    }
    s.assert_unchanged(a, b, h).await;
}

#[tokio::test]
async fn an_unknown_record_format_is_400_unknown_format() {
    let s = setup();
    let (a, b, h) = s.snapshot().await;
    let tx = s
        .alice
        .record_put_with_format(0, b"k", b"v", "no such format!");
    let (code, body) = submit(&s.node.base, &tx, true).await;
    assert_error(code, &body, 400, "unknown_format");
    s.assert_unchanged(a, b, h).await;
}
