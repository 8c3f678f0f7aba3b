//! Test support: the local 3-node Cassandra cluster of `scripts/cassandra`, started for a
//! test (or reused when it already runs) and stopped with its data when the test ends,
//! even when it fails. Shared by the crate's unit tests and its end-to-end tests (std only).

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// The cluster's CQL endpoints, as `--kv` takes them.
pub const CLUSTER_URL: &str = "cassandra://127.0.0.1:9042,127.0.0.2:9042,127.0.0.3:9042";

/// A running cluster; stops it on drop when this guard started it.
#[derive(Debug)]
pub struct TestCluster {
    started: bool,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/cassandra")
}

fn run(args: &[&str]) -> Output {
    Command::new(script())
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("cannot run scripts/cassandra {args:?}: {err}"))
}

fn must(args: &[&str]) {
    let output = run(args);
    assert!(
        output.status.success(),
        "scripts/cassandra {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl TestCluster {
    /// Starts the cluster (the script waits until every node answers CQL) or reuses the
    /// one that runs.
    pub fn up() -> TestCluster {
        let running = run(&["status"]).status.success();
        if !running {
            // Nodes left over from an interrupted run are restarted by `up`.
            must(&["up"]);
        }
        TestCluster { started: !running }
    }

    /// Kills node `n` (1..=3) with SIGKILL.
    pub fn kill(&self, n: u8) {
        must(&["kill", &n.to_string()]);
    }

    /// Starts node `n` again and waits until it answers CQL.
    pub fn start(&self, n: u8) {
        must(&["start", &n.to_string()]);
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        if self.started {
            let output = run(&["down"]);
            if !output.status.success() {
                eprintln!(
                    "scripts/cassandra down failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        }
    }
}
