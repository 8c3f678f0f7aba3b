//! Fees without funders, tried as an adversary would, against a real `carchain-node`
//! on loopback whose phase-1 reserve is tiny and then drained: three cars of two owners
//! keep delivering because their owners bought fee stamps (one payment each) and handed
//! them to the cars; every put carries a stamp, the stamp escrow pays its fee.
//!
//! - A fourth car pairs after the reserve ran out: the owner's pairing offer pays with
//!   a stamp and carries stamps for the car, whose accept and records pay with them.
//! - A ledger reader finds that no pool address ever received a transfer or holds a
//!   balance, that every pool put's fee comes from the one escrow all cars share (no
//!   funder sets one car's addresses apart), and that no stamp key or stamp id repeats.
//! - A stamp replayed (exact transaction, another address, another chain's node) is
//!   refused with a stable code; a stamp copied from a put before it commits (what a
//!   thief sees in transit) pays nothing for the thief and stays good for its put.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

use carchain_testkit::node_process;
mod support;

#[path = "support/adversary/ledger.rs"]
#[allow(dead_code)]
mod ledger;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use bitcoin::secp256k1::SecretKey;
use carchain_core::device::{CarDevice, DeliveryPacing};
use carchain_core::light::LightClient;
use carchain_core::protocol::signing::{p2wpkh_address, public_key_of, secret_key_from_bytes};
use carchain_core::protocol::{
    FeeStamp, HashFunc, Network, RecordPut, SignedTransaction, Transaction, TxBody,
};
use carchain_core::store::InMemorySecretStore;
use carchain_core::tokens::OwnedStamp;
use carchain_core::wallet::Wallet;
use carchain_examples::sim::pairing::pair_sim_car;
use support::flows::{WORDS_A, WORDS_B, day, trip_on};

const CHAIN: &str = "carchain-stamps";
const POOL: usize = 6;
/// Small enough to run out after the pairings; the drainer empties what is left.
const PHASE1_RESERVE: &str = "60000";
const FUNDS: u64 = 10_000_000;

fn key(byte: u8) -> SecretKey {
    secret_key_from_bytes(&[byte; 32]).expect("key")
}

fn owner(dir: &tempfile::TempDir, name: &str, words: &str) -> Wallet {
    Wallet::restore(
        dir.path().join(format!("{name}.db")),
        Arc::new(InMemorySecretStore::new()),
        Network::Regtest,
        words,
        "",
    )
    .expect("wallet")
}

fn car(dir: &tempfile::TempDir, vid: &str) -> CarDevice {
    CarDevice::open(
        &dir.path().join(format!("{vid}.db")),
        Arc::new(InMemorySecretStore::new()),
        vid,
    )
    .expect("car")
    .with_delivery_pacing(DeliveryPacing {
        max_delay: Duration::from_millis(5),
    })
}

/// A record put by `signer` under `record_key` (a registration only), paying `fee`,
/// carrying `stamp`.
fn put_by(
    signer: &SecretKey,
    record_key: &[u8],
    nonce: u64,
    stamp: Option<FeeStamp>,
) -> SignedTransaction {
    let address = p2wpkh_address(&public_key_of(signer), Network::Regtest);
    Transaction {
        chain_id: CHAIN.into(),
        network: Network::Regtest,
        signer: public_key_of(signer),
        nonce,
        fee: 110,
        body: TxBody::RecordPut(RecordPut {
            address,
            key: record_key.to_vec(),
            format: "trip-gps".into(),
            hash_func: HashFunc::Sha256,
            d_hash: [1; 32],
            c_hash: [2; 32],
            size: 100,
            wallet: false,
            stamp,
        }),
    }
    .sign(signer)
    .expect("sign")
}

async fn refusal(light: &LightClient, tx: &SignedTransaction) -> String {
    match light.submit(tx, true).await {
        Ok(receipt) => panic!("accepted: {}", hex::encode(receipt.tx_id)),
        Err(err) => err.node_code().unwrap_or("not a node refusal").to_owned(),
    }
}

