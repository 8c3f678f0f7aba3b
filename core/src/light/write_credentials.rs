//! Obtaining write credentials from a private node: fetch its issuer key, blind fresh
//! token messages ([`crate::tokens`]), sign the request with the holder's key (a paired
//! device's, or the owner's of a paired device), and unblind the node's answers into
//! credentials. The request names the holder; the credentials it yields name no one.

use bitcoin::secp256k1::SecretKey;

use super::client::LightClient;
use super::error::{LightError, LightResult};
use super::wire::{CredentialHolderWire, CredentialRequestWire};
use crate::protocol::credential_request_digest;
use crate::protocol::signing::{public_key_of, sign_digest};
use crate::tokens::{IssuerPublicKey, TokenError};

/// Who asks for credentials and signs the request.
#[derive(Clone, Copy)]
pub enum CredentialHolder<'a> {
    /// A paired device, signing with its device key.
    Device {
        /// Its VID.
        vid: &'a str,
        /// The device key.
        device_key: &'a SecretKey,
    },
    /// The owner of a paired device, signing with the owner key.
    Owner {
        /// The VID of one of its devices paired with this node.
        vid: &'a str,
        /// The owner key.
        owner_key: &'a SecretKey,
    },
}

impl std::fmt::Debug for CredentialHolder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CredentialHolder::Device { vid, .. } => write!(f, "Device({vid})"),
            CredentialHolder::Owner { vid, .. } => write!(f, "Owner(of {vid})"),
        }
    }
}

/// Credentials freshly issued under one issuer key.
#[derive(Clone)]
pub struct IssuedCredentials {
    /// The issuer key's id (hex).
    pub key_id: String,
    /// The credentials' bytes (canonical token bytes).
    pub tokens: Vec<Vec<u8>>,
}

impl std::fmt::Debug for IssuedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCredentials")
            .field("key_id", &self.key_id)
            .field("count", &self.tokens.len())
            .finish()
    }
}

fn bad(reason: impl Into<String>) -> LightError {
    LightError::BadAnswer {
        endpoint: "write credentials".into(),
        reason: reason.into(),
    }
}

fn token_error(err: TokenError) -> LightError {
    bad(format!("{err} ({})", err.code()))
}

impl LightClient {
    /// The node's write-credential issuer key, decoded.
    pub async fn credential_issuer(&self) -> LightResult<IssuerPublicKey> {
        let wire = self.credential_key().await?;
        let der = hex::decode(&wire.public_key).map_err(|_| bad("issuer key is not hex"))?;
        let public = IssuerPublicKey::from_der(&der).map_err(token_error)?;
        if public.key_id().to_string() != wire.key_id {
            return Err(bad("the issuer key's id does not match the key"));
        }
        Ok(public)
    }

    /// Asks `agent` (the node's agent name) for `count` write credentials under
    /// `issuer` as `holder`.
    pub async fn obtain_credentials(
        &self,
        issuer: &IssuerPublicKey,
        agent: &str,
        holder: CredentialHolder<'_>,
        count: usize,
    ) -> LightResult<IssuedCredentials> {
        let pending = issuer.blind(count).map_err(token_error)?;
        let blinded: Vec<Vec<u8>> = pending
            .iter()
            .map(|p| p.blinded_message().to_vec())
            .collect();
        let time = self.clock().now_secs();
        let (kind, vid, owner_bytes, secret, wire_holder) = match holder {
            CredentialHolder::Device { vid, device_key } => (
                "device",
                vid,
                Vec::new(),
                device_key,
                CredentialHolderWire::Device {
                    vid: vid.to_owned(),
                },
            ),
            CredentialHolder::Owner { vid, owner_key } => {
                let owner = public_key_of(owner_key).serialize().to_vec();
                (
                    "owner",
                    vid,
                    owner.clone(),
                    owner_key,
                    CredentialHolderWire::Owner {
                        vid: vid.to_owned(),
                        owner_pubkey: hex::encode(owner),
                    },
                )
            }
        };
        let digest = credential_request_digest(agent, kind, vid, &owner_bytes, time, &blinded);
        let signature = sign_digest(secret, &digest).serialize_compact();
        let answer = self
            .issue_credentials(&CredentialRequestWire {
                holder: wire_holder,
                time,
                blinded: blinded.iter().map(hex::encode).collect(),
                signature: hex::encode(signature),
            })
            .await?;
        if answer.signed.len() != pending.len() {
            return Err(bad("the node signed another number of messages"));
        }
        let tokens = pending
            .iter()
            .zip(&answer.signed)
            .map(|(pending, signed)| {
                let signed = hex::decode(signed).map_err(|_| bad("a signature is not hex"))?;
                Ok(issuer
                    .finalize(pending, &signed)
                    .map_err(token_error)?
                    .to_bytes())
            })
            .collect::<LightResult<Vec<_>>>()?;
        Ok(IssuedCredentials {
            key_id: issuer.key_id().to_string(),
            tokens,
        })
    }
}
