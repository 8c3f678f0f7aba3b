//! Receiving what the owner delivered: the delivery document, the ledger grant it names
//! (checked against the request and this provider), and the escrow settled once the
//! owner declared exactly what was received.

use bitcoin::CompressedPublicKey;

use super::{
    ReceivedCopy, ReceivedResult, RequestOutcome, ServiceProvider, check_copy_tags,
    check_delivers_opening, check_grant,
};
use crate::grants::delivery::{DeliveryContent, DeliveryDocument, delivery_record_key};
use crate::grants::error::{GrantsError, GrantsResult};
use crate::grants::escrow_payment::{
    check_declared, copy_chunk_hashes, delivery_commitment, result_chunk_hashes,
};
use crate::grants::ledger::GrantsLedger;
use crate::light::LightError;
use crate::protocol::signing::p2wpkh_address;
use crate::protocol::{
    EscrowRef, EscrowState, GrantKind, GrantState, RequestState, RequestStatus, TxBody,
};

impl ServiceProvider {
    /// What the owner delivered for `request_id`, verified: the request is this
    /// provider's and approved; the delivery record is registered under the owner's
    /// address, signed by the owner's key; the grant on the ledger is the owner's, to
    /// this provider, active and unexpired, and the delivery's opening hashes to its
    /// commitment and names this provider's key; a copy delivers exactly the opening's
    /// records, each opens with its re-wrapped key and matches its cHash and dHash, and
    /// their copy tags are exactly the grant's; a result is signed by the owner over the
    /// dHashes registered for its inputs, which are the opening's records.
    ///
    /// A paid request is then settled: once the owner has declared the delivery on its
    /// escrow with the chunk commitment of exactly what was received (see
    /// [`crate::grants::escrow_payment`]), this provider accepts it (`EscrowAccept`), releasing the
    /// funds to the owner. Until the owner declares it, the delivery counts as not yet
    /// made ([`GrantsError::NotDelivered`]); a commitment to anything else is refused.
    pub async fn receive(
        &self,
        ledger: &GrantsLedger,
        request_id: &[u8; 32],
    ) -> GrantsResult<RequestOutcome> {
        let id_hex = hex::encode(request_id);
        let request = ledger
            .request(request_id)
            .await?
            .ok_or_else(|| GrantsError::UnknownRequest(id_hex.clone()))?;
        if request.requester != self.address() {
            return Err(GrantsError::DeliveryRefused(
                "the request was not sent by this provider".into(),
            ));
        }
        match request.status {
            RequestStatus::Rejected => return Ok(RequestOutcome::Rejected),
            RequestStatus::Open => return Err(GrantsError::NotDelivered(id_hex)),
            RequestStatus::Approved => {}
        }
        let (doc, owner_key) = match self.delivery(ledger, &request).await {
            Err(GrantsError::NotDelivered(id)) => {
                return Err(self.standing_or_not_delivered(ledger, &request, id).await);
            }
            other => other?,
        };
        let grant = self.checked_grant(ledger, &request, &doc).await?;
        let opening = doc.opening;
        match doc.content {
            DeliveryContent::Copy { records } => {
                if !matches!(grant.kind, GrantKind::Copy { .. } | GrantKind::Trade) {
                    return Err(GrantsError::GrantRefused("not a copy grant".into()));
                }
                check_delivers_opening(&records, &opening)?;
                let mut received = Vec::with_capacity(records.len());
                for record in &records {
                    received.push(self.open_delivered(ledger, &opening, record).await?);
                }
                check_copy_tags(&grant, &received)?;
                let d_hashes: Vec<[u8; 32]> = received.iter().map(|r| r.d_hash).collect();
                let payment = self
                    .settle(
                        ledger,
                        &request,
                        &copy_chunk_hashes(&opening.salt, &d_hashes),
                    )
                    .await?;
                Ok(RequestOutcome::Copy(Box::new(ReceivedCopy {
                    grant,
                    opening,
                    records: received,
                    payment,
                })))
            }
            DeliveryContent::Result {
                inputs,
                signed_result,
            } => {
                let GrantKind::Usage { code_hash } = grant.kind else {
                    return Err(GrantsError::GrantRefused("not a usage grant".into()));
                };
                let signed = self
                    .checked_result(
                        ledger,
                        &opening,
                        &inputs,
                        (&signed_result, &code_hash),
                        &owner_key,
                    )
                    .await?;
                let chunks = result_chunk_hashes(
                    &opening.salt,
                    &signed.result.input_d_hashes,
                    &signed_result,
                );
                let payment = self.settle(ledger, &request, &chunks).await?;
                Ok(RequestOutcome::Result(Box::new(ReceivedResult {
                    grant,
                    opening,
                    signed,
                    inputs,
                    owner_key,
                    payment,
                })))
            }
        }
    }

