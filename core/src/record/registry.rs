//! The format registry: the built-in formats plus the custom formats a wallet or a
//! node has learnt, looked up by name.

use std::collections::BTreeMap;

use super::error::{RecordError, RecordResult};
use super::format::FormatSpec;

/// Formats known by name: always the built-ins, plus registered custom formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatRegistry {
    formats: BTreeMap<String, FormatSpec>,
}

impl Default for FormatRegistry {
    fn default() -> Self {
        Self::with_builtins()
    }
}

impl FormatRegistry {
    /// A registry holding only the built-in formats (`trip-gps`, `carvio`, `VIN_CODE`).
    pub fn with_builtins() -> Self {
        let formats = FormatSpec::builtins()
            .into_iter()
            .map(|spec| (spec.name().to_owned(), spec))
            .collect();
        Self { formats }
    }

    /// Adds a custom format.
    ///
    /// Registering the same name with the same fields again is a no-op, so a retried
    /// put can carry its format each time. Fails with
    /// [`RecordError::BuiltInFormatClash`] when the name is a built-in's (ignoring
    /// ASCII case) and [`RecordError::FormatConflict`] when the name is already
    /// registered with other fields.
    pub fn register(&mut self, spec: FormatSpec) -> RecordResult<()> {
        if FormatSpec::is_builtin_name(spec.name()) {
            return Err(RecordError::BuiltInFormatClash(spec.name().to_owned()));
        }
        match self.formats.get(spec.name()) {
            Some(known) if *known == spec => Ok(()),
            Some(_) => Err(RecordError::FormatConflict(spec.name().to_owned())),
            None => {
                self.formats.insert(spec.name().to_owned(), spec);
                Ok(())
            }
        }
    }

    /// The format called `name` (exact, case-sensitive match), or
    /// [`RecordError::UnknownFormat`].
    pub fn get(&self, name: &str) -> RecordResult<&FormatSpec> {
        self.formats
            .get(name)
            .ok_or_else(|| RecordError::UnknownFormat(name.to_owned()))
    }

    /// Whether a format called `name` is known.
    pub fn contains(&self, name: &str) -> bool {
        self.formats.contains_key(name)
    }

    /// All known formats, by name.
    pub fn iter(&self) -> impl Iterator<Item = &FormatSpec> {
        self.formats.values()
    }

    /// Number of known formats, built-ins included.
    pub fn len(&self) -> usize {
        self.formats.len()
    }

    /// Always false: the built-ins are always there. Present for API symmetry.
    pub fn is_empty(&self) -> bool {
        self.formats.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_found_by_name() {
        let registry = FormatRegistry::default();
        assert_eq!(registry.len(), 3);
        assert_eq!(registry.get("trip-gps").unwrap(), &FormatSpec::trip_gps());
        assert_eq!(registry.get("carvio").unwrap(), &FormatSpec::carvio());
        assert_eq!(registry.get("VIN_CODE").unwrap(), &FormatSpec::vin_code());
    }

    #[test]
    fn unknown_format_is_a_typed_error() {
        let registry = FormatRegistry::default();
        assert_eq!(
            registry.get("fuel").unwrap_err(),
            RecordError::UnknownFormat("fuel".into())
        );
        // Lookup is case-sensitive.
        assert_eq!(
            registry.get("vin_code").unwrap_err(),
            RecordError::UnknownFormat("vin_code".into())
        );
    }

    #[test]
    fn custom_format_is_registered_and_found() {
        let mut registry = FormatRegistry::default();
        let spec = FormatSpec::custom("fuel", ["DAY", "PUMP"]).unwrap();
        registry.register(spec.clone()).unwrap();
        assert!(registry.contains("fuel"));
        assert_eq!(registry.get("fuel").unwrap(), &spec);
        assert_eq!(registry.len(), 4);
        let names: Vec<&str> = registry.iter().map(FormatSpec::name).collect();
        assert_eq!(names, ["VIN_CODE", "carvio", "fuel", "trip-gps"]);
    }

    #[test]
    fn registering_the_same_custom_twice_is_a_no_op() {
        let mut registry = FormatRegistry::default();
        let spec = FormatSpec::custom("fuel", ["DAY"]).unwrap();
        registry.register(spec.clone()).unwrap();
        registry.register(spec).unwrap();
        assert_eq!(registry.len(), 4);
    }

    #[test]
    fn registering_a_conflicting_custom_fails() {
        let mut registry = FormatRegistry::default();
        registry
            .register(FormatSpec::custom("fuel", ["DAY"]).unwrap())
            .unwrap();
        let err = registry
            .register(FormatSpec::custom("fuel", ["PUMP"]).unwrap())
            .unwrap_err();
        assert_eq!(err, RecordError::FormatConflict("fuel".into()));
        assert_eq!(registry.get("fuel").unwrap().key_fields(), ["DAY"]);
    }

    #[test]
    fn custom_cannot_take_a_builtin_name() {
        let mut registry = FormatRegistry::default();
        for name in ["trip-gps", "TRIP-GPS", "carvio", "VIN_CODE", "vin_code"] {
            let spec = FormatSpec::custom(name, ["X"]).unwrap();
            assert_eq!(
                registry.register(spec).unwrap_err(),
                RecordError::BuiltInFormatClash(name.into())
            );
        }
        assert_eq!(registry.get("trip-gps").unwrap(), &FormatSpec::trip_gps());
        assert_eq!(registry.len(), 3);
    }
}
