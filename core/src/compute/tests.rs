//! Behaviour of the whole compute module: the shipped programs in the EVM against the
//! same formulas in Rust, gas and bytecode failures, the seed's trip, signed results.

use bitcoin::secp256k1::SecretKey;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::*;
use crate::keys::SigningKey;
use crate::trip::test_vectors::{seed_key, seed_value};
use crate::trip::{Trip, TripPoint};

/// Gas for the shipped programs over a handful of trips.
const GAS: u64 = 1_000_000;

/// 2024-03-01T00:00:00Z.
const MARCH_1: i64 = 1_709_251_200;

fn owner_key(byte: u8) -> SigningKey {
    match SecretKey::from_slice(&[byte; 32]) {
        Ok(secret) => SigningKey::from_secret_key(secret),
        Err(error) => panic!("fixed test key must be valid: {error}"),
    }
}

fn features(
    distance_m: u64,
    duration_s: u64,
    night_s: u64,
    speeding_s: u64,
    harsh: u64,
) -> TripFeatures {
    TripFeatures {
        distance_m,
        duration_s,
        night_s,
        speeding_s,
        harsh_events: harsh,
    }
}

/// A straight eastward trip along the equator with reported speeds, one sample a
/// minute, starting at `start`.
fn built_trip(session_id: i64, start: i64, speeds: &[f64]) -> Trip {
    let points: Vec<TripPoint> = speeds
        .iter()
        .enumerate()
        .map(|(i, speed)| TripPoint {
            lat: 0.0,
            lng: 0.01 * i as f64,
            speed_kmh: Some(*speed),
            time: start + 60 * i as i64,
        })
        .collect();
    let end = start + 60 * (speeds.len() as i64 - 1);
    Trip {
        session_id,
        start,
        end,
        points,
    }
}

fn hand_built_trips() -> Vec<Trip> {
    vec![
        // Night (23:00 UTC), fast, jerky.
        built_trip(1, MARCH_1 - 3600, &[60.0, 130.0, 135.0, 90.0, 140.0]),
        // Daytime, calm.
        built_trip(2, MARCH_1 + 10 * 3600, &[40.0, 50.0, 55.0, 50.0]),
        // Early morning across 05:00.
        built_trip(3, MARCH_1 + 5 * 3600 - 120, &[30.0, 45.0, 125.0, 110.0]),
    ]
}

fn run_shipped(
    program: ShippedProgram,
    trips: &[TripFeatures],
    gas: u64,
) -> Result<ProgramOutput, ComputeError> {
    let output = run(&program.bytecode()?, &program.calldata(trips), gas)?;
    program.decode(&output)
}

#[test]
fn ubi_score_in_the_evm_equals_the_rust_formula() -> Result<(), ComputeError> {
    let cases: Vec<Vec<TripFeatures>> = vec![
        vec![],
        vec![features(0, 0, 0, 0, 0)],
        vec![features(12_000, 1_200, 0, 0, 0)],
        vec![
            features(12_000, 1_200, 600, 300, 3),
            features(500, 100, 100, 100, 40),
        ],
        vec![features(100_000, 4_000, 4_000, 4_000, 1_000)],
        vec![
            features(u64::MAX / 4, 1, 1, 1, 1),
            features(u64::MAX / 4, 1, 0, 0, 0),
        ],
    ];
    for trips in cases {
        let evm = run_shipped(ShippedProgram::UbiScore, &trips, GAS)?;
        assert_eq!(
            evm,
            ShippedProgram::UbiScore.compute_natively(&trips),
            "{trips:?}"
        );
    }
    // Hand-checked values: 12 km, 20 min, half at night, a quarter speeding, 3 harsh.
    // night 300*600/1200 = 150, speeding 800*300/1200 = 200, harsh 10*3*100000/12000 = 250.
    let score_of = |trip: TripFeatures| match run_shipped(ShippedProgram::UbiScore, &[trip], GAS) {
        Ok(ProgramOutput::UbiScore(score)) => score.score,
        other => panic!("UbiScore decodes to a score: {other:?}"),
    };
    assert_eq!(
        score_of(features(12_000, 1_200, 600, 300, 3)),
        1000 - 150 - 200 - 250
    );
    // Caps: everything maxed gives 0; nothing gives 1000.
    assert_eq!(score_of(features(1, 10, 10, 10, 99)), 0);
    assert_eq!(score_of(features(50_000, 3_000, 0, 0, 0)), 1000);
    Ok(())
}

