//! Asking an owner for data: the request on the ledger, its escrow when priced, the
//! request id left in the owner's inbox, and waiting for the answer.

use std::time::{Duration, Instant};

use super::{POLL_INTERVAL, RequestOutcome, RequestSpec, ServiceProvider};
use crate::crypto::HashFunc;
use crate::grants::error::{GrantsError, GrantsResult};
use crate::grants::escrow_payment::escrow_id_for;
use crate::grants::inbox::{INBOX_FORMAT, inbox_address, inbox_key, inbox_record_key};
use crate::grants::ledger::GrantsLedger;
use crate::grants::terms::Delivery;
use crate::protocol::{DataRequest, EscrowOpen, RecordPut, RequestState, Transfer, TxBody};

impl ServiceProvider {
    /// Sends a data request (DataRequest, signed by the provider), pays a priced one
    /// into an escrow naming it (`EscrowOpen` of the price to the owner, id
    /// [`escrow_id_for`] the request) and leaves its id in the owner's inbox (funding
    /// the inbox's put fee). Returns the request id.
    pub async fn request(
        &self,
        ledger: &GrantsLedger,
        spec: &RequestSpec,
    ) -> GrantsResult<[u8; 32]> {
        if spec.terms.period.is_some() && spec.terms.delivery == Delivery::Copy {
            return Err(crate::grants::standing::StandingError::InvalidPeriod(
                "a copy is delivered day by day: only a computation names a period".into(),
            )
            .into());
        }
        let mut request_id = [0u8; 32];
        getrandom::fill(&mut request_id)
            .map_err(|_| GrantsError::InvalidTerms("no randomness for a request id".into()))?;
        let body = TxBody::DataRequest(DataRequest {
            request_id,
            owner_address: spec.owner_address.clone(),
            formats: spec.terms.formats.clone(),
            from_date: spec.terms.from.format("%Y-%m-%d").to_string(),
            to_date: spec.terms.to.format("%Y-%m-%d").to_string(),
            fields: spec.terms.to_fields(),
            purpose: spec.purpose.clone(),
            price: spec.price,
            expires_at: spec.expires_at,
        });
        ledger.submit(self.signing.secret_key(), body).await?;
        if spec.price > 0 {
            let escrow = TxBody::EscrowOpen(EscrowOpen {
                escrow_id: escrow_id_for(&request_id),
                seller: spec.owner_address.clone(),
                amount: spec.price,
                request_id: Some(request_id),
            });
            ledger.submit(self.signing.secret_key(), escrow).await?;
        }
        self.notify_owner(ledger, &spec.owner_address, &request_id)
            .await?;
        Ok(request_id)
    }

    /// Leaves `request_id` in the owner's inbox, paying its put fee (under the chain's
    /// schedule) into the inbox first.
    async fn notify_owner(
        &self,
        ledger: &GrantsLedger,
        owner_address: &str,
        request_id: &[u8; 32],
    ) -> GrantsResult<()> {
        let inbox = inbox_address(owner_address, self.network)?;
        let key = inbox_record_key(request_id)?;
        let fees = ledger.light().fee_schedule().await?;
        let put_fee = fees.fee_for(&TxBody::RecordPut(RecordPut {
            address: inbox.clone(),
            key: key.clone(),
            format: INBOX_FORMAT.to_owned(),
            hash_func: HashFunc::Sha256,
            d_hash: [0; 32],
            c_hash: [0; 32],
            size: 32,
            wallet: true,
            stamp: None,
        }));
        let transfer = TxBody::Transfer(Transfer {
            to: inbox,
            amount: put_fee,
        });
        ledger.submit(self.signing.secret_key(), transfer).await?;
        ledger
            .put_value(&inbox_key(owner_address)?, INBOX_FORMAT, key, request_id)
            .await
    }

    /// The request's proven state (open, approved or rejected), `None` if unknown.
    pub async fn response(
        &self,
        ledger: &GrantsLedger,
        request_id: &[u8; 32],
    ) -> GrantsResult<Option<RequestState>> {
        ledger.request(request_id).await
    }

    /// Polls the ledger until the owner answers `request_id` and the delivery is there,
    /// then opens and verifies it (see [`Self::receive`]).
    pub async fn wait_for_result(
        &self,
        ledger: &GrantsLedger,
        request_id: &[u8; 32],
        timeout: Duration,
    ) -> GrantsResult<RequestOutcome> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.receive(ledger, request_id).await {
                Err(GrantsError::NotDelivered(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(POLL_INTERVAL).await;
                }
                Err(GrantsError::NotDelivered(id)) => return Err(GrantsError::Timeout(id)),
                other => return other,
            }
        }
    }
}
