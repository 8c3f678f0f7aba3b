//! The tour run in a temporary folder: `summary.json` checked against what was
//! simulated (the insurer's UBI score recomputed natively from the simulated trips, the
//! owner paid the price less the approval's fees), the files it promises, and
//! `index.html` looked at in headless Chromium
//! (the DOM must hold the trip paths; a screenshot is kept under
//! `target/tour-artifacts/`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

use std::path::{Path, PathBuf};
use std::process::Command;

use carchain_core::compute::{FeatureParams, trip_features, ubi_score_native};
use carchain_core::protocol::fee_for;
use carchain_core::protocol::{DataResponse, EscrowDeliver, Grant, GrantKind, TxBody};
use carchain_core::trip::{Trip, TripError};
use carchain_examples::maps::CAR_COLOURS;
use carchain_examples::sim::{CarSimulator, SimConfig};
use carchain_examples::tour::{
    TOUR_CARS, TourOptions, TourSummary, UBI_PRICE, home_zone, run_tour,
};

fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("tour-artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser"] {
        if let Ok(out) = Command::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
            && out.status.success()
        {
            return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        }
    }
    panic!(
        "headless Chromium is needed to look at the tour's maps: install Debian's package \
         with `apt-get install -y chromium` (or run ./scripts/setup)"
    );
}

fn chromium_run(extra: &[&str], page: &Path) -> std::process::Output {
    let profile = tempfile::tempdir().expect("profile dir");
    let url = format!("file://{}", page.display());
    Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            // Offline, whatever the machine can reach: the map must draw its tracks
            // without tiles.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            // Time for the page's script (Leaflet) to run before the DOM or the
            // screenshot is taken.
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tour_reads_back_everything_and_its_maps_render_in_chromium() {
    let out = tempfile::tempdir().expect("out");
    let mut options = TourOptions::new(out.path());
    options.days = 3;
    options.verbose = false;
    let summary = run_tour(&options).await.expect("tour");

    // What the simulator produces for the same cars and days.
    let mut trips = 0;
    let mut violations = 0;
    for (vid, _) in TOUR_CARS {
        let mut sim = CarSimulator::new(&SimConfig::default(), vid).expect("sim");
        for day in sim.days(options.first_day, 3) {
            trips += day.trips.len() as u64;
            violations += day.violations.len() as u64;
        }
    }
    let text = std::fs::read_to_string(out.path().join("summary.json")).expect("summary.json");
    let written: TourSummary = serde_json::from_str(&text).expect("summary parses");
    assert_eq!(written, summary);
    assert!(trips >= 6, "{trips}");
    assert_eq!(written.trips_put, trips);
    assert_eq!(written.violations_put, violations);
    assert_eq!(written.records_put, trips + violations);
    assert_eq!(written.trips_read, trips);
    assert_eq!(written.violations_read, violations);
    assert_eq!(written.range_records, trips);
    assert!(written.all_read_back, "{:?}", written.mismatches);
    assert!(written.mismatches.is_empty());
    assert_eq!(written.cars.len(), 2);
    // Each car's trips sit under its days' pool addresses (the tour checks the range read
    // against the day reads; a mismatch would be listed above): at least one, at most one
    // per day with trips. Whether two days share one address depends on the random pool.
    assert!(
        written
            .cars
            .iter()
            .all(|c| c.days_with_trips >= 2 && (1..=c.days_with_trips).contains(&c.addresses_used)),
        "{:?}",
        written.cars
    );
    assert!(
        written.ubi.owner_balance_before < written.owner_funded,
        "fees were paid"
    );

    // The insurer's step: the signed score arrived and is the score of the first car's
    // trips with the home zone trimmed (trips wholly inside it left out).
    let ubi = &written.ubi;
    assert_eq!(ubi.status, "delivered");
    let first_car_trips: Vec<Trip> = CarSimulator::new(&SimConfig::default(), TOUR_CARS[0].0)
        .expect("sim")
        .days(options.first_day, 3)
        .into_iter()
        .flat_map(|d| d.trips.into_iter().map(|t| t.trip))
        .collect();
    let zone = home_zone(&first_car_trips[0].points[0]).expect("zone");
    let mut features = Vec::new();
    for trip in &first_car_trips {
        match trip.trim_privacy_zones(&[zone]) {
            Ok(trimmed) => {
                features
                    .push(trip_features(&trimmed, &FeatureParams::default()).expect("features"));
            }
            Err(TripError::EntirelyPrivate) => {}
            Err(err) => panic!("trim: {err}"),
        }
    }
    assert!(!features.is_empty());
    assert_eq!(ubi.trips_used, features.len() as u64);
    assert_eq!(ubi.score, ubi_score_native(&features).score);
    // The owner was paid the price, less the Grant, DataResponse and EscrowDeliver fees
    // (the delivery record's put fee is reimbursed while phase 1 lasts).
    assert_eq!(ubi.price, UBI_PRICE);
    let approval_fees = fee_for(&TxBody::Grant(Grant {
        grant_id: [0; 32],
        grantee_address: String::new(),
        records_commitment: [0; 32],
        copy_tags: Vec::new(),
        kind: GrantKind::Usage { code_hash: [0; 32] },
        expires_at: None,
    })) + fee_for(&TxBody::DataResponse(DataResponse {
        request_id: [0; 32],
        approved: true,
        grant_id: None,
    })) + fee_for(&TxBody::EscrowDeliver(EscrowDeliver {
        escrow_id: [0; 32],
        d_hash_root: [0; 32],
    }));
    assert_eq!(
        ubi.owner_balance_after,
        ubi.owner_balance_before + UBI_PRICE - approval_fees
    );
    assert_eq!(written.owner_balance, ubi.owner_balance_after);
    assert!(written.timings.total_ms > 0);

    // The promised files exist.
    for file in &written.files {
        let path = out.path().join(file);
        assert!(path.metadata().expect(file).len() > 0, "{file} empty");
    }
    let maps = written.files.iter().filter(|f| f.ends_with(".svg")).count();
    let map_pngs: Vec<&String> = written
        .files
        .iter()
        .filter(|f| f.ends_with(".png") && !f.starts_with("leaflet/"))
        .collect();
    let pngs = map_pngs.len();
    assert_eq!(maps, 6, "one map per car and day");
    assert_eq!(pngs, 6);
    let geojson: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("trips.geojson")).expect("geojson"),
    )
    .expect("geojson parses");
    assert_eq!(
        geojson["features"].as_array().map(Vec::len),
        Some(trips as usize)
    );
    let gpx = std::fs::read_to_string(out.path().join("trips.gpx")).expect("gpx");
    assert_eq!(gpx.matches("<trk>").count(), trips as usize);

    // Chromium renders the page: the DOM holds one path per trip, and a screenshot is
    // kept for a human to look at.
    let index = out.path().join("index.html");
    let dom = chromium_run(&["--dump-dom"], &index);
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(dom.matches("class=\"trip-path\"").count(), trips as usize);
    assert_eq!(dom.matches("<section class=\"day\"").count(), 6);
    assert!(dom.contains("href=\"trips.geojson\""));
    // The interactive map ran offline: Leaflet drew one track per trip, the scale and
    // the layer switch, and no tile loaded.
    assert_eq!(
        dom.matches("class=\"trip-track leaflet-interactive\"")
            .count(),
        trips as usize,
        "one Leaflet track per trip"
    );
    assert!(dom.contains(&format!("data-trips=\"{trips}\"")));
    assert!(dom.contains("leaflet-control-scale"));
    assert!(dom.contains("leaflet-control-layers"));
    assert!(out.path().join("leaflet/leaflet.js").exists());
    let shot = artifacts_dir().join("tour-index.png");
    let _ = std::fs::remove_file(&shot);
    let run = chromium_run(
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1000,1400",
        ],
        &index,
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 10_000,
        "screenshot too small: {} bytes",
        png.len()
    );
    // The screenshot's pixels: the map (at the top of the page) shows each car's track
    // in its colour on the plain offline background.
    for colour in &CAR_COLOURS[..TOUR_CARS.len()] {
        let drawn = pixels_of_colour(&png, colour, 700);
        assert!(
            drawn > 150,
            "track colour {colour}: only {drawn} pixels on the map"
        );
    }
    // Every PNG map draws its legend's labels (the text of "parking violation (carvio)"
    // in the legend band at the bottom right), not only its shapes.
    for file in &map_pngs {
        let map = std::fs::read(out.path().join(file)).expect("map png");
        let dark = legend_label_pixels(&map);
        assert!(
            dark > 200,
            "{file}: the legend's labels are missing ({dark} dark pixels)"
        );
    }
    for file in map_pngs.iter().take(1) {
        std::fs::copy(out.path().join(file), artifacts_dir().join(file)).expect("copy map");
    }
}