#[test]
fn mileage_in_the_evm_equals_the_rust_sum() -> Result<(), ComputeError> {
    let trips = [
        features(12_345, 0, 0, 0, 0),
        features(0, 0, 0, 0, 0),
        features(987_654, 0, 0, 0, 0),
    ];
    let output = run_shipped(ShippedProgram::Mileage, &trips, GAS)?;
    assert_eq!(
        output,
        ProgramOutput::Mileage(MileageTotal {
            total_m: 999_999,
            trips: 3
        })
    );
    assert_eq!(output, ShippedProgram::Mileage.compute_natively(&trips));
    assert_eq!(
        run_shipped(ShippedProgram::Mileage, &[], GAS)?,
        ProgramOutput::Mileage(MileageTotal {
            total_m: 0,
            trips: 0
        })
    );
    Ok(())
}

#[test]
fn hand_built_trips_score_the_same_in_the_evm_and_in_rust() -> Result<(), ComputeError> {
    let trips = hand_built_trips();
    let params = FeatureParams::default();
    let d_hashes: Vec<[u8; 32]> = (1..=3).map(|i| [i; 32]).collect();
    let feature_list = trips
        .iter()
        .map(|trip| trip_features(trip, &params))
        .collect::<Result<Vec<_>, _>>()?;
    // The night trip: 23:00-23:04 UTC, all at night; 3 of 4 minutes above 120 km/h;
    // +70, -45 and +50 km/h a minute apart are gentle (about 1 km/h per second).
    assert_eq!(feature_list[0].night_s, 240);
    assert_eq!(feature_list[0].speeding_s, 180);
    assert_eq!(feature_list[0].harsh_events, 0);
    // The morning trip: 04:58-05:01, two minutes of night.
    assert_eq!(feature_list[2].night_s, 120);
    assert_eq!(feature_list[2].speeding_s, 60);
    assert_eq!(feature_list[2].harsh_events, 0);

    for program in ShippedProgram::ALL {
        let result = compute_on_trips(program, &trips, d_hashes.clone(), &params, GAS)?;
        assert_eq!(result.program_hash, program.program_hash()?);
        assert_eq!(result.input_d_hashes, d_hashes);
        assert_eq!(
            result.decoded,
            Some(program.compute_natively(&feature_list))
        );
    }
    Ok(())
}

#[test]
fn too_little_gas_is_out_of_gas() -> Result<(), ComputeError> {
    let program = ShippedProgram::UbiScore;
    let trips = vec![features(1_000, 60, 0, 0, 0); 20];
    let calldata = program.calldata(&trips);
    let deployed = DeployedProgram::deploy(&program.bytecode()?)?;
    let used = deployed.call(&calldata, GAS)?.gas_used;
    assert!(
        used > 21_000,
        "a call costs more than the intrinsic gas: {used}"
    );
    // Just enough to start, not enough to finish.
    assert_eq!(
        deployed.call(&calldata, used - 1),
        Err(ComputeError::OutOfGas {
            gas_limit: used - 1
        })
    );
    // Not even the intrinsic cost.
    assert_eq!(
        run(&program.bytecode()?, &calldata, 1_000),
        Err(ComputeError::OutOfGas { gas_limit: 1_000 })
    );
    // Exactly the gas it needs succeeds.
    assert_eq!(deployed.call(&calldata, used)?.gas_used, used);
    Ok(())
}

