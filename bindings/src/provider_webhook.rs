//! A provider's grant webhook across the FFI (see `carchain_core::grants::webhook`):
//! registering a URL with a node for the grant events of the provider, reading the
//! registration and its delivery state, deleting it, and checking a notification's
//! signature. A notification carries only its id (for de-duplication), the event
//! (`grant`, `revoked`, `renounced`), the grant id and the block height, signed with
//! HMAC-SHA256 under the secret the registration returned.

use carchain_core::grants::webhook::manage::WebhookState as CoreWebhookState;
use carchain_core::grants::webhook::{SECRET_LEN, verify_webhook as core_verify};

use crate::error::CarChainError;
use crate::grants_provider::ServiceProvider;

/// A provider's webhook on a node, as the node keeps it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WebhookState {
    /// The provider's address.
    pub provider: String,
    /// Where notifications go.
    pub url: String,
    /// The ledger height when the hook was registered.
    pub created_height: u64,
    /// The registration's time (unix seconds).
    pub registered_at: u64,
    /// Notifications waiting for their next attempt.
    pub pending: u64,
    /// Notifications the node gave up on (its attempt or age limit); kept, not sent.
    pub failed: u64,
    /// Notifications acknowledged with a 2xx.
    pub delivered: u64,
    /// The class of the last failed attempt (`connect`, `timeout`, `status`,
    /// `refused`, `other`), if any.
    pub last_error: Option<String>,
    /// The HTTP status of the last failed attempt, when it was answered.
    pub last_status: Option<u16>,
    /// When the last attempt failed (unix seconds).
    pub last_error_at: Option<u64>,
}

impl From<CoreWebhookState> for WebhookState {
    fn from(state: CoreWebhookState) -> Self {
        WebhookState {
            provider: state.provider,
            url: state.url,
            created_height: state.created_height,
            registered_at: state.registered_at,
            pending: state.pending,
            failed: state.failed,
            delivered: state.delivered,
            last_error: state.last_error.map(|class| class.as_str().to_owned()),
            last_status: state.last_status,
            last_error_at: state.last_error_at,
        }
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl ServiceProvider {
    /// Registers `url` (http or https) with the node at `node_url` for the grants made to
    /// this provider (registered on the ledger first), signed with the provider's account
    /// key under a fresh random secret, and returns that secret (hex): keep it to check
    /// each notification with `verifyWebhook`. Refusals carry the node's code as
    /// `webhook.<code>` (`webhook.webhook_url_scheme`, `webhook.webhook_url_self`,
    /// `webhook.not_found` for a provider not on the ledger, ...).
    pub async fn register_webhook(
        &self,
        node_url: String,
        url: String,
    ) -> Result<String, CarChainError> {
        let secret = self
            .provider
            .register_webhook(&node_url, &url)
            .await
            .map_err(CarChainError::from)?;
        Ok(hex::encode(&secret[..]))
    }

    /// This provider's webhook on the node at `node_url` (URL, ledger height at
    /// registration, pending / failed / delivered counts, last failure's class), read
    /// with a request signed by the provider's key; never the secret. Refused with
    /// `webhook.not_found` when it has none.
    pub async fn webhook_state(&self, node_url: String) -> Result<WebhookState, CarChainError> {
        self.provider
            .webhook_state(&node_url)
            .await
            .map(WebhookState::from)
            .map_err(CarChainError::from)
    }

    /// Deletes this provider's webhook on the node at `node_url` (signed by the
    /// provider's key): nothing more is sent. Refused with `webhook.not_found` when it
    /// has none.
    pub async fn delete_webhook(&self, node_url: String) -> Result<(), CarChainError> {
        self.provider
            .delete_webhook(&node_url)
            .await
            .map_err(CarChainError::from)
    }
}

/// Whether `signature` (the `x-carchain-signature` header) is the HMAC-SHA256 of the
/// notification's raw `body` under `secret_hex` (what `registerWebhook` returned);
/// false for a malformed secret or signature.
#[uniffi::export]
pub fn verify_webhook(secret_hex: String, body: Vec<u8>, signature: String) -> bool {
    match hex::decode(secret_hex.trim()) {
        Ok(secret) if secret.len() == SECRET_LEN => core_verify(&secret, &body, &signature),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use carchain_core::grants::webhook::webhook_signature;

    #[test]
    fn a_notification_verifies_under_its_secret_only() {
        let secret = [7u8; SECRET_LEN];
        let body = br#"{"id":"aa","grant_id":"bb","height":3}"#.to_vec();
        let signature = webhook_signature(&secret, &body);
        assert!(verify_webhook(
            hex::encode(secret),
            body.clone(),
            signature.clone()
        ));
        assert!(!verify_webhook(
            hex::encode([8u8; SECRET_LEN]),
            body.clone(),
            signature.clone()
        ));
        let mut changed = body.clone();
        changed[10] ^= 1;
        assert!(!verify_webhook(
            hex::encode(secret),
            changed,
            signature.clone()
        ));
        assert!(!verify_webhook("zz".into(), body.clone(), signature));
        assert!(!verify_webhook(hex::encode(secret), body, "not hex".into()));
    }
}
