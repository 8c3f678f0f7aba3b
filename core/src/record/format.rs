//! Record formats: a format's name and the ordered list of key fields whose values,
//! in that order, make up a record's key. The seed's three formats are built in;
//! any other format carries its own field order.

use super::error::{RecordError, RecordResult};

/// Name of the built-in trip format (keys: SESSION_ID, START_TIME, END_TIME).
pub const TRIP_GPS: &str = "trip-gps";
/// Name of the built-in traffic-violation format (key: CARVIO_ID).
pub const CARVIO: &str = "carvio";
/// Name of the built-in vehicle identification format (key: VEHICLE_DATA).
pub const VIN_CODE: &str = "VIN_CODE";

/// Longest format name, in bytes.
pub const MAX_FORMAT_NAME_LEN: usize = 64;
/// Most key fields a format may declare.
pub const MAX_KEY_FIELDS: usize = 16;

/// A record format: its name and its key fields in sort order.
///
/// The fields are private so every `FormatSpec` in circulation is valid: a
/// non-empty name of `[A-Za-z0-9_.-]{1,64}` and 1 to 16 distinct, non-empty fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FormatSpec {
    name: String,
    key_fields: Vec<String>,
}

impl FormatSpec {
    /// Describes a format that is not built in, with its own key field order.
    ///
    /// Fails with [`RecordError::InvalidFormatName`] for a bad name,
    /// [`RecordError::NoKeyFields`], [`RecordError::TooManyKeyFields`],
    /// [`RecordError::EmptyKeyFieldName`] or [`RecordError::DuplicateKeyField`] for
    /// bad fields. A name that clashes with a built-in format is accepted here and
    /// refused when registered (see `FormatRegistry::register`).
    pub fn custom<N, I, F>(name: N, key_fields: I) -> RecordResult<Self>
    where
        N: Into<String>,
        I: IntoIterator<Item = F>,
        F: Into<String>,
    {
        let name = name.into();
        validate_name(&name)?;
        let key_fields: Vec<String> = key_fields.into_iter().map(Into::into).collect();
        validate_fields(&name, &key_fields)?;
        Ok(Self { name, key_fields })
    }

    /// The built-in `trip-gps` format: SESSION_ID, START_TIME, END_TIME.
    pub fn trip_gps() -> Self {
        Self::builtin(TRIP_GPS, &["SESSION_ID", "START_TIME", "END_TIME"])
    }

    /// The built-in `carvio` format: CARVIO_ID.
    pub fn carvio() -> Self {
        Self::builtin(CARVIO, &["CARVIO_ID"])
    }

    /// The built-in `VIN_CODE` format: VEHICLE_DATA.
    pub fn vin_code() -> Self {
        Self::builtin(VIN_CODE, &["VEHICLE_DATA"])
    }

    /// All built-in formats.
    pub fn builtins() -> [Self; 3] {
        [Self::trip_gps(), Self::carvio(), Self::vin_code()]
    }

    /// Whether `name` is reserved by a built-in format. The comparison ignores ASCII
    /// case, so `Trip-GPS` cannot pass for `trip-gps`.
    pub fn is_builtin_name(name: &str) -> bool {
        [TRIP_GPS, CARVIO, VIN_CODE]
            .iter()
            .any(|builtin| builtin.eq_ignore_ascii_case(name))
    }

    /// The format's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key fields, in the order they sort by.
    pub fn key_fields(&self) -> &[String] {
        &self.key_fields
    }

    /// Position of `field` in the key, if the format declares it.
    pub fn field_position(&self, field: &str) -> Option<usize> {
        self.key_fields.iter().position(|f| f == field)
    }

    fn builtin(name: &str, fields: &[&str]) -> Self {
        Self {
            name: name.to_owned(),
            key_fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        }
    }
}

