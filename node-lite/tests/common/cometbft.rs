//! A CometBFT v0.38 test network of `carchain-node run --consensus cometbft` apps: made
//! with `scripts/cometbft testnet` on free ports, each validator's two processes (the
//! app's ABCI server first, then CometBFT) started and killed, and waits that show the
//! validators' logs when they time out.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{BIN, NodeProcess, status};

/// A base port whose four ports are free on each of `hosts`, searched from `first` plus
/// a slot of this process (so parallel test processes start apart).
pub fn free_base_port(first: u16, slots: u32, hosts: &[&str]) -> u16 {
    let start = first + (std::process::id() % slots) as u16 * 64;
    for attempt in 0..200u16 {
        let base = start.wrapping_add(attempt * 8);
        if !(20_000..=64_000).contains(&base) {
            continue;
        }
        let free = hosts
            .iter()
            .all(|host| (0..4).all(|offset| TcpListener::bind((*host, base + offset)).is_ok()));
        if free {
            return base;
        }
    }
    panic!("no free base port");
}

/// Makes a testnet of `validators` in `net` on `base_port`, funding `funded` with
/// 1,000,000, with `scripts/cometbft testnet`; the validators as `nodes.tsv` lists them.
pub fn make_testnet(
    net: &Path,
    validators: usize,
    base_port: u16,
    funded: &str,
    cometbft: &Path,
) -> Vec<Validator> {
    let made = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/cometbft"))
        .arg("testnet")
        .args(["--validators", &validators.to_string()])
        .args(["--base-port", &base_port.to_string()])
        .arg("--dir")
        .arg(net)
        .args(["--fund", &format!("{funded}=1000000")])
        .env("CARCHAIN_NODE_BIN", BIN)
        .env("COMETBFT_BIN", cometbft)
        .output()
        .expect("run scripts/cometbft testnet");
    assert!(
        made.status.success(),
        "testnet: {}{}",
        String::from_utf8_lossy(&made.stdout),
        String::from_utf8_lossy(&made.stderr)
    );
    let rows = std::fs::read_to_string(net.join("nodes.tsv")).expect("nodes.tsv");
    rows.lines()
        .map(|row| {
            let cols: Vec<&str> = row.split('\t').collect();
            let index: usize = cols[0].parse().expect("index");
            Validator {
                index,
                dir: net.join(format!("node{index}")),
                rpc: format!("http://{}:{}", cols[1], cols[2]),
                abci: format!("{}:{}", cols[1], cols[3])
                    .parse()
                    .expect("abci address"),
                app: None,
                engine: None,
            }
        })
        .collect()
}

/// One validator: where it listens and its two processes while it runs (killed on drop).
pub struct Validator {
    pub index: usize,
    pub dir: PathBuf,
    pub rpc: String,
    pub abci: SocketAddr,
    app: Option<NodeProcess>,
    engine: Option<Child>,
}

impl Validator {
    /// The carchain-node's HTTP API.
    pub fn api(&self) -> &str {
        &self.app.as_ref().expect("running").base
    }

    /// Starts the app (ABCI server first: CometBFT needs it at start), then CometBFT.
    pub fn start(&mut self, cometbft: &Path) {
        let app = NodeProcess::start(
            &self.dir.join("app"),
            &[
                "--consensus",
                "cometbft",
                "--abci",
                &self.abci.to_string(),
                "--cometbft-rpc",
                &self.rpc,
            ],
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(self.abci).is_err() {
            assert!(
                Instant::now() < deadline,
                "node {}: no ABCI server",
                self.index
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("cometbft.log"))
            .expect("cometbft log");
        let engine = Command::new(cometbft)
            .arg("start")
            .arg("--home")
            .arg(self.dir.join("cometbft"))
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn cometbft");
        self.app = Some(app);
        self.engine = Some(engine);
    }

    /// SIGKILL of both processes.
    pub fn kill(&mut self) {
        if let Some(mut engine) = self.engine.take() {
            let _ = engine.kill();
            let _ = engine.wait();
        }
        if let Some(app) = self.app.take() {
            app.kill();
        }
    }

    /// The last 30 lines of CometBFT's and the app's logs.
    pub fn logs(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
        let tail = |text: String| {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(30)..].join("\n")
        };
        let app = self
            .app
            .as_ref()
            .map(NodeProcess::log_text)
            .unwrap_or_default();
        format!(
            "--- node {} cometbft ---\n{}\n--- app ---\n{}",
            self.index,
            tail(read("cometbft.log")),
            tail(app)
        )
    }
}

impl Drop for Validator {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The latest committed ledger height of a node (its `/v1/status`).
pub async fn height(api: &str) -> u64 {
    status(api).await["height"].as_u64().expect("height")
}

/// Waits (polling) until `check` holds, at most `limit`; `what` names it in the failure,
/// with the logs of `network`.
pub async fn until<F, Fut>(limit: Duration, what: &str, network: &[Validator], mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        if Instant::now() >= deadline {
            let logs: Vec<String> = network.iter().map(Validator::logs).collect();
            panic!("{what}: not within {limit:?}\n{}", logs.join("\n"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until every node of `apis` has committed block `at_least`.
pub async fn until_all_at(
    limit: Duration,
    what: &str,
    network: &[Validator],
    apis: &[String],
    at_least: u64,
) {
    until(limit, what, network, || async move {
        for api in apis {
            if height(api).await < at_least {
                return false;
            }
        }
        true
    })
    .await;
}
