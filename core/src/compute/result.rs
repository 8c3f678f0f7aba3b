//! A computation's result as the owner delivers it: the program's hash, the dHashes of
//! the records it read, its output, signed by the owner and encrypted to the provider.
//!
//! Canonical digest the owner signs (secp256k1, low-S compact, over SHA-256):
//!
//! ```text
//! SHA-256( "carchain/compute-result/v1"
//!          || program hash (32)
//!          || u32be(count) || each input dHash (32 each, in input order)
//!          || u32be(len)   || output bytes )
//! ```
//!
//! Delivery bytes ([`SignedResult::to_bytes`]): `version 1 || program hash ||
//! u32be(count) || dHashes || u32be(len) || output || signature (64)`.
//! [`SignedResult::encrypt_for`] seals those bytes in a crypto-module [`Envelope`] to
//! the provider's RSA key, bound to the program hash and the format
//! [`COMPUTE_RESULT_FORMAT`].

use bitcoin::CompressedPublicKey;
use rsa::{PrivateKey, PublicKey};
use sha2::{Digest, Sha256};

use crate::crypto::{Envelope, EpochKeyCache, RecordContext, SealingEpoch, seal};
use crate::keys::signing::{COMPACT_SIGNATURE_LEN, CompactSignature, SigningKey, verify_digest};

use super::error::ComputeError;
use super::programs::{ProgramOutput, ShippedProgram};

/// Domain tag that starts the signed digest.
pub const COMPUTE_RESULT_DOMAIN: &[u8] = b"carchain/compute-result/v1";
/// Version byte of the delivery encoding.
pub const SIGNED_RESULT_VERSION: u8 = 1;
/// Envelope format name of an encrypted result.
pub const COMPUTE_RESULT_FORMAT: &str = "compute-result";
/// Envelope address field of an encrypted result (results live in no data address).
pub const COMPUTE_RESULT_ADDRESS: &str = "carchain/compute-result";

/// What a computation produced, before it is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputationResult {
    /// SHA-256 of the program's creation code.
    pub program_hash: [u8; 32],
    /// The dHash of every record the program read, in input order.
    pub input_d_hashes: Vec<[u8; 32]>,
    /// The program's return data.
    pub output: Vec<u8>,
    /// The output decoded, when the program is a shipped one.
    pub decoded: Option<ProgramOutput>,
}

impl ComputationResult {
    /// A result; `decoded` is filled in when `program_hash` names a shipped program
    /// whose decoder accepts `output`.
    pub fn new(program_hash: [u8; 32], input_d_hashes: Vec<[u8; 32]>, output: Vec<u8>) -> Self {
        let decoded = ShippedProgram::from_hash(&program_hash)
            .and_then(|program| program.decode(&output).ok());
        ComputationResult {
            program_hash,
            input_d_hashes,
            output,
            decoded,
        }
    }

    /// The canonical digest the owner signs (see the module documentation).
    pub fn digest(&self) -> Result<[u8; 32], ComputeError> {
        let mut hasher = Sha256::new();
        hasher.update(COMPUTE_RESULT_DOMAIN);
        hasher.update(self.program_hash);
        hasher.update(len_u32(self.input_d_hashes.len(), "input dHash list")?);
        for d_hash in &self.input_d_hashes {
            hasher.update(d_hash);
        }
        hasher.update(len_u32(self.output.len(), "output")?);
        hasher.update(&self.output);
        Ok(hasher.finalize().into())
    }

    /// Signs the result with the owner's identity key.
    pub fn sign_result(self, owner: &SigningKey) -> Result<SignedResult, ComputeError> {
        let signature = owner.sign_digest(self.digest()?);
        Ok(SignedResult {
            result: self,
            signature,
        })
    }
}

/// A result signed by the owner: what the provider receives (encrypted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedResult {
    /// The result.
    pub result: ComputationResult,
    /// The owner's signature over [`ComputationResult::digest`].
    pub signature: CompactSignature,
}

impl SignedResult {
    /// Checks the signature under the owner's public key: any change to the program
    /// hash, the dHashes or the output fails.
    pub fn verify(&self, owner: &CompressedPublicKey) -> Result<(), ComputeError> {
        if verify_digest(owner, &self.result.digest()?, &self.signature) {
            Ok(())
        } else {
            Err(ComputeError::BadSignature)
        }
    }

