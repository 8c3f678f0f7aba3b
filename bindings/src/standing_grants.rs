//! Standing grants on the wallet across the FFI (see `carchain_core::grants::standing`):
//! approving as of a day (a request whose approved days run into that day or later
//! becomes a standing grant), the background sync the host app schedules (Android
//! WorkManager, iOS `BGTaskScheduler`) and the standing grants the wallet keeps.
//!
//! Cancellation: `sync_standing_grants` saves each grant's cursor after every period it
//! delivers; cancelled midway, the next call resumes at the first period not saved, and
//! a period already on the ledger is not submitted twice.

use std::sync::Arc;

use carchain_core::wallet::{StandingGrant as CoreStandingGrant, StandingSync as CoreSync};

use crate::error::CarChainError;
use crate::grants_ledger::GrantsLedger;
use crate::grants_types::{ApprovalInfo, Narrowing, parse_id};
use crate::inputs::parse_date;
use crate::wallet::Wallet;

/// What one sync did for one standing grant.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StandingSyncInfo {
    /// The standing grant's id, hex (what `revoke` takes).
    pub grant_id: String,
    /// The periods this sync delivered (indexes from the request's first day).
    pub delivered_periods: Vec<u32>,
    /// The periods among `delivered_periods` delivered late (records uploaded after
    /// the period was first synchronised).
    pub late_periods: Vec<u32>,
    /// How many records those periods delivered (copied, or read by a computation).
    pub record_count: u64,
    /// The next period to deliver.
    pub next_period: u32,
    /// `active`, `finished`, `revoked`, `renounced`, `ended` (the car changed owner) or
    /// `expired`.
    pub state: String,
    /// The code of the error that kept this grant from syncing (retried next time).
    pub error_code: Option<String>,
    /// Its message.
    pub error: Option<String>,
}

impl From<CoreSync> for StandingSyncInfo {
    fn from(sync: CoreSync) -> Self {
        let (error_code, error) = sync.error.unzip();
        StandingSyncInfo {
            grant_id: hex::encode(sync.grant_id),
            delivered_periods: sync.delivered.iter().map(|(p, _)| *p).collect(),
            late_periods: sync.late.clone(),
            record_count: sync.delivered.iter().map(|(_, r)| r.len() as u64).sum(),
            next_period: sync.next_period,
            state: sync.state,
            error_code,
            error,
        }
    }
}

/// A standing grant as the wallet remembers it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StandingGrantInfo {
    /// The grant id, hex.
    pub grant_id: String,
    /// The request it answers, hex.
    pub request_id: String,
    /// The car.
    pub vid: String,
    /// The provider's address.
    pub provider: String,
    /// Days per period (1 for a copy, 7 for a weekly computation, 0 for calendar
    /// months).
    pub period_days: u32,
    /// Whether periods are calendar months (a computation whose request names
    /// `period:month`).
    pub calendar_months: bool,
    /// First approved day, `YYYY-MM-DD`.
    pub from_date: String,
    /// Last approved day.
    pub to_date: String,
    /// The next period to deliver.
    pub next_period: u32,
    /// The periods delivered so far.
    pub delivered_periods: Vec<u32>,
    /// See [`StandingSyncInfo::state`].
    pub state: String,
}

