//! A provider managing its registered webhook on a node: reading the registration and
//! its delivery state (`POST /v1/webhooks/read`) and deleting it
//! (`POST /v1/webhooks/delete`). Both are [`WebhookRequest`]s signed with the provider's
//! account key over the action, a fresh random nonce and the time, so only the provider
//! reads or deletes its own hook and a captured request cannot be sent again: a node
//! takes a time within 300 s of its clock and each nonce once, and refuses a delete
//! signed before the registration it would remove.
//!
//! The state names the URL, the ledger height at registration and counts of
//! notifications (pending, failed, delivered) with the class of the last failure; never
//! the secret.

use crate::protocol::signing::{public_key_of, sign_digest};
use bitcoin::secp256k1::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Length of a request's nonce, in bytes.
pub const NONCE_LEN: usize = 32;

/// What a signed request asks of the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookAction {
    /// Read the registration and its delivery state.
    Read,
    /// Delete the registration: nothing more is sent.
    Delete,
}

impl WebhookAction {
    /// The digest's domain: `carchain/webhook-read/v1` or `carchain/webhook-delete/v1`.
    pub fn domain(self) -> &'static str {
        match self {
            WebhookAction::Read => "carchain/webhook-read/v1",
            WebhookAction::Delete => "carchain/webhook-delete/v1",
        }
    }

    /// The route under `/v1/webhooks/`.
    pub fn path(self) -> &'static str {
        match self {
            WebhookAction::Read => "read",
            WebhookAction::Delete => "delete",
        }
    }
}

/// A signed read or delete request, the JSON body of `POST /v1/webhooks/{read,delete}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// The provider's compressed public key (hex).
    pub provider_pubkey: String,
    /// Unix seconds; within 300 s of the node's clock.
    pub time: u64,
    /// Fresh random bytes (hex, [`NONCE_LEN`]); a node takes each once.
    pub nonce: String,
    /// Compact signature (hex) of the provider key over [`request_digest`].
    pub signature: String,
}

/// The digest a request's signature covers: SHA-256 of the action's domain, the provider
/// key and the nonce (each u32 length-prefixed) and the time (u64 BE).
pub fn request_digest(
    action: WebhookAction,
    provider: &PublicKey,
    nonce: &[u8],
    time: u64,
) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in [action.domain().as_bytes(), &provider.serialize()[..], nonce] {
        hasher.update((part.len() as u32).to_be_bytes());
        hasher.update(part);
    }
    hasher.update(time.to_be_bytes());
    hasher.finalize().into()
}

impl WebhookRequest {
    /// Signs `action` with the provider's account key.
    pub fn sign(
        action: WebhookAction,
        account: &SecretKey,
        nonce: &[u8; NONCE_LEN],
        time: u64,
    ) -> Self {
        let public = public_key_of(account);
        let digest = request_digest(action, &public, nonce, time);
        WebhookRequest {
            provider_pubkey: hex::encode(public.serialize()),
            time,
            nonce: hex::encode(nonce),
            signature: hex::encode(sign_digest(account, &digest).serialize_compact()),
        }
    }
}

/// Why the last attempt to deliver a notification failed (no message: nothing of the
/// provider's answer is kept but its status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryErrorClass {
    /// No connection (refused, unreachable, name not resolved).
    Connect,
    /// No answer within the node's send timeout.
    Timeout,
    /// An answer that is not 2xx (see `last_status`; redirects are not followed).
    Status,
    /// The node refused the destination (a private address a node is set to refuse).
    Refused,
    /// Anything else (and classes a newer node reports).
    #[serde(other)]
    Other,
}

impl DeliveryErrorClass {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryErrorClass::Connect => "connect",
            DeliveryErrorClass::Timeout => "timeout",
            DeliveryErrorClass::Status => "status",
            DeliveryErrorClass::Refused => "refused",
            DeliveryErrorClass::Other => "other",
        }
    }
}

/// A provider's hook as the node keeps it (`POST /v1/webhooks/read`): never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookState {
    /// The provider's address.
    pub provider: String,
    /// Where notifications go.
    pub url: String,
    /// The ledger's height when the hook was registered.
    pub created_height: u64,
    /// The registration's time (unix seconds).
    pub registered_at: u64,
    /// Notifications waiting for their next attempt.
    pub pending: u64,
    /// Notifications the node gave up on (attempt or age limit reached); kept, not sent.
    pub failed: u64,
    /// Notifications acknowledged with a 2xx.
    pub delivered: u64,
    /// The class of the last failed attempt, if any.
    pub last_error: Option<DeliveryErrorClass>,
    /// The HTTP status of the last failed attempt, when it was answered.
    pub last_status: Option<u16>,
    /// When the last attempt failed (unix seconds).
    pub last_error_at: Option<u64>,
}

/// The answer of a delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDeleted {
    /// The provider whose hook was deleted.
    pub provider: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::signing::{secret_key_from_bytes, signature_from_compact, verify_digest};

    #[test]
    fn a_request_binds_action_nonce_and_time() {
        let key = secret_key_from_bytes(&[4u8; 32]).expect("key");
        let public = public_key_of(&key);
        let request = WebhookRequest::sign(WebhookAction::Read, &key, &[9u8; NONCE_LEN], 100);
        let bytes: [u8; 64] = hex::decode(&request.signature)
            .expect("hex")
            .try_into()
            .expect("64");
        let signature = signature_from_compact(&bytes).expect("sig");
        let ok = request_digest(WebhookAction::Read, &public, &[9u8; NONCE_LEN], 100);
        assert!(verify_digest(&public, &ok, &signature, "read").is_ok());
        for other in [
            request_digest(WebhookAction::Delete, &public, &[9u8; NONCE_LEN], 100),
            request_digest(WebhookAction::Read, &public, &[8u8; NONCE_LEN], 100),
            request_digest(WebhookAction::Read, &public, &[9u8; NONCE_LEN], 101),
        ] {
            assert!(verify_digest(&public, &other, &signature, "read").is_err());
        }
    }

    #[test]
    fn an_unknown_error_class_reads_as_other() {
        let class: DeliveryErrorClass = serde_json::from_str("\"tls\"").expect("other");
        assert_eq!(class, DeliveryErrorClass::Other);
        let class: DeliveryErrorClass = serde_json::from_str("\"timeout\"").expect("known");
        assert_eq!(class.as_str(), "timeout");
    }
}
