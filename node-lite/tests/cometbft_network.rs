//! End-to-end over a real CometBFT network: four CometBFT v0.38 validators on
//! 127.0.0.1-4, each driving its own `carchain-node run --consensus cometbft` over ABCI.
//! A transfer and a record put submitted to one node commit and read back, proven, the
//! same (same headers, same app hash) through every node; a validator killed with SIGKILL
//! (CometBFT and its app) does not stop the chain (3 of 4 keep committing), and once
//! restarted it replays what it missed and agrees again.
//!
//! CometBFT is built by `scripts/setup` (`scripts/cometbft install`); the test finds it
//! through `COMETBFT_BIN` or the cache path and fails, saying so, when it is absent.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod common;

use std::time::{Duration, Instant};

use carchain_core::protocol::{Canonical, RecordRegistration, SignedHeader};
use carchain_testkit::cometbft::cometbft_bin;
use common::cometbft::{free_base_port, height, make_testnet, until_all_at};
use common::*;
use serde_json::Value;

const VALIDATORS: usize = 4;

/// The signed header at `height` as a node serves it.
async fn header_at(api: &str, height: u64) -> SignedHeader {
    let (code, body) = get_json(&format!("{api}/v1/headers?from={height}&limit=1")).await;
    assert_eq!(code, 200, "{body}");
    let headers: Vec<SignedHeader> =
        serde_json::from_value(body["headers"].clone()).expect("headers");
    headers.into_iter().next().expect("a header at that height")
}

