//! Binding every ledger header the client accepts to the verified CometBFT chain, not
//! only the newest one of a page: a node that rewrites a header's height, time or state
//! root (and re-signs it, or links a rewritten chain) is caught.
//!
//! After the light block at `b + 1` is verified (see [`super::certify`]) for a page of
//! ledger headers `a..=b`, the CometBFT headers below it are authenticated by hashing
//! alone: each names its parent's hash in `last_block_id`, down to the trusted light
//! block (a header that does not match the trusted one there is a conflicting chain).
//! Then for every ledger header `H` of the page:
//! - the CometBFT header `H + 1` is of this chain and its `app_hash` is `H`'s state root;
//! - `H`'s time (unix ms) is the consensus time, or the time of header `H - 1` when that
//!   is later (the ledger's clock never goes back: the ledger genesis may be younger
//!   than the engine's first block). The consensus time is that of the CometBFT header
//!   `H` under a CometBFT engine (`version.app` [`ENGINE_APP_VERSION`]: the ledger block
//!   is built from the engine's decided block `H`), or of the header `H + 1` on the
//!   embedded single-validator node (`version.app` [`EMBEDDED_APP_VERSION`]: it signs
//!   ledger block `H`'s light block once the block is committed). The version is part
//!   of the signed header, so a node cannot choose the rule; any other is refused.
//!
//! The previous hash is then bound by induction (each header links to a bound one);
//! CometBFT's header carries no equivalent of the transaction root, count or the ledger
//! signer, which the client does not use.

use std::collections::BTreeMap;
use std::future::Future;

use tendermint::block::Header;

use super::error::{LightError, LightResult};
use super::light_block::{EMBEDDED_APP_VERSION, ENGINE_APP_VERSION, LightBlock};
use crate::protocol::SignedHeader;

fn mismatch(height: u64, field: &'static str) -> LightError {
    LightError::HeaderMismatch { height, field }
}

fn time_ms(header: &Header) -> u64 {
    let nanos = header.time.unix_timestamp_nanos();
    u64::try_from(nanos / 1_000_000).unwrap_or(0)
}

