//! Byte-level helpers shared by the module's canonical encodings: a bounds-checked
//! reader that reports truncation as a typed error, and u32 big-endian length
//! prefixes for the fields bound into key derivation and associated data.

use super::error::{CryptoError, CryptoResult};

/// Appends `u32 big-endian length || bytes`; fails if the field exceeds `u32::MAX`.
pub(crate) fn put_len_prefixed(
    out: &mut Vec<u8>,
    field: &'static str,
    bytes: &[u8],
) -> CryptoResult<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| CryptoError::FieldTooLong {
        field,
        len: bytes.len(),
    })?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

/// Reads fixed-size pieces from the front of a byte slice.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// The next `n` bytes, or `Truncated` if fewer remain.
    pub(crate) fn take(&mut self, n: usize) -> CryptoResult<&'a [u8]> {
        match self.rest.split_at_checked(n) {
            Some((head, tail)) => {
                self.rest = tail;
                Ok(head)
            }
            None => Err(CryptoError::Truncated {
                needed: n,
                available: self.rest.len(),
            }),
        }
    }

    /// The next `N` bytes as an array.
    pub(crate) fn take_array<const N: usize>(&mut self) -> CryptoResult<[u8; N]> {
        let mut array = [0u8; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    /// The next byte.
    pub(crate) fn take_u8(&mut self) -> CryptoResult<u8> {
        let [byte] = self.take_array::<1>()?;
        Ok(byte)
    }

    /// The next big-endian u16.
    pub(crate) fn take_u16(&mut self) -> CryptoResult<u16> {
        Ok(u16::from_be_bytes(self.take_array::<2>()?))
    }

    /// Everything not yet read.
    pub(crate) fn remaining(&self) -> &'a [u8] {
        self.rest
    }

    /// How many bytes have not been read.
    pub(crate) fn remaining_len(&self) -> usize {
        self.rest.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn len_prefix_is_u32_big_endian() -> CryptoResult<()> {
        let mut out = Vec::new();
        put_len_prefixed(&mut out, "f", b"abc")?;
        put_len_prefixed(&mut out, "g", b"")?;
        assert_eq!(out, [0, 0, 0, 3, b'a', b'b', b'c', 0, 0, 0, 0]);
        Ok(())
    }

    #[test]
    fn reader_takes_in_order_and_reports_truncation() -> CryptoResult<()> {
        let mut reader = Reader::new(&[1, 0, 2, 9, 9]);
        assert_eq!(reader.take_u8()?, 1);
        assert_eq!(reader.take_u16()?, 2);
        assert_eq!(reader.remaining_len(), 2);
        assert_eq!(
            reader.take(3),
            Err(CryptoError::Truncated {
                needed: 3,
                available: 2
            })
        );
        assert_eq!(reader.remaining(), &[9, 9]);
        Ok(())
    }
}
