//! Sending due notifications: one POST each, concurrently, signed with the provider's
//! secret. A 2xx removes a notification and counts it delivered; anything else counts
//! an attempt, records the failure's class on the hook, and schedules the next attempt
//! with doubling backoff, or, at the attempt or age limit, keeps the notification as
//! failed: it is not sent again. A node that sends to public addresses only refuses a
//! private destination without connecting (class `refused`).

use std::sync::Arc;
use std::time::Duration;

use carchain_core::grants::webhook::manage::DeliveryErrorClass;
use carchain_core::grants::webhook::{SIGNATURE_HEADER, webhook_signature};

use super::public_dns::{PublicOnly, is_not_public, refused_host};
use super::store::{Due, Failure};
use super::{
    DeliveryOptions, FIRST_BACKOFF, MAX_BACKOFF, SEND_TIMEOUT, Webhooks, blocking, now_ms,
};
use crate::service::ServiceError;

/// Notifications sent in one round.
const ROUND: u32 = 32;

/// The HTTP client notifications go out with: a timeout, no redirects, and, for a node
/// that sends to public addresses only, a resolver that answers only those.
pub(super) fn client(options: DeliveryOptions) -> reqwest::Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .timeout(SEND_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none());
    let builder = if options.refuse_private {
        builder.dns_resolver(Arc::new(PublicOnly))
    } else {
        builder
    };
    builder.build()
}

/// What one attempt came to: acknowledged, or the class and status of its failure.
type Outcome = Result<(), (DeliveryErrorClass, Option<u16>)>;

async fn attempt(http: &reqwest::Client, due: &Due, refuse_private: bool) -> Outcome {
    if refuse_private && refused_host(&due.url) {
        return Err((DeliveryErrorClass::Refused, None));
    }
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
        Err(err) if is_not_public(&err) => Err((DeliveryErrorClass::Refused, None)),
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
        let refuse_private = self.options.refuse_private;
        let attempts = due.into_iter().map(|due| async move {
            let outcome = attempt(http, &due, refuse_private).await;
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
                if let Some(at) = retry_at_ms {
                    tracing::info!(
                        attempts,
                        status,
                        class = class.as_str(),
                        retry_ms = at - now,
                        "webhook notification not acknowledged; will retry"
                    );
                } else {
                    tracing::warn!(
                        attempts,
                        status,
                        class = class.as_str(),
                        provider = %due.provider,
                        "webhook notification not acknowledged; limit reached, kept as failed"
                    );
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

    fn due(url: &str) -> Due {
        Due {
            id: vec![1],
            provider: "p1".into(),
            body: b"{}".to_vec(),
            url: url.into(),
            secret: zeroize::Zeroizing::new(vec![1; 32]),
            attempts: 0,
            created_at_ms: 0,
        }
    }

    #[tokio::test]
    async fn a_public_only_node_refuses_private_destinations_without_connecting() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let options = DeliveryOptions {
            refuse_private: true,
            ..DeliveryOptions::default()
        };
        let http = client(options).expect("client");
        for url in [
            format!("http://127.0.0.1:{port}/h"),
            format!("http://localhost:{port}/h"),
        ] {
            assert_eq!(
                attempt(&http, &due(&url), true).await,
                Err((DeliveryErrorClass::Refused, None)),
                "{url}"
            );
        }
        // The resolver alone refuses a name of a private address.
        assert_eq!(
            attempt(&http, &due(&format!("http://localhost:{port}/h")), false).await,
            Err((DeliveryErrorClass::Refused, None))
        );
        listener.set_nonblocking(true).expect("nonblocking");
        assert!(listener.accept().is_err(), "no connection was made");
        drop(listener);
        // A default node tries to connect.
        let open = client(DeliveryOptions::default()).expect("client");
        assert_ne!(
            attempt(&open, &due(&format!("http://127.0.0.1:{port}/h")), false).await,
            Err((DeliveryErrorClass::Refused, None))
        );
    }

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
