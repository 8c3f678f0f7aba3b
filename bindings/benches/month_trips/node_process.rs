//! A `carchain-node` binary on loopback for the benchmark: `init` a regtest chain funding
//! the owner, `run` it in private mode; killed when the handle is dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Chain id of the benchmark chain.
pub const CHAIN_ID: &str = "carchain-bench";
/// Agent name the node answers to (the car names it at pairing).
pub const AGENT: &str = "bench-agent";

/// A running node; killed on drop.
pub struct NodeProcess {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub base: String,
    /// The validator's compressed public key in hex, as `init` printed it.
    pub validator_pubkey: String,
    child: Child,
}

/// Starts `binary` with its data in `data_dir`, funding `owner` with `amount`.
pub fn start(
    binary: &Path,
    data_dir: &Path,
    owner: &str,
    amount: u64,
) -> Result<NodeProcess, String> {
    let data = data_dir.to_string_lossy();
    let init = Command::new(binary)
        .args(["init", "--data-dir", &data, "--network", "regtest"])
        .args([
            "--chain-id",
            CHAIN_ID,
            "--fund",
            &format!("{owner}={amount}"),
        ])
        .output()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let out = String::from_utf8_lossy(&init.stdout);
    if !init.status.success() {
        return Err(format!("carchain-node init failed: {out}"));
    }
    let validator_pubkey = out
        .lines()
        .find_map(|line| line.strip_prefix("validator_pubkey:"))
        .map(|key| key.trim().to_owned())
        .ok_or("carchain-node init printed no validator_pubkey")?;
    let mut child = Command::new(binary)
        .args(["run", "--data-dir", &data, "--listen", "127.0.0.1:0"])
        .args([
            "--block-time-ms",
            "50",
            "--mode",
            "private",
            "--agent",
            AGENT,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout from carchain-node")?;
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        if let Some(Ok(line)) = lines.next() {
            if let Some(base) = line.strip_prefix("listening on ") {
                break base.trim().to_owned();
            }
        } else {
            let _ = child.kill();
            return Err("carchain-node exited before listening".into());
        }
    };
    // Keep draining its output so the node never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Ok(NodeProcess {
        base,
        validator_pubkey,
        child,
    })
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        // A throwaway chain needs no graceful stop.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
