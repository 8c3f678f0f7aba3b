//! The provider's side of standing grants (see [`super::standing`]): fetching the
//! periods delivered since a cursor, each verified like a one-off delivery, and
//! checked to hold only the period's days and the request's formats.
//!
//! The cursor is a delivery number: [`ServiceProvider::deliveries_since`] reads the
//! owner's deliveries `cursor`, `cursor + 1`, ... until one is missing (or names a
//! period not complete on the provider's `today`), and returns them with the cursor to
//! pass next time, so each delivery, late ones included, is returned once. A late
//! delivery ([`PeriodDelivery::late`]) of a copy holds records of its period no earlier
//! delivery held; of a computation, a result over all the period's records that
//! replaces the period's earlier result. Passing an old cursor again returns the same
//! deliveries again, nothing else. Once the anchor grant is no longer in force (revoked,
//! renounced, ended by a transfer of the car, expired), nothing is returned.

use chrono::NaiveDate;

use super::delivery::{DeliveryContent, grant_id_for};
use super::error::{GrantsError, GrantsResult};
use super::ledger::GrantsLedger;
use super::period::record_in_period;
use super::provider::{
    ReceivedCopy, ReceivedRecord, ReceivedResult, ServiceProvider, check_copy_tags,
};
use super::standing::{StandingError, StandingPeriods, standing_anchor_code_hash};
use super::standing::{StandingPart, delivery_grant_id, delivery_request_id};
use super::terms::{Delivery, RequestTerms};
use crate::protocol::{GrantKind, GrantState, GrantStatus, RequestState, RequestStatus};

/// What one period delivered.
#[derive(Debug, Clone, PartialEq)]
pub enum PeriodContent {
    /// A copy of the period's records.
    Copy(Box<ReceivedCopy>),
    /// The period's computation result.
    Result(Box<ReceivedResult>),
}

/// One period delivered under a standing grant, verified.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodDelivery {
    /// The period index.
    pub period: u32,
    /// The delivery number (the cursor that returns this delivery first).
    pub delivery: u32,
    /// Whether the period was delivered before (records uploaded late): a copy's
    /// new records of the period, or a computation's result replacing the period's
    /// earlier one.
    pub late: bool,
    /// Its first day.
    pub from: NaiveDate,
    /// Its last day.
    pub to: NaiveDate,
    /// What it delivered.
    pub content: PeriodContent,
}

/// What [`ServiceProvider::deliveries_since`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct StandingDeliveries {
    /// The deliveries since the cursor, in the order the owner made them.
    pub deliveries: Vec<PeriodDelivery>,
    /// The cursor to pass next time.
    pub cursor: u32,
    /// The anchor grant as proven on the ledger.
    pub anchor: GrantState,
    /// Whether the grant is still in force (nothing more arrives once it is not).
    pub in_force: bool,
}

/// Checks that a record a copy period delivered is in the request's scope: of a format
/// the request asked for under a privilege that copies it, and of the period's days.
pub fn check_in_scope(
    terms: &RequestTerms,
    period: u32,
    days: (NaiveDate, NaiveDate),
    record: &ReceivedRecord,
) -> GrantsResult<()> {
    let out_of_scope =
        |reason: String| GrantsError::from(StandingError::OutOfScope { period, reason });
    let allowed = terms
        .privileges
        .iter()
        .filter_map(|p| p.copy_format())
        .any(|f| f == record.format && terms.formats.iter().any(|asked| asked == f));
    if !allowed {
        return Err(out_of_scope(format!(
            "format `{}` was not asked for",
            record.format
        )));
    }
    if !record_in_period(&record.format, &record.plain_key, days.0, days.1) {
        return Err(out_of_scope("a record of another day".into()));
    }
    Ok(())
}

