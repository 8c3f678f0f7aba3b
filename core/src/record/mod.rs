//! Records and formats: the format registry, order-preserving key encoding for range
//! queries, lenient value parsing and column projection.
