//! Certifying ledger headers with CometBFT light blocks, verified by
//! `tendermint-light-client-verifier`'s [`ProdVerifier`] (never by code of our own).
//!
//! From the trusted consensus state (the genesis validator set, a trusted height and
//! hash, or the last light block verified), a target light block is verified with
//! `verify_update_header` at trust threshold 1/3 (skipping verification). When the
//! verifier answers NotEnoughTrust (the set changed too much), the client bisects:
//! it verifies a light block half way first, then tries again from there. A verified
//! light block certifies the ledger header whose state root is its app hash
//! ([`super::light_block::light_height_of`]).

use std::future::Future;
use std::time::Duration;

use tendermint_light_client_verifier::errors::VerificationErrorDetail;
use tendermint_light_client_verifier::options::Options;
use tendermint_light_client_verifier::types::{Time, TrustThreshold};
use tendermint_light_client_verifier::{ProdVerifier, Verdict, Verifier};

use super::anchor::{TrustAnchor, TrustRoot};
use super::error::{LightError, LightResult};
use super::light_block::{LightBlock, app_hash_of, light_height_of};
use crate::clock::Clock;
use crate::protocol::SignedHeader;

/// How long a verified validator set is trusted without a newer one. A car's wallet may
/// stay offline for months; CarChain's validators are known agencies, so the period is
/// long (a validator set that changed entirely meanwhile still fails verification).
pub const TRUSTING_PERIOD: Duration = Duration::from_secs(5 * 365 * 24 * 3600);
/// How far a header's time may be ahead of the device's clock.
pub const CLOCK_DRIFT: Duration = Duration::from_secs(60);
/// Most light blocks one certification may fetch while bisecting.
pub const MAX_BISECTION_STEPS: usize = 64;

/// The verifier's options: trust threshold 1/3, [`TRUSTING_PERIOD`], [`CLOCK_DRIFT`].
pub fn options() -> Options {
    Options {
        trust_threshold: TrustThreshold::ONE_THIRD,
        trusting_period: TRUSTING_PERIOD,
        clock_drift: CLOCK_DRIFT,
    }
}

/// `clock`'s time as the verifier wants it.
pub fn now(clock: &dyn Clock) -> LightResult<Time> {
    let millis = clock.now_millis();
    let secs = i64::try_from(millis / 1000)
        .map_err(|_| LightError::InvalidInput("the clock is out of range".into()))?;
    let nanos = u32::try_from(millis % 1000).unwrap_or(0) * 1_000_000;
    Time::from_unix_timestamp(secs, nanos)
        .map_err(|_| LightError::InvalidInput("the clock is out of range".into()))
}

fn forged(light: &LightBlock, reason: impl std::fmt::Display) -> LightError {
    LightError::ForgedCommit {
        height: light.height().value(),
        reason: reason.to_string(),
    }
}

fn check_chain(anchor: &TrustAnchor, light: &LightBlock) -> LightResult<()> {
    if light.signed_header.header.chain_id.as_str() != anchor.chain_id {
        return Err(forged(
            light,
            format!(
                "light block of chain {}",
                light.signed_header.header.chain_id
            ),
        ));
    }
    Ok(())
}

/// Verifies the first light block from the anchor's root: light block 1 committed by
/// more than 2/3 of the genesis validator set, or the light block at the trusted height
/// with the trusted hash (and a commit of its own validators).
pub fn verify_root(anchor: &TrustAnchor, light: &LightBlock) -> LightResult<()> {
    check_chain(anchor, light)?;
    let verifier = ProdVerifier::default();
    let untrusted = light.as_untrusted_state();
    match &anchor.root {
        TrustRoot::Validators(_) => {
            let set = anchor
                .validator_set()?
                .ok_or_else(|| LightError::InvalidInput("no genesis validators".into()))?;
            if light.height().value() != 1 {
                return Err(forged(light, "the genesis set certifies height 1 only"));
            }
            if light.signed_header.header.validators_hash != set.hash() {
                return Err(forged(light, "its validators are not the genesis set"));
            }
        }
        TrustRoot::Height { height, hash } => {
            if light.height().value() != *height
                || light.signed_header.header.hash().as_bytes() != hash.as_slice()
            {
                return Err(forged(light, "it is not the trusted header"));
            }
        }
    }
    expect_success(light, verifier.verify_validator_sets(&untrusted))?;
    expect_success(light, verifier.verify_commit(&untrusted))
}

