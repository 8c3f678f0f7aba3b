//! What a provider asks for and what the owner lets through: the privilege vocabulary
//! of a request's `fields`, the computation a request names, and the owner's
//! [`Narrowing`] of a request into the [`ApprovedScope`] actually delivered.
//!
//! A `DataRequest` carries its wishes in two lists. `formats` names record formats
//! (`trip-gps`, `VIN_CODE`, ...). `fields` holds privileges ([`Privilege`]) and, for a
//! computation (usage grant), one entry `compute:<64 hex>` naming the registered code
//! hash; without it the request asks for a copy. A computation may name how often a
//! standing grant delivers a result, with one entry `period:week` (the default, also
//! when absent: requests made before this entry existed read the same) or
//! `period:month` (each calendar month); a copy is delivered day by day and names none.
//! Older readers refuse a request naming a period (an unknown privilege): nothing is
//! delivered on terms they cannot read.

use chrono::NaiveDate;

use super::error::{GrantsError, GrantsResult};
use super::standing::StandingError;
use crate::record::{TRIP_GPS, VIN_CODE};
use crate::trip::PrivacyZone;

/// Prefix of the `fields` entry that names a computation's code hash.
pub const COMPUTE_FIELD_PREFIX: &str = "compute:";
/// Prefix of the `fields` entry that names a standing computation's period.
pub const PERIOD_FIELD_PREFIX: &str = "period:";

/// How often a standing computation grant delivers a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComputePeriod {
    /// Every 7 days from the request's first day (`period:week`, the default).
    Week,
    /// Every calendar month (`period:month`): the first period runs from the
    /// request's first day to the end of its month, the last from the first of the
    /// last month to the request's last day.
    Month,
}

impl ComputePeriod {
    /// The name used in a request's `fields` after [`PERIOD_FIELD_PREFIX`].
    pub fn as_str(self) -> &'static str {
        match self {
            ComputePeriod::Week => "week",
            ComputePeriod::Month => "month",
        }
    }

    /// Parses a period name (`week`, `month`).
    pub fn parse(name: &str) -> Option<ComputePeriod> {
        [ComputePeriod::Week, ComputePeriod::Month]
            .into_iter()
            .find(|p| p.as_str() == name)
    }
}
/// Decimals coordinates are rounded to when only approximate location is granted
/// (about 1 km).
pub const APPROXIMATE_DECIMALS: u32 = 2;
/// Longest period a request may span, in days.
pub const MAX_REQUEST_DAYS: i64 = 366;

/// A kind of data a provider may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Privilege {
    /// Exact positions over time (`location_history`).
    LocationHistory,
    /// Positions rounded to about 1 km (`approximate_location`).
    ApproximateLocation,
    /// Figures without positions: times, speeds, distances (`non_location`).
    NonLocation,
    /// The car's identity record (`vin`).
    Vin,
}

impl Privilege {
    /// Every privilege.
    pub const ALL: [Privilege; 4] = [
        Privilege::LocationHistory,
        Privilege::ApproximateLocation,
        Privilege::NonLocation,
        Privilege::Vin,
    ];

    /// The name used in a request's `fields`.
    pub fn as_str(self) -> &'static str {
        match self {
            Privilege::LocationHistory => "location_history",
            Privilege::ApproximateLocation => "approximate_location",
            Privilege::NonLocation => "non_location",
            Privilege::Vin => "vin",
        }
    }

    /// Parses a `fields` entry.
    pub fn parse(name: &str) -> Option<Privilege> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The record format a copy of this privilege delivers, if it maps to one.
    pub fn copy_format(self) -> Option<&'static str> {
        match self {
            Privilege::LocationHistory => Some(TRIP_GPS),
            Privilege::Vin => Some(VIN_CODE),
            Privilege::ApproximateLocation | Privilege::NonLocation => None,
        }
    }
}

