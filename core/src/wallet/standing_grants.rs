//! The owner's side of standing grants (see [`crate::grants::standing`]): approving a
//! request whose days run past today, and the background synchronisation the host app
//! schedules (Android WorkManager, iOS background tasks) that delivers each complete
//! new period in scope without the owner opening the app.
//!
//! The wallet remembers each standing grant in its store (the grants table, id
//! `standing/<grant id hex>`, no schema change): the request, the car, the approved
//! scope, the provider's RSA key as approved, and the cursor (the next period to
//! deliver). Before delivering anything a sync reads the anchor grant proven on the
//! ledger: revoked, renounced, ended by a transfer of the car, or expired, the grant is
//! marked ended and nothing more is delivered. Only days the owner approved, of the
//! formats and privileges approved, whole days before the expiry, are delivered, each
//! period exactly as an approval delivers (the same copy and computation code).
//! Each sync also revisits the passed periods of the late window
//! ([`crate::grants::standing::LATE_WINDOW_DAYS`]) and delivers their late uploads: a
//! copy's records no earlier delivery held, or a computation's result over all the
//! period's records once they differ from the inputs delivered. The row keeps the
//! records delivered per period while the period is in the window.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rsa::PublicKey as RsaPublicKey;
use rsa::pkcs1::DecodeRsaPublicKey;

use super::grant_inputs::{copy_delivery, usage_delivery};
use super::identity::Wallet;
use super::requests::{Approval, GrantInfo, PendingRequest, grant_salt, provider_rsa};
use crate::compute::ShippedProgram;
use crate::grants::delivery::{
    DELIVERY_VERSION, DeliveryDocument, delivery_record_key, grant_id_for,
};
use crate::grants::standing::{
    PeriodLength, StandingError, StandingPeriods, clip, last_day_before_expiry,
    standing_anchor_code_hash,
};
use crate::grants::standing::{StandingPart, delivery_grant_id, delivery_request_id};
use crate::grants::terms::{ApprovedScope, Delivery, Narrowing};
use crate::grants::{DELIVERY_FORMAT, GrantsError, GrantsLedger, GrantsResult};
use crate::keys::{rsa_fingerprint_bytes, rsa_public_key_pkcs1_der};
use crate::protocol::{DataResponse, Grant, GrantKind, GrantOpening, RecordRef, TxBody};
use crate::store::GrantRow;

mod row;
#[cfg(test)]
mod tests;

use row::{STANDING_ROW_PREFIX, date, id32, state_of, store_status};
pub use row::{StandingGrant, StandingSync};

