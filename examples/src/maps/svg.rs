//! One map per car and day as SVG: a light grid, each trip as a projected polyline
//! (one `<path class="trip-path">` per trip, with start and end markers), harsh brakes
//! and parking violations marked, and a legend.

use std::fmt::Write;

use carchain_core::trip::{BoundingBox, Trip};

use super::MapError;
use super::project::Projection;

/// Width of a day map, pixels.
pub const MAP_WIDTH: f64 = 800.0;
/// Height of a day map, pixels.
pub const MAP_HEIGHT: f64 = 600.0;
/// Colours of successive trips.
const TRIP_COLOURS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
];

/// What to draw on a day map besides the trips.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayMarks {
    /// Harsh brakes, `(lat, lng)`.
    pub harsh_brakes: Vec<(f64, f64)>,
    /// Parking violations, `(lat, lng)`.
    pub violations: Vec<(f64, f64)>,
}

/// Renders the map of one car's day. `title` is shown at the top (escaped).
pub fn day_map_svg(title: &str, trips: &[Trip], marks: &DayMarks) -> Result<String, MapError> {
    let bbox = trips
        .iter()
        .filter_map(|trip| BoundingBox::around(&trip.points))
        .reduce(|a, b| a.union(&b))
        .ok_or(MapError::NothingToDraw)?;
    let projection = Projection::fit(&bbox, MAP_WIDTH, MAP_HEIGHT - 60.0, 30.0);
    let mut svg = String::new();
    let w = MAP_WIDTH;
    let h = MAP_HEIGHT;
    // Writing to a String cannot fail; the results are ignored on purpose.
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" class="day-map">"#
    );
    let _ = write!(
        svg,
        r##"<rect x="0" y="0" width="{w}" height="{h}" fill="#fbfaf6"/>"##
    );
    // A light grid every 50 px.
    svg.push_str(r##"<g class="grid" stroke="#e4e1d8" stroke-width="1">"##);
    let mut x = 0.0;
    while x <= w {
        let _ = write!(svg, r#"<line x1="{x}" y1="0" x2="{x}" y2="{}"/>"#, h - 60.0);
        x += 50.0;
    }
    let mut y = 0.0;
    while y <= h - 60.0 {
        let _ = write!(svg, r#"<line x1="0" y1="{y}" x2="{w}" y2="{y}"/>"#);
        y += 50.0;
    }
    svg.push_str("</g>");
    let _ = write!(
        svg,
        r##"<text x="12" y="22" font-family="sans-serif" font-size="16" fill="#333">{}</text>"##,
        escape(title)
    );
    for (n, trip) in trips.iter().enumerate() {
        let colour = TRIP_COLOURS.get(n % TRIP_COLOURS.len()).unwrap_or(&"#000");
        let mut d = String::new();
        for (k, point) in trip.points.iter().enumerate() {
            let (px, py) = projection.point(point.lat, point.lng);
            let _ = write!(d, "{}{px:.1},{py:.1}", if k == 0 { "M" } else { " L" });
        }
        let _ = write!(
            svg,
            r#"<path class="trip-path" data-session="{}" d="{d}" fill="none" stroke="{colour}" stroke-width="3" stroke-linejoin="round" stroke-linecap="round" opacity="0.85"/>"#,
            trip.session_id
        );
        if let (Some(first), Some(last)) = (trip.points.first(), trip.points.last()) {
            let (sx, sy) = projection.point(first.lat, first.lng);
            let (ex, ey) = projection.point(last.lat, last.lng);
            let _ = write!(
                svg,
                r##"<circle class="trip-start" cx="{sx:.1}" cy="{sy:.1}" r="6" fill="#2ca02c" stroke="#fff" stroke-width="2"/>"##
            );
            let _ = write!(
                svg,
                r##"<rect class="trip-end" x="{:.1}" y="{:.1}" width="11" height="11" fill="#d62728" stroke="#fff" stroke-width="2"/>"##,
                ex - 5.5,
                ey - 5.5
            );
        }
    }
    for (lat, lng) in &marks.harsh_brakes {
        let (px, py) = projection.point(*lat, *lng);
        let _ = write!(
            svg,
            r##"<path class="harsh-brake" d="M{px:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} Z" fill="#ff7f0e" stroke="#333" stroke-width="1"/>"##,
            py - 8.0,
            px + 7.0,
            py + 6.0,
            px - 7.0,
            py + 6.0
        );
    }
    for (lat, lng) in &marks.violations {
        let (px, py) = projection.point(*lat, *lng);
        let _ = write!(
            svg,
            r##"<circle class="violation" cx="{px:.1}" cy="{py:.1}" r="8" fill="none" stroke="#7b3294" stroke-width="3"/>"##
        );
    }
    legend(&mut svg, trips.len(), h);
    svg.push_str("</svg>\n");
    Ok(svg)
}

fn legend(svg: &mut String, trips: usize, h: f64) {
    let y = h - 30.0;
    let _ = write!(
        svg,
        r##"<g class="legend" font-family="sans-serif" font-size="13" fill="#333"><rect x="0" y="{}" width="{MAP_WIDTH}" height="60" fill="#f0ede4"/>"##,
        h - 60.0
    );
    let _ = write!(
        svg,
        r##"<line x1="14" y1="{y}" x2="44" y2="{y}" stroke="#1f77b4" stroke-width="3"/><text x="50" y="{}">{trips} trip(s)</text>"##,
        y + 4.0
    );
    let _ = write!(
        svg,
        r##"<circle cx="160" cy="{y}" r="6" fill="#2ca02c"/><text x="172" y="{}">start</text>"##,
        y + 4.0
    );
    let _ = write!(
        svg,
        r##"<rect x="235" y="{}" width="11" height="11" fill="#d62728"/><text x="252" y="{}">end</text>"##,
        y - 5.5,
        y + 4.0
    );
    let _ = write!(
        svg,
        r##"<path d="M320,{} L327,{} L313,{} Z" fill="#ff7f0e"/><text x="334" y="{}">harsh brake</text>"##,
        y - 8.0,
        y + 6.0,
        y + 6.0,
        y + 4.0
    );
    let _ = write!(
        svg,
        r##"<circle cx="440" cy="{y}" r="7" fill="none" stroke="#7b3294" stroke-width="3"/><text x="454" y="{}">parking violation (carvio)</text></g>"##,
        y + 4.0
    );
}

/// Escapes text for XML/HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use carchain_core::trip::TripPoint;

    fn trip(session_id: i64, points: &[(f64, f64)]) -> Trip {
        Trip {
            session_id,
            start: 0,
            end: points.len() as i64,
            points: points
                .iter()
                .enumerate()
                .map(|(n, (lat, lng))| TripPoint {
                    lat: *lat,
                    lng: *lng,
                    speed_kmh: None,
                    time: n as i64,
                })
                .collect(),
        }
    }

    #[test]
    fn one_path_per_trip_with_markers_and_legend() {
        let trips = [
            trip(1, &[(31.20, 121.40), (31.21, 121.41), (31.22, 121.45)]),
            trip(2, &[(31.22, 121.45), (31.25, 121.50)]),
        ];
        let marks = DayMarks {
            harsh_brakes: vec![(31.21, 121.41)],
            violations: vec![(31.25, 121.50)],
        };
        let svg = day_map_svg("car <1> & day", &trips, &marks).unwrap();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert_eq!(svg.matches("class=\"trip-path\"").count(), 2);
        assert_eq!(svg.matches("class=\"trip-start\"").count(), 2);
        assert_eq!(svg.matches("class=\"trip-end\"").count(), 2);
        assert_eq!(svg.matches("class=\"harsh-brake\"").count(), 1);
        assert_eq!(svg.matches("class=\"violation\"").count(), 1);
        assert!(svg.contains("data-session=\"2\""));
        assert!(svg.contains("car &lt;1&gt; &amp; day"));
        assert!(svg.contains("class=\"legend\""));
        assert!(svg.contains("class=\"grid\""));
        // The first trip's path has three vertices.
        let path = svg.split("data-session=\"1\" d=\"").nth(1).unwrap();
        let d = path.split('"').next().unwrap();
        assert_eq!(d.matches('L').count(), 2);
        assert!(d.starts_with('M'));
    }

    #[test]
    fn nothing_to_draw_is_an_error() {
        assert_eq!(
            day_map_svg("empty", &[], &DayMarks::default()),
            Err(MapError::NothingToDraw)
        );
    }
}
