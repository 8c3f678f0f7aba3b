//! The owner's export against a real in-process node: a car writes three days of trips,
//! the wallet exports them as one archive, anyone verifies it offline without the
//! wallet's keys; tampering with any file (a record value, a CSV cell, a GPX point, a
//! proof, a header, a ciphertext, a record key, the manifest) is refused with its
//! `export.*` code, and bad input (a car of another wallet, bad paths and periods, a
//! node that cannot be reached, cut archives, newer versions) leaves no file behind.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod support;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use carchain_core::export::archive::{pack, unpack};
use carchain_core::export::manifest::{FILES, FileEntry, MANIFEST, Manifest};
use carchain_core::export::{verify_export, verify_export_file};
use carchain_core::light::{ConsensusSigner, LightClient, TrustAnchor};
use carchain_core::wallet::WalletError;
use serde_json::Value;
use support::closed_endpoint;
use support::flows::{WORDS_A, WORDS_B, day, owner_with_car, trip_on, wallet};

type Files = Vec<(String, Vec<u8>)>;

fn files_of(archive: &[u8]) -> Files {
    unpack(archive, &FILES).expect("unpack")
}

/// The archive with `change` applied to its files, the manifest's entries rewritten to
/// the changed files when `reseal` (so only the deeper checks can catch it).
fn tampered(archive: &[u8], reseal: bool, change: impl FnOnce(&mut Files)) -> Vec<u8> {
    let mut files = files_of(archive);
    change(&mut files);
    if reseal {
        let mut manifest = Manifest::parse(&files[0].1).expect("manifest");
        manifest.files = files[1..]
            .iter()
            .map(|(name, bytes)| FileEntry::of(name, bytes))
            .collect();
        files[0].1 = manifest.to_bytes().expect("manifest bytes");
    }
    let refs: Vec<(&str, Vec<u8>)> = files
        .iter()
        .map(|(name, bytes)| (name.as_str(), bytes.clone()))
        .collect();
    pack(&refs).expect("pack")
}

fn file_mut<'a>(files: &'a mut Files, name: &str) -> &'a mut Vec<u8> {
    &mut files
        .iter_mut()
        .find(|(n, _)| n == name)
        .expect("file present")
        .1
}

fn edit_json(files: &mut Files, name: &str, edit: impl FnOnce(&mut Value)) {
    let bytes = file_mut(files, name);
    let mut doc: Value = serde_json::from_slice(bytes).expect("json");
    edit(&mut doc);
    *bytes = serde_json::to_vec_pretty(&doc).expect("json");
    bytes.push(b'\n');
}

fn replace_once(files: &mut Files, name: &str, from: &str, to: &str) {
    let bytes = file_mut(files, name);
    let text = String::from_utf8(bytes.clone()).expect("utf-8");
    assert!(text.contains(from), "{name} holds no {from:?}");
    *bytes = text.replacen(from, to, 1).into_bytes();
}

fn code_of(archive: &[u8], trusted: Option<&TrustAnchor>) -> &'static str {
    verify_export(archive, trusted)
        .map(|report| panic!("tampered archive verified: {report:?}"))
        .unwrap_err()
        .code()
}

fn export_code(err: WalletError) -> &'static str {
    match err {
        WalletError::Export(err) => err.code(),
        other => panic!("not an export error: {other:?}"),
    }
}