impl Wallet {
    /// Approves `pending` as a standing grant (called by [`Self::approve_as_of`] for a
    /// free request whose approved days run into `today` or later): puts the anchor grant and the
    /// answer on the ledger, remembers the grant, and delivers the periods already
    /// complete. The returned [`Approval`] names the anchor and the records delivered
    /// now.
    pub(super) async fn approve_standing(
        &self,
        ledger: &GrantsLedger,
        pending: PendingRequest,
        scope: ApprovedScope,
        vid: &str,
        narrowing: &Narrowing,
        today: NaiveDate,
    ) -> GrantsResult<Approval> {
        let request_id = pending.request.request_id;
        if let Delivery::Compute { code_hash } = scope.delivery {
            if !pending.provider.code_hashes.contains(&code_hash) {
                return Err(GrantsError::UnregisteredComputation(hex::encode(code_hash)));
            }
            if ShippedProgram::from_hash(&code_hash).is_none() {
                return Err(GrantsError::UnsupportedComputation(hex::encode(code_hash)));
            }
        }
        // The car must be this wallet's before anything reaches the ledger.
        self.pool_generations(vid)?;
        let provider_key = provider_rsa(&pending.provider)?;
        let owner_secret = *self.keys().owner_key().secret_key();
        let grant_id = grant_id_for(&request_id);
        let opening = GrantOpening {
            salt: grant_salt(&owner_secret, &grant_id),
            grantee_rsa_fingerprint: rsa_fingerprint_bytes(&provider_key)?,
            records: Vec::new(),
        };
        ledger
            .grant_once(
                &owner_secret,
                Grant {
                    grant_id,
                    grantee_address: pending.request.requester.clone(),
                    records_commitment: opening.commitment(),
                    copy_tags: Vec::new(),
                    kind: GrantKind::Usage {
                        code_hash: standing_anchor_code_hash(),
                    },
                    expires_at: narrowing.expires_at,
                },
            )
            .await?;
        let periods = StandingPeriods::of(&pending.terms);
        let code_hash = match scope.delivery {
            Delivery::Compute { code_hash } => Some(hex::encode(code_hash)),
            Delivery::Copy => None,
        };
        let mut row = StandingGrant {
            grant_id: hex::encode(grant_id),
            request_id: hex::encode(request_id),
            vid: vid.to_owned(),
            provider: pending.request.requester.clone(),
            provider_rsa: hex::encode(rsa_public_key_pkcs1_der(&provider_key)?),
            periods_from: periods.first.to_string(),
            periods_to: periods.last.to_string(),
            period_days: match periods.length {
                PeriodLength::Days(days) => days,
                PeriodLength::CalendarMonth => 0,
            },
            calendar_months: periods.length == PeriodLength::CalendarMonth,
            from: scope.from.to_string(),
            to: scope.to.to_string(),
            privileges: scope
                .privileges
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect(),
            formats: scope.formats.clone(),
            privacy_zones: scope
                .privacy_zones
                .iter()
                .map(|z| (z.lat(), z.lng(), z.radius_m()))
                .collect(),
            approximate_decimals: scope.approximate_decimals,
            code_hash,
            expires_at: narrowing.expires_at,
            next_period: 0,
            delivered: Vec::new(),
            next_delivery: 0,
            sent: BTreeMap::new(),
            state: "active".into(),
        };
        if let Some(earlier) = self
            .standing_grants()?
            .into_iter()
            .find(|g| g.grant_id == row.grant_id)
        {
            row.next_period = earlier.next_period;
            row.delivered = earlier.delivered;
            row.next_delivery = earlier.next_delivery;
            row.sent = earlier.sent;
        }
        self.save_standing(&row)?;
        self.remember_grant(&GrantInfo {
            grant_id: row.grant_id.clone(),
            request_id: row.request_id.clone(),
            provider: row.provider.clone(),
            provider_name: pending.provider.name.clone(),
            // `copy` or `compute` as for any grant (apps and bindings read these two);
            // `standing_grants` tells the standing ones.
            kind: if row.code_hash.is_some() {
                "compute".into()
            } else {
                "copy".into()
            },
            records: 0,
            status: "active".into(),
        })?;
        // Remembered before the answer closes the request, so a sync finds it even
        // if this call is interrupted; a retried approval keeps the row's cursor.
        ledger
            .submit(
                &owner_secret,
                TxBody::DataResponse(DataResponse {
                    request_id,
                    approved: true,
                    grant_id: Some(grant_id),
                }),
            )
            .await?;
        let sync = self.sync_one(ledger, &mut row, today).await?;
        Ok(Approval {
            grant_id,
            records: sync.delivered.into_iter().flat_map(|(_, r)| r).collect(),
            scope,
            payment: None,
        })
    }

    /// The standing grants this wallet made.
    pub fn standing_grants(&self) -> GrantsResult<Vec<StandingGrant>> {
        let rows = self.locked_store()?.grants(None)?;
        rows.into_iter()
            .filter(|row| row.id.starts_with(STANDING_ROW_PREFIX))
            .map(|row| {
                serde_json::from_str(&row.json)
                    .map_err(|_| StandingError::CorruptRow(row.id.clone()).into())
            })
            .collect()
    }

