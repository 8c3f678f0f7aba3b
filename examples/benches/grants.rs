//! The data-grants benchmark (plain `main`, no harness), against a real `carchain-node`
//! serving its HTTP API on loopback (in-process, built with the bench profile):
//!
//! 1. An insurer's priced request for a UBI score over 30 days of trips (30 x 4 trips x
//!    1,000 points): the owner's whole `Wallet::approve` (a cold wallet: reopened, empty
//!    epoch-key cache) from the call to the signed result, grant, answer and escrow
//!    declaration on the ledger; and, on a twin request, the same steps replayed one at
//!    a time with the public API (request checks, read + decrypt (which proves the dHashes),
//!    features + EVM + signature, submissions), so the split can be checked against
//!    the whole. Beside it, in the same run: the decryption primitives alone on the same
//!    records (one RSA unwrap per address-day, AEAD opens, JSON decoding), the read's
//!    HTTP calls without checks, the EVM alone, and a bare transfer submitted and
//!    waited for.
//! 2. A dealer's copy of 100 trip records (a plain copy: no payload is opened or
//!    re-encrypted): the owner's whole `approve` (cold wallet), and on a twin request its
//!    phases replayed (request checks, the sealed records listed from the ledger, the
//!    epoch keys unwrapped into a fresh cache, the 100 record keys re-wrapped with
//!    `rewrap_registered_record_key`, submissions). The re-wrap is set beside 100
//!    RSA-OAEP encryptions of a 32-byte key to the same provider key, measured in the
//!    same run (goal: about 1x), and so are the epoch keys plus the re-wrap. The stored
//!    envelopes are checked byte-identical after the dealer received its copy.
//!
//! Medians of `RUNS` iterations; a table on stdout and a JSON summary in
//! `target/bench-grants.json`. Run: `cargo bench -p carchain-examples --bench grants`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

#[path = "common/mod.rs"]
mod common;

#[path = "grants/baselines.rs"]
mod baselines;
#[path = "grants/phases.rs"]
mod phases;

use std::path::Path;
use std::time::{Duration, Instant};

use carchain_core::compute::{
    FeatureParams, ProgramOutput, ShippedProgram, trip_features, ubi_score_native,
};
use carchain_core::grants::provider::{RequestOutcome, RequestSpec};
use carchain_core::grants::{
    Delivery, GrantsLedger, Narrowing, Privilege, RequestTerms, ServiceProvider,
};
use carchain_core::trip::Trip;
use carchain_testkit::grants_setup::provider;
use carchain_testkit::{Mode, start_node};
use serde_json::json;

use baselines::{ReadPrimitives, bare_transfer, raw_fetch, read_primitives, rsa_encryptions};
use carchain_testkit::month::{DAYS, MONTH_TRIPS, TRIPS_PER_DAY, day, median, ms};
use common::setup::{BenchOwner, block_on, store_month};
use phases::{ComputePhases, CopyPhases, Owner, compute_in_phases, copy_in_phases};

/// Iterations of each measurement.
const RUNS: usize = 7;
/// What the insurer pays for a score.
const PRICE: u64 = 25_000;
/// Days a 100-record copy covers (25 days x 4 trips).
const COPY_DAYS: u32 = 25;
/// Records in the copy.
const COPY_RECORDS: usize = COPY_DAYS as usize * TRIPS_PER_DAY as usize;

fn compute_terms(code_hash: [u8; 32]) -> RequestTerms {
    RequestTerms {
        period: None,
        formats: vec!["trip-gps".into()],
        from: day(1),
        to: day(DAYS),
        privileges: vec![Privilege::LocationHistory],
        delivery: Delivery::Compute { code_hash },
    }
}

fn copy_terms() -> RequestTerms {
    RequestTerms {
        period: None,
        formats: vec!["trip-gps".into()],
        from: day(1),
        to: day(COPY_DAYS),
        privileges: vec![Privilege::LocationHistory],
        delivery: Delivery::Copy,
    }
}

