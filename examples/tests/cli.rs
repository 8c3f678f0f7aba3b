//! The `carchain` CLI against a separately started `carchain-node` binary (`init`, then
//! `run` on a free loopback port, default shared mode: reads are paid for, see
//! [`node_process`]): scripted sessions (wallet new or restore, a car's pairing code,
//! device pair + car pair, puts, range, get, trips, export, an export archive and its
//! offline verification, node status, balance, a new
//! pool, a provider's registration and request, approval, grants, revocation), bad
//! flags and bad input giving clear messages and meaningful exit codes without a panic,
//! every value the core accepts passed on (a key or value as the design writes it, a
//! custom format, a value longer than a command line from stdin or a file, pages,
//! upper-case addresses), and the recovery words never reaching stderr. Runs that only
//! need an exit code and a message are tables of [`Case`]s. `car-sim --node` has its
//! own tests (`sim_shared.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod cli_run;
use carchain_testkit::node_process;
mod support;

use std::path::Path;

use cli_run::{
    Case, Flags, ok_json, owned, pair, run, run_async, run_table, run_table_async, text,
};
use serde_json::{Value, json};
use support::flows::{WORDS_A, WORDS_B, day, trip_on};
use support::{AGENT, CHAIN_ID};

const VID: &str = "LSVCLI2024000001";

/// The first words of a phrase must never show on stderr.
fn assert_no_words(stderr: &str, words: &str) {
    let first_three: Vec<&str> = words.split_whitespace().take(3).collect();
    assert!(
        !stderr.contains(&first_three.join(" ")),
        "recovery words on stderr: {stderr}"
    );
}

fn s<S: AsRef<str>>(parts: &[S]) -> Vec<String> {
    owned(parts)
}

/// `put --car CAR --vid VID --format FORMAT.. --key KEY --date DATE` and `value` (the
/// value flags); `format` is the format's name, then `--fields ..` when custom.
fn put(car: &str, format: &[&str], key: &str, date: &str, value: &[&str]) -> Vec<String> {
    let mut args = s(&["put", "--car", car, "--vid", VID, "--format"]);
    args.extend(s(format));
    args.extend(s(&["--key", key, "--date", date]));
    args.extend(s(value));
    args
}

/// `range --vid VID --from FROM --to TO --format FORMAT..` and `extra`.
fn range(vid: &str, (from, to): (&str, &str), format: &[&str], extra: &[&str]) -> Vec<String> {
    let mut args = s(&[
        "range", "--vid", vid, "--from", from, "--to", to, "--format",
    ]);
    args.extend(s(format));
    args.extend(s(extra));
    args
}

/// `get --vid VID --date DATE --format FORMAT.. --key KEY` and `extra`.
fn get(date: &str, format: &[&str], key: &str, extra: &[&str]) -> Vec<String> {
    let mut args = s(&["get", "--vid", VID, "--date", date, "--format"]);
    args.extend(s(format));
    args.extend(s(&["--key", key]));
    args.extend(s(extra));
    args
}

/// `trips VERB --vid VID --from FROM --to TO` and `extra`.
fn trips(verb: &str, (from, to): (&str, &str), extra: &[&str]) -> Vec<String> {
    let mut args = s(&["trips", verb, "--vid", VID, "--from", from, "--to", to]);
    args.extend(s(extra));
    args
}

#[test]
fn bad_flags_are_usage_errors_with_the_usage() {
    run_table(&[
        Case::new(&["wallet", "new", "--bogus"], 2, "Usage:"),
        Case::new(&["get", "--vid", "V"], 2, "Usage:"),
        Case::new(&["wallet", "new", "--words", "13"], 2, "invalid value '13'"),
        Case::new(&["wallet", "restore", "abandon", "ability"], 2, "Usage:"),
        Case::new(&["frobnicate"], 2, "Usage:"),
        Case::new(&["--wallet"], 2, "a value is required"),
        Case::new(
            &range(
                "V",
                ("2024-05-06", "2024-05-06"),
                &["carvio"],
                &["--limit", "many"],
            ),
            2,
            "invalid value 'many'",
        ),
        // A put without any value flag.
        Case::new(
            &put("c.db", &["carvio"], "{}", "2024-05-06", &[]),
            2,
            "--value",
        ),
        Case::new(&["--help"], 0, "Exit codes"),
    ]);
}

