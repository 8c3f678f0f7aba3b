//! The seam between the ledger and its transports: what the HTTP API (and later an
//! RPC or a BFT engine's query path) asks of a running node.
//!
//! The ledger side (`chain` + `state`) implements [`LedgerService`]; the `api` module
//! serves it over HTTP. Every failure carries a stable [`ErrorCode`] so clients can act
//! on it without parsing messages.

use std::future::Future;

use carchain_core::protocol::{InclusionProof, SignedHeader, SignedTransaction};
use serde::{Deserialize, Serialize};

use crate::kv::{KvError, KvHealth, KvStore, PutOutcome, RangePage};

/// How a node stores data (the seed's agency modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeMode {
    /// Stores only the data of the devices that named this node as their agent.
    Private,
    /// Stores everyone's data and earns the storage fees.
    Shared,
}

/// What a submission achieved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitReceipt {
    /// The transaction id (hex in JSON).
    #[serde(with = "hex::serde")]
    pub tx_id: [u8; 32],
    /// The block that holds it, when the caller waited for the commit.
    pub height: Option<u64>,
    /// Its position in that block.
    pub index: Option<u32>,
}

/// A committed transaction with what a light client needs to check it.
#[derive(Debug, Clone)]
pub struct TxLookup {
    /// The transaction.
    pub tx: SignedTransaction,
    /// The block height.
    pub height: u64,
    /// Its index in the block.
    pub index: u32,
    /// Inclusion proof against `header.header.tx_root`.
    pub proof: InclusionProof,
    /// The block's signed header.
    pub header: SignedHeader,
}

/// Which piece of state to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateQuery {
    /// An account by address.
    Account(String),
    /// A device by VID.
    Device(String),
    /// A record registration by data address and key bytes.
    Record {
        /// Data address.
        address: String,
        /// Encoded record key.
        key: Vec<u8>,
    },
    /// The index (record count + key digest) of a data address.
    AddressIndex(String),
    /// A grant by id.
    Grant([u8; 32]),
    /// A service provider by address.
    Provider(String),
    /// A data request by id.
    Request([u8; 32]),
    /// An escrow by id.
    Escrow([u8; 32]),
    /// A fee stamp in the spent set, by its id (value: the height that spent it).
    SpentStamp([u8; 32]),
    /// A validator's total stake and voting power, by its ed25519 consensus key.
    ValidatorStake([u8; 32]),
    /// One account's stake with one validator.
    Delegation {
        /// The validator's ed25519 consensus key.
        validator: [u8; 32],
        /// The account's address.
        delegator: String,
    },
    /// The unbondings the block at a height releases.
    Unbonding(u64),
    /// The chain's fee schedule (absent: the default schedule).
    FeeSchedule,
}

/// A state value (or its absence) proven against a committed header.
#[derive(Debug, Clone)]
pub struct StateAnswer {
    /// Height of the header whose `state_root` the proof is against.
    pub height: u64,
    /// That header's state root.
    pub state_root: [u8; 32],
    /// The tree key that was looked up.
    pub key_hash: [u8; 32],
    /// Canonical bytes of the value, `None` when absent.
    pub value: Option<Vec<u8>>,
    /// The value as JSON for people and scripts (not for verification).
    pub value_json: Option<serde_json::Value>,
    /// The proof, as `carchain_core::protocol::encode_state_proof` gives it.
    pub proof: String,
}

/// A range read within one data address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeRequest {
    /// The data address.
    pub address: String,
    /// First key (inclusive).
    pub start: Vec<u8>,
    /// Last key (inclusive).
    pub end: Vec<u8>,
    /// Page size, 1..=1000.
    pub limit: u32,
    /// Cursor from the previous page.
    pub after: Option<Vec<u8>>,
}

impl RangeRequest {
    /// Reads this page from `kv`.
    pub fn read(&self, kv: &dyn KvStore) -> Result<RangePage, ServiceError> {
        kv.range(
            &self.address,
            &self.start,
            &self.end,
            self.limit,
            self.after.as_deref(),
        )
        .map_err(ServiceError::from)
    }
}

pub use carchain_core::protocol::api::WriteCredential;

/// Who asks for write credentials (`POST /v1/credentials`), signing the request: a
/// paired device with its device key, or the owner of a paired device with the owner
/// key. Issuance is authenticated; spending is anonymous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialHolder {
    /// A device paired with this node as its agent.
    Device {
        /// Its VID.
        vid: String,
    },
    /// The owner of a device paired with this node as its agent.
    Owner {
        /// The VID of one of the owner's devices on this node.
        vid: String,
        /// The owner's public key (its P2WPKH address is the device's owner address).
        owner_pubkey: bitcoin::secp256k1::PublicKey,
    },
}

/// A request for write credentials: blinded token messages and the holder's signature
/// over [`carchain_core::protocol::credential_request_digest`]-style bytes (see
/// [`crate::writes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRequest {
    /// Who asks.
    pub holder: CredentialHolder,
    /// Unix seconds of the request (accepted within a few minutes of the node's clock).
    pub time: u64,
    /// The blinded messages to sign, one per credential.
    pub blinded: Vec<Vec<u8>>,
    /// The holder key's compact signature over the request digest.
    pub signature: [u8; 64],
}

