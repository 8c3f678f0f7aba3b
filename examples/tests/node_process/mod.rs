//! A separately started `carchain-node` binary for the end-to-end tests of the programs
//! that drive a node (`carchain`, `car-sim`): `init` a regtest chain funding the given
//! accounts, then `run` it on `127.0.0.1:0` (the node prints the port it took) with the
//! default flags (shared mode) unless told otherwise; killed when the handle drops.
//!
//! The binary: `CARCHAIN_NODE_BIN` when set, else `carchain-node` next to this package's
//! binaries in the target directory, built once per test process with
//! `cargo build -p carchain-node` (same profile) so it is never stale. A missing or
//! unbuildable binary fails the test with what to run.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use carchain_core::light::{LightClient, TrustAnchor};
use carchain_core::protocol::Network;

/// A `carchain-node` process serving on loopback; killed on drop.
pub struct NodeProcess {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub base: String,
    /// The chain id it was initialised with.
    pub chain_id: String,
    /// The validator's public key, hex, as `init` printed it.
    pub validator: String,
    /// The operator account (read payments go here), as `init` printed it.
    pub operator_address: String,
    /// The node's log (its stderr).
    pub log: PathBuf,
    child: Child,
    data: PathBuf,
    run_flags: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        // A throwaway chain needs no graceful stop; this kills only the child we started.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl NodeProcess {
    /// What a client trusts for this chain.
    pub fn anchor(&self) -> TrustAnchor {
        TrustAnchor::from_hex(&self.chain_id, Network::Regtest, &self.validator).expect("anchor")
    }

    /// A light client of this node alone.
    pub fn client(&self) -> LightClient {
        LightClient::new(vec![self.base.clone()], self.anchor()).expect("client")
    }

    /// The node's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self._dir.path().join("node")
    }

    /// The node's log so far, for failure messages.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills the node with SIGKILL (no graceful stop) and waits for it to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the node again on its data directory and its address (after [`Self::kill`]);
    /// returns once it listens.
    pub fn restart(&mut self) {
        self.kill();
        let listen = self
            .base
            .strip_prefix("http://")
            .expect("an http base URL")
            .to_owned();
        let flags: Vec<&str> = self.run_flags.iter().map(String::as_str).collect();
        // The address was just freed; a bind may still race the kernel for a moment.
        let mut last = String::new();
        for _ in 0..50 {
            match spawn_run(&self.data, &listen, &flags, &self.log) {
                Ok((child, base)) => {
                    assert_eq!(base, self.base, "the node came back on another address");
                    self.child = child;
                    return;
                }
                Err(e) => last = e,
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("carchain-node did not start again: {last}");
    }
}

/// `carchain-node run` on `data`, listening on `listen`, its stderr appended to `log`;
/// the child and its base URL once it listens, or its log when it exited first.
fn spawn_run(
    data: &Path,
    listen: &str,
    run_flags: &[&str],
    log: &Path,
) -> Result<(Child, String), String> {
    let stderr = std::fs::File::options()
        .create(true)
        .append(true)
        .open(log)
        .expect("node log");
    let mut child = Command::new(node_binary())
        .arg("run")
        .arg("--data-dir")
        .arg(data)
        .args(["--listen", listen])
        .args(run_flags)
        .env_remove("CARCHAIN_MODE")
        .env_remove("CARCHAIN_BLOCK_TIME_MS")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("carchain-node run");
    let stdout = child.stdout.take().expect("node stdout");
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        if let Some(Ok(line)) = lines.next() {
            if let Some(base) = line.strip_prefix("listening on ") {
                break base.trim().to_owned();
            }
        } else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "carchain-node exited before listening: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            ));
        }
    };
    // Keep draining its stdout so the node never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Ok((child, base))
}

/// The `carchain-node` binary to start (built on first use; see the module doc).
pub fn node_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(path) = std::env::var_os("CARCHAIN_NODE_BIN") {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "CARCHAIN_NODE_BIN={} is not a file",
                path.display()
            );
            return path;
        }
        // This package's binaries sit in <target>/<profile>/; so does carchain-node.
        let sibling = Path::new(env!("CARGO_BIN_EXE_carchain"));
        let profile_dir = sibling.parent().expect("the binaries' directory");
        let target_dir = profile_dir.parent().expect("the target directory");
        let release = profile_dir.file_name().is_some_and(|name| name == "release");
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let mut build = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        build
            .args(["build", "-q", "-p", "carchain-node", "--bin", "carchain-node"])
            .arg("--manifest-path")
            .arg(&manifest)
            .env("CARGO_TARGET_DIR", target_dir);
        // `cargo test` runs a test with its package's variables set (CARGO_PKG_NAME,
        // CARGO_MANIFEST_DIR, ...); passed on, they mark dependencies that read them
        // (ring, then reqwest, core and the node) dirty, so this build and the next
        // `cargo test` would each rebuild those.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if ["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_CRATE_", "CARGO_BIN_", "CARGO_PRIMARY_"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
                || name == "CARGO_TARGET_TMPDIR"
            {
                build.env_remove(name.as_ref());
            }
        }
        if release {
            build.arg("--release");
        }
        let built = build.output().unwrap_or_else(|e| {
            panic!("cannot run cargo to build carchain-node ({e}); build it with `cargo build -p carchain-node` or set CARCHAIN_NODE_BIN")
        });
        assert!(
            built.status.success(),
            "`cargo build -p carchain-node` failed; fix the build or set CARCHAIN_NODE_BIN:\n{}",
            String::from_utf8_lossy(&built.stderr)
        );
        let binary = profile_dir.join(format!("carchain-node{}", std::env::consts::EXE_SUFFIX));
        assert!(
            binary.is_file(),
            "carchain-node was built but is not at {}",
            binary.display()
        );
        binary
    })
}

/// `carchain-node init` of a regtest chain `chain_id` funding `funds`, then
/// `carchain-node run --listen 127.0.0.1:0` plus `run_flags`; returns once it listens.
pub fn start(chain_id: &str, funds: &[(&str, u64)], run_flags: &[&str]) -> NodeProcess {
    start_with_init(chain_id, funds, &[], run_flags)
}

/// [`start`] with extra `init_flags` (e.g. `--phase1-reserve 0`).
pub fn start_with_init(
    chain_id: &str,
    funds: &[(&str, u64)],
    init_flags: &[&str],
    run_flags: &[&str],
) -> NodeProcess {
    let binary = node_binary();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("node");
    let mut init = Command::new(binary);
    init.arg("init").arg("--data-dir").arg(&data).args([
        "--chain-id",
        chain_id,
        "--network",
        "regtest",
    ]);
    for (address, amount) in funds {
        init.args(["--fund", &format!("{address}={amount}")]);
    }
    init.args(init_flags);
    let init = init.output().expect("carchain-node init");
    let printed = String::from_utf8_lossy(&init.stdout).into_owned();
    assert!(
        init.status.success(),
        "carchain-node init failed: {printed}{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let field = |name: &str| {
        printed
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .map_or_else(
                || panic!("carchain-node init printed no {name} in: {printed}"),
                |value| value.trim().to_owned(),
            )
    };
    let validator = field("validator_pubkey:");
    let operator_address = field("operator_address:");
    let log = dir.path().join("node.log");
    let (child, base) =
        spawn_run(&data, "127.0.0.1:0", run_flags, &log).unwrap_or_else(|e| panic!("{e}"));
    NodeProcess {
        base,
        chain_id: chain_id.to_owned(),
        validator,
        operator_address,
        log,
        child,
        data,
        run_flags: run_flags.iter().map(|f| (*f).to_owned()).collect(),
        _dir: dir,
    }
}
