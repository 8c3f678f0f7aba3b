//! `carchain get` and `carchain range`: the owner reads a car's records back through its
//! secret pool, verified against the ledger and decrypted with the wallet's RSA key.

use carchain_core::light::LightClient;
use carchain_core::wallet::{DroppedRecord, KvRecord, Wallet};
use chrono::NaiveDate;
use serde_json::{Value, json};

use super::args::{GetArgs, RangeArgs, RecordAtArgs};
use super::error::CliError;
use super::output::emit;
use super::session::{Session, format_spec, page, parse_date, parse_json_object};

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

/// The wallet and a light client for reading car `vid`'s records, once the wallet is
/// known to have that car.
pub async fn car_reader(session: &Session, vid: &str) -> Result<(Wallet, LightClient), CliError> {
    let wallet = session.open_wallet()?;
    known_vid(&wallet, vid)?;
    let light = session.wallet_light(&wallet).await?;
    Ok((wallet, light))
}

/// What a read of one record that found none prints.
pub fn no_record(format: &str, vid: &str, date: NaiveDate) -> String {
    format!("no {format} record with that key for {vid} on {date}")
}

/// The parsed key and day of `--key` / `--date`.
pub fn key_and_date(args: &RecordAtArgs) -> Result<(Value, NaiveDate), CliError> {
    Ok((
        parse_json_object("--key", &args.key)?,
        parse_date("--date", &args.date)?,
    ))
}

/// The parsed `--from` / `--to` days.
pub fn period(from: &str, to: &str) -> Result<(NaiveDate, NaiveDate), CliError> {
    Ok((parse_date("--from", from)?, parse_date("--to", to)?))
}

/// `carchain get`.
pub async fn get(session: &Session, args: &GetArgs) -> Result<(), CliError> {
    let args = &args.record;
    let spec = format_spec(&args.format)?;
    let (key, date) = key_and_date(args)?;
    let (wallet, light) = car_reader(session, &args.vid).await?;
    let record = wallet
        .get_kv(&light, &args.vid, date, &spec, &key, &args.fields.kept())
        .await?;
    let doc = record.as_ref().map_or(Value::Null, record_json);
    emit(session.json, &doc, || match &record {
        Some(record) => record_line(record),
        None => no_record(spec.name(), &args.vid, date),
    });
    Ok(())
}

/// `carchain range`.
pub async fn range(session: &Session, args: &RangeArgs) -> Result<(), CliError> {
    let (records, vid) = (&args.records, &args.records.period.vid);
    let spec = format_spec(&records.format)?;
    let start = parse_json_object("--start", &args.start)?;
    let end = parse_json_object("--end", &args.end)?;
    let (from, to) = period(&records.period.from, &records.period.to)?;
    let (wallet, light) = car_reader(session, vid).await?;
    let read = wallet
        .get_kv_range(
            &light,
            vid,
            from,
            to,
            &spec,
            &start,
            &end,
            &records.fields.kept(),
            page(&args.page),
        )
        .await?;
    let doc = json!({"vid": vid, "format": spec.name(), "from": from.to_string(),
                     "to": to.to_string(),
                     "records": read.records.iter().map(record_json).collect::<Vec<_>>(),
                     "rejected": read.rejected.iter().map(dropped_json).collect::<Vec<_>>(),
                     "missing": read.missing});
    emit(session.json, &doc, || {
        let mut lines: Vec<String> = read.records.iter().map(record_line).collect();
        lines.push(format!(
            "{} {} records of {vid} from {from} to {to}; {} set aside, {} registered but not served",
            read.records.len(),
            spec.name(),
            read.rejected.len(),
            read.missing
        ));
        lines.join("\n")
    });
    Ok(())
}
