//! `carchain record put|update|get|list` against a separately started `carchain-node`
//! binary (shared mode): the owner pairs a car through the CLI, puts the seed's VIN
//! record, updates it (both versions readable), keeps a custom service-history record
//! from a file and lists it, and one from stdin with a key as the design writes it;
//! bad input exits 3 naming its `owner_record.*` code, with no panic and nothing
//! written.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod cli_run;
use carchain_testkit::node_process;
mod support;

use carchain_examples::seed_vectors::{VIN_KEY, VIN_VALUE};
use cli_run::{Case, Flags, ok_json, pair, run, run_table_async};
use serde_json::{Value, json};
use support::flows::WORDS_A;
use support::{AGENT, CHAIN_ID};

const VID: &str = "LSVREC2024000001";
const DAY: &str = "2024-05-01";

/// `record <verb> --vid V --date D --format F [--fields FIELDS] --key K` and `rest`
/// (`format` is the format's name, then its fields when custom).
fn record(
    verb: &str,
    vid: &str,
    date: &str,
    format: &[&str],
    key: &str,
    rest: &[&str],
) -> Vec<String> {
    let mut args = vec![
        "record", verb, "--vid", vid, "--date", date, "--format", format[0],
    ];
    if let Some(fields) = format.get(1) {
        args.extend(["--fields", fields]);
    }
    args.extend(["--key", key]);
    args.extend_from_slice(rest);
    args.into_iter().map(str::to_owned).collect()
}

