//! [`LightClient`]: verified reads, submissions and puts over one or more nodes. This
//! file builds and configures the client; each concern is a file of its own:
//! `sync` (the verified header chain), `state` (proven state), `reads` (verified
//! records), `writes` (submissions and puts), `paid` (read tokens) and `issuers`
//! (write credentials and fee stamps).

mod issuers;
mod paid;
mod reads;
mod state;
mod sync;
#[cfg(test)]
mod tests;
mod writes;

pub use state::ProvenAnswers;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bitcoin::secp256k1::SecretKey;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::anchor::{TrustAnchor, network_name};
use super::bind::bind_headers;
use super::certify::{check_certifies, verify_to};
use super::error::{LightError, LightResult};
use super::failover::Endpoints;
use super::headers::HeaderCache;
use super::http::{NodeHttp, http_client};
use super::light_block::{LightBlock, light_height_of};
use super::proofs::{decode_proven, verify_state_answer};
use super::read_payment::{NodeTokenKey, ReadPayer, TokenPocket};
use super::records::{
    NOT_REGISTERED, RangeItems, check_value, prove_answered, prove_item, screen_range_items,
    tampered_value,
};
use super::sequence::{NonceCursor, SignerTurn};
use super::types::{
    PutOutcome, RangeRead, Receipt, RecordUpload, SyncProgress, UploadResult, VerifiedRecord,
    WriteCredential,
};
use super::wire::{NodeStatusView, StateAnswerWire};
use crate::clock::{Clock, SharedClock, system_clock};
use crate::protocol::FeeSchedule;
use crate::protocol::api::ErrorCode;
use crate::protocol::signing::{p2wpkh_address, public_key_of};
use crate::protocol::{
    AccountState, AddressIndex, DeviceState, RecordRegistration, SignedHeader, SignedTransaction,
    state_key,
};
use crate::store::WalletStore;
use crate::tokens::Token;

/// Headers read for a many-address read, by node label.
type HeaderMemo = Mutex<HashMap<String, SignedHeader>>;

/// Headers asked per page while syncing (the node's maximum).
pub const HEADERS_PER_PAGE: u64 = 1000;
/// Items asked per range page.
pub const RANGE_PAGE_LIMIT: u32 = 1000;
/// Every key an address can hold sorts at or below this bound: range-ordered keys never
/// start with the `INF_MAX` tag (0xFF), and a car's stored keys (AES-SIV output, random
/// bytes) start with 0xFF one time in 256 but never with 64 of them (the same bound as
/// [`crate::sealed::STORED_KEYS_END`]).
pub const ALL_KEYS_END: &[u8] = crate::sealed::STORED_KEYS_END;
/// Record proofs fetched at the same time during a range read.
pub const PROOF_CONCURRENCY: usize = 16;
/// Tokens one paid read may try (a token refused as spent is replaced by a fresh one),
/// and attempts of a token issue request whose answer was lost.
pub const TOKEN_ATTEMPTS: usize = 3;
/// Default number of blocks a node may lag behind the verified tip before it is stale.
pub const DEFAULT_MAX_LAG: u64 = 2;

/// True when a node has no light block at a height yet (CometBFT commits block `H`'s
/// light block one block later).
fn is_not_yet_committed(err: &LightError) -> bool {
    matches!(err, LightError::Node { code, .. } if code == ErrorCode::NotFound.as_str())
}

/// How the client was configured; the builder methods rebuild from it.
#[derive(Debug, Clone)]
struct Config {
    anchor: TrustAnchor,
    nodes: Vec<NodeHttp>,
    store: Option<Arc<Mutex<WalletStore>>>,
    /// Where read tokens are kept when not in `store`.
    token_store: Option<Arc<Mutex<WalletStore>>>,
    payer: Option<ReadPayer>,
    max_lag: u64,
    /// One signer's submissions take turns picking their nonce (shared by every copy of
    /// the client; see [`super::sequence`]).
    signers: SignerLocks,
    /// What "now" is when a header's age or a credential's time is judged.
    clock: SharedClock,
}

