//! Running the examples' binaries (`carchain`, `car-sim`) from the end-to-end tests: a
//! command with no inherited CarChain environment, a finished run with input piped in,
//! and its output read as text or JSON.
//!
//! Use from a test file with `mod cli_run;`. Everything here panics on failure: it is
//! test scaffolding, not library code.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The `carchain` CLI built for these tests.
pub const CARCHAIN: &str = env!("CARGO_BIN_EXE_carchain");

/// A run of `program` with no inherited CarChain environment, its streams captured.
pub fn command(program: &str) -> Command {
    let mut command = Command::new(program);
    for name in [
        "CARCHAIN_WALLET",
        "CARCHAIN_NODE",
        "CARCHAIN_WORDS",
        "CARCHAIN_CHAIN_ID",
        "CARCHAIN_VALIDATOR",
        "CARCHAIN_AGENT",
    ] {
        command.env_remove(name);
    }
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

/// The finished `carchain` run with `args` (and `stdin` piped in when given).
pub fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = command(CARCHAIN);
    command.args(args).stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = command.spawn().expect("spawn carchain");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    child.wait_with_output().expect("carchain output")
}

/// Bytes of a stream as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Stdout as JSON, failing with both streams when the run failed or panicked.
pub fn ok_json(output: &Output) -> Value {
    let stderr = text(&output.stderr);
    assert!(
        output.status.success() && !stderr.contains("panicked"),
        "exit {:?}\nstdout: {}\nstderr: {stderr}",
        output.status.code(),
        text(&output.stdout)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", text(&output.stdout)))
}
