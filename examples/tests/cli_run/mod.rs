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

/// One row of a table of `carchain` runs: its arguments, what is piped to its stdin,
/// the exit code it must end with and a fragment its output must hold (stdout when it
/// succeeds, stderr when it fails). No run may panic.
#[derive(Debug, Clone)]
pub struct Case {
    /// The command line after the program name.
    pub args: Vec<String>,
    /// Piped to stdin when given.
    pub stdin: Option<String>,
    /// The expected exit code.
    pub code: i32,
    /// Text the output must contain.
    pub fragment: String,
}

impl Case {
    /// A run of `args` expected to exit with `code`, its output holding `fragment`.
    pub fn new<S: AsRef<str>>(args: &[S], code: i32, fragment: &str) -> Case {
        Case {
            args: args.iter().map(|a| a.as_ref().to_owned()).collect(),
            stdin: None,
            code,
            fragment: fragment.to_owned(),
        }
    }

    /// The same run with `text` piped to stdin.
    pub fn stdin(mut self, text: &str) -> Case {
        self.stdin = Some(text.to_owned());
        self
    }

    /// Runs the row and checks it; returns the output for further checks.
    pub fn run(&self) -> Output {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let output = run(&args, self.stdin.as_deref());
        self.check(&output);
        output
    }

    /// Checks a finished run against the row.
    pub fn check(&self, output: &Output) {
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        assert_eq!(
            output.status.code(),
            Some(self.code),
            "{:?}\nstdout: {stdout}\nstderr: {stderr}",
            self.args
        );
        let shown = if self.code == 0 { &stdout } else { &stderr };
        assert!(
            shown.contains(&self.fragment),
            "{:?}: expected `{}` in: {shown}",
            self.args,
            self.fragment
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// Runs every row of `table` in order, checking each; returns their outputs.
pub fn run_table(table: &[Case]) -> Vec<Output> {
    table.iter().map(Case::run).collect()
}

/// [`run_table`] off an async runtime (a node in the same test serves on it meanwhile).
pub async fn run_table_async(table: Vec<Case>) -> Vec<Output> {
    tokio::task::spawn_blocking(move || run_table(&table))
        .await
        .expect("join")
}

/// [`run`] off an async runtime (a node in the same test serves on it meanwhile).
pub async fn run_async(args: Vec<String>, stdin: Option<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args, stdin.as_deref())
    })
    .await
    .expect("join")
}

/// Owned arguments.
pub fn owned<S: AsRef<str>>(parts: &[S]) -> Vec<String> {
    parts.iter().map(|p| p.as_ref().to_owned()).collect()
}

/// The global flags every run of one actor (an owner's wallet, a car, a provider)
/// starts with.
pub struct Flags(pub Vec<String>);

impl Flags {
    /// The actor whose runs start with `parts`.
    pub fn new(parts: &[&str]) -> Flags {
        Flags(owned(parts))
    }

    /// The flags, then `rest`.
    pub fn args<S: AsRef<str>>(&self, rest: &[S]) -> Vec<String> {
        let mut args = self.0.clone();
        args.extend(owned(rest));
        args
    }

    /// The finished run of the flags and `rest`.
    pub async fn run<S: AsRef<str>>(&self, rest: &[S]) -> Output {
        run_async(self.args(rest), None).await
    }

    /// A successful run's JSON.
    pub async fn ok<S: AsRef<str>>(&self, rest: &[S]) -> Value {
        ok_json(&self.run(rest).await)
    }
}

/// The car store at `car` (run with `car_flags`) shows the pairing code of car `vid`,
/// and the owner pairs it (a pool of 8, named `name`, agent `agent`) while the car
/// waits for the offer; returns the owner's run and the car's.
pub async fn pair(
    owner: &Flags,
    car_flags: &Flags,
    (car, vid): (&str, &str),
    name: &str,
    agent: &str,
) -> (Output, Output) {
    let code = car_flags
        .ok(&["car", "pairing-code", "--car", car, "--vid", vid])
        .await;
    let payload = code["payload"].as_str().expect("payload");
    let owner_side = tokio::spawn(run_async(
        owner.args(&[
            "device",
            "pair",
            "--payload",
            payload,
            "--name",
            name,
            "--pool-size",
            "8",
            "--agent",
            agent,
            "--timeout-secs",
            "60",
        ]),
        None,
    ));
    let car_side = car_flags
        .run(&["car", "pair", "--car", car, "--timeout-secs", "60"])
        .await;
    (owner_side.await.expect("join"), car_side)
}
