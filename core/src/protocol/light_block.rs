//! CometBFT light blocks: the signed header (header + commit) and validator sets the
//! light client verifies with `tendermint-light-client-verifier`, and the signer the
//! embedded single-validator node makes them with.
//!
//! Height mapping: the state after ledger block `H` is the `app_hash` of CometBFT header
//! `H + 1` (CometBFT's own rule; the embedded node follows it too), so ledger header `H`
//! is certified by the light block at height `H + 1` ([`light_height_of`]).
//!
//! The embedded node builds its headers with tendermint's own types and signs the
//! canonical vote sign bytes tendermint computes ([`tendermint::vote::Vote::into_signable_vec`]),
//! so the exact same verifier checks a one-validator embedded chain and a CometBFT network.

use tendermint::block::parts::Header as PartSetHeader;
use tendermint::block::{self, Commit, CommitSig, Round};
use tendermint::chain;
use tendermint::hash::AppHash;
use tendermint::validator::{Info, Set};
use tendermint::vote::{self, ValidatorIndex, Vote};
use tendermint::{Hash, PublicKey, Signature, Time};
pub use tendermint_light_client_verifier::types::LightBlock;
use zeroize::Zeroizing;

/// Voting power each validator of an anchor text without powers has (CometBFT's
/// `testnet` default; the embedded validator has it too).
pub const DEFAULT_POWER: u64 = 10;

/// `version.app` of a CarChain chain under a CometBFT engine (the ABCI app's `Info`
/// `app_version`): CometBFT header `H` carries ledger block `H`'s time.
pub const ENGINE_APP_VERSION: u64 = 1;
/// `version.app` of the embedded single-validator node's light blocks: the light block
/// at `H + 1` carries ledger block `H`'s time (see `light::bind` in the SDK).
pub const EMBEDDED_APP_VERSION: u64 = 2;

/// Why a light block could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("light block: {0}")]
pub struct LightBlockError(pub String);

impl LightBlockError {
    /// A stable, machine-readable code for this error: never reworded.
    pub fn code(&self) -> &'static str {
        "light_block.invalid"
    }
}

fn fail(what: impl std::fmt::Display) -> LightBlockError {
    LightBlockError(what.to_string())
}

/// The CometBFT height whose `app_hash` is the state root of ledger block `ledger_height`.
pub fn light_height_of(ledger_height: u64) -> u64 {
    ledger_height.saturating_add(1)
}

/// An ed25519 consensus (validator) key. The secret never appears in Debug output.
#[derive(Clone)]
pub struct ConsensusSigner {
    key: ed25519_consensus::SigningKey,
}

impl std::fmt::Debug for ConsensusSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsensusSigner")
            .field("public", &self.public_hex())
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl ConsensusSigner {
    /// The key with the 32-byte ed25519 seed `seed`.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        ConsensusSigner {
            key: ed25519_consensus::SigningKey::from(*seed),
        }
    }

    /// A fresh key from the operating system's random generator.
    pub fn generate() -> Result<Self, LightBlockError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut_slice()).map_err(|_| fail("no system randomness"))?;
        Ok(Self::from_seed(&seed))
    }

    /// The seed, for the node's key file.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.key.to_bytes())
    }

    /// The public key as tendermint names it.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::Ed25519(self.key.verification_key().into())
    }

    /// The public key in hex (64 characters), as anchors and `carchain-node init` show it.
    pub fn public_hex(&self) -> String {
        hex::encode(self.key.verification_key().as_bytes())
    }

    /// This key as a validator with `power`.
    pub fn validator(&self, power: u64) -> Info {
        Info::new(self.public_key(), vote::Power::from(power_u32(power)))
    }

    fn sign(&self, bytes: &[u8]) -> Result<Signature, LightBlockError> {
        let signature = self.key.sign(bytes);
        Signature::try_from(signature.to_bytes().as_slice()).map_err(fail)
    }
}

fn power_u32(power: u64) -> u32 {
    u32::try_from(power).unwrap_or(u32::MAX)
}

/// A validator set of `validators` (ed25519 keys with their powers).
pub fn validator_set(validators: Vec<Info>) -> Set {
    Set::without_proposer(validators)
}

