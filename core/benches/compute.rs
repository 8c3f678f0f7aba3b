//! Compute-to-data benchmark: the UBI score over 120 trips (about a month of driving)
//! run as provider bytecode in revm, beside the same score computed natively in Rust,
//! measured in the same run (the machine is shared and noisy: compare ratios).
//!
//! | benchmark                               | baseline                           |
//! |-----------------------------------------|------------------------------------|
//! | EVM: deploy + call, 120 trips           | native Rust score, 120 trips       |
//! | EVM: call of a deployed program         | native Rust score, 120 trips       |
//! | features of 120 trips of 200 points     | (what the phone computes first)    |
//!
//! The printed line `ratio evm/native` is the EVM's cost as a multiple of native Rust.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

use std::hint::black_box;
use std::time::Instant;

use carchain_core::compute::{
    DeployedProgram, FeatureParams, ShippedProgram, TripFeatures, run, trip_features,
    ubi_score_native,
};
use carchain_core::trip::Trip;
use criterion::{Criterion, criterion_group, criterion_main};
use support::Drive;

mod support;

const TRIPS: usize = 120;
const GAS_LIMIT: u64 = 30_000_000;

/// A plausible trip of `points` samples around Shanghai, one per 5 s, starting on a
/// different hour of the day per session so some trips are at night.
fn synthetic_trip(session_id: i64, points: usize) -> Trip {
    let drive = Drive {
        start: 1_462_950_868 + session_id * 6 * 3_600 + session_id * 97,
        phase: session_id as f64,
        min_speed_kmh: 40.0,
        speed_swing_kmh: 90.0,
        speed_period: 13.0,
    };
    support::synthetic_trip(session_id, points, &drive)
}

fn month_of_features(trips: &[Trip]) -> Vec<TripFeatures> {
    trips
        .iter()
        .map(|trip| trip_features(trip, &FeatureParams::default()).expect("features"))
        .collect()
}

fn benches(c: &mut Criterion) {
    let trips: Vec<Trip> = (0..TRIPS as i64).map(|i| synthetic_trip(i, 200)).collect();
    let features = month_of_features(&trips);
    let program = ShippedProgram::UbiScore;
    let bytecode = program.bytecode().expect("bytecode");
    let calldata = program.calldata(&features);
    let deployed = DeployedProgram::deploy(&bytecode).expect("deploy");

    // The EVM and Rust must agree before their speeds are compared.
    let output = deployed.call(&calldata, GAS_LIMIT).expect("call");
    assert_eq!(
        program.decode(&output.output).expect("decode"),
        program.compute_natively(&features)
    );
    println!("ubi score over {TRIPS} trips: {} gas", output.gas_used);

    let mut group = c.benchmark_group("compute");
    group.bench_function("evm_deploy_and_call_ubi_120_trips", |b| {
        b.iter(|| run(black_box(&bytecode), black_box(&calldata), GAS_LIMIT).expect("run"));
    });
    group.bench_function("evm_call_ubi_120_trips", |b| {
        b.iter(|| {
            deployed
                .call(black_box(&calldata), GAS_LIMIT)
                .expect("call")
        });
    });
    group.bench_function("native_ubi_120_trips", |b| {
        b.iter(|| ubi_score_native(black_box(&features)));
    });
    group.bench_function("features_120_trips_200_points", |b| {
        b.iter(|| month_of_features(black_box(&trips)));
    });
    group.finish();

    print_ratio(&bytecode, &calldata, &features);
}

/// A direct timing of both sides, so one run prints the ratio without criterion's
/// report files.
fn print_ratio(bytecode: &[u8], calldata: &[u8], features: &[TripFeatures]) {
    const ROUNDS: u32 = 200;
    let start = Instant::now();
    for _ in 0..ROUNDS {
        black_box(run(black_box(bytecode), black_box(calldata), GAS_LIMIT).expect("run"));
    }
    let evm = start.elapsed() / ROUNDS;
    let start = Instant::now();
    for _ in 0..ROUNDS * 100 {
        black_box(ubi_score_native(black_box(features)));
    }
    let native = start.elapsed() / (ROUNDS * 100);
    println!(
        "ratio evm/native (ubi score, {TRIPS} trips): {:.0}x  (evm {:?}, native {:?})",
        evm.as_secs_f64() / native.as_secs_f64().max(1e-12),
        evm,
        native
    );
}

criterion_group!(compute, benches);
criterion_main!(compute);
