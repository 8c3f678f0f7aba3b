//! The claims an auditor countersigns: a car's mileage over a period
//! ([`MileageClaim`], in a canonical text form), and the claim that appoints an auditor.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate};

use super::error::{AuditError, AuditResult};

/// The claim that makes its subject (a provider's address) an auditor.
pub const AUDITOR_CLAIM: &str = "registered-auditor";
/// First word of a mileage completeness claim.
pub const MILEAGE_CLAIM_TAG: &str = "mileage-complete/v1";

/// A mileage completeness claim: car `vid` drove `trips` trips totalling `total_m`
/// metres between `from` and `to` (inclusive, by trip start, UTC), counting every trip
/// under every pool address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MileageClaim {
    /// The car.
    pub vid: String,
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// Number of trips.
    pub trips: u64,
    /// Total distance, metres.
    pub total_m: u64,
}

impl MileageClaim {
    /// The canonical claim text:
    /// `mileage-complete/v1 vid=<vid> from=<YYYY-MM-DD> to=<YYYY-MM-DD> trips=<n> metres=<m>`.
    pub fn to_text(&self) -> AuditResult<String> {
        self.check()?;
        Ok(format!(
            "{MILEAGE_CLAIM_TAG} vid={} from={} to={} trips={} metres={}",
            self.vid,
            self.from.format("%Y-%m-%d"),
            self.to.format("%Y-%m-%d"),
            self.trips,
            self.total_m
        ))
    }

    /// Parses [`Self::to_text`]'s form.
    pub fn parse(text: &str) -> AuditResult<Self> {
        let bad = |why: &str| AuditError::InvalidClaim(why.to_owned());
        let mut words = text.split(' ');
        if words.next() != Some(MILEAGE_CLAIM_TAG) {
            return Err(bad("not a mileage claim"));
        }
        let mut fields = BTreeMap::new();
        for word in words {
            let (name, value) = word
                .split_once('=')
                .ok_or_else(|| bad("a field without '='"))?;
            if fields.insert(name, value).is_some() {
                return Err(bad("a repeated field"));
            }
        }
        let field = |name: &str| {
            fields
                .get(name)
                .copied()
                .ok_or_else(|| bad("a missing field"))
        };
        let date = |name: &str| {
            NaiveDate::parse_from_str(field(name)?, "%Y-%m-%d").map_err(|_| bad("a bad date"))
        };
        let number = |name: &str| field(name)?.parse::<u64>().map_err(|_| bad("a bad number"));
        if fields.len() != 5 {
            return Err(bad("unknown fields"));
        }
        let claim = MileageClaim {
            vid: field("vid")?.to_owned(),
            from: date("from")?,
            to: date("to")?,
            trips: number("trips")?,
            total_m: number("metres")?,
        };
        claim.check()?;
        Ok(claim)
    }

    pub(super) fn check(&self) -> AuditResult<()> {
        let vid_ok =
            !self.vid.is_empty() && self.vid.chars().all(|c| c.is_ascii_graphic() && c != '=');
        if !vid_ok {
            return Err(AuditError::InvalidClaim(
                "a VID is printable ASCII without spaces or '='".into(),
            ));
        }
        if self.to < self.from {
            return Err(AuditError::InvalidClaim(
                "the period ends before it starts".into(),
            ));
        }
        Ok(())
    }

    pub(super) fn covers(&self, start_unix: i64) -> bool {
        DateTime::from_timestamp(start_unix, 0)
            .map(|t| t.date_naive())
            .is_some_and(|day| self.from <= day && day <= self.to)
    }
}

#[cfg(test)]
pub(super) fn sample_claim() -> MileageClaim {
    MileageClaim {
        vid: "VIN-GRANTS-1".into(),
        from: NaiveDate::from_ymd_opt(2024, 5, 1).unwrap_or_default(),
        to: NaiveDate::from_ymd_opt(2024, 5, 5).unwrap_or_default(),
        trips: 5,
        total_m: 12_345,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim() -> MileageClaim {
        sample_claim()
    }

    #[test]
    fn the_claim_text_is_pinned_and_round_trips() {
        let text = claim().to_text().expect("text");
        assert_eq!(
            text,
            "mileage-complete/v1 vid=VIN-GRANTS-1 from=2024-05-01 to=2024-05-05 trips=5 metres=12345"
        );
        assert_eq!(MileageClaim::parse(&text).expect("parse"), claim());
    }

    #[test]
    fn malformed_claims_are_refused() {
        let good = claim().to_text().expect("text");
        for bad in [
            "",
            "registered-auditor",
            &good.replace("mileage-complete/v1", "mileage/v0"),
            &good.replace("trips=5", "trips=five"),
            &good.replace("from=2024-05-01", "from=2024-13-01"),
            &good.replace(" metres=12345", ""),
            &format!("{good} extra=1"),
            &format!("{good} trips=6"),
            &good.replace("trips=5", "trips5"),
            &good.replace("from=2024-05-01", "from=2024-06-01"),
        ] {
            assert!(
                matches!(MileageClaim::parse(bad), Err(AuditError::InvalidClaim(_))),
                "{bad}"
            );
        }
        for vid in ["", "two words", "a=b"] {
            let claim = MileageClaim {
                vid: vid.into(),
                ..claim()
            };
            assert!(matches!(claim.to_text(), Err(AuditError::InvalidClaim(_))));
        }
    }

    #[test]
    fn the_period_is_inclusive_by_utc_start_day() {
        let start = |y, m, d, h| {
            NaiveDate::from_ymd_opt(y, m, d)
                .and_then(|day| day.and_hms_opt(h, 0, 0))
                .expect("time")
                .and_utc()
                .timestamp()
        };
        assert!(claim().covers(start(2024, 5, 1, 0)));
        assert!(claim().covers(start(2024, 5, 5, 23)));
        assert!(!claim().covers(start(2024, 4, 30, 23)));
        assert!(!claim().covers(start(2024, 5, 6, 0)));
    }
}
