//! What every command needs: the wallet opened from its store and key file, a light
//! client of the given nodes trusting the right chain, and parsing of dates, JSON and
//! formats into input errors.
//!
//! Trust: `--chain-id` and `--validator` fix the anchor. Without them the anchor pinned
//! next to the store (`<store>.anchor.json`) is used; without a pin, the first node's
//! `GET /v1/status` is trusted on first use (TOFU, said on stderr) and pinned. The light
//! client then checks the genesis header and every header after it against that anchor.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use carchain_core::keys::Network;
use carchain_core::light::http::NodeHttp;
use carchain_core::light::{LightClient, TrustAnchor};
use carchain_core::record::FormatSpec;
use carchain_core::wallet::Wallet;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::args::{Cli, FormatArgs};
use super::error::CliError;
use super::secrets::{FileSecretStore, key_file_for};

/// The global flags, as the commands use them.
#[derive(Debug, Clone)]
pub struct Session {
    /// `--wallet`.
    pub wallet: Option<PathBuf>,
    /// `--node` URLs.
    pub nodes: Vec<String>,
    /// `--chain-id`.
    pub chain_id: Option<String>,
    /// `--validator`.
    pub validator: Option<String>,
    /// `--network`.
    pub network: Network,
    /// `--json`.
    pub json: bool,
}

/// A pinned trust anchor, as saved next to a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PinnedAnchor {
    chain_id: String,
    network: String,
    validator: String,
}

/// The anchor pin file of the store at `store_path`: `<store_path>.anchor.json`.
pub fn anchor_file_for(store_path: &Path) -> PathBuf {
    let mut name = store_path.as_os_str().to_owned();
    name.push(".anchor.json");
    PathBuf::from(name)
}

impl Session {
    /// The session of a parsed command line.
    pub fn from_cli(cli: &Cli) -> Session {
        Session {
            wallet: cli.wallet.clone(),
            nodes: cli.nodes.clone(),
            chain_id: cli.chain_id.clone(),
            validator: cli.validator.clone(),
            network: cli.network.into(),
            json: cli.json,
        }
    }

    /// The `--wallet` path, or a usage error.
    pub fn wallet_path(&self) -> Result<&Path, CliError> {
        self.wallet
            .as_deref()
            .ok_or_else(|| CliError::Usage("--wallet PATH (or CARCHAIN_WALLET) is required".into()))
    }

    /// The secrets of the store at `store_path`.
    pub fn secrets_for(store_path: &Path) -> Arc<FileSecretStore> {
        Arc::new(FileSecretStore::new(key_file_for(store_path)))
    }

    /// Opens the wallet saved at `--wallet`.
    pub fn open_wallet(&self) -> Result<Wallet, CliError> {
        let path = self.wallet_path()?;
        if !path.exists() {
            return Err(CliError::Input(format!(
                "no wallet at {}: run `carchain wallet new` or `wallet restore` first",
                path.display()
            )));
        }
        Ok(Wallet::open(path, Self::secrets_for(path))?)
    }

    /// The `--node` URLs, or a usage error.
    pub fn node_urls(&self) -> Result<Vec<String>, CliError> {
        if self.nodes.is_empty() {
            return Err(CliError::Usage(
                "--node URL (or CARCHAIN_NODE) is required".into(),
            ));
        }
        Ok(self.nodes.clone())
    }

    /// The anchor to trust: flags, the pin next to `pin_store`, or the first node's
    /// status on first use (then pinned when `pin_store` is given).
    pub async fn anchor(&self, pin_store: Option<&Path>) -> Result<TrustAnchor, CliError> {
        match (&self.chain_id, &self.validator) {
            (Some(chain_id), Some(validator)) => {
                return Ok(TrustAnchor::from_hex(chain_id, self.network, validator)?);
            }
            (None, None) => {}
            _ => {
                return Err(CliError::Usage(
                    "--chain-id and --validator go together".into(),
                ));
            }
        }
        let pin_path = pin_store.map(anchor_file_for);
        if let Some(path) = &pin_path
            && let Ok(text) = fs::read_to_string(path)
        {
            let pinned: PinnedAnchor = serde_json::from_str(&text).map_err(|e| {
                CliError::Local(format!("anchor pin {} is unreadable: {e}", path.display()))
            })?;
            return anchor_of(&pinned);
        }
        let urls = self.node_urls()?;
        let first = urls
            .first()
            .ok_or_else(|| CliError::Usage("no node".into()))?;
        let http = NodeHttp::new(first, reqwest::Client::new())?;
        let status = http.status().await?;
        let pinned = PinnedAnchor {
            chain_id: status.chain_id,
            network: status.network,
            validator: status.validator,
        };
        let anchor = anchor_of(&pinned)?;
        eprintln!(
            "note: trusting chain {} with validator {} as {first} reports it (trust on first use{})",
            pinned.chain_id,
            pinned.validator,
            if pin_path.is_some() { "; pinned" } else { "" }
        );
        if let Some(path) = &pin_path {
            let text = serde_json::to_string_pretty(&pinned)
                .map_err(|e| CliError::local("encoding the anchor pin", e))?;
            fs::write(path, text)
                .map_err(|e| CliError::local(&format!("writing {}", path.display()), e))?;
        }
        Ok(anchor)
    }

