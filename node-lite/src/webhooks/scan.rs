//! Finding the events to notify in committed blocks: a grant to a provider with a hook
//! (each period of a standing grant is a grant of its own), and the revocation or
//! renouncement of such a grant. Each becomes one outbox row, in the same transaction
//! as the scan cursor.

use carchain_core::grants::webhook::{WebhookEvent, WebhookNotification, notification_id};
use carchain_core::protocol::{Canonical, GrantStatus, SignedTransaction, TxBody};

use super::Webhooks;
use super::store::NewNotification;
use crate::service::{ErrorCode, ServiceError};

/// Blocks scanned in one step.
const SCAN_BATCH: u64 = 256;

impl Webhooks {
    /// The provider to notify of `body`'s event, with the event and the grant, if it is
    /// a committed grant event of a provider with a hook.
    fn event_of(
        &self,
        body: &TxBody,
    ) -> Result<Option<(String, WebhookEvent, [u8; 32])>, ServiceError> {
        let (event, grant_id, expected) = match body {
            TxBody::Grant(grant) => {
                if !self.store.has_hook(&grant.grantee_address)? {
                    return Ok(None);
                }
                (WebhookEvent::Grant, grant.grant_id, None)
            }
            TxBody::Revoke(grant) => (
                WebhookEvent::Revoked,
                grant.grant_id,
                Some(GrantStatus::Revoked),
            ),
            TxBody::Renounce(grant) => (
                WebhookEvent::Renounced,
                grant.grant_id,
                Some(GrantStatus::Renounced),
            ),
            _ => return Ok(None),
        };
        // Only what the committed state holds: a grant that was refused, a revocation
        // that did not apply, is not notified.
        let Some(state) = (self.chain.grant)(&grant_id) else {
            return Ok(None);
        };
        if expected.is_some_and(|status| state.status != status)
            || !self.store.has_hook(&state.grantee_address)?
        {
            return Ok(None);
        }
        Ok(Some((state.grantee_address, event, grant_id)))
    }

    /// Scans the blocks committed after the cursor (up to [`SCAN_BATCH`] of them) for
    /// events of providers with a hook and puts their notifications in the outbox.
    pub fn scan(&self) -> Result<(), ServiceError> {
        let internal = |err: crate::db::DbError| {
            ServiceError::new(ErrorCode::Internal, format!("webhook scan: {err}"))
        };
        let ledger = &self.chain.ledger;
        let Some(latest) = ledger.latest_height().map_err(internal)? else {
            return Ok(());
        };
        let cursor = self.store.cursor()?;
        if latest <= cursor {
            return Ok(());
        }
        let last = latest.min(cursor + SCAN_BATCH);
        let mut found = Vec::new();
        for height in cursor + 1..=last {
            for stored in ledger.block_txs(height).map_err(internal)? {
                let Ok(signed) = SignedTransaction::from_canonical(&stored.bytes) else {
                    continue;
                };
                let Some((provider, event, grant_id)) = self.event_of(&signed.tx.body)? else {
                    continue;
                };
                let id = notification_id(&signed.id(), &grant_id);
                let notification = WebhookNotification {
                    id: hex::encode(id),
                    event,
                    grant_id: hex::encode(grant_id),
                    height,
                };
                let body = serde_json::to_vec(&notification)
                    .map_err(|err| ServiceError::new(ErrorCode::Internal, err.to_string()))?;
                found.push(NewNotification { id, provider, body });
            }
        }
        self.store.enqueue(last, &found, super::now_ms())
    }
}
