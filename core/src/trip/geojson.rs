//! GeoJSON (RFC 7946) export: a trip as a `Feature` whose geometry is a `LineString` of
//! `[longitude, latitude]` positions, with the summary figures as properties and a
//! `bbox`; several trips as a `FeatureCollection`.
//!
//! A trip of a single point gets a `Point` geometry, since RFC 7946 requires a
//! `LineString` to have at least two positions.

use serde_json::{Value, json};

use super::error::TripError;
use super::geo::BoundingBox;
use super::point::Trip;

impl Trip {
    /// The trip as a GeoJSON `Feature` value.
    pub fn to_geojson_value(&self) -> Result<Value, TripError> {
        let summary = self.summary()?;
        let positions: Vec<[f64; 2]> = self.points.iter().map(|p| [p.lng, p.lat]).collect();
        let geometry = match positions.as_slice() {
            [single] => json!({"type": "Point", "coordinates": single}),
            _ => json!({"type": "LineString", "coordinates": positions}),
        };
        Ok(json!({
            "type": "Feature",
            "bbox": summary.bbox.to_geojson(),
            "geometry": geometry,
            "properties": {
                "session_id": summary.session_id,
                "start": summary.start,
                "end": summary.end,
                "distance_m": summary.distance_m,
                "duration_s": summary.duration_s,
                "avg_speed_kmh": summary.avg_speed_kmh,
                "max_speed_kmh": summary.max_speed_kmh,
                "point_count": summary.point_count,
            }
        }))
    }

    /// The trip as GeoJSON `Feature` text.
    pub fn to_geojson(&self) -> Result<String, TripError> {
        Ok(self.to_geojson_value()?.to_string())
    }
}

/// Several trips as a GeoJSON `FeatureCollection` value, with a `bbox` around all of
/// them (none for an empty collection).
pub fn trips_to_geojson_value(trips: &[Trip]) -> Result<Value, TripError> {
    let features = trips
        .iter()
        .map(Trip::to_geojson_value)
        .collect::<Result<Vec<_>, _>>()?;
    let bbox = trips
        .iter()
        .filter_map(|trip| BoundingBox::around(&trip.points))
        .reduce(|acc, next| acc.union(&next));
    let mut collection = json!({"type": "FeatureCollection", "features": features});
    if let (Some(bbox), Value::Object(map)) = (bbox, &mut collection) {
        map.insert("bbox".into(), json!(bbox.to_geojson()));
    }
    Ok(collection)
}

/// Several trips as GeoJSON `FeatureCollection` text.
pub fn trips_to_geojson(trips: &[Trip]) -> Result<String, TripError> {
    Ok(trips_to_geojson_value(trips)?.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::point::TripPoint;
    use super::super::test_vectors::seed_trip;
    use super::*;

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn trip_feature_has_lng_lat_coordinates() {
        let trip = seed_trip();
        let feature = parse(&trip.to_geojson().unwrap());
        assert_eq!(feature["type"], "Feature");
        assert_eq!(feature["geometry"]["type"], "LineString");
        let coordinates = feature["geometry"]["coordinates"].as_array().unwrap();
        assert_eq!(coordinates.len(), 10);
        assert_eq!(coordinates[0], json!([121.44662, 31.250885]));
        assert_eq!(coordinates[9], json!([121.77829, 31.115866]));
    }

    #[test]
    fn trip_feature_carries_bbox_and_summary_properties() {
        let trip = seed_trip();
        let summary = trip.summary().unwrap();
        let feature = parse(&trip.to_geojson().unwrap());
        assert_eq!(
            feature["bbox"],
            json!([121.4456, 31.115866, 121.77829, 31.298483])
        );
        let properties = &feature["properties"];
        assert_eq!(properties["session_id"], 1);
        assert_eq!(properties["start"], 1_462_950_868);
        assert_eq!(properties["end"], 1_462_959_983);
        assert_eq!(properties["duration_s"], 9_115);
        assert_eq!(properties["max_speed_kmh"], 52.0);
        assert_eq!(properties["point_count"], 10);
        assert_eq!(properties["distance_m"], json!(summary.distance_m));
        assert_eq!(properties["avg_speed_kmh"], json!(summary.avg_speed_kmh));
    }

    #[test]
    fn single_point_trip_is_a_point_feature() {
        let trip = Trip {
            session_id: 3,
            start: 10,
            end: 10,
            points: vec![TripPoint {
                lat: 48.8584,
                lng: 2.2945,
                speed_kmh: None,
                time: 10,
            }],
        };
        let feature = parse(&trip.to_geojson().unwrap());
        assert_eq!(
            feature["geometry"],
            json!({"type": "Point", "coordinates": [2.2945, 48.8584]})
        );
    }

    #[test]
    fn collection_holds_every_trip_and_their_joint_bbox() {
        let first = seed_trip();
        let mut second = seed_trip();
        second.session_id = 2;
        for point in &mut second.points {
            point.lat -= 1.0;
            point.lng += 2.0;
        }
        let collection = parse(&trips_to_geojson(&[first, second]).unwrap());
        assert_eq!(collection["type"], "FeatureCollection");
        let features = collection["features"].as_array().unwrap();
        assert_eq!(features.len(), 2);
        assert_eq!(features[1]["properties"]["session_id"], 2);
        let bbox = collection["bbox"].as_array().unwrap();
        assert_eq!(bbox[0], json!(121.4456));
        assert!((bbox[1].as_f64().unwrap() - 30.115866).abs() < 1e-9);
        assert!((bbox[2].as_f64().unwrap() - 123.77829).abs() < 1e-9);
        assert_eq!(bbox[3], json!(31.298483));
    }

    #[test]
    fn empty_collection_has_no_bbox() {
        let collection = parse(&trips_to_geojson(&[]).unwrap());
        assert_eq!(
            collection,
            json!({"type": "FeatureCollection", "features": []})
        );
    }

    #[test]
    fn empty_trip_cannot_be_exported() {
        let mut trip = seed_trip();
        trip.points.clear();
        assert_eq!(trip.to_geojson(), Err(TripError::EmptyTrack));
        assert_eq!(
            trips_to_geojson(&[seed_trip(), trip]),
            Err(TripError::EmptyTrack)
        );
    }
}
