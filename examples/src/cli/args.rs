//! The `carchain` command line as clap types: global flags (wallet, nodes, trust anchor,
//! `--json`) and every command. Dates, JSON keys and values stay strings here and are
//! parsed by the commands, so a malformed one is an input error (exit 3), not a usage
//! error (exit 2).

use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::{Parser, Subcommand, ValueEnum};

mod records;
pub use records::*;

/// CarChain from the command line: the owner's wallet, paired cars, their records and
/// trips, and the node.
///
/// Exit codes: 0 ok, 1 local failure (files, wallet store), 2 usage, 3 bad input,
/// 4 node or network failure, 5 verification failure.
#[derive(Debug, Parser)]
#[command(name = "carchain", version, about, long_about)]
pub struct Cli {
    /// The wallet store (SQLite). Its secrets are sealed under a key kept in
    /// `<PATH>.key` (mode 0600); a phone keeps that key in its Keystore/Keychain.
    #[arg(long, global = true, env = "CARCHAIN_WALLET", value_name = "PATH")]
    pub wallet: Option<PathBuf>,
    /// Node base URL (repeatable, in order of preference; later ones are failovers).
    #[arg(
        long = "node",
        global = true,
        env = "CARCHAIN_NODE",
        value_name = "URL",
        value_delimiter = ','
    )]
    pub nodes: Vec<String>,
    /// Chain id to trust (with `--validator`); otherwise the pinned or first-seen one.
    #[arg(long, global = true, env = "CARCHAIN_CHAIN_ID")]
    pub chain_id: Option<String>,
    /// Validator public key (hex) to trust; without it the node's status is trusted on
    /// first use and pinned next to the wallet (`<PATH>.anchor.json`).
    #[arg(long, global = true, env = "CARCHAIN_VALIDATOR", value_name = "HEX")]
    pub validator: Option<String>,
    /// Address network of a new wallet and of a `--chain-id`/`--validator` anchor (any
    /// case, as the core's network names are read).
    #[arg(
        long,
        global = true,
        value_enum,
        ignore_case = true,
        default_value_t = NetworkArg::Regtest
    )]
    pub network: NetworkArg,
    /// Print JSON (one document) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Address networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NetworkArg {
    /// `bc1` addresses.
    Mainnet,
    /// `tb1` addresses.
    Testnet,
    /// `bcrt1` addresses.
    Regtest,
}

