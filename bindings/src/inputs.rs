//! Parsing of the plain-text inputs the wallet and car bindings take: calendar dates
//! (`YYYY-MM-DD`), JSON keys and values, record format names. Each failure is a
//! `(code, detail)` pair the calling area wraps in its own error enum.

use carchain_core::record::{FormatRegistry, FormatSpec};
use chrono::NaiveDate;
use serde_json::Value;

/// A rejected input: stable code and a message that quotes no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadInput {
    /// Stable code, e.g. `input.invalid_date`.
    pub(crate) code: &'static str,
    /// What is wrong.
    pub(crate) detail: String,
}

/// Parses a calendar day written `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Result<NaiveDate, BadInput> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| BadInput {
        code: "input.invalid_date",
        detail: format!("`{text}` is not a date written YYYY-MM-DD"),
    })
}

/// Parses JSON text; `what` names the input in the message.
pub(crate) fn parse_json(text: &str, what: &str) -> Result<Value, BadInput> {
    serde_json::from_str(text).map_err(|error| BadInput {
        code: "input.invalid_json",
        detail: format!(
            "the {what} is not JSON (line {}, column {})",
            error.line(),
            error.column()
        ),
    })
}

/// Parses a record value: JSON, also accepting the seed's `=` for `:`.
pub(crate) fn parse_record_value(text: &str) -> Result<Value, BadInput> {
    carchain_core::record::parse_value(text).map_err(|error| BadInput {
        code: "input.invalid_json",
        detail: format!("the record value: {error}"),
    })
}

/// The built-in record format named `name` (`trip-gps`, `carvio`, `vin-code`).
pub(crate) fn format_spec(name: &str) -> Result<FormatSpec, BadInput> {
    FormatRegistry::with_builtins()
        .get(name)
        .cloned()
        .map_err(|error| BadInput {
            code: "input.unknown_format",
            detail: error.to_string(),
        })
}

/// Serialises a JSON value back to text.
pub(crate) fn to_json_text(value: &Value) -> String {
    // Serialising a `serde_json::Value` to a string cannot fail (keys are strings).
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_and_bad_ones_are_refused() {
        assert_eq!(
            parse_date("2024-05-03").unwrap(),
            NaiveDate::from_ymd_opt(2024, 5, 3).unwrap()
        );
        for bad in ["2024-5-3x", "20240503", "2024-02-30", ""] {
            assert_eq!(
                parse_date(bad).unwrap_err().code,
                "input.invalid_date",
                "{bad}"
            );
        }
    }

    #[test]
    fn json_and_values_parse() {
        assert_eq!(parse_json("{\"a\":1}", "key").unwrap()["a"], 1);
        let err = parse_json("{", "key").unwrap_err();
        assert_eq!(err.code, "input.invalid_json");
        assert!(err.detail.contains("key"));
        assert_eq!(
            parse_record_value("{\"format\"=\"trip-gps\"}").unwrap()["format"],
            "trip-gps"
        );
        assert_eq!(
            parse_record_value("[").unwrap_err().code,
            "input.invalid_json"
        );
        assert_eq!(
            to_json_text(&serde_json::json!({"b": [1, 2]})),
            "{\"b\":[1,2]}"
        );
    }

    #[test]
    fn formats_are_the_builtins() {
        assert_eq!(format_spec("trip-gps").unwrap().name(), "trip-gps");
        assert_eq!(format_spec("carvio").unwrap().name(), "carvio");
        assert_eq!(
            format_spec("nope").unwrap_err().code,
            "input.unknown_format"
        );
    }
}
