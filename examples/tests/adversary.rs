//! The adversary suite: CarChain's privacy promise, tried as its adversaries would.
//!
//! A fleet (22 cars of 14 owners, some owners with two cars, 14 simulated days each
//! compressed into 2.5 s, lifetime counters that differ per car, a few trips a day at
//! different hours, some cars offline for days and then flushing a backlog) writes
//! through a logging proxy to a real `carchain-node` binary in shared mode; the owners
//! then read their cars' days back through the proxy. The test keeps the ground truth
//! (which pool address holds which car's records), and three adversaries each get only
//! what they would have:
//! - (a) the public ledger (every committed transaction and header, as served);
//! - (b) the node operator: every byte of its data directory and the full request log
//!   (all headers, bodies, client ip:port, timing), plus the ledger;
//! - (c) a third party replaying every token, ticket or payment id it saw.
//!
//! Passing means: no VID, owner address, owner RSA fingerprint or key, device key or
//! car account sits beside a pool address (same row, request or connection); the best
//! clustering attack's pairwise precision is at most its chance level + 0.05 (see
//! `support/adversary/score.rs` for chance, precisely); no replay buys anything. The
//! figures are printed in one block ("CarChain adversary suite: figures"); run with
//! `cargo test -p carchain-examples --test adversary -- --nocapture` to see them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

#[path = "support/adversary/mod.rs"]
mod adversary;
use carchain_testkit::node_process;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use adversary::fields::fields;
use adversary::figures::Figures;
use adversary::fleet::{self, FleetConfig};
use adversary::ledger;
use adversary::ledger_attack::{self, HUB};
use adversary::needles::{Identifier, Kind, address_forms, encodings};
use adversary::operator_attack;
use adversary::proxy::LoggingProxy;
use adversary::replay_attack;
use adversary::score::{Score, Truth, best, score_pairs};
use carchain_core::protocol::Network;
use chrono::NaiveDate;
use rsa::pkcs1::EncodeRsaPublicKey;

const CHAIN_ID: &str = "carchain-adversary";
/// Precision a clustering attack may reach above its chance level.
const MARGIN: f64 = 0.05;
/// Links a statistical attack needs before its precision counts.
const SAMPLE: usize = 20;

fn config() -> FleetConfig {
    FleetConfig {
        owners: 14,
        two_car_owners: 8,
        days: 14,
        first_day: NaiveDate::from_ymd_opt(2024, 5, 6).expect("date"),
        day: Duration::from_millis(2500),
        pool_size: 30,
        agent: "carchain-node".into(),
    }
}

/// Every identifier of the fleet, in every encoding.
fn identifiers(fleet: &fleet::Fleet) -> Vec<Identifier> {
    let mut ids = Vec::new();
    for (n, car) in fleet.cars.iter().enumerate() {
        let whose = format!("car {n}");
        let key = car.device.device_pubkey();
        let mut key_forms = encodings("compressed", &key.serialize());
        key_forms.extend(encodings("uncompressed", &key.serialize_uncompressed()));
        ids.push(Identifier {
            kind: Kind::Vid,
            whose: whose.clone(),
            forms: encodings("text", car.device.vid().as_bytes()),
        });
        ids.push(Identifier {
            kind: Kind::DeviceKey,
            whose: whose.clone(),
            forms: key_forms,
        });
        ids.push(Identifier {
            kind: Kind::CarAccount,
            whose,
            forms: address_forms(&car.device.account_address(Network::Regtest)),
        });
    }
    for (n, owner) in fleet.owners.iter().enumerate() {
        let whose = format!("owner {n}");
        let wallet = &owner.wallet;
        ids.push(Identifier {
            kind: Kind::OwnerAddress,
            whose: whose.clone(),
            forms: address_forms(&wallet.owner_address()),
        });
        let mut fingerprint = encodings(
            "sha256",
            &hex::decode(wallet.rsa_fingerprint()).expect("hex fingerprint"),
        );
        fingerprint.push(("text".into(), wallet.rsa_fingerprint().as_bytes().to_vec()));
        ids.push(Identifier {
            kind: Kind::OwnerFingerprint,
            whose: whose.clone(),
            forms: fingerprint,
        });
        let der = wallet
            .rsa_public_key()
            .to_pkcs1_der()
            .expect("pkcs1 der")
            .as_bytes()
            .to_vec();
        // 128 bytes from inside the modulus: in PKCS#1, SPKI or a bare modulus alike.
        let modulus = &der[16..144];
        let mut forms = encodings("pkcs1", &der);
        forms.extend(encodings("modulus", modulus));
        ids.push(Identifier {
            kind: Kind::OwnerRsaKey,
            whose,
            forms,
        });
    }
    ids
}

