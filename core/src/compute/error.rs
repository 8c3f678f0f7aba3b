//! The one error type of compute-to-data: every way running a provider's EVM program,
//! encoding its inputs, decoding its output or checking a signed result can fail.
//!
//! Trip features, gas figures and revert reasons are not secret, so they may appear in
//! messages; no variant carries key material or decrypted record values.

use std::fmt;

use thiserror::Error;

use crate::crypto::CryptoError;
use crate::trip::TripError;

/// Why a provider's program reverted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevertReason {
    /// `revert("...")` / `require(cond, "...")`: Solidity's `Error(string)`.
    Message(String),
    /// A Solidity `Panic(uint256)`: 0x11 is an arithmetic overflow, 0x12 a division by
    /// zero, 0x32 an array index out of bounds (see the Solidity documentation).
    Panic(u64),
    /// A revert with no data (`revert()`, a failed ABI decode of the calldata, ...).
    Empty,
    /// Any other revert data (a custom error), kept raw.
    Custom(Vec<u8>),
}

impl fmt::Display for RevertReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RevertReason::Message(message) => write!(f, "{message:?}"),
            RevertReason::Panic(code) => write!(f, "panic 0x{code:02x}"),
            RevertReason::Empty => f.write_str("no reason given"),
            RevertReason::Custom(data) => write!(f, "custom error 0x{}", hex::encode(data)),
        }
    }
}

/// Everything that can go wrong in the compute module.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ComputeError {
    /// The program used up its gas limit before finishing.
    #[error("the program ran out of gas (limit {gas_limit})")]
    OutOfGas {
        /// The gas limit it was given.
        gas_limit: u64,
    },
    /// The program stopped with `REVERT`.
    #[error("the program reverted: {0}")]
    Reverted(RevertReason),
    /// The bytes are not a runnable program: an unknown opcode, a bad jump, a stack
    /// fault, or creation code that deploys nothing.
    #[error("invalid bytecode: {0}")]
    InvalidBytecode(String),
    /// The program was given no bytecode at all.
    #[error("the program bytecode is empty")]
    EmptyProgram,
    /// The EVM halted for another reason (for example a call made inside a static call).
    #[error("the program halted: {0}")]
    Halted(String),
    /// The EVM refused to start the transaction (never expected with the fixed
    /// environment this module builds).
    #[error("the EVM refused the transaction: {0}")]
    Evm(String),
    /// A compiled artifact is not valid hex.
    #[error("program artifact is not valid hex")]
    ArtifactHex,
    /// The program's output does not have the length its ABI says.
    #[error("program output is {actual} bytes, expected {expected}")]
    OutputLength {
        /// Bytes the ABI expects.
        expected: usize,
        /// Bytes the program returned.
        actual: usize,
    },
    /// An output word is larger than this SDK's 64-bit figures.
    #[error("program output word {index} does not fit in 64 bits")]
    OutputOverflow {
        /// Index of the 32-byte word.
        index: usize,
    },
    /// There must be exactly one dHash per input record.
    #[error("{records} input records but {d_hashes} dHashes")]
    InputCountMismatch {
        /// Number of input records.
        records: usize,
        /// Number of dHashes given.
        d_hashes: usize,
    },
    /// More inputs or output than a signed result can encode (u32 counts).
    #[error("{what} is too long to encode")]
    TooLong {
        /// The field that overflowed.
        what: &'static str,
    },
    /// A trip cannot be turned into features (for example it ends before it starts).
    #[error("trip: {0}")]
    Trip(#[from] TripError),
    /// A speed limit or harsh-change threshold that is not a positive finite number.
    #[error("invalid feature parameter {name}: {value}")]
    InvalidParameter {
        /// Which parameter.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// Signed-result bytes are not a well-formed signed result.
    #[error("malformed signed result: {0}")]
    MalformedResult(&'static str),
    /// The signed result's signature does not verify under the owner's key.
    #[error("the result's signature does not verify under the owner's key")]
    BadSignature,
    /// Encrypting the result for the provider, or opening it, failed.
    #[error("result encryption: {0}")]
    Crypto(#[from] CryptoError),
}

crate::error_code::error_codes!(ComputeError {
    OutOfGas => "compute.out_of_gas",
    Reverted => "compute.reverted",
    InvalidBytecode => "compute.invalid_bytecode",
    EmptyProgram => "compute.empty_program",
    Halted => "compute.halted",
    Evm => "compute.evm",
    ArtifactHex => "compute.artifact_hex",
    OutputLength => "compute.output_length",
    OutputOverflow => "compute.output_overflow",
    InputCountMismatch => "compute.input_count_mismatch",
    TooLong => "compute.too_long",
    Trip => inner,
    InvalidParameter => "compute.invalid_parameter",
    MalformedResult => "compute.malformed_result",
    BadSignature => "compute.bad_signature",
    Crypto => inner,
});
