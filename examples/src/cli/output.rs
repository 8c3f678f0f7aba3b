//! Printing a command's result: one JSON document with `--json`, readable text otherwise.

use serde_json::Value;

/// Prints `doc` as JSON when `json`, else the text `human` builds.
pub fn emit(json: bool, doc: &Value, human: impl FnOnce() -> String) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(doc).unwrap_or_else(|_| doc.to_string())
        );
    } else {
        println!("{}", human());
    }
}
