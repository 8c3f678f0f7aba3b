//! The fixed inputs the crypto tests' known-answer vectors are computed from: a counting
//! epoch key, one record context and the pinned envelope sealed with a fixed nonce.

use super::envelope::{Envelope, NONCE_LEN, seal_with_nonce};
use super::error::CryptoResult;
use super::hierarchy::RecordContext;
use super::symmetric::EpochKey;
use super::wrap::WrappedKey;

/// The epoch key whose bytes are 0, 1, 2, … 31.
pub(crate) fn counting_epoch_key() -> EpochKey {
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::try_from(i).unwrap_or(0);
    }
    EpochKey::from_bytes(bytes)
}

/// The record context of the vectors: a test address, key bytes 1..=5, `trip-gps`.
pub(crate) fn ctx() -> RecordContext<'static> {
    RecordContext {
        address: "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080",
        key_bytes: &[1, 2, 3, 4, 5],
        format: "trip-gps",
    }
}

/// `hello carchain` sealed under [`counting_epoch_key`] and [`ctx`] with the nonce
/// `0c…0c` and a 4-byte wrapped key of `0xBB`, with `sealed_key` travelling sealed.
pub(crate) fn pinned_envelope(sealed_key: Option<&[u8]>) -> CryptoResult<Envelope> {
    seal_with_nonce(
        b"hello carchain",
        sealed_key,
        &ctx(),
        &counting_epoch_key(),
        &WrappedKey {
            ciphertext: vec![0xBB; 4],
        },
        [0x0C; NONCE_LEN],
    )
}
