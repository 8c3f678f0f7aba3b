//! GPX 1.1 export: each trip becomes a `<trk>` with one `<trkseg>` of `<trkpt lat lon>`
//! points carrying an RFC 3339 UTC `<time>`, the format GPS tools and map apps import.
//! All text written into the document is XML-escaped.

use std::fmt::Write;

use super::datetime::unix_to_rfc3339;
use super::error::TripError;
use super::point::{Trip, check_track};

impl Trip {
    /// The trip alone as a GPX 1.1 document; `creator` names the exporting app.
    pub fn to_gpx(&self, creator: &str) -> Result<String, TripError> {
        trips_to_gpx(std::slice::from_ref(self), creator)
    }
}

/// Several trips as one GPX 1.1 document, one `<trk>` per trip named after its session.
pub fn trips_to_gpx(trips: &[Trip], creator: &str) -> Result<String, TripError> {
    let mut gpx = String::new();
    gpx.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    gpx.push_str("<gpx version=\"1.1\" creator=\"");
    gpx.push_str(&escape_xml(creator));
    gpx.push_str("\" xmlns=\"http://www.topografix.com/GPX/1/1\">\n");
    for trip in trips {
        write_track(&mut gpx, trip)?;
    }
    gpx.push_str("</gpx>\n");
    Ok(gpx)
}

fn write_track(gpx: &mut String, trip: &Trip) -> Result<(), TripError> {
    check_track(&trip.points)?;
    let name = escape_xml(&format!("CarChain trip {}", trip.session_id));
    // Writing into a String cannot fail.
    let _ = writeln!(gpx, "  <trk>\n    <name>{name}</name>\n    <trkseg>");
    for point in &trip.points {
        let time = unix_to_rfc3339(point.time)?;
        let _ = writeln!(
            gpx,
            "      <trkpt lat=\"{}\" lon=\"{}\"><time>{time}</time></trkpt>",
            point.lat, point.lng
        );
    }
    gpx.push_str("    </trkseg>\n  </trk>\n");
    Ok(())
}

/// Escapes the five XML special characters for use in text and attribute values.
pub(crate) fn escape_xml(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::super::test_vectors::seed_trip;
    use super::*;

    #[test]
    fn gpx_contains_every_point_with_its_time() {
        let trip = seed_trip();
        let gpx = trip.to_gpx("CarChain wallet").unwrap();
        assert!(
            gpx.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=\"1.1\"")
        );
        assert!(gpx.contains("xmlns=\"http://www.topografix.com/GPX/1/1\""));
        assert_eq!(gpx.matches("<trkpt ").count(), 10);
        for point in &trip.points {
            let line = format!("<trkpt lat=\"{}\" lon=\"{}\">", point.lat, point.lng);
            assert!(gpx.contains(&line), "missing {line}");
        }
        assert!(gpx.contains(
            "<trkpt lat=\"31.250885\" lon=\"121.44662\"><time>2016-05-11T07:14:28Z</time></trkpt>"
        ));
        assert!(gpx.contains("<time>2016-05-11T09:46:23Z</time>"));
        assert!(gpx.contains("<name>CarChain trip 1</name>"));
        assert!(gpx.trim_end().ends_with("</gpx>"));
    }

    #[test]
    fn several_trips_become_several_tracks() {
        let mut second = seed_trip();
        second.session_id = 2;
        let gpx = trips_to_gpx(&[seed_trip(), second], "x").unwrap();
        assert_eq!(gpx.matches("<trk>").count(), 2);
        assert_eq!(gpx.matches("<trkpt ").count(), 20);
        assert!(gpx.contains("<name>CarChain trip 2</name>"));
    }

    #[test]
    fn creator_is_xml_escaped() {
        let gpx = seed_trip().to_gpx("Tom & \"Jerry\" <maps> 'app'").unwrap();
        assert!(
            gpx.contains("creator=\"Tom &amp; &quot;Jerry&quot; &lt;maps&gt; &apos;app&apos;\"")
        );
        assert!(!gpx.contains("\"Jerry\"") && !gpx.contains("<maps>"));
    }

    #[test]
    fn empty_trip_cannot_be_exported() {
        let mut trip = seed_trip();
        trip.points.clear();
        assert_eq!(trip.to_gpx("x"), Err(TripError::EmptyTrack));
    }

    #[test]
    fn unrepresentable_point_time_is_rejected() {
        let mut trip = seed_trip();
        trip.points[2].time = i64::MAX;
        assert_eq!(
            trip.to_gpx("x"),
            Err(TripError::TimestampOutOfRange(i64::MAX))
        );
    }

    #[test]
    fn invalid_position_is_rejected() {
        let mut trip = seed_trip();
        trip.points[1].lng = 200.0;
        assert_eq!(
            trip.to_gpx("x"),
            Err(TripError::LongitudeOutOfRange {
                index: 1,
                lng: 200.0
            })
        );
    }
}
