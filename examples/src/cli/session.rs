//! What every command needs: the wallet opened from its store and key file, a light
//! client of the given nodes trusting the right chain, and parsing of dates, JSON and
//! formats into input errors.
//!
//! Trust: `--chain-id` and `--validator` fix the anchor. Without them the anchor pinned
//! next to the store (`<store>.anchor.json`) is used; without a pin, the first node's
//! `GET /v1/status` is trusted on first use (TOFU, said on stderr) and pinned. The light
//! client then checks the genesis header and every header after it against that anchor.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use carchain_core::keys::Network;
use carchain_core::keys::parse_address;
use carchain_core::light::http::NodeHttp;
use carchain_core::light::{LightClient, TrustAnchor};
use carchain_core::record::{FormatRegistry, FormatSpec, RecordError, parse_value};
use carchain_core::wallet::Wallet;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::args::{Cli, FormatArgs, PageArgs, ValueArgs};
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

/// Parses a JSON object named `flag` (a record key or bound, a value) as the core parses
/// record JSON: `=` is taken for `:` outside strings, as the design writes
/// `{"format"="trip-gps"}`.
pub fn parse_json_object(flag: &str, text: &str) -> Result<Value, CliError> {
    parse_value(text).map_err(|err| match err {
        RecordError::ValueNotObject { .. } => CliError::Input(format!(
            "{flag} must be a JSON object, like {{\"FIELD\": 1}} ({err})"
        )),
        err => CliError::Input(format!("{flag} is not valid JSON: {err}")),
    })
}

/// The text of `--value` or of `--value-file` (`-` reads stdin), for the core's value
/// parser: values up to the node's limit, which a command-line argument may not carry.
pub fn value_text(args: &ValueArgs) -> Result<String, CliError> {
    match (&args.value, &args.value_file) {
        (Some(text), _) => Ok(text.clone()),
        (None, Some(path)) if path.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::local("reading the value from stdin", e))?;
            Ok(text)
        }
        (None, Some(path)) => fs::read_to_string(path)
            .map_err(|e| CliError::local(&format!("value file {}", path.display()), e)),
        (None, None) => Err(CliError::Usage("--value or --value-file".into())),
    }
}

/// The value of `--value` / `--value-file`, a JSON object as the core parses values.
pub fn parse_value_arg(args: &ValueArgs) -> Result<Value, CliError> {
    let text = value_text(args)?;
    parse_value(&text).map_err(|e| CliError::Input(format!("--value is not a JSON object: {e}")))
}

/// An account address in the canonical (lower-case, trimmed) form the ledger stores,
/// when the core's address parser takes it on `network` (an all upper-case bech32
/// address, as QR codes carry it, included); other text is passed on unchanged for the
/// core to refuse with its typed error.
pub fn canonical_address(text: &str, network: Network) -> String {
    parse_address(text, network).map_or_else(|_| text.to_owned(), |address| address.to_string())
}

/// The `(offset, limit)` page of `--offset` / `--limit` (the core refuses a limit of 0).
pub fn page(args: &PageArgs) -> Option<(usize, usize)> {
    match (args.offset, args.limit) {
        (0, None) => None,
        (offset, limit) => Some((offset, limit.unwrap_or(usize::MAX))),
    }
}