/// What a request delivers: a copy of records or a computation's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Record keys re-wrapped for the provider (the seed's `send`).
    Copy,
    /// Only the result of the registered computation with this code hash.
    Compute {
        /// SHA-256 of the program's creation code.
        code_hash: [u8; 32],
    },
}

/// A request's terms, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestTerms {
    /// Record formats asked for.
    pub formats: Vec<String>,
    /// First day asked for.
    pub from: NaiveDate,
    /// Last day asked for.
    pub to: NaiveDate,
    /// Privileges asked for.
    pub privileges: Vec<Privilege>,
    /// Copy or computation.
    pub delivery: Delivery,
    /// A computation's period when the request names one (`None`: weekly); always
    /// `None` for a copy.
    pub period: Option<ComputePeriod>,
}

/// Parses a `YYYY-MM-DD` date.
pub fn parse_date(text: &str) -> GrantsResult<NaiveDate> {
    let bad = || GrantsError::InvalidTerms(format!("`{text}` is not a YYYY-MM-DD date"));
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| bad())?;
    // chrono accepts `2024-3-1`; the ledger form is the zero-padded one only.
    if date.format("%Y-%m-%d").to_string() != text {
        return Err(bad());
    }
    Ok(date)
}

/// The `fields` entry naming a computation.
pub fn compute_field(code_hash: &[u8; 32]) -> String {
    format!("{COMPUTE_FIELD_PREFIX}{}", hex::encode(code_hash))
}

impl RequestTerms {
    /// The terms a ledger request names (see [`Self::parse`]).
    pub fn of_request(request: &crate::protocol::RequestState) -> GrantsResult<RequestTerms> {
        RequestTerms::parse(
            &request.formats,
            &request.from_date,
            &request.to_date,
            &request.fields,
        )
    }

    /// Parses the request's lists; unknown privileges, a malformed compute entry, two
    /// compute entries, no format, or a bad period are [`GrantsError::InvalidTerms`].
    pub fn parse(
        formats: &[String],
        from_date: &str,
        to_date: &str,
        fields: &[String],
    ) -> GrantsResult<RequestTerms> {
        if formats.is_empty() || formats.iter().any(String::is_empty) {
            return Err(GrantsError::InvalidTerms(
                "no record format asked for".into(),
            ));
        }
        let (from, to) = (parse_date(from_date)?, parse_date(to_date)?);
        if from > to {
            return Err(GrantsError::InvalidTerms(
                "the period ends before it starts".into(),
            ));
        }
        if (to - from).num_days() >= MAX_REQUEST_DAYS {
            return Err(GrantsError::InvalidTerms(format!(
                "the period spans more than {MAX_REQUEST_DAYS} days"
            )));
        }
        let mut privileges = Vec::new();
        let mut delivery = Delivery::Copy;
        let mut period = None;
        for field in fields {
            if let Some(name) = field.strip_prefix(PERIOD_FIELD_PREFIX) {
                let parsed = ComputePeriod::parse(name).ok_or_else(|| {
                    StandingError::InvalidPeriod(format!("unknown period `{name}`"))
                })?;
                if period.replace(parsed).is_some() {
                    return Err(StandingError::InvalidPeriod("two periods named".into()).into());
                }
            } else if let Some(hex_hash) = field.strip_prefix(COMPUTE_FIELD_PREFIX) {
                if delivery != Delivery::Copy {
                    return Err(GrantsError::InvalidTerms("two computations named".into()));
                }
                let mut code_hash = [0u8; 32];
                hex::decode_to_slice(hex_hash, &mut code_hash).map_err(|_| {
                    GrantsError::InvalidTerms(format!("`{field}` is not a 32-byte hex code hash"))
                })?;
                delivery = Delivery::Compute { code_hash };
            } else {
                let privilege = Privilege::parse(field).ok_or_else(|| {
                    GrantsError::InvalidTerms(format!("unknown privilege `{field}`"))
                })?;
                if !privileges.contains(&privilege) {
                    privileges.push(privilege);
                }
            }
        }
        if privileges.is_empty() {
            return Err(GrantsError::InvalidTerms("no privilege asked for".into()));
        }
        if period.is_some() && delivery == Delivery::Copy {
            return Err(StandingError::InvalidPeriod(
                "a copy is delivered day by day: only a computation names a period".into(),
            )
            .into());
        }
        privileges.sort();
        Ok(RequestTerms {
            formats: formats.to_vec(),
            from,
            to,
            privileges,
            delivery,
            period,
        })
    }

