//! One simulated car's life against a node (`car-sim --node`): it drives day after day,
//! queues each day's records in its durable store and flushes the queue (one batch per
//! pool address) at the end of the day, as a car back in coverage would. While the node
//! is down or restarting the car keeps driving: its records wait in the queue, and it
//! tries again after a backoff (doubling, with full jitter). A record counts as
//! acknowledged only once the node holds it: the acknowledgement log never names a
//! record the node does not have.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use carchain_core::device::{CarDevice, DeviceError};
use carchain_core::light::LightClient;
use carchain_core::record::FormatSpec;
use chrono::NaiveDate;
use serde::Serialize;

use super::{CarSimulator, SimRng};

/// First pause after a failed flush.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// Longest pause between two flush attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What every car's loop shares: the days, the record budget, the deadline and the
/// acknowledgement log.
pub struct CarRun {
    /// The first simulated day.
    pub first_day: NaiveDate,
    /// Days to drive (`None`: until the budget or the deadline ends the run).
    pub days: Option<u32>,
    /// Records queued so far by all cars (the budget is shared).
    pub claimed: Arc<AtomicU64>,
    /// Most records all cars may queue.
    pub limit: u64,
    /// When the cars stop driving.
    pub deadline: Option<Instant>,
    /// How long a car keeps trying to deliver its queue after it stopped driving.
    pub drain: Duration,
    /// One JSON line per acknowledged record.
    pub acked: Option<Arc<Mutex<std::io::BufWriter<std::fs::File>>>>,
}

/// What one car did.
#[derive(Debug, Default)]
pub struct CarOutcome {
    /// Latency of each acknowledged record, from its queueing to the node's answer.
    pub latencies: Vec<Duration>,
    /// Records queued.
    pub queued: u64,
    /// Records the node acknowledged.
    pub delivered: u64,
    /// Flush attempts that did not empty the queue (node down, restarting or busy).
    pub retries: u64,
    /// Records still queued when the car gave up draining.
    pub remaining: u64,
}

/// One acknowledged record, as a line of the acknowledgement log.
#[derive(Debug, Serialize)]
struct AckedRecord<'a> {
    vid: &'a str,
    date: String,
    format: &'a str,
    key: &'a serde_json::Value,
    value: &'a serde_json::Value,
}

/// A queued record not yet known to be held by the node.
struct Pending {
    queued_at: Instant,
    log_line: String,
}

/// The pauses between failed flush attempts: doubling from [`FIRST_BACKOFF`] to
/// [`MAX_BACKOFF`], each drawn uniformly below its bound (full jitter), so that cars
/// cut off together do not come back together.
pub struct Backoff {
    bound: Duration,
    rng: SimRng,
}

impl Backoff {
    /// A backoff whose jitter is drawn from `rng`.
    pub fn new(rng: SimRng) -> Self {
        Backoff {
            bound: FIRST_BACKOFF,
            rng,
        }
    }

    /// The next pause; the bound doubles up to [`MAX_BACKOFF`].
    pub fn next_pause(&mut self) -> Duration {
        let pause = self.bound.mul_f64(self.rng.unit());
        self.bound = (self.bound * 2).min(MAX_BACKOFF);
        pause
    }

    /// Back to the first bound after a success.
    pub fn reset(&mut self) {
        self.bound = FIRST_BACKOFF;
    }
}

