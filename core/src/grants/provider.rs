//! [`ServiceProvider`]: a provider's client (an insurer, a dealer), usable from a server:
//! registers its service, asks owners for data (paying a priced request into an escrow
//! that names it), waits for their answer, opens what it received, checks every record
//! and result against the ledger, and accepts the owner's declared delivery, which
//! releases the escrow to the owner.

use core::fmt;
use std::time::{Duration, Instant};

use bitcoin::CompressedPublicKey;
use bitcoin::secp256k1::SecretKey;
use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use serde_json::Value;

use super::delivery::{DeliveredRecord, DeliveryContent, DeliveryDocument, delivery_record_key};
use super::error::{GrantsError, GrantsResult};
use super::escrow_payment::{
    check_declared, copy_chunk_hashes, delivery_commitment, escrow_id_for, result_chunk_hashes,
};
use super::inbox::{INBOX_FORMAT, inbox_address, inbox_key, inbox_record_key};
use super::ledger::GrantsLedger;
use super::terms::{Delivery, RequestTerms};
use crate::compute::{ProgramOutput, SignedResult};
use crate::crypto::{HashFunc, RecordKeyGrant, copy_tag};
use crate::keys::{Network, SigningKey, rsa_fingerprint_bytes, rsa_public_key_pkcs1_der};
use crate::light::LightError;
use crate::protocol::fee_for;
use crate::protocol::signing::p2wpkh_address;
use crate::protocol::{
    DataRequest, EscrowOpen, EscrowRef, EscrowState, GrantKind, GrantOpening, GrantState,
    GrantStatus, ProviderRegister, RecordPut, RecordRef, RequestState, RequestStatus, Transfer,
    TxBody,
};
use crate::record::EncodedKey;
use crate::sealed::{Opener, SealedRecord, open_record_with_key};

/// How often [`ServiceProvider::wait_for_result`] asks the ledger.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// A provider's service: its secp256k1 account key and RSA key pair. Secret: `Debug`
/// shows only the address; the account key is erased on drop (the RSA key zeroizes
/// itself).
pub struct ServiceProvider {
    signing: SigningKey,
    pub(super) rsa: RsaPrivateKey,
    pub(super) network: Network,
}

impl fmt::Debug for ServiceProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceProvider")
            .field("address", &self.address())
            .field("keys", &"<redacted>")
            .finish()
    }
}

impl Drop for ServiceProvider {
    fn drop(&mut self) {
        let mut secret = *self.signing.secret_key();
        secret.non_secure_erase();
    }
}

/// What a provider asks an owner for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSpec {
    /// The owner asked.
    pub owner_address: String,
    /// Formats, period, privileges and copy-or-computation.
    pub terms: RequestTerms,
    /// Why, shown to the owner.
    pub purpose: String,
    /// Offered price.
    pub price: u64,
    /// Expiry (unix ms), if any.
    pub expires_at: Option<u64>,
}

/// A record received in a copy, decrypted and checked against its dHash and cHash.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedRecord {
    /// The data address.
    pub address: String,
    /// The key bytes as the ledger registers them (a car record's stored key).
    pub key: Vec<u8>,
    /// The range-ordered plaintext key, sealed in the envelope.
    pub plain_key: Vec<u8>,
    /// The format.
    pub format: String,
    /// The decrypted value.
    pub value: Value,
    /// Its dHash on the ledger.
    pub d_hash: [u8; 32],
    /// Its copy tag (see [`crate::crypto::copy_tag`]), computed from the received key.
    pub copy_tag: [u8; 32],
}

/// A copy received.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedCopy {
    /// The ledger grant behind it.
    pub grant: GrantState,
    /// The opening of the grant's commitment, checked against it.
    pub opening: GrantOpening,
    /// Every granted record, opened and verified.
    pub records: Vec<ReceivedRecord>,
    /// The escrow that paid for it, after this provider accepted the delivery
    /// (`Released`); `None` for a free request.
    pub payment: Option<EscrowState>,
}

