//! Engine transactions: the bytes a consensus node hands CometBFT. One is either a single
//! CarChain signed transaction (its canonical bytes, as any client sends it) or a bundle
//! of several, which the node makes of one record batch so that the engine orders,
//! gossips and checks a batch as one transaction instead of one per record.
//!
//! Layout of a bundle: the tag `ff ff ff ff` || u32(count) || count x (u32(len) || the
//! canonical bytes of one signed transaction), big-endian, nothing after. A canonical
//! signed transaction starts with the u32 length of its chain id, which is never
//! `0xffffffff` in a transaction the engine accepts, so the two cannot be confused.
//!
//! The ledger never sees a bundle: a block's bundles are opened and their transactions
//! executed one by one in order, each with its own id, result and place in the block.

use carchain_core::protocol::{Canonical, SignedTransaction};

/// The first four bytes of a bundle.
pub const BUNDLE_TAG: [u8; 4] = [0xff; 4];
/// Most transactions one bundle may carry.
pub const MAX_BUNDLE_ITEMS: usize = 500;
/// Largest bundle, in bytes: well under CometBFT's default `max_tx_bytes` (1 MiB).
pub const MAX_BUNDLE_BYTES: usize = 512 * 1024;

/// Why engine transaction bytes do not decode.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    /// The bytes end inside the bundle's layout.
    #[error("the bundle is truncated")]
    Truncated,
    /// Bytes follow the bundle's last transaction.
    #[error("bytes follow the bundle's last transaction")]
    Trailing,
    /// The count is 0 or above [`MAX_BUNDLE_ITEMS`].
    #[error("a bundle holds 1 to {MAX_BUNDLE_ITEMS} transactions, not {0}")]
    Count(u32),
    /// The bundle is larger than [`MAX_BUNDLE_BYTES`].
    #[error("a bundle is at most {MAX_BUNDLE_BYTES} bytes, this one {0}")]
    TooLarge(usize),
    /// One of its transactions (or the single transaction) does not decode.
    #[error("transaction {index} does not decode: {detail}")]
    Item {
        /// Its place in the bundle (0 for a single transaction).
        index: usize,
        /// Why.
        detail: String,
    },
}

/// Whether `bytes` are a bundle (by their tag; they may still not decode).
pub fn is_bundle(bytes: &[u8]) -> bool {
    bytes.starts_with(&BUNDLE_TAG)
}

/// Encodes `txs` (1 to [`MAX_BUNDLE_ITEMS`], checked by [`decode`]'s reader, not here)
/// as one engine transaction: a single one as itself, several as a bundle.
pub fn encode(txs: &[&SignedTransaction]) -> Vec<u8> {
    if let [single] = txs {
        return single.to_canonical();
    }
    let items: Vec<Vec<u8>> = txs.iter().map(|tx| tx.to_canonical()).collect();
    let size = 8 + items.iter().map(|item| 4 + item.len()).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&BUNDLE_TAG);
    out.extend_from_slice(&u32_of(items.len()).to_be_bytes());
    for item in items {
        out.extend_from_slice(&u32_of(item.len()).to_be_bytes());
        out.extend_from_slice(&item);
    }
    out
}

/// The bytes `tx` takes in a bundle (its length prefix included), to cut bundles by
/// [`MAX_BUNDLE_BYTES`].
pub fn encoded_len(tx: &SignedTransaction) -> usize {
    4 + tx.to_canonical().len()
}

fn u32_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// How many ledger transactions `bytes` stand for, read from a bundle's header without
/// decoding it (1 for anything else): to cut a proposal to a ledger block.
pub fn count(bytes: &[u8]) -> usize {
    if !is_bundle(bytes) {
        return 1;
    }
    bytes
        .get(4..8)
        .and_then(|n| <[u8; 4]>::try_from(n).ok())
        .map_or(1, |n| u32::from_be_bytes(n) as usize)
}

/// Decodes engine transaction bytes into the signed transactions they carry, in order.
pub fn decode(bytes: &[u8]) -> Result<Vec<SignedTransaction>, BundleError> {
    if !is_bundle(bytes) {
        return SignedTransaction::from_canonical(bytes)
            .map(|tx| vec![tx])
            .map_err(|err| BundleError::Item {
                index: 0,
                detail: err.to_string(),
            });
    }
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(BundleError::TooLarge(bytes.len()));
    }
    let mut rest = &bytes[4..];
    let count = take_u32(&mut rest)?;
    if count == 0 || count as usize > MAX_BUNDLE_ITEMS {
        return Err(BundleError::Count(count));
    }
    let mut txs = Vec::with_capacity(count as usize);
    for index in 0..count as usize {
        let len = take_u32(&mut rest)? as usize;
        let item = rest.get(..len).ok_or(BundleError::Truncated)?;
        rest = &rest[len..];
        let tx = SignedTransaction::from_canonical(item).map_err(|err| BundleError::Item {
            index,
            detail: err.to_string(),
        })?;
        txs.push(tx);
    }
    if !rest.is_empty() {
        return Err(BundleError::Trailing);
    }
    Ok(txs)
}

fn take_u32(rest: &mut &[u8]) -> Result<u32, BundleError> {
    let head = rest.get(..4).ok_or(BundleError::Truncated)?;
    let n = u32::from_be_bytes(<[u8; 4]>::try_from(head).map_err(|_| BundleError::Truncated)?);
    *rest = &rest[4..];
    Ok(n)
}

#[cfg(test)]
mod tests;