async fn ask(
    who: &ServiceProvider,
    ledger: &GrantsLedger,
    owner: &str,
    terms: RequestTerms,
    price: u64,
) -> [u8; 32] {
    who.request(
        ledger,
        &RequestSpec {
            owner_address: owner.to_owned(),
            terms,
            purpose: "benchmark".into(),
            price,
            expires_at: None,
        },
    )
    .await
    .expect("request")
}

/// The median of each phase over the runs (each phase's own median).
fn median_of<T>(runs: &[T], phase: impl Fn(&T) -> Duration) -> Duration {
    median(runs.iter().map(phase).collect())
}

fn row(name: &str, value: Duration) {
    println!("| {name} | {value:.2?} |");
}

fn main() {
    block_on(async_main());
}

async fn async_main() {
    let owner = BenchOwner::restore();
    let keys = &owner.keys;
    let owner_secret = *keys.owner_key().secret_key();
    let insurer = provider(0x41);
    let dealer = provider(0x42);
    let node = start_node(
        &[
            (&owner.wallet.owner_address(), 10_000_000),
            (&insurer.address(), 100_000_000),
            (&dealer.address(), 100_000_000),
        ],
        Mode::Private,
    )
    .await;
    let ledger =
        GrantsLedger::new(node.client(), std::slice::from_ref(&node.base)).expect("ledger");
    let dir = tempfile::tempdir().expect("dir");
    let car = owner
        .paired_car(ledger.light(), &dir, "VIN-BENCH-GRANTS")
        .await;
    let vid = car.vid().to_owned();
    let month = store_month(&car, ledger.light(), MONTH_TRIPS).await;
    // The copy is of a second car holding exactly its 100 records (25 days): a day's
    // range read returns every record stored at that day's pool addresses, which for a
    // sub-range of the month includes records of other days sharing an address.
    let copy_car = owner
        .paired_car(ledger.light(), &dir, "VIN-BENCH-COPY")
        .await;
    let copied = store_month(&copy_car, ledger.light(), COPY_RECORDS).await;
    assert!(copied.iter().all(|(date, _)| *date <= day(COPY_DAYS)));
    let copy_vid = copy_car.vid().to_owned();
    let trips: Vec<Trip> = month.into_iter().map(|(_, trip)| trip).collect();

    let ubi = ShippedProgram::UbiScore.program_hash().expect("hash");
    insurer
        .register(&ledger, "Insurer", "pay-as-you-drive quotes", vec![ubi])
        .await
        .expect("register insurer");
    dealer
        .register(&ledger, "Dealer", "used-car valuations", vec![])
        .await
        .expect("register dealer");
    let owner_address = owner.wallet.owner_address();
    let reopen = || owner.reopen();

    // 1. A 30-day computation.
    let mut network = Vec::new();
    let (mut whole, mut split, mut prims, mut evm, mut transfer) = (
        Vec::new(),
        Vec::<ComputePhases>::new(),
        Vec::<ReadPrimitives>::new(),
        Vec::new(),
        Vec::new(),
    );
    for run in 0..RUNS {
        let request = ask(&insurer, &ledger, &owner_address, compute_terms(ubi), PRICE).await;
        let wallet = reopen();
        let t = Instant::now();
        let approval = wallet
            .approve(&ledger, &request, &vid, &Narrowing::default())
            .await
            .expect("approve");
        whole.push(t.elapsed());
        assert_eq!(approval.records.len(), trips.len());
        if run == 0 {
            let outcome = insurer
                .wait_for_result(&ledger, &request, Duration::from_secs(30))
                .await
                .expect("result");
            let RequestOutcome::Result(received) = outcome else {
                panic!("a computation delivers a result, got {outcome:?}");
            };
            let features: Vec<_> = trips
                .iter()
                .map(|t| trip_features(t, &FeatureParams::default()).expect("features"))
                .collect();
            assert_eq!(
                received.output(),
                Some(&ProgramOutput::UbiScore(ubi_score_native(&features))),
                "the delivered score is the one of the month's trips"
            );
        }

        let twin = ask(&insurer, &ledger, &owner_address, compute_terms(ubi), PRICE).await;
        let wallet = reopen();
        let owner_side = Owner {
            wallet: &wallet,
            keys,
            vid: &vid,
        };
        let phases = compute_in_phases(&owner_side, &ledger, &twin, &insurer).await;
        assert_eq!(phases.records, trips.len());
        split.push(phases);

        let stored = phases::fetch_stored(&ledger, &approval.records).await;
        prims.push(read_primitives(&stored, keys));
        let (fetch, seen) = raw_fetch(&node.base, &approval.records).await;
        assert_eq!(seen, trips.len());
        network.push(fetch);
        evm.push(phases::evm_only(&trips));
        transfer.push(bare_transfer(&ledger, &owner_secret, &insurer.address()).await);
    }

    // 2. A copy of 100 records.
    let (mut copy_whole, mut copy_split, mut rsa_base) =
        (Vec::new(), Vec::<CopyPhases>::new(), Vec::new());
    for run in 0..RUNS {
        let request = ask(&dealer, &ledger, &owner_address, copy_terms(), 0).await;
        let wallet = reopen();
        let t = Instant::now();
        let approval = wallet
            .approve(&ledger, &request, &copy_vid, &Narrowing::default())
            .await
            .expect("approve copy");
        copy_whole.push(t.elapsed());
        assert_eq!(approval.records.len(), COPY_RECORDS);
        if run == 0 {
            let stored = phases::fetch_stored(&ledger, &approval.records).await;
            let outcome = dealer
                .wait_for_result(&ledger, &request, Duration::from_secs(30))
                .await
                .expect("copy");
            let RequestOutcome::Copy(copy) = outcome else {
                panic!("a copy, got {outcome:?}");
            };
            assert_eq!(copy.records.len(), COPY_RECORDS);
            // The payloads were not touched: the stored envelopes are the car's.
            let reread = phases::fetch_stored(&ledger, &approval.records).await;
            assert_eq!(reread, stored);
        }

        let twin = ask(&dealer, &ledger, &owner_address, copy_terms(), 0).await;
        let wallet = reopen();
        let owner_side = Owner {
            wallet: &wallet,
            keys,
            vid: &copy_vid,
        };
        let phases = copy_in_phases(&owner_side, &ledger, &twin, &dealer).await;
        assert_eq!(phases.records, COPY_RECORDS);
        copy_split.push(phases);

        rsa_base.push(rsa_encryptions(&dealer, COPY_RECORDS));
    }

    let samples = |runs: &[Duration]| runs.iter().map(|d| ms(*d)).collect::<Vec<_>>();
    let raw = json!({
        "compute_approve_whole": samples(&whole),
        "compute_phases_sum": samples(&split.iter().map(ComputePhases::total).collect::<Vec<_>>()),
        "compute_submission": samples(&split.iter().map(|p| p.submit).collect::<Vec<_>>()),
        "copy_approve_whole": samples(&copy_whole),
        "copy_phases_sum": samples(&copy_split.iter().map(CopyPhases::total).collect::<Vec<_>>()),
        "copy_submission": samples(&copy_split.iter().map(|p| p.submit).collect::<Vec<_>>()),
        "copy_list": samples(&copy_split.iter().map(|p| p.list).collect::<Vec<_>>()),
        "copy_epoch_keys": samples(&copy_split.iter().map(|p| p.epoch_keys).collect::<Vec<_>>()),
        "copy_rewrap": samples(&copy_split.iter().map(|p| p.rewrap).collect::<Vec<_>>()),
        "rsa_oaep_100": samples(&rsa_base),
        "bare_transfer": samples(&transfer),
    });
    report_all(
        &Figures {
            records: trips.len(),
            whole: median(whole),
            checks: median_of(&split, |p| p.checks),
            read_decrypt: median_of(&split, |p| p.read_decrypt),
            compute: median_of(&split, |p| p.compute),
            submit: median_of(&split, |p| p.submit),
            split_total: median_of(&split, ComputePhases::total),
            evm: median(evm),
            rsa: median_of(&prims, |p| p.rsa),
            aead: median_of(&prims, |p| p.aead),
            json: median_of(&prims, |p| p.json),
            prims_total: median_of(&prims, ReadPrimitives::total),
            network: median(network),
            unwraps: prims.first().map_or(0, |p| p.unwraps),
            transfer: median(transfer),
            copy_whole: median(copy_whole),
            copy_checks: median_of(&copy_split, |p| p.checks),
            copy_list: median_of(&copy_split, |p| p.list),
            copy_epoch_keys: median_of(&copy_split, |p| p.epoch_keys),
            copy_rewrap: median_of(&copy_split, |p| p.rewrap),
            copy_keys_rewrap: median_of(&copy_split, |p| p.epoch_keys + p.rewrap),
            copy_submit: median_of(&copy_split, |p| p.submit),
            copy_split_total: median_of(&copy_split, CopyPhases::total),
            copy_addresses: copy_split.first().map_or(0, |p| p.addresses),
            copy_unwraps: copy_split.first().map_or(0, |p| p.unwraps),
            rsa_base: median(rsa_base),
        },
        raw,
    );
}

