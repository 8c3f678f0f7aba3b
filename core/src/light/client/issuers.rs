//! The issuers a node runs: its write-credential key and credentials (private mode),
//! its fee-stamp key and stamps.

use super::*;
use crate::light::http::Issuer;

impl LightClient {
    /// The node's write-credential issuer key (private nodes; unverified: a wrong key
    /// only makes the credentials useless).
    pub async fn credential_key(&self) -> LightResult<crate::light::wire::CredentialKeyWire> {
        self.inner
            .endpoints
            .run(|node| async move { node.credential_key().await })
            .await
    }

    /// The chain's fee stamp issuer key and a stamp's price, from the first endpoint
    /// that issues stamps (`GET /v1/stamps/key`, a connection of its own; unverified
    /// here: see [`LightClient::buy_fee_stamps`]).
    pub async fn stamp_key(&self) -> LightResult<crate::light::wire::TokenKeyWire> {
        self.inner
            .endpoints
            .run(|node| async move { node.fresh()?.issuer_key(Issuer::FeeStamps).await })
            .await
    }

    /// Asks the stamp issuer for blind signatures of fee stamps (`POST /v1/stamps`, a
    /// connection of its own), retried as is when the answer is lost.
    pub async fn issue_stamps(
        &self,
        payment: &[u8; 32],
        blinded: &[&[u8]],
        signature: &[u8; 64],
    ) -> LightResult<(Vec<u8>, Vec<Vec<u8>>)> {
        self.inner
            .endpoints
            .run(|node| async move {
                node.fresh()?
                    .issue(Issuer::FeeStamps, payment, blinded, signature)
                    .await
            })
            .await
    }

    /// Asks the node for blind signatures (`POST /v1/credentials`).
    pub async fn issue_credentials(
        &self,
        request: &crate::light::wire::CredentialRequestWire,
    ) -> LightResult<crate::light::wire::CredentialsWire> {
        self.inner
            .endpoints
            .run(|node| async move { node.issue_credentials(request).await })
            .await
    }
}
