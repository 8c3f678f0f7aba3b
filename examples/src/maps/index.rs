//! The `index.html`: the interactive map of every car and day first (see
//! [`super::interactive`]), then every day map (inline SVG, so the paths are in the page
//! itself) with links to each map's SVG and PNG and to `trips.geojson` / `trips.gpx`.

use std::fmt::Write;

use super::interactive::leaflet_head;
use super::svg::escape;

/// One map on the index page.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexEntry {
    /// Heading, e.g. "Car 1 · 2024-05-06 · 3 trips, 42.1 km".
    pub heading: String,
    /// The SVG file name (relative to the page).
    pub svg_file: String,
    /// The PNG file name, when one was rendered.
    pub png_file: Option<String>,
    /// The SVG itself, inlined.
    pub svg: String,
}

/// The page: `title`, a paragraph `intro`, the interactive map (`map`, from
/// [`super::interactive_map`]; Leaflet is loaded when there is one), then every entry.
pub fn index_html(title: &str, intro: &str, map: Option<&str>, entries: &[IndexEntry]) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>{}\
         <style>body{{font-family:sans-serif;margin:24px;background:#fff;color:#222}}\
         section{{margin:18px 0}}h2{{font-size:17px}}</style></head><body>\n<h1>{}</h1>\n<p>{}</p>\n\
         <p>Downloads: <a id=\"geojson\" href=\"trips.geojson\">trips.geojson</a> · \
         <a id=\"gpx\" href=\"trips.gpx\">trips.gpx</a> · \
         <a href=\"summary.json\">summary.json</a></p>\n",
        escape(title),
        if map.is_some() { leaflet_head() } else { "" },
        escape(title),
        escape(intro)
    );
    if let Some(map) = map {
        html.push_str(map);
    }
    for entry in entries {
        let _ = write!(
            html,
            "<section class=\"day\"><h2>{}</h2>{}\n<p><a href=\"{}\">SVG</a>",
            escape(&entry.heading),
            entry.svg,
            escape(&entry.svg_file)
        );
        if let Some(png) = &entry.png_file {
            let _ = write!(html, " · <a href=\"{}\">PNG</a>", escape(png));
        }
        html.push_str("</p></section>\n");
    }
    html.push_str("</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_inlines_maps_and_links_downloads() {
        let entries = [IndexEntry {
            heading: "Car <1>".into(),
            svg_file: "car1-2024-05-06.svg".into(),
            png_file: Some("car1-2024-05-06.png".into()),
            svg: "<svg><path class=\"trip-path\" d=\"M0,0 L1,1\"/></svg>".into(),
        }];
        let html = index_html("Tour", "A week", Some("<div id=\"map\"></div>"), &entries);
        assert!(html.contains("leaflet/leaflet.js"));
        assert!(html.contains("<div id=\"map\"></div>"));
        assert!(!index_html("Tour", "A week", None, &entries).contains("leaflet"));
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<h2>Car &lt;1&gt;</h2><svg><path class=\"trip-path\""));
        assert!(html.contains("href=\"trips.geojson\""));
        assert!(html.contains("href=\"trips.gpx\""));
        assert!(html.contains("href=\"car1-2024-05-06.png\""));
        assert_eq!(html.matches("<section").count(), 1);
    }
}
