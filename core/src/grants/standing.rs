//! Standing grants: a request whose period runs past today, approved once, delivers each
//! new period's records in scope as the period completes, until the grant is revoked,
//! renounced, expires or the car changes owner.
//!
//! A free request whose approved days run into the approval's day or later is standing
//! (a priced one is delivered once: its escrow pays for one delivery). The approval
//! puts a standing **anchor** grant on the ledger (id
//! [`super::grant_id_for`] the request, a usage grant of the marker program
//! [`standing_anchor_code_hash`], naming no record): it is what the owner revokes, the
//! provider renounces, the ledger expires or ends on a transfer. The request's period is
//! cut into periods from the request's first day: one day for a copy
//! ([`COPY_PERIOD_DAYS`]); for a computation one week ([`COMPUTE_PERIOD_DAYS`]) or,
//! when the request names `period:month` ([`super::terms::ComputePeriod`]), one
//! calendar month (the first and last periods clipped to the request's days). Each
//! complete period whose days the owner approved is delivered exactly like an approval:
//! a ledger grant of its own (id [`delivery_grant_id`]) and the sealed
//! [`super::DeliveryDocument`] under the owner's address at the delivery key of the
//! delivery's id [`delivery_request_id`]. Deliveries are numbered 0, 1, 2, ... in the
//! order the owner's wallet makes them; the document names the period it delivers
//! ([`StandingPart`]). The delivery number is the provider's cursor: it reads delivery
//! `cursor`, `cursor + 1`, ... until one is missing, so it sees each delivery once.
//!
//! **Late uploads.** A car offline for days uploads a period's records after the period
//! was delivered. Each sync revisits the periods already passed whose last day lies
//! within [`LATE_WINDOW_DAYS`] before its day, and delivers the records in scope that no
//! earlier delivery of the period held, as a further delivery of that period marked
//! `late`. For a copy a late delivery holds only the new records. For a computation a
//! late delivery is the period's result computed again over all its records (the earlier
//! inputs and the late ones): it **replaces** the period's earlier result (an insurer
//! scores the week on everything the car drove in it). Records uploaded later than the
//! window are not delivered. A grant no longer in force delivers no late record either;
//! a grant whose last period is over stays active for the window, then is finished.
//!
//! Version 2 of this scheme (anchor marker `carchain/standing-grant/v2`, delivery ids
//! `carchain/standing-delivery/v2`) replaced version 1, which numbered deliveries by
//! period and never delivered a late record; a version 1 anchor is not read as standing.
//!
//! What a reader of the ledger learns beyond a one-off grant: who knows the request id
//! (public on the ledger) can tell which periods were delivered and when, as the
//! per-period grants to the provider already show, and a copy period's grant names one
//! copy tag per record, so the number of records each day delivered shows (a period
//! with nothing in scope delivers nothing), and a late delivery shows that a period gained
//! records after it was first delivered.

use chrono::{DateTime, Datelike, NaiveDate};
use sha2::{Digest, Sha256};

use super::terms::{ComputePeriod, Delivery, RequestTerms};

/// Days in a copy's period: each day is delivered on its own.
pub const COPY_PERIOD_DAYS: u32 = 1;
/// Days in a computation's period: one result a week.
pub const COMPUTE_PERIOD_DAYS: u32 = 7;
/// Days after a period's last day during which a sync still delivers its late uploads.
pub const LATE_WINDOW_DAYS: u32 = 14;
/// Domain tag of a standing grant's delivery ids.
pub const DELIVERY_ID_DOMAIN: &[u8] = b"carchain/standing-delivery/v2";
/// Domain tag of the grant id of one standing delivery.
pub const DELIVERY_GRANT_DOMAIN: &[u8] = b"carchain/standing-delivery-grant/v2";
/// Domain tag of the marker code hash of standing anchor grants.
pub const ANCHOR_DOMAIN: &[u8] = b"carchain/standing-grant/v2";

/// What a standing delivery's document says about the period it delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StandingPart {
    /// The period index (from the request's first day).
    pub period: u32,
    /// Whether the period was delivered before this delivery was made (a late upload):
    /// a copy's new records, or a computation's result replacing the period's earlier
    /// one.
    pub late: bool,
}

/// The code hash an anchor grant names (`SHA-256("carchain/standing-grant/v1")`): no
/// program has it, so an anchor can deliver no result of its own.
pub fn standing_anchor_code_hash() -> [u8; 32] {
    Sha256::digest(ANCHOR_DOMAIN).into()
}

