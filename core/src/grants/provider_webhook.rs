//! A provider's own webhook on a node: registering it (signed with the provider's
//! account key, the key its `ServiceProvider` holds, under a fresh shared secret),
//! reading its registration and delivery state, and deleting it, each signed with that
//! key (see [`super::webhook`] for the notification and its check,
//! [`super::webhook::manage`] for the signed requests).

use zeroize::Zeroizing;

use super::provider::ServiceProvider;
use super::webhook::manage::{NONCE_LEN, WebhookAction, WebhookRequest, WebhookState};
use super::webhook::{
    SECRET_LEN, WebhookError, WebhookRegistration, delete_webhook, new_secret, read_webhook,
    register_webhook,
};

impl ServiceProvider {
    /// Registers `url` with the node at `node_url` for the grants made to this provider,
    /// under a fresh random secret, and returns that secret: the provider keeps it to
    /// check each notification's signature ([`super::webhook::verify_webhook`]). A new
    /// registration replaces the provider's previous one on that node.
    pub async fn register_webhook(
        &self,
        node_url: &str,
        url: &str,
    ) -> Result<Zeroizing<[u8; SECRET_LEN]>, WebhookError> {
        let secret = new_secret()?;
        let registration =
            WebhookRegistration::sign(self.account_key(), url, &secret, self.clock().now_secs());
        register_webhook(node_url, &registration).await?;
        Ok(secret)
    }

    fn webhook_request(&self, action: WebhookAction) -> Result<WebhookRequest, WebhookError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| WebhookError::Randomness)?;
        Ok(WebhookRequest::sign(
            action,
            self.account_key(),
            &nonce,
            self.clock().now_secs(),
        ))
    }

    /// This provider's hook on the node at `node_url`: URL, ledger height at
    /// registration and delivery counts (pending, failed, delivered) with the class of
    /// the last failure; never the secret. `not_found` when it has none.
    pub async fn webhook_state(&self, node_url: &str) -> Result<WebhookState, WebhookError> {
        read_webhook(node_url, &self.webhook_request(WebhookAction::Read)?).await
    }

    /// Deletes this provider's hook on the node at `node_url`: nothing more is sent and
    /// its waiting notifications are dropped. `not_found` when it has none.
    pub async fn delete_webhook(&self, node_url: &str) -> Result<(), WebhookError> {
        delete_webhook(node_url, &self.webhook_request(WebhookAction::Delete)?).await
    }
}
