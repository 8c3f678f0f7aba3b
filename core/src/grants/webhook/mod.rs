//! Grant webhooks, the provider's side: register an HTTP endpoint with a node
//! (`POST /v1/webhooks`, signed with the provider's account key so no one else can
//! register for it) and check the notifications the node sends there.
//!
//! A notification is `{"id":..,"event":..,"grant_id":..,"height":..}` and nothing more:
//! it says "grant G was made to you" (`grant`, also each period of a standing grant),
//! "was revoked" (`revoked`) or "was renounced" (`renounced`), and names no address, VID
//! or record. The node sends it at least once, so the same `id` may arrive again:
//! de-duplicate on it. Each POST carries the header [`SIGNATURE_HEADER`], the hex
//! HMAC-SHA256 of the exact body under the secret the provider registered;
//! [`verify_webhook`] checks it. A node gives up on a notification after a bounded number
//! of attempts or a bounded age and keeps it as failed; the provider reads its hook's
//! state and deletes it with requests signed by its key ([`manage`]).

#[cfg(feature = "sdk")]
mod client;
pub mod manage;

#[cfg(feature = "sdk")]
pub use client::{delete_webhook, read_webhook, register_webhook};

use std::fmt;

use bitcoin::secp256k1::{PublicKey, SecretKey};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::protocol::signing::{public_key_of, sign_digest};

/// The header holding the notification's HMAC-SHA256 (hex) under the shared secret.
pub const SIGNATURE_HEADER: &str = "x-carchain-signature";
/// Domain of the registration digest.
pub const REGISTRATION_DOMAIN: &str = "carchain/webhook-registration/v1";
/// Length of the shared secret, in bytes.
pub const SECRET_LEN: usize = 32;
/// Longest webhook URL a node accepts, in bytes.
pub const MAX_URL_LEN: usize = 2048;

/// Errors of the provider's webhook calls; [`WebhookError::code`] is stable.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The node could not be reached or answered unreadably.
    #[error("webhook registration transport: {0}")]
    Transport(String),
    /// The OS random source failed.
    #[error("no OS randomness for the webhook secret")]
    Randomness,
    /// The node refused the registration with its stable code.
    #[error("the node refused the webhook ({status} {code}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The node's stable error code (e.g. `webhook_url_scheme`).
        code: String,
        /// The node's message for people.
        message: String,
    },
}

impl WebhookError {
    /// The stable code: `transport`, `randomness`, or the node's refusal code
    /// (`webhook_url_scheme`, `webhook_url_self`, `bad_signature`, `not_found`,
    /// `replay`, `invalid_request`, ...).
    pub fn code(&self) -> &str {
        match self {
            WebhookError::Transport(_) => "transport",
            WebhookError::Randomness => "randomness",
            WebhookError::Refused { code, .. } => code,
        }
    }
}

/// A signed webhook registration, the JSON body of `POST /v1/webhooks`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookRegistration {
    /// The provider's compressed public key (hex); its P2WPKH address is the grantee
    /// address of the grants notified.
    pub provider_pubkey: String,
    /// Where to POST notifications (`http` or `https`).
    pub url: String,
    /// The shared HMAC secret (hex, [`SECRET_LEN`] bytes).
    pub secret: String,
    /// Unix seconds of the registration; a node takes only a later one for the same
    /// provider, within 300 s of its clock.
    pub time: u64,
    /// Compact signature (hex) of the provider key over [`registration_digest`].
    pub signature: String,
}

impl fmt::Debug for WebhookRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookRegistration")
            .field("provider_pubkey", &self.provider_pubkey)
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("time", &self.time)
            .finish()
    }
}

/// The digest a registration's signature covers: SHA-256 of the domain, the provider
/// key, the URL and the secret (each u32 length-prefixed) and the time (u64 BE).
pub fn registration_digest(provider: &PublicKey, url: &str, secret: &[u8], time: u64) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in [
        REGISTRATION_DOMAIN.as_bytes(),
        &provider.serialize()[..],
        url.as_bytes(),
        secret,
    ] {
        hasher.update((part.len() as u32).to_be_bytes());
        hasher.update(part);
    }
    hasher.update(time.to_be_bytes());
    hasher.finalize().into()
}

impl WebhookRegistration {
    /// Signs a registration of `url` with the provider's account key (the key its
    /// `ServiceProvider` was made with) and a shared `secret`.
    pub fn sign(account: &SecretKey, url: &str, secret: &[u8; SECRET_LEN], time: u64) -> Self {
        let public = public_key_of(account);
        let digest = registration_digest(&public, url, secret, time);
        let signature = sign_digest(account, &digest);
        WebhookRegistration {
            provider_pubkey: hex::encode(public.serialize()),
            url: url.to_owned(),
            secret: hex::encode(secret),
            time,
            signature: hex::encode(signature.serialize_compact()),
        }
    }
}

/// A fresh random shared secret.
pub fn new_secret() -> Result<Zeroizing<[u8; SECRET_LEN]>, WebhookError> {
    let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
    getrandom::fill(secret.as_mut()).map_err(|_| WebhookError::Randomness)?;
    Ok(secret)
}

