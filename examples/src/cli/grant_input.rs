//! Parsing the grant commands' inputs into input errors (exit 3): 32-byte hex ids and
//! code hashes, privacy zones `LAT,LNG,R`, privilege names, and the owner's narrowing
//! of a request from `--days`, `--fields`, `--privacy-zone` and `--approximate`.

use carchain_core::grants::{Narrowing, Privilege, RequestTerms};
use carchain_core::trip::PrivacyZone;
use chrono::Days;

use super::error::CliError;

/// Parses a 32-byte hex value (an id or code hash) named `flag`.
pub fn parse_hex32(flag: &str, text: &str) -> Result<[u8; 32], CliError> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| {
        CliError::Input(format!(
            "{flag} `{text}` is not 32 bytes of hex (64 hex digits)"
        ))
    })?;
    Ok(bytes)
}

/// Parses a `--privacy-zone` `LAT,LNG,RADIUS_M` (degrees, degrees, metres).
pub fn parse_privacy_zone(text: &str) -> Result<PrivacyZone, CliError> {
    let bad = |why: String| CliError::Input(format!("--privacy-zone `{text}`: {why}"));
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [lat, lng, radius] = parts.as_slice() else {
        return Err(bad("expected LAT,LNG,RADIUS_M".into()));
    };
    let number = |name: &str, part: &str| -> Result<f64, CliError> {
        part.parse::<f64>()
            .ok()
            .filter(|value| value.is_finite())
            .ok_or_else(|| bad(format!("{name} `{part}` is not a number")))
    };
    let (lat, lng, radius) = (
        number("latitude", lat)?,
        number("longitude", lng)?,
        number("radius", radius)?,
    );
    PrivacyZone::new(lat, lng, radius).map_err(|e| bad(e.to_string()))
}

/// Parses privilege names (`location_history`, `approximate_location`,
/// `non_location`, `vin`).
pub fn parse_privileges(names: &[String]) -> Result<Vec<Privilege>, CliError> {
    names
        .iter()
        .map(|name| {
            Privilege::parse(name.trim()).ok_or_else(|| {
                let known: Vec<&str> = Privilege::ALL.iter().map(|p| p.as_str()).collect();
                CliError::Input(format!(
                    "--fields: unknown privilege `{name}` (known: {})",
                    known.join(", ")
                ))
            })
        })
        .collect()
}

/// The owner's narrowing flags, before the request's terms are known.
#[derive(Debug, Clone, PartialEq)]
pub struct NarrowingFlags {
    /// `--days N`: only the first N days of the requested period.
    pub days: Option<u32>,
    /// `--fields`: a subset of the privileges (all when `None`).
    pub fields: Option<Vec<Privilege>>,
    /// `--privacy-zone`s.
    pub privacy_zones: Vec<PrivacyZone>,
    /// `--approximate`.
    pub approximate: bool,
}

impl NarrowingFlags {
    /// Parses the flags; a bad zone, an unknown privilege or `--days 0` is an input error.
    pub fn parse(
        days: Option<u32>,
        fields: &[String],
        zones: &[String],
        approximate: bool,
    ) -> Result<NarrowingFlags, CliError> {
        if days == Some(0) {
            return Err(CliError::Input("--days must be at least 1".into()));
        }
        Ok(NarrowingFlags {
            days,
            fields: if fields.is_empty() {
                None
            } else {
                Some(parse_privileges(fields)?)
            },
            privacy_zones: zones
                .iter()
                .map(|zone| parse_privacy_zone(zone))
                .collect::<Result<_, _>>()?,
            approximate,
        })
    }

