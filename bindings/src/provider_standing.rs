//! The provider's side of a standing grant across the FFI (see
//! `carchain_core::grants::provider_standing`): the periods delivered since a cursor, each
//! verified against the ledger and opened with the provider's key, and the cursor to pass
//! next time. An insurer's JVM service calls it on a schedule (or when its webhook says a
//! delivery arrived).

use std::sync::Arc;

use carchain_core::grants::provider::RequestOutcome as CoreOutcome;
use carchain_core::grants::{
    PeriodContent, PeriodDelivery as CorePeriod, StandingDeliveries as CoreDeliveries,
};
use carchain_core::protocol::GrantStatus;

use crate::error::CarChainError;
use crate::grants_ledger::GrantsLedger;
use crate::grants_provider::{RequestOutcome, ServiceProvider};
use crate::grants_types::parse_id;
use crate::inputs::parse_date;

/// One period a standing grant delivered, verified.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PeriodDelivery {
    /// The period index (from the request's first day).
    pub period: u32,
    /// The delivery number (the cursor that returns it first).
    pub delivery: u32,
    /// Records of the period uploaded late: a copy's new records, or a computation's
    /// result replacing the period's earlier one.
    pub late: bool,
    /// Its first day (YYYY-MM-DD).
    pub from_date: String,
    /// Its last day (YYYY-MM-DD).
    pub to_date: String,
    /// What it delivered: the records of a copy, or a computation's signed result.
    pub outcome: RequestOutcome,
}

impl From<CorePeriod> for PeriodDelivery {
    fn from(period: CorePeriod) -> Self {
        let outcome = match period.content {
            PeriodContent::Copy(copy) => CoreOutcome::Copy(copy),
            PeriodContent::Result(result) => CoreOutcome::Result(result),
        };
        PeriodDelivery {
            period: period.period,
            delivery: period.delivery,
            late: period.late,
            from_date: period.from.to_string(),
            to_date: period.to.to_string(),
            outcome: outcome.into(),
        }
    }
}

/// What `deliveriesSince` found.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StandingDeliveries {
    /// The deliveries since the cursor, in the order the owner made them.
    pub deliveries: Vec<PeriodDelivery>,
    /// The cursor to pass next time.
    pub cursor: u32,
    /// The standing grant's id, hex.
    pub grant_id: String,
    /// `active`, `revoked`, `renounced` or `ended` (the car changed owner), as proven on
    /// the ledger.
    pub status: String,
    /// Whether the grant is still in force (nothing more arrives once it is not).
    pub in_force: bool,
}

fn status_name(status: GrantStatus) -> &'static str {
    match status {
        GrantStatus::Active => "active",
        GrantStatus::Revoked => "revoked",
        GrantStatus::Renounced => "renounced",
        GrantStatus::Ended => "ended",
    }
}

impl From<CoreDeliveries> for StandingDeliveries {
    fn from(found: CoreDeliveries) -> Self {
        StandingDeliveries {
            deliveries: found.deliveries.into_iter().map(Into::into).collect(),
            cursor: found.cursor,
            grant_id: hex::encode(found.anchor.grant_id),
            status: status_name(found.anchor.status).to_owned(),
            in_force: found.in_force,
        }
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl ServiceProvider {
    /// The deliveries of the standing grant answering `request_id` (hex) from delivery
    /// number `cursor` on, of periods complete on `today` (YYYY-MM-DD), late uploads
    /// included, each verified (records
    /// against their hashes and the request's scope, results against the owner's
    /// signature). Start with cursor 0 and pass the returned cursor next time; a period
    /// that fails a check is an error (`standing.out_of_scope`, ...), never skipped.
    pub async fn deliveries_since(
        &self,
        ledger: Arc<GrantsLedger>,
        request_id: String,
        cursor: u32,
        today: String,
    ) -> Result<StandingDeliveries, CarChainError> {
        let id = parse_id(&request_id, "request id")?;
        let today = parse_date(&today)?;
        let found = self
            .provider
            .deliveries_since(&ledger.ledger, &id, cursor, today)
            .await?;
        Ok(found.into())
    }
}