    /// Delivers, for every active standing grant, each period complete by `today`
    /// (its last day before `today`) that was not delivered yet, and the late uploads
    /// of the periods passed within the late window, after checking the grant is still
    /// in force on the ledger. The host app calls this from a
    /// background task once a day or more often; a call with nothing new delivers
    /// nothing. A grant that fails (a node unreachable) is reported and retried on the
    /// next call; the others go on.
    pub async fn sync_standing_grants(
        &self,
        ledger: &GrantsLedger,
        today: NaiveDate,
    ) -> GrantsResult<Vec<StandingSync>> {
        let mut report = Vec::new();
        for mut row in self.standing_grants()? {
            if row.state != "active" {
                continue;
            }
            let grant_id = id32(&row.grant_id, &row.grant_id)?;
            match self.sync_one(ledger, &mut row, today).await {
                Ok(done) => report.push(done),
                Err(err) => report.push(StandingSync {
                    grant_id,
                    delivered: Vec::new(),
                    late: Vec::new(),
                    next_period: row.next_period,
                    state: row.state.clone(),
                    error: Some((err.code().to_owned(), err.to_string())),
                }),
            }
        }
        Ok(report)
    }

    /// One standing grant's sync (see [`Self::sync_standing_grants`]); the cursor is
    /// saved after each period.
    async fn sync_one(
        &self,
        ledger: &GrantsLedger,
        row: &mut StandingGrant,
        today: NaiveDate,
    ) -> GrantsResult<StandingSync> {
        let grant_id = id32(&row.grant_id, &row.grant_id)?;
        let mut delivered = Vec::new();
        let anchor = ledger
            .grant(&grant_id)
            .await?
            .ok_or_else(|| GrantsError::UnknownGrant(row.grant_id.clone()))?;
        // An anchor of the first version (deliveries numbered by period, which its
        // provider reads) gets nothing under this version's ids.
        let marker = GrantKind::Usage {
            code_hash: standing_anchor_code_hash(),
        };
        if anchor.kind != marker {
            return Err(StandingError::NotStanding(row.grant_id.clone()).into());
        }
        let state = state_of(anchor.status, anchor.expires_at, self.clock().now_millis());
        if state != "active" {
            row.state = state.to_owned();
            self.save_standing(row)?;
        }
        let periods = row.periods()?;
        let (from, mut to) = (
            date(&row.from, &row.grant_id)?,
            date(&row.to, &row.grant_id)?,
        );
        if let Some(last) = last_day_before_expiry(anchor.expires_at) {
            to = to.min(last);
        }
        let complete = periods.complete_before(today);
        let mut late = Vec::new();
        // Late uploads of the periods already passed, within the window.
        for index in periods.late_window(row.next_period, today) {
            if row.state != "active" {
                break;
            }
            if let Some((a, b)) = periods.period(index).and_then(|p| clip(p, from, to)) {
                let scope = row.scope(a, b)?;
                if let Some(records) = self
                    .deliver_period(ledger, row, &scope, index, anchor.expires_at, true)
                    .await?
                {
                    late.push(index);
                    delivered.push((index, records));
                }
            }
        }
        while row.state == "active" && row.next_period < complete {
            let index = row.next_period;
            if let Some((a, b)) = periods.period(index).and_then(|p| clip(p, from, to)) {
                let scope = row.scope(a, b)?;
                if let Some(records) = self
                    .deliver_period(ledger, row, &scope, index, anchor.expires_at, false)
                    .await?
                {
                    delivered.push((index, records));
                }
            }
            row.next_period = index + 1;
            self.save_standing(row)?;
        }
        // Forget what periods out of the window delivered: they are not revisited.
        let window = periods.late_window(row.next_period, today);
        row.sent
            .retain(|index, _| window.contains(index) || *index >= row.next_period);
        if row.state == "active" && row.next_period >= periods.count() && periods.closed_on(today) {
            row.state = "finished".into();
        }
        self.save_standing(row)?;
        Ok(StandingSync {
            grant_id,
            delivered,
            late,
            next_period: row.next_period,
            state: row.state.clone(),
            error: None,
        })
    }

