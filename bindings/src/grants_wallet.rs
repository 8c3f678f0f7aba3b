//! The owner's side of data grants on the wallet across the FFI: the provider requests
//! waiting for a decision, approve (optionally narrowed) or reject, the grants made,
//! revocation, and the owner's balance. These calls raise [`CarChainError`] with
//! `grants.*` codes (or the code of the wallet or node error underneath).
//!
//! Cancellation: `pending_requests`, `grants` and `balance` only read. `approve`
//! submits the grant, then the sealed delivery, then the response (and for a priced
//! request the escrow declaration), each waiting for its block; cancelled midway, the
//! request stays open on the ledger and approving again resumes (a grant already on
//! the ledger is not submitted twice). `reject` and `revoke` are one transaction each.

use std::sync::Arc;

use crate::error::CarChainError;
use crate::grants_ledger::GrantsLedger;
use crate::grants_types::{ApprovalInfo, GrantInfo, Narrowing, PendingRequest, parse_id};
use crate::wallet::Wallet;

#[uniffi::export(async_runtime = "tokio")]
impl Wallet {
    /// The open, unexpired requests addressed to this wallet, each proven on the ledger
    /// with its provider's registration and, for a priced one, its escrow. Entries of
    /// the inbox that point to nothing valid are left out.
    pub async fn pending_requests(
        &self,
        ledger: Arc<GrantsLedger>,
    ) -> Result<Vec<PendingRequest>, CarChainError> {
        let pending = self.wallet.pending_requests(&ledger.ledger).await?;
        Ok(pending.iter().map(PendingRequest::from).collect())
    }

    /// Approves request `request_id` (hex) for car `vid`, narrowed by `narrowing`
    /// (fewer days, fewer privileges, privacy zones, approximate location), and
    /// delivers: a computation's owner-signed result, or a copy of the records (their
    /// keys re-wrapped for the provider, payloads untouched), sealed to the provider.
    /// A priced request must be paid into its escrow first (`PaymentMissing`); the
    /// price reaches the owner when the provider accepts the delivery.
    pub async fn approve(
        &self,
        ledger: Arc<GrantsLedger>,
        request_id: String,
        vid: String,
        narrowing: Narrowing,
    ) -> Result<ApprovalInfo, CarChainError> {
        let id = parse_id(&request_id, "request id")?;
        let narrowing = narrowing.to_core()?;
        let approval = self
            .wallet
            .approve(&ledger.ledger, &id, &vid, &narrowing)
            .await?;
        Ok(ApprovalInfo::from(&approval))
    }

    /// Rejects request `request_id` (hex); the escrow of a priced request is refunded
    /// to the provider.
    pub async fn reject(
        &self,
        ledger: Arc<GrantsLedger>,
        request_id: String,
    ) -> Result<(), CarChainError> {
        let id = parse_id(&request_id, "request id")?;
        Ok(self.wallet.reject(&ledger.ledger, &id).await?)
    }

    /// The grants this wallet made, active and revoked. No network.
    pub fn grants(&self) -> Result<Vec<GrantInfo>, CarChainError> {
        self.wallet
            .grants()?
            .into_iter()
            .map(GrantInfo::try_from)
            .collect()
    }

    /// Revokes grant `grant_id` (hex) on the ledger: the provider receives nothing more
    /// under it and the ledger shows it revoked. What was already delivered cannot be
    /// unseen: a provider that opened a copy or read a result keeps what it learned.
    pub async fn revoke(
        &self,
        ledger: Arc<GrantsLedger>,
        grant_id: String,
    ) -> Result<(), CarChainError> {
        let id = parse_id(&grant_id, "grant id")?;
        Ok(self.wallet.revoke(&ledger.ledger, &id).await?)
    }

    /// The owner's proven balance at the tip (the light client syncs first).
    pub async fn balance(&self, ledger: Arc<GrantsLedger>) -> Result<u64, CarChainError> {
        ledger.balance(self.wallet.owner_address()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grants_ledger::tests::offline_ledger;
    use crate::light::tests::error_of;
    use crate::wallet::tests::restored_wallet;

    #[test]
    fn bad_ids_unknown_grants_and_bad_narrowings_fail_before_any_network_call() {
        let dir = tempfile::tempdir().unwrap();
        let wallet = restored_wallet(&dir);
        let ledger = offline_ledger();
        let none = Narrowing::default();
        let err = error_of(wallet.approve(ledger.clone(), "xyz".into(), "V".into(), none.clone()));
        assert_eq!(err.code(), "grants.invalid_id");
        let half = Narrowing {
            to_date: Some("2024-05-02".into()),
            ..none
        };
        let err = error_of(wallet.approve(ledger.clone(), "ab".repeat(32), "V".into(), half));
        assert!(matches!(err, CarChainError::InvalidNarrowing { .. }));
        let err = error_of(wallet.reject(ledger.clone(), "ab".repeat(31)));
        assert_eq!(err.code(), "grants.invalid_id");
        assert!(wallet.grants().unwrap().is_empty());
        let err = error_of(wallet.revoke(ledger, "cd".repeat(32)));
        assert!(matches!(err, CarChainError::NotFound { .. }));
        assert_eq!(err.code(), "grants.unknown_grant");
    }
}
