//! Grant webhooks, the node's side: a provider registers an HTTP endpoint
//! (`POST /v1/webhooks`, signed with its account key); as blocks commit, the node finds
//! the grants made to a provider with a hook and POSTs each one's notification
//! `{"id","grant_id","height"}` there, signed with `x-carchain-signature` (hex
//! HMAC-SHA256 of the body under the provider's secret), retrying with backoff until a
//! 2xx: at least once, with a stable id to de-duplicate on. The notification names no
//! address, VID or record; the provider fetches the delivery itself, verified.
//!
//! - [`url`]: which URLs are accepted (http(s), never the node itself).
//! - [`start`]: a running node's webhooks (task and route).
//! - [`store`]: `webhooks.sqlite`, the hooks, the outbox and the scan cursor.

mod serve;
pub mod store;
pub mod url;

pub use serve::start;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bitcoin::secp256k1::PublicKey;
use carchain_core::grants::webhook::{
    SECRET_LEN, SIGNATURE_HEADER, WebhookNotification, WebhookRegistration, notification_id,
    registration_digest, webhook_signature,
};
use carchain_core::protocol::signing::{p2wpkh_address, signature_from_compact, verify_digest};
use carchain_core::protocol::{Canonical, Network, SignedTransaction, TxBody};

use crate::db::LedgerDb;
use crate::service::{ErrorCode, ServiceError};
use store::{NewNotification, Registered, WebhookStore};

/// How far a registration's time may be from the node's clock, in seconds.
pub const MAX_CLOCK_SKEW_SECS: u64 = 300;
/// How often the node looks for new blocks and due notifications.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// First retry delay; it doubles with each failure up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest delay between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Longest wait for a provider's answer.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Blocks scanned in one step.
const SCAN_BATCH: u64 = 256;

/// Whether a grant id names a grant in the committed state.
pub type GrantCommitted = dyn Fn(&[u8; 32]) -> bool + Send + Sync;
/// Whether an address is a service provider registered on the ledger.
pub type ProviderKnown = dyn Fn(&str) -> bool + Send + Sync;

/// The node's webhooks: the store, the node's own address and the chain's network.
pub struct Webhooks {
    store: WebhookStore,
    own: SocketAddr,
    network: Network,
    known: Box<ProviderKnown>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as u64)
        .unwrap_or(0)
}

/// Runs a store call off the async workers.
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ServiceError> {
    tokio::task::spawn_blocking(call)
        .await
        .map_err(|_| ServiceError::new(ErrorCode::Internal, "a webhook task stopped"))?
}

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::new(ErrorCode::InvalidRequest, message)
}

fn hex_array<const N: usize>(field: &str, text: &str) -> Result<[u8; N], ServiceError> {
    hex::decode(text)
        .ok()
        .and_then(|bytes| <[u8; N]>::try_from(bytes.as_slice()).ok())
        .ok_or_else(|| invalid(format!("{field} must be {N} bytes of hex")))
}

impl Webhooks {
    /// Opens the webhooks of the node whose data directory is `data_dir`, listening on
    /// `own`; a new store notifies grants committed after `start_height`. Only
    /// providers `known` (registered on the ledger) may register a hook, so the hooks a
    /// node keeps are bounded by the ledger's provider registrations (each paid a fee).
    pub fn open(
        data_dir: &Path,
        own: SocketAddr,
        network: Network,
        start_height: u64,
        known: Box<ProviderKnown>,
    ) -> Result<Self, ServiceError> {
        Ok(Webhooks {
            store: WebhookStore::open(data_dir, start_height)?,
            own,
            network,
            known,
        })
    }

    /// The store (tests, operators).
    pub fn store(&self) -> &WebhookStore {
        &self.store
    }

    /// Checks and stores a registration; answers the provider's address.
    pub fn register(&self, registration: &WebhookRegistration) -> Result<String, ServiceError> {
        let url = url::check_url(&registration.url, self.own)?;
        let key: [u8; 33] = hex_array("provider_pubkey", &registration.provider_pubkey)?;
        let provider = PublicKey::from_slice(&key)
            .map_err(|_| invalid("provider_pubkey is not a secp256k1 public key"))?;
        let secret: [u8; SECRET_LEN] = hex_array("secret", &registration.secret)?;
        let signature: [u8; 64] = hex_array("signature", &registration.signature)?;
        let signature = signature_from_compact(&signature).map_err(|err| {
            ServiceError::new(ErrorCode::BadSignature, format!("bad signature: {err}"))
        })?;
        let digest = registration_digest(&provider, &registration.url, &secret, registration.time);
        verify_digest(&provider, &digest, &signature, "webhook registration").map_err(|_| {
            ServiceError::new(
                ErrorCode::BadSignature,
                "the registration is not signed by the provider key",
            )
        })?;
        let now = now_ms() / 1000;
        if registration.time.abs_diff(now) > MAX_CLOCK_SKEW_SECS {
            return Err(invalid(format!(
                "the registration time must be within {MAX_CLOCK_SKEW_SECS} s of the node's clock"
            )));
        }
        let address = p2wpkh_address(&provider, self.network);
        if !(self.known)(&address) {
            return Err(ServiceError::new(
                ErrorCode::NotFound,
                format!("{address} is not a service provider registered on the ledger"),
            ));
        }
        match self
            .store
            .register(&address, url.as_str(), &secret, registration.time)?
        {
            Registered::Stored => Ok(address),
            Registered::Stale => Err(ServiceError::new(
                ErrorCode::Replay,
                "a registration of this provider with the same or a later time is stored",
            )),
        }
    }

