//! Sending due notifications: one POST each, concurrently, signed with the provider's
//! secret. A 2xx removes a notification and counts it delivered; anything else counts
//! an attempt, records the failure's class on the hook, and schedules the next attempt
//! with doubling backoff, or, at the attempt or age limit, keeps the notification as
//! failed: it is not sent again.

use std::sync::Arc;
use std::time::Duration;

use carchain_core::grants::webhook::manage::DeliveryErrorClass;
use carchain_core::grants::webhook::{SIGNATURE_HEADER, webhook_signature};

use super::store::{Due, Failure};
use super::{
    DeliveryOptions, FIRST_BACKOFF, MAX_BACKOFF, SEND_TIMEOUT, Webhooks, blocking, now_ms,
};
use crate::service::ServiceError;

/// Notifications sent in one round.
const ROUND: u32 = 32;

/// The HTTP client notifications go out with: a timeout, no redirects.
pub(super) fn client(_options: DeliveryOptions) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(SEND_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// What one attempt came to: acknowledged, or the class and status of its failure.
type Outcome = Result<(), (DeliveryErrorClass, Option<u16>)>;

async fn attempt(http: &reqwest::Client, due: &Due) -> Outcome {
    let signature = webhook_signature(&due.secret, &due.body);
    let answer = http
        .post(&due.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(due.body.clone())
        .send()
        .await;
    match answer {
        Ok(answer) if answer.status().is_success() => Ok(()),
        Ok(answer) => Err((DeliveryErrorClass::Status, Some(answer.status().as_u16()))),
        Err(err) if err.is_timeout() => Err((DeliveryErrorClass::Timeout, None)),
        Err(err) if err.is_connect() => Err((DeliveryErrorClass::Connect, None)),
        Err(_) => Err((DeliveryErrorClass::Other, None)),
    }
}

/// The next attempt's time after `attempts` failed ones, or `None` when the limits are
/// reached.
fn retry_at(options: &DeliveryOptions, attempts: u32, created_at_ms: u64, now: u64) -> Option<u64> {
    let age = Duration::from_millis(now.saturating_sub(created_at_ms));
    if attempts >= options.max_attempts || age >= options.max_age {
        return None;
    }
    let delay = FIRST_BACKOFF
        .saturating_mul(1u32 << attempts.saturating_sub(1).min(20))
        .min(MAX_BACKOFF);
    Some(now + delay.as_millis() as u64)
}

impl Webhooks {
    /// Sends the due notifications once each, concurrently, and records each outcome.
    pub async fn send_due(self: &Arc<Self>, http: &reqwest::Client) -> Result<(), ServiceError> {
        let this = Arc::clone(self);
        let due = blocking(move || this.store.due(now_ms(), ROUND)).await?;
        let attempts = due.into_iter().map(|due| async move {
            let outcome = attempt(http, &due).await;
            (due, outcome)
        });
        let outcomes = futures::future::join_all(attempts).await;
        let this = Arc::clone(self);
        blocking(move || {
            for (due, outcome) in outcomes {
                let Err((class, status)) = outcome else {
                    this.store.delivered(&due.id, &due.provider)?;
                    continue;
                };
                let now = now_ms();
                let attempts = due.attempts.saturating_add(1);
                let retry_at_ms = retry_at(&this.options, attempts, due.created_at_ms, now);
                match retry_at_ms {
                    Some(at) => tracing::info!(
                        attempts,
                        status,
                        class = class.as_str(),
                        retry_ms = at - now,
                        "webhook notification not acknowledged; will retry"
                    ),
                    None => tracing::warn!(
                        attempts,
                        status,
                        class = class.as_str(),
                        provider = %due.provider,
                        "webhook notification not acknowledged; limit reached, kept as failed"
                    ),
                }
                let failure = Failure {
                    class: class.as_str(),
                    status,
                    at_ms: now,
                    retry_at_ms,
                };
                this.store.failed(&due.id, &due.provider, &failure)?;
            }
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_stop_at_either_limit() {
        let options = DeliveryOptions {
            max_attempts: 4,
            max_age: Duration::from_secs(60),
            refuse_private: false,
        };
        assert_eq!(retry_at(&options, 1, 0, 1000), Some(1500));
        assert_eq!(retry_at(&options, 2, 0, 1000), Some(2000));
        assert_eq!(retry_at(&options, 3, 0, 1000), Some(3000));
        assert_eq!(retry_at(&options, 4, 0, 1000), None, "attempt limit");
        assert_eq!(retry_at(&options, 1, 0, 60_000), None, "age limit");
        let long = DeliveryOptions {
            max_attempts: 1000,
            ..options
        };
        assert_eq!(
            retry_at(&long, 100, 0, 1000),
            Some(1000 + MAX_BACKOFF.as_millis() as u64),
            "capped backoff"
        );
    }
}