#[test]
fn wallet_new_prints_the_words_once_on_stdout_and_keeps_the_key_file_private() {
    let dir = tempfile::tempdir().expect("dir");
    let wallet = dir.path().join("w.db");
    let wallet = wallet.to_str().expect("path");
    let output = Case::new(
        &[
            "--wallet", wallet, "--json", "wallet", "new", "--words", "24",
        ],
        0,
        "only this once",
    )
    .run();
    let doc = ok_json(&output);
    let words = doc["words"].as_str().expect("words");
    assert_eq!(words.split_whitespace().count(), 24);
    assert!(
        doc["warning"]
            .as_str()
            .expect("warning")
            .contains("only this once")
    );
    assert_no_words(&text(&output.stderr), words);
    let address = doc["owner_address"].as_str().expect("address").to_owned();
    assert!(address.starts_with("bcrt1q"), "{address}");

    // The address is shown again, the words never; a second `new` is refused.
    let outputs = run_table(&[
        Case::new(&["--wallet", wallet, "wallet", "address"], 0, &address),
        Case::new(&["--wallet", wallet, "wallet", "new"], 3, "already exists"),
    ]);
    // A network named in any case, as the core reads network names.
    let other = dir.path().join("t.db");
    let other = other.to_str().expect("path");
    run_table(&[Case::new(
        &["--wallet", other, "--network", "TestNet", "wallet", "new"],
        0,
        "owner address tb1q",
    )]);
    assert!(!text(&outputs[0].stdout).contains(words));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key_file = format!("{wallet}.key");
        let mode = std::fs::metadata(&key_file)
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(
            !std::fs::read_to_string(&key_file)
                .expect("read")
                .contains(words),
            "the key file holds the sealing key, not the words"
        );
    }
}

#[test]
fn bad_recovery_words_are_refused_without_echoing_them() {
    let dir = tempfile::tempdir().expect("dir");
    let wallet = dir.path().join("w.db");
    let wallet = wallet.to_str().expect("path");
    let wrong = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon";
    let restore = ["--wallet", wallet, "wallet", "restore"];
    let outputs = run_table(&[
        Case::new(&restore, 3, "checksum").stdin(wrong),
        Case::new(&restore, 3, "no recovery words").stdin(""),
        Case::new(
            &["--wallet", wallet, "wallet", "address"],
            3,
            "no wallet at",
        ),
        Case::new(&["wallet", "address"], 2, "--wallet PATH"),
    ]);
    assert_no_words(&text(&outputs[0].stderr), wrong);
    assert!(
        !Path::new(wallet).exists(),
        "a refused restore leaves no wallet"
    );
}

