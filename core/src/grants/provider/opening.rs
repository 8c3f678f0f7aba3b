//! Opening delivered records with their re-wrapped keys (registration, cHash and dHash
//! checked), reading one granted record, and checking a result's inputs against the
//! ledger.

use bitcoin::CompressedPublicKey;

use super::{ReceivedRecord, ServiceProvider, check_result};
use crate::compute::SignedResult;
use crate::crypto::{RecordKeyGrant, copy_tag};
use crate::grants::delivery::{DeliveredRecord, DeliveryContent};
use crate::grants::error::{GrantsError, GrantsResult};
use crate::grants::ledger::GrantsLedger;
use crate::protocol::{GrantOpening, RecordRef, RequestStatus};
use crate::sealed::{Opener, SealedRecord, open_record_with_key};

impl ServiceProvider {
    pub(in crate::grants) async fn open_delivered(
        &self,
        ledger: &GrantsLedger,
        opening: &GrantOpening,
        delivered: &DeliveredRecord,
    ) -> GrantsResult<ReceivedRecord> {
        let reference = RecordRef {
            address: delivered.address.clone(),
            key: delivered.key.clone(),
        };
        if !opening.records.contains(&reference) {
            return Err(GrantsError::GrantRefused(format!(
                "record {}/{} is not granted",
                delivered.address,
                hex::encode(&delivered.key)
            )));
        }
        let key_grant = RecordKeyGrant::from_bytes(&delivered.grant)?;
        self.open_granted(ledger, &reference, &key_grant).await
    }

    /// Fetches a granted record (registration proven, value cHash-checked) and opens it
    /// with its re-wrapped key (dHash checked).
    async fn open_granted(
        &self,
        ledger: &GrantsLedger,
        reference: &RecordRef,
        key_grant: &RecordKeyGrant,
    ) -> GrantsResult<ReceivedRecord> {
        let record = ledger
            .light()
            .record(&reference.address, &reference.key)
            .await?
            .ok_or_else(|| {
                GrantsError::DeliveryRefused(format!(
                    "record {}/{} is not registered",
                    reference.address,
                    hex::encode(&reference.key)
                ))
            })?;
        let put = &record.registration.put;
        let sealed = SealedRecord::registered(put, record.envelope.clone());
        let record_key = key_grant.record_key(&self.rsa)?;
        let opened = open_record_with_key(&sealed, Opener::Record(&record_key), &[])?;
        let value = opened.value;
        Ok(ReceivedRecord {
            address: put.address.clone(),
            key: put.key.clone(),
            plain_key: opened.key.into_bytes(),
            format: put.format.clone(),
            value,
            d_hash: put.d_hash,
            copy_tag: copy_tag(&record_key),
        })
    }

    /// Reads one record through the copy delivered for `request_id`: refused
    /// ([`GrantsError::GrantRefused`]) unless the ledger grant names it and the delivery
    /// carries its key.
    pub async fn read_granted(
        &self,
        ledger: &GrantsLedger,
        request_id: &[u8; 32],
        address: &str,
        key: &[u8],
    ) -> GrantsResult<ReceivedRecord> {
        let id_hex = hex::encode(request_id);
        let request = ledger
            .request(request_id)
            .await?
            .ok_or_else(|| GrantsError::UnknownRequest(id_hex.clone()))?;
        if request.status != RequestStatus::Approved {
            return Err(GrantsError::GrantRefused(
                "the request is not approved".into(),
            ));
        }
        let (doc, _) = self.delivery(ledger, &request).await?;
        let grant = self.checked_grant(ledger, &request, &doc).await?;
        let DeliveryContent::Copy { records } = &doc.content else {
            return Err(GrantsError::GrantRefused(
                "a usage grant delivers no records".into(),
            ));
        };
        let delivered = records
            .iter()
            .find(|r| r.address == address && r.key == key)
            .ok_or_else(|| {
                GrantsError::GrantRefused(format!(
                    "record {address}/{} is not granted",
                    hex::encode(key)
                ))
            })?;
        let received = self.open_delivered(ledger, &doc.opening, delivered).await?;
        if grant.copy_tags.binary_search(&received.copy_tag).is_err() {
            return Err(GrantsError::GrantRefused(
                "the record's copy tag is not on the grant".into(),
            ));
        }
        Ok(received)
    }

    /// The delivered result `signed_result` of program `code_hash`, checked: signed by
    /// `owner`, over exactly the records the grant commits to (`inputs`), each input
    /// registered with the dHash the result names.
    pub(in crate::grants) async fn checked_result(
        &self,
        ledger: &GrantsLedger,
        opening: &GrantOpening,
        inputs: &[RecordRef],
        (signed_result, code_hash): (&[u8], &[u8; 32]),
        owner: &CompressedPublicKey,
    ) -> GrantsResult<SignedResult> {
        let signed = SignedResult::from_bytes(signed_result)?;
        check_result(&signed, code_hash, owner)?;
        if inputs != opening.records.as_slice() {
            return Err(GrantsError::DeliveryRefused(
                "the result's inputs are not the records the grant commits to".into(),
            ));
        }
        self.check_inputs(ledger, opening, inputs, &signed).await?;
        Ok(signed)
    }

    async fn check_inputs(
        &self,
        ledger: &GrantsLedger,
        opening: &GrantOpening,
        inputs: &[RecordRef],
        signed: &SignedResult,
    ) -> GrantsResult<()> {
        if inputs.len() != signed.result.input_d_hashes.len() {
            return Err(GrantsError::DeliveryRefused(
                "the result names another number of inputs than delivered".into(),
            ));
        }
        for (input, d_hash) in inputs.iter().zip(&signed.result.input_d_hashes) {
            if !opening.records.contains(input) {
                return Err(GrantsError::DeliveryRefused(
                    "an input is not among the grant's records".into(),
                ));
            }
            let registration = ledger
                .light()
                .registration(&input.address, &input.key)
                .await?
                .ok_or_else(|| {
                    GrantsError::DeliveryRefused("an input record is not registered".into())
                })?;
            if &registration.put.d_hash != d_hash {
                return Err(GrantsError::DeliveryRefused(
                    "an input's dHash differs from its registration".into(),
                ));
            }
        }
        Ok(())
    }
}