/// The id delivery number `seq` of the standing grant answering `request_id` is
/// published under: `SHA-256("carchain/standing-delivery/v2" || request_id || u32be(seq))`.
pub fn delivery_request_id(request_id: &[u8; 32], seq: u32) -> [u8; 32] {
    Sha256::new()
        .chain_update(DELIVERY_ID_DOMAIN)
        .chain_update(request_id)
        .chain_update(seq.to_be_bytes())
        .finalize()
        .into()
}

/// The ledger grant of the delivery `delivery_id` committing to `commitment`:
/// `SHA-256("carchain/standing-delivery-grant/v2" || delivery_id || commitment)`. Bound
/// to the commitment, so a sync interrupted after its grant and retried with other
/// records (one uploaded in between) puts a grant of its own instead of a grant whose
/// commitment its document cannot open.
pub fn delivery_grant_id(delivery_id: &[u8; 32], commitment: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update(DELIVERY_GRANT_DOMAIN)
        .chain_update(delivery_id)
        .chain_update(commitment)
        .finalize()
        .into()
}

/// Why a standing grant cannot be approved, synchronised or read. Each has a stable
/// [`code`](Self::code); messages carry ids and dates only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StandingError {
    /// The request's grant is not a standing grant (it was delivered once).
    #[error("grant {0} is not a standing grant")]
    NotStanding(String),
    /// The request was approved as a standing grant: its deliveries are read by period
    /// (`ServiceProvider::deliveries_since`), not as one delivery.
    #[error("request {0} is a standing grant: read it with deliveries_since")]
    IsStanding(String),
    /// A cursor past the deliveries made (delivery `cursor - 1` does not exist).
    #[error("cursor {cursor} is past the grant's deliveries")]
    CursorPastEnd {
        /// The cursor given.
        cursor: u32,
    },
    /// A period delivery holds records outside the grant's scope.
    #[error("period {period} delivers outside the grant's scope: {reason}")]
    OutOfScope {
        /// The period index.
        period: u32,
        /// What is outside.
        reason: String,
    },
    /// A request names a period that is not `week` or `month`, names two, or names
    /// one for a copy.
    #[error("bad period: {0}")]
    InvalidPeriod(String),
    /// The wallet's remembered standing grant is unreadable.
    #[error("standing grant {0} is stored in a form this wallet cannot read")]
    CorruptRow(String),
}

crate::error_code::error_codes!(StandingError {
    NotStanding => "standing.not_standing",
    IsStanding => "standing.is_standing",
    CursorPastEnd => "standing.cursor_past_end",
    OutOfScope => "standing.out_of_scope",
    InvalidPeriod => "standing.invalid_period",
    CorruptRow => "standing.corrupt_row",
});

/// How long each period of a standing grant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodLength {
    /// A fixed number of days from the request's first day.
    Days(u32),
    /// A calendar month.
    CalendarMonth,
}

/// How a standing request's days are cut: from the request's first day to its last,
/// in periods of a fixed number of days or in calendar months (the last one possibly
/// shorter, and for months the first too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StandingPeriods {
    /// The request's first day.
    pub first: NaiveDate,
    /// The request's last day.
    pub last: NaiveDate,
    /// How long a period is.
    pub length: PeriodLength,
}

/// Months since year 0 of `day`'s month.
fn month_number(day: NaiveDate) -> i64 {
    i64::from(day.year()) * 12 + i64::from(day.month0())
}

impl StandingPeriods {
    /// The periods of `terms`: a day each for a copy; a week (or a calendar month when
    /// the request names it) each for a computation.
    pub fn of(terms: &RequestTerms) -> StandingPeriods {
        let length = match (terms.delivery, terms.period) {
            (Delivery::Copy, _) => PeriodLength::Days(COPY_PERIOD_DAYS),
            (Delivery::Compute { .. }, Some(ComputePeriod::Month)) => PeriodLength::CalendarMonth,
            (Delivery::Compute { .. }, _) => PeriodLength::Days(COMPUTE_PERIOD_DAYS),
        };
        StandingPeriods {
            first: terms.from,
            last: terms.to,
            length,
        }
    }

    /// How many periods there are.
    pub fn count(&self) -> u32 {
        let count = match self.length {
            PeriodLength::Days(days) => {
                let span = (self.last - self.first).num_days() + 1;
                let days = i64::from(days.max(1));
                (span + days - 1) / days
            }
            PeriodLength::CalendarMonth => month_number(self.last) - month_number(self.first) + 1,
        };
        u32::try_from(count).unwrap_or(0)
    }