    /// The request's `fields` list for these terms (privileges, then the computation).
    pub fn to_fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = self
            .privileges
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect();
        if let Delivery::Compute { code_hash } = &self.delivery {
            fields.push(compute_field(code_hash));
        }
        if let Some(period) = self.period {
            fields.push(format!("{PERIOD_FIELD_PREFIX}{}", period.as_str()));
        }
        fields
    }
}

/// How the owner narrows a request on approval. The default narrows nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Narrowing {
    /// A shorter period `(from, to)` inside the requested one.
    pub days: Option<(NaiveDate, NaiveDate)>,
    /// A subset of the requested privileges.
    pub fields: Option<Vec<Privilege>>,
    /// Places whose surroundings are cut from the ends of every trip before a
    /// computation; a copy leaves out trips that enter any of them (a copy's payload
    /// cannot be changed).
    pub privacy_zones: Vec<PrivacyZone>,
    /// Round positions to about 1 km before a computation (not possible for a copy).
    pub approximate: bool,
    /// When the grant ends (ledger time, unix ms); `None`: until it is revoked or
    /// renounced or the car changes owner. The ledger refuses a time already past.
    pub expires_at: Option<u64>,
}

/// What the owner approved: the request narrowed.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovedScope {
    /// First day delivered.
    pub from: NaiveDate,
    /// Last day delivered.
    pub to: NaiveDate,
    /// Privileges granted.
    pub privileges: Vec<Privilege>,
    /// Record formats delivered.
    pub formats: Vec<String>,
    /// Privacy zones applied.
    pub privacy_zones: Vec<PrivacyZone>,
    /// Decimals positions are rounded to before a computation, if any.
    pub approximate_decimals: Option<u32>,
    /// Copy or computation.
    pub delivery: Delivery,
}

