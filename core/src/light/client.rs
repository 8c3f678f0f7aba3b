//! [`LightClient`]: verified reads, submissions and puts over one or more nodes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

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
use super::read_payment::{NodeTokenKey, ReadPayer, TOKEN_PURCHASE_FEE, TokenPocket};
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
use crate::protocol::signing::{p2wpkh_address, public_key_of, sign_digest};
use crate::protocol::{
    AccountState, AddressIndex, DeviceState, RecordRegistration, SignedHeader, SignedTransaction,
    Transaction, Transfer, TxBody, state_key, token_issue_digest,
};
use crate::store::WalletStore;
use crate::tokens::{IssuerPublicKey, Token, batch_digest};

/// State answers proven at one header, with the light blocks that certify the header
/// ([`LightClient::proven_answers`]).
#[derive(Debug, Clone)]
pub struct ProvenAnswers {
    /// The verified header every answer is proven against.
    pub header: SignedHeader,
    /// The light blocks from the anchor's root to the one certifying `header`, ascending.
    pub light_blocks: Vec<LightBlock>,
    /// The answers, in query order.
    pub answers: Vec<StateAnswerWire>,
}

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
    matches!(err, LightError::Node { code, .. } if code == "not_found")
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
            })
        })
    }

    /// How many blocks a node may be behind the verified tip before it counts as stale
    /// (default [`DEFAULT_MAX_LAG`]).
    pub fn with_max_lag(self, blocks: u64) -> Self {
        self.rebuild(|config| config.max_lag = blocks)
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

    /// Height of the verified tip (0 before any header is verified).
    pub fn verified_height(&self) -> u64 {
        self.verified_tip()
            .ok()
            .flatten()
            .map_or(0, |h| h.header.height)
    }

    /// The newest CometBFT light block this client verified, as a checkpoint: its height
    /// and header hash, which anchor another client ([`crate::light::TrustRoot::Height`], e.g. shared
    /// as a QR code) without the genesis validator set. `None` before the first sync.
    pub fn checkpoint(&self) -> LightResult<Option<(u64, [u8; 32])>> {
        let Some(block) = self.headers()?.trusted_block()? else {
            return Ok(None);
        };
        let hash: [u8; 32] = block
            .signed_header
            .header
            .hash()
            .as_bytes()
            .try_into()
            .map_err(|_| LightError::InvalidInput("a header hash is not 32 bytes".into()))?;
        Ok(Some((block.height().value(), hash)))
    }

    /// The verified tip header, if any (from memory or the store, no network).
    pub fn verified_tip(&self) -> LightResult<Option<SignedHeader>> {
        self.headers()?.tip()
    }

    /// The verified header at `height` (from memory or the store, no network).
    pub fn verified_header(&self, height: u64) -> LightResult<SignedHeader> {
        self.headers()?.header_at(height)
    }

    /// Syncs verified headers up to a node's tip, reporting progress after each page.
    /// Returns the verified height.
    pub async fn sync(&self, progress: &(dyn Fn(SyncProgress) + Send + Sync)) -> LightResult<u64> {
        self.inner
            .endpoints
            .run(|node| async move {
                let status = self.checked_status(&node).await?;
                self.sync_from(&node, status.height, progress).await?;
                self.check_lag(&node, status.height)?;
                Ok(self.verified_height())
            })
            .await
    }

    async fn checked_status(&self, node: &NodeHttp) -> LightResult<NodeStatusView> {
        let status = node.status().await?;
        let anchor = &self.inner.config.anchor;
        if status.chain_id != anchor.chain_id || status.network != network_name(anchor.network) {
            return Err(LightError::WrongChain {
                expected: anchor.label(),
                found: format!("{}/{}", status.chain_id, status.network),
            });
        }
        Ok(status)
    }

    async fn sync_from(
        &self,
        node: &NodeHttp,
        target: u64,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> LightResult<()> {
        let _one_sync = self.inner.sync_lock.lock().await;
        loop {
            let tip = self.headers()?.tip_height()?;
            let from = self.headers()?.next_height()?;
            if tip.is_some_and(|h| h >= target) || from > target {
                return Ok(());
            }
            let wanted = (target - from + 1).min(HEADERS_PER_PAGE);
            let limit = u32::try_from(wanted).unwrap_or(1000);
            let page = node.headers(from, limit).await?;
            if page.is_empty() {
                return Err(LightError::Tampered(format!(
                    "node reports height {target} but serves no header at {from}"
                )));
            }
            let (complete, height) = self.certify_page(node, &page).await?;
            progress(SyncProgress { height, target });
            if !complete {
                return Ok(());
            }
        }
    }

    /// Links `page` to the verified tip, certifies its newest header with a light block
    /// verified from the trusted state (skipping, bisecting when needed), binds every
    /// header of it to the verified CometBFT chain ([`bind_headers`]) and keeps it.
    /// A CometBFT node commits the light block of ledger block `H` one block later: when
    /// the newest one is not served yet, the page is certified one header shorter.
    /// Returns whether the whole page was kept, and the verified height.
    async fn certify_page(
        &self,
        node: &NodeHttp,
        page: &[SignedHeader],
    ) -> LightResult<(bool, u64)> {
        let (mut linked, failure) = self.headers()?.check_links(page)?;
        let trusted = self.headers()?.trusted_block()?;
        let anchor = &self.inner.config.anchor;
        let mut complete = failure.is_none();
        let mut tip = self.verified_height();
        while let Some(last) = linked.last() {
            let target = light_height_of(last.header.height);
            let fetched = verify_to(anchor, trusted.clone(), target, |height| {
                node.light_block(height)
            })
            .await;
            match fetched {
                Ok(certified) => {
                    let previous = self.headers()?.tip()?;
                    bind_headers(
                        &linked,
                        &certified,
                        trusted.as_ref(),
                        previous.as_ref(),
                        |height| node.light_block(height),
                    )
                    .await?;
                    tip = self.headers()?.accept(&linked, certified)?;
                    break;
                }
                Err(err) if is_not_yet_committed(&err) && linked.len() > 1 => {
                    linked.pop();
                    complete = false;
                }
                // Only the node's tip is new and its light block is not committed yet:
                // nothing more to certify now (the tip is read one block behind).
                Err(err) if is_not_yet_committed(&err) => {
                    complete = false;
                    break;
                }
                Err(err) => return Err(err),
            }
        }
        match failure {
            Some(err) => Err(err),
            None => Ok((complete, tip)),
        }
    }

    fn check_lag(&self, node: &NodeHttp, node_height: u64) -> LightResult<u64> {
        let verified = self
            .headers()?
            .tip_height()?
            .ok_or(LightError::NotSynced(0))?;
        if node_height.saturating_add(self.inner.config.max_lag) < verified {
            return Err(LightError::Stale {
                endpoint: node.label().to_owned(),
                node_height,
                verified_height: verified,
            });
        }
        Ok(verified)
    }

    /// Brings the verified tip up to `node`'s and returns the header to read state at:
    /// the verified tip, or the node's tip when it is (within the allowed lag) behind.
    async fn read_header(&self, node: &NodeHttp) -> LightResult<SignedHeader> {
        let status = self.checked_status(node).await?;
        self.sync_from(node, status.height, &|_| {}).await?;
        let verified = self.check_lag(node, status.height)?;
        self.headers()?.header_at(verified.min(status.height))
    }

    async fn proven_state(
        &self,
        node: &NodeHttp,
        header: &SignedHeader,
        path: &[&str],
        key: jmt::KeyHash,
    ) -> LightResult<Option<Vec<u8>>> {
        let answer = node.state(path, header.header.height).await?;
        verify_state_answer(&answer, key, header)
    }

    /// The answers of `queries` (state path, key) all at one verified header, each
    /// checked against it before it is returned, with that header and the light blocks
    /// that certify it from the trust anchor's root: for callers that ship the proofs
    /// themselves (a wallet export, checked offline with
    /// [`super::certify::verify_recorded`]).
    pub async fn proven_answers(
        &self,
        queries: &[(Vec<String>, jmt::KeyHash)],
    ) -> LightResult<ProvenAnswers> {
        self.inner
            .endpoints
            .run(|node| async move {
                let header = self.read_header(&node).await?;
                let fetched: Mutex<Vec<LightBlock>> = Mutex::new(Vec::new());
                let (node_ref, fetched_ref) = (&node, &fetched);
                let certified = verify_to(
                    &self.inner.config.anchor,
                    None,
                    light_height_of(header.header.height),
                    |height| async move {
                        let block = node_ref.light_block(height).await?;
                        fetched_ref
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push(block.clone());
                        Ok(block)
                    },
                )
                .await?;
                check_certifies(&certified, &header)?;
                let mut light_blocks = fetched
                    .into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                light_blocks.sort_by_key(|block| block.height().value());
                light_blocks.dedup_by_key(|block| block.height().value());
                let mut answers = Vec::with_capacity(queries.len());
                for (path, key) in queries {
                    let path: Vec<&str> = path.iter().map(String::as_str).collect();
                    let answer = node.state(&path, header.header.height).await?;
                    verify_state_answer(&answer, *key, &header)?;
                    answers.push(answer);
                }
                Ok(ProvenAnswers {
                    header,
                    light_blocks,
                    answers,
                })
            })
            .await
    }

    pub(crate) async fn read_state(
        &self,
        path: &[&str],
        key: jmt::KeyHash,
    ) -> LightResult<Option<Vec<u8>>> {
        self.inner
            .endpoints
            .run(|node| async move {
                let header = self.read_header(&node).await?;
                self.proven_state(&node, &header, path, key).await
            })
            .await
    }

    /// An account's proven state; an absent account is zero balance, nonce 0.
    pub async fn account(&self, address: &str) -> LightResult<AccountState> {
        let proven = self
            .read_state(&["account", address], state_key::account(address))
            .await?;
        Ok(decode_proven(proven)?.unwrap_or_default())
    }

    /// A device's proven state, `None` when it was never paired.
    pub async fn device(&self, vid: &str) -> LightResult<Option<DeviceState>> {
        let proven = self
            .read_state(&["device", vid], state_key::device(vid))
            .await?;
        decode_proven(proven)
    }

    /// A record's proven registration, `None` when not registered.
    pub async fn registration(
        &self,
        address: &str,
        key: &[u8],
    ) -> LightResult<Option<RecordRegistration>> {
        let key_hex = hex::encode(key);
        let proven = self
            .read_state(
                &["record", address, &key_hex],
                state_key::record(address, key),
            )
            .await?;
        decode_proven(proven)
    }

    /// Submits a signed transaction; with `wait`, returns once it is committed.
    pub async fn submit(&self, tx: &SignedTransaction, wait: bool) -> LightResult<Receipt> {
        self.inner
            .endpoints
            .run(|node| async move {
                let receipt = node.submit(tx, wait).await?;
                Ok(Receipt {
                    tx_id: receipt.tx_id,
                    height: receipt.height,
                })
            })
            .await
    }

    /// The height of the block that committed `tx_id` (`GET /v1/tx/{id}`), `None` while
    /// no block has.
    pub(crate) async fn committed_height(&self, tx_id: &[u8; 32]) -> LightResult<Option<u64>> {
        self.inner
            .endpoints
            .run(|node| async move { node.committed_height(tx_id).await })
            .await
    }

    /// Stores an encrypted value under its registered address and key. `credential` is
    /// the address's write credential, needed by private nodes; nothing names the writer.
    pub async fn put_value(
        &self,
        address: &str,
        key: &[u8],
        value: &[u8],
        credential: Option<&WriteCredential>,
    ) -> LightResult<PutOutcome> {
        self.inner
            .endpoints
            .run(|node| async move { node.put_value(address, key, value, credential).await })
            .await
    }

    /// Registers and stores `items` in one request (`POST /v1/records`, one block),
    /// waiting for the block; one result per item, in order. Sending the same items
    /// again is harmless. A car sends one address's records per call, through
    /// [`LightClient::with_fresh_connections`].
    pub async fn put_records(&self, items: &[RecordUpload]) -> LightResult<Vec<UploadResult>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        self.inner
            .endpoints
            .run(|node| async move { node.put_records(items).await })
            .await
    }

    /// One record: its registration proven against a verified header, its value fetched
    /// and checked against the registered cHash. `None` when not registered; a registered
    /// record the node holds no value for is [`LightError::ValueMissing`].
    pub async fn record(&self, address: &str, key: &[u8]) -> LightResult<Option<VerifiedRecord>> {
        let key_hex = hex::encode(key);
        self.inner
            .endpoints
            .run(|node| {
                let key_hex = key_hex.clone();
                async move {
                    // This address's read on a connection of its own.
                    let node = node.fresh()?;
                    let header = self.read_header(&node).await?;
                    let proven = self
                        .proven_state(
                            &node,
                            &header,
                            &["record", address, &key_hex],
                            state_key::record(address, key),
                        )
                        .await?;
                    let Some(registration) = decode_proven::<RecordRegistration>(proven)? else {
                        return Ok(None);
                    };
                    let value = self
                        .paid(&node, |token| {
                            let node = node.clone();
                            async move { node.get_value(address, key, token.as_deref()).await }
                        })
                        .await?
                        .ok_or_else(|| LightError::ValueMissing {
                            address: address.to_owned(),
                            key_hex: key_hex.clone(),
                        })?;
                    check_value(&registration, address, key, &value)
                        .map_err(|reason| tampered_value(address, key, reason))?;
                    Ok(Some(VerifiedRecord {
                        registration,
                        envelope: value,
                    }))
                }
            })
            .await
    }

    /// Every record of `address` with `start <= key <= end`, all pages, key order, each
    /// registration proven and value cHash-checked; items failing their check are in
    /// `rejected`. A node can omit items unnoticed (see [`super::records`]).
    pub async fn records_in_range(
        &self,
        address: &str,
        start: &[u8],
        end: &[u8],
    ) -> LightResult<RangeRead> {
        if start > end {
            return Err(LightError::InvalidInput(
                "range start is after its end".into(),
            ));
        }
        // An answer with rejected items marks its node as serving bad data: the other
        // endpoints are tried, and if none answers cleanly the first such answer is
        // returned with its rejections.
        let with_rejections: Mutex<Option<RangeRead>> = Mutex::new(None);
        let outcome = self
            .inner
            .endpoints
            .run(|node| {
                let with_rejections = &with_rejections;
                async move {
                    let node = node.fresh()?;
                    let header = self.read_header(&node).await?;
                    let (items, _) = self
                        .all_range_items(&node, address, start, end, header.header.height)
                        .await?;
                    let (accepted, mut rejected) = screen_range_items(address, start, end, items);
                    let records = self
                        .prove_items(&node, &header, address, accepted, &mut rejected)
                        .await?;
                    if rejected.is_empty() {
                        return Ok(RangeRead {
                            records,
                            rejected,
                            missing: 0,
                        });
                    }
                    let count = rejected.len();
                    if let Ok(mut kept) = with_rejections.lock()
                        && kept.is_none()
                    {
                        *kept = Some(RangeRead {
                            records,
                            rejected,
                            missing: 0,
                        });
                    }
                    Err(LightError::Tampered(format!(
                        "{count} range item(s) failed verification"
                    )))
                }
            })
            .await;
        match outcome {
            Ok(read) => Ok(read),
            Err(err) => match with_rejections.into_inner().ok().flatten() {
                Some(read) => Ok(read),
                None => Err(err),
            },
        }
    }

    /// Every record of `address`, each registration proven and value cHash-checked, and
    /// checked complete against the ledger's per-address index (count and key digest):
    /// a node that drops a record is caught, and the next node is tried. When no node
    /// serves them all, the best answer comes back with `missing` set (e.g. a car that
    /// registered a record but has not stored its value yet).
    pub async fn records_at(&self, address: &str) -> LightResult<RangeRead> {
        self.records_at_under(address, None).await
    }

    /// [`LightClient::records_at`] of every address of `addresses`, in order, all checked
    /// against one header per node (read once, at the first address a node answers):
    /// a many-address read (a month of days) asks each node's status once, not once per
    /// address. Each address has its own answer (an offline node fails each).
    pub async fn records_at_many(&self, addresses: &[String]) -> Vec<LightResult<RangeRead>> {
        let headers = HeaderMemo::default();
        let mut reads = Vec::with_capacity(addresses.len());
        for address in addresses {
            reads.push(self.records_at_under(address, Some(&headers)).await);
        }
        reads
    }

    /// The header to check a read from `node` against: the one `memo` holds for the node,
    /// or a freshly read one (kept there).
    async fn header_for(
        &self,
        node: &NodeHttp,
        memo: Option<&HeaderMemo>,
    ) -> LightResult<SignedHeader> {
        let Some(memo) = memo else {
            return self.read_header(node).await;
        };
        let known = memo
            .lock()
            .ok()
            .and_then(|headers| headers.get(node.label()).cloned());
        if let Some(header) = known {
            return Ok(header);
        }
        let header = self.read_header(node).await?;
        if let Ok(mut headers) = memo.lock() {
            headers.insert(node.label().to_owned(), header.clone());
        }
        Ok(header)
    }

    async fn records_at_under(
        &self,
        address: &str,
        memo: Option<&HeaderMemo>,
    ) -> LightResult<RangeRead> {
        let incomplete: Mutex<Option<RangeRead>> = Mutex::new(None);
        let outcome = self
            .inner
            .endpoints
            .run(|node| {
                let incomplete = &incomplete;
                async move {
                    let node = node.fresh()?;
                    let header = self.header_for(&node, memo).await?;
                    let (items, page_index) = self
                        .all_range_items(&node, address, &[], ALL_KEYS_END, header.header.height)
                        .await?;
                    // The index the first page carried, or (a node that does not send
                    // it) one more request; checked against the header either way.
                    let index_key = state_key::address_index(address);
                    let proven_index = match page_index {
                        Some(answer) => verify_state_answer(&answer, index_key, &header)?,
                        None => {
                            self.proven_state(
                                &node,
                                &header,
                                &["address-index", address],
                                index_key,
                            )
                            .await?
                        }
                    };
                    let index: AddressIndex = decode_proven(proven_index)?.unwrap_or_default();
                    let (accepted, mut rejected) =
                        screen_range_items(address, &[], ALL_KEYS_END, items);
                    let records = self
                        .prove_items(&node, &header, address, accepted, &mut rejected)
                        .await?;
                    // Values registered after the header read (the car is still writing)
                    // are not part of the index at that height: left for the next read.
                    rejected.retain(|r| r.reason != NOT_REGISTERED);
                    let served = AddressIndex::of_keys(
                        records.iter().map(|r| r.registration.put.key.as_slice()),
                    );
                    if served == index && rejected.is_empty() {
                        return Ok(RangeRead {
                            records,
                            rejected,
                            missing: 0,
                        });
                    }
                    let rejected_count = rejected.len();
                    let missing = index.count.saturating_sub(records.len() as u64);
                    if let Ok(mut kept) = incomplete.lock() {
                        let better = kept
                            .as_ref()
                            .is_none_or(|k| records.len() > k.records.len());
                        if better {
                            *kept = Some(RangeRead {
                                records,
                                rejected,
                                missing,
                            });
                        }
                    }
                    Err(LightError::Tampered(format!(
                        "{address}: the ledger indexes {} record(s), the node served {} of \
                         them; {rejected_count} item(s) failed verification",
                        index.count, served.count,
                    )))
                }
            })
            .await;
        match outcome {
            Ok(read) => Ok(read),
            Err(err) => match incomplete.into_inner().ok().flatten() {
                Some(read) => Ok(read),
                None => Err(err),
            },
        }
    }

    /// Every page of `address` in `start..=end`, each record with its registration proven
    /// at `proofs_at` (the header the read checks against) when the node serves proven
    /// pages, and the address index (with its proof, unchecked) the first page carried.
    async fn all_range_items(
        &self,
        node: &NodeHttp,
        address: &str,
        start: &[u8],
        end: &[u8],
        proofs_at: u64,
    ) -> LightResult<(RangeItems, Option<StateAnswerWire>)> {
        let mut items = Vec::new();
        let mut index = None;
        let mut after: Option<Vec<u8>> = None;
        loop {
            let cursor = after.clone();
            let page = self
                .paid(node, |token| {
                    let node = node.clone();
                    let cursor = cursor.clone();
                    async move {
                        node.range(
                            address,
                            start,
                            end,
                            RANGE_PAGE_LIMIT,
                            cursor.as_deref(),
                            Some(proofs_at),
                            token.as_deref(),
                        )
                        .await
                    }
                })
                .await?;
            items.extend(page.items);
            if index.is_none() {
                index = page.index;
            }
            match page.next {
                None => return Ok((items, index)),
                Some(next) if after.as_ref().is_some_and(|previous| &next <= previous) => {
                    return Err(LightError::BadAnswer {
                        endpoint: node.label().to_owned(),
                        reason: "range cursor does not advance".into(),
                    });
                }
                Some(next) => after = Some(next),
            }
        }
    }

    /// Proves each accepted item against `header`: from the proof its page carried, or
    /// (a node that serves pages without proofs) from one state request per item, a few
    /// at a time.
    async fn prove_items(
        &self,
        node: &NodeHttp,
        header: &SignedHeader,
        address: &str,
        accepted: RangeItems,
        rejected: &mut Vec<super::types::RejectedRecord>,
    ) -> LightResult<Vec<VerifiedRecord>> {
        let permits = Arc::new(Semaphore::new(PROOF_CONCURRENCY));
        let mut tasks = JoinSet::new();
        let mut outcomes = Vec::with_capacity(accepted.len());
        for (index, item) in accepted.into_iter().enumerate() {
            if let Some(answer) = &item.registration {
                outcomes.push((
                    index,
                    prove_answered(answer, header, address, item.key, item.value)?,
                ));
                continue;
            }
            let (node, header, address) = (node.clone(), header.clone(), address.to_owned());
            let permits = Arc::clone(&permits);
            tasks.spawn(async move {
                let _permit = permits
                    .acquire_owned()
                    .await
                    .map_err(|_| LightError::InvalidInput("proof tasks closed".into()))?;
                prove_item(node, header, address, item)
                    .await
                    .map(|outcome| (index, outcome))
            });
        }
        while let Some(joined) = tasks.join_next().await {
            outcomes.push(joined.map_err(|err| {
                LightError::InvalidInput(format!("a proof task failed: {err}"))
            })??);
        }
        outcomes.sort_by_key(|(index, _)| *index);
        let mut verified = Vec::with_capacity(outcomes.len());
        for (_, outcome) in outcomes {
            match outcome {
                Ok(record) => verified.push(record),
                Err(reject) => rejected.push(reject),
            }
        }
        Ok(verified)
    }

    /// Runs a KV read, paid with one fresh token when a payer is configured and the node
    /// charges reads. A token the node says was spent already (e.g. by an earlier attempt
    /// cut off before its answer) is dropped and a fresh one sent, up to
    /// [`TOKEN_ATTEMPTS`] in all; a changed issuer key is fetched again.
    async fn paid<T, F, Fut>(&self, node: &NodeHttp, read: F) -> LightResult<T>
    where
        F: Fn(Option<Vec<u8>>) -> Fut,
        Fut: std::future::Future<Output = LightResult<T>>,
    {
        if self.inner.config.payer.is_none() {
            return read(None).await;
        }
        let mut last = None;
        for _ in 0..TOKEN_ATTEMPTS {
            let key = self.token_key(node).await?;
            if key.price == 0 {
                return read(None).await;
            }
            let token = self.take_token(node, &key).await?;
            match read(Some(token.to_bytes())).await {
                Err(LightError::Node { code, message }) if code == "token_spent" => {
                    last = Some(LightError::Node { code, message });
                }
                Err(LightError::Node { code, message }) if code == "token_wrong_key" => {
                    self.forget_token_key(node)?;
                    last = Some(LightError::Node { code, message });
                }
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| LightError::InvalidInput("no token attempt made".into())))
    }

    /// `node`'s token issuer key (fetched once per endpoint, on a connection of its own).
    async fn token_key(&self, node: &NodeHttp) -> LightResult<NodeTokenKey> {
        if let Some(key) = self.token_keys()?.get(node.label()) {
            return Ok(key.clone());
        }
        let wire = node.fresh()?.token_key().await?;
        let der = BASE64
            .decode(&wire.public_key)
            .map_err(|_| LightError::BadAnswer {
                endpoint: node.label().to_owned(),
                reason: "the token key is not base64".into(),
            })?;
        let key = IssuerPublicKey::from_der(&der)?;
        if key.key_id().0 != wire.key_id {
            return Err(LightError::Tampered(
                "the token key id is not the hash of the key".into(),
            ));
        }
        let key = NodeTokenKey {
            key,
            price: wire.price,
            max_batch: wire.max_batch.max(1),
        };
        self.token_keys()?
            .insert(node.label().to_owned(), key.clone());
        Ok(key)
    }

    fn token_keys(&self) -> LightResult<std::sync::MutexGuard<'_, HashMap<String, NodeTokenKey>>> {
        self.inner
            .token_keys
            .lock()
            .map_err(|_| LightError::InvalidInput("the token key lock is poisoned".into()))
    }

    fn forget_token_key(&self, node: &NodeHttp) -> LightResult<()> {
        self.token_keys()?.remove(node.label());
        Ok(())
    }

    /// One unspent token for `key`, buying a batch first when the pocket is low.
    async fn take_token(&self, node: &NodeHttp, key: &NodeTokenKey) -> LightResult<Token> {
        let payer = self
            .inner
            .config
            .payer
            .clone()
            .ok_or_else(|| LightError::InvalidInput("no read payer configured".into()))?;
        let _one_purchase = self.inner.purchase.lock().await;
        let key_id = key.key.key_id();
        if self.inner.pocket.count(key_id)? < payer.low_water() {
            self.buy_tokens(node, key, &payer).await?;
        }
        self.inner
            .pocket
            .take(key_id)?
            .ok_or_else(|| LightError::InvalidInput("the token purchase left no token".into()))
    }

    /// Buys `payer.batch` tokens at `node`, on a connection of its own (the purchase
    /// names the payer; the reads it pays for must not share its connection): commits a
    /// Transfer of `batch x price` to the operator, asks for blind signatures of fresh
    /// blinded messages with the payer's signature over them, and keeps the finalized
    /// tokens. The issue request is retried as is when the answer is lost.
    async fn buy_tokens(
        &self,
        node: &NodeHttp,
        key: &NodeTokenKey,
        payer: &ReadPayer,
    ) -> LightResult<u64> {
        let node = node.fresh()?;
        let count = payer.batch.min(key.max_batch).max(1);
        let amount = count.checked_mul(key.price).ok_or_else(|| {
            LightError::InvalidInput("the token purchase amount overflows".into())
        })?;
        let pending = key.key.blind(usize::try_from(count).unwrap_or(1))?;
        let anchor = &self.inner.config.anchor;
        let status = self.checked_status(&node).await?;
        let signer = public_key_of(&payer.secret);
        let payer_address = p2wpkh_address(&signer, anchor.network);
        // The payer's other transactions (a wallet pairing cars) may be pending: the
        // purchase takes its turn and the nonce after theirs.
        // Its account is read on the purchase's own connection, as the purchase is sent.
        let mut turn = SignerTurn::wait(self, &payer_address).await;
        let header = self.read_header(&node).await?;
        let proven = self
            .proven_state(
                &node,
                &header,
                &["account", &payer_address],
                state_key::account(&payer_address),
            )
            .await?;
        let account: AccountState = decode_proven(proven)?.unwrap_or_default();
        turn.set_committed(account.nonce);
        let nonce = turn.nonce();
        let tx = Transaction {
            chain_id: anchor.chain_id.clone(),
            network: anchor.network,
            signer,
            nonce,
            fee: TOKEN_PURCHASE_FEE,
            body: TxBody::Transfer(Transfer {
                to: status.operator_address,
                amount,
            }),
        }
        .sign(&payer.secret)?;
        let receipt = match node.submit(&tx, true).await {
            Ok(receipt) => {
                turn.admitted(nonce);
                receipt
            }
            Err(e) => {
                turn.refused();
                return Err(e);
            }
        };
        let blinded: Vec<&[u8]> = pending.iter().map(|p| p.blinded_message()).collect();
        let digest =
            token_issue_digest(&receipt.tx_id, &key.key.key_id().0, &batch_digest(&blinded));
        let signature = sign_digest(&payer.secret, &digest).serialize_compact();
        let mut answer = node
            .issue_tokens(&receipt.tx_id, &blinded, &signature)
            .await;
        for _ in 1..TOKEN_ATTEMPTS {
            match &answer {
                Err(err) if err.is_failover() => {
                    answer = node
                        .issue_tokens(&receipt.tx_id, &blinded, &signature)
                        .await;
                }
                _ => break,
            }
        }
        let (key_id, signatures) = answer?;
        if key_id != key.key.key_id().0 || signatures.len() != pending.len() {
            return Err(LightError::Tampered(
                "the node issued under another key or another count".into(),
            ));
        }
        let tokens = pending
            .iter()
            .zip(&signatures)
            .map(|(p, s)| key.key.finalize(p, s))
            .collect::<Result<Vec<_>, _>>()?;
        self.inner.pocket.add(tokens)?;
        Ok(count)
    }

    /// Read tokens held for the first answering endpoint's issuer key (0 when it reads
    /// for free).
    pub async fn read_tokens_held(&self) -> LightResult<u64> {
        self.inner
            .endpoints
            .run(|node| async move {
                let key = self.token_key(&node).await?;
                self.inner.pocket.count(key.key.key_id())
            })
            .await
    }

    /// Buys one batch of read tokens from the first answering endpoint now (see
    /// [`LightClient::with_read_payer`]); returns the tokens held afterwards. Nothing is
    /// bought where reads are free.
    pub async fn buy_read_tokens(&self) -> LightResult<u64> {
        let payer = self
            .inner
            .config
            .payer
            .clone()
            .ok_or_else(|| LightError::InvalidInput("no read payer configured".into()))?;
        self.inner
            .endpoints
            .run(|node| {
                let payer = payer.clone();
                async move {
                    let key = self.token_key(&node).await?;
                    if key.price > 0 {
                        let _one_purchase = self.inner.purchase.lock().await;
                        self.buy_tokens(&node, &key, &payer).await?;
                    }
                    self.inner.pocket.count(key.key.key_id())
                }
            })
            .await
    }

    /// The node's write-credential issuer key (private nodes; unverified: a wrong key
    /// only makes the credentials useless).
    pub async fn credential_key(&self) -> LightResult<super::wire::CredentialKeyWire> {
        self.inner
            .endpoints
            .run(|node| async move { node.credential_key().await })
            .await
    }

    /// The chain's fee stamp issuer key and a stamp's price, from the first endpoint
    /// that issues stamps (`GET /v1/stamps/key`, a connection of its own; unverified
    /// here: see [`LightClient::buy_fee_stamps`]).
    pub async fn stamp_key(&self) -> LightResult<super::wire::TokenKeyWire> {
        self.inner
            .endpoints
            .run(|node| async move { node.fresh()?.stamp_key().await })
            .await
    }

    /// Asks the stamp issuer for blind signatures of fee stamps (`POST /v1/stamps`, a
    /// connection of its own), retried as is when the answer is lost.
    pub async fn issue_stamps(
        &self,
        payment: &[u8; 32],
        blinded: &[&[u8]],
        signature: &[u8; 64],
    ) -> LightResult<(Vec<u8>, Vec<Vec<u8>>)> {
        self.inner
            .endpoints
            .run(|node| async move {
                let node = node.fresh()?;
                let mut answer = node.issue_stamps(payment, blinded, signature).await;
                for _ in 1..TOKEN_ATTEMPTS {
                    match &answer {
                        Err(err) if err.is_failover() => {
                            answer = node.issue_stamps(payment, blinded, signature).await;
                        }
                        _ => break,
                    }
                }
                answer
            })
            .await
    }

    /// Asks the node for blind signatures (`POST /v1/credentials`).
    pub async fn issue_credentials(
        &self,
        request: &super::wire::CredentialRequestWire,
    ) -> LightResult<super::wire::CredentialsWire> {
        self.inner
            .endpoints
            .run(|node| async move { node.issue_credentials(request).await })
            .await
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

#[cfg(test)]
mod bound_tests {
    use super::ALL_KEYS_END;

    /// A stored key is random bytes: one in 256 starts with 0xFF, and a whole-address
    /// read must still include it (a bound of `[0xFF]` left such records out).
    #[test]
    fn stored_keys_starting_with_0xff_are_inside_the_whole_address_bound() {
        let mut key = vec![0xFF];
        key.extend_from_slice(&[0xA5; 40]);
        assert!(key.as_slice() <= ALL_KEYS_END);
        assert!([0xFF; 63].as_slice() <= ALL_KEYS_END);
        assert!([0x00].as_slice() <= ALL_KEYS_END);
    }
}
