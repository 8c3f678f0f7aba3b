//! Range bounds for `getKVRange`: partial keys become encoded start and end bounds
//! inside one address's ordered key space.
//!
//! A bound gives a prefix of its format's fields; each trailing field it leaves out
//! means "any": `INF_MIN` in a start bound, `INF_MAX` in an end bound. `INF_MIN` and
//! `INF_MAX` may also be written in any position. Both ends are inclusive: a range
//! holds every key `k` with `start <= k <= end`, so a start equal to the end selects
//! exactly that key.

use serde_json::Value;

use super::error::{RecordError, RecordResult};
use super::format::FormatSpec;
use super::key_codec::{EncodedKey, encode_values, key_object};
use super::key_value::KeyValue;

/// An inclusive range of encoded keys of one format.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyRange {
    start: EncodedKey,
    end: EncodedKey,
}

impl KeyRange {
    /// Builds the range from the partial keys `start` and `end` of format `spec`.
    ///
    /// Fails like [`encode_start_bound`] / [`encode_end_bound`], and with
    /// [`RecordError::StartAfterEnd`] when the start sorts after the end.
    pub fn new(spec: &FormatSpec, start: &Value, end: &Value) -> RecordResult<Self> {
        Self::from_bounds(
            encode_start_bound(spec, start)?,
            encode_end_bound(spec, end)?,
        )
    }

    /// Builds the range from already encoded bounds, or fails with
    /// [`RecordError::StartAfterEnd`].
    pub fn from_bounds(start: EncodedKey, end: EncodedKey) -> RecordResult<Self> {
        if start > end {
            return Err(RecordError::StartAfterEnd);
        }
        Ok(Self { start, end })
    }

    /// The range holding every key of format `spec`.
    pub fn everything(spec: &FormatSpec) -> Self {
        let width = spec.key_fields().len();
        Self {
            start: encode_values(&vec![KeyValue::Min; width]),
            end: encode_values(&vec![KeyValue::Max; width]),
        }
    }

    /// The inclusive start bound.
    pub fn start(&self) -> &EncodedKey {
        &self.start
    }

    /// The inclusive end bound.
    pub fn end(&self) -> &EncodedKey {
        &self.end
    }

    /// Whether `key` lies in the range (both ends included).
    pub fn contains(&self, key: &EncodedKey) -> bool {
        self.start <= *key && *key <= self.end
    }
}

/// Encodes the start of a range: the given fields, then `INF_MIN` for each trailing
/// field left out.
///
/// Fails with [`RecordError::KeyNotObject`], [`RecordError::UnexpectedKeyField`],
/// [`RecordError::BoundFieldGap`] (a field left out before a given one) or the field
/// errors of [`KeyValue::from_json`].
pub fn encode_start_bound(spec: &FormatSpec, partial_key: &Value) -> RecordResult<EncodedKey> {
    Ok(encode_values(&bound_values(
        spec,
        partial_key,
        KeyValue::Min,
    )?))
}

/// Encodes the inclusive end of a range: the given fields, then `INF_MAX` for each
/// trailing field left out. Fails like [`encode_start_bound`].
pub fn encode_end_bound(spec: &FormatSpec, partial_key: &Value) -> RecordResult<EncodedKey> {
    Ok(encode_values(&bound_values(
        spec,
        partial_key,
        KeyValue::Max,
    )?))
}