impl ServiceProvider {
    /// The periods of the standing grant answering `request_id` delivered from period
    /// `cursor` on and complete on `today`, each verified: its document registered
    /// under the owner's address by the owner's key and opened with this provider's
    /// key; its ledger grant the owner's, to this provider, in force, its commitment
    /// opened by the document; a copy's records opened against their dHash and cHash,
    /// their copy tags exactly the grant's, each of a format the request asked for and
    /// of the period's days; a result the granted program's, signed by the owner over
    /// the registered inputs. A period that fails a check is an error, not skipped.
    pub async fn deliveries_since(
        &self,
        ledger: &GrantsLedger,
        request_id: &[u8; 32],
        cursor: u32,
        today: NaiveDate,
    ) -> GrantsResult<StandingDeliveries> {
        let (request, terms, anchor) = self.standing_request(ledger, request_id).await?;
        let periods = StandingPeriods::of(&terms);
        let in_force = anchor.status == GrantStatus::Active
            && anchor
                .expires_at
                .is_none_or(|at| at > self.clock().now_millis());
        let mut found = StandingDeliveries {
            deliveries: Vec::new(),
            cursor,
            anchor,
            in_force,
        };
        if !in_force {
            return Ok(found);
        }
        if let Some(previous) = cursor.checked_sub(1)
            && self
                .period_delivery(ledger, &request, &terms, &periods, previous)
                .await?
                .is_none()
        {
            return Err(StandingError::CursorPastEnd { cursor }.into());
        }
        let complete = periods.complete_before(today);
        let mut seq = cursor;
        while let Some(delivery) = self
            .period_delivery(ledger, &request, &terms, &periods, seq)
            .await?
        {
            if delivery.period >= complete {
                break;
            }
            found.deliveries.push(delivery);
            seq += 1;
            found.cursor = seq;
        }
        Ok(found)
    }

    /// The request, its terms and its anchor grant, checked: this provider's request,
    /// approved as a standing grant by the owner asked.
    async fn standing_request(
        &self,
        ledger: &GrantsLedger,
        request_id: &[u8; 32],
    ) -> GrantsResult<(RequestState, RequestTerms, GrantState)> {
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
        if request.status != RequestStatus::Approved {
            return Err(GrantsError::NotDelivered(id_hex));
        }
        let anchor_id = grant_id_for(request_id);
        if request.grant_id != Some(anchor_id) {
            return Err(StandingError::NotStanding(id_hex).into());
        }
        let anchor = ledger
            .grant(&anchor_id)
            .await?
            .ok_or_else(|| GrantsError::GrantRefused("the grant is not on the ledger".into()))?;
        let marker = GrantKind::Usage {
            code_hash: standing_anchor_code_hash(),
        };
        if anchor.kind != marker {
            return Err(StandingError::NotStanding(hex::encode(anchor_id)).into());
        }
        if anchor.grantor != request.owner_address || anchor.grantee_address != self.address() {
            return Err(GrantsError::GrantRefused(
                "the standing grant is not from the owner asked to this provider".into(),
            ));
        }
        let terms = RequestTerms::of_request(&request)?;
        Ok((request, terms, anchor))
    }

    /// Delivery number `seq`, verified; `None` when the owner has not made it (yet).
    async fn period_delivery(
        &self,
        ledger: &GrantsLedger,
        request: &RequestState,
        terms: &RequestTerms,
        periods: &StandingPeriods,
        seq: u32,
    ) -> GrantsResult<Option<PeriodDelivery>> {
        let delivery_id = delivery_request_id(&request.request_id, seq);
        let Some((doc, owner_key)) = self
            .delivery_document(ledger, request, &delivery_id)
            .await?
        else {
            return Ok(None);
        };
        let Some(StandingPart {
            period: index,
            late,
        }) = doc.standing
        else {
            return Err(GrantsError::DeliveryRefused(
                "the delivery names no period of the standing grant".into(),
            ));
        };
        let Some(days) = periods.period(index) else {
            return Err(StandingError::OutOfScope {
                period: index,
                reason: "a period past the request's days".into(),
            }
            .into());
        };
        if doc.grant_id != delivery_grant_id(&delivery_id, &doc.opening.commitment()) {
            return Err(GrantsError::GrantRefused(
                "the period's delivery names another grant".into(),
            ));
        }
        let grant = self.ledger_grant(ledger, request, &doc).await?;
        let opening = doc.opening;
        let out_of_scope = |reason: &str| {
            GrantsError::from(StandingError::OutOfScope {
                period: index,
                reason: reason.to_owned(),
            })
        };
        let content = match (doc.content, terms.delivery) {
            (DeliveryContent::Copy { records }, Delivery::Copy) => {
                if !matches!(grant.kind, GrantKind::Copy { .. }) {
                    return Err(GrantsError::GrantRefused("not a copy grant".into()));
                }
                super::provider::check_delivers_opening(&records, &opening)?;
                let mut received = Vec::with_capacity(records.len());
                for record in &records {
                    let opened = self.open_delivered(ledger, &opening, record).await?;
                    check_in_scope(terms, index, days, &opened)?;
                    received.push(opened);
                }
                check_copy_tags(&grant, &received)?;
                PeriodContent::Copy(Box::new(ReceivedCopy {
                    grant,
                    opening,
                    records: received,
                    payment: None,
                }))
            }
            (
                DeliveryContent::Result {
                    inputs,
                    signed_result,
                },
                Delivery::Compute { code_hash },
            ) => {
                if grant.kind != (GrantKind::Usage { code_hash }) {
                    return Err(GrantsError::GrantRefused(
                        "not a usage grant of the requested program".into(),
                    ));
                }
                let signed = self
                    .checked_result(
                        ledger,
                        &opening,
                        &inputs,
                        (&signed_result, &code_hash),
                        &owner_key,
                    )
                    .await?;
                PeriodContent::Result(Box::new(ReceivedResult {
                    grant,
                    opening,
                    signed,
                    inputs,
                    owner_key,
                    payment: None,
                }))
            }
            _ => return Err(out_of_scope("a delivery of another kind than requested")),
        };
        Ok(Some(PeriodDelivery {
            period: index,
            delivery: seq,
            late,
            from: days.0,
            to: days.1,
            content,
        }))
    }