#[test]
fn garbage_bytecode_is_a_typed_error() -> Result<(), ComputeError> {
    // 0x0c is an unassigned opcode.
    assert!(matches!(
        run(&[0x0c, 0x0c, 0x0c], &[], GAS),
        Err(ComputeError::InvalidBytecode(_))
    ));
    // A jump to a non-JUMPDEST.
    assert!(matches!(
        run(&[0x60, 0x03, 0x56, 0x00], &[], GAS),
        Err(ComputeError::InvalidBytecode(_))
    ));
    // Creation code that returns nothing (STOP) deploys no program.
    assert!(matches!(
        run(&[0x00], &[], GAS),
        Err(ComputeError::InvalidBytecode(_))
    ));
    assert_eq!(run(&[], &[], GAS), Err(ComputeError::EmptyProgram));
    // A runtime that is garbage: creation code returning the single byte 0xfe.
    // PUSH1 0xfe PUSH1 0 MSTORE8 PUSH1 1 PUSH1 0 RETURN
    let deploys_invalid = [0x60, 0xfe, 0x60, 0x00, 0x53, 0x60, 0x01, 0x60, 0x00, 0xf3];
    assert!(matches!(
        run(&deploys_invalid, &[], GAS),
        Err(ComputeError::InvalidBytecode(_))
    ));
    Ok(())
}

#[test]
fn reverts_are_decoded() -> Result<(), ComputeError> {
    let program = ShippedProgram::Mileage;
    let bytecode = program.bytecode()?;
    // An unknown selector: Solidity reverts with no data.
    assert_eq!(
        run(&bytecode, &[1, 2, 3, 4], GAS),
        Err(ComputeError::Reverted(RevertReason::Empty))
    );
    // An array length that promises more words than the calldata holds fails the
    // contract's ABI decoder.
    let mut calldata = program.calldata(&[features(5, 0, 0, 0, 0)]);
    calldata[4 + 63] = 9;
    assert_eq!(
        run(&bytecode, &calldata, GAS),
        Err(ComputeError::Reverted(RevertReason::Empty))
    );
    Ok(())
}

#[test]
fn the_seed_trip_gives_pinned_features() -> Result<(), ComputeError> {
    let trip = Trip::decode(&seed_key(), &seed_value())?;
    let params = FeatureParams {
        speed_limit_kmh: 50.0,
        harsh_kmh_per_s: 10.0,
    };
    let features = trip_features(&trip, &params)?;
    assert_eq!(features, PINNED_SEED_FEATURES, "{features:?}");
    let result = compute_on_trips(
        ShippedProgram::UbiScore,
        &[trip],
        vec![[7; 32]],
        &params,
        GAS,
    )?;
    assert_eq!(result.decoded, Some(PINNED_SEED_SCORE));
    Ok(())
}

/// The seed trip (07:14:28-09:46:23 UTC, ten samples spread evenly, SPEED
/// 0,23,52,45,51,33,49,49,48,37) at a 50 km/h limit and a 10 km/h-per-second harsh
/// threshold: 52 and 51 km/h arrive after 1013 s segments; samples ~17 minutes apart
/// show no harsh change (the largest, 23->52, is 0.03 km/h per second).
const PINNED_SEED_FEATURES: TripFeatures = TripFeatures {
    distance_m: 44_834,
    duration_s: 9_115,
    night_s: 0,
    speeding_s: 2_026,
    harsh_events: 0,
};

/// Speeding 800*2026/9115 = 177, no harsh events, no night: 1000-177.
const PINNED_SEED_SCORE: ProgramOutput = ProgramOutput::UbiScore(UbiScore {
    score: 823,
    distance_m: 44_834,
    duration_s: 9_115,
    night_s: 0,
    speeding_s: 2_026,
    harsh_events: 0,
});

