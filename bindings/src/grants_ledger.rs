//! [`GrantsLedger`] across the FFI: proven reads of requests' escrows and grants next to
//! a [`LightClient`], shared by the owner's wallet and a service provider. Reads only:
//! every call may be cancelled from Kotlin or Swift.

use std::sync::Arc;

use carchain_core::grants::{GrantsError as CoreGrantsError, GrantsLedger as CoreGrantsLedger};
use carchain_core::light::LightError as CoreLightError;

use crate::error::CarChainError;
use crate::grants_types::{EscrowInfo, LedgerGrant, parse_id};
use crate::light::LightClient;

/// The grant-related ledger state (providers, requests, grants, escrows), each read
/// proven against the headers the light client verified. Thread-safe; share one.
#[derive(Debug, uniffi::Object)]
pub struct GrantsLedger {
    pub(crate) ledger: CoreGrantsLedger,
}

#[uniffi::export(async_runtime = "tokio")]
impl GrantsLedger {
    /// A reader of `endpoints` (the same base URLs `light` was built with) whose answers
    /// are checked against the headers `light` verifies.
    #[uniffi::constructor]
    pub fn new(
        light: Arc<LightClient>,
        endpoints: Vec<String>,
    ) -> Result<Arc<Self>, CarChainError> {
        let ledger = CoreGrantsLedger::new(light.client.clone(), &endpoints)?;
        Ok(Arc::new(GrantsLedger { ledger }))
    }

    /// The escrow `escrow_id` (hex) as the ledger proves it; `null`/`nil` if none.
    pub async fn escrow(&self, escrow_id: String) -> Result<Option<EscrowInfo>, CarChainError> {
        let id = parse_id(&escrow_id, "escrow id")?;
        Ok(self
            .ledger
            .escrow(&id)
            .await?
            .as_ref()
            .map(EscrowInfo::from))
    }

    /// The grant `grant_id` (hex) as the ledger proves it; `null`/`nil` if none.
    pub async fn grant(&self, grant_id: String) -> Result<Option<LedgerGrant>, CarChainError> {
        let id = parse_id(&grant_id, "grant id")?;
        Ok(self
            .ledger
            .grant(&id)
            .await?
            .as_ref()
            .map(LedgerGrant::from))
    }

    /// The proven balance of `address` at the tip (the light client syncs first).
    pub async fn balance(&self, address: String) -> Result<u64, CarChainError> {
        let light = self.ledger.light();
        let balance = async {
            light.sync(&|_| {}).await?;
            Ok::<_, CoreLightError>(light.account(&address).await?.balance)
        };
        balance.await.map_err(|e| CoreGrantsError::from(e).into())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::light::tests::{NO_NODE, error_of, offline_client};

    /// A ledger on [`NO_NODE`]: every request fails.
    pub(crate) fn offline_ledger() -> Arc<GrantsLedger> {
        GrantsLedger::new(offline_client(), vec![NO_NODE.into()]).unwrap()
    }

    #[test]
    fn bad_ids_and_endpoints_are_typed_errors_before_any_network_call() {
        let err = GrantsLedger::new(offline_client(), vec![]).unwrap_err();
        assert_eq!(err.code(), "light.invalid_input");
        let ledger = offline_ledger();
        let err = error_of(ledger.escrow("nope".into()));
        assert_eq!(err.code(), "grants.invalid_id");
        let err = error_of(ledger.grant("12".into()));
        assert_eq!(err.code(), "grants.invalid_id");
        let err = error_of(ledger.escrow("ab".repeat(32)));
        assert!(matches!(err, CarChainError::Unavailable { .. }), "{err:?}");
        assert_eq!(err.code(), "light.network");
    }
}
