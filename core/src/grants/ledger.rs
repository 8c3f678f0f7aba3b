//! [`GrantsLedger`]: proven reads of the grant-related ledger state (providers,
//! requests, grants, escrows) next to a [`LightClient`], and signed submissions.
//!
//! The light client proves accounts, devices and records; the grant values live under
//! their own state keys (`provider`, `request`, `grant`), read here the same way and
//! through the same transport ([`LightClient`]'s endpoints and failover): the light
//! client syncs and verifies the header chain, a node answers the state query at the
//! verified height, and the Jellyfish proof is checked against that header's state root.
//! A node that lies is skipped for the next endpoint.

use bitcoin::secp256k1::SecretKey;

use super::error::GrantsResult;
use crate::light::http::NodeHttp;
use crate::light::proofs::decode_proven;
use crate::light::{LightClient, LightError, Receipt};
use crate::protocol::{
    Canonical, EscrowState, Grant, GrantState, ProviderState, RequestState, TxBody, state_key,
};

/// Proven reads of grant state over the nodes a [`LightClient`] talks to, through the
/// light client's own transport: its endpoints, failover, lag check and (on a shared
/// node) read payment.
#[derive(Debug, Clone)]
pub struct GrantsLedger {
    light: LightClient,
}

impl GrantsLedger {
    /// A reader of `light`'s nodes. `endpoints` names them again (the base URLs `light`
    /// was built with): each must be a valid http(s) URL and at least one is needed;
    /// reads go through `light`'s own endpoints.
    pub fn new(light: LightClient, endpoints: &[String]) -> GrantsResult<Self> {
        for base in endpoints {
            NodeHttp::check_base(base)?;
        }
        if endpoints.is_empty() {
            return Err(LightError::InvalidInput("no node endpoint given".into()).into());
        }
        Ok(GrantsLedger { light })
    }

    /// The light client the reads are verified with.
    pub fn light(&self) -> &LightClient {
        &self.light
    }

    async fn proven<T: Canonical>(
        &self,
        path: &[&str],
        key: jmt::KeyHash,
    ) -> GrantsResult<Option<T>> {
        let proven = self.light.read_state(path, key).await?;
        Ok(decode_proven(proven)?)
    }

    /// A provider's proven registration, `None` when not registered.
    pub async fn provider(&self, address: &str) -> GrantsResult<Option<ProviderState>> {
        self.proven(&["provider", address], state_key::provider(address))
            .await
    }

    /// A data request's proven state, `None` when no such request.
    pub async fn request(&self, request_id: &[u8; 32]) -> GrantsResult<Option<RequestState>> {
        let id = hex::encode(request_id);
        self.proven(&["request", &id], state_key::request(request_id))
            .await
    }

    /// A grant's proven state, `None` when no such grant.
    pub async fn grant(&self, grant_id: &[u8; 32]) -> GrantsResult<Option<GrantState>> {
        let id = hex::encode(grant_id);
        self.proven(&["grant", &id], state_key::grant(grant_id))
            .await
    }

    /// An escrow's proven state, `None` when no such escrow.
    pub async fn escrow(&self, escrow_id: &[u8; 32]) -> GrantsResult<Option<EscrowState>> {
        let id = hex::encode(escrow_id);
        self.proven(&["escrow", &id], state_key::escrow(escrow_id))
            .await
    }

    /// Signs `body` with `secret` (nonce from its proven account, the default fee) and
    /// submits it, waiting for the block.
    pub async fn submit(&self, secret: &SecretKey, body: TxBody) -> GrantsResult<Receipt> {
        Ok(self.light.sign_and_submit(secret, body).await?)
    }

    /// Submits `grant` (signed by `secret`, the grantor's key) unless the ledger holds a
    /// grant of its id already, so an approval retried after a lost answer grants once.
    pub async fn grant_once(&self, secret: &SecretKey, grant: Grant) -> GrantsResult<()> {
        if self.grant(&grant.grant_id).await?.is_none() {
            self.submit(secret, TxBody::Grant(grant)).await?;
        }
        Ok(())
    }

    /// Registers (signed by `secret`, whose address the record lives under) and stores a
    /// record whose value is `value` as-is (`putWalKV`). A record already registered
    /// under the same address and key counts as registered; the value is stored again.
    pub async fn put_value(
        &self,
        secret: &SecretKey,
        format: &str,
        key: Vec<u8>,
        value: &[u8],
    ) -> GrantsResult<()> {
        self.light
            .put_wallet_record(secret, format, key, value)
            .await?;
        Ok(())
    }
}