impl From<CoreStandingGrant> for StandingGrantInfo {
    fn from(grant: CoreStandingGrant) -> Self {
        StandingGrantInfo {
            grant_id: grant.grant_id,
            request_id: grant.request_id,
            vid: grant.vid,
            provider: grant.provider,
            period_days: grant.period_days,
            calendar_months: grant.calendar_months,
            from_date: grant.from,
            to_date: grant.to,
            next_period: grant.next_period,
            delivered_periods: grant.delivered,
            state: grant.state,
        }
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Wallet {
    /// `approve` on day `today` (`YYYY-MM-DD`): when the approved days run into
    /// `today` or later the request becomes a standing grant, delivering the periods
    /// complete by `today` now and each later one on `sync_standing_grants`.
    pub async fn approve_as_of(
        &self,
        ledger: Arc<GrantsLedger>,
        request_id: String,
        vid: String,
        narrowing: Narrowing,
        today: String,
    ) -> Result<ApprovalInfo, CarChainError> {
        let id = parse_id(&request_id, "request id")?;
        let today = parse_date(&today)?;
        let narrowing = narrowing.to_core()?;
        let approval = self
            .wallet
            .approve_as_of(&ledger.ledger, &id, &vid, &narrowing, today)
            .await?;
        Ok(ApprovalInfo::from(&approval))
    }

    /// The background sync of standing grants on day `today` (`YYYY-MM-DD`, the
    /// device's date): for each active standing grant still in force on the ledger,
    /// delivers every period complete before `today` not delivered yet, and records
    /// of passed periods uploaded late (within 14 days of the period's end) once each. Call it from
    /// a WorkManager worker or a BGTask once a day or more often; a call with nothing
    /// new delivers nothing. A grant that fails is reported with its error code and
    /// retried on the next call.
    pub async fn sync_standing_grants(
        &self,
        ledger: Arc<GrantsLedger>,
        today: String,
    ) -> Result<Vec<StandingSyncInfo>, CarChainError> {
        let today = parse_date(&today)?;
        let report = self
            .wallet
            .sync_standing_grants(&ledger.ledger, today)
            .await?;
        Ok(report.into_iter().map(StandingSyncInfo::from).collect())
    }

    /// The standing grants this wallet made. No network.
    pub fn standing_grants(&self) -> Result<Vec<StandingGrantInfo>, CarChainError> {
        Ok(self
            .wallet
            .standing_grants()?
            .into_iter()
            .map(StandingGrantInfo::from)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grants_ledger::tests::offline_ledger;
    use crate::light::tests::{error_of, runtime};
    use crate::wallet::tests::restored_wallet;

    #[test]
    fn bad_days_and_ids_fail_before_any_network_call_and_a_new_wallet_has_none() {
        let dir = tempfile::tempdir().unwrap();
        let wallet = restored_wallet(&dir);
        assert!(wallet.standing_grants().unwrap().is_empty());
        let ledger = offline_ledger();
        let err = error_of(wallet.sync_standing_grants(ledger.clone(), "2024-13-01".into()));
        assert_eq!(err.code(), "input.invalid_date");
        // No standing grant: a sync reads nothing and reports nothing.
        let report = runtime()
            .block_on(wallet.sync_standing_grants(ledger.clone(), "2024-05-02".into()))
            .unwrap();
        assert!(report.is_empty());
        let none = Narrowing::default();
        let err = error_of(wallet.approve_as_of(
            ledger.clone(),
            "ab".repeat(32),
            "V".into(),
            none.clone(),
            "yesterday".into(),
        ));
        assert_eq!(err.code(), "input.invalid_date");
        let err = error_of(wallet.approve_as_of(
            ledger,
            "xyz".into(),
            "V".into(),
            none,
            "2024-05-02".into(),
        ));
        assert_eq!(err.code(), "grants.invalid_id");
    }

    #[test]
    fn a_sync_report_counts_periods_and_records() {
        let sync = CoreSync {
            grant_id: [7; 32],
            delivered: vec![
                (1, vec![]),
                (
                    2,
                    vec![carchain_core::protocol::RecordRef {
                        address: "bcrt1qdata".into(),
                        key: vec![1],
                    }],
                ),
            ],
            late: vec![1],
            next_period: 3,
            state: "active".into(),
            error: Some(("grants.light".into(), "unreachable".into())),
        };
        let info = StandingSyncInfo::from(sync);
        assert_eq!(info.delivered_periods, vec![1, 2]);
        assert_eq!(info.record_count, 1);
        assert_eq!(info.late_periods, vec![1]);
        assert_eq!(info.error_code.as_deref(), Some("grants.light"));
    }
}
