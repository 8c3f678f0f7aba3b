//! `carchain car pairing-code|pair` and the car side of `put`: a car store on this
//! machine (SQLite, its at-rest key in `<store>.key`), as a head unit would hold it.

use std::path::Path;
use std::time::{Duration, Instant};

use carchain_core::device::{CarDevice, DeviceStore};
use carchain_core::light::LightClient;
use serde_json::json;

use super::args::{CarCommand, PutArgs};
use super::error::CliError;
use super::output::emit;
use super::session::{Session, format_spec, parse_date, parse_json_object, parse_value_arg};

/// Opens the car store at `path` for `vid` (created on first use).
fn open_car(path: &Path, vid: &str) -> Result<CarDevice, CliError> {
    if vid.trim().is_empty() {
        return Err(CliError::Input("--vid must not be empty".into()));
    }
    Ok(CarDevice::open(path, Session::secrets_for(path), vid)?)
}

/// Opens an existing car store, reading its VID from it.
fn open_existing_car(path: &Path) -> Result<CarDevice, CliError> {
    if !path.exists() {
        return Err(CliError::Input(format!(
            "no car store at {}: run `carchain car pairing-code` first",
            path.display()
        )));
    }
    let secrets = Session::secrets_for(path);
    let vid = DeviceStore::open(path, secrets.as_ref())
        .map_err(|e| CliError::local("opening the car store", e))?
        .device_key()
        .map_err(|e| CliError::local("reading the car store", e))?
        .map(|(vid, _)| vid)
        .ok_or_else(|| CliError::Input(format!("{} holds no car yet", path.display())))?;
    open_car(path, &vid)
}

/// A light client for the car store at `path`, paying for the car's reads on a shared
/// node from the car's own account (its owner funds it when pairing).
async fn car_light(
    session: &Session,
    path: &Path,
    device: &CarDevice,
) -> Result<LightClient, CliError> {
    Ok(device.paying_reads(session.light(Some(path)).await?))
}

/// Runs a `car` command.
pub async fn run(session: &Session, command: &CarCommand) -> Result<(), CliError> {
    match command {
        CarCommand::PairingCode {
            car,
            vid,
            ttl_secs,
            reset,
        } => {
            let device = open_car(car, vid)?;
            let payload = if *reset {
                device.reset(*ttl_secs)?
            } else {
                device.pairing_payload(*ttl_secs)?
            };
            let text = payload.to_text();
            emit(
                session.json,
                &json!({"vid": device.vid(), "payload": text, "expires_at": payload.expires_at}),
                || text.clone(),
            );
            Ok(())
        }
        CarCommand::Pair { car, timeout_secs } => {
            let device = open_existing_car(car)?;
            let light = car_light(session, car, &device).await?;
            let deadline = Instant::now() + Duration::from_secs(*timeout_secs);
            let vid = device.vid();
            poll_until(
                deadline,
                || device.complete_pairing(&light),
                || format!("car {vid} saw no pairing offer within {timeout_secs} s"),
            )
            .await?;
            poll_until(deadline, || device.is_paired(&light), || {
                format!(
                    "car {vid} accepted the offer but the ledger does not show it paired within \
                     {timeout_secs} s"
                )
            })
            .await?;
            emit(
                session.json,
                &json!({"vid": device.vid(), "paired": true}),
                || format!("car {} paired", device.vid()),
            );
            Ok(())
        }
    }
}

/// `carchain put`: seals, queues and delivers one record from the car store.
pub async fn put(session: &Session, args: &PutArgs) -> Result<(), CliError> {
    let record = &args.record;
    let spec = format_spec(&record.format)?;
    let key = parse_json_object("--key", &record.key)?;
    // Values as the design writes them (`"format"="trip-gps"`) are accepted, like the
    // core's record parsing accepts them; long ones come from a file or stdin.
    let value = parse_value_arg(&record.value)?;
    let date = parse_date("--date", &args.date)?;
    if !args.car.exists() {
        return Err(CliError::Input(format!(
            "no car store at {}: run `carchain car pairing-code` first",
            args.car.display()
        )));
    }
    let device = open_car(&args.car, &record.vid)?;
    let light = car_light(session, &args.car, &device).await?;
    device.put(&spec, &key, &value, date)?;
    let report = device.flush(&light).await?;
    let doc = json!({"vid": device.vid(), "format": spec.name(), "date": date.to_string(),
                     "delivered": report.delivered, "already_there": report.already_there,
                     "remaining": report.remaining});
    emit(session.json, &doc, || {
        format!(
            "put {} record for {} on {date}: {} delivered, {} already stored, {} still queued",
            spec.name(),
            device.vid(),
            report.delivered,
            report.already_there,
            report.remaining
        )
    });
    if report.remaining > 0 {
        return Err(CliError::Node(format!(
            "{} puts stay queued in the car store: no node took them; run put again later",
            report.remaining
        )));
    }
    Ok(())
}

/// Polls `done` every 200 ms until it answers true; once `deadline` passed, fails with
/// the node error `late` words.
async fn poll_until<Fut, E>(
    deadline: Instant,
    mut done: impl FnMut() -> Fut,
    late: impl FnOnce() -> String,
) -> Result<(), CliError>
where
    Fut: std::future::Future<Output = Result<bool, E>>,
    CliError: From<E>,
{
    while !done().await? {
        if Instant::now() >= deadline {
            return Err(CliError::Node(late()));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}
