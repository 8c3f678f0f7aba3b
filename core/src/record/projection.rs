//! Column projection: after decryption a reader keeps only the top-level fields it
//! asked for (the seed's `columns=["VEHICLE_DATA", "GPS", "SPEED"]`).
//!
//! `serde_json` objects in this workspace keep their keys sorted, so [`project`]
//! returns an object whose field order is the map's; [`project_ordered`] gives the
//! same fields as a list in the order of `columns`, for callers that show them.

use serde_json::{Map, Value};

use super::error::{RecordError, RecordResult, json_kind};

/// Keeps only the top-level fields named in `columns`; an empty list keeps all.
///
/// Fails with [`RecordError::ValueNotObject`], [`RecordError::UnknownColumn`] for a
/// column the value does not have and [`RecordError::DuplicateColumn`] for a column
/// asked twice.
pub fn project(value: &Value, columns: &[String]) -> RecordResult<Value> {
    let fields = project_ordered(value, columns)?;
    Ok(Value::Object(fields.into_iter().collect::<Map<_, _>>()))
}

/// [`project`] of a value the caller gives up: with no columns the object itself comes
/// back, without a copy (a whole trip is tens of kilobytes of JSON).
pub fn project_owned(value: Value, columns: &[String]) -> RecordResult<Value> {
    match value {
        Value::Object(_) if columns.is_empty() => Ok(value),
        value => project(&value, columns),
    }
}

/// Like [`project`], returning `(column, value)` pairs in the order of `columns`
/// (in the value's own order when `columns` is empty).
pub fn project_ordered(value: &Value, columns: &[String]) -> RecordResult<Vec<(String, Value)>> {
    let object = value.as_object().ok_or(RecordError::ValueNotObject {
        found: json_kind(value),
    })?;
    if columns.is_empty() {
        return Ok(object
            .iter()
            .map(|(name, field)| (name.clone(), field.clone()))
            .collect());
    }
    let mut fields: Vec<(String, Value)> = Vec::with_capacity(columns.len());
    for column in columns {
        if fields.iter().any(|(name, _)| name == column) {
            return Err(RecordError::DuplicateColumn(column.clone()));
        }
        let field = object
            .get(column)
            .ok_or_else(|| RecordError::UnknownColumn(column.clone()))?;
        fields.push((column.clone(), field.clone()));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::test_vectors::{SEED_CARVIO_VALUE, SEED_TRIP_VALUE};
    use crate::record::value::parse_value;
    use serde_json::json;

    fn columns(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn seed_get_kv_columns_project_the_trip() {
        let value = parse_value(SEED_TRIP_VALUE).unwrap();
        let projected = project(&value, &columns(&["VEHICLE_DATA", "GPS", "SPEED"])).unwrap();
        let object = projected.as_object().unwrap();
        assert_eq!(object.len(), 3);
        assert_eq!(projected["VEHICLE_DATA"], json!(1));
        assert_eq!(projected["GPS"], value["GPS"]);
        assert_eq!(
            projected["GPS"][0],
            json!({"lat": 31.250885, "lng": 121.44662})
        );
        assert_eq!(projected["SPEED"], json!("0,23,52,45,51,33,49,49,48,37"));
        assert!(object.get("len").is_none());
        assert!(object.get("format").is_none());
    }

    #[test]
    fn ordered_projection_follows_the_columns() {
        let value = parse_value(SEED_TRIP_VALUE).unwrap();
        let fields = project_ordered(&value, &columns(&["VEHICLE_DATA", "GPS", "SPEED"])).unwrap();
        let names: Vec<&str> = fields.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["VEHICLE_DATA", "GPS", "SPEED"]);
        assert_eq!(fields[0].1, json!(1));
    }

    #[test]
    fn empty_columns_keep_everything() {
        let value = parse_value(SEED_CARVIO_VALUE).unwrap();
        assert_eq!(project(&value, &[]).unwrap(), value);
        assert_eq!(project_owned(value.clone(), &[]).unwrap(), value);
        let trip = parse_value(SEED_TRIP_VALUE).unwrap();
        let gps = project_owned(trip.clone(), &columns(&["GPS"])).unwrap();
        assert_eq!(gps, project(&trip, &columns(&["GPS"])).unwrap());
        assert_eq!(gps.as_object().map(|o| o.len()), Some(1));
        assert_eq!(project_ordered(&value, &[]).unwrap().len(), 7);
    }

    #[test]
    fn unknown_column_is_named() {
        let value = parse_value(SEED_CARVIO_VALUE).unwrap();
        assert_eq!(
            project(&value, &columns(&["price", "GPS"])).unwrap_err(),
            RecordError::UnknownColumn("GPS".into())
        );
    }

    #[test]
    fn duplicate_column_is_refused() {
        let value = parse_value(SEED_CARVIO_VALUE).unwrap();
        assert_eq!(
            project(&value, &columns(&["price", "price"])).unwrap_err(),
            RecordError::DuplicateColumn("price".into())
        );
    }

    #[test]
    fn non_object_value_is_refused() {
        assert_eq!(
            project(&json!([1, 2]), &columns(&["a"])).unwrap_err(),
            RecordError::ValueNotObject { found: "array" }
        );
    }
}
