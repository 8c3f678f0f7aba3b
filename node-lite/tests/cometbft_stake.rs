//! Proof of stake under a real CometBFT engine: a one-validator CometBFT v0.38 network
//! (`scripts/cometbft testnet --validators 1`) driving `carchain-node run --consensus
//! cometbft`. The CarChain genesis stakes the running validator's key, so InitChain
//! gives it the staked power (CometBFT's `/validators` shows it from the first block); a
//! bond to a new ed25519 key adds that validator with the bonded power (kept below a
//! third of the total, so the chain goes on without it running) two blocks after the
//! bond's, and the stake reads back through the node with its proof; unbonding
//! everything takes the new validator out of CometBFT's set again. The SDK's light
//! client, anchored on the staked genesis validator, follows both set changes.
//!
//! CometBFT is built by `scripts/setup` (`scripts/cometbft install`); the test finds it
//! through `COMETBFT_BIN` or the cache path and fails, saying so, when it is absent.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod common;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use carchain_core::protocol::{Bond, TxBody, Unbond};
use carchain_testkit::cometbft::cometbft_bin;
use common::cometbft::{free_base_port, height, make_testnet, until, until_all_at};
use common::*;

/// The ed25519 consensus key of seed `seed`.
fn consensus_key(seed: u8) -> [u8; 32] {
    ed25519_consensus::SigningKey::from([seed; 32])
        .verification_key()
        .to_bytes()
}

/// The voting power CometBFT's latest validator set gives `key` (`None`: not in it).
async fn engine_power(rpc: &str, key: &[u8; 32]) -> Option<u64> {
    let (code, body) = get_json(&format!("{rpc}/validators?per_page=100")).await;
    if code != 200 {
        return None;
    }
    let wanted = BASE64.encode(key);
    body["result"]["validators"]
        .as_array()?
        .iter()
        .find(|v| v["pub_key"]["value"].as_str() == Some(wanted.as_str()))
        .and_then(|v| v["voting_power"].as_str()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bond_puts_a_new_validator_in_cometbft_s_set_and_an_unbond_takes_it_out() {
    let cometbft = cometbft_bin();
    let alice = Wallet::from_byte(0xa7);
    let temp = tempfile::tempdir().expect("temp dir");
    let net = temp.path().join("net");
    let base = free_base_port(40_000, 300, &["127.0.0.1"]);
    let mut network = make_testnet(&net, 1, base, &alice.address, &cometbft);
    // Stake the CometBFT validator's key at genesis: 10 tokens, power 10.
    let key_file = net.join("node0/cometbft/config/priv_validator_key.json");
    let key_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(key_file).expect("validator key"))
            .expect("key json");
    let running: [u8; 32] = BASE64
        .decode(key_json["pub_key"]["value"].as_str().expect("pub_key"))
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .expect("an ed25519 key");
    let genesis_path = net.join("node0/app/genesis.json");
    let mut genesis: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&genesis_path).expect("genesis"))
            .expect("genesis json");
    genesis["stake"] = serde_json::json!([{
        "validator": hex::encode(running),
        "delegator": alice.address,
        "amount": 10,
    }]);
    std::fs::write(&genesis_path, genesis.to_string()).expect("write genesis");

    network[0].start(&cometbft);
    let rpc = network[0].rpc.clone();
    let api = network[0].api().to_owned();
    let apis = [api.clone()];
    until_all_at(
        Duration::from_secs(60),
        "blocks are committed",
        &network,
        &apis,
        2,
    )
    .await;

    // InitChain answered the genesis stake: the running validator has power 10 (CometBFT's
    // own genesis gave it 1) from the first block on.
    let (_, first) = get_json(&format!("{rpc}/validators?height=1")).await;
    assert_eq!(first["result"]["total"], "1", "{first}");
    assert_eq!(
        first["result"]["validators"][0]["voting_power"], "10",
        "{first}"
    );
    assert_eq!(engine_power(&rpc, &running).await, Some(10));
    let newcomer = consensus_key(0x55);
    assert_eq!(engine_power(&rpc, &newcomer).await, None);

    // Bond 3 to a new key: the newcomer gets power 3, below a third of the total, so
    // the chain keeps committing without it.
    let bond = alice.sign(
        0,
        BASE_FEE,
        TxBody::Bond(Bond {
            validator: newcomer,
            amount: 3,
        }),
    );
    let (code, body) = submit(&api, &bond, true).await;
    assert_eq!(code, 200, "{body}");
    let bonded_at = body["height"].as_u64().expect("height");
    until(
        Duration::from_secs(30),
        "CometBFT lists the bonded validator",
        &network,
        || {
            let rpc = rpc.clone();
            async move { engine_power(&rpc, &newcomer).await == Some(3) }
        },
    )
    .await;
    // The update applies two blocks after the bond's block.
    let (_, early) = get_json(&format!("{rpc}/validators?height={}", bonded_at + 1)).await;
    assert_eq!(early["result"]["total"], "1", "{early}");
    let (_, applied) = get_json(&format!("{rpc}/validators?height={}", bonded_at + 2)).await;
    assert_eq!(applied["result"]["total"], "2", "{applied}");

    // The node serves the stake with its proof; CometBFT's Query path answers it too.
    let (code, answer) = get_json(&format!("{api}/v1/state/stake/{}", hex::encode(newcomer))).await;
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["value_json"]["power"], 3, "{answer}");
    assert!(answer["proof"].as_str().is_some_and(|p| !p.is_empty()));
    let (code, queried) = get_json(&format!(
        "{rpc}/abci_query?path=%22/stake/{}%22",
        hex::encode(newcomer)
    ))
    .await;
    assert_eq!(code, 200, "{queried}");
    assert_eq!(queried["result"]["response"]["code"], 0, "{queried}");

    // Unbonding everything removes it from CometBFT's set; the chain goes on.
    let unbond = alice.sign(
        1,
        BASE_FEE,
        TxBody::Unbond(Unbond {
            validator: newcomer,
            amount: 3,
        }),
    );
    let (code, body) = submit(&api, &unbond, true).await;
    assert_eq!(code, 200, "{body}");
    until(
        Duration::from_secs(30),
        "CometBFT drops the unbonded validator",
        &network,
        || {
            let rpc = rpc.clone();
            async move { engine_power(&rpc, &newcomer).await.is_none() }
        },
    )
    .await;
    let after = height(&api).await;
    until_all_at(
        Duration::from_secs(20),
        "blocks keep coming",
        &network,
        &apis,
        after + 2,
    )
    .await;

    // The light client anchored on the staked genesis set follows the set through both
    // changes (one validator, two, one again) with the engine's commits, and reads
    // Alice's account proven past the unbond.
    let anchor = carchain_core::light::TrustAnchor::from_hex(
        CHAIN_ID,
        carchain_core::protocol::Network::Regtest,
        &format!("{}:10", hex::encode(running)),
    )
    .expect("anchor");
    let light = carchain_core::light::LightClient::new(vec![api.clone()], anchor).expect("client");
    let verified = light
        .sync(&|_| {})
        .await
        .expect("the light client follows the set");
    assert!(verified > bonded_at + 2, "{verified}");
    let account = light.account(&alice.address).await.expect("a proven read");
    assert_eq!(account.nonce, 2);
    let (_, set) = get_json(&format!("{rpc}/validators?height={}", bonded_at + 2)).await;
    assert_eq!(set["result"]["total"], "2", "{set}");
}
