//! `carchain record put|update|get|list`: the owner's own records of a car (the seed's
//! putWalKV) — the VIN, service history, documents — written from the wallet under the
//! car's pool, versioned, and read back verified and decrypted. Bad formats, keys,
//! values and updates of records the wallet does not own are input errors (exit 3)
//! naming their `owner_record.*` code; nothing is sent for them.

use carchain_core::record::FormatSpec;
use carchain_core::wallet::{OwnerRecord, OwnerRecordWrite, owner_format};
use serde_json::{Value, json};

use super::args::{FormatArgs, RecordCommand, RecordGetArgs, RecordWriteArgs, RecordsInArgs};
use super::data_cmd::{car_reader, key_and_date, no_record, period};
use super::error::CliError;
use super::output::emit;
use super::session::{Session, parse_date, parse_json_object, parse_value_arg};

/// Runs a `record` subcommand.
pub async fn run(session: &Session, command: &RecordCommand) -> Result<(), CliError> {
    match command {
        RecordCommand::Put(args) => write(session, args, false).await,
        RecordCommand::Update(args) => write(session, args, true).await,
        RecordCommand::Get(args) => get(session, args).await,
        RecordCommand::List(args) => list(session, args).await,
    }
}

/// The owner-record format of `--format` / `--fields`.
fn record_format(args: &FormatArgs) -> Result<FormatSpec, CliError> {
    let fields = (!args.fields.is_empty()).then_some(args.fields.as_slice());
    Ok(owner_format(&args.format, fields)?)
}

/// A record version as JSON.
fn record_json(record: &OwnerRecord) -> Value {
    json!({"format": record.format, "key": record.key, "date": record.date.to_string(),
           "version": record.version, "value": record.value, "height": record.height,
           "d_hash": hex::encode(record.d_hash), "address": record.address})
}

/// A record version as one line of text.
fn record_line(record: &OwnerRecord) -> String {
    format!(
        "{}  {}  v{}  {}",
        record.date,
        Value::Object(record.key.clone()),
        record.version,
        record.value
    )
}

/// `carchain record put` and `carchain record update`.
async fn write(session: &Session, args: &RecordWriteArgs, update: bool) -> Result<(), CliError> {
    let (input, vid) = (&args.record, &args.record.vid);
    let spec = record_format(&input.format)?;
    let key = parse_json_object("--key", &input.key)?;
    let value = parse_value_arg(&input.value)?;
    let date = match &args.date {
        Some(text) => parse_date("--date", text)?,
        None => chrono::Utc::now().date_naive(),
    };
    let (wallet, light) = car_reader(session, vid).await?;
    let written: OwnerRecordWrite = if update {
        wallet
            .update_owner_record(&light, vid, date, &spec, &key, &value)
            .await?
    } else {
        wallet
            .put_owner_record(&light, vid, date, &spec, &key, &value)
            .await?
    };
    let doc = json!({"vid": vid, "format": spec.name(), "key": key,
                     "date": date.to_string(), "version": written.version,
                     "height": written.height, "d_hash": hex::encode(written.d_hash)});
    emit(session.json, &doc, || {
        format!(
            "{} record of {vid} on {date}: version {} written",
            spec.name(),
            written.version
        )
    });
    Ok(())
}

/// `carchain record get`.
async fn get(session: &Session, args: &RecordGetArgs) -> Result<(), CliError> {
    let (record, vid) = (&args.record, &args.record.vid);
    let spec = record_format(&record.format)?;
    let (key, date) = key_and_date(record)?;
    let (wallet, light) = car_reader(session, vid).await?;
    let mut versions = wallet
        .owner_record_versions(&light, vid, date, &spec, &key, &record.fields.kept())
        .await?;
    if !args.versions {
        versions = versions.pop().into_iter().collect();
    }
    let doc = match (args.versions, versions.last()) {
        (true, _) => Value::Array(versions.iter().map(record_json).collect()),
        (false, Some(latest)) => record_json(latest),
        (false, None) => Value::Null,
    };
    emit(session.json, &doc, || {
        if versions.is_empty() {
            no_record(spec.name(), vid, date)
        } else {
            versions
                .iter()
                .map(record_line)
                .collect::<Vec<_>>()
                .join("\n")
        }
    });
    Ok(())
}

/// `carchain record list`.
async fn list(session: &Session, args: &RecordsInArgs) -> Result<(), CliError> {
    let spec = record_format(&args.format)?;
    let vid = &args.period.vid;
    let (from, to) = period(&args.period.from, &args.period.to)?;
    let (wallet, light) = car_reader(session, vid).await?;
    let list = wallet
        .list_owner_records(&light, vid, from, to, &spec, &args.fields.kept())
        .await?;
    let records: Vec<Value> = list
        .records
        .iter()
        .zip(&list.versions)
        .map(|(record, count)| {
            let mut doc = record_json(record);
            doc["versions"] = json!(count);
            doc
        })
        .collect();
    let doc = json!({"vid": vid, "format": spec.name(), "from": from.to_string(),
                     "to": to.to_string(), "records": records,
                     "rejected": list.rejected.len(), "missing": list.missing});
    emit(session.json, &doc, || {
        let mut lines: Vec<String> = list.records.iter().map(record_line).collect();
        lines.push(format!(
            "{} {} records of {vid} filed from {from} to {to}",
            list.records.len(),
            spec.name()
        ));
        lines.join("\n")
    });
    Ok(())
}