/// A nonce cursor, behind its lock, per signing address.
pub(crate) type SignerLocks = Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<NonceCursor>>>>>;

#[derive(Debug)]
struct Inner {
    config: Config,
    endpoints: Endpoints,
    /// Verified headers, shared with the clients made by
    /// [`LightClient::with_fresh_connections`].
    headers: Arc<Mutex<HeaderCache>>,
    sync_lock: Arc<tokio::sync::Mutex<()>>,
    /// Unspent read tokens (in the store when there is one).
    pocket: TokenPocket,
    /// Each endpoint's token issuer key, fetched at its first paid read.
    token_keys: Mutex<HashMap<String, NodeTokenKey>>,
    /// One token purchase at a time.
    purchase: tokio::sync::Mutex<()>,
    /// The chain's fee schedule once read with its proof (fixed at genesis).
    fee_schedule: Mutex<Option<FeeSchedule>>,
}

/// The embedded light node: talks to one or more CarChain nodes, verifies signed headers
/// from a trust anchor, proves every state read against them, checks record values
/// against their registered cHash, fails over between nodes and (with a wallet store)
/// keeps its verified headers across restarts. Cheap to clone; `Send + Sync`.
#[derive(Debug, Clone)]
pub struct LightClient {
    inner: Arc<Inner>,
}

impl LightClient {
    /// A client of `endpoints` (base URLs, in order of preference) trusting `anchor`.
    pub fn new(endpoints: Vec<String>, anchor: TrustAnchor) -> LightResult<Self> {
        let http = http_client()?;
        let nodes = endpoints
            .iter()
            .map(|base| NodeHttp::new(base, http.clone()))
            .collect::<LightResult<Vec<_>>>()?;
        Self::from_config(Config {
            anchor,
            nodes,
            store: None,
            token_store: None,
            payer: None,
            max_lag: DEFAULT_MAX_LAG,
            signers: SignerLocks::default(),
            clock: system_clock(),
        })
    }

    /// The lock `address`'s submissions take (see [`Config::signers`]).
    pub(crate) fn signer_lock(&self, address: &str) -> Arc<tokio::sync::Mutex<NonceCursor>> {
        let mut locks = self
            .inner
            .config
            .signers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(locks.entry(address.to_owned()).or_default())
    }

    fn from_config(config: Config) -> LightResult<Self> {
        let headers = HeaderCache::new(config.anchor.clone(), config.store.clone());
        Self::sharing_headers(
            config,
            Arc::new(Mutex::new(headers)),
            Arc::new(tokio::sync::Mutex::new(())),
        )
    }

    fn sharing_headers(
        config: Config,
        headers: Arc<Mutex<HeaderCache>>,
        sync_lock: Arc<tokio::sync::Mutex<()>>,
    ) -> LightResult<Self> {
        let endpoints = Endpoints::new(config.nodes.clone())?;
        let pocket = TokenPocket::new(config.token_store.clone().or(config.store.clone()));
        Ok(LightClient {
            inner: Arc::new(Inner {
                config,
                endpoints,
                headers,
                sync_lock,
                pocket,
                token_keys: Mutex::new(HashMap::new()),
                purchase: tokio::sync::Mutex::new(()),
                fee_schedule: Mutex::new(None),
            }),
        })
    }

    fn rebuild(self, change: impl FnOnce(&mut Config)) -> Self {
        let mut config = self.inner.config.clone();
        change(&mut config);
        // The node list was valid already, so rebuilding cannot fail; keep self if it does.
        Self::from_config(config).unwrap_or(self)
    }

    /// Caches verified headers in the wallet store (headers table) so reads work offline
    /// and the verified tip survives restarts, and keeps unspent read tokens there.
    pub fn with_store(self, store: Arc<Mutex<WalletStore>>) -> Self {
        self.rebuild(|config| config.store = Some(store))
    }

