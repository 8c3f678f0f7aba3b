//! Compute-to-data (the seed's `SMcontract` usage grant): a service provider's EVM
//! program runs on the owner's phone over decrypted trip data, and only its result
//! leaves, signed by the owner together with the dHashes of the records it read and
//! encrypted to the provider.
//!
//! - [`evm`]: [`run`] / [`DeployedProgram`]: provider bytecode in `revm` with a gas limit.
//! - [`abi`]: the small Solidity ABI subset the programs use.
//! - [`features`]: [`trip_features`]: per-trip distance, duration, night, speeding, harsh.
//! - [`programs`]: the shipped [`ShippedProgram::UbiScore`] and
//!   [`ShippedProgram::Mileage`] (from `contracts/`), with native Rust references.
//! - [`result`]: [`ComputationResult`], [`SignedResult`] and delivery encryption.
//! - [`usage`]: [`compute_on_trips`], the owner's whole step from trips to a result.

pub mod abi;
pub mod error;
pub mod evm;
pub mod features;
pub mod programs;
pub mod result;
pub mod usage;

pub use error::{ComputeError, RevertReason};
pub use evm::{DEPLOY_GAS_LIMIT, DeployedProgram, Execution, run};
pub use features::{FeatureParams, TripFeatures, night_seconds, trip_features};
pub use programs::{
    MAX_UBI_SCORE, MileageTotal, ProgramOutput, ShippedProgram, UbiScore, mileage_native,
    program_hash, ubi_score_native,
};
pub use result::{ComputationResult, SignedResult};
pub use usage::compute_on_trips;

#[cfg(test)]
mod tests;