/// The bound's field values, padded with `fill` after the last given field.
fn bound_values(
    spec: &FormatSpec,
    partial_key: &Value,
    fill: KeyValue,
) -> RecordResult<Vec<KeyValue>> {
    let object = key_object(spec, partial_key)?;
    let fields = spec.key_fields();
    let given = fields
        .iter()
        .take_while(|field| object.contains_key(field.as_str()))
        .count();
    if let (Some(missing), Some(later)) = (
        fields.get(given),
        fields
            .iter()
            .skip(given)
            .find(|field| object.contains_key(field.as_str())),
    ) {
        return Err(RecordError::BoundFieldGap {
            format: spec.name().to_owned(),
            missing: missing.clone(),
            later: later.clone(),
        });
    }
    let mut values = Vec::with_capacity(fields.len());
    for field in fields.iter().take(given) {
        if let Some(value) = object.get(field) {
            values.push(KeyValue::from_json(field, value)?);
        }
    }
    values.resize(fields.len(), fill);
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::key_codec::encode_key;
    use proptest::prelude::*;
    use serde_json::json;

    fn trip(session: i64, start: i64, end: i64) -> EncodedKey {
        let key = json!({"SESSION_ID": session, "START_TIME": start, "END_TIME": end});
        encode_key(&FormatSpec::trip_gps(), &key).unwrap()
    }

    /// The seed's getKVRange call.
    fn seed_range() -> KeyRange {
        KeyRange::new(
            &FormatSpec::trip_gps(),
            &json!({"SESSION_ID": 1, "START_TIME": 20160511071428_i64, "END_TIME": 20160511094623_i64}),
            &json!({"SESSION_ID": 1, "START_TIME": 20160511071428_i64, "END_TIME": "INF_MAX"}),
        )
        .unwrap()
    }

    #[test]
    fn seed_range_includes_the_seed_record() {
        let range = seed_range();
        assert!(range.contains(&trip(1, 20160511071428, 20160511094623)));
        assert!(range.contains(&trip(1, 20160511071428, 20160511100000)));
        assert_eq!(
            range.end().to_hex(),
            "1080000000000000011080001255fc19d4c4ff"
        );
    }

    #[test]
    fn seed_range_excludes_other_sessions_and_earlier_keys() {
        let range = seed_range();
        assert!(!range.contains(&trip(2, 20160511071428, 20160511094623)));
        assert!(!range.contains(&trip(0, 20160511071428, 20160511094623)));
        assert!(!range.contains(&trip(1, 20160511071428, 20160511094622)));
        assert!(!range.contains(&trip(1, 20160511071429, 20160511094623)));
    }

    #[test]
    fn trailing_missing_fields_mean_any() {
        let spec = FormatSpec::trip_gps();
        let session = json!({"SESSION_ID": 1});
        let range = KeyRange::new(&spec, &session, &session).unwrap();
        assert_eq!(range.start().to_hex(), "1080000000000000010000");
        assert_eq!(range.end().to_hex(), "108000000000000001ffff");
        assert!(range.contains(&trip(1, i64::MIN, i64::MIN)));
        assert!(range.contains(&trip(1, i64::MAX, i64::MAX)));
        assert!(!range.contains(&trip(2, i64::MIN, i64::MIN)));
        assert!(!range.contains(&trip(0, i64::MAX, i64::MAX)));
    }

    #[test]
    fn empty_bounds_cover_everything() {
        let spec = FormatSpec::trip_gps();
        let range = KeyRange::new(&spec, &json!({}), &json!({})).unwrap();
        assert_eq!(range, KeyRange::everything(&spec));
        assert!(range.contains(&trip(i64::MIN, i64::MIN, i64::MIN)));
        assert!(range.contains(&trip(i64::MAX, i64::MAX, i64::MAX)));
    }

    #[test]
    fn bounds_may_be_written_in_any_position() {
        let spec = FormatSpec::trip_gps();
        let range = KeyRange::new(
            &spec,
            &json!({"SESSION_ID": "INF_MIN", "START_TIME": 5}),
            &json!({"SESSION_ID": 3, "START_TIME": "INF_MAX", "END_TIME": 0}),
        )
        .unwrap();
        assert!(range.contains(&trip(-100, 0, 0)));
        assert!(range.contains(&trip(3, 99, -1)));
        assert!(!range.contains(&trip(4, 0, 0)));
    }

    #[test]
    fn start_equal_to_end_selects_one_key() {
        let key = json!({"CARVIO_ID": 7});
        let range = KeyRange::new(&FormatSpec::carvio(), &key, &key).unwrap();
        let seven = encode_key(&FormatSpec::carvio(), &key).unwrap();
        let eight = encode_key(&FormatSpec::carvio(), &json!({"CARVIO_ID": 8})).unwrap();
        assert!(range.contains(&seven));
        assert!(!range.contains(&eight));
    }

    #[test]
    fn start_after_end_is_refused() {
        let err = KeyRange::new(
            &FormatSpec::trip_gps(),
            &json!({"SESSION_ID": 2}),
            &json!({"SESSION_ID": 1}),
        )
        .unwrap_err();
        assert_eq!(err, RecordError::StartAfterEnd);
    }

    #[test]
    fn gap_in_a_bound_is_refused() {
        let err = encode_start_bound(
            &FormatSpec::trip_gps(),
            &json!({"SESSION_ID": 1, "END_TIME": 5}),
        )
        .unwrap_err();
        assert_eq!(
            err,
            RecordError::BoundFieldGap {
                format: "trip-gps".into(),
                missing: "START_TIME".into(),
                later: "END_TIME".into()
            }
        );
    }

    #[test]
    fn bad_fields_in_a_bound_are_refused() {
        let spec = FormatSpec::trip_gps();
        assert_eq!(
            encode_end_bound(&spec, &json!({"VID": 1})).unwrap_err(),
            RecordError::UnexpectedKeyField {
                format: "trip-gps".into(),
                field: "VID".into()
            }
        );
        assert_eq!(
            encode_end_bound(&spec, &json!({"SESSION_ID": 1.5})).unwrap_err(),
            RecordError::UnsupportedKeyValue {
                field: "SESSION_ID".into(),
                found: "float"
            }
        );
        assert_eq!(
            encode_start_bound(&spec, &json!("INF_MAX")).unwrap_err(),
            RecordError::KeyNotObject { found: "string" }
        );
    }

    fn arb_value() -> impl Strategy<Value = KeyValue> {
        prop_oneof![
            1 => Just(KeyValue::Min),
            3 => (-2_i64..3).prop_map(KeyValue::Int),
            2 => "[ab]{0,2}".prop_map(KeyValue::Str),
            1 => Just(KeyValue::Max),
        ]
    }

    const WIDTH: usize = 3;

    fn spec() -> FormatSpec {
        FormatSpec::custom("prop", ["A", "B", "C"]).unwrap()
    }

    fn partial(values: &[KeyValue]) -> Value {
        Value::Object(
            spec()
                .key_fields()
                .iter()
                .cloned()
                .zip(values.iter().map(KeyValue::to_json))
                .collect(),
        )
    }

    fn padded(values: &[KeyValue], fill: KeyValue) -> Vec<KeyValue> {
        let mut padded = values.to_vec();
        padded.resize(WIDTH, fill);
        padded
    }

    proptest! {
        #[test]
        fn prefix_range_holds_exactly_the_keys_with_that_prefix(
            key in proptest::collection::vec(arb_value(), WIDTH),
            other in proptest::collection::vec(arb_value(), WIDTH),
            prefix_len in 0..=WIDTH,
        ) {
            let prefix = partial(&key[..prefix_len]);
            let range = KeyRange::new(&spec(), &prefix, &prefix).unwrap();
            prop_assert!(range.contains(&encode_values(&key)));
            prop_assert_eq!(
                range.contains(&encode_values(&other)),
                other[..prefix_len] == key[..prefix_len]
            );
        }

        #[test]
        fn range_membership_is_field_wise(
            start in proptest::collection::vec(arb_value(), 0..=WIDTH),
            end in proptest::collection::vec(arb_value(), 0..=WIDTH),
            key in proptest::collection::vec(arb_value(), WIDTH),
        ) {
            let low = padded(&start, KeyValue::Min);
            let high = padded(&end, KeyValue::Max);
            match KeyRange::new(&spec(), &partial(&start), &partial(&end)) {
                Ok(range) => {
                    prop_assert!(low <= high);
                    prop_assert_eq!(
                        range.contains(&encode_values(&key)),
                        low <= key && key <= high
                    );
                }
                Err(err) => {
                    prop_assert_eq!(err, RecordError::StartAfterEnd);
                    prop_assert!(low > high);
                }
            }
        }
    }
}