/// Every median the benchmark reports.
struct Figures {
    records: usize,
    whole: Duration,
    checks: Duration,
    read_decrypt: Duration,
    compute: Duration,
    submit: Duration,
    split_total: Duration,
    evm: Duration,
    rsa: Duration,
    aead: Duration,
    json: Duration,
    prims_total: Duration,
    network: Duration,
    unwraps: usize,
    transfer: Duration,
    copy_whole: Duration,
    copy_checks: Duration,
    copy_list: Duration,
    copy_epoch_keys: Duration,
    copy_rewrap: Duration,
    /// Each run's epoch keys + re-wrap, then the median.
    copy_keys_rewrap: Duration,
    copy_submit: Duration,
    copy_split_total: Duration,
    copy_addresses: usize,
    copy_unwraps: u64,
    rsa_base: Duration,
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn report_all(f: &Figures, samples: serde_json::Value) {
    // Submissions in a priced computation's approve: Grant, delivery put, DataResponse,
    // EscrowDeliver; in a free copy's: the first three.
    let compute_submissions = 4u32;
    let copy_submissions = 3u32;
    println!(
        "| approve a 30-day UBI computation ({} trips x 1,000 points) | median of {RUNS} |",
        f.records
    );
    println!("|---|---|");
    row(
        "`Wallet::approve`, whole (cold wallet, to the result on the ledger)",
        f.whole,
    );
    row(
        "phase: request checks (proven request, provider, escrow)",
        f.checks,
    );
    row(
        "phase: read + decrypt the trips (`get_kv_range`) + decoding",
        f.read_decrypt,
    );
    row("phase: features + EVM + owner signature", f.compute);
    row(
        "phase: submissions (Grant, delivery, DataResponse, EscrowDeliver)",
        f.submit,
    );
    row("sum of the phases (twin request)", f.split_total);
    println!(
        "| sum of the phases / whole | {:.2} |",
        ratio(f.split_total, f.whole)
    );
    row(
        "baseline: EVM alone (deploy + call, UBI over the month)",
        f.evm,
    );
    row(
        &format!("baseline: RSA unwraps ({} address-days)", f.unwraps),
        f.rsa,
    );
    row("baseline: AEAD opens", f.aead);
    row("baseline: JSON + trip decoding", f.json);
    row("baseline: decryption primitives summed", f.prims_total);
    println!(
        "| read + decrypt phase / decryption primitives | {:.2} |",
        ratio(f.read_decrypt, f.prims_total)
    );
    row("baseline: the read's HTTP calls, unchecked", f.network);
    println!(
        "| read + decrypt phase / (decryption primitives + HTTP) | {:.2} |",
        ratio(f.read_decrypt, f.prims_total + f.network)
    );
    row(
        "baseline: one bare transfer, submitted and in its block",
        f.transfer,
    );
    println!(
        "| submissions phase / {compute_submissions} bare transfers | {:.2} |",
        ratio(f.submit, f.transfer * compute_submissions)
    );
    println!();
    println!("| approve a copy of {COPY_RECORDS} trip records | median of {RUNS} |");
    println!("|---|---|");
    row("`Wallet::approve`, whole (cold wallet)", f.copy_whole);
    row("phase: request checks", f.copy_checks);
    row(
        &format!(
            "phase: list the sealed records (`records_at` on {} addresses, filtered)",
            f.copy_addresses
        ),
        f.copy_list,
    );
    row(
        &format!(
            "phase: epoch keys ({} RSA-OAEP decryptions, fresh cache)",
            f.copy_unwraps
        ),
        f.copy_epoch_keys,
    );
    row(
        "phase: re-wrap the record keys (`rewrap_registered_record_key`, keys cached)",
        f.copy_rewrap,
    );
    row(
        "phase: submissions (Grant, delivery, DataResponse)",
        f.copy_submit,
    );
    row("sum of the phases (twin request)", f.copy_split_total);
    println!(
        "| sum of the phases / whole | {:.2} |",
        ratio(f.copy_split_total, f.copy_whole)
    );
    row(
        &format!("baseline: {COPY_RECORDS} RSA-OAEP encryptions of a 32-byte key"),
        f.rsa_base,
    );
    println!(
        "| ratio re-wrap / baseline (goal about 1x: no payload re-encrypted) | {:.2}x |",
        ratio(f.copy_rewrap, f.rsa_base)
    );
    println!(
        "| ratio (epoch keys + re-wrap) / baseline | {:.2}x |",
        ratio(f.copy_keys_rewrap, f.rsa_base)
    );
    println!(
        "| ratio whole approve / baseline | {:.1}x |",
        ratio(f.copy_whole, f.rsa_base)
    );
    println!(
        "| submissions phase / {copy_submissions} bare transfers | {:.2} |",
        ratio(f.copy_submit, f.transfer * copy_submissions)
    );

    let summary = json!({
        "runs": RUNS,
        "statistic": "median",
        "unit": "ms",
        "compute_30_days": {
            "records": f.records,
            "approve_whole": ms(f.whole),
            "phases": {
                "request_checks": ms(f.checks),
                "read_decrypt": ms(f.read_decrypt),
                "features_evm_sign": ms(f.compute),
                "submission": ms(f.submit),
                "sum": ms(f.split_total),
            },
            "baselines": {
                "evm_deploy_call": ms(f.evm),
                "rsa_unwraps": ms(f.rsa),
                "rsa_unwrap_count": f.unwraps,
                "aead_opens": ms(f.aead),
                "json_decoding": ms(f.json),
                "decryption_primitives_sum": ms(f.prims_total),
                "http_unchecked": ms(f.network),
                "bare_transfer": ms(f.transfer),
            },
            "ratio_read_decrypt_to_primitives": ratio(f.read_decrypt, f.prims_total),
            "ratio_read_decrypt_to_primitives_and_http":
                ratio(f.read_decrypt, f.prims_total + f.network),
            "ratio_submission_to_transfers": ratio(f.submit, f.transfer * compute_submissions),
        },
        "copy_100_records": {
            "records": COPY_RECORDS,
            "approve_whole": ms(f.copy_whole),
            "phases": {
                "request_checks": ms(f.copy_checks),
                "list_sealed_records": ms(f.copy_list),
                "epoch_keys": ms(f.copy_epoch_keys),
                "rewrap": ms(f.copy_rewrap),
                "submission": ms(f.copy_submit),
                "sum": ms(f.copy_split_total),
            },
            "addresses_listed": f.copy_addresses,
            "epoch_key_unwraps": f.copy_unwraps,
            "epoch_keys_plus_rewrap": ms(f.copy_keys_rewrap),
            "baseline_rsa_oaep_encryptions": ms(f.rsa_base),
            "ratio_rewrap_to_baseline": ratio(f.copy_rewrap, f.rsa_base),
            "ratio_epoch_keys_plus_rewrap_to_baseline": ratio(f.copy_keys_rewrap, f.rsa_base),
            "ratio_whole_to_baseline": ratio(f.copy_whole, f.rsa_base),
            "ratio_phases_sum_to_whole": ratio(f.copy_split_total, f.copy_whole),
        },
        "samples": samples,
    });
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-grants.json");
    std::fs::write(
        &path,
        serde_json::to_vec_pretty(&summary).expect("summary json"),
    )
    .expect("write summary");
    eprintln!("wrote {}", path.display());
}
