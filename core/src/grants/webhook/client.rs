//! The provider's HTTP calls to a node's webhook endpoints: register, read and delete a
//! hook (`POST /v1/webhooks`, `/v1/webhooks/read`, `/v1/webhooks/delete`). SDK only: the
//! formats they send are in [`super`] and [`super::manage`].

use super::manage::{WebhookAction, WebhookRequest, WebhookState};
use super::{WebhookError, WebhookRegistration};

/// Registers `registration` with the node at `node_url` (`POST /v1/webhooks`).
pub async fn register_webhook(
    node_url: &str,
    registration: &WebhookRegistration,
) -> Result<(), WebhookError> {
    let url = format!("{}/v1/webhooks", node_url.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(url)
        .json(registration)
        .send()
        .await
        .map_err(|err| WebhookError::Transport(err.to_string()))?;
    if response.status().is_success() {
        return Ok(());
    }
    Err(refusal(response).await)
}

/// The typed refusal of a node's non-2xx answer (`{"error":{"code","message"}}`).
pub(crate) async fn refusal(response: reqwest::Response) -> WebhookError {
    let status = response.status().as_u16();
    let body: serde_json::Value = match response.json().await {
        Ok(body) => body,
        Err(err) => return WebhookError::Transport(format!("HTTP {status}: {err}")),
    };
    let field = |name: &str| body["error"][name].as_str().unwrap_or_default().to_owned();
    WebhookError::Refused {
        status,
        code: field("code"),
        message: field("message"),
    }
}

async fn post(
    node_url: &str,
    action: WebhookAction,
    request: &WebhookRequest,
) -> Result<reqwest::Response, WebhookError> {
    let url = format!(
        "{}/v1/webhooks/{}",
        node_url.trim_end_matches('/'),
        action.path()
    );
    let response = reqwest::Client::new()
        .post(url)
        .json(request)
        .send()
        .await
        .map_err(|err| WebhookError::Transport(err.to_string()))?;
    if response.status().is_success() {
        Ok(response)
    } else {
        Err(refusal(response).await)
    }
}

/// Reads the hook a signed [`WebhookAction::Read`] request names on the node at
/// `node_url`. Refused: another key's signature (`bad_signature`), no hook
/// (`not_found`), a nonce already used (`replay`).
pub async fn read_webhook(
    node_url: &str,
    request: &WebhookRequest,
) -> Result<WebhookState, WebhookError> {
    post(node_url, WebhookAction::Read, request)
        .await?
        .json()
        .await
        .map_err(|err| WebhookError::Transport(err.to_string()))
}

/// Deletes the hook a signed [`WebhookAction::Delete`] request names on the node at
/// `node_url`; refused like [`read_webhook`], and a delete signed before the stored
/// registration is a `replay`.
pub async fn delete_webhook(node_url: &str, request: &WebhookRequest) -> Result<(), WebhookError> {
    post(node_url, WebhookAction::Delete, request).await?;
    Ok(())
}
