//! The provider's signed requests: a registration (`POST /v1/webhooks`), a read of its
//! hook's state (`POST /v1/webhooks/read`) and a delete (`POST /v1/webhooks/delete`).
//! Each is signed with the provider's account key; a registration must be later than the
//! provider's stored one, a read or delete carries a nonce taken once, and every time
//! must be within [`MAX_CLOCK_SKEW_SECS`] of the node's clock.

use bitcoin::secp256k1::PublicKey;
use carchain_core::grants::webhook::manage::{
    DeliveryErrorClass, NONCE_LEN, WebhookAction, WebhookRequest, WebhookState, request_digest,
};
use carchain_core::grants::webhook::{SECRET_LEN, WebhookRegistration, registration_digest};
use carchain_core::protocol::signing::{p2wpkh_address, signature_from_compact, verify_digest};

use super::store::{Deleted, HookState, Registered};
use super::{MAX_CLOCK_SKEW_SECS, Webhooks, now_ms, url};
use crate::service::{ErrorCode, ServiceError};

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::new(ErrorCode::InvalidRequest, message)
}

fn hex_array<const N: usize>(field: &str, text: &str) -> Result<[u8; N], ServiceError> {
    hex::decode(text)
        .ok()
        .and_then(|bytes| <[u8; N]>::try_from(bytes.as_slice()).ok())
        .ok_or_else(|| invalid(format!("{field} must be {N} bytes of hex")))
}

fn provider_key(text: &str) -> Result<PublicKey, ServiceError> {
    let key: [u8; 33] = hex_array("provider_pubkey", text)?;
    PublicKey::from_slice(&key)
        .map_err(|_| invalid("provider_pubkey is not a secp256k1 public key"))
}

/// Checks `signature` (hex) by `provider` over `digest`.
fn check_signature(
    provider: &PublicKey,
    digest: &[u8; 32],
    signature: &str,
    what: &'static str,
) -> Result<(), ServiceError> {
    let signature: [u8; 64] = hex_array("signature", signature)?;
    let signature = signature_from_compact(&signature).map_err(|err| {
        ServiceError::new(ErrorCode::BadSignature, format!("bad signature: {err}"))
    })?;
    verify_digest(provider, digest, &signature, what).map_err(|_| {
        ServiceError::new(
            ErrorCode::BadSignature,
            format!("the {what} is not signed by the provider key"),
        )
    })
}

fn check_time(time: u64, what: &str) -> Result<(), ServiceError> {
    if time.abs_diff(now_ms() / 1000) > MAX_CLOCK_SKEW_SECS {
        return Err(invalid(format!(
            "the {what} time must be within {MAX_CLOCK_SKEW_SECS} s of the node's clock"
        )));
    }
    Ok(())
}

fn no_hook(address: &str) -> ServiceError {
    ServiceError::new(
        ErrorCode::NotFound,
        format!("{address} has no webhook on this node"),
    )
}

fn replay(message: &str) -> ServiceError {
    ServiceError::new(ErrorCode::Replay, message)
}

/// The wire state of a stored hook.
fn wire_state(provider: String, hook: HookState) -> WebhookState {
    let last_error = hook.last_error.map(|class| {
        serde_json::from_value(serde_json::Value::String(class))
            .unwrap_or(DeliveryErrorClass::Other)
    });
    WebhookState {
        provider,
        url: hook.url,
        created_height: hook.height,
        registered_at: hook.time,
        pending: hook.pending,
        failed: hook.failed,
        delivered: hook.delivered,
        last_error,
        last_status: hook.last_status,
        last_error_at: hook.last_error_at_ms.map(|ms| ms / 1000),
    }
}

impl Webhooks {
    /// Checks and stores a registration; answers the provider's address.
    pub fn register(&self, registration: &WebhookRegistration) -> Result<String, ServiceError> {
        let url = url::check_url(&registration.url, self.own, self.options.refuse_private)?;
        let provider = provider_key(&registration.provider_pubkey)?;
        let secret: [u8; SECRET_LEN] = hex_array("secret", &registration.secret)?;
        let digest = registration_digest(&provider, &registration.url, &secret, registration.time);
        check_signature(
            &provider,
            &digest,
            &registration.signature,
            "webhook registration",
        )?;
        check_time(registration.time, "registration")?;
        let address = p2wpkh_address(&provider, self.chain.network);
        if !(self.chain.known)(&address) {
            return Err(ServiceError::new(
                ErrorCode::NotFound,
                format!("{address} is not a service provider registered on the ledger"),
            ));
        }
        let height = self
            .chain
            .ledger
            .latest_height()
            .map_err(|err| ServiceError::new(ErrorCode::Internal, err.to_string()))?
            .unwrap_or(0);
        match self
            .store
            .register(&address, url.as_str(), &secret, registration.time, height)?
        {
            Registered::Stored => Ok(address),
            Registered::Stale => Err(replay(
                "a registration of this provider with the same or a later time is stored",
            )),
        }
    }

    /// Checks a signed read or delete: the provider's signature over `action`, the time,
    /// a hook to act on, and a nonce not used before. Answers the provider's address.
    fn authenticate(
        &self,
        action: WebhookAction,
        request: &WebhookRequest,
    ) -> Result<String, ServiceError> {
        let provider = provider_key(&request.provider_pubkey)?;
        let nonce: [u8; NONCE_LEN] = hex_array("nonce", &request.nonce)?;
        let digest = request_digest(action, &provider, &nonce, request.time);
        check_signature(&provider, &digest, &request.signature, "webhook request")?;
        check_time(request.time, "request")?;
        let address = p2wpkh_address(&provider, self.chain.network);
        // Only providers with a hook leave nonces, so the nonces kept are bounded too.
        if !self.store.has_hook(&address)? {
            return Err(no_hook(&address));
        }
        let forget_before = (now_ms() / 1000).saturating_sub(2 * MAX_CLOCK_SKEW_SECS);
        if !self
            .store
            .take_nonce(&address, &nonce, request.time, forget_before)?
        {
            return Err(replay("this request was already received"));
        }
        Ok(address)
    }

    /// The provider's hook and its delivery state, for a signed read.
    pub fn read(&self, request: &WebhookRequest) -> Result<WebhookState, ServiceError> {
        let address = self.authenticate(WebhookAction::Read, request)?;
        let hook = self
            .store
            .state(&address)?
            .ok_or_else(|| no_hook(&address))?;
        Ok(wire_state(address, hook))
    }

    /// Deletes the provider's hook for a signed delete; answers the provider's address.
    pub fn delete(&self, request: &WebhookRequest) -> Result<String, ServiceError> {
        let address = self.authenticate(WebhookAction::Delete, request)?;
        match self.store.delete(&address, request.time)? {
            Deleted::Deleted => Ok(address),
            Deleted::NotFound => Err(no_hook(&address)),
            Deleted::Stale => Err(replay(
                "the delete was signed before the stored registration",
            )),
        }
    }
}
