//! `carchain-node run --kv`: a malformed store URL is refused by the command line, and a
//! Cassandra cluster that cannot be reached stops the start with a typed message (no
//! half-started node); `--kv sqlite` is the default. No cluster needed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod common;

use std::process::Command;

use common::*;

fn run_with_kv(chain: &Chain, kv: &str) -> std::process::Output {
    Command::new(BIN)
        .arg("run")
        .arg("--data-dir")
        .arg(chain.data_dir())
        .args(["--listen", "127.0.0.1:0", "--kv", kv])
        .env_remove("CARCHAIN_KV")
        .output()
        .expect("run carchain-node")
}

#[test]
fn malformed_kv_urls_are_refused_before_anything_starts() {
    let chain = init_chain(&[]);
    for bad in [
        "redis://127.0.0.1:6379",
        "cassandra://",
        "cassandra://127.0.0.1",
        "cassandra://127.0.0.1:9042/Bad-Keyspace",
        "cassandra://127.0.0.1:9042?rf=0",
    ] {
        let output = run_with_kv(&chain, bad);
        assert_eq!(output.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--kv"), "{bad}: {stderr}");
    }
}

#[test]
fn an_unreachable_cluster_stops_the_start_with_kv_unavailable() {
    let chain = init_chain(&[]);
    // Nothing listens on this loopback address and port.
    let output = run_with_kv(&chain, "cassandra://127.0.0.9:1");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot reach its quorum"), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).is_empty());
}

#[tokio::test]
async fn sqlite_is_the_default_and_the_status_says_so() {
    let chain = init_chain(&[]);
    let node = NodeProcess::start(&chain.data_dir(), &[]);
    let status = status(&node.base).await;
    assert_eq!(status["kv"]["backend"], "sqlite", "{status}");
    assert_eq!(status["kv"]["available"], true, "{status}");
    assert!(chain.data_dir().join("kv.sqlite").exists());
}
