//! Input checks shared by every [`KvStore`](super::KvStore) backend, so both refuse the
//! same bad input with the same typed error.

use super::{KvError, MAX_ADDRESS_LEN, MAX_KEY_LEN, MAX_RANGE_LIMIT, MAX_VALUE_LEN};

/// Checks a data address: non-empty and at most [`MAX_ADDRESS_LEN`] bytes.
pub(crate) fn check_address(address: &str) -> Result<(), KvError> {
    if address.is_empty() {
        return Err(KvError::EmptyAddress);
    }
    if address.len() > MAX_ADDRESS_LEN {
        return Err(KvError::AddressTooLong {
            len: address.len(),
            max: MAX_ADDRESS_LEN,
        });
    }
    if !address.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(KvError::AddressNotAscii);
    }
    Ok(())
}

/// Checks a record key: non-empty and at most [`MAX_KEY_LEN`] bytes.
pub(crate) fn check_key(key: &[u8]) -> Result<(), KvError> {
    if key.is_empty() {
        return Err(KvError::EmptyKey);
    }
    if key.len() > MAX_KEY_LEN {
        return Err(KvError::KeyTooLong {
            len: key.len(),
            max: MAX_KEY_LEN,
        });
    }
    Ok(())
}

/// Checks a value's size: at most [`MAX_VALUE_LEN`] bytes (empty values are allowed).
pub(crate) fn check_value(value: &[u8]) -> Result<(), KvError> {
    if value.len() > MAX_VALUE_LEN {
        return Err(KvError::ValueTooLarge {
            len: value.len(),
            max: MAX_VALUE_LEN,
        });
    }
    Ok(())
}

/// Checks a whole put, and answers it.
pub(crate) fn check_put<'a>(
    address: &'a str,
    key: &'a [u8],
    value: &'a [u8],
) -> Result<super::KvPut<'a>, KvError> {
    check_address(address)?;
    check_key(key)?;
    check_value(value)?;
    Ok(super::KvPut {
        address,
        key,
        value,
    })
}

/// Checks every put of a batch and that no address + key pair appears twice in it.
pub(crate) fn check_batch(puts: &[super::KvPut<'_>]) -> Result<(), KvError> {
    let mut seen = std::collections::BTreeSet::new();
    for put in puts {
        check_put(put.address, put.key, put.value)?;
        if !seen.insert((put.address, put.key)) {
            return Err(KvError::DuplicateInBatch {
                address: put.address.to_owned(),
                key_hex: hex::encode(put.key),
            });
        }
    }
    Ok(())
}

/// Checks the arguments of a range read. Range bounds may be empty (the lowest key).
pub(crate) fn check_range(
    address: &str,
    start: &[u8],
    end_inclusive: &[u8],
    limit: u32,
) -> Result<(), KvError> {
    check_address(address)?;
    if limit == 0 || limit > MAX_RANGE_LIMIT {
        return Err(KvError::InvalidLimit {
            limit,
            max: MAX_RANGE_LIMIT,
        });
    }
    if start > end_inclusive {
        return Err(KvError::ReversedRange);
    }
    Ok(())
}

/// Where a range page starts: `None` when the cursor already reached the end of the range
/// (an empty page), else the lower key and whether it is excluded (a cursor inside the
/// range resumes strictly after itself).
pub(crate) fn range_lower_bound<'a>(
    start: &'a [u8],
    end_inclusive: &[u8],
    after: Option<&'a [u8]>,
) -> Option<(&'a [u8], bool)> {
    match after {
        Some(cursor) if cursor >= end_inclusive => None,
        Some(cursor) if cursor >= start => Some((cursor, true)),
        _ => Some((start, false)),
    }
}

/// The error returned when `key` under `address` already holds a different value.
pub(crate) fn duplicate(address: &str, key: &[u8]) -> KvError {
    KvError::Duplicate {
        address: address.to_owned(),
        key_hex: hex::encode(key),
    }
}
