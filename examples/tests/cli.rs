//! The `carchain` CLI against a separately started `carchain-node` binary (`init`, then
//! `run` on a free loopback port, default shared mode: reads are paid for, see
//! [`node_process`]): scripted sessions (wallet new or restore, a car's pairing code,
//! device pair + car pair, puts, range, get, trips, export, an export archive and its
//! offline verification, node status, balance, a new
//! pool, a provider's registration and request, approval, grants, revocation), bad
//! flags and bad input giving clear messages and meaningful exit codes without a panic,
//! and the recovery words never reaching stderr. `car-sim --node` has its own tests
//! (`sim_shared.rs`).

mod cli_run;
mod node_process;
mod support;

use std::path::Path;
use std::process::Output;

use cli_run::{ok_json, run, text};
use serde_json::{Value, json};
use support::flows::{WORDS_A, WORDS_B, day, trip_on};
use support::{AGENT, CHAIN_ID};

const VID: &str = "LSVCLI2024000001";

/// [`run`] off the async runtime (the node serves on the runtime meanwhile).
async fn run_async(args: Vec<String>, stdin: Option<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args, stdin.as_deref())
    })
    .await
    .expect("join")
}

/// Checks a failed run: its exit code, a message naming `needle` on stderr, no panic.
fn assert_fails(output: &Output, code: i32, needle: &str) {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "stderr: {stderr}");
    assert!(stderr.contains(needle), "expected `{needle}` in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// The first words of a phrase must never show on stderr.
fn assert_no_words(stderr: &str, words: &str) {
    let first_three: Vec<&str> = words.split_whitespace().take(3).collect();
    assert!(
        !stderr.contains(&first_three.join(" ")),
        "recovery words on stderr: {stderr}"
    );
}

fn s(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| (*p).to_owned()).collect()
}

#[test]
fn bad_flags_are_usage_errors_with_the_usage() {
    for (args, needle) in [
        (&["wallet", "new", "--bogus"][..], "Usage:"),
        (&["get", "--vid", "V"][..], "Usage:"),
        (
            &["wallet", "new", "--words", "13"][..],
            "invalid value '13'",
        ),
        (&["wallet", "restore", "abandon", "ability"][..], "Usage:"),
        (&["frobnicate"][..], "Usage:"),
        (&["--wallet"][..], "a value is required"),
    ] {
        let output = run(args, None);
        assert_fails(&output, 2, needle);
    }
    let help = run(&["--help"], None);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("Exit codes"));
}

#[test]
fn wallet_new_prints_the_words_once_on_stdout_and_keeps_the_key_file_private() {
    let dir = tempfile::tempdir().expect("dir");
    let wallet = dir.path().join("w.db");
    let wallet = wallet.to_str().expect("path");
    let output = run(
        &[
            "--wallet", wallet, "--json", "wallet", "new", "--words", "24",
        ],
        None,
    );
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

    // The address is shown again, the words never.
    let again = run(&["--wallet", wallet, "wallet", "address"], None);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(text(&again.stdout).contains(&address));
    assert!(!text(&again.stdout).contains(words));
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
    // A second `new` over the same wallet is refused.
    assert_fails(
        &run(&["--wallet", wallet, "wallet", "new"], None),
        3,
        "already exists",
    );
}

#[test]
fn bad_recovery_words_are_refused_without_echoing_them() {
    let dir = tempfile::tempdir().expect("dir");
    let wallet = dir.path().join("w.db");
    let wallet = wallet.to_str().expect("path");
    let wrong = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon";
    let output = run(&["--wallet", wallet, "wallet", "restore"], Some(wrong));
    assert_fails(&output, 3, "checksum");
    assert_no_words(&text(&output.stderr), wrong);
    assert!(
        !Path::new(wallet).exists(),
        "a refused restore leaves no wallet"
    );
    let output = run(&["--wallet", wallet, "wallet", "restore"], Some(""));
    assert_fails(&output, 3, "no recovery words");
    let output = run(&["--wallet", wallet, "wallet", "address"], None);
    assert_fails(&output, 3, "no wallet at");
    assert_fails(&run(&["wallet", "address"], None), 2, "--wallet PATH");
}