#[test]
fn signed_results_verify_and_tampering_fails() -> Result<(), ComputeError> {
    let owner = owner_key(0x11);
    let trips = hand_built_trips();
    let d_hashes: Vec<[u8; 32]> = (1..=3).map(|i| [i; 32]).collect();
    let result = compute_on_trips(
        ShippedProgram::UbiScore,
        &trips,
        d_hashes,
        &FeatureParams::default(),
        GAS,
    )?;
    let signed = result.sign_result(&owner)?;
    signed.verify(&owner.public_key())?;

    // Another key did not sign it.
    assert_eq!(
        signed.verify(&owner_key(0x22).public_key()),
        Err(ComputeError::BadSignature)
    );
    // Each signed field is covered.
    let mut tampered = signed.clone();
    tampered.result.output[31] ^= 1;
    assert_eq!(
        tampered.verify(&owner.public_key()),
        Err(ComputeError::BadSignature)
    );
    let mut tampered = signed.clone();
    tampered.result.program_hash[0] ^= 1;
    assert_eq!(
        tampered.verify(&owner.public_key()),
        Err(ComputeError::BadSignature)
    );
    let mut tampered = signed.clone();
    tampered.result.input_d_hashes.pop();
    assert_eq!(
        tampered.verify(&owner.public_key()),
        Err(ComputeError::BadSignature)
    );
    let mut tampered = signed.clone();
    tampered.result.input_d_hashes.swap(0, 1);
    assert_eq!(
        tampered.verify(&owner.public_key()),
        Err(ComputeError::BadSignature)
    );
    Ok(())
}

#[test]
fn the_digest_is_pinned() -> Result<(), ComputeError> {
    let result = ComputationResult::new([0xAA; 32], vec![[0x01; 32], [0x02; 32]], vec![0xDE, 0xAD]);
    let mut preimage = b"carchain/compute-result/v1".to_vec();
    preimage.extend_from_slice(&[0xAA; 32]);
    preimage.extend_from_slice(&[0, 0, 0, 2]);
    preimage.extend_from_slice(&[0x01; 32]);
    preimage.extend_from_slice(&[0x02; 32]);
    preimage.extend_from_slice(&[0, 0, 0, 2, 0xDE, 0xAD]);
    let expected: [u8; 32] = sha2::Sha256::digest(&preimage).into();
    assert_eq!(result.digest()?, expected);
    assert_eq!(hex::encode(result.digest()?), PINNED_DIGEST_HEX);
    Ok(())
}

const PINNED_DIGEST_HEX: &str = "87a460075dcdbde4d179a4f46412bc1938f05a6bc13c19db5dd858620a036d48";

use sha2::Digest as _;

#[test]
fn delivery_bytes_round_trip_and_bad_bytes_are_refused() -> Result<(), ComputeError> {
    let owner = owner_key(0x33);
    let program = ShippedProgram::Mileage;
    let result = ComputationResult::new(
        program.program_hash()?,
        vec![[9; 32]],
        program.calldata(&[])[4..].to_vec(),
    );
    let signed = result.sign_result(&owner)?;
    let bytes = signed.to_bytes()?;
    let back = SignedResult::from_bytes(&bytes)?;
    assert_eq!(back, signed);
    back.verify(&owner.public_key())?;
    assert_eq!(
        back.result.decoded,
        Some(ProgramOutput::Mileage(MileageTotal {
            total_m: 32,
            trips: 0
        }))
    );

    assert_eq!(
        SignedResult::from_bytes(&bytes[..bytes.len() - 1]),
        Err(ComputeError::MalformedResult("truncated"))
    );
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        SignedResult::from_bytes(&longer),
        Err(ComputeError::MalformedResult("trailing bytes"))
    );
    let mut version = bytes.clone();
    version[0] = 2;
    assert_eq!(
        SignedResult::from_bytes(&version),
        Err(ComputeError::MalformedResult("unknown version"))
    );
    let mut count = bytes.clone();
    count[33..37].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        SignedResult::from_bytes(&count),
        Err(ComputeError::MalformedResult(_))
    ));
    assert!(SignedResult::from_bytes(&[]).is_err());
    Ok(())
}

