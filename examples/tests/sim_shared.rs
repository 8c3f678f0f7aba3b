//! `car-sim --node URL` against a separately started `carchain-node` binary: on a
//! default (shared-mode) node, which charges for reads, a few cars pair (the owner funds
//! each car's account for its pairing read) and put their simulated records; every
//! record car-sim acknowledged is then read back by the owner with `carchain range` and
//! equals what was put. On a private node nothing is funded. The report carries the
//! sustained records/s and the acknowledged put latency (p50 <= p99 <= max).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod cli_run;
use carchain_testkit::node_process;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use carchain_core::device::CAR_READ_FUNDS;
use cli_run::{CARCHAIN, command, ok_json, text};
use serde_json::Value;

const CAR_SIM: &str = env!("CARGO_BIN_EXE_car-sim");
const CHAIN_ID: &str = "carchain-sim-e2e";
/// The published BIP39 vector the owner restores (funded at genesis).
const OWNER_WORDS: &str =
    "legal winner thank year wave sausage worth useful legal winner thank yellow";
/// Another published vector, never funded.
const UNFUNDED_WORDS: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

/// `carchain --wallet <wallet> --json wallet restore` with `words` on stdin; the owner
/// address.
fn restore_wallet(wallet: &Path, words: &str) -> String {
    let mut child = command(CARCHAIN)
        .arg("--wallet")
        .arg(wallet)
        .args(["--json", "wallet", "restore"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("carchain");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{words}\n").as_bytes())
        .expect("words");
    let restored = ok_json(&child.wait_with_output().expect("carchain"));
    restored["owner_address"]
        .as_str()
        .expect("owner address")
        .to_owned()
}

/// Checks a report's rate and latency figures are measured and ordered.
fn assert_figures(report: &Value) {
    let figure = |name: &str| {
        report[name]
            .as_f64()
            .unwrap_or_else(|| panic!("{name} in {report}"))
    };
    let (rate, p50, p99, max) = (
        figure("records_per_s"),
        figure("latency_p50_ms"),
        figure("latency_p99_ms"),
        figure("latency_max_ms"),
    );
    assert!(rate > 0.0, "{report}");
    assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{report}");
    // A record is acknowledged once its batch's block is committed, so the run lasted at
    // least as long as the slowest acknowledgement.
    assert!(figure("elapsed_s") * 1000.0 >= max, "{report}");
    assert_eq!(report["queued"], report["records"], "{report}");
    assert_eq!(report["remaining"], 0, "{report}");
}

/// Reads every record of the acknowledgement log back as the owner (`carchain range`
/// per car and format over the logged days) and checks it equals what was logged, no
/// record logged twice and none missing; the number of records read back.
fn read_back_acked(acked_file: &Path, wallet: &Path, base: &str, vids: &[String]) -> usize {
    // Every acknowledged record, by car and format: key -> value, and its days.
    let mut acked: BTreeMap<(String, String), BTreeMap<String, Value>> = BTreeMap::new();
    let mut days: Vec<String> = Vec::new();
    let log = std::fs::read_to_string(acked_file).expect("acknowledgement log");
    for line in log.lines() {
        let record: Value = serde_json::from_str(line).expect("log line");
        let vid = record["vid"].as_str().expect("vid").to_owned();
        assert!(vids.contains(&vid), "{vid}");
        let format = record["format"].as_str().expect("format").to_owned();
        days.push(record["date"].as_str().expect("date").to_owned());
        let previous = acked
            .entry((vid, format))
            .or_default()
            .insert(record["key"].to_string(), record["value"].clone());
        assert!(previous.is_none(), "a record acknowledged twice: {line}");
    }
    days.sort();
    let (first, last) = (days.first().expect("a day"), days.last().expect("a day"));

    // The owner reads each car's records back from the shared node (paying for the
    // reads from the owner account): exactly what was acknowledged, decrypted.
    let mut read_back = 0;
    for ((vid, format), records) in &acked {
        let output = command(CARCHAIN)
            .arg("--wallet")
            .arg(wallet)
            .args(["--node", base, "--json", "range", "--vid", vid])
            .args(["--from", first, "--to", last, "--format", format])
            .output()
            .expect("carchain range");
        let range = ok_json(&output);
        // Records of the car's other format share its day addresses; they are left
        // out by format, never reported as failing a check.
        for rejected in range["rejected"].as_array().expect("rejected") {
            let reason = rejected["reason"].as_str().expect("reason");
            assert!(reason.ends_with("is not the one asked for"), "{range}");
        }
        assert_eq!(range["missing"], 0, "{range}");
        let got: BTreeMap<String, Value> = range["records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|r| (r["key"].to_string(), r["value"].clone()))
            .collect();
        assert_eq!(&got, records, "{vid} {format}");
        read_back += got.len();
    }
    assert_eq!(
        read_back,
        log.lines().count(),
        "every logged record read back"
    );
    read_back
}

/// The owner's wallet restored from [`OWNER_WORDS`] as `owner.db` in `dir`, its owner
/// address, and a node run with `run_flags` funding it.
fn owner_and_node(
    dir: &tempfile::TempDir,
    run_flags: &[&str],
) -> (PathBuf, String, node_process::NodeProcess) {
    let wallet = dir.path().join("owner.db");
    let owner = restore_wallet(&wallet, OWNER_WORDS);
    let node = node_process::start(CHAIN_ID, &[(&owner, 1_000_000_000)], run_flags);
    (wallet, owner, node)
}

#[test]
fn car_sim_on_a_shared_node_every_acknowledged_record_reads_back() {
    let dir = tempfile::tempdir().expect("dir");
    let (wallet, owner, node) = owner_and_node(&dir, &[]);

    // An owner with no funds is told so, without a panic.
    let unfunded = dir.path().join("unfunded.db");
    restore_wallet(&unfunded, UNFUNDED_WORDS);
    let refused = command(CAR_SIM)
        .args(["--node", &node.base, "--records", "2", "--wallet"])
        .arg(&unfunded)
        .output()
        .expect("car-sim");
    let stderr = text(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(stderr.contains("has no funds"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let acked_file = dir.path().join("acked.jsonl");
    let output = command(CAR_SIM)
        .args(["--node", &node.base, "--cars", "3", "--records", "24"])
        .args([
            "--pool-size",
            "4",
            "--delivery-delay-ms",
            "50",
            "--json",
            "--wallet",
        ])
        .arg(&wallet)
        .arg("--acked")
        .arg(&acked_file)
        .output()
        .expect("car-sim");
    let report = ok_json(&output);
    assert!(
        !text(&output.stderr).contains(&OWNER_WORDS[..20]),
        "the words never show"
    );
    assert_eq!(
        report["mode"], "shared",
        "the default node is a shared one: {report}"
    );
    assert_eq!(report["records"], 24, "{report}");
    assert_eq!(report["cars"], 3);
    assert_eq!(report["owner_address"], owner.as_str());
    assert_eq!(
        report["car_read_funds"],
        3 * CAR_READ_FUNDS,
        "each car's account was funded for its pairing read: {report}"
    );
    assert_figures(&report);
    let vids = report_vids(&report);
    assert_eq!(vids.len(), 3);

    let read_back = read_back_acked(&acked_file, &wallet, &node.base, &vids);
    assert_eq!(read_back, 24);
}

#[test]
fn car_sim_on_a_private_node_funds_nothing_and_refuses_unbounded_runs() {
    let owner_address = {
        let dir = tempfile::tempdir().expect("dir");
        restore_wallet(&dir.path().join("w.db"), OWNER_WORDS)
    };
    let node = node_process::start(
        CHAIN_ID,
        &[(&owner_address, 1_000_000_000)],
        &["--mode", "private"],
    );
    let output = command(CAR_SIM)
        .args(["--node", &node.base, "--cars", "2", "--records", "6"])
        .args(["--pool-size", "4", "--delivery-delay-ms", "50", "--json"])
        .env("CARCHAIN_WORDS", OWNER_WORDS)
        .output()
        .expect("car-sim");
    let report = ok_json(&output);
    assert_eq!(report["mode"], "private", "{report}");
    assert_eq!(report["records"], 6, "{report}");
    assert_eq!(report["car_read_funds"], 0, "reads are free here: {report}");
    assert_figures(&report);

    for (args, needle) in [
        (&["--node", &node.base][..], "bounded"),
        (&["--node", &node.base, "--seconds", "0"][..], "--seconds"),
        (
            &["--node", &node.base, "--records", "5", "--cars", "0"][..],
            "--cars",
        ),
        (
            &["--node", &node.base, "--records", "5", "--chain-id", "x"][..],
            "go together",
        ),
    ] {
        let refused = command(CAR_SIM).args(args).output().expect("car-sim");
        let stderr = text(&refused.stderr);
        assert!(!refused.status.success(), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "`{needle}` in {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// Lines in the acknowledgement log so far (0 before car-sim created it).
/// The VIDs of the cars a car-sim report names.
fn report_vids(report: &Value) -> Vec<String> {
    report["vids"]
        .as_array()
        .expect("vids")
        .iter()
        .map(|v| v.as_str().expect("vid").to_owned())
        .collect()
}

fn acked_lines(file: &Path) -> usize {
    std::fs::read_to_string(file).map_or(0, |text| text.lines().count())
}

#[test]
fn car_sim_keeps_driving_through_five_node_kills_and_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("dir");
    let (wallet, _owner, mut node) = owner_and_node(&dir, &["--block-time-ms", "100"]);
    let acked_file = dir.path().join("acked.jsonl");
    let sim = command(CAR_SIM)
        .args(["--node", &node.base, "--cars", "3", "--days", "20"])
        .args(["--pool-size", "8", "--delivery-delay-ms", "20"])
        .args(["--drain-secs", "120", "--json", "--wallet"])
        .arg(&wallet)
        .arg("--acked")
        .arg(&acked_file)
        .spawn()
        .expect("car-sim");

    // Five times: once the cars have delivered more since the last restart, the node is
    // killed with SIGKILL, stays down a moment and starts again on its data.
    let mut seen = 0;
    for round in 0..5 {
        let waited = std::time::Instant::now();
        while acked_lines(&acked_file) <= seen {
            assert!(
                waited.elapsed() < std::time::Duration::from_secs(180),
                "round {round}: no delivery since the last restart; node log:\n{}",
                node.log_text()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        seen = acked_lines(&acked_file);
        node.kill();
        std::thread::sleep(std::time::Duration::from_millis(800));
        node.restart();
    }
    let output = sim.wait_with_output().expect("car-sim");
    let stderr = text(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let report = ok_json(&output);
    eprintln!("car-sim through five node kills: {report}");
    // Everything the cars queued over their 20 days was delivered in the end, and the
    // outages were felt (flushes that found no node and were tried again).
    assert_eq!(report["remaining"], 0, "{report}");
    assert_eq!(report["queued"], report["records"], "{report}");
    assert!(
        report["retried"].as_u64().expect("retried") >= 1,
        "{report}"
    );
    let records = report["records"].as_u64().expect("records") as usize;
    assert!(records > seen, "{report}");
    let vids = report_vids(&report);
    let read_back = read_back_acked(&acked_file, &wallet, &node.base, &vids);
    assert_eq!(read_back, records, "every acknowledged record reads back");
}

/// Cars of the fleet run; pairing them all takes well under the test's minute.
const FLEET: usize = 50;

#[test]
fn car_sim_pairs_a_fleet_at_once_and_the_node_holds_every_acknowledged_record() {
    let dir = tempfile::tempdir().expect("dir");
    // The default node: shared mode (each car's pairing read is funded), 200 ms blocks.
    let (wallet_path, owner, node) = owner_and_node(&dir, &[]);
    let acked_file = dir.path().join("acked.jsonl");
    let started = std::time::Instant::now();
    let output = command(CAR_SIM)
        .args([
            "--node",
            &node.base,
            "--cars",
            &FLEET.to_string(),
            "--days",
            "1",
        ])
        .args(["--pool-size", "4", "--delivery-delay-ms", "50", "--json"])
        .arg("--wallet")
        .arg(&wallet_path)
        .arg("--acked")
        .arg(&acked_file)
        .output()
        .expect("car-sim");
    let report = ok_json(&output);
    eprintln!(
        "car-sim --cars {FLEET} --days 1 in {:.1} s: {report}",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(report["cars"], FLEET, "{report}");
    assert_eq!(
        report["car_read_funds"],
        FLEET as u64 * CAR_READ_FUNDS,
        "{report}"
    );
    assert_figures(&report);
    assert!(
        report["cars_paired_per_s"].as_f64().expect("pairing rate") > 0.0,
        "{report}"
    );
    let vids = report_vids(&report);
    let distinct: std::collections::BTreeSet<&String> = vids.iter().collect();
    assert_eq!(distinct.len(), FLEET, "{report}");

    // Every acknowledged record, by car and format: key -> value.
    let mut acked: BTreeMap<(String, String), BTreeMap<String, Value>> = BTreeMap::new();
    let log = std::fs::read_to_string(&acked_file).expect("acknowledgement log");
    for line in log.lines() {
        let record: Value = serde_json::from_str(line).expect("log line");
        let key = (
            record["vid"].as_str().expect("vid").to_owned(),
            record["format"].as_str().expect("format").to_owned(),
        );
        let previous = acked
            .entry(key)
            .or_default()
            .insert(record["key"].to_string(), record["value"].clone());
        assert!(previous.is_none(), "a record acknowledged twice: {line}");
    }
    assert_eq!(
        log.lines().count() as u64,
        report["records"].as_u64().expect("records"),
        "one log line per acknowledged record"
    );

    // The owner's view, in process: every car is paired to the owner on the ledger
    // (proven) and in its wallet, and every acknowledged record reads back from the
    // node, decrypted, equal to what was put.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        use carchain_core::protocol::DeviceStatus;
        use carchain_core::record::FormatSpec;
        use carchain_core::wallet::Wallet;
        use futures_util::StreamExt;

        let wallet = Wallet::open(
            &wallet_path,
            carchain_examples::cli::Session::secrets_for(&wallet_path),
        )
        .expect("owner wallet");
        let light = wallet.paying_reads(node.client());
        let in_wallet: std::collections::BTreeSet<String> = wallet
            .devices()
            .expect("devices")
            .into_iter()
            .map(|d| d.vid)
            .collect();
        for vid in &vids {
            assert!(in_wallet.contains(vid), "{vid} in the owner's wallet");
            let state = light
                .device(vid)
                .await
                .expect("device read")
                .unwrap_or_else(|| panic!("{vid} is on the ledger"));
            assert_eq!(state.owner_address, owner, "{vid}");
            assert_eq!(state.status, DeviceStatus::Active, "{vid}");
        }
        let day = chrono::NaiveDate::from_ymd_opt(2024, 5, 6).expect("day");
        let all = serde_json::json!({});
        let reads = futures_util::stream::iter(acked.iter())
            .map(|((vid, format), records)| {
                let (wallet, light, all) = (&wallet, &light, &all);
                async move {
                    let spec = FormatSpec::builtins()
                        .into_iter()
                        .find(|spec| spec.name() == format)
                        .expect("a built-in format");
                    let range = wallet
                        .get_kv_range(light, vid, day, day, &spec, all, all, &[], None)
                        .await
                        .unwrap_or_else(|e| panic!("reading {vid} {format}: {e}"));
                    assert_eq!(range.missing, 0, "{vid} {format}");
                    assert!(range.rejected.is_empty(), "{vid} {format}");
                    let got: BTreeMap<String, Value> = range
                        .records
                        .iter()
                        .map(|r| (Value::Object(r.key.clone()).to_string(), r.value.clone()))
                        .collect();
                    assert_eq!(&got, records, "{vid} {format}");
                    got.len()
                }
            })
            .buffer_unordered(8)
            .collect::<Vec<usize>>()
            .await;
        assert_eq!(
            reads.iter().sum::<usize>(),
            log.lines().count(),
            "every acknowledged record read back"
        );
    });
}
