//! The owner's side of data grants: the provider requests waiting in the wallet, the
//! decision on each (approve, optionally narrowed, or reject), the grants made, and
//! revocation.
//!
//! Requests are found through the owner's public inbox (see [`crate::grants::inbox`]);
//! nothing in it is believed until the request is proven on the ledger, addressed to
//! this wallet, open, unexpired and from a registered provider.
//!
//! Approving a computation (usage grant) reads the car's trips of the approved days,
//! decrypts them on this device, applies the privacy zones and rounding, runs the
//! provider's registered program in the EVM and delivers only the owner-signed result
//! (bound to the input records' dHashes), sealed to the provider. Approving a copy
//! re-wraps each granted record's key for the provider's RSA key (payloads untouched)
//! and delivers the wrapped keys, sealed to the provider. Either way the ledger gets a
//! `Grant` that names no record (a salted commitment to the records and the provider's
//! key, and for a copy one opaque copy tag per record), then the `DataResponse` naming
//! the grant, both signed by the owner's identity key; the commitment's opening
//! travels in the sealed delivery.
//!
//! A priced request is approved only while the provider's escrow for it holds the
//! price for this owner; after answering, the wallet declares the delivery on the
//! escrow (`EscrowDeliver`) with the chunk commitment of what it delivered (see
//! [`crate::grants::escrow_payment`]), and the provider's acceptance releases the funds to
//! the owner. Rejecting a priced request refunds its escrow to the provider (a ledger
//! rule).

use rsa::PublicKey as RsaPublicKey;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use serde::{Deserialize, Serialize};

use super::grant_inputs::{copy_delivery, usage_delivery};
use super::identity::Wallet;
use crate::grants::delivery::{
    DELIVERY_VERSION, DeliveryDocument, delivery_record_key, grant_id_for,
};
use crate::grants::escrow_payment::{
    DeclaredDelivery, check_funding, copy_chunk_hashes, delivery_commitment, result_chunk_hashes,
};
use crate::grants::inbox::{inbox_address, request_id_of_entry};
use crate::grants::terms::{ApprovedScope, Delivery, Narrowing, RequestTerms};
use crate::grants::{DELIVERY_FORMAT, GrantsError, GrantsLedger, GrantsResult};
use crate::keys::rsa_fingerprint_bytes;
use crate::protocol::{
    DataResponse, EscrowDeliver, EscrowState, Grant, GrantKind, GrantOpening, GrantRef,
    ProviderState, RecordRef, RequestState, RequestStatus, TxBody,
};
use crate::store::GrantRow;

/// Gas a provider computation may spend on the owner's device.
pub const COMPUTE_GAS_LIMIT: u64 = 30_000_000;
/// Store id prefix of the grants made on requests.
const GRANT_ROW_PREFIX: &str = "grant/";

/// A request waiting for the owner, with everything needed to decide.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingRequest {
    /// The request as proven on the ledger (purpose, price, expiry, period...).
    pub request: RequestState,
    /// Its terms parsed: formats, days, privileges, copy or computation.
    pub terms: RequestTerms,
    /// Who asks: the provider's proven registration (name, description, key, code).
    pub provider: ProviderState,
    /// The proven escrow paying for the request, if the provider opened one.
    pub escrow: Option<EscrowState>,
}

/// What an approval delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    /// The ledger grant.
    pub grant_id: [u8; 32],
    /// The records granted (copied, or read by the computation).
    pub records: Vec<RecordRef>,
    /// The scope approved.
    pub scope: ApprovedScope,
    /// The escrow paying for the request and the chunk commitment declared on it
    /// (`EscrowDeliver`); `None` for a free request.
    pub payment: Option<DeclaredDelivery>,
}

/// A grant this wallet made, as the wallet remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantInfo {
    /// The grant id, hex.
    pub grant_id: String,
    /// The request it answered, hex.
    pub request_id: String,
    /// The provider's address.
    pub provider: String,
    /// The provider's name.
    pub provider_name: String,
    /// `copy` or `compute`.
    pub kind: String,
    /// How many records it names.
    pub records: usize,
    /// `active` or `revoked`.
    pub status: String,
}

/// Domain of the salt of a grant's records commitment.
const GRANT_SALT_DOMAIN: &[u8] = b"carchain/grant-salt/v1";

