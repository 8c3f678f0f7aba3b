//! The embedded light client across the FFI: verified header sync with progress reported
//! to a host [`SyncListener`], the verified height and account balances.
//!
//! Cancellation: every async call here may be cancelled from Kotlin or Swift (the Rust
//! future is dropped). [`LightClient::sync`] verifies and keeps headers page by page, each
//! page checked completely before it is added to the cache, so a cancelled sync keeps
//! the pages already verified and the next sync resumes from there; `balance` only reads.

use std::sync::Arc;

use carchain_core::light::{LightClient as CoreLightClient, SyncProgress, TrustAnchor};

use crate::error::CarChainError;
use crate::keys::Network;

/// Receives a header sync's progress; called from a background thread after each
/// verified page. Must return quickly.
#[uniffi::export(with_foreign)]
pub trait SyncListener: Send + Sync {
    /// `height` verified so far, out of the node's reported tip `target`.
    fn on_progress(&self, height: u64, target: u64);
}

/// The embedded light node: verifies signed headers from a trust anchor, proves every
/// read, fails over between endpoints. Thread-safe; share one per app.
#[derive(Debug, uniffi::Object)]
pub struct LightClient {
    pub(crate) client: CoreLightClient,
}

#[uniffi::export(async_runtime = "tokio")]
impl LightClient {
    /// A client of `endpoints` (base URLs, in order of preference) trusting the chain
    /// `chain_id` on `network` from the trust anchor text `validator_pubkey_hex`: the
    /// genesis validators' ed25519 keys (`<64 hex>[:<power>],...`; the embedded node's one
    /// key as `carchain-node init` prints it) or a trusted CometBFT `<height>:<hash hex>`.
    /// See also `with_validators` and `with_trusted_height`.
    #[uniffi::constructor]
    pub fn new(
        endpoints: Vec<String>,
        chain_id: String,
        network: Network,
        validator_pubkey_hex: String,
    ) -> Result<Arc<Self>, CarChainError> {
        let anchor = TrustAnchor::from_hex(&chain_id, network.into(), &validator_pubkey_hex)?;
        let client = CoreLightClient::new(endpoints, anchor)?;
        Ok(Arc::new(LightClient { client }))
    }

    /// Syncs verified headers up to a node's tip, calling `listener` after each page;
    /// returns the verified height. Cancel-safe: pages verified before a cancel are kept.
    pub async fn sync(&self, listener: Arc<dyn SyncListener>) -> Result<u64, CarChainError> {
        let report = move |progress: SyncProgress| {
            listener.on_progress(progress.height, progress.target);
        };
        Ok(self.client.sync(&report).await?)
    }

    /// Height of the verified tip (0 before any sync). No network.
    pub fn verified_height(&self) -> u64 {
        self.client.verified_height()
    }

    /// The proven balance of `address` at the verified tip (sync first). Read only.
    pub async fn balance(&self, address: String) -> Result<u64, CarChainError> {
        Ok(self.client.account(&address).await?.balance)
    }

    /// Unspent read tokens this client holds for the first answering node's issuer key
    /// (kept in the wallet store for a client from `Wallet.payingReads`). 0 where reads
    /// are free. Asks the node for its key once.
    pub async fn read_tokens_held(&self) -> Result<u64, CarChainError> {
        Ok(self.client.read_tokens_held().await?)
    }

    /// Buys one batch of read tokens now from the client's payer (see
    /// `Wallet.payingReads`): one transfer to the node's operator, waited into a block,
    /// then the node's blind signatures. Returns the tokens held afterwards. Refused
    /// without a payer (`light.invalid_input`); nothing is bought where reads are free.
    pub async fn buy_read_tokens(&self) -> Result<u64, CarChainError> {
        Ok(self.client.buy_read_tokens().await?)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A valid ed25519 validator key (RFC 8032's first test vector) for anchors in tests.
    pub(crate) const GENERATOR_HEX: &str =
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    /// An endpoint on 127.0.0.1 where no node listens (the discard port).
    pub(crate) const NO_NODE: &str = "http://127.0.0.1:9";

    /// A client of [`NO_NODE`] anchored to [`GENERATOR_HEX`]: every request fails, so
    /// tests see what is refused before any network call.
    pub(crate) fn offline_client() -> Arc<LightClient> {
        LightClient::new(
            vec![NO_NODE.into()],
            "c".into(),
            Network::Regtest,
            GENERATOR_HEX.into(),
        )
        .unwrap()
    }

    /// A single-threaded runtime for blocking on the async calls.
    pub(crate) fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// The error the async `call` fails with (it must fail).
    #[track_caller]
    pub(crate) fn error_of<T: std::fmt::Debug>(
        call: impl std::future::Future<Output = Result<T, CarChainError>>,
    ) -> CarChainError {
        runtime().block_on(call).unwrap_err()
    }

    #[test]
    fn a_bad_validator_key_is_invalid_input() {
        let err = LightClient::new(
            vec!["http://127.0.0.1:1".into()],
            "carchain-dev".into(),
            Network::Regtest,
            "zz".into(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "light.invalid_input");
        assert!(matches!(err, CarChainError::InvalidInput { .. }));
    }

    #[test]
    fn no_endpoints_is_invalid_input() {
        let err = LightClient::new(vec![], "c".into(), Network::Regtest, GENERATOR_HEX.into())
            .unwrap_err();
        assert_eq!(err.code(), "light.invalid_input");
        assert!(err.to_string().contains("endpoint"), "{err}");
    }

    #[test]
    fn an_unreachable_node_is_unavailable_and_the_client_stays_at_zero() {
        let light = offline_client();
        struct Count(std::sync::Mutex<u32>);
        impl SyncListener for Count {
            fn on_progress(&self, _: u64, _: u64) {
                *self.0.lock().unwrap() += 1;
            }
        }
        let listener = Arc::new(Count(std::sync::Mutex::new(0)));
        let err = error_of(light.sync(listener.clone()));
        assert_eq!(err.code(), "light.network");
        assert_eq!(light.verified_height(), 0);
        assert_eq!(*listener.0.lock().unwrap(), 0);
    }
}
