//! Grant webhooks, the node's side: a provider registers an HTTP endpoint
//! (`POST /v1/webhooks`, signed with its account key); as blocks commit, the node finds
//! the grants made to a provider with a hook, and the revocations and renouncements of
//! such grants, and POSTs each event's notification `{"id","event","grant_id","height"}`
//! there, signed with `x-carchain-signature` (hex HMAC-SHA256 of the body under the
//! provider's secret), retrying with backoff until a 2xx: at least once, with a stable
//! id to de-duplicate on. The notification names no address, VID or record; the
//! provider fetches the delivery itself, verified.
//!
//! Delivery is bounded ([`DeliveryOptions`]): after `max_attempts` failed attempts, or
//! at the first failure once a notification is `max_age` old, the node gives up on it
//! and keeps it in the outbox as failed, counted in the hook's state. The provider reads
//! that state and deletes its hook with requests signed by its key
//! (`POST /v1/webhooks/read`, `POST /v1/webhooks/delete`).
//!
//! - [`url`]: which URLs are accepted (http(s), never the node itself, optionally no
//!   private address).
//! - [`start`]: a running node's webhooks (task and routes).
//! - [`store`]: `webhooks.sqlite`, the hooks, the outbox, the nonces and the scan cursor.
//! - `requests`: the signed registration, read and delete; `scan`: the committed blocks'
//!   events; `send`: the attempts and their limits; `public_dns`: the resolver of a node
//!   that sends to public addresses only.

mod public_dns;
mod requests;
mod scan;
mod send;
mod serve;
pub mod store;
pub mod url;

pub use serve::{start, start_with};

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use carchain_core::protocol::{GrantState, Network};

use crate::db::LedgerDb;
use crate::service::{ErrorCode, ServiceError};
use store::WebhookStore;

/// How far a signed request's time may be from the node's clock, in seconds.
pub const MAX_CLOCK_SKEW_SECS: u64 = 300;
/// How often the node looks for new blocks and due notifications.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// First retry delay; it doubles with each failure up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest delay between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Longest wait for a provider's answer.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Default of [`DeliveryOptions::max_attempts`].
pub const DEFAULT_MAX_ATTEMPTS: u32 = 300;
/// Default of [`DeliveryOptions::max_age`]: one day.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// How long the node keeps trying, and where it may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryOptions {
    /// Attempts per notification before it is kept as failed (at least 1).
    pub max_attempts: u32,
    /// Age after which the next failure keeps a notification as failed.
    pub max_age: Duration,
    /// Refuse hooks on private, link-local, loopback and other non-public addresses
    /// (at registration, and at each attempt after the name resolves).
    pub refuse_private: bool,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        DeliveryOptions {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            max_age: DEFAULT_MAX_AGE,
            refuse_private: false,
        }
    }
}

/// The committed state of a grant, if any.
pub type GrantLookup = dyn Fn(&[u8; 32]) -> Option<GrantState> + Send + Sync;
/// Whether an address is a service provider registered on the ledger.
pub type ProviderKnown = dyn Fn(&str) -> bool + Send + Sync;

/// What the webhooks read of the chain: its network, its blocks, its providers and its
/// grants.
pub struct ChainView {
    /// The chain's address network.
    pub network: Network,
    /// The committed blocks.
    pub ledger: Arc<LedgerDb>,
    /// Registered providers (only they may register a hook, so the hooks a node keeps
    /// are bounded by the ledger's provider registrations, each paid a fee).
    pub known: Box<ProviderKnown>,
    /// Committed grants.
    pub grant: Box<GrantLookup>,
}

/// The node's webhooks: the store, the node's own address, the chain and the options.
pub struct Webhooks {
    store: WebhookStore,
    own: SocketAddr,
    chain: ChainView,
    options: DeliveryOptions,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// Runs a store call off the async workers.
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ServiceError> {
    tokio::task::spawn_blocking(call)
        .await
        .map_err(|_| ServiceError::new(ErrorCode::Internal, "a webhook task stopped"))?
}

impl Webhooks {
    /// Opens the webhooks of the node whose data directory is `data_dir`, listening on
    /// `own`; a new store notifies events committed after the ledger's latest height.
    pub fn open(
        data_dir: &Path,
        own: SocketAddr,
        chain: ChainView,
        options: DeliveryOptions,
    ) -> Result<Self, ServiceError> {
        if options.max_attempts == 0 {
            return Err(ServiceError::new(
                ErrorCode::InvalidRequest,
                "webhook delivery needs at least one attempt",
            ));
        }
        let latest = chain
            .ledger
            .latest_height()
            .map_err(|err| ServiceError::new(ErrorCode::Internal, err.to_string()))?
            .unwrap_or(0);
        Ok(Webhooks {
            store: WebhookStore::open(data_dir, latest)?,
            own,
            chain,
            options,
        })
    }

    /// The store (tests, operators).
    pub fn store(&self) -> &WebhookStore {
        &self.store
    }

    /// The delivery options.
    pub fn options(&self) -> DeliveryOptions {
        self.options
    }

    /// Scans and sends forever, every [`POLL_INTERVAL`].
    pub async fn run(self: Arc<Self>) {
        let http = match send::client(self.options) {
            Ok(http) => http,
            Err(err) => {
                tracing::error!(%err, "webhooks: no HTTP client; notifications are not sent");
                return;
            }
        };
        loop {
            let this = Arc::clone(&self);
            match tokio::task::spawn_blocking(move || this.scan()).await {
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
