//! The `carchain-node` command line: `init` creates a data directory with its genesis and
//! validator key, `run` serves the node over HTTP. Every flag also reads an environment
//! variable (`CARCHAIN_*`).

use std::net::SocketAddr;
use std::path::PathBuf;

use carchain_core::protocol::{FeeSchedule, Network};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::genesis::GenesisStake;
use crate::kv::CassandraConfig;
use crate::node::KvChoice;
use crate::service::NodeMode;

/// The CarChain reference node: ledger, token, encrypted KV storage and HTTP API.
#[derive(Debug, Clone, Parser)]
#[command(name = "carchain-node", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The node's subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Create a new chain in a data directory: genesis, validator key, initial balances.
    /// Prints the validator public key and the operator address.
    Init(InitArgs),
    /// Run the node: produce blocks and serve the HTTP API until SIGINT/SIGTERM.
    Run(RunArgs),
}

/// Flags of `carchain-node init`.
#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// Directory for the ledger, the KV store and the validator key (created if missing).
    #[arg(long, env = "CARCHAIN_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Chain identifier; transactions for any other chain are refused.
    #[arg(long, env = "CARCHAIN_CHAIN_ID", default_value = "carchain-dev")]
    pub chain_id: String,
    /// Address network of accounts and data addresses (bc1 / tb1 / bcrt1).
    #[arg(long, env = "CARCHAIN_NETWORK", value_enum, default_value_t = NetworkArg::Regtest)]
    pub network: NetworkArg,
    /// Total token supply, in the token's smallest unit.
    #[arg(long, env = "CARCHAIN_SUPPLY", default_value_t = 21_000_000_000)]
    pub supply: u64,
    /// Fund an account at genesis: `ADDRESS=AMOUNT` (repeatable).
    #[arg(long = "fund", value_name = "ADDRESS=AMOUNT", value_parser = parse_fund)]
    pub fund: Vec<(String, u64)>,
    /// Fee every transaction pays (the chain's fee schedule, published in its state;
    /// default 10).
    #[arg(long, env = "CARCHAIN_BASE_FEE", default_value_t = FeeSchedule::DEFAULT.base_fee)]
    pub base_fee: u64,
    /// Fee per ciphertext byte of a record put (default 1).
    #[arg(long, env = "CARCHAIN_PUT_FEE_PER_BYTE", default_value_t = FeeSchedule::DEFAULT.put_per_byte)]
    pub put_fee_per_byte: u64,
    /// Price of one address traversal of a paid read (default 1).
    #[arg(long, env = "CARCHAIN_READ_FEE_PER_ADDRESS", default_value_t = FeeSchedule::DEFAULT.read_per_address)]
    pub read_fee_per_address: u64,
    /// Price of a fee stamp (and the most fee one pays); 0: the chain sells no stamps.
    /// This node keeps the stamp issuer key (`stamp-issuer.key`) and issues them.
    #[arg(long, env = "CARCHAIN_STAMP_PRICE", default_value_t = crate::genesis::DEFAULT_STAMP_PRICE)]
    pub stamp_price: u64,
    /// Caps the phase-1 reserve that reimburses put fees (small and test chains).
    #[arg(long, env = "CARCHAIN_PHASE1_RESERVE")]
    pub phase1_reserve: Option<u64>,
    /// Bond at genesis: `VALIDATOR=ADDRESS:AMOUNT`, the validator's ed25519 consensus
    /// key in hex (repeatable). Genesis stake sets the CometBFT validator set.
    #[arg(long = "stake", value_name = "VALIDATOR=ADDRESS:AMOUNT", value_parser = parse_stake)]
    pub stake: Vec<GenesisStake>,
    /// Stake per unit of voting power (default 1).
    #[arg(long, env = "CARCHAIN_POWER_UNIT")]
    pub power_unit: Option<u64>,
    /// Blocks between an unbond and the return of its tokens (default 10).
    #[arg(long, env = "CARCHAIN_UNBONDING_BLOCKS")]
    pub unbonding_blocks: Option<u64>,
}

