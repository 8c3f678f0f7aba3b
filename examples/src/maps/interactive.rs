//! The interactive map of `index.html`: every car's and day's trips on one Leaflet map
//! (Leaflet 1.9.4 from npm, shipped in `examples/assets/leaflet` and copied beside the
//! page — no CDN), OpenStreetMap tiles when the viewer is online and the tracks on a
//! plain background when not, a scale, a layer switch per car and day, and a popup per
//! trip with its time, distance, duration, average and top speed, harsh brakes and the
//! parking violations booked after it.

use std::fmt::Write;
use std::path::Path;

use serde::Serialize;

/// The Leaflet files the page loads, relative to it, with their bytes.
const LEAFLET_FILES: &[(&str, &[u8])] = &[
    (
        "leaflet/leaflet.js",
        include_bytes!("../../assets/leaflet/leaflet.js"),
    ),
    (
        "leaflet/leaflet.css",
        include_bytes!("../../assets/leaflet/leaflet.css"),
    ),
    (
        "leaflet/LICENSE",
        include_bytes!("../../assets/leaflet/LICENSE"),
    ),
    (
        "leaflet/images/layers.png",
        include_bytes!("../../assets/leaflet/images/layers.png"),
    ),
    (
        "leaflet/images/layers-2x.png",
        include_bytes!("../../assets/leaflet/images/layers-2x.png"),
    ),
];

/// Track colours, one per car in order (distinct from the static maps' blue).
pub const CAR_COLOURS: [&str; 4] = ["#c51b8a", "#238b45", "#6a51a3", "#d95f0e"];

/// One trip as the interactive map shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapTrip {
    /// The car's name in the layer switch, e.g. "VIN… (Car 1)".
    pub car: String,
    /// The car's index (its colour).
    pub car_index: usize,
    /// The day, YYYY-MM-DD.
    pub day: String,
    /// Start and end, unix seconds.
    pub start: i64,
    /// End, unix seconds.
    pub end: i64,
    /// Length in metres.
    pub distance_m: f64,
    /// Average and top speed, km/h.
    pub avg_kmh: f64,
    /// Top speed, km/h.
    pub top_kmh: f64,
    /// Harsh brakes on the way: `[lat, lng]`.
    pub harsh_brakes: Vec<[f64; 2]>,
    /// Parking violations booked after this trip (before the car's next one): `[lat, lng]`.
    pub violations: Vec<[f64; 2]>,
    /// The track: `[lat, lng]` per point.
    pub track: Vec<[f64; 2]>,
}

/// Writes the Leaflet files under `out/leaflet/`; their paths relative to `out`.
pub fn write_leaflet(out: &Path) -> std::io::Result<Vec<String>> {
    let mut written = Vec::new();
    for (name, bytes) in LEAFLET_FILES {
        let path = out.join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, bytes)?;
        written.push((*name).to_owned());
    }
    Ok(written)
}

/// The `<head>` lines that load Leaflet.
pub fn leaflet_head() -> &'static str {
    "<link rel=\"stylesheet\" href=\"leaflet/leaflet.css\">\
     <script src=\"leaflet/leaflet.js\"></script>"
}

/// The map's `<div>` and the script that draws `trips` on it.
pub fn interactive_map(trips: &[MapTrip]) -> String {
    // `</` never occurs in the JSON of numbers and escaped names, so it cannot close the
    // script early; escape it anyway for names.
    let data = serde_json::to_string(trips)
        .unwrap_or_else(|_| "[]".into())
        .replace("</", "<\\/");
    let colours = serde_json::to_string(&CAR_COLOURS).unwrap_or_else(|_| "[]".into());
    let mut html = String::new();
    let _ = write!(
        html,
        "<div id=\"map\" style=\"height:480px;background:#eceae4;border:1px solid #bbb\"></div>\n\
         <p id=\"map-note\">Tracks on OpenStreetMap when online (© OpenStreetMap contributors); \
         on a plain background offline. Click a track for its figures.</p>\n\
         <script>\n(function () {{\n\
         const trips = {data};\n\
         const colours = {colours};\n\
         {MAP_SCRIPT}\n}})();\n</script>\n"
    );
    html
}

