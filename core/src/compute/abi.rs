//! The small part of the Solidity ABI the shipped programs need: function selectors,
//! `uint256` words, dynamic arrays of `uint256` and of static tuples of `uint256`, and
//! the standard revert payloads `Error(string)` and `Panic(uint256)`.

use revm::primitives::keccak256;

use super::error::{ComputeError, RevertReason};

/// Bytes in one ABI word.
pub const WORD_LEN: usize = 32;

/// The 4-byte selector of a function signature, e.g. `"total(uint256[])"`.
pub fn selector(signature: &str) -> [u8; 4] {
    let hash = keccak256(signature.as_bytes());
    [hash[0], hash[1], hash[2], hash[3]]
}

/// A `uint256` word holding `value`.
pub fn word(value: u64) -> [u8; WORD_LEN] {
    let mut out = [0u8; WORD_LEN];
    out[WORD_LEN - 8..].copy_from_slice(&value.to_be_bytes());
    out
}

/// Calldata of a function whose only argument is a dynamic array of static tuples of
/// `uint256` (a plain `uint256[]` is the case of one-element tuples):
/// `selector || offset 0x20 || length || each tuple's words`.
pub fn encode_tuple_array_call<const N: usize>(selector: [u8; 4], rows: &[[u64; N]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + WORD_LEN * (2 + N * rows.len()));
    out.extend_from_slice(&selector);
    out.extend_from_slice(&word(WORD_LEN as u64));
    out.extend_from_slice(&word(rows.len() as u64));
    for row in rows {
        for value in row {
            out.extend_from_slice(&word(*value));
        }
    }
    out
}

/// Reads `N` `uint256` words from a program's return data, each of which must fit in
/// 64 bits.
pub fn decode_u64_words<const N: usize>(output: &[u8]) -> Result<[u64; N], ComputeError> {
    if output.len() != N * WORD_LEN {
        return Err(ComputeError::OutputLength {
            expected: N * WORD_LEN,
            actual: output.len(),
        });
    }
    let mut values = [0u64; N];
    for (index, (value, chunk)) in values
        .iter_mut()
        .zip(output.chunks_exact(WORD_LEN))
        .enumerate()
    {
        *value = word_to_u64(chunk).ok_or(ComputeError::OutputOverflow { index })?;
    }
    Ok(values)
}

/// The value of a 32-byte big-endian word if it fits in 64 bits.
fn word_to_u64(chunk: &[u8]) -> Option<u64> {
    let (high, low) = chunk.split_at_checked(WORD_LEN - 8)?;
    if high.iter().any(|byte| *byte != 0) {
        return None;
    }
    Some(u64::from_be_bytes(low.try_into().ok()?))
}

/// Interprets revert data: `Error(string)`, `Panic(uint256)`, empty, or raw.
pub fn decode_revert(data: &[u8]) -> RevertReason {
    if data.is_empty() {
        return RevertReason::Empty;
    }
    let Some((head, body)) = data.split_at_checked(4) else {
        return RevertReason::Custom(data.to_vec());
    };
    if head == selector("Error(string)") {
        if let Some(message) = decode_string(body) {
            return RevertReason::Message(message);
        }
    } else if head == selector("Panic(uint256)")
        && body.len() == WORD_LEN
        && let Some(code) = word_to_u64(body)
    {
        return RevertReason::Panic(code);
    }
    RevertReason::Custom(data.to_vec())
}

/// Decodes an ABI-encoded single `string` argument (offset, length, bytes).
fn decode_string(body: &[u8]) -> Option<String> {
    let offset = usize::try_from(word_to_u64(body.get(..WORD_LEN)?)?).ok()?;
    let len_end = offset.checked_add(WORD_LEN)?;
    let len = usize::try_from(word_to_u64(body.get(offset..len_end)?)?).ok()?;
    let bytes = body.get(len_end..len_end.checked_add(len)?)?;
    String::from_utf8(bytes.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_match_published_values() {
        // Well-known selectors: ERC-20 transfer, Solidity's Error and Panic.
        assert_eq!(
            selector("transfer(address,uint256)"),
            [0xa9, 0x05, 0x9c, 0xbb]
        );
        assert_eq!(selector("Error(string)"), [0x08, 0xc3, 0x79, 0xa0]);
        assert_eq!(selector("Panic(uint256)"), [0x4e, 0x48, 0x7b, 0x71]);
    }

    #[test]
    fn tuple_array_calldata_layout() {
        let data = encode_tuple_array_call([1, 2, 3, 4], &[[5u64, 6], [7, 8]]);
        assert_eq!(data.len(), 4 + 32 * 6);
        assert_eq!(&data[..4], &[1, 2, 3, 4]);
        assert_eq!(data[4 + 31], 0x20);
        assert_eq!(data[4 + 63], 2);
        let values: Vec<u8> = data[4 + 64..].chunks(32).map(|w| w[31]).collect();
        assert_eq!(values, vec![5, 6, 7, 8]);
        assert!(
            data[4 + 64..]
                .chunks(32)
                .all(|w| w[..31].iter().all(|b| *b == 0))
        );
    }

    #[test]
    fn words_round_trip_and_reject_wide_values() {
        let mut output = Vec::new();
        output.extend_from_slice(&word(u64::MAX));
        output.extend_from_slice(&word(42));
        assert_eq!(decode_u64_words::<2>(&output), Ok([u64::MAX, 42]));
        output[32 + 23] = 1;
        assert_eq!(
            decode_u64_words::<2>(&output),
            Err(ComputeError::OutputOverflow { index: 1 })
        );
        assert_eq!(
            decode_u64_words::<3>(&output),
            Err(ComputeError::OutputLength {
                expected: 96,
                actual: 64
            })
        );
    }

    #[test]
    fn revert_payloads_are_decoded() {
        // Error("no") as Solidity encodes it.
        let mut error = selector("Error(string)").to_vec();
        error.extend_from_slice(&word(32));
        error.extend_from_slice(&word(2));
        let mut text = [0u8; 32];
        text[..2].copy_from_slice(b"no");
        error.extend_from_slice(&text);
        assert_eq!(decode_revert(&error), RevertReason::Message("no".into()));

        let mut panic = selector("Panic(uint256)").to_vec();
        panic.extend_from_slice(&word(0x11));
        assert_eq!(decode_revert(&panic), RevertReason::Panic(0x11));

        assert_eq!(decode_revert(&[]), RevertReason::Empty);
        assert_eq!(decode_revert(&[1, 2]), RevertReason::Custom(vec![1, 2]));
        // A truncated Error(string) stays raw instead of panicking.
        let truncated = &error[..40];
        assert_eq!(
            decode_revert(truncated),
            RevertReason::Custom(truncated.to_vec())
        );
    }
}