/// Drives `car` through its simulated days (see the module doc) and then keeps trying to
/// deliver what is queued for at most `run.drain`.
pub async fn drive_car(
    car: CarDevice,
    mut sim: CarSimulator,
    light: LightClient,
    run: CarRun,
    jitter: SimRng,
) -> Result<CarOutcome> {
    let mut outcome = CarOutcome::default();
    let mut pending: Vec<Pending> = Vec::new();
    let mut backoff = Backoff::new(jitter);
    let mut day = run.first_day;
    let mut driven_days = 0_u32;
    let mut budget_left = true;
    while budget_left
        && run.days.is_none_or(|days| driven_days < days)
        && run.deadline.is_none_or(|d| Instant::now() < d)
    {
        for today in sim.days(day, 1) {
            let mut puts: Vec<(FormatSpec, serde_json::Value, serde_json::Value)> = Vec::new();
            for driven in &today.trips {
                puts.push((
                    FormatSpec::trip_gps(),
                    serde_json::Value::Object(driven.trip.to_key()?),
                    driven.trip.to_value(1)?,
                ));
            }
            for violation in &today.violations {
                puts.push((
                    FormatSpec::carvio(),
                    violation.key(),
                    violation.value(today.date),
                ));
            }
            for (spec, key, value) in puts {
                if run.claimed.fetch_add(1, Ordering::SeqCst) >= run.limit {
                    budget_left = false;
                    break;
                }
                car.put(&spec, &key, &value, today.date)?;
                outcome.queued += 1;
                pending.push(Pending {
                    queued_at: Instant::now(),
                    log_line: serde_json::to_string(&AckedRecord {
                        vid: car.vid(),
                        date: today.date.to_string(),
                        format: spec.name(),
                        key: &key,
                        value: &value,
                    })?,
                });
            }
        }
        driven_days += 1;
        day = day.succ_opt().context("ran past the last date")?;
        if pending.is_empty() {
            continue;
        }
        if try_deliver(&car, &light, &mut pending, &mut outcome, &run).await? {
            backoff.reset();
        } else {
            tokio::time::sleep(backoff.next_pause()).await;
        }
    }
    let drain_until = Instant::now() + run.drain;
    while !pending.is_empty() && Instant::now() < drain_until {
        if try_deliver(&car, &light, &mut pending, &mut outcome, &run).await? {
            backoff.reset();
        } else {
            tokio::time::sleep(backoff.next_pause()).await;
        }
    }
    outcome.remaining = car.queue_len()?;
    Ok(outcome)
}

/// One flush. When the queue is empty afterwards every pending record is acknowledged
/// (logged, its latency kept) and the answer is `true`; when the node could not be
/// reached or did not take everything, the records stay pending and it is `false`. A
/// record the node refuses for good ends the car's run with the node's reason.
async fn try_deliver(
    car: &CarDevice,
    light: &LightClient,
    pending: &mut Vec<Pending>,
    outcome: &mut CarOutcome,
    run: &CarRun,
) -> Result<bool> {
    match car.flush(light).await {
        Ok(report) if report.remaining == 0 => {}
        Ok(report) => {
            if let Some(refused) = report.refused.first() {
                bail!(
                    "car {}: the node refused {} queued records ({}: {})",
                    car.vid(),
                    report.refused.len(),
                    refused.code,
                    refused.message
                );
            }
            outcome.retries += 1;
            return Ok(false);
        }
        Err(DeviceError::Light(e)) if e.is_failover() => {
            outcome.retries += 1;
            return Ok(false);
        }
        Err(e) => return Err(e).with_context(|| format!("car {} delivering", car.vid())),
    }
    let now = Instant::now();
    for record in pending.drain(..) {
        outcome.latencies.push(now.duration_since(record.queued_at));
        outcome.delivered += 1;
        if let Some(log) = &run.acked {
            let mut log = log
                .lock()
                .map_err(|_| anyhow::anyhow!("the acknowledgement log lock is poisoned"))?;
            writeln!(log, "{}", record.log_line).context("writing the acknowledgement log")?;
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap_with_jitter_below_the_bound_and_resets() {
        let mut backoff = Backoff::new(SimRng::new(7));
        let mut bound = FIRST_BACKOFF;
        let mut pauses = Vec::new();
        for _ in 0..10 {
            let pause = backoff.next_pause();
            assert!(pause < bound, "{pause:?} < {bound:?}");
            pauses.push(pause);
            bound = (bound * 2).min(MAX_BACKOFF);
        }
        assert_eq!(backoff.bound, MAX_BACKOFF);
        assert!(
            pauses.windows(2).any(|w| w[0] != w[1]),
            "jittered: {pauses:?}"
        );
        backoff.reset();
        assert_eq!(backoff.bound, FIRST_BACKOFF);
        assert!(backoff.next_pause() < FIRST_BACKOFF);
    }
}