#[test]
fn a_backup_restores_into_the_same_words_only() {
    let dir = tempfile::tempdir().expect("dir");
    let path = |name: &str| dir.path().join(name).to_str().expect("path").to_owned();
    let (first, phone, stranger, backup) =
        (path("a.db"), path("b.db"), path("c.db"), path("w.ccbackup"));
    let restores: Vec<Case> = [(&first, WORDS_A), (&phone, WORDS_A), (&stranger, WORDS_B)]
        .into_iter()
        .map(|(wallet, words)| {
            Case::new(&["--wallet", wallet, "wallet", "restore"], 0, "restored").stdin(words)
        })
        .collect();
    run_table(&restores);
    let written = run(
        &[
            "--wallet", &first, "--json", "wallet", "backup", "--out", &backup,
        ],
        None,
    );
    assert_eq!(ok_json(&written)["backup"], backup.as_str());
    let restore_backup = |wallet: &str, from: &str| {
        s(&[
            "--wallet",
            wallet,
            "--json",
            "wallet",
            "restore-backup",
            "--from",
            from,
        ])
    };
    let restored = run_table(&[Case::new(&restore_backup(&phone, &backup), 0, "devices")]);
    assert_eq!(ok_json(&restored[0])["devices"], 0);
    let bytes = std::fs::read(&backup).expect("backup");
    let cut = path("cut.ccbackup");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("cut");
    run_table(&[
        Case::new(
            &restore_backup(&stranger, &backup),
            3,
            "backup.wrong_wallet",
        ),
        Case::new(&restore_backup(&phone, &cut), 3, "backup.truncated"),
        Case::new(&restore_backup(&phone, &path("none")), 1, "backup file"),
    ]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_session_pair_put_range_trips_and_status() {
    let dir = tempfile::tempdir().expect("dir");
    let path = |name: &str| dir.path().join(name).to_str().expect("path").to_owned();
    let (wallet, car) = (path("owner.db"), path("car.db"));
    let car_path = dir.path().join("car.db");

    // The owner restores the wallet from words on stdin; nothing needs a node yet.
    let restored = run_async(
        s(&["--wallet", &wallet, "--json", "wallet", "restore"]),
        Some(format!("{WORDS_A}\n")),
    )
    .await;
    let mut stderr_seen = text(&restored.stderr);
    let owner = ok_json(&restored)["owner_address"]
        .as_str()
        .expect("owner")
        .to_owned();
    let funded = 1_000_000_000_u64;
    let node = node_process::start(CHAIN_ID, &[(&owner, funded)], &["--agent", AGENT]);
    let base = node.base.clone();
    let w = Flags::new(&["--wallet", &wallet, "--node", &base, "--json"]);
    let c = Flags::new(&["--node", &base, "--json"]);

    // The car shows its pairing code; the owner pairs while the car waits for the offer.
    let (paired, car_side) = pair(&w, &c, (&car, VID), "test car", AGENT).await;
    stderr_seen.push_str(&text(&paired.stderr));
    assert_eq!(ok_json(&car_side)["paired"], true);
    let info = ok_json(&paired);
    assert_eq!(info["vid"], VID);
    assert_eq!(info["pool_size"], 8);
    assert!(
        text(&car_side.stderr).contains("trust on first use"),
        "the car says it trusted the node's anchor on first use"
    );
    assert!(car_path.with_extension("db.anchor.json").exists());

    let listed = w.ok(&["device", "list"]).await;
    assert_eq!(listed[0]["vid"], VID);
    assert_eq!(listed[0]["name"], "test car");
    assert_eq!(listed[0]["status"], "paired");

    // The car puts a parking violation and a trip of 2024-05-06. The value is written as
    // the design writes values (`"name"=value`, with its format), which put accepts.
    let violation = json!({"CARVIO_ID": 7001});
    let fine = json!({"price": 200, "datetime": 20240506, "lat": 31.23, "lng": 121.47,
                      "format": "carvio"});
    let fine_as_the_design_writes_it =
        r#"{"price"=200, "datetime"=20240506, "lat"=31.23, "lng"=121.47, "format"="carvio"}"#;
    let carvio = ["carvio"];
    let put_fine = put(
        &car,
        &carvio,
        &violation.to_string(),
        "2024-05-06",
        &["--value", fine_as_the_design_writes_it],
    );
    let put =
        |format: &[&str], key: &str, value: &[&str]| put(&car, format, key, "2024-05-06", value);
    let stored = c.ok(&put_fine).await;
    assert_eq!(stored["delivered"], 1);
    assert_eq!(stored["remaining"], 0);
    let trip = trip_on(day(6), 41, (31.2, 121.4));
    let trip_key = Value::Object(trip.to_key().expect("key"));
    let trip_value = trip.to_value(1).expect("value");
    let stored = c
        .ok(&put(
            &["trip-gps"],
            &trip_key.to_string(),
            &["--value", &trip_value.to_string()],
        ))
        .await;
    assert_eq!(stored["delivered"], 1);

    // The owner reads them back: range, get with columns, trips list / show / export.
    let day_6 = ("2024-05-06", "2024-05-06");
    let read = w
        .ok(&range(VID, ("2024-05-05", "2024-05-07"), &carvio, &[]))
        .await;
    let records = read["records"].as_array().expect("records");
    assert_eq!(records.len(), 1, "{read}");
    assert_eq!(records[0]["key"], violation);
    assert_eq!(records[0]["value"], fine);

    let got = w
        .ok(&get(
            "2024-05-06",
            &carvio,
            r#"{"CARVIO_ID": 7001}"#,
            &["--columns", "price"],
        ))
        .await;
    assert_eq!(got["value"], json!({"price": 200}));
    let none = w
        .ok(&get("2024-05-06", &carvio, r#"{"CARVIO_ID": 1}"#, &[]))
        .await;
    assert_eq!(none, Value::Null);

    let listed = w.ok(&trips("list", day_6, &[])).await;
    let list = listed["trips"].as_array().expect("trips");
    assert_eq!(list.len(), 1, "{listed}");
    assert_eq!(list[0]["session_id"], 41);
    assert_eq!(list[0]["points"], 20);
    assert_eq!(
        list[0]["key"], trip_key,
        "the listed key is the record's key"
    );
    let expected_km = trip.summary().expect("summary").distance_m;
    assert!((list[0]["distance_m"].as_f64().expect("m") - expected_km).abs() < 1e-6);
    // A period without trips prints a distance of 0.0 km, not -0.0, in both outputs.
    let empty_period = trips("list", ("2024-05-07", "2024-05-08"), &[]);
    let empty = w.ok(&empty_period).await;
    assert_eq!(empty["trips"].as_array().map(Vec::len), Some(0), "{empty}");
    let km = empty["distance_km"].as_f64().expect("km");
    assert!(km == 0.0 && km.is_sign_positive(), "{empty}");
    let human = run_table_async(vec![Case::new(
        &Flags::new(&["--wallet", &wallet, "--node", &base]).args(&empty_period),
        0,
        "0 trips, 0.0 km",
    )])
    .await;
    assert!(!text(&human[0].stdout).contains("-0.0"));

    let shown = w
        .ok(&[
            "trips",
            "show",
            "--vid",
            VID,
            "--date",
            "2024-05-06",
            "--key",
            &list[0]["key"].to_string(),
        ])
        .await;
    assert_eq!(shown["polyline"], trip.polyline());
    assert_eq!(shown["geojson"]["type"], "Feature");

    let (geojson_file, svg_file) = (path("trips.geojson"), path("trips.svg"));
    for (format, file) in [("geojson", &geojson_file), ("svg", &svg_file)] {
        let exported = w
            .ok(&trips(
                "export",
                day_6,
                &["--format", format, "--out", file],
            ))
            .await;
        assert_eq!(exported["trips"], 1);
    }
    let geojson: Value =
        serde_json::from_str(&std::fs::read_to_string(&geojson_file).expect("geojson"))
            .expect("json");
    assert_eq!(geojson["type"], "FeatureCollection");
    assert_eq!(geojson["features"].as_array().expect("features").len(), 1);
    assert!(
        std::fs::read_to_string(&svg_file)
            .expect("svg")
            .contains("<path")
    );

    // The whole day as one export archive, verified offline (no wallet, no node) with
    // and without the chain's anchor; a changed archive exits 5, a cut one 3.
    let archive = path("day.tar");
    let export = |vid: &str| {
        w.args(&[
            "export",
            "--car",
            vid,
            "--from",
            "2024-05-06",
            "--to",
            "2024-05-06",
            "--out",
            &archive,
        ])
    };
    let exported = ok_json(&run_async(export(VID), None).await);
    assert_eq!(
        (exported["records"].as_u64(), exported["trips"].as_u64()),
        (Some(2), Some(1))
    );
    let anchored = [
        "--json",
        "--chain-id",
        CHAIN_ID,
        "--validator",
        &node.validator,
        "verify-export",
        &archive,
    ];
    let verified = ok_json(&run_async(s(&anchored), None).await);
    assert_eq!(verified["verified"], true);
    assert_eq!(verified["anchor_trusted"], true);
    assert_eq!(verified["records"], 2);
    let bytes = std::fs::read(&archive).expect("archive");
    let (changed, cut) = (path("changed.tar"), path("cut.tar"));
    let mut flipped = bytes.clone();
    let at = String::from_utf8_lossy(&bytes)
        .find("carvio")
        .expect("a record in the archive");
    flipped[at] = b'C';
    std::fs::write(&changed, &flipped).expect("write");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).expect("write");
    let mut unknown_car = export("NOT-MY-CAR");
    unknown_car[6] = "--vid".into();
    run_table_async(vec![
        Case::new(
            &["verify-export", &archive],
            0,
            "pass --chain-id and --validator",
        ),
        Case::new(&["verify-export", &changed], 5, "export.file_changed"),
        Case::new(&["verify-export", &cut], 3, "export.truncated"),
        Case::new(&unknown_car, 3, "export.unknown_car"),
    ])
    .await;
    assert_eq!(
        std::fs::read(&archive).expect("archive"),
        bytes,
        "left as it was"
    );

    // The node's status with a verified tip, and the fees the owner paid.
    let status = w.ok(&["node", "status"]).await;
    assert_eq!(status["chain_id"], CHAIN_ID);
    assert_eq!(
        status["mode"], "shared",
        "a default node, which charges for reads"
    );
    assert_eq!(status["validator"], node.validator.as_str());
    assert!(status["verified_height"].as_u64().expect("height") > 0);
    let balance = w.ok(&["wallet", "balance"]).await;
    let left = balance["balance"].as_u64().expect("balance");
    assert!(left < funded && left > funded / 2, "balance {left}");

    // A new pool for the car (setDup): the car shows a fresh code, both sides exchange
    // it, and what the car wrote before stays readable.
    let pairing_code = ["car", "pairing-code", "--car", &car, "--vid", VID];
    let already_paired = Case::new(&c.args(&pairing_code), 3, "already paired");
    run_table_async(vec![already_paired]).await;
    let code = c.ok(&[&pairing_code[..], &["--reset"]].concat()).await;
    let payload = code["payload"].as_str().expect("payload").to_owned();
    let owner_side = tokio::spawn(run_async(
        w.args(&[
            "device",
            "pool",
            "--vid",
            VID,
            "--size",
            "16",
            "--payload",
            &payload,
        ]),
        None,
    ));
    let car_side = c.run(&["car", "pair", "--car", &car]).await;
    let pooled = owner_side.await.expect("join");
    assert_eq!(ok_json(&car_side)["paired"], true);
    let pooled = ok_json(&pooled);
    assert_eq!(pooled["pool_size"], 16);
    assert_eq!(pooled["generation"], 1);
    let read = w.ok(&range(VID, day_6, &carvio, &[])).await;
    assert_eq!(read["records"][0]["value"], fine, "{read}");

    // Bad input: a clear message and a non-zero exit, never a panic.
    let validator = status["validator"].as_str().expect("v");
    let key_7002 = r#"{"CARVIO_ID": 7002}"#;
    let outputs = run_table_async(vec![
        Case::new(
            &w.args(&range(VID, day_6, &carvio, &["--start", "{CARVIO_ID:"])),
            3,
            "--start is not valid JSON",
        ),
        Case::new(
            &c.args(&put(&carvio, key_7002, &["--value", "[1, 2]"])),
            3,
            "--value is not a JSON object",
        ),
        Case::new(
            &c.args(&put(&carvio, key_7002, &["--value", "{\"price\"="])),
            3,
            "--value is not a JSON object",
        ),
        Case::new(
            &w.args(&range("NO-SUCH-CAR", day_6, &carvio, &[])),
            3,
            "unknown VID `NO-SUCH-CAR`",
        ),
        Case::new(
            &w.args(&trips("list", ("2024-02-30", "2024-05-06"), &[])),
            3,
            "--from `2024-02-30` is not a date",
        ),
        Case::new(
            &w.args(&get("2024-05-06", &["odometer"], "{}", &[])),
            3,
            "unknown format `odometer`",
        ),
        Case::new(
            &c.args(&put(&carvio, "[]", &["--value", "{}"])),
            3,
            "--key must be a JSON object",
        ),
        Case::new(
            &[
                "--wallet",
                &wallet,
                "--node",
                &support::closed_endpoint(),
                "wallet",
                "balance",
            ],
            4,
            "unreachable",
        ),
        Case::new(
            &w.args(&[
                "--chain-id",
                "other-chain",
                "--validator",
                validator,
                "node",
                "status",
            ]),
            5,
            "verification failed",
        ),
    ])
    .await;
    for output in &outputs {
        stderr_seen.push_str(&text(&output.stderr));
    }

    // Every value the core takes is passed on: a custom format, keys as the design
    // writes them, a value longer than one command-line argument may be (from stdin)
    // or kept in a file, pages of a range; what the core refuses is its typed error.
    let scan = ["scan", "--fields", "SEQ"];
    let day_10 = ("2024-05-10", "2024-05-10");
    let long_text = "x".repeat(200_000);
    let value_file = path("value.json");
    std::fs::write(&value_file, r#"{"seq"=2, "format"="scan"}"#).expect("value file");
    let put_scan =
        |key: &str, value: &[&str]| c.args(&put_on(&car, &scan, key, "2024-05-10", value));
    let outputs = run_table_async(vec![
        Case::new(
            &put_scan(r#"{"SEQ"=1}"#, &["--value-file", "-"]),
            0,
            "\"delivered\": 1",
        )
        .stdin(&format!(r#"{{"text"="{long_text}", "format"="scan"}}"#)),
        Case::new(
            &put_scan(r#"{"SEQ": 2}"#, &["--value-file", &value_file]),
            0,
            "\"delivered\": 1",
        ),
        Case::new(
            &put_scan(
                r#"{"SEQ": 3}"#,
                &["--value", "{}", "--value-file", &value_file],
            ),
            2,
            "cannot be used with",
        ),
        Case::new(
            &put_scan(r#"{"SEQ": 3}"#, &["--value-file", &path("absent.json")]),
            1,
            "value file",
        ),
        Case::new(
            &c.args(&put(
                &["Carvio", "--fields", "SEQ"],
                r#"{"SEQ": 3}"#,
                &["--value", "{}"],
            )),
            3,
            "reserved",
        ),
        Case::new(&w.args(&range(VID, day_10, &scan, &[])), 0, "\"SEQ\": 2"),
        Case::new(
            &w.args(&range(
                VID,
                day_10,
                &scan,
                &["--offset", "1", "--limit", "1"],
            )),
            0,
            "\"SEQ\": 2",
        ),
        Case::new(
            &w.args(&range(VID, day_10, &scan, &["--limit", "0"])),
            3,
            "a page limit must be at least 1",
        ),
        Case::new(
            &w.args(&get("2024-05-10", &scan, r#"{"SEQ"=2}"#, &[])),
            0,
            "\"seq\": 2",
        ),
    ])
    .await;
    let whole = ok_json(&outputs[5]);
    let records = whole["records"].as_array().expect("records");
    assert_eq!(records.len(), 2, "two scan records");
    assert_eq!(records[0]["value"]["text"], long_text.as_str());
    let paged = ok_json(&outputs[6]);
    assert_eq!(paged["records"].as_array().map(Vec::len), Some(1));
    assert_eq!(paged["records"][0]["key"], json!({"SEQ": 2}));

    // Payments: an address as a QR code carries it (upper case) is the same account;
    // what the core refuses exits 3 with its reason, a number past u64 is a usage error.
    let new_owner = support::flows::wallet(WORDS_B).owner_address();
    let send = |to: &str, amount: &str| w.args(&["wallet", "send", "--to", to, "--amount", amount]);
    run_table_async(vec![
        Case::new(
            &send(&new_owner.to_uppercase(), "5"),
            0,
            &format!("\"to\": \"{new_owner}\""),
        ),
        Case::new(&send(&new_owner, "0"), 3, "at least 1 token"),
        Case::new(&send(&new_owner, &u64::MAX.to_string()), 3, "overflows"),
        Case::new(
            &send(&new_owner, "18446744073709551616"),
            2,
            "invalid value",
        ),
        Case::new(&send(&owner, "1"), 3, "own account"),
        Case::new(&send("not-an-address", "1"), 3, "not an account address"),
    ])
    .await;

    // The owner hands the car to another owner (reset): a bad address is refused, then
    // the car (given the new owner's address in upper case) is listed as transferred
    // and can no longer be reset from here.
    let reset = |to: &str| w.args(&["device", "reset", "--vid", VID, "--to", to]);
    let outputs = run_table_async(vec![
        Case::new(&reset("not-an-address"), 3, "not a valid address"),
        Case::new(
            &reset(&new_owner.to_uppercase()),
            0,
            "\"status\": \"transferred\"",
        ),
        Case::new(&reset(&new_owner), 3, "no longer owned"),
    ])
    .await;
    stderr_seen.push_str(&text(&outputs[0].stderr));
    assert_no_words(&stderr_seen, WORDS_A);
}

/// [`put`] from the car store at `car` (the scripted session shadows `put`).
fn put_on(car: &str, format: &[&str], key: &str, date: &str, value: &[&str]) -> Vec<String> {
    put(car, format, key, date, value)
}

/// One trip put from the car store at `car` on `date`, checked delivered.
async fn put_trip_via_cli(base: &str, car: &str, date: &str, session: i64) {
    let day_of_month: u32 = date[8..].parse().expect("day");
    let trip = trip_on(day(day_of_month), session, (31.2, 121.4));
    let key = Value::Object(trip.to_key().expect("key")).to_string();
    let value = trip.to_value(1).expect("value").to_string();
    let stored = Flags::new(&["--node", base, "--json"])
        .ok(&put(car, &["trip-gps"], &key, date, &["--value", &value]))
        .await;
    assert_eq!(stored["delivered"], 1, "{stored}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_grants_provider_requests_owner_approves_and_revokes() {
    let dir = tempfile::tempdir().expect("dir");
    let path = |name: &str| dir.path().join(name).to_str().expect("path").to_owned();
    let (wallet, car, key) = (path("owner.db"), path("car.db"), path("dealer.key"));

    // The owner makes a new wallet (its words shown once, on stdout); the provider
    // creates its key file. No node yet: the chain is made funding both.
    let created = run_async(s(&["--wallet", &wallet, "--json", "wallet", "new"]), None).await;
    let mut stderr_seen = text(&created.stderr);
    let created = ok_json(&created);
    let words = created["words"].as_str().expect("words").to_owned();
    let owner = created["owner_address"].as_str().expect("owner").to_owned();
    let created = ok_json(&run_async(s(&["--json", "provider", "new", "--key", &key]), None).await);
    let provider = created["address"].as_str().expect("address").to_owned();
    assert!(provider.starts_with("bcrt1q"), "{created}");
    assert_eq!(
        created["rsa_fingerprint"]
            .as_str()
            .expect("fingerprint")
            .len(),
        64
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).expect("key").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    run_table_async(vec![Case::new(
        &["provider", "new", "--key", &key],
        3,
        "already exists",
    )])
    .await;

    let node = node_process::start(
        CHAIN_ID,
        &[(&owner, 1_000_000_000), (&provider, 1_000_000_000)],
        &["--agent", AGENT],
    );
    let base = node.base.clone();
    let w = Flags::new(&["--wallet", &wallet, "--node", &base, "--json"]);
    let c = Flags::new(&["--node", &base, "--json"]);
    let p = Flags::new(&["--node", &base, "--json", "provider"]);

    // The owner pairs a car that puts a trip on each of two days.
    let (paired, car_side) = pair(&w, &c, (&car, VID), "granted car", AGENT).await;
    assert_eq!(ok_json(&car_side)["paired"], true);
    stderr_seen.push_str(&text(&paired.stderr));
    ok_json(&paired);
    put_trip_via_cli(&base, &car, "2024-05-01", 51).await;
    put_trip_via_cli(&base, &car, "2024-05-02", 52).await;
    let read = w
        .ok(&range(
            VID,
            ("2024-05-01", "2024-05-02"),
            &["trip-gps"],
            &[],
        ))
        .await;
    let sessions: Vec<&Value> = read["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| &r["key"]["SESSION_ID"])
        .collect();
    assert_eq!(sessions, [&json!(51), &json!(52)], "{read}");

    // The dealer registers and asks for three days of trips, for nothing.
    let registered = p
        .ok(&[
            "register",
            "--key",
            &key,
            "--name",
            "Dealer",
            "--description",
            "used-car valuations",
        ])
        .await;
    assert_eq!(registered["address"], provider.as_str());
    assert_eq!(registered["registered"], true);
    let ask = |owner: &str, (from, to): (&str, &str), purpose: &str, extra: &[&str]| {
        let mut args = p.args(&[
            "request",
            "--key",
            &key,
            "--owner",
            owner,
            "--formats",
            "trip-gps",
            "--from",
            from,
            "--to",
            to,
            "--fields",
            "location_history",
            "--purpose",
            purpose,
            "--price",
            "0",
        ]);
        args.extend(s(extra));
        args
    };
    let period = ("2024-05-01", "2024-05-03");
    let asked = |owner: &str, purpose: &str| ask(owner, period, purpose, &["--expires", "3600"]);
    let sent = ok_json(&run_async(asked(&owner, "valuation"), None).await);
    let request_id = sent["id"].as_str().expect("id").to_owned();
    assert_eq!(request_id.len(), 64);
    assert_eq!(sent["delivery"], "copy");

    // The owner sees who asks, why, for which days and for how much.
    let pending = w.ok(&["requests", "list"]).await;
    let pending = pending.as_array().expect("array");
    assert_eq!(pending.len(), 1, "{pending:?}");
    let asked_for = &pending[0];
    assert_eq!(asked_for["id"], request_id.as_str());
    assert_eq!(asked_for["provider"]["name"], "Dealer");
    assert_eq!(asked_for["provider"]["address"], provider.as_str());
    assert_eq!(asked_for["purpose"], "valuation");
    assert_eq!(asked_for["from"], "2024-05-01");
    assert_eq!(asked_for["to"], "2024-05-03");
    assert_eq!(asked_for["privileges"], json!(["location_history"]));
    assert_eq!(asked_for["price"], 0);
    assert_eq!(sent["expires_at"], asked_for["expires_at"]);
    assert!(
        asked_for["expires"]
            .as_str()
            .expect("expires")
            .starts_with("20")
    );
    let human = Flags::new(&["--wallet", &wallet, "--node", &base]);
    let shown = human.run(&["requests", "list"]).await;
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let shown = text(&shown.stdout);
    for needle in [
        &request_id[..],
        "Dealer",
        "valuation",
        "2024-05-01 .. 2024-05-03",
        "copy",
    ] {
        assert!(shown.contains(needle), "`{needle}` in {shown}");
    }

    // Bad ids, zones, privileges and periods are input errors, before anything is sent;
    // a period the core's parser refuses is its typed refusal.
    let approve = |id: &str, extra: &[&str]| {
        let mut args = w.args(&["requests", "approve", "--id", id, "--vid", VID]);
        args.extend(s(extra));
        args
    };
    let zone = |zone: &str| approve(&request_id, &["--privacy-zone", zone]);
    run_table_async(vec![
        Case::new(&approve("xyz", &[]), 3, "--id `xyz` is not 32 bytes of hex"),
        Case::new(&approve(&"ab".repeat(31), &[]), 3, "--id"),
        Case::new(&zone("91,121.4,300"), 3, "--privacy-zone `91,121.4,300`"),
        Case::new(&zone("31.2,121.4"), 3, "LAT,LNG,RADIUS_M"),
        Case::new(
            &approve(&request_id, &["--fields", "gps"]),
            3,
            "unknown privilege `gps`",
        ),
        Case::new(
            &approve(&request_id, &["--days", "4"]),
            3,
            "--days 4 is longer",
        ),
        Case::new(&approve(&"00".repeat(32), &[]), 3, "is not pending"),
        Case::new(&w.args(&["requests", "reject", "--id", "12"]), 3, "--id"),
        Case::new(&w.args(&["grants", "revoke", "--id", "nothex"]), 3, "--id"),
        Case::new(
            &w.args(&["grants", "sync", "--today", "2024-13-01"]),
            3,
            "--today",
        ),
        Case::new(
            &w.args(&["grants", "revoke", "--id", &"00".repeat(32)]),
            3,
            "not one this wallet made",
        ),
        Case::new(
            &w.args(&[
                "requests",
                "approve",
                "--id",
                &request_id,
                "--vid",
                "NO-SUCH-VID",
            ]),
            3,
            "unknown VID",
        ),
        Case::new(
            &ask(&owner, ("2024-05-03", "2024-05-01"), "x", &[]),
            3,
            "ends before it starts",
        ),
        Case::new(
            &ask(&owner, ("2024-5-1", "2024-05-03"), "x", &[]),
            3,
            "`2024-5-1` is not a YYYY-MM-DD date",
        ),
    ])
    .await;

    // Approved for the first day only, with a privacy zone far from the trips.
    let approved = ok_json(
        &run_async(
            approve(
                &request_id,
                &[
                    "--days",
                    "1",
                    "--fields",
                    "location_history",
                    "--privacy-zone",
                    "48.85,2.35,500",
                ],
            ),
            None,
        )
        .await,
    );
    assert_eq!(approved["records"], 1, "{approved}");
    assert_eq!(approved["from"], "2024-05-01");
    assert_eq!(approved["to"], "2024-05-01");
    assert_eq!(approved["privacy_zones"], 1);
    let grant_id = approved["grant_id"].as_str().expect("grant").to_owned();
    assert_eq!(grant_id.len(), 64);
    run_table_async(vec![Case::new(
        &approve(&request_id, &[]),
        3,
        "is not pending",
    )])
    .await;
    assert_eq!(w.ok(&["requests", "list"]).await, json!([]));

    // The provider's grant shows in `grants list`, then is revoked.
    let grants = w.ok(&["grants", "list"]).await;
    assert_eq!(
        grants,
        json!([{"grant_id": grant_id, "request_id": request_id, "provider": provider,
                "provider_name": "Dealer", "kind": "copy", "records": 1,
                "status": "active"}])
    );
    run_table_async(vec![Case::new(
        &["--wallet", &wallet, "grants", "list"],
        0,
        &format!("{grant_id}  active"),
    )])
    .await;
    // No standing grant: a sync delivers nothing.
    assert_eq!(
        w.ok(&["grants", "sync", "--today", "2024-05-04"]).await,
        json!([])
    );
    let revoked = w.ok(&["grants", "revoke", "--id", &grant_id]).await;
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(w.ok(&["grants", "list"]).await[0]["status"], "revoked");

    // A second request, to the owner's address as a QR code carries it (upper case), is
    // rejected and leaves the inbox.
    let second = ok_json(&run_async(asked(&owner.to_uppercase(), "a second look"), None).await);
    assert_eq!(second["owner"], owner.as_str());
    let second_id = second["id"].as_str().expect("id").to_owned();
    let listed = w.ok(&["requests", "list"]).await;
    assert_eq!(listed[0]["id"], second_id.as_str(), "{listed}");
    let rejected = w.ok(&["requests", "reject", "--id", &second_id]).await;
    assert_eq!(rejected["rejected"], true);
    assert_eq!(w.ok(&["requests", "list"]).await, json!([]));
    let again = run_table_async(vec![Case::new(
        &w.args(&["requests", "reject", "--id", &second_id]),
        3,
        "already rejected",
    )])
    .await;
    stderr_seen.push_str(&text(&again[0].stderr));
    assert_no_words(&stderr_seen, &words);
}