fn dir_entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_verifies_offline_and_every_tampering_is_caught() {
    let owner = wallet(WORDS_A);
    let stranger = wallet(WORDS_B);
    let (node, light, _dir, car) = owner_with_car(&owner, "VIN-EXPORT-ONE", "export car", 16).await;
    let mut trips = Vec::new();
    for d in 1..=3 {
        let trip = trip_on(day(d), i64::from(d), (48.1, 11.5));
        car.put_trip(&trip, 1, day(d)).expect("put trip");
        trips.push(trip);
    }
    assert_eq!(car.flush(&light).await.expect("flush").delivered, 3);

    let out_dir = tempfile::tempdir().expect("out dir");
    let out = out_dir.path().join("car.tar");
    let report = owner
        .export(&light, car.vid(), day(1), day(3), &out)
        .await
        .expect("export");
    assert_eq!((report.records, report.trips), (3, 3));
    assert_eq!(report.vid, "VIN-EXPORT-ONE");
    assert_eq!(
        (report.from.as_str(), report.to.as_str()),
        ("2024-05-01", "2024-05-03")
    );
    assert_eq!(dir_entries(out_dir.path()), vec!["car.tar".to_owned()]);

    // Offline, without the wallet: the archive's own anchor, and the anchor trusted.
    let archive = std::fs::read(&out).expect("read");
    drop(node);
    let offline = verify_export_file(&out, Some(&light.anchor().clone())).expect("verify");
    assert_eq!(offline, report);
    assert_eq!(verify_export(&archive, None).expect("verify"), report);

    // What people open: every trip in the JSON, CSV, GeoJSON and GPX.
    let files = files_of(&archive);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, FILES.to_vec());
    let text = |name: &str| {
        String::from_utf8(
            files
                .iter()
                .find(|(n, _)| n == name)
                .expect("file")
                .1
                .clone(),
        )
        .expect("utf-8")
    };
    let records: Value = serde_json::from_str(&text("records.json")).expect("records");
    assert_eq!(records.as_array().map(Vec::len), Some(3));
    assert_eq!(records[0]["format"], "trip-gps");
    assert_eq!(records[0]["key"]["SESSION_ID"], 1);
    assert_eq!(text("records.csv").lines().count(), 4);
    assert_eq!(text("trips.gpx").matches("<trk>").count(), 3);
    assert_eq!(text("trips.geojson").matches("LineString").count(), 3);
    // The archive holds no owner key, epoch key or pool seed.
    let whole = String::from_utf8_lossy(&archive).into_owned();
    assert!(!whole.contains(&owner.owner_address()));

    let first_gpx_lat = {
        let gpx = text("trips.gpx");
        let at = gpx.find("lat=\"").expect("a point") + 5;
        gpx[at..at + 6].to_owned()
    };
    let anchor = light.anchor().clone();
    // (what, reseal the manifest, change, expected code)
    type Change = Box<dyn FnOnce(&mut Files)>;
    let cases: Vec<(&str, bool, Change, &str)> = vec![
        (
            "record value, manifest left",
            false,
            Box::new(|f| edit_json(f, "records.json", |d| d[0]["value"]["format"] = "x".into())),
            "export.file_changed",
        ),
        (
            "record value",
            true,
            Box::new(|f| {
                edit_json(f, "records.json", |d| {
                    d[1]["value"]["SESSION_ID_NOTE"] = "added".into();
                });
            }),
            "export.derived_mismatch",
        ),
        (
            "record key",
            true,
            Box::new(|f| edit_json(f, "records.json", |d| d[2]["key"]["SESSION_ID"] = 9.into())),
            "export.derived_mismatch",
        ),
        (
            "CSV cell",
            true,
            Box::new(|f| replace_once(f, "records.csv", "trip-gps", "trip-gpz")),
            "export.derived_mismatch",
        ),
        (
            "GPX point",
            true,
            Box::new(move |f| {
                let lat = first_gpx_lat.clone();
                let moved = format!("{}9", &lat[..lat.len() - 1]);
                replace_once(
                    f,
                    "trips.gpx",
                    &format!("lat=\"{lat}"),
                    &format!("lat=\"{moved}"),
                );
            }),
            "export.derived_mismatch",
        ),
        (
            "GeoJSON track",
            true,
            Box::new(|f| replace_once(f, "trips.geojson", "LineString", "MultiPoint")),
            "export.derived_mismatch",
        ),
        (
            "registration proof",
            true,
            Box::new(|f| {
                edit_json(f, "ledger/records.json", |d| {
                    let proof = d[0]["proof"]["proof"].as_str().expect("proof").to_owned();
                    let flipped = if proof.ends_with('0') { "1" } else { "0" };
                    d[0]["proof"]["proof"] =
                        format!("{}{flipped}", &proof[..proof.len() - 1]).into();
                });
            }),
            "export.proof_invalid",
        ),
        (
            "registration value",
            true,
            Box::new(|f| {
                edit_json(f, "ledger/records.json", |d| {
                    d[0]["proof"]["value"] = d[1]["proof"]["value"].clone();
                });
            }),
            "export.proof_invalid",
        ),
        (
            "ciphertext",
            true,
            Box::new(|f| {
                edit_json(f, "ledger/records.json", |d| {
                    let mut bytes = BASE64
                        .decode(d[0]["envelope"].as_str().expect("envelope"))
                        .expect("base64");
                    bytes[40] ^= 1;
                    d[0]["envelope"] = BASE64.encode(bytes).into();
                });
            }),
            "export.record_invalid",
        ),
        (
            "record key of another record",
            true,
            Box::new(|f| {
                edit_json(f, "ledger/records.json", |d| {
                    d[0]["record_key"] = d[1]["record_key"].clone();
                });
            }),
            "export.record_invalid",
        ),
        (
            "a record left out",
            true,
            Box::new(|f| {
                edit_json(f, "ledger/records.json", |d| {
                    d.as_array_mut().expect("array").remove(1);
                });
            }),
            "export.incomplete",
        ),
        (
            "an index proof left out",
            true,
            Box::new(|f| {
                edit_json(f, "ledger/addresses.json", |d| {
                    d.as_array_mut().expect("array").remove(0);
                });
            }),
            "export.incomplete",
        ),
        (
            "header state root",
            true,
            Box::new(|f| {
                edit_json(f, "ledger/headers.json", |d| {
                    let header = d[0]["header"].as_str().expect("header").to_owned();
                    let mut bytes = hex::decode(header).expect("hex");
                    let at = bytes.len() / 2;
                    bytes[at] ^= 1;
                    d[0]["header"] = hex::encode(bytes).into();
                });
            }),
            "export.header_invalid",
        ),
        (
            "light blocks left out",
            true,
            Box::new(|f| edit_json(f, "ledger/light_blocks.json", |d| *d = Value::Array(vec![]))),
            "export.header_invalid",
        ),
        (
            "the certifying light block left out",
            true,
            Box::new(|f| {
                edit_json(f, "ledger/light_blocks.json", |d| {
                    d.as_array_mut().expect("array").pop();
                });
            }),
            "export.header_invalid",
        ),
        (
            "the certifying light block's app hash",
            true,
            Box::new(|f| {
                edit_json(f, "ledger/light_blocks.json", |d| {
                    let last = d
                        .as_array_mut()
                        .expect("array")
                        .last_mut()
                        .expect("a block");
                    last["signed_header"]["header"]["app_hash"] = "AB".repeat(32).into();
                });
            }),
            "export.header_invalid",
        ),
        (
            "header height",
            true,
            Box::new(|f| edit_json(f, "ledger/headers.json", |d| d[0]["height"] = 1.into())),
            "export.header_invalid",
        ),
        (
            "manifest hash",
            false,
            Box::new(|f| replace_once(f, MANIFEST, "\"sha256\": \"", "\"sha256\": \"0")),
            "export.file_changed",
        ),
        (
            "manifest file list",
            false,
            Box::new(|f| {
                edit_json(f, MANIFEST, |d| {
                    d["files"].as_array_mut().expect("files").remove(1);
                });
            }),
            "export.manifest",
        ),
        (
            "manifest record count",
            false,
            Box::new(|f| edit_json(f, MANIFEST, |d| d["records"] = 2.into())),
            "export.manifest",
        ),
        (
            "manifest anchor",
            false,
            Box::new(|f| {
                edit_json(f, MANIFEST, |d| {
                    d["anchor"]["root"] = ConsensusSigner::from_seed(&[7; 32]).public_hex().into();
                });
            }),
            "export.anchor_mismatch",
        ),
        (
            "manifest version",
            false,
            Box::new(|f| edit_json(f, MANIFEST, |d| d["version"] = 3.into())),
            "export.newer_version",
        ),
        (
            "manifest format",
            false,
            Box::new(|f| edit_json(f, MANIFEST, |d| d["format"] = "something-else".into())),
            "export.not_an_export",
        ),
        (
            "files reordered",
            false,
            Box::new(|f| f.swap(0, 1)),
            "export.not_an_export",
        ),
        (
            "a file added",
            true,
            Box::new(|f| f.push(("records.json".into(), b"[]".to_vec()))),
            "export.manifest",
        ),
    ];
    for (what, reseal, change, expected) in cases {
        let bad = tampered(&archive, reseal, change);
        assert_eq!(code_of(&bad, Some(&anchor)), expected, "{what}");
    }
    // Without a trusted anchor, an archive re-anchored to another validator still fails:
    // its light blocks are not committed by that validator.
    let reanchored = tampered(&archive, false, |f| {
        edit_json(f, MANIFEST, |d| {
            d["anchor"]["root"] = ConsensusSigner::from_seed(&[7; 32]).public_hex().into();
        });
    });
    let code = code_of(&reanchored, None);
    assert!(
        code == "export.header_invalid" || code == "export.manifest",
        "{code}"
    );
    // Cut archives, an unknown container.
    for cut in [
        100,
        512,
        archive.len() / 2,
        archive.len() - 1024,
        archive.len() - 1,
    ] {
        assert_eq!(
            code_of(&archive[..cut], None),
            "export.truncated",
            "cut at {cut}"
        );
    }
    assert_eq!(
        code_of(b"PK\x03\x04 a zip file", None),
        "export.not_an_export"
    );
    assert_eq!(
        verify_export_file(out_dir.path().join("missing.tar"), None)
            .unwrap_err()
            .code(),
        "export.io"
    );

    // Bad input to the export itself leaves nothing behind.
    let empty = tempfile::tempdir().expect("empty dir");
    let target = empty.path().join("x.tar");
    let err = stranger
        .export(&light, car.vid(), day(1), day(3), &target)
        .await
        .unwrap_err();
    assert_eq!(export_code(err), "export.unknown_car");
    let err = owner
        .export(&light, car.vid(), day(3), day(1), &target)
        .await
        .unwrap_err();
    assert_eq!(export_code(err), "export.invalid_period");
    let err = owner
        .export(
            &light,
            car.vid(),
            day(1),
            day(3),
            empty.path().join("no/such/dir.tar"),
        )
        .await
        .unwrap_err();
    assert_eq!(export_code(err), "export.io");
    let err = owner
        .export(&light, car.vid(), day(1), day(3), empty.path())
        .await
        .unwrap_err();
    assert_eq!(export_code(err), "export.io");
    assert!(dir_entries(empty.path()).is_empty());
    // A node that cannot be reached: the old file stays as it was, no temp file.
    std::fs::write(&target, b"the previous export").expect("write");
    let unreachable = LightClient::new(vec![closed_endpoint()], anchor.clone()).expect("client");
    let err = owner
        .export(&unreachable, car.vid(), day(1), day(3), &target)
        .await
        .unwrap_err();
    assert!(matches!(err, WalletError::Light(_)), "{err:?}");
    assert_eq!(
        std::fs::read(&target).expect("read"),
        b"the previous export"
    );
    assert_eq!(dir_entries(empty.path()), vec!["x.tar".to_owned()]);
}