impl From<NetworkArg> for carchain_core::keys::Network {
    fn from(arg: NetworkArg) -> Self {
        match arg {
            NetworkArg::Mainnet => carchain_core::keys::Network::Mainnet,
            NetworkArg::Testnet => carchain_core::keys::Network::Testnet,
            NetworkArg::Regtest => carchain_core::keys::Network::Regtest,
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The owner's wallet.
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// The owner's paired cars.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// The car's side (a car store on this machine): pairing code and pairing.
    #[command(subcommand)]
    Car(CarCommand),
    /// Put one record from a car store and deliver it (the seed's putIotKV).
    Put(PutArgs),
    /// Read one record of a car (the seed's getKV).
    Get(GetArgs),
    /// Read a car's records of a date range (the seed's getKVRange).
    Range(RangeArgs),
    /// The owner's own records of a car (the seed's putWalKV): the VIN, service history,
    /// documents; versioned, read and granted like the car's records.
    #[command(subcommand)]
    Record(RecordCommand),
    /// A car's trips.
    #[command(subcommand)]
    Trips(TripsCommand),
    /// Export a car's records of a period as one archive (records as JSON and CSV, trips
    /// as GeoJSON and GPX, and the ledger proofs to verify it offline).
    Export(ExportArgs),
    /// Verify an export archive offline (no wallet, no node): every file against the
    /// ledger proofs and signed headers inside it. Exit 5 when anything was changed.
    VerifyExport(VerifyExportArgs),
    /// The node.
    #[command(subcommand)]
    Node(NodeCommand),
    /// Data requests providers sent to this wallet: list, approve, reject.
    #[command(subcommand)]
    Requests(RequestsCommand),
    /// The grants this wallet made: list, revoke.
    #[command(subcommand)]
    Grants(GrantsCommand),
    /// A service provider's side: key file, registration, data requests.
    #[command(subcommand)]
    Provider(ProviderCommand),
}

/// `carchain requests ...`
#[derive(Debug, Subcommand)]
pub enum RequestsCommand {
    /// The open requests addressed to this wallet, each proven on the ledger.
    List,
    /// Approve a request for one car, optionally narrowed, and deliver.
    Approve {
        /// The request id (64 hex).
        #[arg(long, value_name = "HEX")]
        id: String,
        /// The car whose records are granted.
        #[arg(long)]
        vid: String,
        /// Grant only the first N days of the requested period.
        #[arg(long, value_name = "N")]
        days: Option<u32>,
        /// Grant only these of the requested privileges (comma-separated:
        /// location_history, approximate_location, non_location, vin).
        #[arg(long, value_delimiter = ',')]
        fields: Vec<String>,
        /// A place cut from the trips, `LAT,LNG,RADIUS_M` (repeatable).
        #[arg(long = "privacy-zone", value_name = "LAT,LNG,R")]
        privacy_zones: Vec<String>,
        /// Round positions to about 1 km before a computation.
        #[arg(long)]
        approximate: bool,
    },
    /// Reject a request.
    Reject {
        /// The request id (64 hex).
        #[arg(long, value_name = "HEX")]
        id: String,
    },
}

/// `carchain grants ...`
#[derive(Debug, Subcommand)]
pub enum GrantsCommand {
    /// The grants this wallet made and their status.
    List,
    /// Revoke a grant on the ledger.
    Revoke {
        /// The grant id (64 hex).
        #[arg(long, value_name = "HEX")]
        id: String,
    },
    /// Deliver each standing grant's newly complete days, and records of past days
    /// uploaded late (within 14 days), once each (what a phone's background task does;
    /// run it from cron once a day).
    Sync {
        /// The day it is (YYYY-MM-DD); days before it count as complete. Default: today
        /// (UTC).
        #[arg(long, value_name = "DATE")]
        today: Option<String>,
    },
}

/// `carchain provider ...`
#[derive(Debug, Subcommand)]
pub enum ProviderCommand {
    /// Create a provider key file (secp256k1 account + RSA key, mode 0600).
    New {
        /// The key file to create.
        #[arg(long)]
        key: PathBuf,
    },
    /// Register (or update) the provider's service on the ledger.
    Register {
        /// The provider key file.
        #[arg(long)]
        key: PathBuf,
        /// The service's name, shown to owners.
        #[arg(long)]
        name: String,
        /// What the service does, shown to owners.
        #[arg(long)]
        description: String,
        /// Code hash (64 hex) of a computation the service offers (repeatable).
        #[arg(long = "code-hash", value_name = "HEX")]
        code_hashes: Vec<String>,
    },
    /// Ask an owner for data and leave the request in the owner's inbox.
    Request {
        /// The provider key file.
        #[arg(long)]
        key: PathBuf,
        /// The owner address asked.
        #[arg(long)]
        owner: String,
        /// Record formats asked for, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        formats: Vec<String>,
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day, YYYY-MM-DD.
        #[arg(long)]
        to: String,
        /// Privileges asked for, comma-separated, and `compute:<64 hex>` for a
        /// computation's result instead of a copy.
        #[arg(long, value_delimiter = ',', required = true)]
        fields: Vec<String>,
        /// Why, shown to the owner.
        #[arg(long)]
        purpose: String,
        /// Offered price.
        #[arg(long)]
        price: u64,
        /// Seconds until the request expires (none when absent).
        #[arg(long, value_name = "S")]
        expires: Option<u64>,
    },
}

/// `carchain wallet ...`
#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Create a wallet with fresh recovery words, printed once to stdout.
    New {
        /// Number of recovery words.
        #[arg(long, default_value_t = 12, value_parser = clap::builder::PossibleValuesParser::new(["12", "24"]).map(|s| s.parse::<u8>().unwrap_or(12)))]
        words: u8,
    },
    /// Restore a wallet from recovery words read from stdin (never from the command line).
    Restore,
    /// Show the owner address and RSA key fingerprint.
    Address,
    /// Show the owner account's balance on the node.
    Balance,
    /// Send tokens from the owner account to another account (the default fee is added).
    Send {
        /// The recipient's P2WPKH address on the wallet's network.
        #[arg(long)]
        to: String,
        /// Tokens to send (at least 1).
        #[arg(long)]
        amount: u64,
    },
    /// Write an encrypted backup of the wallet's state (cars, pools, grants, requests, read
    /// tokens, the pinned header tip); only the same recovery words open it.
    Backup {
        /// The backup file to write (replaced only once the new one is complete).
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
    },
    /// Apply a backup to this wallet (restored from the same words first).
    RestoreBackup {
        /// The backup file.
        #[arg(long, value_name = "FILE")]
        from: std::path::PathBuf,
    },
}

/// `carchain device ...`
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Pair the car whose pairing payload was scanned (run `car pair` on the car meanwhile).
    Pair {
        /// The car's pairing payload text.
        #[arg(long)]
        payload: String,
        /// A name for the car.
        #[arg(long)]
        name: String,
        /// Addresses in the car's secret pool (1..=10000).
        #[arg(long, default_value_t = 32)]
        pool_size: usize,
        /// The agent node the car names (the node's `--agent`).
        #[arg(long, env = "CARCHAIN_AGENT", default_value = "carchain-node")]
        agent: String,
        /// Seconds to wait for the car's answer.
        #[arg(long, default_value_t = 60)]
        timeout_secs: u64,
    },
    /// List the paired cars.
    List,
    /// Hand a car to another owner address (the seed's reset), signed by this owner.
    Reset {
        /// The car's VID.
        #[arg(long)]
        vid: String,
        /// The new owner address.
        #[arg(long)]
        to: String,
    },
    /// Give a car a new pool of addresses (the seed's setDup); the car shows a new payload.
    Pool {
        /// The car's VID.
        #[arg(long)]
        vid: String,
        /// Addresses in the new pool (1..=10000).
        #[arg(long)]
        size: usize,
        /// The car's fresh pairing payload text.
        #[arg(long)]
        payload: String,
    },
}

/// `carchain car ...`
#[derive(Debug, Subcommand)]
pub enum CarCommand {
    /// Open (or create) a car store and print its pairing payload.
    PairingCode {
        /// The car store (SQLite; its key file is `<PATH>.key`).
        #[arg(long)]
        car: PathBuf,
        /// The car's VID.
        #[arg(long)]
        vid: String,
        /// Seconds the code stays valid.
        #[arg(long, default_value_t = 600)]
        ttl_secs: u64,
        /// Forget the car's current pairing first (for `device pool` or a new owner).
        #[arg(long)]
        reset: bool,
    },
    /// Wait for the owner's pairing offer and accept it.
    Pair {
        /// The car store.
        #[arg(long)]
        car: PathBuf,
        /// Seconds to wait for the offer and the ledger.
        #[arg(long, default_value_t = 60)]
        timeout_secs: u64,
    },
}

/// `carchain node ...`
#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// The node's status and the verified chain tip.
    Status,
}

#[cfg(test)]
mod tests;