    /// The error for an approved request without a one-off delivery: a standing grant
    /// is read with [`Self::deliveries_since`]; otherwise not delivered yet.
    pub(super) async fn standing_or_not_delivered(
        &self,
        ledger: &GrantsLedger,
        request: &RequestState,
        id: String,
    ) -> GrantsError {
        let anchor_id = grant_id_for(&request.request_id);
        if request.grant_id == Some(anchor_id)
            && let Ok(Some(grant)) = ledger.grant(&anchor_id).await
            && grant.kind
                == (GrantKind::Usage {
                    code_hash: standing_anchor_code_hash(),
                })
        {
            return StandingError::IsStanding(id).into();
        }
        GrantsError::NotDelivered(id)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::grants::terms::Privilege;
    use crate::record::{FormatSpec, TRIP_GPS, VIN_CODE, encode_key};

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 5, d).expect("day")
    }

    fn received(format: &str, plain_key: Vec<u8>) -> ReceivedRecord {
        ReceivedRecord {
            address: "bcrt1qdata".into(),
            key: vec![1],
            plain_key,
            format: format.into(),
            value: json!({}),
            d_hash: [0; 32],
            copy_tag: [0; 32],
        }
    }

    fn trip_on(d: u32) -> ReceivedRecord {
        let start = 20240500080000 + i64::from(d) * 1_000_000;
        let key = encode_key(
            &FormatSpec::trip_gps(),
            &json!({"SESSION_ID": 1, "START_TIME": start, "END_TIME": start + 3000}),
        )
        .expect("key");
        received(TRIP_GPS, key.into_bytes())
    }

    fn terms(formats: &[&str], privileges: Vec<Privilege>) -> RequestTerms {
        RequestTerms {
            period: None,
            formats: formats.iter().map(|f| (*f).to_owned()).collect(),
            from: day(1),
            to: day(10),
            privileges,
            delivery: Delivery::Copy,
        }
    }

    #[test]
    fn a_period_may_deliver_only_its_days_and_the_formats_asked_for() {
        let trips = terms(&[TRIP_GPS], vec![Privilege::LocationHistory]);
        assert!(check_in_scope(&trips, 2, (day(3), day(3)), &trip_on(3)).is_ok());
        // Another day's trip in this period.
        let err = check_in_scope(&trips, 2, (day(3), day(3)), &trip_on(4)).expect_err("day");
        assert_eq!(err.code(), "standing.out_of_scope");
        // A trip in a grant of the VIN only.
        let vin_only = terms(&[VIN_CODE], vec![Privilege::Vin]);
        let err = check_in_scope(&vin_only, 2, (day(3), day(3)), &trip_on(3)).expect_err("fmt");
        assert_eq!(err.code(), "standing.out_of_scope");
        // A format asked for without the privilege that copies it.
        let no_privilege = terms(&[TRIP_GPS, VIN_CODE], vec![Privilege::Vin]);
        assert!(check_in_scope(&no_privilege, 2, (day(3), day(3)), &trip_on(3)).is_err());
        // An undecodable key belongs to no day.
        assert!(check_in_scope(&trips, 2, (day(3), day(3)), &received(TRIP_GPS, vec![9])).is_err());
    }
}