/// The salt of grant `grant_id`'s commitment: HMAC-SHA256 under the owner's identity
/// key, so nobody else can predict it and a retried approval (same grant id, same
/// records) commits to, and delivers, the same opening.
pub(super) fn grant_salt(
    owner_secret: &bitcoin::secp256k1::SecretKey,
    grant_id: &[u8; 32],
) -> [u8; 32] {
    use hmac::{Hmac, KeyInit, Mac};
    let Ok(mut mac) = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&owner_secret.secret_bytes())
    else {
        return [0; 32];
    };
    mac.update(GRANT_SALT_DOMAIN);
    mac.update(grant_id);
    mac.finalize().into_bytes().into()
}

/// The provider's RSA key from its registration (PKCS#1 or SPKI DER).
pub(super) fn provider_rsa(provider: &ProviderState) -> GrantsResult<RsaPublicKey> {
    RsaPublicKey::from_pkcs1_der(&provider.rsa_public_der)
        .or_else(|_| RsaPublicKey::from_public_key_der(&provider.rsa_public_der))
        .map_err(|_| {
            GrantsError::InvalidTerms(format!(
                "provider {} registered an unreadable RSA key",
                provider.address
            ))
        })
}

/// Why `request` cannot be acted on by `owner` now, if it cannot.
fn closed_reason(request: &RequestState, owner: &str, now: u64) -> GrantsResult<()> {
    let id = hex::encode(request.request_id);
    if request.owner_address != owner {
        return Err(GrantsError::NotAddressedToMe(id));
    }
    let reason = match request.status {
        RequestStatus::Open if request.expires_at.is_some_and(|at| at <= now) => "expired",
        RequestStatus::Open => return Ok(()),
        RequestStatus::Approved => "already approved",
        RequestStatus::Rejected => "already rejected",
    };
    Err(GrantsError::RequestClosed {
        request: id,
        reason: reason.to_owned(),
    })
}

impl Wallet {
    /// The open, unexpired requests addressed to this wallet, found in its inbox and
    /// each proven on the ledger with its provider's registration. Entries that point
    /// to nothing valid (unknown, closed, someone else's, unregistered provider,
    /// unreadable terms) are left out.
    pub async fn pending_requests(
        &self,
        ledger: &GrantsLedger,
    ) -> GrantsResult<Vec<PendingRequest>> {
        let inbox = inbox_address(&self.owner_address(), self.network())?;
        let entries = ledger.light().records_at(&inbox).await?;
        let mut pending = Vec::new();
        for entry in entries.records {
            let Some(request_id) = request_id_of_entry(&entry.registration.put.key) else {
                continue;
            };
            if let Ok(found) = self.checked_request(ledger, &request_id).await {
                pending.push(found);
            }
        }
        Ok(pending)
    }

    /// The request `request_id` proven on the ledger and checked open for this wallet.
    pub(super) async fn checked_request(
        &self,
        ledger: &GrantsLedger,
        request_id: &[u8; 32],
    ) -> GrantsResult<PendingRequest> {
        let id = hex::encode(request_id);
        let request = ledger
            .request(request_id)
            .await?
            .ok_or_else(|| GrantsError::UnknownRequest(id))?;
        closed_reason(&request, &self.owner_address(), self.clock().now_millis())?;
        let provider = ledger
            .provider(&request.requester)
            .await?
            .ok_or_else(|| GrantsError::UnknownProvider(request.requester.clone()))?;
        let terms = RequestTerms::of_request(&request)?;
        let escrow = match request.escrow_id {
            Some(id) => ledger.escrow(&id).await?,
            None => None,
        };
        Ok(PendingRequest {
            request,
            terms,
            provider,
            escrow,
        })
    }

    /// Approves request `request_id` for car `vid`, narrowed by `narrowing`, and
    /// delivers: a computation's signed result, or a copy's re-wrapped record keys (see
    /// the module documentation). Submits the `Grant` and the `DataResponse`, and for a
    /// priced request the `EscrowDeliver` declaring what was delivered. A priced
    /// request without a funded escrow to this owner is refused
    /// ([`GrantsError::PaymentMissing`]) before anything is read.
    ///
    /// A free request whose approved days run into today or later is approved as a
    /// standing grant (see [`Self::approve_as_of`]).
    pub async fn approve(
        &self,
        ledger: &GrantsLedger,
        request_id: &[u8; 32],
        vid: &str,
        narrowing: &Narrowing,
    ) -> GrantsResult<Approval> {
        let today = self.today();
        self.approve_as_of(ledger, request_id, vid, narrowing, today)
            .await
    }