impl Narrowing {
    /// Applies the narrowing to `terms`. Asking for more than the request (a longer
    /// period, a privilege not asked for) or approximating a copy is
    /// [`GrantsError::InvalidNarrowing`].
    pub fn apply(&self, terms: &RequestTerms) -> GrantsResult<ApprovedScope> {
        let (from, to) = match self.days {
            None => (terms.from, terms.to),
            Some((from, to)) if from <= to && from >= terms.from && to <= terms.to => (from, to),
            Some(_) => {
                return Err(GrantsError::InvalidNarrowing(format!(
                    "the days must lie within {}..{}",
                    terms.from, terms.to
                )));
            }
        };
        let privileges = match &self.fields {
            None => terms.privileges.clone(),
            Some(fields) => {
                if let Some(extra) = fields.iter().find(|p| !terms.privileges.contains(p)) {
                    return Err(GrantsError::InvalidNarrowing(format!(
                        "`{}` was not asked for",
                        extra.as_str()
                    )));
                }
                let mut kept = fields.clone();
                kept.sort();
                kept.dedup();
                kept
            }
        };
        if privileges.is_empty() {
            return Err(GrantsError::InvalidNarrowing("no privilege left".into()));
        }
        let location = privileges.contains(&Privilege::LocationHistory);
        let approximate_only = !location && privileges.contains(&Privilege::ApproximateLocation);
        let approximate_decimals = match terms.delivery {
            Delivery::Copy if self.approximate => {
                return Err(GrantsError::InvalidNarrowing(
                    "a copy delivers records unchanged: it cannot be approximated".into(),
                ));
            }
            Delivery::Copy => None,
            Delivery::Compute { .. } if self.approximate || approximate_only => {
                Some(APPROXIMATE_DECIMALS)
            }
            Delivery::Compute { .. } => None,
        };
        let formats = match terms.delivery {
            Delivery::Copy => terms
                .formats
                .iter()
                .filter(|f| {
                    privileges
                        .iter()
                        .any(|p| p.copy_format() == Some(f.as_str()))
                })
                .cloned()
                .collect(),
            Delivery::Compute { .. } => {
                if !location && !approximate_only {
                    return Err(GrantsError::InvalidNarrowing(
                        "a trip computation needs location or approximate location".into(),
                    ));
                }
                terms.formats.clone()
            }
        };
        Ok(ApprovedScope {
            from,
            to,
            privileges,
            formats,
            privacy_zones: self.privacy_zones.clone(),
            approximate_decimals,
            delivery: terms.delivery,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 3, d).unwrap_or_default()
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn compute_terms() -> RequestTerms {
        RequestTerms::parse(
            &strings(&["trip-gps"]),
            "2024-03-01",
            "2024-03-30",
            &[
                "location_history".into(),
                "non_location".into(),
                compute_field(&[0xab; 32]),
            ],
        )
        .expect("terms")
    }

    #[test]
    fn terms_round_trip_through_fields() {
        let terms = compute_terms();
        assert_eq!(terms.from, day(1));
        assert_eq!(terms.to, day(30));
        assert_eq!(
            terms.delivery,
            Delivery::Compute {
                code_hash: [0xab; 32]
            }
        );
        assert_eq!(
            terms.to_fields(),
            vec![
                "location_history".to_owned(),
                "non_location".to_owned(),
                format!("compute:{}", "ab".repeat(32)),
            ]
        );
        let again = RequestTerms::parse(
            &terms.formats,
            "2024-03-01",
            "2024-03-30",
            &terms.to_fields(),
        )
        .expect("again");
        assert_eq!(again, terms);
    }

    #[test]
    fn bad_terms_are_refused() {
        let f = strings(&["trip-gps"]);
        let loc = strings(&["location_history"]);
        let cases: [(&[String], &str, &str, Vec<String>); 7] = [
            (&[], "2024-03-01", "2024-03-02", loc.clone()),
            (&f, "2024-3-1", "2024-03-02", loc.clone()),
            (&f, "2024-03-05", "2024-03-02", loc.clone()),
            (&f, "2024-01-01", "2025-01-02", loc.clone()),
            (&f, "2024-03-01", "2024-03-02", strings(&["gps"])),
            (
                &f,
                "2024-03-01",
                "2024-03-02",
                strings(&["location_history", "compute:zz"]),
            ),
            (&f, "2024-03-01", "2024-03-02", vec![]),
        ];
        for (formats, from, to, fields) in cases {
            assert!(
                matches!(
                    RequestTerms::parse(formats, from, to, &fields),
                    Err(GrantsError::InvalidTerms(_))
                ),
                "{formats:?} {from} {to} {fields:?}"
            );
        }
    }

    #[test]
    fn a_computation_names_its_period_and_a_bad_one_is_refused() {
        let fields = |extra: &[&str]| {
            let mut fields = strings(&["location_history", "non_location"]);
            fields.push(compute_field(&[0xab; 32]));
            fields.extend(strings(extra));
            fields
        };
        let parse = |fields: &[String]| {
            RequestTerms::parse(&strings(&["trip-gps"]), "2024-03-01", "2024-04-30", fields)
        };
        assert_eq!(parse(&fields(&[])).expect("weekly").period, None);
        let monthly = parse(&fields(&["period:month"])).expect("monthly");
        assert_eq!(monthly.period, Some(ComputePeriod::Month));
        assert_eq!(
            monthly.to_fields().last().map(String::as_str),
            Some("period:month")
        );
        assert_eq!(parse(&monthly.to_fields()).expect("again"), monthly);
        let weekly = parse(&fields(&["period:week"])).expect("weekly");
        assert_eq!(weekly.period, Some(ComputePeriod::Week));
        for bad in [
            fields(&["period:fortnight"]),
            fields(&["period:"]),
            fields(&["period:Month"]),
            fields(&["period:month", "period:week"]),
            strings(&["location_history", "period:month"]),
        ] {
            match parse(&bad) {
                Err(GrantsError::Standing(err)) => {
                    assert_eq!(err.code(), "standing.invalid_period", "{bad:?}");
                }
                other => panic!("{bad:?} parsed as {other:?}"),
            }
        }
    }

    #[test]
    fn narrowing_shrinks_and_never_widens() {
        let terms = compute_terms();
        let zone = PrivacyZone::new(31.2, 121.4, 300.0).expect("zone");
        let scope = Narrowing {
            days: Some((day(5), day(9))),
            fields: Some(vec![Privilege::LocationHistory]),
            privacy_zones: vec![zone],
            approximate: true,
            expires_at: None,
        }
        .apply(&terms)
        .expect("scope");
        assert_eq!((scope.from, scope.to), (day(5), day(9)));
        assert_eq!(scope.privileges, vec![Privilege::LocationHistory]);
        assert_eq!(scope.privacy_zones, vec![zone]);
        assert_eq!(scope.approximate_decimals, Some(APPROXIMATE_DECIMALS));

        let wider = Narrowing {
            days: Some((
                NaiveDate::from_ymd_opt(2024, 2, 28).unwrap_or_default(),
                day(9),
            )),
            ..Narrowing::default()
        };
        assert!(matches!(
            wider.apply(&terms),
            Err(GrantsError::InvalidNarrowing(_))
        ));
        let extra = Narrowing {
            fields: Some(vec![Privilege::Vin]),
            ..Narrowing::default()
        };
        assert!(matches!(
            extra.apply(&terms),
            Err(GrantsError::InvalidNarrowing(_))
        ));
        let none_left = Narrowing {
            fields: Some(vec![]),
            ..Narrowing::default()
        };
        assert!(matches!(
            none_left.apply(&terms),
            Err(GrantsError::InvalidNarrowing(_))
        ));
        let no_location = Narrowing {
            fields: Some(vec![Privilege::NonLocation]),
            ..Narrowing::default()
        };
        assert!(matches!(
            no_location.apply(&terms),
            Err(GrantsError::InvalidNarrowing(_))
        ));
    }

    #[test]
    fn approximate_only_rounds_and_copies_cannot_be_approximated() {
        let terms = RequestTerms::parse(
            &strings(&["trip-gps"]),
            "2024-03-01",
            "2024-03-02",
            &["approximate_location".into(), compute_field(&[1; 32])],
        )
        .expect("terms");
        let scope = Narrowing::default().apply(&terms).expect("scope");
        assert_eq!(scope.approximate_decimals, Some(APPROXIMATE_DECIMALS));

        let copy = RequestTerms::parse(
            &strings(&["VIN_CODE", "trip-gps"]),
            "2024-03-01",
            "2024-03-02",
            &strings(&["vin", "location_history"]),
        )
        .expect("copy");
        assert_eq!(copy.delivery, Delivery::Copy);
        let vin_only = Narrowing {
            fields: Some(vec![Privilege::Vin]),
            ..Narrowing::default()
        }
        .apply(&copy)
        .expect("vin only");
        assert_eq!(vin_only.formats, vec!["VIN_CODE".to_owned()]);
        assert_eq!(vin_only.approximate_decimals, None);
        let approximated = Narrowing {
            approximate: true,
            ..Narrowing::default()
        };
        assert!(matches!(
            approximated.apply(&copy),
            Err(GrantsError::InvalidNarrowing(_))
        ));
    }
}