#[test]
fn results_are_encrypted_to_the_provider_only() -> Result<(), ComputeError> {
    let mut rng = ChaCha20Rng::from_seed([0x5A; 32]);
    let provider = rsa::PrivateKey::new(&mut rng, 2048).map_err(|_| ComputeError::BadSignature)?;
    let outsider = rsa::PrivateKey::new(&mut rng, 2048).map_err(|_| ComputeError::BadSignature)?;
    let owner = owner_key(0x44);
    let program = ShippedProgram::UbiScore;
    let result = compute_on_trips(
        program,
        &hand_built_trips(),
        vec![[1; 32], [2; 32], [3; 32]],
        &FeatureParams::default(),
        GAS,
    )?;
    let signed = result.sign_result(&owner)?;
    let sealed = signed.encrypt_for(provider.as_ref())?;
    // The output does not appear in clear.
    assert!(!sealed.windows(64).any(|w| w == &signed.result.output[..64]));

    let opened = SignedResult::decrypt(&sealed, &program.program_hash()?, &provider)?;
    assert_eq!(opened, signed);
    opened.verify(&owner.public_key())?;

    assert!(matches!(
        SignedResult::decrypt(&sealed, &program.program_hash()?, &outsider),
        Err(ComputeError::Crypto(_))
    ));
    // Bound to the program: claiming another program's hash fails to open.
    assert!(matches!(
        SignedResult::decrypt(&sealed, &ShippedProgram::Mileage.program_hash()?, &provider),
        Err(ComputeError::Crypto(_))
    ));
    Ok(())
}

#[test]
fn mismatched_inputs_are_refused() {
    let trips = hand_built_trips();
    assert_eq!(
        compute_on_trips(
            ShippedProgram::Mileage,
            &trips,
            vec![[0; 32]],
            &FeatureParams::default(),
            GAS
        ),
        Err(ComputeError::InputCountMismatch {
            records: 3,
            d_hashes: 1
        })
    );
}

#[test]
fn committed_artifacts_are_the_pinned_builds() -> Result<(), ComputeError> {
    // contracts/compile.sh (solc 0.8.30) prints these; a rebuild must give the same bytes.
    assert_eq!(
        hex::encode(ShippedProgram::UbiScore.program_hash()?),
        "a38b0e2b490c8f62c2bf8973cffb03991b204a19cb0f94e8463c48c64179ad37"
    );
    assert_eq!(
        hex::encode(ShippedProgram::Mileage.program_hash()?),
        "6b3ce85072aa7deefa04ee8d4dc9608d83890944ba78ba3bde0c8ea2754e5bde"
    );
    for program in ShippedProgram::ALL {
        assert_eq!(
            ShippedProgram::from_hash(&program.program_hash()?),
            Some(program)
        );
    }
    assert_eq!(ShippedProgram::from_hash(&[0; 32]), None);
    // The selectors the encoder uses are the ones compiled into the runtime.
    let ubi = ShippedProgram::UbiScore.bytecode()?;
    let mileage = ShippedProgram::Mileage.bytecode()?;
    let ubi_selector = abi::selector(programs::UBI_SCORE_SIGNATURE);
    let mileage_selector = abi::selector(programs::MILEAGE_SIGNATURE);
    assert!(ubi.windows(4).any(|w| w == ubi_selector));
    assert!(mileage.windows(4).any(|w| w == mileage_selector));
    Ok(())
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn any_features() -> impl Strategy<Value = TripFeatures> {
        // Values below 2^40 keep every total within 64 bits, as real trips do.
        let value = 0u64..(1 << 40);
        (
            value.clone(),
            value.clone(),
            value.clone(),
            value.clone(),
            value,
        )
            .prop_map(
                |(distance_m, duration_s, night_s, speeding_s, harsh_events)| TripFeatures {
                    distance_m,
                    duration_s,
                    night_s,
                    speeding_s,
                    harsh_events,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn evm_and_rust_agree_on_any_trips(trips in prop::collection::vec(any_features(), 0..12)) {
            for program in ShippedProgram::ALL {
                let evm = run_shipped(program, &trips, GAS).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(evm, program.compute_natively(&trips));
            }
            let ProgramOutput::UbiScore(score) = ShippedProgram::UbiScore.compute_natively(&trips) else {
                return Err(TestCaseError::fail("UbiScore computes a score"));
            };
            prop_assert!(score.score <= MAX_UBI_SCORE);
        }
    }
}
