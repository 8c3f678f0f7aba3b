//! `carchain get` and `carchain range`: the owner reads a car's records back through its
//! secret pool, verified against the ledger and decrypted with the wallet's RSA key.

use carchain_core::wallet::{DroppedRecord, KvRecord, Wallet};
use serde_json::{Value, json};

use super::args::{GetArgs, RangeArgs};
use super::error::CliError;
use super::output::emit;
use super::session::{Session, format_spec, parse_date, parse_json_object};

/// A record as JSON.
fn record_json(record: &KvRecord) -> Value {
    json!({"address": record.address, "format": record.format, "key": record.key,
           "value": record.value, "height": record.height})
}

/// A dropped record as JSON.
fn dropped_json(dropped: &DroppedRecord) -> Value {
    json!({"address": dropped.address, "key": hex::encode(&dropped.key), "reason": dropped.reason})
}

/// A record as one line of text.
fn record_line(record: &KvRecord) -> String {
    format!(
        "{}  {}  {}",
        Value::Object(record.key.clone()),
        record.value,
        record.address
    )
}

/// Fails with an input error when the wallet has no car `vid`.
pub fn known_vid(wallet: &Wallet, vid: &str) -> Result<(), CliError> {
    if wallet.devices()?.iter().any(|d| d.vid == vid) {
        Ok(())
    } else {
        Err(CliError::Input(format!(
            "unknown VID `{vid}`: this wallet has no such car (see `carchain device list`)"
        )))
    }
}

/// `carchain get`.
pub async fn get(session: &Session, args: &GetArgs) -> Result<(), CliError> {
    let spec = format_spec(&args.format)?;
    let key = parse_json_object("--key", &args.key)?;
    let date = parse_date("--date", &args.date)?;
    let wallet = session.open_wallet()?;
    known_vid(&wallet, &args.vid)?;
    let light = session.wallet_light(&wallet).await?;
    let record = wallet
        .get_kv(&light, &args.vid, date, &spec, &key, &args.columns)
        .await?;
    let doc = record.as_ref().map_or(Value::Null, record_json);
    emit(session.json, &doc, || match &record {
        Some(record) => record_line(record),
        None => format!(
            "no {} record with that key for {} on {date}",
            spec.name(),
            args.vid
        ),
    });
    Ok(())
}

/// `carchain range`.
pub async fn range(session: &Session, args: &RangeArgs) -> Result<(), CliError> {
    let spec = format_spec(&args.format)?;
    let start = parse_json_object("--start", &args.start)?;
    let end = parse_json_object("--end", &args.end)?;
    let from = parse_date("--from", &args.from)?;
    let to = parse_date("--to", &args.to)?;
    let wallet = session.open_wallet()?;
    known_vid(&wallet, &args.vid)?;
    let light = session.wallet_light(&wallet).await?;
    let read = wallet
        .get_kv_range(
            &light,
            &args.vid,
            from,
            to,
            &spec,
            &start,
            &end,
            &args.columns,
            None,
        )
        .await?;
    let doc = json!({"vid": args.vid, "format": spec.name(), "from": from.to_string(),
                     "to": to.to_string(),
                     "records": read.records.iter().map(record_json).collect::<Vec<_>>(),
                     "rejected": read.rejected.iter().map(dropped_json).collect::<Vec<_>>(),
                     "missing": read.missing});
    emit(session.json, &doc, || {
        let mut lines: Vec<String> = read.records.iter().map(record_line).collect();
        lines.push(format!(
            "{} {} records of {} from {from} to {to}; {} set aside, {} registered but not served",
            read.records.len(),
            spec.name(),
            args.vid,
            read.rejected.len(),
            read.missing
        ));
        lines.join("\n")
    });
    Ok(())
}