    /// Scans the blocks committed after the cursor (up to [`SCAN_BATCH`] of them) for
    /// grants to providers with a hook and puts their notifications in the outbox.
    pub fn scan(&self, ledger: &LedgerDb, committed: &GrantCommitted) -> Result<(), ServiceError> {
        let internal = |err: crate::db::DbError| {
            ServiceError::new(ErrorCode::Internal, format!("webhook scan: {err}"))
        };
        let Some(latest) = ledger.latest_height().map_err(internal)? else {
            return Ok(());
        };
        let cursor = self.store.cursor()?;
        if latest <= cursor {
            return Ok(());
        }
        let last = latest.min(cursor + SCAN_BATCH);
        let mut found = Vec::new();
        for height in cursor + 1..=last {
            for stored in ledger.block_txs(height).map_err(internal)? {
                let Ok(signed) = SignedTransaction::from_canonical(&stored.bytes) else {
                    continue;
                };
                let TxBody::Grant(grant) = &signed.tx.body else {
                    continue;
                };
                if !self.store.has_hook(&grant.grantee_address)? || !committed(&grant.grant_id) {
                    continue;
                }
                let id = notification_id(&signed.id(), &grant.grant_id);
                let notification = WebhookNotification {
                    id: hex::encode(id),
                    grant_id: hex::encode(grant.grant_id),
                    height,
                };
                let body = serde_json::to_vec(&notification)
                    .map_err(|err| ServiceError::new(ErrorCode::Internal, err.to_string()))?;
                found.push(NewNotification {
                    id,
                    provider: grant.grantee_address.clone(),
                    body,
                });
            }
        }
        self.store.enqueue(last, &found, now_ms())
    }

    /// Sends the due notifications once each, concurrently; a 2xx removes one from
    /// the outbox, anything else schedules its next attempt.
    pub async fn send_due(self: &Arc<Self>, http: &reqwest::Client) -> Result<(), ServiceError> {
        let this = Arc::clone(self);
        let due = blocking(move || this.store.due(now_ms(), 32)).await?;
        let attempts = due.into_iter().map(|due| async move {
            let signature = webhook_signature(&due.secret, &due.body);
            let answer = http
                .post(&due.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(SIGNATURE_HEADER, signature)
                .body(due.body.clone())
                .send()
                .await;
            let status = answer.as_ref().map(|r| r.status().as_u16()).unwrap_or(0);
            (
                due.id,
                due.attempts,
                answer.is_ok_and(|r| r.status().is_success()),
                status,
            )
        });
        let outcomes = futures::future::join_all(attempts).await;
        let this = Arc::clone(self);
        blocking(move || {
            for (id, attempts, acknowledged, status) in outcomes {
                if acknowledged {
                    this.store.delivered(&id)?;
                    continue;
                }
                let delay = FIRST_BACKOFF
                    .saturating_mul(1u32 << attempts.min(20))
                    .min(MAX_BACKOFF);
                tracing::info!(
                    attempts = attempts + 1,
                    status,
                    retry_ms = delay.as_millis() as u64,
                    "webhook notification not acknowledged; will retry"
                );
                this.store
                    .failed(&id, now_ms() + delay.as_millis() as u64)?;
            }
            Ok(())
        })
        .await
    }

    /// Scans and sends forever, every [`POLL_INTERVAL`].
    pub async fn run(self: Arc<Self>, ledger: Arc<LedgerDb>, committed: Arc<GrantCommitted>) {
        let http = match reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
        {
            Ok(http) => http,
            Err(err) => {
                tracing::error!(%err, "webhooks: no HTTP client; notifications are not sent");
                return;
            }
        };
        loop {
            let this = Arc::clone(&self);
            let ledger = Arc::clone(&ledger);
            let committed = Arc::clone(&committed);
            let scanned =
                tokio::task::spawn_blocking(move || this.scan(&ledger, committed.as_ref())).await;
            match scanned {
                Ok(Ok(())) => {}
                Ok(Err(err)) => tracing::warn!(%err, "webhook scan failed"),
                Err(err) => tracing::warn!(%err, "webhook scan task failed"),
            }
            if let Err(err) = self.send_due(&http).await {
                tracing::warn!(%err, "webhook send failed");
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}