/// A computation's result received.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedResult {
    /// The ledger grant behind it.
    pub grant: GrantState,
    /// The opening of the grant's commitment, checked against it.
    pub opening: GrantOpening,
    /// The result, its owner signature checked.
    pub signed: SignedResult,
    /// The records it read, each registered with the dHash the result names.
    pub inputs: Vec<RecordRef>,
    /// The owner's identity key that signed it.
    pub owner_key: CompressedPublicKey,
    /// The escrow that paid for it, after this provider accepted the delivery
    /// (`Released`); `None` for a free request.
    pub payment: Option<EscrowState>,
}

impl ReceivedResult {
    /// The decoded output of a shipped program.
    pub fn output(&self) -> Option<&ProgramOutput> {
        self.signed.result.decoded.as_ref()
    }
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestOutcome {
    /// The owner approved; the copy was delivered and verified.
    Copy(Box<ReceivedCopy>),
    /// The owner approved; the result was delivered and verified.
    Result(Box<ReceivedResult>),
    /// The owner rejected.
    Rejected,
}

/// The clock in unix milliseconds (0 before 1970), as grant expiries are written.
pub(super) fn now_ms() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}

impl ServiceProvider {
    /// A provider holding `account` (its ledger account) and `rsa` (what grants are
    /// wrapped to).
    pub fn new(account: SecretKey, rsa: RsaPrivateKey, network: Network) -> Self {
        ServiceProvider {
            signing: SigningKey::from_secret_key(account),
            rsa,
            network,
        }
    }

    /// The provider's account key (signs its ledger transactions and webhook
    /// registrations); never leaves the SDK.
    pub(crate) fn account_key(&self) -> &SecretKey {
        self.signing.secret_key()
    }

    /// The provider's account address.
    pub fn address(&self) -> String {
        p2wpkh_address(&self.signing.public_key().0, self.network)
    }

    /// The RSA public key grants are wrapped to.
    pub fn rsa_public_key(&self) -> RsaPublicKey {
        self.rsa.to_public_key()
    }

    /// SHA-256 of the RSA public key's PKCS#1 DER.
    pub fn rsa_fingerprint(&self) -> GrantsResult<[u8; 32]> {
        Ok(rsa_fingerprint_bytes(&self.rsa_public_key())?)
    }