fn validate_name(name: &str) -> RecordResult<()> {
    let invalid = |reason| RecordError::InvalidFormatName {
        name: name.to_owned(),
        reason,
    };
    if name.is_empty() {
        return Err(invalid("it is empty"));
    }
    if name.len() > MAX_FORMAT_NAME_LEN {
        return Err(invalid("it is longer than 64 bytes"));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if !name.chars().all(allowed) {
        return Err(invalid("only A-Z, a-z, 0-9, `_`, `.` and `-` are allowed"));
    }
    Ok(())
}

fn validate_fields(format: &str, fields: &[String]) -> RecordResult<()> {
    if fields.is_empty() {
        return Err(RecordError::NoKeyFields {
            format: format.to_owned(),
        });
    }
    if fields.len() > MAX_KEY_FIELDS {
        return Err(RecordError::TooManyKeyFields {
            format: format.to_owned(),
            count: fields.len(),
            max: MAX_KEY_FIELDS,
        });
    }
    for (index, field) in fields.iter().enumerate() {
        if field.is_empty() {
            return Err(RecordError::EmptyKeyFieldName {
                format: format.to_owned(),
            });
        }
        if fields.iter().take(index).any(|earlier| earlier == field) {
            return Err(RecordError::DuplicateKeyField {
                format: format.to_owned(),
                field: field.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_have_the_seed_field_orders() {
        assert_eq!(FormatSpec::trip_gps().name(), "trip-gps");
        assert_eq!(
            FormatSpec::trip_gps().key_fields(),
            ["SESSION_ID", "START_TIME", "END_TIME"]
        );
        assert_eq!(FormatSpec::carvio().key_fields(), ["CARVIO_ID"]);
        assert_eq!(FormatSpec::vin_code().name(), "VIN_CODE");
        assert_eq!(FormatSpec::vin_code().key_fields(), ["VEHICLE_DATA"]);
    }

    #[test]
    fn custom_keeps_its_field_order() {
        let spec = FormatSpec::custom("fuel.v1", ["DAY", "PUMP"]).unwrap();
        assert_eq!(spec.name(), "fuel.v1");
        assert_eq!(spec.key_fields(), ["DAY", "PUMP"]);
        assert_eq!(spec.field_position("PUMP"), Some(1));
        assert_eq!(spec.field_position("NOPE"), None);
    }

    #[test]
    fn custom_accepts_64_byte_name_and_16_fields() {
        let name = "a".repeat(64);
        let fields: Vec<String> = (0..16).map(|i| format!("F{i}")).collect();
        let spec = FormatSpec::custom(name.clone(), fields.clone()).unwrap();
        assert_eq!(spec.name(), name);
        assert_eq!(spec.key_fields(), fields.as_slice());
    }

    #[test]
    fn custom_rejects_empty_name() {
        let err = FormatSpec::custom("", ["A"]).unwrap_err();
        assert!(matches!(err, RecordError::InvalidFormatName { ref name, .. } if name.is_empty()));
    }

    #[test]
    fn custom_rejects_long_name() {
        let err = FormatSpec::custom("a".repeat(65), ["A"]).unwrap_err();
        assert!(matches!(err, RecordError::InvalidFormatName { .. }));
    }

    #[test]
    fn custom_rejects_bad_name_characters() {
        for bad in ["trip gps", "trip/gps", "tríp", "a\0b", "x:y"] {
            let err = FormatSpec::custom(bad, ["A"]).unwrap_err();
            assert!(
                matches!(err, RecordError::InvalidFormatName { ref name, .. } if name == bad),
                "{bad:?} gave {err:?}"
            );
        }
    }

    #[test]
    fn custom_rejects_no_fields() {
        let err = FormatSpec::custom("x", Vec::<String>::new()).unwrap_err();
        assert_eq!(err, RecordError::NoKeyFields { format: "x".into() });
    }

    #[test]
    fn custom_rejects_seventeen_fields() {
        let fields: Vec<String> = (0..17).map(|i| format!("F{i}")).collect();
        let err = FormatSpec::custom("x", fields).unwrap_err();
        assert_eq!(
            err,
            RecordError::TooManyKeyFields {
                format: "x".into(),
                count: 17,
                max: 16
            }
        );
    }

    #[test]
    fn custom_rejects_empty_field_name() {
        let err = FormatSpec::custom("x", ["A", ""]).unwrap_err();
        assert_eq!(err, RecordError::EmptyKeyFieldName { format: "x".into() });
    }

    #[test]
    fn custom_rejects_duplicate_field() {
        let err = FormatSpec::custom("x", ["A", "B", "A"]).unwrap_err();
        assert_eq!(
            err,
            RecordError::DuplicateKeyField {
                format: "x".into(),
                field: "A".into()
            }
        );
    }

    #[test]
    fn builtin_names_are_reserved_ignoring_case() {
        assert!(FormatSpec::is_builtin_name("trip-gps"));
        assert!(FormatSpec::is_builtin_name("Trip-GPS"));
        assert!(FormatSpec::is_builtin_name("vin_code"));
        assert!(!FormatSpec::is_builtin_name("trip-gps2"));
    }
}