    /// Accepts the delivery on the escrow paying for `request` (if any) when the owner
    /// declared it with the commitment of `chunks`; returns the escrow as it stands
    /// after (released). An escrow already released is returned as is.
    async fn settle(
        &self,
        ledger: &GrantsLedger,
        request: &RequestState,
        chunks: &[[u8; 32]],
    ) -> GrantsResult<Option<EscrowState>> {
        let Some(escrow_id) = request.escrow_id else {
            return Ok(None);
        };
        let id_hex = hex::encode(request.request_id);
        let escrow = ledger.escrow(&escrow_id).await?.ok_or_else(|| {
            GrantsError::DeliveryRefused("the request's escrow is not on the ledger".into())
        })?;
        if escrow.buyer != self.address() {
            return Err(GrantsError::DeliveryRefused(
                "the request's escrow was not opened by this provider".into(),
            ));
        }
        if !check_declared(&escrow, &delivery_commitment(chunks))? {
            return Err(GrantsError::NotDelivered(id_hex));
        }
        if escrow.status == crate::protocol::EscrowStatus::Released {
            return Ok(Some(escrow));
        }
        ledger
            .submit(
                self.signing.secret_key(),
                TxBody::EscrowAccept(EscrowRef { escrow_id }),
            )
            .await?;
        ledger.escrow(&escrow_id).await
    }

    /// The delivery document of `request` and the owner key that registered it.
    pub(super) async fn delivery(
        &self,
        ledger: &GrantsLedger,
        request: &RequestState,
    ) -> GrantsResult<(DeliveryDocument, CompressedPublicKey)> {
        self.delivery_document(ledger, request, &request.request_id)
            .await?
            .ok_or_else(|| GrantsError::NotDelivered(hex::encode(request.request_id)))
    }

    /// The delivery document the owner of `request` published under `delivery_id` (the
    /// request's own id, or a standing grant's delivery id), opened, and the owner key
    /// that registered it; `None` when nothing is published there yet. A record not
    /// registered by the owner is refused.
    pub(in crate::grants) async fn delivery_document(
        &self,
        ledger: &GrantsLedger,
        request: &RequestState,
        delivery_id: &[u8; 32],
    ) -> GrantsResult<Option<(DeliveryDocument, CompressedPublicKey)>> {
        let key = delivery_record_key(delivery_id)?;
        let record = match ledger.light().record(&request.owner_address, &key).await {
            Ok(Some(record)) => record,
            Ok(None) | Err(LightError::ValueMissing { .. }) => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        let signer = CompressedPublicKey(record.registration.signer);
        if p2wpkh_address(&signer.0, self.network) != request.owner_address
            || record.registration.put.address != request.owner_address
        {
            return Err(GrantsError::DeliveryRefused(
                "the delivery was not registered by the owner".into(),
            ));
        }
        let doc = DeliveryDocument::open(
            &record.envelope,
            &request.owner_address,
            delivery_id,
            &self.rsa,
        )?;
        Ok(Some((doc, signer)))
    }

    /// The ledger grant the document names, checked against the request and this
    /// provider.
    pub(super) async fn checked_grant(
        &self,
        ledger: &GrantsLedger,
        request: &RequestState,
        doc: &DeliveryDocument,
    ) -> GrantsResult<GrantState> {
        if request.grant_id.is_some_and(|id| id != doc.grant_id) {
            return Err(GrantsError::GrantRefused(
                "the delivery names another grant than the owner's answer".into(),
            ));
        }
        self.ledger_grant(ledger, request, doc).await
    }

    /// The ledger grant `doc` names, checked against `request`, the document's opening
    /// and this provider (in force, to this provider's key).
    pub(in crate::grants) async fn ledger_grant(
        &self,
        ledger: &GrantsLedger,
        request: &RequestState,
        doc: &DeliveryDocument,
    ) -> GrantsResult<GrantState> {
        let grant = ledger
            .grant(&doc.grant_id)
            .await?
            .ok_or_else(|| GrantsError::GrantRefused("the grant is not on the ledger".into()))?;
        check_grant(
            &grant,
            &doc.opening,
            request,
            &self.address(),
            &self.rsa_fingerprint()?,
            self.clock().now_millis(),
        )?;
        Ok(grant)
    }
}
