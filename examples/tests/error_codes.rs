//! Every public error type of the core has a stable `code()`: apps, logs and the CLI's
//! exit statuses key on codes, never on messages. Read from the source, so a new error
//! type without one fails here; each code is `area.kind` in lower snake case and a type's
//! codes are distinct.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn core_sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/src");
    walk(&core, &mut out);
    out.sort();
    out
}

/// The public types of `source` that derive `thiserror::Error`.
fn error_types(source: &str) -> Vec<String> {
    let lines: Vec<&str> = source.lines().collect();
    let mut found = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let Some(rest) = trimmed
            .strip_prefix("pub enum ")
            .or_else(|| trimmed.strip_prefix("pub struct "))
        else {
            continue;
        };
        let derives_error = lines[at.saturating_sub(4)..at]
            .iter()
            .any(|l| l.contains("derive(") && l.contains("Error"));
        if derives_error {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push(name);
        }
    }
    found
}

/// The code literals of `name`'s codes table (`error_codes!(name { ... })`), or else of
/// the `code()` method in the first `impl name {` block of `source`.
fn codes_of(source: &str, name: &str) -> Option<Vec<String>> {
    let body = match source.find(&format!("error_codes!({name} {{")) {
        Some(start) => {
            let rest = &source[start..];
            &rest[..rest.find("\n});")?]
        }
        None => {
            let rest = &source[source.find(&format!("impl {name} {{"))?..];
            let body = &rest[rest.find("pub fn code(&self)")?..];
            &body[..body.find("\n    }\n")?]
        }
    };
    Some(
        body.split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect(),
    )
}

fn is_code(code: &str) -> bool {
    let mut parts = code.split('.');
    let ok = |part: Option<&str>| {
        part.is_some_and(|p| {
            p.starts_with(|c: char| c.is_ascii_lowercase())
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
    };
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

#[test]
fn every_public_core_error_has_a_stable_code() {
    let mut missing = Vec::new();
    let mut checked = 0;
    for path in core_sources() {
        let source = std::fs::read_to_string(&path).expect("source");
        for name in error_types(&source) {
            checked += 1;
            let Some(codes) = codes_of(&source, &name) else {
                missing.push(format!("{name} ({})", path.display()));
                continue;
            };
            let mut seen = BTreeSet::new();
            for code in &codes {
                // A webhook error answers the node's own refusal codes (`replay`,
                // `webhook_url_self`, ...) and its three local ones in the same bare
                // form; the bindings give them as `webhook.<code>`.
                let bare_by_design = name == "WebhookError";
                assert!(
                    is_code(code) || (bare_by_design && is_code(&format!("webhook.{code}"))),
                    "{name}: `{code}` is not area.kind"
                );
                assert!(seen.insert(code), "{name}: `{code}` twice");
            }
        }
    }
    assert!(
        missing.is_empty(),
        "error types without code(): {missing:?}"
    );
    assert!(
        checked >= 30,
        "only {checked} error types found: the scan is broken"
    );
}

#[test]
fn the_scan_sees_a_type_without_a_code() {
    let source = "#[derive(Debug, thiserror::Error)]\npub enum NewError {\n    A,\n}\n";
    assert_eq!(error_types(source), ["NewError"]);
    assert_eq!(codes_of(source, "NewError"), None);
    let table = format!(
        "{source}\ncrate::error_code::error_codes!(NewError {{\n    A => \"new.a\",\n}});\n"
    );
    assert_eq!(codes_of(&table, "NewError"), Some(vec!["new.a".to_owned()]));
    assert!(is_code("light.tampered"));
    assert!(!is_code("Light.Tampered"));
    assert!(!is_code("light"));
}

#[test]
fn wrapped_errors_answer_their_own_code() {
    use carchain_core::keys::Mnemonic;
    use carchain_core::wallet::WalletError;
    let parse = Mnemonic::parse("not twelve words").expect_err("bad words");
    let code = parse.code();
    assert!(code.starts_with("keys."), "{code}");
    assert_eq!(WalletError::from(parse).code(), code);
    assert_eq!(WalletError::NoIdentity.code(), "wallet.no_identity");
}