    /// The canonical delivery bytes (see the module documentation).
    pub fn to_bytes(&self) -> Result<Vec<u8>, ComputeError> {
        let result = &self.result;
        let mut out = Vec::with_capacity(
            1 + 32 + 4 + 32 * result.input_d_hashes.len() + 4 + result.output.len() + 64,
        );
        out.push(SIGNED_RESULT_VERSION);
        out.extend_from_slice(&result.program_hash);
        out.extend_from_slice(&len_u32(result.input_d_hashes.len(), "input dHash list")?);
        for d_hash in &result.input_d_hashes {
            out.extend_from_slice(d_hash);
        }
        out.extend_from_slice(&len_u32(result.output.len(), "output")?);
        out.extend_from_slice(&result.output);
        out.extend_from_slice(&self.signature.to_bytes());
        Ok(out)
    }

    /// Parses [`Self::to_bytes`]; the signature is not checked here (call
    /// [`Self::verify`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ComputeError> {
        let mut reader = Reader(bytes);
        if reader.take::<1>()? != [SIGNED_RESULT_VERSION] {
            return Err(ComputeError::MalformedResult("unknown version"));
        }
        let program_hash = reader.take::<32>()?;
        let count = u32::from_be_bytes(reader.take::<4>()?) as usize;
        if count > reader.0.len() / 32 {
            return Err(ComputeError::MalformedResult(
                "dHash count exceeds the input",
            ));
        }
        let mut input_d_hashes = Vec::with_capacity(count);
        for _ in 0..count {
            input_d_hashes.push(reader.take::<32>()?);
        }
        let len = u32::from_be_bytes(reader.take::<4>()?) as usize;
        let output = reader.take_slice(len)?.to_vec();
        let signature = CompactSignature(reader.take::<COMPACT_SIGNATURE_LEN>()?);
        if !reader.0.is_empty() {
            return Err(ComputeError::MalformedResult("trailing bytes"));
        }
        Ok(SignedResult {
            result: ComputationResult::new(program_hash, input_d_hashes, output),
            signature,
        })
    }

    /// Encrypts the delivery bytes to the provider's RSA public key (one fresh key,
    /// wrapped once, in the crypto module's envelope).
    pub fn encrypt_for(&self, provider: &PublicKey) -> Result<Vec<u8>, ComputeError> {
        let epoch = SealingEpoch::new(provider)?;
        let envelope = seal(
            &self.to_bytes()?,
            &envelope_context(&self.result.program_hash),
            &epoch,
        )?;
        Ok(envelope.to_bytes()?)
    }

    /// The provider's side of [`Self::encrypt_for`]: opens the envelope for a result of
    /// the program `program_hash` and parses it. Verify the signature afterwards.
    pub fn decrypt(
        envelope: &[u8],
        program_hash: &[u8; 32],
        provider: &PrivateKey,
    ) -> Result<Self, ComputeError> {
        let envelope = Envelope::from_bytes(envelope)?;
        let mut cache = EpochKeyCache::new();
        let plain =
            envelope.open_with_owner_key(&envelope_context(program_hash), provider, &mut cache)?;
        Self::from_bytes(&plain)
    }
}

fn envelope_context(program_hash: &[u8; 32]) -> RecordContext<'_> {
    RecordContext {
        address: COMPUTE_RESULT_ADDRESS,
        key_bytes: program_hash,
        format: COMPUTE_RESULT_FORMAT,
    }
}

fn len_u32(len: usize, what: &'static str) -> Result<[u8; 4], ComputeError> {
    u32::try_from(len)
        .map(u32::to_be_bytes)
        .map_err(|_| ComputeError::TooLong { what })
}

/// A cursor over delivery bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take_slice(&mut self, len: usize) -> Result<&'a [u8], ComputeError> {
        let (head, rest) = self
            .0
            .split_at_checked(len)
            .ok_or(ComputeError::MalformedResult("truncated"))?;
        self.0 = rest;
        Ok(head)
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], ComputeError> {
        self.take_slice(N)?
            .try_into()
            .map_err(|_| ComputeError::MalformedResult("truncated"))
    }
}