/// The node's public write-credential key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialKeyInfo {
    /// The key's id (hex of its digest).
    pub key_id: String,
    /// The public key, in the form the token module reads (hex).
    pub public_key: String,
}

/// One record of a batch put: its ledger registration and its encrypted value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordItem {
    /// The signed `RecordPut` transaction registering the record.
    pub tx: SignedTransaction,
    /// The encrypted value; its hash must be the registration's cHash.
    pub value: Vec<u8>,
    /// The address's write credential (private mode).
    pub credential: Option<WriteCredential>,
}

/// Where one record of a batch landed and what storing its value did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordReceipt {
    /// The registration's transaction id.
    pub tx_id: [u8; 32],
    /// The block that holds the registration.
    pub height: u64,
    /// Its position in that block.
    pub index: u32,
    /// Whether the value was stored now or was already stored (a retry).
    pub outcome: PutOutcome,
}

/// A token issue request: which payment, which blinded messages, signed by the payer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRequest {
    /// The payment's transaction id (a committed Transfer to the operator).
    pub payment: [u8; 32],
    /// The blinded token messages, in order.
    pub blinded: Vec<Vec<u8>>,
    /// The payer's compact signature over
    /// [`carchain_core::protocol::token_issue_digest`].
    pub signature: Vec<u8>,
}

/// The node's token issuer key and the price of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenKey {
    /// SHA-256 of `public_key`.
    pub key_id: [u8; 32],
    /// The RSA public key (DER, SubjectPublicKeyInfo) tokens are blinded for.
    pub public_key: Vec<u8>,
    /// Tokens cost this much each (the genesis `read_per_address`); 0 when reads are free.
    pub price: u64,
    /// Most tokens one payment may buy.
    pub max_batch: u64,
}

/// Node status for operators and clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatus {
    /// Chain identifier from the genesis file.
    pub chain_id: String,
    /// Address network (mainnet / testnet / regtest).
    pub network: String,
    /// Latest committed height (0 before the first block).
    pub height: u64,
    /// Hash of the latest header (hex), if any.
    pub latest_hash: Option<String>,
    /// Storage mode.
    pub mode: NodeMode,
    /// This node's software version.
    pub version: String,
    /// Known peers (other nodes' URLs).
    pub peers: Vec<String>,
    /// The trust anchor light clients start from, in its text form: the embedded node's
    /// ed25519 consensus key (hex), or a CometBFT network's genesis validators
    /// (`<key hex>:<power>,...`; empty until its block 1 is committed).
    pub validator: String,
    /// The operator's account address (fees and read payments go here).
    pub operator_address: String,
    /// Transactions waiting for a block.
    pub mempool: usize,
    /// The KV store's backend and whether it can store durably now (a distributed
    /// backend that cannot reach its quorum says so here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv: Option<KvHealth>,
}

pub use carchain_core::protocol::api::ErrorCode;

/// A refused request: a stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct ServiceError {
    /// What went wrong, for programs.
    pub code: ErrorCode,
    /// What went wrong, for people (never secrets).
    pub message: String,
}

impl ServiceError {
    /// Builds an error.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ServiceError {
            code,
            message: message.into(),
        }
    }
}

impl From<KvError> for ServiceError {
    /// A KV refusal as the transports report it: a clashing value is `DuplicateValue`,
    /// storage failures are `Internal`, anything else is the caller's bad input.
    fn from(err: KvError) -> Self {
        let code = match err {
            KvError::Duplicate { .. } => ErrorCode::DuplicateValue,
            KvError::Unavailable { .. } => ErrorCode::KvUnavailable,
            KvError::Sqlite(_)
            | KvError::Poisoned
            | KvError::Backend { .. }
            | KvError::BadConfig { .. } => ErrorCode::Internal,
            _ => ErrorCode::InvalidRequest,
        };
        ServiceError::new(code, err.to_string())
    }
}