/// Flags of `carchain-node run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Data directory created by `carchain-node init`.
    #[arg(long, env = "CARCHAIN_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Address to serve HTTP on; port 0 picks a free port (printed as `listening on ...`).
    #[arg(long, env = "CARCHAIN_LISTEN", default_value = "127.0.0.1:8645")]
    pub listen: SocketAddr,
    /// Storage mode: `private` stores only its own devices' data, `shared` everyone's.
    #[arg(long, env = "CARCHAIN_MODE", value_enum, default_value_t = ModeArg::Shared)]
    pub mode: ModeArg,
    /// Target time between blocks, in milliseconds.
    #[arg(long, env = "CARCHAIN_BLOCK_TIME_MS", default_value_t = 200,
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub block_time_ms: u64,
    /// This node's agent name (devices name it as their agent).
    #[arg(long, env = "CARCHAIN_AGENT", default_value = "carchain-node")]
    pub agent: String,
    /// URL of another node (repeatable; reported in the status).
    #[arg(long = "peer", value_name = "URL")]
    pub peers: Vec<String>,
    /// Largest number of transactions waiting for a block.
    #[arg(long, env = "CARCHAIN_MAX_MEMPOOL", default_value_t = 10_000)]
    pub max_mempool: usize,
    /// Largest accepted `POST /v1/tx` body, in bytes.
    #[arg(long, env = "CARCHAIN_TX_BODY_LIMIT", default_value_t = crate::api::DEFAULT_TX_BODY_LIMIT)]
    pub tx_body_limit: usize,
    /// Largest accepted KV value (`PUT /v1/kv/...` body), in bytes.
    #[arg(long, env = "CARCHAIN_KV_BODY_LIMIT", default_value_t = crate::api::DEFAULT_KV_BODY_LIMIT)]
    pub kv_body_limit: usize,
    /// Who decides blocks: `embedded` (this node's own producer) or `cometbft` (the node
    /// is the ABCI application of a CometBFT engine; see `--abci`, `--cometbft-rpc`).
    #[arg(long, env = "CARCHAIN_CONSENSUS", value_enum, default_value_t = ConsensusArg::Embedded)]
    pub consensus: ConsensusArg,
    /// Loopback address to serve ABCI on, for the CometBFT engine (`--consensus cometbft`).
    #[arg(long, env = "CARCHAIN_ABCI", default_value = "127.0.0.1:26658")]
    pub abci: SocketAddr,
    /// The CometBFT engine's RPC, where submissions go (`--consensus cometbft`).
    #[arg(
        long,
        env = "CARCHAIN_COMETBFT_RPC",
        default_value = "http://127.0.0.1:26657"
    )]
    pub cometbft_rpc: String,
    /// Where the encrypted records live: `sqlite` (`kv.sqlite` in the data directory,
    /// the default) or a Cassandra cluster,
    /// `cassandra://HOST:PORT[,HOST:PORT...][/KEYSPACE][?rf=N]` (keyspace `carchain`,
    /// replication factor 3; `rf=1` for a one-node development cluster).
    #[arg(long, env = "CARCHAIN_KV", default_value = "sqlite", value_parser = parse_kv)]
    pub kv: KvChoice,
    /// Attempts to deliver one webhook notification before it is kept as failed.
    #[arg(long, env = "CARCHAIN_WEBHOOK_MAX_ATTEMPTS",
          default_value_t = crate::webhooks::DEFAULT_MAX_ATTEMPTS,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub webhook_max_attempts: u32,
    /// Age, in seconds, after which a webhook notification's next failed attempt keeps
    /// it as failed (default one day).
    #[arg(long, env = "CARCHAIN_WEBHOOK_MAX_AGE_SECS",
          default_value_t = crate::webhooks::DEFAULT_MAX_AGE.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub webhook_max_age_secs: u64,
    /// Refuse webhook URLs on private, loopback, link-local and other non-public
    /// addresses (at registration and each time a name resolves). Off by default.
    #[arg(long, env = "CARCHAIN_WEBHOOK_PUBLIC_ONLY")]
    pub webhook_public_only: bool,
}

/// Parses `--kv`: `sqlite` or a `cassandra://` URL.
pub fn parse_kv(text: &str) -> Result<KvChoice, String> {
    if text == "sqlite" {
        return Ok(KvChoice::Sqlite);
    }
    CassandraConfig::parse(text)
        .map(KvChoice::Cassandra)
        .map_err(|err| err.to_string())
}

/// `--consensus` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConsensusArg {
    /// The node's own single-validator block producer (no other process needed).
    Embedded,
    /// A CometBFT engine (v0.38) drives the node over ABCI.
    Cometbft,
}

/// `--network` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NetworkArg {
    /// `bc1...` addresses.
    Mainnet,
    /// `tb1...` addresses.
    Testnet,
    /// `bcrt1...` addresses.
    Regtest,
}

impl From<NetworkArg> for Network {
    fn from(arg: NetworkArg) -> Self {
        match arg {
            NetworkArg::Mainnet => Network::Mainnet,
            NetworkArg::Testnet => Network::Testnet,
            NetworkArg::Regtest => Network::Regtest,
        }
    }
}

/// `--mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Stores only the data of devices that named this node as their agent.
    Private,
    /// Stores everyone's data and earns the storage fees.
    Shared,
}

impl From<ModeArg> for NodeMode {
    fn from(arg: ModeArg) -> Self {
        match arg {
            ModeArg::Private => NodeMode::Private,
            ModeArg::Shared => NodeMode::Shared,
        }
    }
}

/// Parses `ADDRESS=AMOUNT`.
pub fn parse_fund(text: &str) -> Result<(String, u64), String> {
    let (address, amount) = text
        .split_once('=')
        .ok_or_else(|| format!("expected ADDRESS=AMOUNT, got `{text}`"))?;
    let address = address.trim();
    if address.is_empty() {
        return Err("the address before `=` is empty".into());
    }
    let amount = amount
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("`{amount}` is not a whole token amount"))?;
    Ok((address.to_owned(), amount))
}

