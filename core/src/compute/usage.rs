//! The owner's side of a usage grant: decrypted trips in, a result out. Features are
//! computed in Rust, ABI-encoded, the provider's program runs in the EVM under a gas
//! limit, and the output is bound to the program hash and the input records' dHashes.

use crate::trip::Trip;

use super::error::ComputeError;
use super::evm::{DeployedProgram, Execution};
use super::features::{FeatureParams, TripFeatures, trip_features};
use super::programs::{ShippedProgram, program_hash};
use super::result::ComputationResult;

/// Runs a shipped program over `trips` (each with its record's dHash, same order).
pub fn compute_on_trips(
    program: ShippedProgram,
    trips: &[Trip],
    input_d_hashes: Vec<[u8; 32]>,
    params: &FeatureParams,
    gas_limit: u64,
) -> Result<ComputationResult, ComputeError> {
    if trips.len() != input_d_hashes.len() {
        return Err(ComputeError::InputCountMismatch {
            records: trips.len(),
            d_hashes: input_d_hashes.len(),
        });
    }
    let features = trips
        .iter()
        .map(|trip| trip_features(trip, params))
        .collect::<Result<Vec<TripFeatures>, _>>()?;
    let bytecode = program.bytecode()?;
    let execution = run_program(&bytecode, &program.calldata(&features), gas_limit)?;
    let result = ComputationResult::new(program_hash(&bytecode), input_d_hashes, execution.output);
    // A shipped program's output must decode; surface the decoder's error if not.
    if result.decoded.is_none() {
        program.decode(&result.output)?;
    }
    Ok(result)
}

/// Deploys `bytecode` and calls it once.
fn run_program(
    bytecode: &[u8],
    calldata: &[u8],
    gas_limit: u64,
) -> Result<Execution, ComputeError> {
    DeployedProgram::deploy(bytecode)?.call(calldata, gas_limit)
}