    /// [`Self::approve`] on day `today`: when the approved days end before `today` the
    /// request is delivered once; otherwise a free request becomes a standing grant,
    /// delivering the periods complete by `today` now and each later one on
    /// [`Self::sync_standing_grants`] (see [`crate::grants::standing`]). A priced
    /// request is always delivered once, with what exists now: its escrow pays for one
    /// delivery.
    pub async fn approve_as_of(
        &self,
        ledger: &GrantsLedger,
        request_id: &[u8; 32],
        vid: &str,
        narrowing: &Narrowing,
        today: chrono::NaiveDate,
    ) -> GrantsResult<Approval> {
        let pending = self.checked_request(ledger, request_id).await?;
        let price = pending.request.price;
        let scope = narrowing.apply(&pending.terms)?;
        if scope.to >= today && price == 0 {
            return self
                .approve_standing(ledger, pending, scope, vid, narrowing, today)
                .await;
        }
        if price > 0 {
            check_funding(pending.escrow.as_ref(), &self.owner_address(), price)?;
        }
        let provider_key = provider_rsa(&pending.provider)?;
        let light = ledger.light();
        let grant_id = grant_id_for(request_id);
        let owner_secret = *self.keys().owner_key().secret_key();
        let salt = grant_salt(&owner_secret, &grant_id);
        let ((kind, records, copy_tags, content), chunks) = match scope.delivery {
            Delivery::Compute { code_hash } => {
                if !pending.provider.code_hashes.contains(&code_hash) {
                    return Err(GrantsError::UnregisteredComputation(hex::encode(code_hash)));
                }
                let (inputs, d_hashes, signed_result) =
                    self.compute_for(light, vid, &scope, &code_hash).await?;
                let chunks = result_chunk_hashes(&salt, &d_hashes, &signed_result);
                (usage_delivery(code_hash, inputs, signed_result), chunks)
            }
            Delivery::Copy => {
                let (delivered, d_hashes, tags) = self
                    .copy_for(light, vid, &scope, &provider_key, &[])
                    .await?;
                let chunks = copy_chunk_hashes(&salt, &d_hashes);
                (copy_delivery(delivered, tags), chunks)
            }
        };
        let opening = GrantOpening {
            salt,
            grantee_rsa_fingerprint: rsa_fingerprint_bytes(&provider_key)?,
            records: records.clone(),
        };
        let grant = Grant {
            grant_id,
            grantee_address: pending.request.requester.clone(),
            records_commitment: opening.commitment(),
            copy_tags,
            kind: kind.clone(),
            expires_at: narrowing.expires_at,
        };
        ledger.grant_once(&owner_secret, grant).await?;
        let doc = DeliveryDocument {
            version: DELIVERY_VERSION,
            request_id: *request_id,
            grant_id,
            opening,
            content,
            standing: None,
        };
        let owner_address = self.owner_address();
        let sealed = doc.seal(&owner_address, &provider_key)?;
        self.put_wallet_entry(
            ledger.light(),
            &owner_secret,
            DELIVERY_FORMAT,
            delivery_record_key(request_id)?,
            &sealed,
        )
        .await?;
        ledger
            .submit(
                &owner_secret,
                TxBody::DataResponse(DataResponse {
                    request_id: *request_id,
                    approved: true,
                    grant_id: Some(grant_id),
                }),
            )
            .await?;
        let payment = match (&pending.escrow, price > 0) {
            (Some(escrow), true) => {
                let declared = DeclaredDelivery {
                    escrow_id: escrow.escrow_id,
                    amount: escrow.amount,
                    d_hash_root: delivery_commitment(&chunks),
                };
                ledger
                    .submit(
                        &owner_secret,
                        TxBody::EscrowDeliver(EscrowDeliver {
                            escrow_id: declared.escrow_id,
                            d_hash_root: declared.d_hash_root,
                        }),
                    )
                    .await?;
                Some(declared)
            }
            _ => None,
        };
        self.remember_grant(&GrantInfo {
            grant_id: hex::encode(grant_id),
            request_id: hex::encode(request_id),
            provider: pending.request.requester.clone(),
            provider_name: pending.provider.name.clone(),
            kind: match kind {
                GrantKind::Usage { .. } => "compute".into(),
                _ => "copy".into(),
            },
            records: records.len(),
            status: "active".into(),
        })?;
        Ok(Approval {
            grant_id,
            records,
            scope,
            payment,
        })
    }

