//! Running a provider's EVM program in `revm` (an interpreter, so it is allowed on
//! iOS): the creation code is deployed into an empty in-memory state, then the deployed
//! code is called with the ABI-encoded inputs under the caller's gas limit.
//!
//! The environment is fixed and isolated: Prague rules, no prior state, no balances, a
//! zero gas price, no block data worth reading. A program can only compute over its
//! calldata; whatever it tries to write is thrown away after the call.

use revm::bytecode::Bytecode;
use revm::context::result::{ExecutionResult, HaltReason, Output};
use revm::context::{Context, TxEnv};
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, Bytes, TxKind};
use revm::state::AccountInfo;
use revm::{ExecuteEvm, MainBuilder, MainContext};

use super::abi::decode_revert;
use super::error::ComputeError;

/// Gas allowed to the deployment of a program (its constructor), separate from the
/// gas limit of the computation itself.
pub const DEPLOY_GAS_LIMIT: u64 = 10_000_000;

/// The address that sends the deployment and the call.
const CALLER: Address = Address::new([0xCC; 20]);
/// The address the program's code is installed at for calls.
const PROGRAM_ADDRESS: Address = Address::new([0xC0; 20]);

/// What one call of a program produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    /// The bytes the program returned.
    pub output: Vec<u8>,
    /// Gas the call used, including the transaction's intrinsic cost.
    pub gas_used: u64,
}

/// A program deployed once and callable many times.
#[derive(Debug, Clone)]
pub struct DeployedProgram {
    runtime: Bytecode,
}

impl DeployedProgram {
    /// Runs `creation_code` (a compiler's `.bin`: constructor plus runtime code) and
    /// keeps the code it deploys.
    pub fn deploy(creation_code: &[u8]) -> Result<Self, ComputeError> {
        if creation_code.is_empty() {
            return Err(ComputeError::EmptyProgram);
        }
        let mut evm = Context::mainnet()
            .modify_cfg_chained(configure)
            .with_db(CacheDB::new(EmptyDB::default()))
            .build_mainnet();
        let tx = transaction(TxKind::Create, creation_code.to_vec(), DEPLOY_GAS_LIMIT);
        let result = evm
            .transact(tx)
            .map_err(|error| ComputeError::Evm(error.to_string()))?
            .result;
        let runtime = match outcome(result, DEPLOY_GAS_LIMIT)? {
            (Output::Create(code, _), _) => code,
            (Output::Call(_), _) => {
                return Err(ComputeError::InvalidBytecode(
                    "deployment did not create a contract".into(),
                ));
            }
        };
        if runtime.is_empty() {
            return Err(ComputeError::InvalidBytecode(
                "the creation code deployed no runtime code".into(),
            ));
        }
        Ok(DeployedProgram {
            runtime: Bytecode::new_raw(runtime),
        })
    }

    /// The deployed (runtime) code.
    pub fn runtime_code(&self) -> &[u8] {
        self.runtime.original_byte_slice()
    }

    /// Calls the program with `calldata`; the call may spend at most `gas_limit` gas,
    /// counting the transaction's intrinsic cost (21 000 plus the calldata's cost).
    pub fn call(&self, calldata: &[u8], gas_limit: u64) -> Result<Execution, ComputeError> {
        let mut db = CacheDB::new(EmptyDB::default());
        db.insert_account_info(
            PROGRAM_ADDRESS,
            AccountInfo::default().with_code(self.runtime.clone()),
        );
        let mut evm = Context::mainnet()
            .modify_cfg_chained(configure)
            .with_db(db)
            .build_mainnet();
        let tx = transaction(TxKind::Call(PROGRAM_ADDRESS), calldata.to_vec(), gas_limit);
        let result = match evm.transact(tx) {
            Ok(result) => result.result,
            // Below the intrinsic cost the call cannot even start: that is running out
            // of gas as far as the caller is concerned.
            Err(revm::context::result::EVMError::Transaction(error))
                if is_intrinsic_gas_error(&error) =>
            {
                return Err(ComputeError::OutOfGas { gas_limit });
            }
            Err(error) => return Err(ComputeError::Evm(error.to_string())),
        };
        let (output, gas_used) = outcome(result, gas_limit)?;
        Ok(Execution {
            output: output.into_data().to_vec(),
            gas_used,
        })
    }
}

/// Deploys `creation_code` and calls it once with `calldata` under `gas_limit`,
/// returning the program's output bytes.
pub fn run(creation_code: &[u8], calldata: &[u8], gas_limit: u64) -> Result<Vec<u8>, ComputeError> {
    Ok(DeployedProgram::deploy(creation_code)?
        .call(calldata, gas_limit)?
        .output)
}

fn configure(cfg: &mut revm::context::CfgEnv) {
    cfg.set_spec_and_mainnet_gas_params(SpecId::PRAGUE);
    // The program runs on the phone, not in a block: only the caller's limit applies.
    cfg.tx_gas_limit_cap = Some(u64::MAX);
}

fn transaction(kind: TxKind, data: Vec<u8>, gas_limit: u64) -> TxEnv {
    TxEnv::builder()
        .caller(CALLER)
        .kind(kind)
        .data(Bytes::from(data))
        .gas_limit(gas_limit)
        .gas_price(0)
        .nonce(0)
        .build_fill()
}

fn is_intrinsic_gas_error(error: &revm::context::result::InvalidTransaction) -> bool {
    use revm::context::result::InvalidTransaction as Invalid;
    matches!(
        error,
        Invalid::CallGasCostMoreThanGasLimit { .. } | Invalid::GasFloorMoreThanGasLimit { .. }
    )
}

/// The output and gas used of a finished execution, or the typed reason it failed.
fn outcome(result: ExecutionResult, gas_limit: u64) -> Result<(Output, u64), ComputeError> {
    match result {
        ExecutionResult::Success { output, gas, .. } => Ok((output, gas.used())),
        ExecutionResult::Revert { output, .. } => {
            Err(ComputeError::Reverted(decode_revert(&output)))
        }
        ExecutionResult::Halt { reason, .. } => Err(halt_error(reason, gas_limit)),
    }
}

fn halt_error(reason: HaltReason, gas_limit: u64) -> ComputeError {
    match reason {
        HaltReason::OutOfGas(_) => ComputeError::OutOfGas { gas_limit },
        HaltReason::OpcodeNotFound
        | HaltReason::InvalidFEOpcode
        | HaltReason::InvalidJump
        | HaltReason::NotActivated
        | HaltReason::StackUnderflow
        | HaltReason::StackOverflow
        | HaltReason::CreateContractStartingWithEF
        | HaltReason::CreateContractSizeLimit
        | HaltReason::CreateInitCodeSizeLimit => {
            ComputeError::InvalidBytecode(format!("{reason:?}"))
        }
        other => ComputeError::Halted(format!("{other:?}")),
    }
}