    /// Period `index`'s first and last day; `None` past the last period.
    pub fn period(&self, index: u32) -> Option<(NaiveDate, NaiveDate)> {
        if index >= self.count() {
            return None;
        }
        let (from, to) = match self.length {
            PeriodLength::Days(days) => {
                let days = u64::from(days.max(1));
                let from = self
                    .first
                    .checked_add_days(chrono::Days::new(u64::from(index) * days))?;
                (from, from.checked_add_days(chrono::Days::new(days - 1))?)
            }
            PeriodLength::CalendarMonth => {
                let start = self
                    .first
                    .with_day(1)?
                    .checked_add_months(chrono::Months::new(index))?;
                let end = start
                    .checked_add_months(chrono::Months::new(1))?
                    .pred_opt()?;
                (start.max(self.first), end)
            }
        };
        Some((from, to.min(self.last)))
    }

    /// The periods a sync on `today` revisits for late uploads: those before `next`
    /// (already passed) whose last day lies within [`LATE_WINDOW_DAYS`] before `today`.
    pub fn late_window(&self, next: u32, today: NaiveDate) -> Vec<u32> {
        let start = today
            .checked_sub_days(chrono::Days::new(u64::from(LATE_WINDOW_DAYS)))
            .unwrap_or(NaiveDate::MIN);
        (0..next.min(self.count()))
            .filter(|&i| {
                self.period(i)
                    .is_some_and(|(_, to)| to >= start && to < today)
            })
            .collect()
    }

    /// Whether no late upload can reach any period any more on `today`: the last
    /// period ended more than [`LATE_WINDOW_DAYS`] before it.
    pub fn closed_on(&self, today: NaiveDate) -> bool {
        self.count()
            .checked_sub(1)
            .and_then(|last| self.period(last))
            .is_none_or(|(_, to)| {
                to.checked_add_days(chrono::Days::new(u64::from(LATE_WINDOW_DAYS)))
                    .is_none_or(|end| end < today)
            })
    }

    /// How many periods are complete on `today` (their last day is before it).
    pub fn complete_before(&self, today: NaiveDate) -> u32 {
        (0..self.count())
            .take_while(|&i| self.period(i).is_some_and(|(_, to)| to < today))
            .count()
            .try_into()
            .unwrap_or(u32::MAX)
    }
}

/// The last day wholly before a grant expiring at `expires_at` (unix ms); `None` when
/// it does not expire.
pub fn last_day_before_expiry(expires_at: Option<u64>) -> Option<NaiveDate> {
    let at = i64::try_from(expires_at?).unwrap_or(i64::MAX);
    let day = DateTime::from_timestamp_millis(at)
        .map_or(NaiveDate::MAX, |t| t.date_naive())
        .pred_opt()
        .unwrap_or(NaiveDate::MIN);
    Some(day)
}