fn expect_success(light: &LightBlock, verdict: Verdict) -> LightResult<()> {
    match verdict {
        Verdict::Success => Ok(()),
        Verdict::NotEnoughTrust(tally) => Err(forged(
            light,
            format!("not enough voting power signed: {tally}"),
        )),
        Verdict::Invalid(detail) => Err(forged(light, detail)),
    }
}

/// One skipping step: `Ok(true)` when `untrusted` is verified from `trusted`,
/// `Ok(false)` when the verifier needs an intermediate block (NotEnoughTrust).
pub fn verify_step(
    anchor: &TrustAnchor,
    trusted: &LightBlock,
    untrusted: &LightBlock,
    now: Time,
) -> LightResult<bool> {
    check_chain(anchor, untrusted)?;
    let verdict = ProdVerifier::default().verify_update_header(
        untrusted.as_untrusted_state(),
        trusted.as_trusted_state(),
        &options(),
        now,
    );
    match verdict {
        Verdict::Success => Ok(true),
        Verdict::NotEnoughTrust(_) => Ok(false),
        Verdict::Invalid(detail) => Err(match detail {
            VerificationErrorDetail::HeaderFromTheFuture(_)
            | VerificationErrorDetail::NotWithinTrustPeriod(_) => LightError::OutsideTrustTime {
                height: untrusted.height().value(),
                reason: detail.to_string(),
            },
            detail => forged(untrusted, detail),
        }),
    }
}

/// Verifies the light block at `target` from `trusted` (or from the anchor's root when
/// nothing is trusted yet), fetching light blocks with `fetch` and bisecting on
/// NotEnoughTrust. Returns the verified target block.
pub async fn verify_to<F, Fut>(
    anchor: &TrustAnchor,
    trusted: Option<LightBlock>,
    (target, clock): (u64, &dyn Clock),
    fetch: F,
) -> LightResult<LightBlock>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = LightResult<LightBlock>>,
{
    let now = now(clock)?;
    let mut trusted = match trusted {
        Some(block) => block,
        None => {
            let root_height = match &anchor.root {
                TrustRoot::Validators(_) => 1,
                TrustRoot::Height { height, .. } => *height,
            };
            let root = fetch(root_height).await?;
            check_height(&root, root_height)?;
            verify_root(anchor, &root)?;
            root
        }
    };
    let trusted_height = trusted.height().value();
    if target < trusted_height {
        return Err(LightError::NotSynced(target));
    }
    if target == trusted_height {
        return Ok(trusted);
    }
    let mut pending = vec![target];
    let mut steps = 0;
    while let Some(&height) = pending.last() {
        steps += 1;
        if steps > MAX_BISECTION_STEPS {
            return Err(LightError::Tampered(format!(
                "light block {target} needs more than {MAX_BISECTION_STEPS} bisection steps"
            )));
        }
        let untrusted = fetch(height).await?;
        check_height(&untrusted, height)?;
        if verify_step(anchor, &trusted, &untrusted, now)? {
            trusted = untrusted;
            pending.pop();
            continue;
        }
        let from = trusted.height().value();
        let middle = from + (height - from) / 2;
        if middle <= from {
            return Err(forged(&untrusted, "adjacent block without enough trust"));
        }
        pending.push(middle);
    }
    Ok(trusted)
}