/// CometBFT's app hash in its block `height` (hex, upper case), once it has that block.
async fn engine_app_hash(rpc: &str, height: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (code, body) = get_json(&format!("{rpc}/block?height={height}")).await;
        if code == 200 {
            return body["result"]["block"]["header"]["app_hash"]
                .as_str()
                .expect("app_hash")
                .to_owned();
        }
        assert!(Instant::now() < deadline, "no block {height}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The record registration under `(address, key)`, proven against the node's headers.
async fn record_on(api: &str, address: &str, key: &[u8]) -> Option<RecordRegistration> {
    let (code, answer) = get_json(&format!(
        "{api}/v1/state/record/{address}/{}",
        hex::encode(key)
    ))
    .await;
    assert_eq!(code, 200, "{answer}");
    let header = header_at(api, answer["height"].as_u64().expect("height")).await;
    assert_eq!(answer["state_root"], hex::encode(header.header.state_root));
    answer["value"].as_str().map(|text| {
        RecordRegistration::from_canonical(&hex::decode(text).expect("hex")).expect("registration")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_validators_agree_survive_a_killed_one_and_it_catches_up() {
    let cometbft = cometbft_bin();
    let alice = Wallet::from_byte(0xa1);
    let bob = Wallet::from_byte(0xb2);
    let temp = tempfile::tempdir().expect("temp dir");
    let net = temp.path().join("net");
    let hosts: Vec<String> = (1..=VALIDATORS).map(|i| format!("127.0.0.{i}")).collect();
    let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let base = free_base_port(30_000, 400, &hosts);
    let mut network = make_testnet(&net, VALIDATORS, base, &alice.address, &cometbft);
    let init = std::fs::read_to_string(net.join("init.txt")).expect("init output");
    assert!(init.contains("validator_pubkey:"), "{init}");
    // The light client's anchor: the engine's genesis validators, whose signatures
    // certify every header (`/v1/light` serves the engine's commits).
    let validator_key = cometbft_anchor(&net.join("node0/cometbft/config/genesis.json"));

    assert_eq!(network.len(), VALIDATORS);
    for validator in &mut network {
        validator.start(&cometbft);
    }
    let apis: Vec<String> = network.iter().map(|v| v.api().to_owned()).collect();
    until_all_at(
        Duration::from_secs(60),
        "every node commits blocks",
        &network,
        &apis,
        2,
    )
    .await;

    // Every node's status names the engine's genesis validators as the trust anchor (what
    // a client that pins the anchor on first use, like the CLI, starts from).
    let members = |text: &str| {
        let mut items: Vec<String> = text.split(',').map(str::to_owned).collect();
        items.sort();
        items
    };
    for api in &apis {
        let named = status(api).await["validator"]
            .as_str()
            .expect("validator")
            .to_owned();
        assert_eq!(members(&named), members(&validator_key), "{api}");
    }

    // A transfer through node 0 answers once committed, and a record put through the
    // batch path of node 1.
    let (code, body) = submit(&apis[0], &alice.transfer(0, &bob.address, 5_000), true).await;
    assert_eq!(code, 200, "{body}");
    let transfer_height = body["height"].as_u64().expect("committed height");
    let value = b"odometer 12345 km".to_vec();
    let put = alice.record_put(1, b"trip/1", &value);
    let (code, body) = put_records(&apis[1], &[record_item(&put, &value, None)]).await;
    assert_eq!(code, 200, "{body}");
    let put_height = body["results"][0]["height"]
        .as_u64()
        .unwrap_or_else(|| panic!("record committed: {body}"));
    assert_eq!(body["results"][0]["outcome"], "stored", "{body}");

    // A refused transaction keeps its stable code through CheckTx.
    let (code, body) = submit(&apis[2], &alice.transfer(0, &bob.address, 1), true).await;
    assert_error(code, &body, 409, "replay");

    // A batch is handed to the engine without waiting for each CheckTx in turn (the node
    // hears them as the engine's application): an item CheckTx refuses (a replayed
    // nonce) answers its own stable code, and the items around it are stored.
    let carol = Wallet::from_byte(0xc3);
    let values: Vec<Vec<u8>> = (0..3u8).map(|i| vec![i; 64]).collect();
    let batch = [
        carol.record_put(0, b"trip/0", &values[0]),
        carol.record_put(0, b"trip/replayed", &values[1]),
        carol.record_put(1, b"trip/1", &values[2]),
    ];
    let items: Vec<Value> = batch
        .iter()
        .zip(&values)
        .map(|(put, value)| record_item(put, value, None))
        .collect();
    let (code, body) = put_records(&apis[3], &items).await;
    assert_eq!(code, 200, "{body}");
    let results = body["results"].as_array().expect("results");
    assert_eq!(results[0]["outcome"], "stored", "{body}");
    assert_eq!(results[1]["error"]["code"], "replay", "{body}");
    assert_eq!(results[2]["outcome"], "stored", "{body}");

    // Every node holds both, proven against its own headers, and the same chain.
    let top = transfer_height.max(put_height);
    until_all_at(
        Duration::from_secs(30),
        "every node reaches the put's block",
        &network,
        &apis,
        top,
    )
    .await;
    // The SDK's light client verifies the engine's commits (4 validators' signatures)
    // through any node and reads the transfer proven.
    let anchor = carchain_core::light::TrustAnchor::from_hex(
        CHAIN_ID,
        carchain_core::protocol::Network::Regtest,
        &validator_key,
    )
    .expect("anchor");
    let light = carchain_core::light::LightClient::new(apis.clone(), anchor).expect("client");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let verified = light
            .sync(&|_| {})
            .await
            .expect("the light client verifies the engine's light blocks");
        if verified >= top {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "verified only {verified} < {top}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let account = light.account(&bob.address).await.expect("a proven read");
    assert_eq!(account.balance, 5_000);
    assert!(light.dropped_endpoints().is_empty());
    let reference = header_at(&apis[0], top).await;
    for (validator, api) in network.iter().zip(&apis) {
        let account = proven_account(api, &validator_key, &bob.address).await;
        assert_eq!(
            account.map(|a| a.balance),
            Some(5_000),
            "node {}",
            validator.index
        );
        let registration = record_on(api, &alice.address, b"trip/1").await;
        assert_eq!(
            registration.map(|r| r.put.c_hash),
            Some(carchain_core::protocol::hashing::sha256(&[&value])),
            "node {}",
            validator.index
        );
        assert_eq!(
            header_at(api, top).await,
            reference,
            "node {}",
            validator.index
        );
        // CometBFT's next header carries the ledger's state root as the app hash.
        assert_eq!(
            engine_app_hash(&validator.rpc, top + 1)
                .await
                .to_lowercase(),
            hex::encode(reference.header.state_root),
            "node {}",
            validator.index
        );
    }

    // ABCI Query through CometBFT's RPC: the account with its state proof operation.
    let (code, body) = get_json(&format!(
        "{}/abci_query?path=%22/account/{}%22",
        network[2].rpc, bob.address
    ))
    .await;
    assert_eq!(code, 200, "{body}");
    let response = &body["result"]["response"];
    assert_eq!(response["code"], 0, "{body}");
    let value = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        response["value"].as_str().expect("value"),
    )
    .expect("base64");
    let account = carchain_core::protocol::AccountState::from_canonical(&value).expect("account");
    assert_eq!(account.balance, 5_000);
    assert_eq!(
        response["proofOps"]["ops"][0]["type"], "carchain.jmt",
        "{body}"
    );

    // SIGKILL validator 3 while transfers go in through node 1: every one commits.
    let sender = apis[1].clone();
    let payer = alice.clone();
    let payee = bob.address.clone();
    let submissions = tokio::spawn(async move {
        let mut heights = Vec::new();
        for nonce in 2..10u64 {
            let (code, body) = submit(&sender, &payer.transfer(nonce, &payee, 10), true).await;
            assert_eq!(code, 200, "transfer {nonce}: {body}");
            heights.push(body["height"].as_u64().expect("height"));
        }
        heights
    });
    let before_kill = height(&apis[0]).await;
    until_all_at(
        Duration::from_secs(20),
        "a submission commits",
        &network,
        &apis[..1],
        before_kill + 1,
    )
    .await;
    network[3].kill();
    let heights = submissions.await.expect("submissions");
    assert_eq!(heights.len(), 8);
    let last = *heights.iter().max().expect("heights");
    let after_kill = height(&apis[0]).await;
    until_all_at(
        Duration::from_secs(20),
        "blocks keep coming with 3 of 4",
        &network,
        &apis[..1],
        after_kill + 3,
    )
    .await;

    // Restarted, validator 3 replays what it missed and agrees again.
    let cometbft_path = cometbft.clone();
    network[3].start(&cometbft_path);
    let restarted = network[3].api().to_owned();
    let target = height(&apis[0]).await;
    until_all_at(
        Duration::from_secs(60),
        "the restarted validator catches up",
        &network,
        std::slice::from_ref(&restarted),
        target,
    )
    .await;
    assert!(target >= last);
    assert_eq!(
        header_at(&restarted, last).await,
        header_at(&apis[0], last).await
    );
    let account = proven_account(&restarted, &validator_key, &bob.address).await;
    assert_eq!(account.map(|a| a.balance), Some(5_000 + 8 * 10));
    let (_, body): (u16, Value) = get_json(&format!("{}/status", network[3].rpc)).await;
    assert!(
        body["result"]["sync_info"]["latest_block_height"].is_string(),
        "{body}"
    );
}
