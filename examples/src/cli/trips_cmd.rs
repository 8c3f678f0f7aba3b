//! `carchain trips list|show|export`: a car's trips for people and for map tools
//! (GeoJSON, GPX, and an SVG map drawn by `examples/src/maps`).

use std::fs;

use crate::maps::{DayMarks, day_map_svg};
use carchain_core::trip::{
    Trip, TripSummary, total_distance_m, trips_to_geojson, trips_to_gpx, unix_to_compact,
};
use serde_json::{Value, json};

use super::args::{ExportFormat, PeriodArgs, TripsCommand};
use super::data_cmd::{car_reader, period};
use super::error::CliError;
use super::output::emit;
use super::session::{Session, parse_date, parse_json_object};

/// A trip summary as JSON, with the record key (`START_TIME`/`END_TIME` in the
/// compact `YYYYMMDDhhmmss` form) that `trips show --key` takes.
fn summary_json(s: &TripSummary) -> Value {
    json!({"session_id": s.session_id, "start": s.start, "end": s.end,
           "distance_m": s.distance_m, "duration_s": s.duration_s,
           "avg_speed_kmh": s.avg_speed_kmh, "max_speed_kmh": s.max_speed_kmh,
           "points": s.point_count,
           "key": {"SESSION_ID": s.session_id,
                   "START_TIME": unix_to_compact(s.start).ok(),
                   "END_TIME": unix_to_compact(s.end).ok()}})
}

/// A trip summary as one line of text.
fn summary_line(s: &TripSummary) -> String {
    let start = chrono::DateTime::from_timestamp(s.start, 0).map_or_else(
        || s.start.to_string(),
        |t| t.format("%Y-%m-%d %H:%M").to_string(),
    );
    format!(
        "session {:<8} {start} UTC  {:>6.1} km  {:>4} min  avg {:>5.1} km/h  max {:>5.1} km/h",
        s.session_id,
        s.distance_m / 1000.0,
        s.duration_s / 60,
        s.avg_speed_kmh,
        s.max_speed_kmh
    )
}

/// Runs a `trips` command.
pub async fn run(session: &Session, command: &TripsCommand) -> Result<(), CliError> {
    match command {
        TripsCommand::List(PeriodArgs { vid, from, to }) => {
            let (from, to) = period(from, to)?;
            let (wallet, light) = car_reader(session, vid).await?;
            let list = wallet.trips(&light, vid, from, to).await?;
            let km = total_distance_m(list.trips.iter().map(|t| t.distance_m)) / 1000.0;
            let doc = json!({"vid": vid, "from": from.to_string(), "to": to.to_string(),
                             "trips": list.trips.iter().map(summary_json).collect::<Vec<_>>(),
                             "distance_km": km, "rejected": list.rejected.len(),
                             "missing": list.missing});
            emit(session.json, &doc, || {
                let mut lines: Vec<String> = list.trips.iter().map(summary_line).collect();
                lines.push(format!(
                    "{} trips, {km:.1} km, from {from} to {to}",
                    list.trips.len()
                ));
                lines.join("\n")
            });
            Ok(())
        }
        TripsCommand::Show { vid, date, key } => {
            let key = parse_json_object("--key", key)?;
            let date = parse_date("--date", date)?;
            let (wallet, light) = car_reader(session, vid).await?;
            let Some(track) = wallet.trip(&light, vid, date, &key).await? else {
                return Err(CliError::Input(format!(
                    "car {vid} has no trip with that key on {date}"
                )));
            };
            let geojson: Value = serde_json::from_str(&track.geojson).unwrap_or(Value::Null);
            let doc = json!({"vid": vid, "summary": summary_json(&track.summary),
                             "polyline": track.polyline, "geojson": geojson});
            emit(session.json, &doc, || {
                format!(
                    "{}\npolyline {}",
                    summary_line(&track.summary),
                    track.polyline
                )
            });
            Ok(())
        }
        TripsCommand::Export {
            period: PeriodArgs { vid, from, to },
            format,
            out,
        } => {
            let (from, to) = period(from, to)?;
            let (wallet, light) = car_reader(session, vid).await?;
            let read = wallet.trip_records(&light, vid, from, to).await?;
            let mut trips = Vec::new();
            for record in &read.records {
                trips.push(Trip::decode(&record.key, &record.value).map_err(|e| {
                    CliError::Verification(format!("a trip record did not decode: {e}"))
                })?);
            }
            if trips.is_empty() {
                return Err(CliError::Input(format!(
                    "car {vid} has no trips from {from} to {to}: nothing to export"
                )));
            }
            let text = match format {
                ExportFormat::Geojson => {
                    trips_to_geojson(&trips).map_err(|e| CliError::local("writing GeoJSON", e))?
                }
                ExportFormat::Gpx => {
                    trips_to_gpx(&trips, vid).map_err(|e| CliError::local("writing GPX", e))?
                }
                ExportFormat::Svg => day_map_svg(
                    &format!("{vid} · {from} to {to} · {} trips", trips.len()),
                    &trips,
                    &DayMarks::default(),
                )
                .map_err(|e| CliError::local("drawing the map", e))?,
            };
            fs::write(out, &text)
                .map_err(|e| CliError::local(&format!("writing {}", out.display()), e))?;
            emit(
                session.json,
                &json!({"vid": vid, "trips": trips.len(), "out": out.display().to_string(),
                        "bytes": text.len()}),
                || format!("{} trips written to {}", trips.len(), out.display()),
            );
            Ok(())
        }
    }
}