#[test]
fn a_backup_restores_into_the_same_words_only() {
    let dir = tempfile::tempdir().expect("dir");
    let path = |name: &str| dir.path().join(name).to_str().expect("path").to_owned();
    let (first, phone, stranger, backup) =
        (path("a.db"), path("b.db"), path("c.db"), path("w.ccbackup"));
    for (wallet, words) in [(&first, WORDS_A), (&phone, WORDS_A), (&stranger, WORDS_B)] {
        let restored = run(&["--wallet", wallet, "wallet", "restore"], Some(words));
        assert!(restored.status.success(), "{}", text(&restored.stderr));
    }
    let written = run(
        &[
            "--wallet", &first, "--json", "wallet", "backup", "--out", &backup,
        ],
        None,
    );
    assert_eq!(ok_json(&written)["backup"], backup.as_str());
    let restored = run(
        &[
            "--wallet",
            &phone,
            "--json",
            "wallet",
            "restore-backup",
            "--from",
            &backup,
        ],
        None,
    );
    assert_eq!(ok_json(&restored)["devices"], 0);
    assert_fails(
        &run(
            &[
                "--wallet",
                &stranger,
                "wallet",
                "restore-backup",
                "--from",
                &backup,
            ],
            None,
        ),
        3,
        "backup.wrong_wallet",
    );
    let bytes = std::fs::read(&backup).expect("backup");
    let cut = path("cut.ccbackup");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("cut");
    assert_fails(
        &run(
            &[
                "--wallet",
                &phone,
                "wallet",
                "restore-backup",
                "--from",
                &cut,
            ],
            None,
        ),
        3,
        "backup.truncated",
    );
    assert_fails(
        &run(
            &[
                "--wallet",
                &phone,
                "wallet",
                "restore-backup",
                "--from",
                &path("none"),
            ],
            None,
        ),
        1,
        "backup file",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_session_pair_put_range_trips_and_status() {
    let dir = tempfile::tempdir().expect("dir");
    let wallet_path = dir.path().join("owner.db");
    let wallet = wallet_path.to_str().expect("path").to_owned();
    let car_path = dir.path().join("car.db");
    let car = car_path.to_str().expect("path").to_owned();

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
    let w = |rest: &[&str]| -> Vec<String> {
        let mut args = s(&["--wallet", &wallet, "--node", &base, "--json"]);
        args.extend(s(rest));
        args
    };
    let c = |rest: &[&str]| -> Vec<String> {
        let mut args = s(&["--node", &base, "--json"]);
        args.extend(s(rest));
        args
    };

    // The car shows its pairing code; the owner pairs while the car waits for the offer.
    let code = run_async(
        c(&["car", "pairing-code", "--car", &car, "--vid", VID]),
        None,
    )
    .await;
    let payload = ok_json(&code)["payload"]
        .as_str()
        .expect("payload")
        .to_owned();
    let owner_side = tokio::spawn(run_async(
        w(&[
            "device",
            "pair",
            "--payload",
            &payload,
            "--name",
            "test car",
            "--pool-size",
            "8",
            "--agent",
            AGENT,
            "--timeout-secs",
            "60",
        ]),
        None,
    ));
    let car_side = run_async(
        c(&["car", "pair", "--car", &car, "--timeout-secs", "60"]),
        None,
    )
    .await;
    let paired = owner_side.await.expect("join");
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

    let listed = ok_json(&run_async(w(&["device", "list"]), None).await);
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
    let put = ok_json(
        &run_async(
            c(&[
                "put",
                "--car",
                &car,
                "--vid",
                VID,
                "--format",
                "carvio",
                "--key",
                &violation.to_string(),
                "--value",
                fine_as_the_design_writes_it,
                "--date",
                "2024-05-06",
            ]),
            None,
        )
        .await,
    );
    assert_eq!(put["delivered"], 1);
    assert_eq!(put["remaining"], 0);
    let trip = trip_on(day(6), 41, (31.2, 121.4));
    let trip_key = Value::Object(trip.to_key().expect("key"));
    let trip_value = trip.to_value(1).expect("value");
    let put = ok_json(
        &run_async(
            c(&[
                "put",
                "--car",
                &car,
                "--vid",
                VID,
                "--format",
                "trip-gps",
                "--key",
                &trip_key.to_string(),
                "--value",
                &trip_value.to_string(),
                "--date",
                "2024-05-06",
            ]),
            None,
        )
        .await,
    );
    assert_eq!(put["delivered"], 1);

    // The owner reads them back: range, get with columns, trips list / show / export.
    let range = ok_json(
        &run_async(
            w(&[
                "range",
                "--vid",
                VID,
                "--from",
                "2024-05-05",
                "--to",
                "2024-05-07",
                "--format",
                "carvio",
            ]),
            None,
        )
        .await,
    );
    let records = range["records"].as_array().expect("records");
    assert_eq!(records.len(), 1, "{range}");
    assert_eq!(records[0]["key"], violation);
    assert_eq!(records[0]["value"], fine);

    let got = ok_json(
        &run_async(
            w(&[
                "get",
                "--vid",
                VID,
                "--date",
                "2024-05-06",
                "--format",
                "carvio",
                "--key",
                r#"{"CARVIO_ID": 7001}"#,
                "--columns",
                "price",
            ]),
            None,
        )
        .await,
    );
    assert_eq!(got["value"], json!({"price": 200}));
    let none = ok_json(
        &run_async(
            w(&[
                "get",
                "--vid",
                VID,
                "--date",
                "2024-05-06",
                "--format",
                "carvio",
                "--key",
                r#"{"CARVIO_ID": 1}"#,
            ]),
            None,
        )
        .await,
    );
    assert_eq!(none, Value::Null);

    let trips = ok_json(
        &run_async(
            w(&[
                "trips",
                "list",
                "--vid",
                VID,
                "--from",
                "2024-05-06",
                "--to",
                "2024-05-06",
            ]),
            None,
        )
        .await,
    );
    let list = trips["trips"].as_array().expect("trips");
    assert_eq!(list.len(), 1, "{trips}");
    assert_eq!(list[0]["session_id"], 41);
    assert_eq!(list[0]["points"], 20);
    assert_eq!(
        list[0]["key"], trip_key,
        "the listed key is the record's key"
    );
    let expected_km = trip.summary().expect("summary").distance_m;
    assert!((list[0]["distance_m"].as_f64().expect("m") - expected_km).abs() < 1e-6);
    // A period without trips prints a distance of 0.0 km, not -0.0, in both outputs.
    let empty_period = [
        "trips",
        "list",
        "--vid",
        VID,
        "--from",
        "2024-05-07",
        "--to",
        "2024-05-08",
    ];
    let empty = ok_json(&run_async(w(&empty_period), None).await);
    assert_eq!(empty["trips"].as_array().map(Vec::len), Some(0), "{empty}");
    let km = empty["distance_km"].as_f64().expect("km");
    assert!(km == 0.0 && km.is_sign_positive(), "{empty}");
    let mut human_args = s(&["--wallet", &wallet, "--node", &base]);
    human_args.extend(s(&empty_period));
    let human = run_async(human_args, None).await;
    assert!(human.status.success(), "{}", text(&human.stderr));
    let shown = text(&human.stdout);
    assert!(shown.contains("0 trips, 0.0 km"), "{shown}");
    assert!(!shown.contains("-0.0"), "{shown}");

    let shown = ok_json(
        &run_async(
            w(&[
                "trips",
                "show",
                "--vid",
                VID,
                "--date",
                "2024-05-06",
                "--key",
                &list[0]["key"].to_string(),
            ]),
            None,
        )
        .await,
    );
    assert_eq!(shown["polyline"], trip.polyline());
    assert_eq!(shown["geojson"]["type"], "Feature");

    let geojson_file = dir.path().join("trips.geojson");
    let svg_file = dir.path().join("trips.svg");
    for (format, file) in [("geojson", &geojson_file), ("svg", &svg_file)] {
        let exported = ok_json(
            &run_async(
                w(&[
                    "trips",
                    "export",
                    "--vid",
                    VID,
                    "--from",
                    "2024-05-06",
                    "--to",
                    "2024-05-06",
                    "--format",
                    format,
                    "--out",
                    file.to_str().expect("path"),
                ]),
                None,
            )
            .await,
        );
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
    let archive = dir.path().join("day.tar");
    let archive_path = archive.to_str().expect("path").to_owned();
    let exported = ok_json(
        &run_async(
            w(&[
                "export",
                "--car",
                VID,
                "--from",
                "2024-05-06",
                "--to",
                "2024-05-06",
                "--out",
                &archive_path,
            ]),
            None,
        )
        .await,
    );
    assert_eq!(
        (exported["records"].as_u64(), exported["trips"].as_u64()),
        (Some(2), Some(1))
    );
    let verified = ok_json(
        &run_async(
            s(&[
                "--json",
                "--chain-id",
                CHAIN_ID,
                "--validator",
                &node.validator,
                "verify-export",
                &archive_path,
            ]),
            None,
        )
        .await,
    );
    assert_eq!(verified["verified"], true);
    assert_eq!(verified["anchor_trusted"], true);
    assert_eq!(verified["records"], 2);
    let untrusted = run_async(s(&["verify-export", &archive_path]), None).await;
    assert!(untrusted.status.success(), "{}", text(&untrusted.stderr));
    assert!(text(&untrusted.stdout).contains("pass --chain-id and --validator"));
    let bytes = std::fs::read(&archive).expect("archive");
    let changed = dir.path().join("changed.tar");
    let mut flipped = bytes.clone();
    let at = String::from_utf8_lossy(&bytes)
        .find("carvio")
        .expect("a record in the archive");
    flipped[at] = b'C';
    std::fs::write(&changed, &flipped).expect("write");
    assert_fails(
        &run_async(s(&["verify-export", changed.to_str().expect("path")]), None).await,
        5,
        "export.file_changed",
    );
    std::fs::write(&changed, &bytes[..bytes.len() / 3]).expect("write");
    assert_fails(
        &run_async(s(&["verify-export", changed.to_str().expect("path")]), None).await,
        3,
        "export.truncated",
    );
    assert_fails(
        &run_async(
            w(&[
                "export",
                "--vid",
                "NOT-MY-CAR",
                "--from",
                "2024-05-06",
                "--to",
                "2024-05-06",
                "--out",
                &archive_path,
            ]),
            None,
        )
        .await,
        3,
        "export.unknown_car",
    );
    assert_eq!(
        std::fs::read(&archive).expect("archive"),
        bytes,
        "left as it was"
    );

    // The node's status with a verified tip, and the fees the owner paid.
    let status = ok_json(&run_async(w(&["node", "status"]), None).await);
    assert_eq!(status["chain_id"], CHAIN_ID);
    assert_eq!(
        status["mode"], "shared",
        "a default node, which charges for reads"
    );
    assert_eq!(status["validator"], node.validator.as_str());
    assert!(status["verified_height"].as_u64().expect("height") > 0);
    let balance = ok_json(&run_async(w(&["wallet", "balance"]), None).await);
    let left = balance["balance"].as_u64().expect("balance");
    assert!(left < funded && left > funded / 2, "balance {left}");

    // A new pool for the car (setDup): the car shows a fresh code, both sides exchange
    // it, and what the car wrote before stays readable.
    let already = run_async(
        c(&["car", "pairing-code", "--car", &car, "--vid", VID]),
        None,
    )
    .await;
    assert_fails(&already, 3, "already paired");
    let code = run_async(
        c(&[
            "car",
            "pairing-code",
            "--car",
            &car,
            "--vid",
            VID,
            "--reset",
        ]),
        None,
    )
    .await;
    let payload = ok_json(&code)["payload"]
        .as_str()
        .expect("payload")
        .to_owned();
    let owner_side = tokio::spawn(run_async(
        w(&[
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
    let car_side = run_async(c(&["car", "pair", "--car", &car]), None).await;
    let pooled = owner_side.await.expect("join");
    assert_eq!(ok_json(&car_side)["paired"], true);
    let pooled = ok_json(&pooled);
    assert_eq!(pooled["pool_size"], 16);
    assert_eq!(pooled["generation"], 1);
    let range = ok_json(
        &run_async(
            w(&[
                "range",
                "--vid",
                VID,
                "--from",
                "2024-05-06",
                "--to",
                "2024-05-06",
                "--format",
                "carvio",
            ]),
            None,
        )
        .await,
    );
    assert_eq!(range["records"][0]["value"], fine, "{range}");

    // Bad input: a clear message and a non-zero exit, never a panic.
    let bad_key = run_async(
        w(&[
            "range",
            "--vid",
            VID,
            "--from",
            "2024-05-06",
            "--to",
            "2024-05-06",
            "--format",
            "carvio",
            "--start",
            "{CARVIO_ID:",
        ]),
        None,
    )
    .await;
    assert_fails(&bad_key, 3, "--start is not valid JSON");
    for (value, needle) in [
        ("[1, 2]", "--value is not a JSON object"),
        ("{\"price\"=", "--value is not a JSON object"),
    ] {
        let bad_value = run_async(
            c(&[
                "put",
                "--car",
                &car,
                "--vid",
                VID,
                "--format",
                "carvio",
                "--key",
                r#"{"CARVIO_ID": 7002}"#,
                "--value",
                value,
                "--date",
                "2024-05-06",
            ]),
            None,
        )
        .await;
        assert_fails(&bad_value, 3, needle);
    }
    let unknown = run_async(
        w(&[
            "range",
            "--vid",
            "NO-SUCH-CAR",
            "--from",
            "2024-05-06",
            "--to",
            "2024-05-06",
            "--format",
            "carvio",
        ]),
        None,
    )
    .await;
    assert_fails(&unknown, 3, "unknown VID `NO-SUCH-CAR`");
    let bad_date = run_async(
        w(&[
            "trips",
            "list",
            "--vid",
            VID,
            "--from",
            "2024-02-30",
            "--to",
            "2024-05-06",
        ]),
        None,
    )
    .await;
    assert_fails(&bad_date, 3, "--from `2024-02-30` is not a date");
    let bad_format = run_async(
        w(&[
            "get",
            "--vid",
            VID,
            "--date",
            "2024-05-06",
            "--format",
            "odometer",
            "--key",
            "{}",
        ]),
        None,
    )
    .await;
    assert_fails(&bad_format, 3, "unknown format `odometer`");
    let bad_put = run_async(
        c(&[
            "put",
            "--car",
            &car,
            "--vid",
            VID,
            "--format",
            "carvio",
            "--key",
            "[]",
            "--value",
            "{}",
            "--date",
            "2024-05-06",
        ]),
        None,
    )
    .await;
    assert_fails(&bad_put, 3, "--key must be a JSON object");
    let offline = run(
        &[
            "--wallet",
            &wallet,
            "--node",
            &support::closed_endpoint(),
            "wallet",
            "balance",
        ],
        None,
    );
    assert_eq!(offline.status.code(), Some(4), "{}", text(&offline.stderr));
    let wrong_anchor = run_async(
        w(&[
            "--chain-id",
            "other-chain",
            "--validator",
            status["validator"].as_str().expect("v"),
            "node",
            "status",
        ]),
        None,
    )
    .await;
    assert_eq!(
        wrong_anchor.status.code(),
        Some(5),
        "{}",
        text(&wrong_anchor.stderr)
    );

    for output in [
        &bad_key,
        &unknown,
        &bad_date,
        &bad_format,
        &bad_put,
        &offline,
    ] {
        stderr_seen.push_str(&text(&output.stderr));
    }

    // The owner hands the car to another owner (reset): a bad address is refused, then
    // the car is listed as transferred and can no longer be reset from here.
    let new_owner = support::flows::wallet(WORDS_B).owner_address();
    let bad = run_async(
        w(&["device", "reset", "--vid", VID, "--to", "not-an-address"]),
        None,
    )
    .await;
    assert_fails(&bad, 3, "not a valid address");
    let reset = ok_json(
        &run_async(
            w(&["device", "reset", "--vid", VID, "--to", &new_owner]),
            None,
        )
        .await,
    );
    assert_eq!(reset["status"], "transferred");
    let again = run_async(
        w(&["device", "reset", "--vid", VID, "--to", &new_owner]),
        None,
    )
    .await;
    assert_fails(&again, 3, "no longer owned");
    stderr_seen.push_str(&text(&bad.stderr));
    assert_no_words(&stderr_seen, WORDS_A);
}

/// One trip put from the car store at `car` on `date`, checked delivered.
async fn put_trip_via_cli(base: &str, car: &str, date: &str, session: i64) {
    let day_of_month: u32 = date[8..].parse().expect("day");
    let trip = trip_on(day(day_of_month), session, (31.2, 121.4));
    let key = Value::Object(trip.to_key().expect("key")).to_string();
    let value = trip.to_value(1).expect("value").to_string();
    let put = ok_json(
        &run_async(
            s(&[
                "--node", base, "--json", "put", "--car", car, "--vid", VID, "--format",
                "trip-gps", "--key", &key, "--value", &value, "--date", date,
            ]),
            None,
        )
        .await,
    );
    assert_eq!(put["delivered"], 1, "{put}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_grants_provider_requests_owner_approves_and_revokes() {
    let dir = tempfile::tempdir().expect("dir");
    let wallet = dir
        .path()
        .join("owner.db")
        .to_str()
        .expect("path")
        .to_owned();
    let car = dir.path().join("car.db").to_str().expect("path").to_owned();
    let key = dir
        .path()
        .join("dealer.key")
        .to_str()
        .expect("path")
        .to_owned();

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
    assert_fails(
        &run_async(s(&["provider", "new", "--key", &key]), None).await,
        3,
        "already exists",
    );

    let node = node_process::start(
        CHAIN_ID,
        &[(&owner, 1_000_000_000), (&provider, 1_000_000_000)],
        &["--agent", AGENT],
    );
    let base = node.base.clone();
    let w = |rest: &[&str]| -> Vec<String> {
        let mut args = s(&["--wallet", &wallet, "--node", &base, "--json"]);
        args.extend(s(rest));
        args
    };
    let p = |rest: &[&str]| -> Vec<String> {
        let mut args = s(&["--node", &base, "--json", "provider"]);
        args.extend(s(rest));
        args
    };

    // The owner pairs a car that puts a trip on each of two days.
    let code = run_async(
        s(&[
            "--node",
            &base,
            "--json",
            "car",
            "pairing-code",
            "--car",
            &car,
            "--vid",
            VID,
        ]),
        None,
    )
    .await;
    let payload = ok_json(&code)["payload"]
        .as_str()
        .expect("payload")
        .to_owned();
    let owner_side = tokio::spawn(run_async(
        w(&[
            "device",
            "pair",
            "--payload",
            &payload,
            "--name",
            "granted car",
            "--pool-size",
            "8",
            "--agent",
            AGENT,
        ]),
        None,
    ));
    let car_side = run_async(
        s(&["--node", &base, "--json", "car", "pair", "--car", &car]),
        None,
    )
    .await;
    assert_eq!(ok_json(&car_side)["paired"], true);
    let paired = owner_side.await.expect("join");
    stderr_seen.push_str(&text(&paired.stderr));
    ok_json(&paired);
    put_trip_via_cli(&base, &car, "2024-05-01", 51).await;
    put_trip_via_cli(&base, &car, "2024-05-02", 52).await;
    let range = ok_json(
        &run_async(
            w(&[
                "range",
                "--vid",
                VID,
                "--from",
                "2024-05-01",
                "--to",
                "2024-05-02",
                "--format",
                "trip-gps",
            ]),
            None,
        )
        .await,
    );
    let sessions: Vec<&Value> = range["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| &r["key"]["SESSION_ID"])
        .collect();
    assert_eq!(sessions, [&json!(51), &json!(52)], "{range}");

    // The dealer registers and asks for three days of trips, for nothing.
    let registered = ok_json(
        &run_async(
            p(&[
                "register",
                "--key",
                &key,
                "--name",
                "Dealer",
                "--description",
                "used-car valuations",
            ]),
            None,
        )
        .await,
    );
    assert_eq!(registered["address"], provider.as_str());
    assert_eq!(registered["registered"], true);
    let asked = |purpose: &str| {
        p(&[
            "request",
            "--key",
            &key,
            "--owner",
            &owner,
            "--formats",
            "trip-gps",
            "--from",
            "2024-05-01",
            "--to",
            "2024-05-03",
            "--fields",
            "location_history",
            "--purpose",
            purpose,
            "--price",
            "0",
            "--expires",
            "3600",
        ])
    };
    let sent = ok_json(&run_async(asked("valuation"), None).await);
    let request_id = sent["id"].as_str().expect("id").to_owned();
    assert_eq!(request_id.len(), 64);
    assert_eq!(sent["delivery"], "copy");

    // The owner sees who asks, why, for which days and for how much.
    let pending = ok_json(&run_async(w(&["requests", "list"]), None).await);
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
    let human = run_async(
        s(&["--wallet", &wallet, "--node", &base, "requests", "list"]),
        None,
    )
    .await;
    let shown = text(&human.stdout);
    assert!(human.status.success(), "{}", text(&human.stderr));
    for needle in [
        &request_id[..],
        "Dealer",
        "valuation",
        "2024-05-01 .. 2024-05-03",
        "copy",
    ] {
        assert!(shown.contains(needle), "`{needle}` in {shown}");
    }

    // Bad ids, zones, privileges and periods are input errors, before anything is sent.
    let approve = |id: &str, extra: &[&str]| {
        let mut args = w(&["requests", "approve", "--id", id, "--vid", VID]);
        args.extend(s(extra));
        args
    };
    for (args, needle) in [
        (approve("xyz", &[]), "--id `xyz` is not 32 bytes of hex"),
        (approve(&"ab".repeat(31), &[]), "--id"),
        (
            approve(&request_id, &["--privacy-zone", "91,121.4,300"]),
            "--privacy-zone `91,121.4,300`",
        ),
        (
            approve(&request_id, &["--privacy-zone", "31.2,121.4"]),
            "LAT,LNG,RADIUS_M",
        ),
        (
            approve(&request_id, &["--fields", "gps"]),
            "unknown privilege `gps`",
        ),
        (approve(&request_id, &["--days", "4"]), "--days 4 is longer"),
        (approve(&"00".repeat(32), &[]), "is not pending"),
        (w(&["requests", "reject", "--id", "12"]), "--id"),
        (w(&["grants", "revoke", "--id", "nothex"]), "--id"),
        (w(&["grants", "sync", "--today", "2024-13-01"]), "--today"),
        (
            w(&["grants", "revoke", "--id", &"00".repeat(32)]),
            "not one this wallet made",
        ),
    ] {
        assert_fails(&run_async(args, None).await, 3, needle);
    }
    let unknown_car = w(&[
        "requests",
        "approve",
        "--id",
        &request_id,
        "--vid",
        "NO-SUCH-VID",
    ]);
    assert_fails(&run_async(unknown_car, None).await, 3, "unknown VID");
    assert_fails(
        &run_async(
            p(&[
                "request",
                "--key",
                &key,
                "--owner",
                &owner,
                "--formats",
                "trip-gps",
                "--from",
                "2024-05-03",
                "--to",
                "2024-05-01",
                "--fields",
                "location_history",
                "--purpose",
                "x",
                "--price",
                "0",
            ]),
            None,
        )
        .await,
        3,
        "ends before it starts",
    );

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
    assert_fails(
        &run_async(approve(&request_id, &[]), None).await,
        3,
        "is not pending",
    );
    assert_eq!(
        ok_json(&run_async(w(&["requests", "list"]), None).await),
        json!([])
    );

    // The provider's grant shows in `grants list`, then is revoked.
    let grants = ok_json(&run_async(w(&["grants", "list"]), None).await);
    assert_eq!(
        grants,
        json!([{"grant_id": grant_id, "request_id": request_id, "provider": provider,
                "provider_name": "Dealer", "kind": "copy", "records": 1,
                "status": "active"}])
    );
    let human = run_async(s(&["--wallet", &wallet, "grants", "list"]), None).await;
    assert!(
        text(&human.stdout).contains(&format!("{grant_id}  active")),
        "{}",
        text(&human.stdout)
    );
    // No standing grant: a sync delivers nothing.
    assert_eq!(
        ok_json(&run_async(w(&["grants", "sync", "--today", "2024-05-04"]), None).await),
        json!([])
    );
    let revoked = ok_json(&run_async(w(&["grants", "revoke", "--id", &grant_id]), None).await);
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(
        ok_json(&run_async(w(&["grants", "list"]), None).await)[0]["status"],
        "revoked"
    );

    // A second request is rejected and leaves the inbox.
    let second = ok_json(&run_async(asked("a second look"), None).await);
    let second_id = second["id"].as_str().expect("id").to_owned();
    let listed = ok_json(&run_async(w(&["requests", "list"]), None).await);
    assert_eq!(listed[0]["id"], second_id.as_str(), "{listed}");
    let rejected = ok_json(&run_async(w(&["requests", "reject", "--id", &second_id]), None).await);
    assert_eq!(rejected["rejected"], true);
    assert_eq!(
        ok_json(&run_async(w(&["requests", "list"]), None).await),
        json!([])
    );
    let again = run_async(w(&["requests", "reject", "--id", &second_id]), None).await;
    assert_fails(&again, 3, "already rejected");
    stderr_seen.push_str(&text(&again.stderr));
    assert_no_words(&stderr_seen, &words);
}