/// Verifies recorded light blocks offline (an export archive's): the lowest is verified
/// from the anchor's root, each next one from the one before it (the blocks a
/// [`verify_to`] fetched, in ascending order, form such a path). Returns the highest.
pub fn verify_recorded(
    anchor: &TrustAnchor,
    blocks: &[LightBlock],
    clock: &dyn Clock,
) -> LightResult<LightBlock> {
    let mut sorted: Vec<&LightBlock> = blocks.iter().collect();
    sorted.sort_by_key(|block| block.height().value());
    let Some((root, rest)) = sorted.split_first() else {
        return Err(LightError::Tampered(
            "no light block certifies the headers".into(),
        ));
    };
    verify_root(anchor, root)?;
    let now = now(clock)?;
    let mut trusted: &LightBlock = root;
    for block in rest {
        if block.height() == trusted.height() {
            return Err(forged(block, "listed twice"));
        }
        if !verify_step(anchor, trusted, block, now)? {
            return Err(forged(block, "not enough trust from the block before it"));
        }
        trusted = block;
    }
    Ok(trusted.clone())
}

fn check_height(light: &LightBlock, height: u64) -> LightResult<()> {
    if light.height().value() != height {
        return Err(forged(light, format!("asked for height {height}")));
    }
    Ok(())
}

