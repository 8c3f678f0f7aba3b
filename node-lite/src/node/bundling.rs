//! A record batch on its way to the CometBFT engine: cut into bundles (one engine
//! transaction each, `abci::bundle`), sent in one JSON-RPC round trip, each bundle's
//! CheckTx heard by this node as the engine's application; the admissible transactions
//! of a refused bundle go again in a new one.

use super::consensus::{CHECK_WAIT, CometLink, engine_id, forget_closed};
use super::*;
use crate::abci::bundle;
use crate::abci::rpc::RpcError;

impl CometLink {
    /// Hands `txs` to the engine's mempool in their order, cut into bundles (one engine
    /// transaction each, [`bundle`]) sent in one round trip, without waiting for each
    /// CheckTx in turn: this node is the engine's application, so it hears each
    /// bundle's CheckTx itself ([`Self::checked`]). Per transaction, `Ok` once admitted
    /// (or already known to the engine), else why not.
    ///
    /// The engine takes a bundle whole or not at all: the admissible transactions of a
    /// refused bundle are sent again in a new one (and with them a later bundle's that
    /// were refused only for the nonce gap the refused one left), up to
    /// [`BUNDLE_ROUNDS`] times.
    ///
    /// The transactions come [`crate::state::Prechecked`]: their CheckTx here does not
    /// verify their signatures again.
    pub(crate) async fn broadcast_all(
        &self,
        txs: &[&crate::state::Prechecked],
    ) -> Vec<Result<(), ServiceError>> {
        let mut answers: Vec<Option<Result<(), ServiceError>>> = vec![None; txs.len()];
        let mut pending: Vec<usize> = (0..txs.len()).collect();
        for round in 1..=BUNDLE_ROUNDS {
            if pending.is_empty() {
                break;
            }
            let last_round = round == BUNDLE_ROUNDS;
            let groups = cut_bundles(txs, &pending);
            let encoded: Vec<([u8; 32], Vec<u8>)> = groups
                .iter()
                .map(|group| {
                    let members: Vec<&SignedTransaction> =
                        group.iter().map(|&at| txs[at].tx()).collect();
                    let bytes = bundle::encode(&members);
                    (engine_id(&bytes), bytes)
                })
                .collect();
            let checks: Vec<_> = encoded.iter().map(|(id, _)| self.check_of(*id)).collect();
            let bytes: Vec<Vec<u8>> = encoded.iter().map(|(_, bytes)| bytes.clone()).collect();
            let queued = self.rpc.broadcast_txs_async(&bytes).await;
            let mut retry = Vec::new();
            let mut refused_before = false;
            for (((group, (id, _)), check), queued) in
                groups.iter().zip(&encoded).zip(checks).zip(queued)
            {
                let per_item = match queued {
                    Ok(()) => match tokio::time::timeout(CHECK_WAIT, check).await {
                        Ok(Ok(per_item)) if per_item.len() == group.len() => per_item,
                        _ => vec![Err(unchecked()); group.len()],
                    },
                    Err(err) => {
                        // No CheckTx comes for it here: stop waiting before forgetting.
                        drop(check);
                        let answer = match err {
                            RpcError::AlreadyKnown => Ok(()),
                            err => Err(ServiceError::new(ErrorCode::Unavailable, err.to_string())),
                        };
                        vec![answer; group.len()]
                    }
                };
                forget_closed(&self.checks, id);
                let refused = per_item.iter().any(Result::is_err);
                for (&at, answer) in group.iter().zip(per_item) {
                    let again = !last_round
                        && match &answer {
                            Ok(()) => refused,
                            Err(err) => refused_before && err.code == ErrorCode::BadNonce,
                        };
                    if again {
                        retry.push(at);
                    } else {
                        answers[at] = Some(answer);
                    }
                }
                refused_before |= refused;
            }
            pending = retry;
        }
        answers
            .into_iter()
            .map(|answer| answer.unwrap_or_else(|| Err(unchecked())))
            .collect()
    }
}

/// How many times [`CometLink::broadcast_all`] sends the admissible transactions of a
/// refused bundle again.
const BUNDLE_ROUNDS: usize = 3;

/// Why a transaction has no CheckTx answer.
fn unchecked() -> ServiceError {
    ServiceError::new(
        ErrorCode::Unavailable,
        "the engine did not check the transaction in time",
    )
}

/// Cuts the transactions at `pending` (in order) into bundles of at most
/// [`bundle::MAX_BUNDLE_ITEMS`] transactions and [`bundle::MAX_BUNDLE_BYTES`] bytes.
fn cut_bundles(txs: &[&crate::state::Prechecked], pending: &[usize]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut size = 8usize;
    for &at in pending {
        let len = bundle::encoded_len(txs[at].tx());
        if !current.is_empty()
            && (current.len() >= bundle::MAX_BUNDLE_ITEMS || size + len > bundle::MAX_BUNDLE_BYTES)
        {
            groups.push(std::mem::take(&mut current));
            size = 8;
        }
        current.push(at);
        size += len;
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
}
