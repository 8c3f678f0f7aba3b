//! The two provider computations shipped with CarChain, compiled from
//! `contracts/src/*.sol` by `contracts/compile.sh` (solcjs, pinned version): a
//! usage-based-insurance score and a mileage total. Each has its calldata encoder, its
//! output decoder and the same formula computed natively in Rust, so tests and
//! benchmarks can compare the EVM with Rust.

use sha2::{Digest, Sha256};

use super::abi::{decode_u64_words, encode_tuple_array_call, selector};
use super::error::ComputeError;
use super::features::TripFeatures;

/// `contracts/out/UbiScore.bin`: creation code, hex.
const UBI_SCORE_BIN: &str = include_str!("../../../contracts/out/UbiScore.bin");
/// `contracts/out/Mileage.bin`: creation code, hex.
const MILEAGE_BIN: &str = include_str!("../../../contracts/out/Mileage.bin");

/// ABI signature of the UBI score entry point.
pub const UBI_SCORE_SIGNATURE: &str = "score((uint256,uint256,uint256,uint256,uint256)[])";
/// ABI signature of the mileage entry point.
pub const MILEAGE_SIGNATURE: &str = "total(uint256[])";

/// The highest (safest) UBI score.
pub const MAX_UBI_SCORE: u64 = 1000;

/// A provider computation shipped with the SDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShippedProgram {
    /// `UbiScore.sol`: a 0..1000 driving score with its components.
    UbiScore,
    /// `Mileage.sol`: total distance and trip count.
    Mileage,
}

impl ShippedProgram {
    /// Every shipped program.
    pub const ALL: [ShippedProgram; 2] = [ShippedProgram::UbiScore, ShippedProgram::Mileage];

    /// The compiled creation code.
    pub fn bytecode(self) -> Result<Vec<u8>, ComputeError> {
        let text = match self {
            ShippedProgram::UbiScore => UBI_SCORE_BIN,
            ShippedProgram::Mileage => MILEAGE_BIN,
        };
        hex::decode(text.trim()).map_err(|_| ComputeError::ArtifactHex)
    }

    /// SHA-256 of the creation code: how a provider names the program it registered.
    pub fn program_hash(self) -> Result<[u8; 32], ComputeError> {
        Ok(program_hash(&self.bytecode()?))
    }

    /// The shipped program with this hash, if any.
    pub fn from_hash(hash: &[u8; 32]) -> Option<ShippedProgram> {
        Self::ALL
            .into_iter()
            .find(|program| program.program_hash().is_ok_and(|h| &h == hash))
    }

    /// Calldata for these trips' features.
    pub fn calldata(self, trips: &[TripFeatures]) -> Vec<u8> {
        match self {
            ShippedProgram::UbiScore => {
                let rows: Vec<[u64; 5]> = trips.iter().map(TripFeatures::to_words).collect();
                encode_tuple_array_call(selector(UBI_SCORE_SIGNATURE), &rows)
            }
            ShippedProgram::Mileage => {
                let rows: Vec<[u64; 1]> = trips.iter().map(|t| [t.distance_m]).collect();
                encode_tuple_array_call(selector(MILEAGE_SIGNATURE), &rows)
            }
        }
    }

    /// Decodes the program's return data.
    pub fn decode(self, output: &[u8]) -> Result<ProgramOutput, ComputeError> {
        Ok(match self {
            ShippedProgram::UbiScore => {
                let [
                    score,
                    distance_m,
                    duration_s,
                    night_s,
                    speeding_s,
                    harsh_events,
                ] = decode_u64_words::<6>(output)?;
                ProgramOutput::UbiScore(UbiScore {
                    score,
                    distance_m,
                    duration_s,
                    night_s,
                    speeding_s,
                    harsh_events,
                })
            }
            ShippedProgram::Mileage => {
                let [total_m, trips] = decode_u64_words::<2>(output)?;
                ProgramOutput::Mileage(MileageTotal { total_m, trips })
            }
        })
    }

    /// The same computation in Rust (the reference the EVM result must equal).
    pub fn compute_natively(self, trips: &[TripFeatures]) -> ProgramOutput {
        match self {
            ShippedProgram::UbiScore => ProgramOutput::UbiScore(ubi_score_native(trips)),
            ShippedProgram::Mileage => ProgramOutput::Mileage(mileage_native(trips)),
        }
    }
}

/// SHA-256 of a program's creation code.
pub fn program_hash(bytecode: &[u8]) -> [u8; 32] {
    Sha256::digest(bytecode).into()
}

/// The decoded result of a shipped program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramOutput {
    /// From [`ShippedProgram::UbiScore`].
    UbiScore(UbiScore),
    /// From [`ShippedProgram::Mileage`].
    Mileage(MileageTotal),
}

/// The UBI score and its components (totals over the trips).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UbiScore {
    /// 0..=1000, higher is safer.
    pub score: u64,
    /// Total distance, metres.
    pub distance_m: u64,
    /// Total duration, seconds.
    pub duration_s: u64,
    /// Total night seconds (22:00-05:00 UTC).
    pub night_s: u64,
    /// Total seconds over the speed limit.
    pub speeding_s: u64,
    /// Total harsh speed changes.
    pub harsh_events: u64,
}

/// The mileage total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MileageTotal {
    /// Sum of the trips' distances, metres.
    pub total_m: u64,
    /// Number of trips.
    pub trips: u64,
}

/// `UbiScore.sol` in Rust: 1000 minus the night, speeding and harsh penalties (see the
/// contract's documentation for the formula). Sums saturate where the contract would
/// revert on overflow, which needs totals beyond 2^64 that trips cannot reach.
pub fn ubi_score_native(trips: &[TripFeatures]) -> UbiScore {
    let sum = |field: fn(&TripFeatures) -> u64| {
        trips
            .iter()
            .fold(0u64, |acc, trip| acc.saturating_add(field(trip)))
    };
    let distance_m = sum(|t| t.distance_m);
    let duration_s = sum(|t| t.duration_s);
    let night_s = sum(|t| t.night_s);
    let speeding_s = sum(|t| t.speeding_s);
    let harsh_events = sum(|t| t.harsh_events);
    let (night_penalty, speeding_penalty) = if duration_s > 0 {
        let duration = u128::from(duration_s);
        (
            (300 * u128::from(night_s) / duration).min(300),
            (800 * u128::from(speeding_s) / duration).min(400),
        )
    } else {
        (0, 0)
    };
    let distance_floor = u128::from(distance_m.max(1000));
    let harsh_penalty = (10 * u128::from(harsh_events) * 100_000 / distance_floor).min(300);
    let penalties = night_penalty + speeding_penalty + harsh_penalty;
    // Each penalty is capped, so together they never exceed 1000.
    let score = u64::try_from(u128::from(MAX_UBI_SCORE).saturating_sub(penalties)).unwrap_or(0);
    UbiScore {
        score,
        distance_m,
        duration_s,
        night_s,
        speeding_s,
        harsh_events,
    }
}

/// `Mileage.sol` in Rust.
pub fn mileage_native(trips: &[TripFeatures]) -> MileageTotal {
    MileageTotal {
        total_m: trips
            .iter()
            .fold(0u64, |acc, trip| acc.saturating_add(trip.distance_m)),
        trips: trips.len() as u64,
    }
}