/// Queues one trip per day on `days` and flushes; the flush report.
async fn drive(car: &CarDevice, light: &LightClient, days: &[u32], session: i64) -> (u64, u64) {
    for (index, n) in days.iter().enumerate() {
        let date = day(*n);
        let trip = trip_on(date, session + index as i64, (31.2, 121.4));
        car.put_trip(&trip, 1, date).expect("queue");
    }
    let report = car.flush(light).await.expect("flush");
    (report.delivered, report.remaining)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cars_keep_writing_on_stamps_after_the_reserve_and_nothing_funds_a_pool_address() {
    let dir = tempfile::tempdir().expect("dir");
    let alice = owner(&dir, "alice", WORDS_A);
    let bob = owner(&dir, "bob", WORDS_B);
    let drainer = key(0x55);
    let drainer_address = p2wpkh_address(&public_key_of(&drainer), Network::Regtest);
    let node = node_process::start_with_init(
        CHAIN,
        &[
            (&alice.owner_address(), FUNDS),
            (&bob.owner_address(), FUNDS),
            (&drainer_address, FUNDS),
        ],
        &["--phase1-reserve", PHASE1_RESERVE],
        &["--block-time-ms", "50"],
    );
    let alice_light = alice.paying_reads(node.client());
    let bob_light = bob.paying_reads(node.client());
    alice_light.sync(&|_| {}).await.expect("sync");
    bob_light.sync(&|_| {}).await.expect("sync");

    // Pairing while the reserve lasts (its mailbox puts are reimbursed).
    let cars = [
        (car(&dir, "LSTAMPA1000000001"), &alice, &alice_light),
        (car(&dir, "LSTAMPA2000000002"), &alice, &alice_light),
        (car(&dir, "LSTAMPB1000000003"), &bob, &bob_light),
    ];
    let mut car_lights = Vec::new();
    for (car, owner, owner_light) in &cars {
        let car_light = car.paying_reads(node.client());
        pair_sim_car(owner, owner_light, car, &car_light, POOL, support::AGENT)
            .await
            .expect("pairing");
        car_lights.push(car_light);
    }

    // The drainer's one large registration takes whatever the reserve still holds.
    let light = node.client();
    let mut drain = put_by(&drainer, b"drain", 0, None);
    if let TxBody::RecordPut(put) = &mut drain.tx.body {
        put.size = 1_000_000;
    }
    drain.tx.fee = 1_000_010;
    let drain = drain.tx.sign(&drainer).expect("sign");
    light.submit(&drain, true).await.expect("drain");

    // Without stamps a car's put is refused now: nobody funds its address.
    let (delivered, remaining) = drive(&cars[2].0, &car_lights[2], &[1], 100).await;
    assert_eq!(
        (delivered, remaining),
        (0, 1),
        "an unstamped put went through"
    );

    // The owners buy stamps (one payment each) and hand them to their cars.
    let alice_stamps = alice.buy_fee_stamps(&alice_light, 13).await.expect("buy");
    let bob_stamps = bob.buy_fee_stamps(&bob_light, 6).await.expect("buy");
    assert_eq!((alice_stamps.len(), bob_stamps.len()), (13, 6));
    cars[0]
        .0
        .add_fee_stamps(&alice_stamps[..6])
        .expect("hand over");
    cars[1]
        .0
        .add_fee_stamps(&alice_stamps[6..12])
        .expect("hand over");
    cars[2].0.add_fee_stamps(&bob_stamps).expect("hand over");
    let spare: &OwnedStamp = &alice_stamps[12];

    // Every car delivers a few days, each on its own pool address, all on stamps.
    for (index, (car, _, _)) in cars.iter().enumerate() {
        let (delivered, remaining) =
            drive(car, &car_lights[index], &[2, 3, 4], 1_000 * index as i64).await;
        let backlog = u64::from(index == 2);
        assert_eq!((delivered, remaining), (3 + backlog, 0), "car {index}");
        assert_eq!(car.fee_stamps_held().expect("held"), 3 - backlog);
    }

    // A car paired after the reserve ran out: the owner's offer pays with a stamp and
    // brings the car stamps of its own (its accept, then its records).
    let late = car(&dir, "LSTAMPB2000000004");
    let late_light = late.paying_reads(node.client());
    pair_sim_car(&bob, &bob_light, &late, &late_light, POOL, support::AGENT)
        .await
        .expect("pairing after the reserve");
    assert_eq!(late.fee_stamps_held().expect("held"), 7);
    assert_eq!(drive(&late, &late_light, &[5, 6], 5_000).await, (2, 0));

    // The ledger reader.
    let public = ledger::export(&node.base, &node.data_dir(), &node.operator_address).await;
    let escrow = alice_light
        .stamp_offer()
        .await
        .expect("offer")
        .escrow_address;
    let mut pool_addresses = BTreeSet::new();
    let mut stamp_keys = BTreeSet::new();
    let mut stamp_tokens = BTreeSet::new();
    let mut stamped_puts = 0;
    for tx in &public.txs {
        let body = &tx.tx["tx"]["body"];
        if body["type"] == "record_put"
            && body["format"] == "trip-gps"
            && body["address"] != drainer_address.as_str()
        {
            let address = body["address"].as_str().expect("address").to_owned();
            let stamp = &body["stamp"];
            assert!(stamp.is_object(), "a pool put without a stamp: {body}");
            assert!(
                stamp_keys.insert(stamp["stamp_key"].to_string()),
                "a stamp key repeats"
            );
            assert!(
                stamp_tokens.insert(stamp["token"].to_string()),
                "a stamp repeats"
            );
            stamped_puts += 1;
            pool_addresses.insert(address);
        }
    }
    assert_eq!(stamped_puts, 12, "every delivered trip is a stamped put");
    // After the drain, every registration (records and pairing mailboxes alike) paid
    // with a stamp.
    let drained_at = public
        .txs
        .iter()
        .find(|tx| tx.tx["tx"]["body"]["address"] == drainer_address.as_str())
        .expect("the drain")
        .height;
    let after: Vec<_> = public
        .txs
        .iter()
        .filter(|tx| tx.height > drained_at && tx.tx["tx"]["body"]["type"] == "record_put")
        .collect();
    assert!(
        after
            .iter()
            .any(|tx| tx.tx["tx"]["body"]["format"] == "carchain-pairing")
    );
    for tx in after {
        assert!(
            tx.tx["tx"]["body"]["stamp"].is_object(),
            "an unstamped put after the reserve: {}",
            tx.tx
        );
    }
    assert!(pool_addresses.len() >= 6, "{pool_addresses:?}");
    let mut escrow_payers = BTreeSet::new();
    for tx in &public.txs {
        let body = &tx.tx["tx"]["body"];
        if body["type"] == "transfer" {
            let to = body["to"].as_str().expect("to");
            assert!(
                !pool_addresses.contains(to),
                "a transfer funded pool address {to}"
            );
            if to == escrow {
                escrow_payers.insert(tx.tx["tx"]["signer"].to_string());
            }
        }
    }
    // The escrow is paid by the owners only and pays for every car alike: the fee payer
    // of each pool put is that one escrow, so fees tell no car's addresses apart.
    assert_eq!(escrow_payers.len(), 2);
    for address in &pool_addresses {
        let account = light.account(address).await.expect("account");
        assert_eq!(account.balance, 0, "pool address {address} holds funds");
    }
    assert!(light.account(&escrow).await.expect("escrow").balance > 0);

    // Replays. The exact committed transaction: refused by its nonce.
    let committed = public
        .txs
        .iter()
        .rev()
        .find(|tx| tx.tx["tx"]["body"]["stamp"].is_object())
        .expect("a stamped put");
    let replayed: SignedTransaction =
        serde_json::from_value(committed.tx.clone()).expect("committed tx");
    let code = refusal(&light, &replayed).await;
    assert!(
        ["replay", "duplicate_record"].contains(&code.as_str()),
        "{code}"
    );
    // Its stamp copied onto a thief's put: bound to another put.
    let TxBody::RecordPut(seen) = &replayed.tx.body else {
        panic!("a put")
    };
    let thief = key(0x66);
    assert_eq!(
        refusal(&light, &put_by(&thief, b"t", 0, seen.stamp.clone())).await,
        "stamp_invalid"
    );
    // Its holder binding a spent stamp to another address: spent.
    let spent = &alice_stamps[0];
    let other = key(0x67);
    let rebound = spent.attach(CHAIN, &public_key_of(&other), b"again");
    assert_eq!(
        refusal(&light, &put_by(&other, b"again", 0, Some(rebound))).await,
        "stamp_spent"
    );
    // Stolen in transit: a put's stamp copied before the put commits buys the thief
    // nothing, and the put it was bound to still pays with it.
    let victim = key(0x68);
    let bound = spare.attach(CHAIN, &public_key_of(&victim), b"mine");
    assert_eq!(
        refusal(&light, &put_by(&thief, b"mine", 0, Some(bound.clone()))).await,
        "stamp_invalid"
    );
    light
        .submit(&put_by(&victim, b"mine", 0, Some(bound)), true)
        .await
        .expect("the victim's put pays with its own stamp");
    let victim_address = p2wpkh_address(&public_key_of(&victim), Network::Regtest);
    assert_eq!(
        light
            .account(&victim_address)
            .await
            .expect("account")
            .balance,
        0
    );
    // The spent set is public state: the stamp's id is there, with the height that spent it.
    let answer: serde_json::Value = reqwest::get(format!(
        "{}/v1/state/stamp/{}",
        node.base,
        hex::encode(spare.stamp_id())
    ))
    .await
    .expect("state")
    .json()
    .await
    .expect("json");
    assert!(answer["value_json"].as_u64().is_some(), "{answer}");

    // Another chain's node: its stamp key is another, so the stamp pays nothing there.
    let other_node = node_process::start("carchain-stamps-other", &[], &["--block-time-ms", "50"]);
    let other_light = other_node.client();
    let tx = Transaction {
        chain_id: "carchain-stamps-other".into(),
        ..put_by(&other, b"x", 0, None).tx
    };
    let TxBody::RecordPut(mut body) = tx.body.clone() else {
        panic!("a put")
    };
    body.stamp =
        Some(alice_stamps[1].attach("carchain-stamps-other", &public_key_of(&other), b"x"));
    let tx = Transaction {
        body: TxBody::RecordPut(body),
        ..tx
    }
    .sign(&other)
    .expect("sign");
    assert_eq!(refusal(&other_light, &tx).await, "stamp_invalid");
}
