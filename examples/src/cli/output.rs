//! Printing a command's result: one JSON document with `--json`, readable text otherwise.

use serde_json::Value;

use super::session::Session;

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

impl Session {
    /// Prints `items`: a JSON array of `item_json` with `--json`, else one `item_line` a
    /// line, or `empty` when there are none.
    pub fn emit_list<T>(
        &self,
        items: &[T],
        item_json: fn(&T) -> Value,
        item_line: fn(&T) -> String,
        empty: &str,
    ) {
        let doc = Value::Array(items.iter().map(item_json).collect());
        emit(self.json, &doc, || {
            if items.is_empty() {
                empty.to_owned()
            } else {
                items.iter().map(item_line).collect::<Vec<_>>().join("\n")
            }
        });
    }
}