    /// Keeps unspent read tokens in `store` (and nothing else: headers stay in memory
    /// unless [`LightClient::with_store`] is used too).
    pub fn with_token_store(self, store: Arc<Mutex<WalletStore>>) -> Self {
        self.rebuild(|config| config.token_store = Some(store))
    }

    /// Pays for reads on nodes that charge them: each address read spends one read
    /// token; when fewer than [`ReadPayer::low_water`] are held, one Transfer from
    /// `payer` to the node's operator buys `tokens` more, blind-signed by the node (see
    /// [`super::read_payment`]). Tokens are kept in the store given to
    /// [`LightClient::with_token_store`] or [`LightClient::with_store`] (before or after
    /// this call), else in memory.
    pub fn with_read_payer(self, payer: SecretKey, tokens: u64) -> Self {
        self.rebuild(|config| {
            config.payer = Some(ReadPayer {
                secret: payer,
                batch: tokens.max(1),
            });
        })
    }

    /// How many blocks a node may be behind the verified tip before it counts as stale
    /// (default [`DEFAULT_MAX_LAG`]).
    pub fn with_max_lag(self, blocks: u64) -> Self {
        self.rebuild(|config| config.max_lag = blocks)
    }

    /// Judges headers (from the future, or older than the trusting period) and stamps
    /// credential requests by `clock` instead of the device's clock.
    pub fn with_clock(self, clock: SharedClock) -> Self {
        self.rebuild(|config| config.clock = clock)
    }

    /// The chain's fee schedule as far as this client has read it.
    pub(crate) fn known_fee_schedule(&self) -> std::sync::MutexGuard<'_, Option<FeeSchedule>> {
        self.inner
            .fee_schedule
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The clock this client judges time by.
    pub fn clock(&self) -> &dyn Clock {
        self.inner.config.clock.as_ref()
    }

    /// A copy of this client with its own HTTP connections: nothing it sends shares a
    /// connection with what this client (or any other copy) sends; its connections close
    /// when it is dropped. Verified headers stay shared (no new sync); read tokens only
    /// through a wallet store. A car delivers each address's records through its own copy, so no
    /// connection carries two addresses.
    pub fn with_fresh_connections(&self) -> LightResult<Self> {
        let http = http_client()?;
        let mut config = self.inner.config.clone();
        config.nodes = config
            .nodes
            .iter()
            .map(|node| node.with_client(http.clone()))
            .collect();
        Self::sharing_headers(
            config,
            Arc::clone(&self.inner.headers),
            Arc::clone(&self.inner.sync_lock),
        )
    }

    /// The trust anchor.
    pub fn anchor(&self) -> &TrustAnchor {
        &self.inner.config.anchor
    }

    /// The last failure of each endpoint since it last answered: `(endpoint, reason)`.
    pub fn endpoint_failures(&self) -> Vec<(String, String)> {
        self.inner.endpoints.failures()
    }

    /// The nodes this client dropped for serving forged consensus data (a forged commit,
    /// a rewritten or conflicting header): `(endpoint, reason)`. They are not asked again
    /// while another node remains.
    pub fn dropped_endpoints(&self) -> Vec<(String, String)> {
        self.inner.endpoints.dropped()
    }

    fn headers(&self) -> LightResult<std::sync::MutexGuard<'_, HeaderCache>> {
        self.inner
            .headers
            .lock()
            .map_err(|_| LightError::InvalidInput("the header cache lock is poisoned".into()))
    }

    /// The first answering node's status (unverified: for display, payments and choosing
    /// nodes; headers and proofs are what the client trusts).
    pub async fn status(&self) -> LightResult<NodeStatusView> {
        self.inner
            .endpoints
            .run(|node| async move { self.checked_status(&node).await })
            .await
    }
}
