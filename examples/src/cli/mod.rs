//! The `carchain` command line: the owner's wallet (new, restore, address, balance), the
//! paired cars (pair, list, reset, pool), a car store's side of pairing and putting,
//! the owner's own records (put, update, get, list), reading records and trips back, trip
//! exports, whole-period export archives and their offline verification, the node's
//! status, and data grants:
//! the owner's pending requests and grants, and a service provider's key, registration
//! and requests.
//!
//! Used by `src/bin/carchain.rs`. Human output by default, `--json` for scripts; errors
//! go to stderr with the exit code of their kind (see [`error`]). Secrets (recovery
//! words, keys) never reach stderr or logs; the wallet's at-rest key lives in a 0600 key
//! file next to the wallet (see [`secrets`]), where a phone would use its Keystore or
//! Keychain.

pub mod args;
pub mod car_cmd;
pub mod data_cmd;
pub mod device_cmd;
pub mod error;
pub mod export_cmd;
pub mod grant_input;
pub mod grants_cmd;
pub mod node_cmd;
pub mod output;
pub mod provider_cmd;
pub mod provider_key;
pub mod record_cmd;
pub mod requests_cmd;
pub mod secrets;
pub mod session;
pub mod trips_cmd;
pub mod wallet_cmd;

pub use args::{Cli, Command};
pub use error::CliError;
pub use session::Session;

/// Runs a parsed command line.
pub async fn run(cli: &Cli) -> Result<(), CliError> {
    let session = Session::from_cli(cli);
    match &cli.command {
        Command::Wallet(command) => wallet_cmd::run(&session, command).await,
        Command::Device(command) => device_cmd::run(&session, command).await,
        Command::Car(command) => car_cmd::run(&session, command).await,
        Command::Put(args) => car_cmd::put(&session, args).await,
        Command::Get(args) => data_cmd::get(&session, args).await,
        Command::Range(args) => data_cmd::range(&session, args).await,
        Command::Record(command) => record_cmd::run(&session, command).await,
        Command::Trips(command) => trips_cmd::run(&session, command).await,
        Command::Export(args) => export_cmd::export(&session, args).await,
        Command::VerifyExport(args) => export_cmd::verify(&session, args),
        Command::Node(command) => node_cmd::run(&session, command).await,
        Command::Requests(command) => requests_cmd::run(&session, command).await,
        Command::Grants(command) => grants_cmd::run(&session, command).await,
        Command::Provider(command) => provider_cmd::run(&session, command).await,
    }
}