/// Copies the regular files of `from` into `to` (the node is idle: no block without
/// a transaction, so the copy is consistent).
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("copy dir");
    for entry in std::fs::read_dir(from).expect("data dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_adversary_links_a_cars_addresses_or_reuses_a_token() {
    let config = config();
    let setup = Instant::now();
    let owners = fleet::owners(&config);
    eprintln!(
        "setup: {} owner wallets in {:.1} s",
        owners.len(),
        setup.elapsed().as_secs_f64()
    );
    let funded: Vec<String> = owners.iter().map(|o| o.wallet.owner_address()).collect();
    let funds: Vec<(&str, u64)> = funded.iter().map(|a| (a.as_str(), 100_000_000)).collect();
    let node = node_process::start(CHAIN_ID, &funds, &["--block-time-ms", "100"]);
    let data_dir = node.log.parent().expect("node dir").join("node");
    let anchor = node.anchor();
    let proxy = LoggingProxy::start(&node.base).await;
    eprintln!(
        "setup: node listening at {:.1} s",
        setup.elapsed().as_secs_f64()
    );
    let cars_dir = tempfile::tempdir().expect("car stores");

    let started = Instant::now();
    let mut fleet = fleet::drive(&config, owners, &proxy.base, &anchor, cars_dir.path()).await;
    let reads_started = Instant::now();
    fleet::read_back(&config, &mut fleet, &proxy.base, &anchor).await;
    eprintln!(
        "fleet: read back in {:.1} s",
        reads_started.elapsed().as_secs_f64()
    );
    let fleet_secs = started.elapsed().as_secs_f64();
    let log = proxy.log();

    // The public ledger, and the ground truth's commit times from it.
    let public = ledger::export(&node.base, &data_dir, &node.operator_address).await;
    let mut truth = Truth::default();
    let car_of: std::collections::BTreeMap<&str, usize> = fleet
        .cars
        .iter()
        .enumerate()
        .flat_map(|(n, car)| car.addresses.iter().map(move |a| (a.as_str(), n)))
        .collect();
    for tx in &public.txs {
        for address in fields(&tx.tx, Network::Regtest).addresses {
            if let Some(car) = car_of.get(address.as_str()) {
                truth.add(&address, *car, tx.time_ms);
            }
        }
    }
    assert_eq!(
        truth.car_of.len(),
        car_of.len(),
        "every pool address the owners read is on the ledger"
    );

    // (a) The public ledger alone.
    let views = ledger_attack::views(&public, Network::Regtest);
    let links = ledger_attack::attack(&views, HUB);
    let ledger_scores = vec![
        score_pairs("exact links", &truth, &links.exact, 1),
        score_pairs("block order", &truth, &links.order, SAMPLE),
        score_pairs("block co-occurrence", &truth, &links.cooccurrence, SAMPLE),
        score_pairs("identical rare sizes", &truth, &links.sizes, SAMPLE),
    ];

    // (c) The token thief (the node still runs; it talks to the node directly).
    let replays = replay_attack::attack(&node.base, &log, &public).await;

    // (b) The operator: its files (copied while the node is idle) and the log.
    let copy = tempfile::tempdir().expect("copy");
    copy_dir(&data_dir, copy.path());
    drop(node);
    eprintln!(
        "attacks: ledger and replays done at {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let ids = identifiers(&fleet);
    let pool: BTreeSet<String> = truth.car_of.keys().cloned().collect();
    let found = operator_attack::attack(copy.path(), &log, &ids, &pool);
    let combined: ledger_attack::Pairs = found
        .log_exact
        .all
        .iter()
        .chain(&links.exact)
        .cloned()
        .collect();
    let operator_scores = vec![
        score_pairs("same connection", &truth, &found.log_exact.connection, 1),
        score_pairs("shared header value", &truth, &found.log_exact.header, 1),
        score_pairs("shared body bytes", &truth, &found.log_exact.body, 1),
        score_pairs("log exact links", &truth, &found.log_exact.all, 1),
        score_pairs("log + ledger exact links", &truth, &combined, 1),
        score_pairs("request order", &truth, &found.log_timing, SAMPLE),
    ];
    eprintln!(
        "attacks: operator done at {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let tally = operator_attack::tally(&ids, &found);
    // Two examples per kind of where an identifier sat beside records.
    let mut places: Vec<String> = Vec::new();
    let mut shown: std::collections::BTreeMap<Kind, usize> = Default::default();
    for (id, finding) in ids.iter().zip(&found.findings) {
        for place in &finding.linking_places {
            let count = shown.entry(id.kind).or_default();
            if *count < 2 {
                *count += 1;
                places.push(format!("{} of {}: {place}", id.kind.name(), id.whose));
            }
        }
    }
    let figures = Figures {
        fleet: (
            fleet.cars.len(),
            fleet.owners.len(),
            config.days,
            fleet.records,
            pool.len(),
            log.len(),
            public.txs.len(),
        ),
        ledger: ledger_scores.clone(),
        operator: operator_scores.clone(),
        identifiers: tally.clone(),
        identifier_places: places,
        replays: replays.clone(),
        fleet_secs,
    };
    println!("{}", figures.render());

    // The verdicts, all checked before any fails so the figures show in full.
    let mut failures = Vec::new();
    let judge = |who: &str, scores: &[Score], failures: &mut Vec<String>| {
        for score in scores.iter().filter(|s| s.beats_chance(MARGIN)) {
            failures.push(format!(
                "{who}: {} links addresses with precision {:.3} > chance {:.3} + {MARGIN}",
                score.name, score.precision, score.chance
            ));
        }
        if let Some(b) = best(scores) {
            eprintln!(
                "{who}: best attack {} ({:.3} vs chance {:.3})",
                b.name, b.precision, b.chance
            );
        }
    };
    judge("(a) ledger reader", &ledger_scores, &mut failures);
    judge("(b) node operator", &operator_scores, &mut failures);
    for (kind, (_, _, linking)) in &tally {
        if *linking > 0 {
            failures.push(format!(
                "(b) node operator: {linking} {} found beside pool addresses",
                kind.name()
            ));
        }
    }
    if replays.bought() > 0 {
        failures.push(format!(
            "(c) token thief: {} replays bought an answer",
            replays.bought()
        ));
    }
    assert!(
        failures.is_empty(),
        "privacy does not hold:\n{}",
        failures.join("\n")
    );
}