/// What the transports ask of the ledger. Implemented by the running node.
pub trait LedgerService: Send + Sync + 'static {
    /// Checks `tx` and queues it; when `wait` is true, returns only once it is
    /// committed in a block (durable: it survives a crash) or fails.
    fn submit(
        &self,
        tx: SignedTransaction,
        wait: bool,
    ) -> impl Future<Output = Result<SubmitReceipt, ServiceError>> + Send;

    /// Stores an encrypted value under a registered (address, key) whose cHash it
    /// matches. A private node needs the address's write `credential` (or the put must
    /// be an open slot: see [`crate::writes`]).
    fn put_value(
        &self,
        address: &str,
        key: &[u8],
        value: &[u8],
        credential: Option<&WriteCredential>,
    ) -> Result<PutOutcome, ServiceError>;

    /// The node's public write-credential key (private mode).
    fn credential_key(&self) -> Result<CredentialKeyInfo, ServiceError> {
        Err(ServiceError::new(
            ErrorCode::ModeRefused,
            "this node issues no write credentials",
        ))
    }

    /// Signs the request's blinded messages (private mode, an authenticated holder).
    fn issue_credentials(&self, request: &CredentialRequest) -> Result<Vec<Vec<u8>>, ServiceError> {
        let _ = request;
        Err(ServiceError::new(
            ErrorCode::ModeRefused,
            "this node issues no write credentials",
        ))
    }

    /// Registers and stores many records: each item's value is checked against its
    /// transaction's cHash before admission, the registrations are committed, then the
    /// values stored. One result per item, in order; an item already committed (a retry)
    /// only has its value stored again.
    ///
    /// The default does it one item at a time with [`LedgerService::submit`] and
    /// [`LedgerService::put_value`]; a node overrides it to batch the work.
    fn put_records(
        &self,
        items: Vec<RecordItem>,
    ) -> impl Future<Output = Vec<Result<RecordReceipt, ServiceError>>> + Send {
        async move {
            let mut results = Vec::with_capacity(items.len());
            for item in items {
                results.push(put_record_one_by_one(self, item).await);
            }
            results
        }
    }

    /// The KV store's health (see [`crate::kv::KvStore::health`]): `/health` answers
    /// 503 `kv_unavailable` while it is not available.
    fn kv_health(&self) -> KvHealth {
        KvHealth {
            backend: "embedded".into(),
            available: true,
            detail: None,
        }
    }

    /// Reads one value. `token` is an unspent read token's bytes (shared mode); it is
    /// spent, durably, before the value is returned.
    fn get_value(
        &self,
        address: &str,
        key: &[u8],
        token: Option<&[u8]>,
    ) -> Result<Option<Vec<u8>>, ServiceError>;

    /// Reads an ordered page of one address's values, spending `token` like
    /// [`LedgerService::get_value`].
    fn range_values(
        &self,
        request: &RangeRequest,
        token: Option<&[u8]>,
    ) -> Result<RangePage, ServiceError>;

    /// The token issuer key and a token's price.
    fn token_key(&self) -> Result<TokenKey, ServiceError>;

    /// Blind-signs a paid batch of token messages (see [`IssueRequest`]).
    fn issue_tokens(&self, request: &IssueRequest) -> Result<Vec<Vec<u8>>, ServiceError>;

    /// The chain's fee stamp issuer key and a stamp's price, when this node holds the
    /// issuer's secret key (`not_found` otherwise).
    fn stamp_key(&self) -> Result<TokenKey, ServiceError> {
        Err(ServiceError::new(
            ErrorCode::NotFound,
            "this node does not issue fee stamps",
        ))
    }

    /// Blind-signs a batch of fee stamps paid by one committed Transfer to the stamp
    /// escrow (the [`IssueRequest`] of read tokens, under the stamp key).
    fn issue_stamps(&self, request: &IssueRequest) -> Result<Vec<Vec<u8>>, ServiceError> {
        let _ = request;
        self.stamp_key().map(|_| Vec::new())
    }

    /// A committed transaction with its inclusion proof and header.
    fn transaction(&self, id: &[u8; 32]) -> Result<Option<TxLookup>, ServiceError>;

    /// Up to `limit` signed headers from `height` on.
    fn headers_from(&self, height: u64, limit: u32) -> Result<Vec<SignedHeader>, ServiceError>;

    /// A state value with its proof at `height` (latest when `None`).
    fn query_state(
        &self,
        query: &StateQuery,
        height: Option<u64>,
    ) -> Result<StateAnswer, ServiceError>;

    /// The node's status.
    fn status(&self) -> Result<NodeStatus, ServiceError>;

    /// The CometBFT light block at `height` (signed header, validator sets), which
    /// certifies ledger block `height - 1`.
    fn light_block(
        &self,
        height: u64,
    ) -> Result<carchain_core::protocol::light_block::LightBlock, ServiceError> {
        Err(ServiceError::new(
            ErrorCode::NotFound,
            format!("no light block at height {height}"),
        ))
    }
}

/// One record the simple way: submit and wait, then store the value.
async fn put_record_one_by_one<S: LedgerService + ?Sized>(
    service: &S,
    item: RecordItem,
) -> Result<RecordReceipt, ServiceError> {
    let carchain_core::protocol::TxBody::RecordPut(put) = &item.tx.tx.body else {
        return Err(ServiceError::new(
            ErrorCode::InvalidRequest,
            "a batch item's transaction must be a record put",
        ));
    };
    let (address, key) = (put.address.clone(), put.key.clone());
    let receipt = service.submit(item.tx, true).await?;
    let outcome = service.put_value(&address, &key, &item.value, item.credential.as_ref())?;
    match (receipt.height, receipt.index) {
        (Some(height), Some(index)) => Ok(RecordReceipt {
            tx_id: receipt.tx_id,
            height,
            index,
            outcome,
        }),
        _ => Err(ServiceError::new(
            ErrorCode::Internal,
            "a waited-for submission came back without its block",
        )),
    }
}