    /// The narrowing of a request with `terms`: `--days N` keeps the first N days, which
    /// must fit in the requested period.
    pub fn narrowing(&self, terms: &RequestTerms) -> Result<Narrowing, CliError> {
        let days = match self.days {
            None => None,
            Some(n) => {
                let last = terms
                    .from
                    .checked_add_days(Days::new(u64::from(n.saturating_sub(1))))
                    .filter(|last| *last <= terms.to)
                    .ok_or_else(|| {
                        CliError::Input(format!(
                            "--days {n} is longer than the requested period {}..{}",
                            terms.from, terms.to
                        ))
                    })?;
                Some((terms.from, last))
            }
        };
        Ok(Narrowing {
            days,
            fields: self.fields.clone(),
            privacy_zones: self.privacy_zones.clone(),
            approximate: self.approximate,
            expires_at: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use carchain_core::grants::Delivery;
    use chrono::NaiveDate;

    fn terms() -> RequestTerms {
        RequestTerms::parse(
            &["trip-gps".into()],
            "2024-05-01",
            "2024-05-05",
            &["location_history".into(), "vin".into()],
        )
        .unwrap()
    }

    #[test]
    fn ids_are_64_hex_digits() {
        let id = "ab".repeat(32);
        assert_eq!(parse_hex32("--id", &id).unwrap(), [0xAB; 32]);
        for bad in ["", "abcd", &"zz".repeat(32), &"ab".repeat(33)] {
            let err = parse_hex32("--id", bad).unwrap_err();
            assert_eq!(err.exit_code(), 3);
            assert!(err.to_string().contains("--id"), "{err}");
        }
    }

    #[test]
    fn zones_parse_or_say_what_is_wrong() {
        let zone = parse_privacy_zone("31.2, 121.4,300").unwrap();
        assert_eq!(zone, PrivacyZone::new(31.2, 121.4, 300.0).unwrap());
        for (bad, needle) in [
            ("31.2,121.4", "LAT,LNG,RADIUS_M"),
            ("31.2,121.4,300,1", "LAT,LNG,RADIUS_M"),
            ("north,121.4,300", "latitude"),
            ("31.2,121.4,NaN", "radius"),
            ("91,121.4,300", "--privacy-zone"),
            ("31.2,121.4,-5", "--privacy-zone"),
        ] {
            let err = parse_privacy_zone(bad).unwrap_err();
            assert_eq!(err.exit_code(), 3, "{bad}");
            assert!(err.to_string().contains(needle), "{bad}: {err}");
        }
    }

    #[test]
    fn privileges_by_name() {
        assert_eq!(
            parse_privileges(&["vin".into(), "non_location".into()]).unwrap(),
            [Privilege::Vin, Privilege::NonLocation]
        );
        let err = parse_privileges(&["gps".into()]).unwrap_err();
        assert!(err.to_string().contains("unknown privilege `gps`"), "{err}");
    }

    #[test]
    fn days_keep_the_first_n_days_inside_the_period() {
        let flags = NarrowingFlags::parse(Some(2), &["vin".into()], &[], false).unwrap();
        let narrowing = flags.narrowing(&terms()).unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2024, 5, d).unwrap();
        assert_eq!(narrowing.days, Some((day(1), day(2))));
        assert_eq!(narrowing.fields, Some(vec![Privilege::Vin]));
        assert!(!narrowing.approximate);
        let whole = NarrowingFlags::parse(Some(5), &[], &[], true).unwrap();
        let narrowing = whole.narrowing(&terms()).unwrap();
        assert_eq!(narrowing.days, Some((day(1), day(5))));
        assert_eq!(narrowing.fields, None);
        assert!(narrowing.approximate);
        let none = NarrowingFlags::parse(None, &[], &[], false).unwrap();
        assert_eq!(none.narrowing(&terms()).unwrap(), Narrowing::default());
        assert_eq!(terms().delivery, Delivery::Copy);
    }

    #[test]
    fn bad_narrowing_flags_are_input_errors() {
        let long = NarrowingFlags::parse(Some(6), &[], &[], false).unwrap();
        let err = long.narrowing(&terms()).unwrap_err();
        assert_eq!(err.exit_code(), 3);
        assert!(err.to_string().contains("--days 6"), "{err}");
        let zero = NarrowingFlags::parse(Some(0), &[], &[], false).unwrap_err();
        assert!(zero.to_string().contains("at least 1"), "{zero}");
        let zone = NarrowingFlags::parse(None, &[], &["1,2".into()], false).unwrap_err();
        assert!(zone.to_string().contains("--privacy-zone"), "{zone}");
    }
}