    /// Registers the service (ProviderRegister): name, description, the RSA key and the
    /// code hashes of the computations it offers.
    pub async fn register(
        &self,
        ledger: &GrantsLedger,
        name: &str,
        description: &str,
        code_hashes: Vec<[u8; 32]>,
    ) -> GrantsResult<()> {
        let body = TxBody::ProviderRegister(ProviderRegister {
            name: name.to_owned(),
            description: description.to_owned(),
            rsa_public_der: rsa_public_key_pkcs1_der(&self.rsa_public_key())?,
            code_hashes,
        });
        ledger.submit(self.signing.secret_key(), body).await?;
        Ok(())
    }

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
            return Err(super::standing::StandingError::InvalidPeriod(
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

    /// Leaves `request_id` in the owner's inbox, paying its put fee into the inbox first.
    async fn notify_owner(
        &self,
        ledger: &GrantsLedger,
        owner_address: &str,
        request_id: &[u8; 32],
    ) -> GrantsResult<()> {
        let inbox = inbox_address(owner_address, self.network)?;
        let key = inbox_record_key(request_id)?;
        let put_fee = fee_for(&TxBody::RecordPut(RecordPut {
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
    /// [`super::escrow_payment`]), this provider accepts it (`EscrowAccept`), releasing the
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
                let delivered: Vec<RecordRef> = records
                    .iter()
                    .map(|r| RecordRef {
                        address: r.address.clone(),
                        key: r.key.clone(),
                    })
                    .collect();
                if delivered != opening.records {
                    return Err(GrantsError::GrantRefused(
                        "the copy delivers other records than the grant commits to".into(),
                    ));
                }
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
                let signed = SignedResult::from_bytes(&signed_result)?;
                check_result(&signed, &code_hash, &owner_key)?;
                if inputs != opening.records {
                    return Err(GrantsError::DeliveryRefused(
                        "the result's inputs are not the records the grant commits to".into(),
                    ));
                }
                self.check_inputs(ledger, &opening, &inputs, &signed)
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
    async fn delivery(
        &self,
        ledger: &GrantsLedger,
        request: &RequestState,
    ) -> GrantsResult<(DeliveryDocument, CompressedPublicKey)> {
        let key = delivery_record_key(&request.request_id)?;
        let record = match ledger.light().record(&request.owner_address, &key).await {
            Ok(Some(record)) => record,
            Ok(None) | Err(LightError::ValueMissing { .. }) => {
                return Err(GrantsError::NotDelivered(hex::encode(request.request_id)));
            }
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
            &request.request_id,
            &self.rsa,
        )?;
        Ok((doc, signer))
    }

    /// The ledger grant the document names, checked against the request and this
    /// provider.
    async fn checked_grant(
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
    pub(super) async fn ledger_grant(
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
            now_ms(),
        )?;
        Ok(grant)
    }

    pub(super) async fn open_delivered(
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
        let sealed = SealedRecord {
            address: put.address.clone(),
            format: put.format.clone(),
            key: EncodedKey::from_bytes(put.key.clone()),
            hash_func: put.hash_func,
            envelope: record.envelope.clone(),
            d_hash: put.d_hash,
            c_hash: put.c_hash,
        };
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

    pub(super) async fn check_inputs(
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

    /// Opens an auditor's countersignature sealed to this provider for the attestation
    /// `tx_id` about grant `grant_id` (see [`super::auditor::Countersignature`]).
    pub fn open_countersignature(
        &self,
        sealed: &[u8],
        grant_id: &[u8; 32],
        tx_id: &[u8; 32],
    ) -> Result<super::auditor::Countersignature, super::auditor::AuditError> {
        super::auditor::Countersignature::open_sealed(sealed, grant_id, tx_id, &self.rsa)
    }

    /// Whether `terms` name a computation this provider can be asked for.
    pub fn is_computation(terms: &RequestTerms) -> bool {
        matches!(terms.delivery, Delivery::Compute { .. })
    }
}

/// Checks a result: it is for the program the grant names and signed by `owner`.
pub fn check_result(
    signed: &SignedResult,
    code_hash: &[u8; 32],
    owner: &CompressedPublicKey,
) -> GrantsResult<()> {
    if &signed.result.program_hash != code_hash {
        return Err(GrantsError::DeliveryRefused(
            "the result is of another program than granted".into(),
        ));
    }
    signed
        .verify(owner)
        .map_err(|_| GrantsError::DeliveryRefused("the result is not signed by the owner".into()))
}

/// Checks that the copy tags of the `received` records are exactly the grant's: a
/// grantor cannot hide a record from the ledger's copy rights (a reseller naming no tag
/// for a copy it may not sell on), nor name records it did not deliver.
pub fn check_copy_tags(grant: &GrantState, received: &[ReceivedRecord]) -> GrantsResult<()> {
    let mut tags: Vec<[u8; 32]> = received.iter().map(|r| r.copy_tag).collect();
    tags.sort_unstable();
    tags.dedup();
    if tags != grant.copy_tags {
        return Err(GrantsError::GrantRefused(
            "the grant's copy tags are not those of the delivered records".into(),
        ));
    }
    Ok(())
}

/// Checks a ledger grant and the opening of its commitment against the request it
/// answers and the provider receiving it.
pub fn check_grant(
    grant: &GrantState,
    opening: &GrantOpening,
    request: &RequestState,
    provider_address: &str,
    provider_fingerprint: &[u8; 32],
    now_ms: u64,
) -> GrantsResult<()> {
    let refuse = |reason: &str| Err(GrantsError::GrantRefused(reason.to_owned()));
    if grant.grantor != request.owner_address {
        return refuse("the grant was not made by the owner asked");
    }
    if grant.grantee_address != provider_address {
        return refuse("the grant is to another account");
    }
    if opening.commitment() != grant.records_commitment {
        return refuse("the delivery's opening does not match the grant's commitment");
    }
    if &opening.grantee_rsa_fingerprint != provider_fingerprint {
        return refuse("the grant is wrapped to another RSA key");
    }
    if grant.status != GrantStatus::Active {
        return refuse("the grant is no longer in force");
    }
    if grant.expires_at.is_some_and(|at| at <= now_ms) {
        return refuse("the grant has expired");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::ComputationResult;
    use crate::grants::delivery::grant_id_for;

    fn signing(byte: u8) -> SigningKey {
        SigningKey::from_secret_key(SecretKey::from_slice(&[byte; 32]).expect("secret"))
    }

    /// Built from JSON so fields the ledger adds with defaults need no change here.
    fn request() -> RequestState {
        serde_json::from_value(serde_json::json!({
            "request_id": hex::encode([1u8; 32]),
            "requester": "bcrt1qprovider",
            "owner_address": "bcrt1qowner",
            "formats": ["trip-gps"],
            "from_date": "2024-03-01",
            "to_date": "2024-03-02",
            "fields": ["location_history"],
            "purpose": "quote",
            "price": 5,
            "expires_at": null,
            "status": "approved",
            "grant_id": hex::encode(grant_id_for(&[1; 32])),
            "height": 3,
        }))
        .expect("request")
    }

    fn grant() -> GrantState {
        serde_json::from_value(serde_json::json!({
            "grant_id": hex::encode(grant_id_for(&[1; 32])),
            "grantor": "bcrt1qowner",
            "grantee_address": "bcrt1qprovider",
            "records_commitment": hex::encode(opening().commitment()),
            "copy_tags": [],
            "kind": {"type": "usage", "code_hash": hex::encode([4u8; 32])},
            "expires_at": 2000,
            "status": "active",
            "height": 4,
        }))
        .expect("grant")
    }

    fn opening() -> GrantOpening {
        GrantOpening {
            salt: [5; 32],
            grantee_rsa_fingerprint: [9; 32],
            records: vec![RecordRef {
                address: "bcrt1qdata".into(),
                key: vec![1],
            }],
        }
    }

    #[test]
    fn a_grant_is_checked_against_request_provider_key_status_and_expiry() {
        let ok = check_grant(
            &grant(),
            &opening(),
            &request(),
            "bcrt1qprovider",
            &[9; 32],
            1_000,
        );
        assert!(ok.is_ok(), "{ok:?}");
        let refused = |grant: GrantState, provider: &str, fingerprint: [u8; 32], now: u64| {
            matches!(
                check_grant(&grant, &opening(), &request(), provider, &fingerprint, now),
                Err(GrantsError::GrantRefused(_))
            )
        };
        // An opening that is not the commitment's: other records, another salt.
        for change in [
            |o: &mut GrantOpening| o.records[0].key.push(2),
            |o: &mut GrantOpening| o.salt[0] ^= 1,
            |o: &mut GrantOpening| o.records.clear(),
        ] {
            let mut other = opening();
            change(&mut other);
            assert!(matches!(
                check_grant(
                    &grant(),
                    &other,
                    &request(),
                    "bcrt1qprovider",
                    &[9; 32],
                    1_000
                ),
                Err(GrantsError::GrantRefused(_))
            ));
        }
        assert!(refused(
            GrantState {
                grantor: "bcrt1qforger".into(),
                ..grant()
            },
            "bcrt1qprovider",
            [9; 32],
            1_000
        ));
        assert!(refused(grant(), "bcrt1qsomeoneelse", [9; 32], 1_000));
        assert!(refused(grant(), "bcrt1qprovider", [8; 32], 1_000));
        assert!(refused(
            GrantState {
                status: GrantStatus::Revoked,
                ..grant()
            },
            "bcrt1qprovider",
            [9; 32],
            1_000
        ));
        assert!(refused(grant(), "bcrt1qprovider", [9; 32], 2_000));
    }

    #[test]
    fn a_result_must_be_the_granted_program_signed_by_the_owner() {
        let owner = signing(0x11);
        let forger = signing(0x22);
        let result = ComputationResult::new([4; 32], vec![[5; 32]], vec![0; 32]);
        let signed = result.clone().sign_result(&owner).expect("sign");
        assert!(check_result(&signed, &[4; 32], &owner.public_key()).is_ok());
        assert!(matches!(
            check_result(&signed, &[3; 32], &owner.public_key()),
            Err(GrantsError::DeliveryRefused(_))
        ));
        let forged = result.sign_result(&forger).expect("sign");
        assert!(matches!(
            check_result(&forged, &[4; 32], &owner.public_key()),
            Err(GrantsError::DeliveryRefused(_))
        ));
        let mut tampered = signed;
        tampered.result.output[0] = 1;
        assert!(check_result(&tampered, &[4; 32], &owner.public_key()).is_err());
    }
}