/// The format named by `--format` (and `--fields` for a custom one): a built-in one by
/// its exact name, or a custom one the core's format registry takes.
pub fn format_spec(args: &FormatArgs) -> Result<FormatSpec, CliError> {
    let mut registry = FormatRegistry::with_builtins();
    match registry.get(&args.format).cloned() {
        Ok(spec) if args.fields.is_empty() || args.fields == spec.key_fields() => Ok(spec),
        Ok(spec) => Err(CliError::Input(format!(
            "format `{}` has the key fields {}; --fields cannot change them",
            spec.name(),
            spec.key_fields().join(",")
        ))),
        Err(_) if args.fields.is_empty() => Err(CliError::Input(format!(
            "unknown format `{}`: give its key fields with --fields A,B",
            args.format
        ))),
        Err(_) => {
            let spec = FormatSpec::custom(args.format.clone(), args.fields.clone())
                .and_then(|spec| registry.register(spec.clone()).map(|()| spec))
                .map_err(|e| CliError::Input(format!("format `{}`: {e}", args.format)))?;
            Ok(spec)
        }
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

    #[test]
    fn keys_and_values_parse_as_the_core_parses_them() {
        // The design's `"field"=value`, accepted for keys as for values.
        let key = parse_json_object("--key", r#"{"CARVIO_ID"=7}"#).unwrap();
        assert_eq!(key["CARVIO_ID"], 7);
        let args = ValueArgs {
            value: Some(r#"{"speed"=12, "format"="trip-gps", "note": "a=b"}"#.into()),
            value_file: None,
        };
        let value = parse_value_arg(&args).unwrap();
        assert_eq!(value["format"], "trip-gps");
        assert_eq!(value["note"], "a=b", "an `=` inside a string stays");
        for bad in ["[1]", "3", "{\"a\"="] {
            let args = ValueArgs {
                value: Some(bad.into()),
                value_file: None,
            };
            let err = parse_value_arg(&args).unwrap_err();
            assert_eq!(err.exit_code(), 3, "{bad}");
            assert!(
                err.to_string().contains("--value is not a JSON object"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_value_file_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("value.json");
        let long = "x".repeat(300_000);
        fs::write(&path, format!(r#"{{"scan"="{long}"}}"#)).unwrap();
        let args = ValueArgs {
            value: None,
            value_file: Some(path),
        };
        assert_eq!(parse_value_arg(&args).unwrap()["scan"], long.as_str());
        let missing = ValueArgs {
            value: None,
            value_file: Some(dir.path().join("absent.json")),
        };
        assert_eq!(parse_value_arg(&missing).unwrap_err().exit_code(), 1);
    }

    #[test]
    fn custom_formats_are_what_the_core_registry_takes() {
        // A custom name may not pass for a built-in one in another case.
        let err = format_spec(&format("Trip-GPS", &["A"])).unwrap_err();
        assert_eq!(err.exit_code(), 3);
        assert!(err.to_string().contains("reserved"), "{err}");
        for (name, fields) in [
            ("", &["A"][..]),
            ("bad name", &["A"][..]),
            ("odometer", &["A", "A"][..]),
            ("odometer", &[""][..]),
        ] {
            let err = format_spec(&format(name, fields)).unwrap_err();
            assert_eq!(err.exit_code(), 3, "{name} {fields:?}");
        }
        let longest = "f".repeat(carchain_core::record::MAX_FORMAT_NAME_LEN);
        let fields: Vec<String> = (0..carchain_core::record::MAX_KEY_FIELDS)
            .map(|i| format!("F{i}"))
            .collect();
        let spec = format_spec(&FormatArgs {
            format: longest.clone(),
            fields: fields.clone(),
        })
        .unwrap();
        assert_eq!(
            (spec.name(), spec.key_fields()),
            (longest.as_str(), &fields[..])
        );
        assert_eq!(
            format_spec(&format("VIN_CODE", &["VEHICLE_DATA"])).unwrap(),
            FormatSpec::vin_code()
        );
    }

    #[test]
    fn addresses_are_passed_on_in_the_ledger_form() {
        let generator =
            hex::decode("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
                .unwrap();
        let key = carchain_core::keys::ecc::parse_public_key(&generator).unwrap();
        let address = carchain_core::keys::p2wpkh_address(&key, Network::Regtest).to_string();
        assert!(address.starts_with("bcrt1q"), "{address}");
        for form in [
            address.clone(),
            address.to_uppercase(),
            format!("  {address}\n"),
        ] {
            assert_eq!(
                canonical_address(&form, Network::Regtest),
                address,
                "{form}"
            );
        }
        // What the core does not parse, or another network's address, is passed on for
        // the core to refuse.
        for other in ["not-an-address", "BcRt1qxyz"] {
            assert_eq!(canonical_address(other, Network::Regtest), other);
        }
        let mainnet = carchain_core::keys::p2wpkh_address(&key, Network::Mainnet).to_string();
        assert_eq!(canonical_address(&mainnet, Network::Regtest), mainnet);
    }

    #[test]
    fn pages_are_offset_and_limit() {
        let at = |offset, limit| page(&PageArgs { offset, limit });
        assert_eq!(at(0, None), None);
        assert_eq!(at(0, Some(5)), Some((0, 5)));
        assert_eq!(at(3, None), Some((3, usize::MAX)));
        assert_eq!(
            at(2, Some(0)),
            Some((2, 0)),
            "the core refuses a limit of 0"
        );
    }
}