/// Checks every ledger header of `headers` (contiguous, ascending) against the CometBFT
/// chain ending at `certified` (verified, at the height after the last header), fetching
/// the headers in between with `fetch` and linking them to `trusted` when it is below.
/// `previous` is the verified header before the first one, if any.
pub async fn bind_headers<F, Fut>(
    headers: &[SignedHeader],
    certified: &LightBlock,
    trusted: Option<&LightBlock>,
    previous: Option<&SignedHeader>,
    fetch: F,
) -> LightResult<()>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = LightResult<LightBlock>>,
{
    let (Some(first), Some(last)) = (headers.first(), headers.last()) else {
        return Ok(());
    };
    let top = certified.height().value();
    if top != last.header.height.saturating_add(1) {
        return Err(mismatch(last.header.height, "height"));
    }
    let version = certified.signed_header.header.version.app;
    let embedded = match version {
        EMBEDDED_APP_VERSION => true,
        ENGINE_APP_VERSION => false,
        other => {
            return Err(LightError::ForgedCommit {
                height: top,
                reason: format!("unknown app version {other}"),
            });
        }
    };
    let lowest = first.header.height.max(1);
    let mut chain: BTreeMap<u64, Header> = BTreeMap::new();
    chain.insert(top, certified.signed_header.header.clone());
    let mut child_height = top;
    while child_height > lowest {
        let height = child_height - 1;
        let expected = chain
            .get(&child_height)
            .and_then(|child| child.last_block_id)
            .map(|id| id.hash)
            .ok_or_else(|| LightError::ForgedCommit {
                height: child_height,
                reason: "a header above 1 without a previous block id".into(),
            })?;
        let header = match trusted.filter(|t| t.height().value() == height) {
            Some(trusted) => {
                let header = trusted.signed_header.header.clone();
                if header.hash() != expected {
                    return Err(LightError::ConflictingHeaders {
                        height: height.saturating_sub(1),
                        reason: format!(
                            "CometBFT header {height} is not the one this client verified"
                        ),
                    });
                }
                header
            }
            None => {
                let header = fetch(height).await?.signed_header.header;
                if header.height.value() != height || header.hash() != expected {
                    return Err(LightError::ForgedCommit {
                        height,
                        reason: "not the parent of the verified header".into(),
                    });
                }
                header
            }
        };
        if header.version.app != version {
            return Err(LightError::ForgedCommit {
                height,
                reason: format!("app version {} in a chain of {version}", header.version.app),
            });
        }
        chain.insert(height, header);
        child_height = height;
    }
    let mut previous_time = previous.map(|p| p.header.time);
    for ledger in headers {
        let height = ledger.header.height;
        let cert = chain
            .get(&height.saturating_add(1))
            .ok_or_else(|| mismatch(height, "height"))?;
        if cert.chain_id.as_str() != ledger.header.chain_id {
            return Err(mismatch(height, "chain_id"));
        }
        if cert.app_hash.as_bytes() != ledger.header.state_root.as_slice() {
            return Err(LightError::AppHashMismatch { height });
        }
        let timed = if embedded {
            Some(cert)
        } else {
            chain.get(&height)
        };
        // Under an engine, ledger genesis (height 0) has no CometBFT header of its own.
        if let Some(timed) = timed {
            let expected = previous_time.map_or(time_ms(timed), |p| p.max(time_ms(timed)));
            if expected != ledger.header.time {
                return Err(mismatch(height, "time"));
            }
        }
        previous_time = Some(ledger.header.time);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::light::headers::test_chain::{chain, light_blocks, validator_secret};

    fn run(
        headers: &[SignedHeader],
        blocks: &[LightBlock],
        trusted: Option<&LightBlock>,
    ) -> LightResult<Vec<u64>> {
        let asked = std::sync::Mutex::new(Vec::new());
        let top = &blocks[headers.last().unwrap().header.height as usize];
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(bind_headers(headers, top, trusted, None, |h| {
            asked.lock().unwrap().push(h);
            let found = blocks.get(h as usize - 1).cloned();
            async move { found.ok_or(LightError::NotSynced(h)) }
        }))?;
        Ok(asked.into_inner().unwrap())
    }

    #[test]
    fn every_header_of_a_page_is_bound_to_the_verified_chain() {
        let headers = chain(6);
        let blocks = light_blocks(&headers);
        assert_eq!(run(&headers, &blocks, None).unwrap(), vec![5, 4, 3, 2, 1]);
        assert_eq!(
            run(&headers[3..], &blocks, Some(&blocks[2])).unwrap(),
            vec![5, 4]
        );
    }

    #[test]
    fn a_rewritten_time_or_state_root_of_any_header_is_caught() {
        let headers = chain(6);
        let blocks = light_blocks(&headers);
        let mut timed = headers.clone();
        timed[2].header.time += 1;
        timed[2] = timed[2].header.clone().sign(&validator_secret()).unwrap();
        assert!(matches!(
            run(&timed, &blocks, None),
            Err(LightError::HeaderMismatch {
                height: 2,
                field: "time"
            })
        ));
        let mut rooted = headers.clone();
        rooted[1].header.state_root = [0xee; 32];
        assert!(matches!(
            run(&rooted, &blocks, None),
            Err(LightError::AppHashMismatch { height: 1 })
        ));
    }

    #[test]
    fn a_served_header_off_the_verified_chain_or_trust_is_caught() {
        let headers = chain(6);
        let blocks = light_blocks(&headers);
        let mut forked = blocks.clone();
        forked[2].signed_header.header.app_hash = vec![0xaa; 32].try_into().unwrap();
        assert!(matches!(
            run(&headers, &forked, None),
            Err(LightError::ForgedCommit { height: 3, .. })
        ));
        let mut stranger = blocks[2].clone();
        stranger.signed_header.header.app_hash = vec![0xbb; 32].try_into().unwrap();
        assert!(matches!(
            run(&headers[3..], &blocks, Some(&stranger)),
            Err(LightError::ConflictingHeaders { .. })
        ));
    }
}
