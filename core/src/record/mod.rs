//! Records and formats: the format registry, order-preserving key encoding for range
//! queries, lenient value parsing and column projection.

mod error;
mod format;
mod registry;

pub use error::{RecordError, RecordResult};
pub use format::{CARVIO, FormatSpec, MAX_FORMAT_NAME_LEN, MAX_KEY_FIELDS, TRIP_GPS, VIN_CODE};
pub use registry::FormatRegistry;
