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

use tendermint_light_client_verifier::options::Options;
use tendermint_light_client_verifier::types::{Time, TrustThreshold};
use tendermint_light_client_verifier::{ProdVerifier, Verdict, Verifier};

use super::anchor::{TrustAnchor, TrustRoot};
use super::error::{LightError, LightResult};
use super::light_block::{LightBlock, app_hash_of, light_height_of};
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

/// The device's clock as the verifier wants it.
pub fn now() -> LightResult<Time> {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| LightError::InvalidInput("the clock is before 1970".into()))?;
    let secs = i64::try_from(since.as_secs())
        .map_err(|_| LightError::InvalidInput("the clock is out of range".into()))?;
    Time::from_unix_timestamp(secs, since.subsec_nanos())
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
        Verdict::Invalid(detail) => Err(forged(untrusted, detail)),
    }
}

/// Verifies the light block at `target` from `trusted` (or from the anchor's root when
/// nothing is trusted yet), fetching light blocks with `fetch` and bisecting on
/// NotEnoughTrust. Returns the verified target block.
pub async fn verify_to<F, Fut>(
    anchor: &TrustAnchor,
    trusted: Option<LightBlock>,
    target: u64,
    fetch: F,
) -> LightResult<LightBlock>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = LightResult<LightBlock>>,
{
    let now = now()?;
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
