//! The core's layers, read from its sources: a module uses the layers below it only
//! (see `docs/ARCHITECTURE.md`). `protocol`, shared with the node, uses nothing of the
//! SDK's reading or actor layers; `grants` does not reach up into the owner's wallet
//! or the car. Code lines only: a doc comment may name a module above.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

use std::path::{Path, PathBuf};

/// The modules each checked area must not use, beside the area's directory.
const RULES: &[(&str, &[&str])] = &[
    (
        "protocol",
        &[
            "wallet", "grants", "device", "light", "pairing", "export", "compute", "store",
        ],
    ),
    ("grants", &["wallet", "device"]),
];

/// Upward uses known and not yet removed, as (file under core/src, module used). Each
/// is a debt: remove the entry when the use goes; a listed use that is gone fails too.
const KNOWN: &[(&str, &str)] = &[];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level core modules `source` names through `crate::` (plain paths and
/// `crate::{..}` groups), comments left out.
fn crate_modules_used(source: &str) -> Vec<String> {
    let code: String = source
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |text: &str| -> String {
        text.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut used = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        if code[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue; // `carchain_core::`, `some_crate::`
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if c.is_whitespace() => {}
                    _ if item_start && depth == 0 => {
                        used.push(ident(&group[i..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            used.push(ident(rest));
        }
    }
    used.retain(|m| !m.is_empty());
    used
}

#[test]
fn no_area_uses_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for (area, forbidden) in RULES {
        let mut files = Vec::new();
        sources(&src.join(area), &mut files);
        assert!(!files.is_empty(), "no sources under core/src/{area}");
        for file in files {
            let text = std::fs::read_to_string(&file).expect("source");
            let name = file
                .strip_prefix(&src)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            let mut used = crate_modules_used(&text);
            used.sort();
            used.dedup();
            for module in used {
                if forbidden.contains(&module.as_str()) {
                    found.push((name.clone(), module));
                }
            }
        }
    }
    let upward: Vec<&(String, String)> = found
        .iter()
        .filter(|(file, module)| !KNOWN.contains(&(file.as_str(), module.as_str())))
        .collect();
    assert!(upward.is_empty(), "upward uses: {upward:?}");
    let gone: Vec<&(&str, &str)> = KNOWN
        .iter()
        .filter(|(file, module)| !found.iter().any(|(f, m)| f == file && m == module))
        .collect();
    assert!(
        gone.is_empty(),
        "known upward uses that are gone (drop them): {gone:?}"
    );
}

#[test]
fn the_scan_sees_plain_paths_and_groups_but_not_comments() {
    let source = "use crate::wallet::Wallet;\n\
                  use crate::{keys::SigningKey, device::{a, b}, light};\n\
                  //! see [`crate::grants::period`]\n\
                  let x = carchain_core::store::open();\n\
                  let y = crate::record::decode_key(k);\n";
    assert_eq!(
        crate_modules_used(source),
        ["wallet", "keys", "device", "light", "record"]
    );
}