/// The days of `period` that lie in the approved days `from..=to`, if any.
pub fn clip(
    period: (NaiveDate, NaiveDate),
    from: NaiveDate,
    to: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    let (a, b) = (period.0.max(from), period.1.min(to));
    (a <= b).then_some((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 5, d).expect("day")
    }

    fn periods(from: u32, to: u32, days: u32) -> StandingPeriods {
        StandingPeriods {
            first: day(from),
            last: day(to),
            length: PeriodLength::Days(days),
        }
    }

    #[test]
    fn calendar_months_are_clipped_to_the_request() {
        let date = |m: u32, d: u32| NaiveDate::from_ymd_opt(2024, m, d).expect("date");
        let months = StandingPeriods {
            first: date(1, 15),
            last: date(3, 10),
            length: PeriodLength::CalendarMonth,
        };
        assert_eq!(months.count(), 3);
        assert_eq!(months.period(0), Some((date(1, 15), date(1, 31))));
        assert_eq!(months.period(1), Some((date(2, 1), date(2, 29))));
        assert_eq!(months.period(2), Some((date(3, 1), date(3, 10))));
        assert_eq!(months.period(3), None);
        assert_eq!(months.complete_before(date(2, 29)), 1);
        assert_eq!(months.complete_before(date(3, 1)), 2);
        let across_years = StandingPeriods {
            first: date(12, 1),
            last: NaiveDate::from_ymd_opt(2025, 1, 31).expect("date"),
            length: PeriodLength::CalendarMonth,
        };
        assert_eq!(across_years.count(), 2);
        assert_eq!(
            across_years.period(1),
            Some((
                NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"),
                NaiveDate::from_ymd_opt(2025, 1, 31).expect("date")
            ))
        );
    }

    #[test]
    fn periods_cut_the_request_from_its_first_day() {
        let weeks = periods(1, 21, 7);
        assert_eq!(weeks.count(), 3);
        assert_eq!(weeks.period(0), Some((day(1), day(7))));
        assert_eq!(weeks.period(2), Some((day(15), day(21))));
        assert_eq!(weeks.period(3), None);
        let ragged = periods(1, 10, 7);
        assert_eq!(ragged.count(), 2);
        assert_eq!(ragged.period(1), Some((day(8), day(10))));
        let days = periods(3, 5, 1);
        assert_eq!(days.count(), 3);
        assert_eq!(days.period(1), Some((day(4), day(4))));
    }

    #[test]
    fn a_period_is_complete_once_its_last_day_is_over() {
        let weeks = periods(1, 21, 7);
        assert_eq!(weeks.complete_before(day(7)), 0);
        assert_eq!(weeks.complete_before(day(8)), 1);
        assert_eq!(weeks.complete_before(day(22)), 3);
        assert_eq!(weeks.complete_before(day(30)), 3);
    }

    #[test]
    fn late_uploads_are_revisited_within_the_window_only() {
        let days = periods(1, 30, 1);
        // On day 20, periods up to day 19 passed; the window reaches back to day 6.
        assert_eq!(days.late_window(19, day(20)), (5..19).collect::<Vec<_>>());
        // Periods not passed yet are not revisited.
        assert_eq!(days.late_window(2, day(20)), Vec::<u32>::new());
        assert_eq!(days.late_window(3, day(4)), vec![0, 1, 2]);
        let after = |n: u64| day(30).checked_add_days(chrono::Days::new(n)).expect("day");
        assert!(!days.closed_on(day(31)));
        assert!(!days.closed_on(after(14)));
        assert!(days.closed_on(after(15)));
    }

    #[test]
    fn expiry_keeps_only_whole_days_before_it() {
        assert_eq!(last_day_before_expiry(None), None);
        let midnight = day(10).and_hms_opt(0, 0, 0).expect("t").and_utc();
        let ms = |t: chrono::DateTime<chrono::Utc>| u64::try_from(t.timestamp_millis()).ok();
        assert_eq!(last_day_before_expiry(ms(midnight)), Some(day(9)));
        let noon = day(10).and_hms_opt(12, 0, 0).expect("t").and_utc();
        assert_eq!(last_day_before_expiry(ms(noon)), Some(day(9)));
        assert_eq!(
            clip((day(1), day(7)), day(3), day(9)),
            Some((day(3), day(7)))
        );
        assert_eq!(clip((day(1), day(7)), day(8), day(9)), None);
    }

    #[test]
    fn ids_are_pinned_and_distinct_per_delivery() {
        let mut preimage = b"carchain/standing-delivery/v2".to_vec();
        preimage.extend_from_slice(&[7; 32]);
        preimage.extend_from_slice(&2u32.to_be_bytes());
        let expected: [u8; 32] = Sha256::digest(&preimage).into();
        assert_eq!(delivery_request_id(&[7; 32], 2), expected);
        assert_ne!(delivery_request_id(&[7; 32], 1), expected);
        assert_ne!(delivery_request_id(&[8; 32], 2), expected);
        let mut preimage = b"carchain/standing-delivery-grant/v2".to_vec();
        preimage.extend_from_slice(&[7; 32]);
        preimage.extend_from_slice(&[9; 32]);
        let expected: [u8; 32] = Sha256::digest(&preimage).into();
        assert_eq!(delivery_grant_id(&[7; 32], &[9; 32]), expected);
        assert_ne!(delivery_grant_id(&[7; 32], &[8; 32]), expected);
        assert_eq!(
            standing_anchor_code_hash().to_vec(),
            Sha256::digest(b"carchain/standing-grant/v2").to_vec()
        );
    }

    #[test]
    fn codes_are_stable() {
        assert_eq!(
            StandingError::CursorPastEnd { cursor: 3 }.code(),
            "standing.cursor_past_end"
        );
        assert_eq!(
            StandingError::OutOfScope {
                period: 1,
                reason: String::new()
            }
            .code(),
            "standing.out_of_scope"
        );
    }
}
