//! The `carchain-node` binary started as a process for tests and benchmarks: `init` a
//! regtest chain funding the given accounts, then `run` it on `127.0.0.1:0` (the node
//! prints the port it took) and return once it listens; killed when the handle drops.
//!
//! The binary: `CARCHAIN_NODE_BIN` when set, else `carchain-node` in the target directory
//! of the running test, built once per test process with `cargo build -p carchain-node`
//! (same profile) so it is never stale ([`node_binary`]). A caller that has the binary
//! already (the node's own tests, a benchmark told its path) passes it to
//! [`NodeProcess::start_binary`], [`init`] and [`spawn_run`].

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{OnceLock, mpsc};
use std::time::Duration;

use carchain_core::light::{LightClient, TrustAnchor};
use carchain_core::protocol::Network;

/// How long a node may take to print where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// What `carchain-node init` printed.
pub struct InitSummary {
    /// The validator's public key, hex.
    pub validator_pubkey: String,
    /// The operator account (read payments go here).
    pub operator_address: String,
}

/// The `--fund <address>=<amount>` arguments of `init` for `funds`.
pub fn fund_args(funds: &[(&str, u64)]) -> Vec<String> {
    funds
        .iter()
        .flat_map(|(address, amount)| ["--fund".to_owned(), format!("{address}={amount}")])
        .collect()
}

/// `binary init --data-dir <data_dir>` plus `args`; panics with the node's output when it
/// fails.
pub fn init<S: AsRef<std::ffi::OsStr>>(binary: &Path, data_dir: &Path, args: &[S]) -> InitSummary {
    let output = Command::new(binary)
        .arg("init")
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} init: {e}", binary.display()));
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "carchain-node init failed: {printed}{}",
        String::from_utf8_lossy(&output.stderr)
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
    InitSummary {
        validator_pubkey: field("validator_pubkey:"),
        operator_address: field("operator_address:"),
    }
}

/// `binary run --data-dir <data> --listen <listen>` plus `run_flags` and `env`, its
/// stderr appended to `log`; the child and its base URL once it listens, or its log when
/// it exited first or did not listen in 30 s (then it is killed).
pub fn spawn_run<S: AsRef<std::ffi::OsStr>>(
    binary: &Path,
    data: &Path,
    listen: &str,
    run_flags: &[S],
    env: &[(&str, &str)],
    log: &Path,
) -> Result<(Child, String), String> {
    let stderr = std::fs::File::options()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("node log {}: {e}", log.display()))?;
    let mut child = Command::new(binary)
        .arg("run")
        .arg("--data-dir")
        .arg(data)
        .args(["--listen", listen])
        .args(run_flags)
        .env_remove("CARCHAIN_MODE")
        .env_remove("CARCHAIN_BLOCK_TIME_MS")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout from carchain-node")?;
    let (sender, receiver) = mpsc::channel();
    // Reads the listening line, then keeps draining so the node never blocks on a pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(base) = line.strip_prefix("listening on ") {
                let _ = sender.send(base.trim().to_owned());
            }
        }
    });
    match receiver.recv_timeout(START_TIMEOUT) {
        Ok(base) => Ok((child, base)),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!(
                "carchain-node did not start listening: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            ))
        }
    }
}

/// A `carchain-node` process on its own regtest chain, serving on loopback; killed on drop.
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
    binary: PathBuf,
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
    /// `init` of a regtest chain `chain_id` funding `funds` with the extra `init_flags`,
    /// then `run --listen 127.0.0.1:0` plus `run_flags`, of `binary`; returns once it
    /// listens.
    pub fn start_binary(
        binary: &Path,
        chain_id: &str,
        funds: &[(&str, u64)],
        init_flags: &[&str],
        run_flags: &[&str],
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("node");
        let mut args = vec!["--chain-id", chain_id, "--network", "regtest"];
        let funding = fund_args(funds);
        args.extend(funding.iter().map(String::as_str));
        args.extend(init_flags);
        let summary = init(binary, &data, &args);
        let log = dir.path().join("node.log");
        let (child, base) = spawn_run(binary, &data, "127.0.0.1:0", run_flags, &[], &log)
            .unwrap_or_else(|e| panic!("{e}"));
        NodeProcess {
            base,
            chain_id: chain_id.to_owned(),
            validator: summary.validator_pubkey,
            operator_address: summary.operator_address,
            log,
            child,
            binary: binary.to_owned(),
            data,
            run_flags: run_flags.iter().map(|f| (*f).to_owned()).collect(),
            _dir: dir,
        }
    }

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
        self.data.clone()
    }

    /// The node's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
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
        // The address was just freed; a bind may still race the kernel for a moment.
        let mut last = String::new();
        for _ in 0..50 {
            match spawn_run(
                &self.binary,
                &self.data,
                &listen,
                &self.run_flags,
                &[],
                &self.log,
            ) {
                Ok((child, base)) => {
                    assert_eq!(base, self.base, "the node came back on another address");
                    self.child = child;
                    return;
                }
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("carchain-node did not start again: {last}");
    }
}

/// [`NodeProcess::start_binary`] of [`node_binary`] without extra `init` flags.
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
    NodeProcess::start_binary(node_binary(), chain_id, funds, init_flags, run_flags)
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
        // A test or bench runs from <target>/<profile>/deps/; the binaries sit in
        // <target>/<profile>/.
        let running = std::env::current_exe().expect("the running test's path");
        let deps = running.parent().expect("the test's directory");
        let profile_dir = deps.parent().expect("the binaries' directory");
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