/// The fields of one CometBFT block that the builder does not derive.
#[derive(Debug, Clone)]
pub struct BlockSpec {
    /// The chain id (CarChain's chain id).
    pub chain_id: String,
    /// CometBFT height (ledger height + 1).
    pub height: u64,
    /// Block time, unix milliseconds.
    pub time_ms: u64,
    /// The app hash: the ledger state root.
    pub app_hash: [u8; 32],
    /// The previous CometBFT block's id (`None` at height 1).
    pub last_block_id: Option<block::Id>,
}

/// Builds and signs a light block: header of `spec` with the hashes of `validators` and
/// `next_validators`, and a commit signed by each of `signers` that is in `validators`
/// (the others are absent).
pub fn build_light_block(
    spec: &BlockSpec,
    validators: &Set,
    next_validators: &Set,
    signers: &[&ConsensusSigner],
) -> Result<LightBlock, LightBlockError> {
    let chain_id = chain::Id::try_from(spec.chain_id.clone()).map_err(fail)?;
    let height = block::Height::try_from(spec.height).map_err(fail)?;
    let time = time_of(spec.time_ms)?;
    let proposer = validators
        .validators()
        .first()
        .map(|v| v.address)
        .ok_or_else(|| fail("an empty validator set"))?;
    let header = block::Header {
        version: tendermint::block::header::Version {
            block: 11,
            app: EMBEDDED_APP_VERSION,
        },
        chain_id: chain_id.clone(),
        height,
        time,
        last_block_id: spec.last_block_id,
        last_commit_hash: None,
        data_hash: None,
        validators_hash: validators.hash(),
        next_validators_hash: next_validators.hash(),
        consensus_hash: Hash::Sha256([0; 32]),
        app_hash: AppHash::try_from(spec.app_hash.to_vec()).map_err(fail)?,
        last_results_hash: None,
        evidence_hash: None,
        proposer_address: proposer,
    };
    let hash = header.hash();
    let block_id = block::Id {
        hash,
        part_set_header: PartSetHeader::new(1, hash).map_err(fail)?,
    };
    let mut signatures = Vec::with_capacity(validators.validators().len());
    for (index, validator) in validators.validators().iter().enumerate() {
        let signer = signers
            .iter()
            .find(|signer| signer.public_key() == validator.pub_key);
        let Some(signer) = signer else {
            signatures.push(CommitSig::BlockIdFlagAbsent);
            continue;
        };
        let vote = Vote {
            vote_type: vote::Type::Precommit,
            height,
            round: Round::default(),
            block_id: Some(block_id),
            timestamp: Some(time),
            validator_address: validator.address,
            validator_index: ValidatorIndex::try_from(index).map_err(fail)?,
            signature: None,
            extension: Vec::new(),
            extension_signature: None,
        };
        let signature = signer.sign(&vote.into_signable_vec(chain_id.clone()))?;
        signatures.push(CommitSig::BlockIdFlagCommit {
            validator_address: validator.address,
            timestamp: time,
            signature: Some(signature),
        });
    }
    let commit = Commit {
        height,
        round: Round::default(),
        block_id,
        signatures,
    };
    let signed_header =
        tendermint::block::signed_header::SignedHeader::new(header, commit).map_err(fail)?;
    Ok(LightBlock::new(
        signed_header,
        validators.clone(),
        next_validators.clone(),
        tendermint::node::Id::new([0; 20]),
    ))
}

/// The id of a light block's header (what the next header names as `last_block_id`).
pub fn block_id_of(light: &LightBlock) -> block::Id {
    light.signed_header.commit.block_id
}

/// Unix milliseconds as a tendermint time.
pub fn time_of(ms: u64) -> Result<Time, LightBlockError> {
    let secs = i64::try_from(ms / 1000).map_err(fail)?;
    let nanos = u32::try_from((ms % 1000) * 1_000_000).map_err(fail)?;
    Time::from_unix_timestamp(secs, nanos).map_err(fail)
}

/// The 32-byte app hash of a light block, if it has that length.
pub fn app_hash_of(light: &LightBlock) -> Option<[u8; 32]> {
    light
        .signed_header
        .header
        .app_hash
        .as_bytes()
        .try_into()
        .ok()
}