/// Parses `--stake VALIDATOR=ADDRESS:AMOUNT` (the validator key: 64 hex digits).
pub fn parse_stake(text: &str) -> Result<GenesisStake, String> {
    let (validator, rest) = text
        .split_once('=')
        .ok_or_else(|| format!("expected VALIDATOR=ADDRESS:AMOUNT, got `{text}`"))?;
    let validator = hex::decode(validator.trim())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| format!("`{validator}` is not a 32-byte key in hex"))?;
    let (delegator, amount) = rest
        .rsplit_once(':')
        .ok_or_else(|| format!("expected ADDRESS:AMOUNT after `=`, got `{rest}`"))?;
    let amount = amount
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("`{amount}` is not a whole token amount"))?;
    Ok(GenesisStake {
        validator,
        delegator: delegator.trim().to_owned(),
        amount,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn stake_flags_parse_and_bad_ones_are_refused() {
        let key = "ab".repeat(32);
        let stake = parse_stake(&format!("{key}=bcrt1qabc:700")).unwrap();
        assert_eq!(
            stake,
            GenesisStake {
                validator: [0xab; 32],
                delegator: "bcrt1qabc".into(),
                amount: 700
            }
        );
        assert!(parse_stake("ab=bcrt1qabc:700").is_err());
        assert!(parse_stake(&format!("{key}=bcrt1qabc")).is_err());
        assert!(parse_stake(&format!("{key}:bcrt1qabc:1")).is_err());
        assert!(parse_stake(&format!("{key}=bcrt1qabc:x")).is_err());
    }

    #[test]
    fn the_command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn fund_flags_parse_and_bad_ones_are_refused() {
        assert_eq!(
            parse_fund("bcrt1qabc=500").unwrap(),
            ("bcrt1qabc".to_owned(), 500)
        );
        assert!(parse_fund("bcrt1qabc").is_err());
        assert!(parse_fund("=5").is_err());
        assert!(parse_fund("bcrt1qabc=-5").is_err());
        assert!(parse_fund("bcrt1qabc=lots").is_err());
    }

    #[test]
    fn init_defaults_and_repeated_funds() {
        let cli = Cli::try_parse_from([
            "carchain-node",
            "init",
            "--data-dir",
            "/tmp/d",
            "--fund",
            "a=1",
            "--fund",
            "b=2",
        ])
        .unwrap();
        let Command::Init(init) = cli.command else {
            panic!("expected init")
        };
        assert_eq!(init.chain_id, "carchain-dev");
        assert_eq!(init.network, NetworkArg::Regtest);
        assert_eq!(init.supply, 21_000_000_000);
        assert_eq!(init.fund, vec![("a".to_owned(), 1), ("b".to_owned(), 2)]);
        assert_eq!(init.stamp_price, crate::genesis::DEFAULT_STAMP_PRICE);
        assert_eq!(init.phase1_reserve, None);
    }

    #[test]
    fn run_flags_parse_and_bad_values_are_refused() {
        let cli = Cli::try_parse_from([
            "carchain-node",
            "run",
            "--data-dir",
            "/d",
            "--listen",
            "127.0.0.1:0",
            "--mode",
            "private",
            "--block-time-ms",
            "50",
            "--peer",
            "http://a",
            "--peer",
            "http://b",
        ])
        .unwrap();
        let Command::Run(run) = cli.command else {
            panic!("expected run")
        };
        assert_eq!(run.listen.port(), 0);
        assert_eq!(NodeMode::from(run.mode), NodeMode::Private);
        assert_eq!(run.block_time_ms, 50);
        assert_eq!(run.peers, ["http://a", "http://b"]);
        assert_eq!(run.agent, "carchain-node");
        assert_eq!(run.consensus, ConsensusArg::Embedded);
        assert_eq!(run.kv, KvChoice::Sqlite);
        let cli = Cli::try_parse_from([
            "carchain-node",
            "run",
            "--data-dir",
            "/d",
            "--consensus",
            "cometbft",
            "--abci",
            "127.0.0.2:7000",
            "--cometbft-rpc",
            "http://127.0.0.2:7001",
            "--kv",
            "cassandra://127.0.0.1:9042,127.0.0.2:9042/records_ks?rf=1",
        ])
        .unwrap();
        let Command::Run(run) = cli.command else {
            panic!("expected run")
        };
        assert_eq!(run.consensus, ConsensusArg::Cometbft);
        assert_eq!(run.abci.port(), 7000);
        assert_eq!(run.cometbft_rpc, "http://127.0.0.2:7001");
        let KvChoice::Cassandra(cassandra) = run.kv else {
            panic!("expected cassandra")
        };
        assert_eq!(cassandra.nodes, ["127.0.0.1:9042", "127.0.0.2:9042"]);
        assert_eq!(cassandra.keyspace, "records_ks");
        assert_eq!(cassandra.replication, 1);
        for bad in [
            "run --data-dir /d --listen nowhere",
            "run --data-dir /d --mode public",
            "run --data-dir /d --block-time-ms 0",
            "init --data-dir /d --network signet",
            "run --data-dir /d --kv redis://x:1",
            "run --data-dir /d --kv cassandra://",
        ] {
            let args = std::iter::once("carchain-node").chain(bad.split(' '));
            assert!(Cli::try_parse_from(args).is_err(), "{bad}");
        }
    }
}