    /// Rejects request `request_id` (a `DataResponse` without a grant); the ledger
    /// refunds the escrow of a priced request to the provider.
    pub async fn reject(&self, ledger: &GrantsLedger, request_id: &[u8; 32]) -> GrantsResult<()> {
        self.checked_request(ledger, request_id).await?;
        ledger
            .submit(
                self.keys().owner_key().secret_key(),
                TxBody::DataResponse(DataResponse {
                    request_id: *request_id,
                    approved: false,
                    grant_id: None,
                }),
            )
            .await?;
        Ok(())
    }

    /// The grants this wallet made, newest state first as stored.
    pub fn grants(&self) -> GrantsResult<Vec<GrantInfo>> {
        let rows = self.locked_store()?.grants(None)?;
        Ok(rows
            .into_iter()
            .filter(|row| row.id.starts_with(GRANT_ROW_PREFIX))
            .filter_map(|row| serde_json::from_str(&row.json).ok())
            .collect())
    }

    /// Revokes grant `grant_id` on the ledger (a `Revoke` signed by the owner): the
    /// provider gets nothing more under it and the ledger shows it revoked. What was
    /// already delivered cannot be unseen: a provider that opened a copy or read a
    /// result keeps what it learned.
    pub async fn revoke(&self, ledger: &GrantsLedger, grant_id: &[u8; 32]) -> GrantsResult<()> {
        let id = hex::encode(grant_id);
        let mut info = self
            .grants()?
            .into_iter()
            .find(|g| g.grant_id == id)
            .ok_or_else(|| GrantsError::UnknownGrant(id.clone()))?;
        ledger
            .submit(
                self.keys().owner_key().secret_key(),
                TxBody::Revoke(GrantRef {
                    grant_id: *grant_id,
                }),
            )
            .await?;
        info.status = "revoked".into();
        self.remember_grant(&info)
    }

    pub(super) fn remember_grant(&self, info: &GrantInfo) -> GrantsResult<()> {
        let json = serde_json::to_string(info)
            .map_err(|e| GrantsError::MalformedDocument(e.to_string()))?;
        self.locked_store()?.save_grant(&GrantRow {
            id: format!("{GRANT_ROW_PREFIX}{}", info.grant_id),
            provider: info.provider.clone(),
            status: info.status.clone(),
            json,
            updated_at: self.unix_now(),
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::test_fixtures::request_state;

    fn request(status: &str, expires_at: Option<u64>) -> RequestState {
        request_state([3; 32], status, expires_at, None)
    }

    #[test]
    fn only_open_unexpired_requests_to_this_owner_can_be_acted_on() {
        assert!(closed_reason(&request("open", None), "bcrt1qowner", 10).is_ok());
        assert!(closed_reason(&request("open", Some(11)), "bcrt1qowner", 10).is_ok());
        assert!(matches!(
            closed_reason(&request("open", None), "bcrt1qsomeoneelse", 10),
            Err(GrantsError::NotAddressedToMe(_))
        ));
        for (status, expires, reason) in [
            ("open", Some(10), "expired"),
            ("approved", None, "already approved"),
            ("rejected", None, "already rejected"),
        ] {
            match closed_reason(&request(status, expires), "bcrt1qowner", 10) {
                Err(GrantsError::RequestClosed { reason: got, .. }) => assert_eq!(got, reason),
                other => panic!("{status}: {other:?}"),
            }
        }
    }

    #[test]
    fn provider_keys_are_read_as_pkcs1_or_spki_and_garbage_is_refused() {
        use rsa::pkcs8::EncodePublicKey;
        let key = crate::grants::test_keys::provider_rsa().to_public_key();
        let pkcs1 = crate::keys::rsa_public_key_pkcs1_der(&key).expect("pkcs1");
        let spki = key.to_public_key_der().expect("spki").as_bytes().to_vec();
        let provider = |der: Vec<u8>| -> ProviderState {
            serde_json::from_value(serde_json::json!({
                "address": "bcrt1qprovider",
                "name": "Insurer",
                "description": "pay as you drive",
                "rsa_public_der": hex::encode(der),
                "code_hashes": [],
                "height": 2,
            }))
            .expect("provider")
        };
        assert_eq!(provider_rsa(&provider(pkcs1)).expect("pkcs1"), key);
        assert_eq!(provider_rsa(&provider(spki)).expect("spki"), key);
        assert!(matches!(
            provider_rsa(&provider(vec![0x30, 0x00])),
            Err(GrantsError::InvalidTerms(_))
        ));
    }
}
