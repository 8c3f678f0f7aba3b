//! `docs/ARCHITECTURE.md` against the tree: every path it names in backticks exists, and
//! every top-level module of the core and the node is named in it, so the map of where
//! each feature lives cannot drift from the code.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The backticked spans of `text` that look like paths of the tree.
fn named_paths(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| {
            !span.contains(' ')
                && [
                    "core/",
                    "node-lite/",
                    "bindings/",
                    "examples/",
                    "testkit/",
                    "android/",
                    "ios/",
                    "scripts/",
                    "docs/",
                ]
                .iter()
                .any(|top| span.starts_with(top))
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_path_the_architecture_names_exists() {
    let root = root();
    let text = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).expect("the map");
    let paths = named_paths(&text);
    assert!(paths.len() > 40, "the map names {} paths", paths.len());
    let missing: Vec<&String> = paths.iter().filter(|p| !root.join(p).exists()).collect();
    assert!(missing.is_empty(), "named but not in the tree: {missing:?}");
}

#[test]
fn every_top_level_module_is_on_the_map() {
    let root = root();
    let text = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).expect("the map");
    let named = named_paths(&text);
    for crate_src in ["core/src", "node-lite/src"] {
        for entry in std::fs::read_dir(root.join(crate_src)).expect("sources") {
            let entry = entry.expect("entry");
            if !entry.file_type().expect("type").is_dir() {
                continue;
            }
            let module = format!("{crate_src}/{}", entry.file_name().to_string_lossy());
            assert!(
                named
                    .iter()
                    .any(|p| p == &module || p.starts_with(&format!("{module}/"))),
                "{module} is not on docs/ARCHITECTURE.md"
            );
        }
    }
}

#[test]
fn a_missing_path_is_caught() {
    let paths = named_paths("see `core/src/no_such_module` and `cargo test` and `core/src/keys`");
    assert_eq!(paths, ["core/src/no_such_module", "core/src/keys"]);
    assert!(!root().join(&paths[0]).exists());
}