    /// Delivers period `index` of `row` over `scope` as an approval would, as the
    /// grant's next delivery number: its ledger grant and its sealed delivery document.
    /// `late`: the period was delivered (or found empty) before; a copy delivers only
    /// the records no earlier delivery of the period held, a computation its result
    /// over all the period's records when they differ from the inputs delivered.
    /// `None` when there is nothing (new) to deliver. Saves the row once delivered.
    /// Idempotent: an interrupted delivery is redone under the same number, its grant
    /// and document not submitted twice.
    async fn deliver_period(
        &self,
        ledger: &GrantsLedger,
        row: &mut StandingGrant,
        scope: &ApprovedScope,
        index: u32,
        expires_at: Option<u64>,
        late: bool,
    ) -> GrantsResult<Option<Vec<RecordRef>>> {
        let request_id = id32(&row.request_id, &row.grant_id)?;
        let provider_key = RsaPublicKey::from_pkcs1_der(
            &hex::decode(&row.provider_rsa)
                .map_err(|_| StandingError::CorruptRow(row.grant_id.clone()))?,
        )
        .map_err(|_| StandingError::CorruptRow(row.grant_id.clone()))?;
        let light = ledger.light();
        let owner_secret = *self.keys().owner_key().secret_key();
        let sent = row.sent.get(&index).cloned().unwrap_or_default();
        let gathered = match scope.delivery {
            Delivery::Compute { code_hash } => self
                .compute_for(light, &row.vid, scope, &code_hash)
                .await
                .and_then(|(inputs, _, signed_result)| {
                    if inputs.iter().all(|r| sent.contains(r)) {
                        return Err(GrantsError::NothingToDeliver);
                    }
                    Ok(usage_delivery(code_hash, inputs, signed_result))
                }),
            Delivery::Copy => self
                .copy_for(light, &row.vid, scope, &provider_key, &sent)
                .await
                .map(|(records, _, tags)| copy_delivery(records, tags)),
        };
        let (kind, records, copy_tags, content) = match gathered {
            Ok(found) => found,
            Err(GrantsError::NothingToDeliver) => return Ok(None),
            Err(err) => return Err(err),
        };
        let delivery_id = delivery_request_id(&request_id, row.next_delivery);
        let salt = grant_salt(&owner_secret, &delivery_id);
        let opening = GrantOpening {
            salt,
            grantee_rsa_fingerprint: rsa_fingerprint_bytes(&provider_key)?,
            records: records.clone(),
        };
        let grant_id = delivery_grant_id(&delivery_id, &opening.commitment());
        ledger
            .grant_once(
                &owner_secret,
                Grant {
                    grant_id,
                    grantee_address: row.provider.clone(),
                    records_commitment: opening.commitment(),
                    copy_tags,
                    kind,
                    expires_at,
                },
            )
            .await?;
        let owner_address = self.owner_address();
        let key = delivery_record_key(&delivery_id)?;
        if light.registration(&owner_address, &key).await?.is_none() {
            let doc = DeliveryDocument {
                version: DELIVERY_VERSION,
                request_id: delivery_id,
                grant_id,
                opening,
                content,
                standing: Some(StandingPart {
                    period: index,
                    late,
                }),
            };
            let sealed = doc.seal(&owner_address, &provider_key)?;
            self.put_wallet_entry(light, &owner_secret, DELIVERY_FORMAT, key, &sealed)
                .await?;
        }
        row.next_delivery += 1;
        let held = row.sent.entry(index).or_default();
        for record in &records {
            if !held.contains(record) {
                held.push(record.clone());
            }
        }
        if !row.delivered.contains(&index) {
            row.delivered.push(index);
        }
        self.save_standing(row)?;
        Ok(Some(records))
    }

    fn save_standing(&self, row: &StandingGrant) -> GrantsResult<()> {
        let json = serde_json::to_string(row)
            .map_err(|e| GrantsError::MalformedDocument(e.to_string()))?;
        self.locked_store()?.save_grant(&GrantRow {
            id: format!("{STANDING_ROW_PREFIX}{}", row.grant_id),
            provider: row.provider.clone(),
            status: store_status(&row.state).to_owned(),
            json,
            updated_at: self.unix_now(),
        })?;
        Ok(())
    }
}
