//! Records and formats: the format registry, order-preserving key encoding for range
//! queries, lenient value parsing and column projection.

mod bounds;
mod error;
mod format;
mod key_codec;
mod key_value;
mod owner_key;
mod projection;
mod registry;
#[cfg(test)]
mod test_vectors;
mod value;

pub use bounds::{KeyRange, encode_end_bound, encode_start_bound};
pub use error::{RecordError, RecordResult};
pub use format::{CARVIO, FormatSpec, MAX_FORMAT_NAME_LEN, MAX_KEY_FIELDS, TRIP_GPS, VIN_CODE};
pub use key_codec::{EncodedKey, decode_key, decode_values, encode_key, encode_values, key_values};
pub use key_value::{INF_MAX, INF_MIN, KeyValue};
pub use owner_key::{
    OWNER_DAY_FIELD, OWNER_VERSION_FIELD, OwnerKeyError, date_of_day_number, day_number, owner_key,
    versioned_spec,
};
pub use projection::{project, project_ordered, project_owned};
pub use registry::FormatRegistry;
pub use value::{FORMAT_FIELD, check_value_format, parse_value, value_format};