/// The drawing script (plain ES5 so any browser runs it); `trips` and `colours` are in
/// scope.
const MAP_SCRIPT: &str = r#"
const map = L.map('map', { preferCanvas: false });
L.tileLayer('https://tile.openstreetmap.org/{z}/{x}/{y}.png', {
  maxZoom: 19,
  attribution: '&copy; OpenStreetMap contributors'
}).addTo(map);
L.control.scale({ metric: true, imperial: false }).addTo(map);
const layers = {};
const bounds = L.latLngBounds([]);
const clock = function (t) {
  return new Date(t * 1000).toLocaleTimeString('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit' });
};
const escapeText = function (text) {
  return String(text).replace(/[&<>"]/g, function (c) {
    return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c];
  });
};
trips.forEach(function (trip) {
  const name = trip.car + ' · ' + trip.day;
  const group = layers[name] || (layers[name] = L.layerGroup().addTo(map));
  const colour = colours[trip.car_index % colours.length];
  const minutes = Math.round((trip.end - trip.start) / 60);
  const popup = '<b>' + escapeText(trip.car) + '</b><br>' + trip.day + ' ' + clock(trip.start) + '–' + clock(trip.end) +
    ' (Shanghai time)<br>' + (trip.distance_m / 1000).toFixed(1) + ' km in ' + minutes + ' min<br>' +
    'average ' + trip.avg_kmh.toFixed(0) + ' km/h, top ' + trip.top_kmh.toFixed(0) + ' km/h<br>' +
    trip.harsh_brakes.length + ' harsh brake(s), ' + trip.violations.length + ' parking violation(s) after it';
  const line = L.polyline(trip.track, { color: colour, weight: 4, opacity: 0.85, className: 'trip-track' })
    .bindPopup(popup).addTo(group);
  bounds.extend(line.getBounds());
  trip.harsh_brakes.forEach(function (at) {
    L.circleMarker(at, { radius: 5, color: '#ff7f0e', fillOpacity: 0.9, className: 'harsh-brake' })
      .bindPopup('harsh brake').addTo(group);
  });
  trip.violations.forEach(function (at) {
    L.circleMarker(at, { radius: 7, color: '#7b3294', fill: false, weight: 3, className: 'violation' })
      .bindPopup('parking violation').addTo(group);
  });
});
L.control.layers(null, layers, { collapsed: true }).addTo(map);
if (bounds.isValid()) { map.fitBounds(bounds, { padding: [16, 16] }); } else { map.setView([31.23, 121.47], 11); }
document.getElementById('map').setAttribute('data-trips', String(trips.length));
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn trip(name: &str) -> MapTrip {
        MapTrip {
            car: name.into(),
            car_index: 0,
            day: "2024-05-06".into(),
            start: 1_714_960_000,
            end: 1_714_961_200,
            distance_m: 12_300.0,
            avg_kmh: 36.9,
            top_kmh: 61.0,
            harsh_brakes: vec![[31.2, 121.4]],
            violations: Vec::new(),
            track: vec![[31.2, 121.4], [31.21, 121.41]],
        }
    }

    #[test]
    fn the_map_carries_every_trip_and_loads_leaflet_locally() {
        let html = interactive_map(&[trip("Car 1"), trip("Car 2")]);
        assert!(html.contains("<div id=\"map\""));
        let data = html
            .split("const trips = ")
            .nth(1)
            .and_then(|rest| rest.split(";\n").next())
            .unwrap();
        let parsed: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(parsed.as_array().unwrap().len(), 2);
        assert_eq!(parsed[0]["track"][1][1], 121.41);
        assert!(leaflet_head().contains("href=\"leaflet/leaflet.css\""));
        assert!(!leaflet_head().contains("http"));
    }

    #[test]
    fn a_name_cannot_close_the_script() {
        let html = interactive_map(&[trip("</script><script>alert(1)")]);
        assert_eq!(html.matches("</script>").count(), 1);
    }

    #[test]
    fn the_leaflet_files_are_written_beside_the_page() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_leaflet(dir.path()).unwrap();
        assert!(files.contains(&"leaflet/leaflet.js".to_owned()));
        let js = std::fs::read_to_string(dir.path().join("leaflet/leaflet.js")).unwrap();
        assert!(js.contains("Leaflet 1.9.4"));
        assert!(dir.path().join("leaflet/images/layers.png").exists());
    }
}
