//! Length padding of what an envelope v2 encrypts, so a stored value's size says little
//! about its content and nothing that ties one car's records together.
//!
//! Without padding, a car that drives the same route every day writes trips of the same
//! byte length, and a ledger reader (the ledger registers each record's size) or a
//! storage node links the car's addresses by those rare sizes. The payload is padded to
//! its Padmé length (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files
//! and Communication with PURBs", PETS 2019): at most 12% longer, and a padded length
//! leaks O(log log L) bits instead of O(log L), so many different trips share each size.
//! The sealed plaintext record key (a few dozen bytes) is padded to a multiple of
//! [`KEY_PADDING_BLOCK`].
//!
//! Encoding (ISO/IEC 7816-4): the data, one `0x80` byte, then zero bytes up to the
//! padded length. Removing it strips the zeros and the `0x80`; anything else is refused.

use super::error::{CryptoError, CryptoResult};

/// Block the sealed plaintext record key is padded to a multiple of.
pub const KEY_PADDING_BLOCK: usize = 32;

/// The marker that ends the data inside the padding.
const MARKER: u8 = 0x80;

/// The Padmé length of `len` bytes: `len` rounded up so that only the top
/// `floor(log2(floor(log2 len))) + 1` bits of it may be non-zero.
pub fn padme_len(len: usize) -> usize {
    if len < 2 {
        return len;
    }
    let exponent = usize::BITS - 1 - len.leading_zeros(); // floor(log2 len)
    let exponent_bits = u32::BITS - exponent.leading_zeros(); // floor(log2 exponent) + 1
    let low_bits = exponent.saturating_sub(exponent_bits);
    let mask = (1usize << low_bits) - 1;
    len.saturating_add(mask) & !mask
}

/// `data`, the marker and zeros up to the Padmé length of `data.len() + 1`.
pub fn pad_payload(data: &[u8]) -> Vec<u8> {
    pad_to(data, padme_len(data.len().saturating_add(1)))
}

/// `data`, the marker and zeros up to the next multiple of [`KEY_PADDING_BLOCK`].
pub fn pad_key(data: &[u8]) -> Vec<u8> {
    let unpadded = data.len().saturating_add(1);
    pad_to(
        data,
        unpadded.div_ceil(KEY_PADDING_BLOCK) * KEY_PADDING_BLOCK,
    )
}

fn pad_to(data: &[u8], target: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(target.max(data.len() + 1));
    out.extend_from_slice(data);
    out.push(MARKER);
    out.resize(target.max(out.len()), 0);
    out
}

/// The data inside `padded` (either padding): `Padding` when no marker ends it.
pub fn unpad(mut padded: Vec<u8>) -> CryptoResult<Vec<u8>> {
    let end = padded
        .iter()
        .rposition(|&byte| byte != 0)
        .ok_or(CryptoError::Padding)?;
    if padded[end] != MARKER {
        return Err(CryptoError::Padding);
    }
    padded.truncate(end);
    Ok(padded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn padme_lengths_match_the_published_examples() {
        // Small lengths are kept; larger ones keep only their top bits.
        assert_eq!(padme_len(0), 0);
        assert_eq!(padme_len(1), 1);
        assert_eq!(padme_len(7), 7);
        assert_eq!(padme_len(9), 10);
        assert_eq!(padme_len(100), 104);
        assert_eq!(padme_len(1000), 1024);
        assert_eq!(padme_len(30_001), 30_720);
        assert_eq!(padme_len(30_720), 30_720);
    }

    #[test]
    fn different_trip_sizes_share_a_padded_size() {
        // 30,000 .. 30,200 bytes: one padded length for all of them.
        let sizes: std::collections::BTreeSet<usize> = (30_000..30_200)
            .map(|len| pad_payload(&vec![1; len]).len())
            .collect();
        assert_eq!(sizes.len(), 1, "{sizes:?}");
    }

    #[test]
    fn keys_pad_to_whole_blocks() {
        assert_eq!(pad_key(&[]).len(), 32);
        assert_eq!(pad_key(&[7; 31]).len(), 32);
        assert_eq!(pad_key(&[7; 32]).len(), 64);
    }

    #[test]
    fn padding_without_a_marker_is_refused() {
        assert!(matches!(unpad(vec![0; 8]), Err(CryptoError::Padding)));
        assert!(matches!(unpad(vec![1, 2, 0, 0]), Err(CryptoError::Padding)));
        assert!(matches!(unpad(Vec::new()), Err(CryptoError::Padding)));
    }

    proptest! {
        #[test]
        fn padding_round_trips_and_costs_at_most_12_percent(data in proptest::collection::vec(any::<u8>(), 0..5000)) {
            let padded = pad_payload(&data);
            prop_assert!(padded.len() > data.len());
            prop_assert!(padded.len() as f64 <= (data.len() + 1) as f64 * 1.12 + 1.0);
            prop_assert_eq!(unpad(padded).unwrap_or_default(), data.clone());
            prop_assert_eq!(unpad(pad_key(&data)).unwrap_or_default(), data);
        }
    }
}