/// [`record`] of the seed's VIN key for the paired car on [`DAY`].
fn vin(verb: &str, rest: &[&str]) -> Vec<String> {
    record(verb, VID, DAY, &["VIN_CODE"], VIN_KEY, rest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_keeps_its_records_from_the_command_line() {
    let dir = tempfile::tempdir().expect("dir");
    let path = |name: &str| dir.path().join(name).to_str().expect("path").to_owned();
    let (wallet, car) = (path("owner.db"), path("car.db"));
    let restored = run(
        &["--wallet", &wallet, "--json", "wallet", "restore"],
        Some(WORDS_A),
    );
    let address = ok_json(&restored)["owner_address"]
        .as_str()
        .expect("address")
        .to_owned();
    let node = node_process::start(CHAIN_ID, &[(&address, 1_000_000_000)], &["--agent", AGENT]);
    let owner = Flags::new(&["--wallet", &wallet, "--node", &node.base, "--json"]);
    let car_flags = Flags::new(&["--node", &node.base, "--json"]);

    // Pairing: the car shows its code, owner and car pair together.
    let (paired, car_side) = pair(&owner, &car_flags, (&car, VID), "car", AGENT).await;
    assert_eq!(ok_json(&car_side)["paired"], true);
    ok_json(&paired);

    // The seed's VIN record, then a second version.
    let put = owner.ok(&vin("put", &["--value", VIN_VALUE])).await;
    assert_eq!(
        (put["version"].clone(), put["date"].clone()),
        (json!(1), json!(DAY))
    );
    run_table_async(vec![Case::new(
        &owner.args(&vin("put", &["--value", r#"{"VIN":"X"}"#])),
        3,
        "owner_record.exists",
    )])
    .await;
    let corrected = r#"{"VIN":"LBVNU79049SB81546","MAKE":"SAIC"}"#;
    assert_eq!(
        owner.ok(&vin("update", &["--value", corrected])).await["version"],
        2
    );
    let latest = owner.ok(&vin("get", &["--column", "MAKE"])).await;
    assert_eq!(
        (latest["version"].clone(), latest["value"].clone()),
        (json!(2), json!({"MAKE": "SAIC"}))
    );
    let versions = owner.ok(&vin("get", &["--versions"])).await;
    let values: Vec<_> = versions
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["value"]["VIN"].clone())
        .collect();
    assert_eq!(values, vec![json!("LBVNU79049SB81546"); 2]);
    assert_eq!(
        versions[0]["value"],
        serde_json::from_str::<Value>(VIN_VALUE).expect("seed")
    );

    // A custom format, its value from a file; listed with its version count.
    let file = path("service.json");
    std::fs::write(
        &file,
        r#"{"work": "oil and brakes", "km": 42000, "parts, labour": 310}"#,
    )
    .expect("file");
    let service = ["service-history", "DATE,SHOP"];
    let key = r#"{"DATE": 20240502, "SHOP": "Pudong Motors"}"#;
    let day2 = "2024-05-02";
    owner
        .ok(&record(
            "put",
            VID,
            day2,
            &service,
            key,
            &["--value-file", &file],
        ))
        .await;
    let mut list: Vec<String> = [
        "record",
        "list",
        "--vid",
        VID,
        "--from",
        DAY,
        "--to",
        "2024-05-07",
    ]
    .map(str::to_owned)
    .to_vec();
    list.extend(["--format", service[0], "--fields", service[1]].map(str::to_owned));
    let listed = owner.ok(&list).await;
    assert_eq!(listed["records"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["records"][0]["key"]["SHOP"], "Pudong Motors");
    assert_eq!(listed["records"][0]["value"]["km"], 42000);
    assert_eq!(listed["records"][0]["versions"], 1);
    // Columns: `--columns` splits on commas; `--column` takes a name as written, so a
    // field whose name has a comma in it can be kept.
    list.extend(["--columns", "km", "--column", "parts, labour"].map(str::to_owned));
    let narrowed = owner.ok(&list).await;
    assert_eq!(
        narrowed["records"][0]["value"],
        json!({"km": 42000, "parts, labour": 310})
    );

    // Bad input: formats, keys, values, sizes and records the wallet does not own.
    let big = path("big.json");
    std::fs::write(&big, format!(r#"{{"doc": "{}"}}"#, "x".repeat(5 << 20))).expect("big");
    let empty = ["--value", "{}"];
    let refused = |args: Vec<String>, code: &str| Case::new(&owner.args(&args), 3, code);
    run_table_async(vec![
        refused(
            record("put", VID, DAY, &["insurance"], "{}", &empty),
            "owner_record.unknown_format",
        ),
        refused(
            record("put", VID, DAY, &["docs", "A,A"], "{}", &empty),
            "owner_record.invalid_format",
        ),
        refused(
            record("put", VID, DAY, &["trip-gps"], "{}", &empty),
            "owner_record.reserved_format",
        ),
        refused(
            record("put", VID, DAY, &["VIN_CODE"], r#"{"VIN": 1}"#, &empty),
            "owner_record.invalid_key",
        ),
        refused(
            vin("put", &["--value-file", &big]),
            "owner_record.value_too_large",
        ),
        refused(
            record("update", VID, "2024-05-03", &["VIN_CODE"], VIN_KEY, &empty),
            "owner_record.not_owned",
        ),
        refused(
            record("put", "NO-SUCH-CAR", DAY, &["VIN_CODE"], VIN_KEY, &empty),
            "unknown VID",
        ),
    ])
    .await;
    // Nothing was written: the VIN still has its two versions.
    let after = owner.ok(&vin("get", &["--versions"])).await;
    assert_eq!(after.as_array().map(Vec::len), Some(2));

    // A key as the design writes it, and a value longer than a command-line argument
    // may be, piped in on stdin.
    let scan = "y".repeat(200_000);
    let day4 = "2024-05-04";
    let key4 = r#"{"DATE"=20240504, "SHOP"="Pudong Motors"}"#;
    let stdin = ["--value-file", "-"];
    run_table_async(vec![
        Case::new(
            &owner.args(&record("put", VID, day4, &service, key4, &stdin)),
            0,
            "\"version\": 1",
        )
        .stdin(&format!(r#"{{"scan"="{scan}"}}"#)),
        Case::new(
            &owner.args(&record("update", VID, day4, &service, key4, &stdin)),
            0,
            "\"version\": 2",
        )
        .stdin(r#"{"scan"="again"}"#),
    ])
    .await;
    let versions = owner
        .ok(&record("get", VID, day4, &service, key4, &["--versions"]))
        .await;
    assert_eq!(versions[0]["value"]["scan"], scan.as_str());
    assert_eq!(versions[1]["value"]["scan"], "again");
}