/// Checks that a verified light block certifies `header`: it is at the ledger height +
/// 1 and its app hash is the header's state root.
pub fn check_certifies(light: &LightBlock, header: &SignedHeader) -> LightResult<()> {
    let height = header.header.height;
    if light.height().value() != light_height_of(height) {
        return Err(forged(
            light,
            format!("it does not certify ledger height {height}"),
        ));
    }
    if app_hash_of(light) != Some(header.header.state_root) {
        return Err(LightError::AppHashMismatch { height });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::light::light_block::{
        BlockSpec, ConsensusSigner, block_id_of, build_light_block, validator_set,
    };
    use crate::protocol::Network;

    const CHAIN: &str = "carchain-test";

    fn keys(seeds: std::ops::Range<u8>) -> Vec<ConsensusSigner> {
        seeds
            .map(|s| ConsensusSigner::from_seed(&[s; 32]))
            .collect()
    }

    fn anchor_of(signers: &[ConsensusSigner]) -> TrustAnchor {
        let text: Vec<String> = signers.iter().map(ConsensusSigner::public_hex).collect();
        TrustAnchor::from_hex(CHAIN, Network::Regtest, &text.join(",")).unwrap()
    }

    /// Light blocks 1..=10: `old` validates 1..=5, `new` 6..=10; `signing(h)` of the
    /// validators sign block h.
    fn blocks(old: &[ConsensusSigner], new: &[ConsensusSigner]) -> Vec<LightBlock> {
        let set_of = |keys: &[ConsensusSigner]| {
            validator_set(keys.iter().map(|k| k.validator(10)).collect())
        };
        let (old_set, new_set) = (set_of(old), set_of(new));
        let start = crate::light::headers::test_chain::start_time();
        let mut out: Vec<LightBlock> = Vec::new();
        for height in 1..=10u64 {
            let (set, next, signers) = match height {
                1..=4 => (&old_set, &old_set, old),
                5 => (&old_set, &new_set, old),
                _ => (&new_set, &new_set, new),
            };
            let spec = BlockSpec {
                chain_id: CHAIN.into(),
                height,
                time_ms: start + height,
                app_hash: [height as u8; 32],
                last_block_id: out.last().map(block_id_of),
            };
            let refs: Vec<&ConsensusSigner> = signers.iter().collect();
            out.push(build_light_block(&spec, set, next, &refs).unwrap());
        }
        out
    }

    fn run(
        anchor: &TrustAnchor,
        blocks: &[LightBlock],
        target: u64,
    ) -> LightResult<(LightBlock, Vec<u64>)> {
        let asked = std::sync::Mutex::new(Vec::new());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let verified = runtime.block_on(verify_to(anchor, None, (target, &SystemClock), |h| {
            asked.lock().unwrap().push(h);
            let found = blocks.get(h as usize - 1).cloned();
            async move { found.ok_or(LightError::NotSynced(h)) }
        }))?;
        Ok((verified, asked.into_inner().unwrap()))
    }

    #[test]
    fn a_validator_set_change_is_followed_by_bisection() {
        let (old, new) = (keys(1..5), keys(11..15));
        let chain = blocks(&old, &new);
        let (verified, asked) = run(&anchor_of(&old), &chain, 10).unwrap();
        assert_eq!(verified.height().value(), 10);
        assert_eq!(
            asked,
            vec![1, 10, 5, 10],
            "root, skip refused, middle, target"
        );
    }

    #[test]
    fn a_commit_without_two_thirds_of_the_power_is_refused() {
        let old = keys(1..5);
        let mut chain = blocks(&old, &old);
        let set = chain[0].validators.clone();
        let spec = BlockSpec {
            chain_id: CHAIN.into(),
            height: 1,
            time_ms: crate::light::headers::test_chain::start_time(),
            app_hash: [1; 32],
            last_block_id: None,
        };
        chain[0] = build_light_block(&spec, &set, &set, &[&old[0], &old[1]]).unwrap();
        assert!(matches!(
            run(&anchor_of(&old), &chain, 1),
            Err(LightError::ForgedCommit { height: 1, .. })
        ));
    }

    #[test]
    fn recorded_blocks_are_verified_offline_along_their_path() {
        let (old, new) = (keys(1..5), keys(11..15));
        let chain = blocks(&old, &new);
        let anchor = anchor_of(&old);
        let pick = |heights: &[usize]| -> Vec<LightBlock> {
            heights.iter().map(|h| chain[h - 1].clone()).collect()
        };
        // The path a bisection fetched, in any order, verifies to its highest block.
        let verified = verify_recorded(&anchor, &pick(&[10, 1, 5]), &SystemClock).unwrap();
        assert_eq!(verified.height().value(), 10);
        // Skipping the set change, starting above the root, a duplicate or nothing at all
        // is refused.
        assert!(matches!(
            verify_recorded(&anchor, &pick(&[1, 10]), &SystemClock),
            Err(LightError::ForgedCommit { height: 10, .. })
        ));
        assert!(verify_recorded(&anchor, &pick(&[5, 10]), &SystemClock).is_err());
        assert!(verify_recorded(&anchor, &pick(&[1, 5, 5, 10]), &SystemClock).is_err());
        assert!(verify_recorded(&anchor, &[], &SystemClock).is_err());
        // A rewritten block on the path is refused.
        let mut rewritten = pick(&[1, 5, 10]);
        rewritten[1].signed_header.header.app_hash = vec![0xee; 32].try_into().unwrap();
        assert!(matches!(
            verify_recorded(&anchor, &rewritten, &SystemClock),
            Err(LightError::ForgedCommit { height: 5, .. })
        ));
        // Another validator set's anchor verifies nothing.
        assert!(
            verify_recorded(&anchor_of(&keys(21..25)), &pick(&[1, 5, 10]), &SystemClock).is_err()
        );
    }

    #[test]
    fn a_forged_commit_or_header_is_refused() {
        let old = keys(1..5);
        let chain = blocks(&old, &old);
        let anchor = anchor_of(&old);
        let mut rewritten = chain.clone();
        rewritten[6].signed_header.header.app_hash = vec![0xee; 32].try_into().unwrap();
        assert!(matches!(
            run(&anchor, &rewritten, 7),
            Err(LightError::ForgedCommit { height: 7, .. })
        ));
        let mut resigned = chain.clone();
        let intruder = ConsensusSigner::from_seed(&[99; 32]);
        let set = validator_set(vec![intruder.validator(100)]);
        let spec = BlockSpec {
            chain_id: CHAIN.into(),
            height: 7,
            time_ms: crate::light::headers::test_chain::start_time() + 7,
            app_hash: [0xee; 32],
            last_block_id: None,
        };
        resigned[6] = build_light_block(&spec, &set, &set, &[&intruder]).unwrap();
        assert!(run(&anchor, &resigned, 7).is_err());
        assert_eq!(run(&anchor, &chain, 7).unwrap().0, chain[6]);
    }
}