/// What happened to a grant made to the provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookEvent {
    /// A grant to the provider was committed (a one-off approval, a standing grant's
    /// anchor, each period a standing grant delivers). The default: notifications
    /// queued by a node before events existed carry no `event`.
    #[default]
    Grant,
    /// The owner revoked the grant.
    Revoked,
    /// The provider renounced the grant.
    Renounced,
}

impl WebhookEvent {
    /// The name on the wire (`grant`, `revoked`, `renounced`).
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::Grant => "grant",
            WebhookEvent::Revoked => "revoked",
            WebhookEvent::Renounced => "renounced",
        }
    }
}

/// The notification a node POSTs: nothing but the de-duplication id, what happened, the
/// grant and the height of the block that committed it. Unknown fields are ignored, so
/// a node may add fields without breaking providers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookNotification {
    /// Stable id (hex): the same event always carries the same id.
    pub id: String,
    /// What happened to the grant.
    #[serde(default)]
    pub event: WebhookEvent,
    /// The grant (hex).
    pub grant_id: String,
    /// The block height.
    pub height: u64,
}

/// The notification id of the event committed by transaction `tx_id` (the grant, the
/// revocation or the renouncement) on grant `grant_id`:
/// SHA-256("carchain/webhook-notification/v1" || tx id || grant id).
pub fn notification_id(tx_id: &[u8; 32], grant_id: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"carchain/webhook-notification/v1");
    hasher.update(tx_id);
    hasher.update(grant_id);
    hasher.finalize().into()
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    #[allow(clippy::expect_used)]
    <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC accepts any key length")
}

/// The [`SIGNATURE_HEADER`] value of `body`: hex HMAC-SHA256 under `secret`.
pub fn webhook_signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature` (the [`SIGNATURE_HEADER`] value) is the HMAC of `body` under
/// `secret`; compared in constant time.
pub fn verify_webhook(secret: &[u8], body: &[u8], signature: &str) -> bool {
    let Ok(tag) = hex::decode(signature.trim()) else {
        return false;
    };
    let mut mac = mac(secret);
    mac.update(body);
    mac.verify_slice(&tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::signing::{secret_key_from_bytes, signature_from_compact, verify_digest};

    #[test]
    fn signature_verifies_and_any_change_fails() {
        let secret = [7u8; 32];
        let body = br#"{"id":"aa","grant_id":"bb","height":3}"#;
        let sig = webhook_signature(&secret, body);
        assert!(verify_webhook(&secret, body, &sig));
        assert!(!verify_webhook(&[8u8; 32], body, &sig));
        assert!(!verify_webhook(
            &secret,
            br#"{"id":"aa","grant_id":"bb","height":4}"#,
            &sig
        ));
        assert!(!verify_webhook(&secret, body, "zz"));
        assert!(!verify_webhook(&secret, body, &sig[..62]));
    }

    #[test]
    fn registration_signature_binds_every_field() {
        let key = secret_key_from_bytes(&[3u8; 32]).expect("key");
        let reg = WebhookRegistration::sign(&key, "https://p.example/hook", &[1u8; 32], 100);
        let public = public_key_of(&key);
        let sig_bytes: [u8; 64] = hex::decode(&reg.signature)
            .expect("hex")
            .try_into()
            .expect("64");
        let sig = signature_from_compact(&sig_bytes).expect("sig");
        let digest = registration_digest(&public, &reg.url, &[1u8; 32], 100);
        assert!(verify_digest(&public, &digest, &sig, "registration").is_ok());
        let other = registration_digest(&public, "https://evil.example/hook", &[1u8; 32], 100);
        assert!(verify_digest(&public, &other, &sig, "registration").is_err());
        assert!(!format!("{reg:?}").contains(&reg.secret));
    }

    #[test]
    fn a_notification_without_event_is_a_grant_and_unknown_fields_are_ignored() {
        let old: WebhookNotification =
            serde_json::from_str(r#"{"id":"aa","grant_id":"bb","height":3}"#).expect("old");
        assert_eq!(old.event, WebhookEvent::Grant);
        let new: WebhookNotification = serde_json::from_str(
            r#"{"id":"aa","event":"revoked","grant_id":"bb","height":3,"later":1}"#,
        )
        .expect("new");
        assert_eq!(new.event, WebhookEvent::Revoked);
        let text = serde_json::to_string(&WebhookNotification {
            id: "aa".into(),
            event: WebhookEvent::Renounced,
            grant_id: "bb".into(),
            height: 3,
        })
        .expect("json");
        assert_eq!(
            text,
            r#"{"id":"aa","event":"renounced","grant_id":"bb","height":3}"#
        );
    }

    #[test]
    fn notification_ids_are_stable_and_distinct() {
        assert_eq!(
            notification_id(&[1; 32], &[2; 32]),
            notification_id(&[1; 32], &[2; 32])
        );
        assert_ne!(
            notification_id(&[1; 32], &[2; 32]),
            notification_id(&[1; 32], &[3; 32])
        );
    }
}
