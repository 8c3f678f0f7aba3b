//! Key-value storage for encrypted records, partitioned by data address.
