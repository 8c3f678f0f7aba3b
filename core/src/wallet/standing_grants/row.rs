//! The row a standing grant keeps in the wallet's store ([`StandingGrant`]), what one
//! sync reports ([`StandingSync`]), and how a row reads back as periods and an approved
//! scope, and how ledger states map to the row's and the store's states.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::grants::standing::{PeriodLength, StandingError, StandingPeriods};
use crate::grants::terms::{ApprovedScope, Delivery, Privilege};
use crate::grants::{GrantsError, GrantsResult};
use crate::protocol::{GrantStatus, RecordRef};
use crate::trip::PrivacyZone;

/// Store id prefix of standing grants.
pub(super) const STANDING_ROW_PREFIX: &str = "standing/";

/// A standing grant as the wallet remembers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandingGrant {
    /// The anchor grant id, hex.
    pub grant_id: String,
    /// The request it answers, hex.
    pub request_id: String,
    /// The car.
    pub vid: String,
    /// The provider's address.
    pub provider: String,
    /// The provider's RSA key as approved (PKCS#1 DER, hex).
    pub provider_rsa: String,
    /// The request's first day (periods are counted from it), `YYYY-MM-DD`.
    pub periods_from: String,
    /// The request's last day.
    pub periods_to: String,
    /// Days per period (0 for calendar months).
    pub period_days: u32,
    /// Whether periods are calendar months (a monthly computation).
    #[serde(default)]
    pub calendar_months: bool,
    /// First approved day.
    pub from: String,
    /// Last approved day.
    pub to: String,
    /// Privileges approved.
    pub privileges: Vec<String>,
    /// Formats approved.
    pub formats: Vec<String>,
    /// Privacy zones: (lat, lng, radius m).
    pub privacy_zones: Vec<(f64, f64, f64)>,
    /// Decimals positions are rounded to before a computation.
    pub approximate_decimals: Option<u32>,
    /// The computation's code hash (hex), `None` for a copy.
    pub code_hash: Option<String>,
    /// Expiry (ledger time, unix ms).
    pub expires_at: Option<u64>,
    /// The next period to deliver (the cursor).
    pub next_period: u32,
    /// The periods delivered so far (a period delivered late again is listed once).
    pub delivered: Vec<u32>,
    /// The next delivery number (the provider's cursor counts deliveries).
    #[serde(default)]
    pub next_delivery: u32,
    /// The records each period of the late window delivered so far (a computation's
    /// inputs), so a late upload is delivered once.
    #[serde(default)]
    pub sent: BTreeMap<u32, Vec<RecordRef>>,
    /// `active`, `finished` (every period delivered and the late window over), or why it stopped: `revoked`,
    /// `renounced`, `ended` (the car changed owner), `expired`.
    pub state: String,
}

/// What one sync did for one standing grant.
#[derive(Debug, Clone, PartialEq)]
pub struct StandingSync {
    /// The anchor grant id.
    pub grant_id: [u8; 32],
    /// The periods delivered by this sync, each with the records it delivered (copied
    /// or read by the computation), late deliveries of earlier periods included.
    pub delivered: Vec<(u32, Vec<RecordRef>)>,
    /// The periods among `delivered` that were late deliveries (records uploaded after
    /// the period was first synchronised).
    pub late: Vec<u32>,
    /// The cursor after this sync.
    pub next_period: u32,
    /// The grant's state after this sync (see [`StandingGrant::state`]).
    pub state: String,
    /// Why this grant could not be synchronised this time (the next sync retries);
    /// `(code, message)`.
    pub error: Option<(String, String)>,
}

pub(super) fn date(text: &str, grant: &str) -> GrantsResult<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| StandingError::CorruptRow(grant.to_owned()).into())
}

pub(super) fn id32(text: &str, grant: &str) -> GrantsResult<[u8; 32]> {
    let mut id = [0u8; 32];
    hex::decode_to_slice(text, &mut id).map_err(|_| StandingError::CorruptRow(grant.to_owned()))?;
    Ok(id)
}

impl StandingGrant {
    /// The approved scope of period `(from, to)`.
    pub(super) fn scope(&self, from: NaiveDate, to: NaiveDate) -> GrantsResult<ApprovedScope> {
        let corrupt = || GrantsError::from(StandingError::CorruptRow(self.grant_id.clone()));
        let privileges = self
            .privileges
            .iter()
            .map(|p| Privilege::parse(p).ok_or_else(corrupt))
            .collect::<GrantsResult<Vec<_>>>()?;
        let privacy_zones = self
            .privacy_zones
            .iter()
            .map(|&(lat, lng, r)| PrivacyZone::new(lat, lng, r).map_err(|_| corrupt()))
            .collect::<GrantsResult<Vec<_>>>()?;
        let delivery = match &self.code_hash {
            None => Delivery::Copy,
            Some(hash) => Delivery::Compute {
                code_hash: id32(hash, &self.grant_id)?,
            },
        };
        Ok(ApprovedScope {
            from,
            to,
            privileges,
            formats: self.formats.clone(),
            privacy_zones,
            approximate_decimals: self.approximate_decimals,
            delivery,
        })
    }

    pub(super) fn periods(&self) -> GrantsResult<StandingPeriods> {
        Ok(StandingPeriods {
            first: date(&self.periods_from, &self.grant_id)?,
            last: date(&self.periods_to, &self.grant_id)?,
            length: if self.calendar_months {
                PeriodLength::CalendarMonth
            } else {
                PeriodLength::Days(self.period_days)
            },
        })
    }
}

/// The ledger state of an anchor grant as a standing grant's state.
pub(super) fn state_of(status: GrantStatus, expires_at: Option<u64>, now_ms: u64) -> &'static str {
    match status {
        GrantStatus::Active if expires_at.is_some_and(|at| at <= now_ms) => "expired",
        GrantStatus::Active => "active",
        GrantStatus::Revoked => "revoked",
        GrantStatus::Renounced => "renounced",
        GrantStatus::Ended => "ended",
    }
}

/// The store status (one of the grants table's) of a standing grant's state.
pub(super) fn store_status(state: &str) -> &'static str {
    match state {
        "active" => "active",
        "finished" => "delivered",
        "revoked" => "revoked",
        _ => "expired",
    }
}