/// Dark pixels (label text, drawn in #333) in a map PNG's legend band right of the last
/// legend symbol: none when labels are dropped.
fn legend_label_pixels(png: &[u8]) -> usize {
    let pixmap = resvg::tiny_skia::Pixmap::decode_png(png).expect("map decodes");
    let (width, height) = (pixmap.width(), pixmap.height());
    let mut dark = 0;
    for y in height.saturating_sub(45)..height.saturating_sub(15) {
        for x in 454..width {
            let pixel = pixmap.pixel(x, y).expect("inside");
            if pixel.red() < 120 && pixel.green() < 120 && pixel.blue() < 120 {
                dark += 1;
            }
        }
    }
    dark
}

/// Pixels within a few steps of `colour` (`#rrggbb`) in the top `rows` of a screenshot.
fn pixels_of_colour(png: &[u8], colour: &str, rows: u32) -> usize {
    let channel = |i: usize| u8::from_str_radix(&colour[i..i + 2], 16).expect("hex colour");
    let (r, g, b) = (channel(1), channel(3), channel(5));
    let pixmap = resvg::tiny_skia::Pixmap::decode_png(png).expect("screenshot decodes");
    let near = |a: u8, b: u8| a.abs_diff(b) <= 40;
    let mut count = 0;
    for y in 0..rows.min(pixmap.height()) {
        for x in 0..pixmap.width() {
            let p = pixmap.pixel(x, y).expect("inside").demultiply();
            if near(p.red(), r) && near(p.green(), g) && near(p.blue(), b) {
                count += 1;
            }
        }
    }
    count
}
