//! A provider registering its own webhook: the registration signed with the provider's
//! account key (the key its `ServiceProvider` holds) and a fresh shared secret, sent to a
//! node (see [`super::webhook`] for the notification and its check).

use std::time::{SystemTime, UNIX_EPOCH};

use zeroize::Zeroizing;

use super::provider::ServiceProvider;
use super::webhook::{SECRET_LEN, WebhookError, WebhookRegistration, new_secret, register_webhook};

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
        let time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| WebhookError::Transport("the clock is before 1970".into()))?
            .as_secs();
        let registration = WebhookRegistration::sign(self.account_key(), url, &secret, time);
        register_webhook(node_url, &registration).await?;
        Ok(secret)
    }
}
