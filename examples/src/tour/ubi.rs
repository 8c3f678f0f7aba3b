//! The tour's insurer: a service provider funded at genesis registers, asks the owner
//! for the week's trips of the first car for a usage-based-insurance score (the shipped
//! `UbiScore` program) and pays for it; the owner approves with a privacy zone around
//! home (the first trip's start); the insurer receives the owner-signed score, checks
//! it against the ledger and accepts the delivery, which pays the owner.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use carchain_core::compute::{ProgramOutput, ShippedProgram};
use carchain_core::grants::provider::{RequestOutcome, RequestSpec};
use carchain_core::grants::{
    Delivery, GrantsLedger, Narrowing, Privilege, RequestTerms, ServiceProvider,
};
use carchain_core::keys::{Network, RsaBits, Seed, derive_rsa_private_key};
use carchain_core::light::LightClient;
use carchain_core::protocol::EscrowStatus;
use carchain_core::protocol::signing::secret_key_from_bytes;
use carchain_core::trip::{PrivacyZone, TripPoint};
use carchain_core::wallet::Wallet;
use chrono::NaiveDate;

use super::summary::UbiStep;

/// What the insurer pays for the score.
pub const UBI_PRICE: u64 = 50_000;
/// The insurer's genesis funding.
pub const INSURER_FUNDING: u64 = 10_000_000;
/// Radius of the privacy zone the owner draws around home, metres.
pub const HOME_ZONE_RADIUS_M: f64 = 300.0;
/// How long the insurer waits for the owner's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// The tour's insurer: fixed keys, so every run shows the same insurer.
pub fn tour_insurer() -> Result<ServiceProvider> {
    let account = secret_key_from_bytes(&[0x1a; 32]).context("insurer account key")?;
    let rsa = derive_rsa_private_key(&Seed::from_bytes([0x1a; 64]), RsaBits::B2048)
        .context("insurer RSA key")?;
    Ok(ServiceProvider::new(account, rsa, Network::Regtest))
}

/// The privacy zone around `home`.
pub fn home_zone(home: &TripPoint) -> Result<PrivacyZone> {
    PrivacyZone::new(home.lat, home.lng, HOME_ZONE_RADIUS_M).context("home privacy zone")
}

/// Where the step runs.
pub struct UbiSetting<'a> {
    /// The owner's wallet.
    pub owner: &'a Wallet,
    /// The insurer.
    pub insurer: &'a ServiceProvider,
    /// A light client of the node.
    pub light: &'a LightClient,
    /// The node's base URL.
    pub base: &'a str,
    /// The car asked about.
    pub vid: &'a str,
    /// The period asked for.
    pub from: NaiveDate,
    /// Its last day.
    pub to: NaiveDate,
    /// Home: the first trip's start.
    pub home: TripPoint,
}

/// Runs the step: register, request (paid), approve with the home zone, receive,
/// accept. Returns what `summary.json` records.
pub async fn run_ubi(setting: &UbiSetting<'_>) -> Result<UbiStep> {
    let ledger = GrantsLedger::new(setting.light.clone(), &[setting.base.to_owned()])?;
    let insurer = setting.insurer;
    let owner = setting.owner;
    let ubi = ShippedProgram::UbiScore.program_hash()?;
    insurer
        .register(
            &ledger,
            "Tour Insurance",
            "usage-based insurance quotes",
            vec![ubi],
        )
        .await
        .context("registering the insurer")?;
    let request_id = insurer
        .request(
            &ledger,
            &RequestSpec {
                owner_address: owner.owner_address(),
                terms: RequestTerms {
                    period: None,
                    formats: vec!["trip-gps".into()],
                    from: setting.from,
                    to: setting.to,
                    privileges: vec![Privilege::LocationHistory],
                    delivery: Delivery::Compute { code_hash: ubi },
                },
                purpose: "a usage-based insurance quote for the week".into(),
                price: UBI_PRICE,
                expires_at: None,
            },
        )
        .await
        .context("sending the insurer's request")?;

    let pending = owner.pending_requests(&ledger).await?;
    if !pending.iter().any(|p| p.request.request_id == request_id) {
        bail!("the insurer's request is not in the owner's inbox");
    }
    let owner_balance_before = setting.light.account(&owner.owner_address()).await?.balance;
    let narrowing = Narrowing {
        privacy_zones: vec![home_zone(&setting.home)?],
        ..Narrowing::default()
    };
    owner
        .approve(&ledger, &request_id, setting.vid, &narrowing)
        .await
        .context("the owner's approval")?;

    let outcome = insurer
        .wait_for_result(&ledger, &request_id, ANSWER_TIMEOUT)
        .await
        .context("the insurer waiting for the score")?;
    let RequestOutcome::Result(received) = outcome else {
        bail!("the insurer expected a computation's result, got {outcome:?}");
    };
    let Some(ProgramOutput::UbiScore(score)) = received.output() else {
        bail!("the result is not a UBI score");
    };
    let paid = received
        .payment
        .as_ref()
        .is_some_and(|escrow| escrow.status == EscrowStatus::Released);
    if !paid {
        bail!("the insurer's escrow was not released to the owner");
    }
    let owner_balance_after = setting.light.account(&owner.owner_address()).await?.balance;
    Ok(UbiStep {
        status: "delivered".into(),
        note: format!(
            "score {} of 1000 over {} trips ({:.1} km, {} harsh events), signed by the owner; {UBI_PRICE} paid through escrow",
            score.score,
            received.inputs.len(),
            score.distance_m as f64 / 1000.0,
            score.harsh_events
        ),
        score: score.score,
        trips_used: received.inputs.len() as u64,
        price: UBI_PRICE,
        owner_balance_before,
        owner_balance_after,
    })
}
