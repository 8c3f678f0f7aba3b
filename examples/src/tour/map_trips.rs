//! The tour's trips as the interactive map shows them: each track read back and
//! decrypted, with what the simulated car recorded around it.

use carchain_core::trip::Trip;

use crate::maps::MapTrip;
use crate::sim::SimulatedDay;

/// The interactive map's trips of one car's `day`: the tracks read back (`trips`), with
/// the harsh brakes the simulator recorded during each and the parking violations booked
/// after each (before the next trip).
pub(super) fn map_trips_of_day(
    car: &str,
    car_index: usize,
    date: &str,
    trips: &[Trip],
    day: &SimulatedDay,
) -> Vec<MapTrip> {
    let summaries: Vec<_> = trips
        .iter()
        .filter_map(|t| t.summary().ok().map(|s| (t, s)))
        .collect();
    summaries
        .iter()
        .enumerate()
        .map(|(i, (trip, summary))| {
            let until = summaries
                .get(i + 1)
                .map_or(i64::MAX, |(_, next)| next.start);
            MapTrip {
                car: car.to_owned(),
                car_index,
                day: date.to_owned(),
                start: summary.start,
                end: summary.end,
                distance_m: summary.distance_m,
                avg_kmh: summary.avg_speed_kmh,
                top_kmh: summary.max_speed_kmh,
                harsh_brakes: day
                    .trips
                    .iter()
                    .flat_map(|t| &t.harsh_brakes)
                    .filter(|b| (summary.start..=summary.end).contains(&b.time))
                    .map(|b| [b.lat, b.lng])
                    .collect(),
                violations: day
                    .violations
                    .iter()
                    .filter(|v| v.time >= summary.end && v.time < until)
                    .map(|v| [v.lat, v.lng])
                    .collect(),
                track: trip.points.iter().map(|p| [p.lat, p.lng]).collect(),
            }
        })
        .collect()
}