    /// A light client of the `--node` URLs trusting [`Session::anchor`].
    pub async fn light(&self, pin_store: Option<&Path>) -> Result<LightClient, CliError> {
        let anchor = self.anchor(pin_store).await?;
        Ok(LightClient::new(self.node_urls()?, anchor)?)
    }

    /// A light client for the wallet: anchored as above, checked to be on the wallet's
    /// network, paying for reads on a shared node from the owner's account.
    pub async fn wallet_light(&self, wallet: &Wallet) -> Result<LightClient, CliError> {
        let light = self.light(self.wallet.as_deref()).await?;
        if light.anchor().network != wallet.network() {
            return Err(CliError::Input(format!(
                "the wallet is on {} but the chain {} is on {}",
                wallet.network(),
                light.anchor().chain_id,
                light.anchor().network
            )));
        }
        Ok(wallet.paying_reads(light).with_store(wallet.store()))
    }
}

fn anchor_of(pinned: &PinnedAnchor) -> Result<TrustAnchor, CliError> {
    let network: Network = pinned
        .network
        .parse()
        .map_err(|_| CliError::Input(format!("unknown network `{}`", pinned.network)))?;
    Ok(TrustAnchor::from_hex(
        &pinned.chain_id,
        network,
        &pinned.validator,
    )?)
}

/// Parses a `YYYY-MM-DD` date named `flag`.
pub fn parse_date(flag: &str, text: &str) -> Result<NaiveDate, CliError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| CliError::Input(format!("{flag} `{text}` is not a date (YYYY-MM-DD)")))
}

/// Parses JSON named `flag`.
pub fn parse_json(flag: &str, text: &str) -> Result<Value, CliError> {
    serde_json::from_str(text)
        .map_err(|e| CliError::Input(format!("{flag} is not valid JSON: {e}")))
}

/// Parses a JSON object named `flag` (a record key or bound).
pub fn parse_json_object(flag: &str, text: &str) -> Result<Value, CliError> {
    let value = parse_json(flag, text)?;
    if !value.is_object() {
        return Err(CliError::Input(format!(
            "{flag} must be a JSON object, like {{\"FIELD\": 1}}"
        )));
    }
    Ok(value)
}

/// The format named by `--format` (and `--fields` for a custom one).
pub fn format_spec(args: &FormatArgs) -> Result<FormatSpec, CliError> {
    let builtin = FormatSpec::builtins()
        .into_iter()
        .find(|spec| spec.name() == args.format);
    match builtin {
        Some(spec) if args.fields.is_empty() || args.fields == spec.key_fields() => Ok(spec),
        Some(spec) => Err(CliError::Input(format!(
            "format `{}` has the key fields {}; --fields cannot change them",
            spec.name(),
            spec.key_fields().join(",")
        ))),
        None if args.fields.is_empty() => Err(CliError::Input(format!(
            "unknown format `{}`: give its key fields with --fields A,B",
            args.format
        ))),
        None => FormatSpec::custom(args.format.clone(), args.fields.clone())
            .map_err(|e| CliError::Input(format!("format `{}`: {e}", args.format))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(name: &str, fields: &[&str]) -> FormatArgs {
        FormatArgs {
            format: name.into(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        }
    }

    #[test]
    fn dates_parse_or_name_the_flag() {
        assert_eq!(
            parse_date("--date", "2024-05-06").unwrap(),
            NaiveDate::from_ymd_opt(2024, 5, 6).unwrap()
        );
        for bad in ["2024-13-01", "yesterday", "", "2024/05/06"] {
            let err = parse_date("--date", bad).unwrap_err();
            assert_eq!(err.exit_code(), 3);
            assert!(err.to_string().contains("--date"), "{err}");
        }
    }

    #[test]
    fn keys_must_be_json_objects() {
        assert_eq!(
            parse_json_object("--key", r#"{"CARVIO_ID": 7}"#).unwrap()["CARVIO_ID"],
            7
        );
        assert!(
            parse_json_object("--key", "{CARVIO_ID:7}")
                .unwrap_err()
                .to_string()
                .contains("not valid JSON")
        );
        assert!(
            parse_json_object("--key", "[1]")
                .unwrap_err()
                .to_string()
                .contains("JSON object")
        );
    }

    #[test]
    fn formats_builtin_custom_and_unknown() {
        assert_eq!(
            format_spec(&format("carvio", &[])).unwrap(),
            FormatSpec::carvio()
        );
        assert_eq!(
            format_spec(&format("trip-gps", &[])).unwrap(),
            FormatSpec::trip_gps()
        );
        let custom = format_spec(&format("odometer", &["DAY", "SEQ"])).unwrap();
        assert_eq!(custom.key_fields(), ["DAY", "SEQ"]);
        let err = format_spec(&format("odometer", &[])).unwrap_err();
        assert!(err.to_string().contains("--fields"), "{err}");
        assert_eq!(
            format_spec(&format("carvio", &["X"]))
                .unwrap_err()
                .exit_code(),
            3
        );
    }

    #[test]
    fn pin_and_key_files_sit_next_to_the_store() {
        assert_eq!(
            anchor_file_for(Path::new("/tmp/w.db")),
            PathBuf::from("/tmp/w.db.anchor.json")
        );
    }
}
