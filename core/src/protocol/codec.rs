//! Canonical byte encoding of protocol objects: one explicit, strict layout per type.
//!
//! Layout rules (every signed or hashed structure uses them):
//! - `u8` is one byte; `bool` is one byte, `0x00` or `0x01` (anything else is refused);
//! - `u32` and `u64` are big-endian, fixed width;
//! - fixed-size arrays (hashes, 33-byte public keys, 64-byte signatures) are written raw;
//! - byte strings and UTF-8 strings are a `u32` length followed by the bytes;
//! - `Option<T>` is `0x00` for none or `0x01` followed by `T`;
//! - `Vec<T>` is a `u32` item count followed by the items;
//! - enums start with a kind byte fixed per variant.
//!
//! Decoding is strict: truncated input, lengths beyond the input, bad UTF-8, unknown tags
//! and trailing bytes are typed errors, never panics.

use bitcoin::secp256k1::PublicKey;
use bitcoin::secp256k1::ecdsa::Signature;

use super::error::{ProtocolError, Result};

/// Appends canonical fields to a byte buffer.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes one byte.
    pub fn u8(&mut self, value: u8) {
        self.buf.push(value);
    }

    /// Writes a big-endian `u32`.
    pub fn u32(&mut self, value: u32) {
        self.buf.extend_from_slice(&value.to_be_bytes());
    }

    /// Writes a big-endian `u64`.
    pub fn u64(&mut self, value: u64) {
        self.buf.extend_from_slice(&value.to_be_bytes());
    }

    /// Writes raw bytes with no length prefix (fixed-size fields).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Writes a `u32` length prefix then the bytes. Inputs longer than `u32::MAX` are
    /// outside the protocol; their length saturates so the reader refuses them.
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.len_prefix(bytes.len());
        self.raw(bytes);
    }

    /// Writes a `u32` length or item count.
    pub fn len_prefix(&mut self, len: usize) {
        self.u32(u32::try_from(len).unwrap_or(u32::MAX));
    }

    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads canonical fields from a byte slice, refusing anything malformed.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Takes exactly `n` bytes.
    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8]> {
        if n > self.rest.len() {
            return Err(ProtocolError::UnexpectedEnd {
                field,
                needed: n - self.rest.len(),
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    /// Reads one byte.
    pub fn u8(&mut self, field: &'static str) -> Result<u8> {
        Ok(self.array::<1>(field)?[0])
    }

    /// Reads a big-endian `u32`.
    pub fn u32(&mut self, field: &'static str) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    /// Reads a big-endian `u64`.
    pub fn u64(&mut self, field: &'static str) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    /// Reads a `u32` length prefix that must not exceed the remaining input.
    pub fn len_prefix(&mut self, field: &'static str) -> Result<usize> {
        let length = self.u32(field)?;
        let fits = usize::try_from(length)
            .ok()
            .filter(|len| *len <= self.rest.len());
        fits.ok_or(ProtocolError::BadLength {
            field,
            length: u64::from(length),
        })
    }

    /// Reads a length-prefixed byte string.
    pub fn bytes(&mut self, field: &'static str) -> Result<Vec<u8>> {
        let len = self.len_prefix(field)?;
        Ok(self.take(len, field)?.to_vec())
    }

    /// Reads a length-prefixed UTF-8 string.
    pub fn string(&mut self, field: &'static str) -> Result<String> {
        String::from_utf8(self.bytes(field)?).map_err(|_| ProtocolError::InvalidUtf8 { field })
    }

    /// Succeeds only if every byte was consumed.
    pub fn finish(self) -> Result<()> {
        match self.rest.len() {
            0 => Ok(()),
            count => Err(ProtocolError::TrailingBytes { count }),
        }
    }
}

/// A type with one canonical byte encoding.
pub trait Canonical: Sized {
    /// Appends the canonical bytes of `self`.
    fn encode_to(&self, w: &mut Writer);

    /// Reads one value, leaving any following bytes unread.
    fn decode_from(r: &mut Reader<'_>) -> Result<Self>;

    /// The canonical bytes of `self`.
    fn to_canonical(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.encode_to(&mut w);
        w.into_bytes()
    }

    /// Decodes exactly one value from `bytes`; trailing bytes are an error.
    fn from_canonical(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        let value = Self::decode_from(&mut r)?;
        r.finish()?;
        Ok(value)
    }
}

/// Implements [`Canonical`] for unsigned integers through the [`Writer`] and [`Reader`]
/// methods of the same name (fixed width, big-endian); a short read names the type.
macro_rules! canonical_uint {
    ($($ty:ident),+) => {$(
        impl Canonical for $ty {
            fn encode_to(&self, w: &mut Writer) {
                w.$ty(*self);
            }
            fn decode_from(r: &mut Reader<'_>) -> Result<Self> {
                r.$ty(stringify!($ty))
            }
        }
    )+};
}
canonical_uint!(u8, u32, u64);

impl Canonical for bool {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(u8::from(*self));
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self> {
        match r.u8("bool")? {
            0 => Ok(false),
            1 => Ok(true),
            tag => Err(ProtocolError::UnknownTag { what: "bool", tag }),
        }
    }
}

impl Canonical for String {
    fn encode_to(&self, w: &mut Writer) {
        w.bytes(self.as_bytes());
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self> {
        r.string("string")
    }
}

impl<const N: usize> Canonical for [u8; N] {
    fn encode_to(&self, w: &mut Writer) {
        w.raw(self);
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self> {
        r.array("fixed bytes")
    }
}

impl<T: Canonical> Canonical for Option<T> {
    fn encode_to(&self, w: &mut Writer) {
        match self {
            None => w.u8(0),
            Some(value) => {
                w.u8(1);
                value.encode_to(w);
            }
        }
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self> {
        match r.u8("option tag")? {
            0 => Ok(None),
            1 => Ok(Some(T::decode_from(r)?)),
            tag => Err(ProtocolError::UnknownTag {
                what: "option",
                tag,
            }),
        }
    }
}

/// `Vec<u8>` encodes as a length-prefixed byte string, which is the same layout as a
/// vector of `u8` items.
impl<T: Canonical> Canonical for Vec<T> {
    fn encode_to(&self, w: &mut Writer) {
        w.len_prefix(self.len());
        for item in self {
            item.encode_to(w);
        }
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self> {
        // Every item takes at least one byte, so the count is bounded by the input.
        let count = r.len_prefix("vector count")?;
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            items.push(T::decode_from(r)?);
        }
        Ok(items)
    }
}

impl Canonical for PublicKey {
    fn encode_to(&self, w: &mut Writer) {
        w.raw(&self.serialize());
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self> {
        let bytes: [u8; 33] = r.array("public key")?;
        PublicKey::from_slice(&bytes).map_err(|_| ProtocolError::InvalidPublicKey {
            field: "public key",
        })
    }
}

/// Compact 64-byte ECDSA signatures; high-S forms are refused so that a signed object has
/// exactly one encoding (and one id).
impl Canonical for Signature {
    fn encode_to(&self, w: &mut Writer) {
        w.raw(&self.serialize_compact());
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self> {
        let bytes: [u8; 64] = r.array("signature")?;
        super::signing::signature_from_compact(&bytes)
    }
}

/// Implements [`Canonical`] for a struct by encoding the listed fields in order, each with
/// its own [`Canonical`] layout.
macro_rules! canonical_struct {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl $crate::protocol::codec::Canonical for $ty {
            fn encode_to(&self, w: &mut $crate::protocol::codec::Writer) {
                $( $crate::protocol::codec::Canonical::encode_to(&self.$field, w); )*
            }
            fn decode_from(
                r: &mut $crate::protocol::codec::Reader<'_>,
            ) -> $crate::protocol::error::Result<Self> {
                Ok(Self { $( $field: $crate::protocol::codec::Canonical::decode_from(r)?, )* })
            }
        }
    };
}
pub(crate) use canonical_struct;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_of_primitives_is_pinned() {
        let mut w = Writer::new();
        7u8.encode_to(&mut w);
        0x0102_0304u32.encode_to(&mut w);
        0x0102_0304_0506_0708u64.encode_to(&mut w);
        true.encode_to(&mut w);
        "hé".to_string().encode_to(&mut w);
        Some(5u8).encode_to(&mut w);
        None::<u8>.encode_to(&mut w);
        vec![0xaau8, 0xbb].encode_to(&mut w);
        assert_eq!(
            hex::encode(w.into_bytes()),
            "07010203040102030405060708010000000368c3a901050000000002aabb"
        );
    }

    #[test]
    fn round_trip_of_nested_values() {
        let value: Vec<Option<String>> = vec![Some("a".into()), None, Some(String::new())];
        let bytes = value.to_canonical();
        assert_eq!(Vec::<Option<String>>::from_canonical(&bytes), Ok(value));
    }

    #[test]
    fn trailing_bytes_are_refused() {
        assert_eq!(
            u32::from_canonical(&[0, 0, 0, 1, 9]),
            Err(ProtocolError::TrailingBytes { count: 1 })
        );
    }

    #[test]
    fn truncated_input_is_refused() {
        assert_eq!(
            u64::from_canonical(&[0, 1, 2]),
            Err(ProtocolError::UnexpectedEnd {
                field: "u64",
                needed: 5
            })
        );
    }

    #[test]
    fn length_beyond_input_is_refused() {
        assert_eq!(
            String::from_canonical(&[0, 0, 0, 9, b'a']),
            Err(ProtocolError::BadLength {
                field: "string",
                length: 9
            })
        );
        assert_eq!(
            Vec::<u64>::from_canonical(&[0xff, 0xff, 0xff, 0xff]),
            Err(ProtocolError::BadLength {
                field: "vector count",
                length: u64::from(u32::MAX)
            })
        );
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert_eq!(
            String::from_canonical(&[0, 0, 0, 1, 0xff]),
            Err(ProtocolError::InvalidUtf8 { field: "string" })
        );
    }

    #[test]
    fn bad_bool_and_option_tags_are_refused() {
        assert_eq!(
            bool::from_canonical(&[2]),
            Err(ProtocolError::UnknownTag {
                what: "bool",
                tag: 2
            })
        );
        assert_eq!(
            Option::<u8>::from_canonical(&[3, 1]),
            Err(ProtocolError::UnknownTag {
                what: "option",
                tag: 3
            })
        );
    }

    #[test]
    fn invalid_public_key_is_refused() {
        let mut bytes = [0u8; 33];
        bytes[0] = 0x02;
        assert_eq!(
            PublicKey::from_canonical(&bytes),
            Err(ProtocolError::InvalidPublicKey {
                field: "public key"
            })
        );
    }
}
