//! A provider's webhook routes (see [`crate::webhooks`]), served next to
//! [`super::router`] by a node that runs webhooks ([`router`]):
//! - `POST /v1/webhooks`: register the URL the node notifies of grant events (201);
//! - `POST /v1/webhooks/read`: the hook's URL, creation height and delivery state (200);
//! - `POST /v1/webhooks/delete`: delete the hook (200).
//!
//! Each body is signed with the provider's account key.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use carchain_core::grants::webhook::manage::WebhookDeleted;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::params::parse_json;
use crate::service::ErrorCode;
use crate::webhooks::Webhooks;

/// Largest registration body, in bytes.
pub const WEBHOOK_BODY_LIMIT: usize = 16 * 1024;

/// Answer of a stored registration.
#[derive(Debug, Serialize)]
pub struct Registered {
    /// The provider's address: grants to it are notified.
    pub provider: String,
}

/// The webhook route, to merge into the node's router.
pub fn router(webhooks: Arc<Webhooks>) -> Router {
    Router::new()
        .route(
            "/v1/webhooks",
            axum::routing::post(register).fallback(super::method_not_allowed),
        )
        .route(
            "/v1/webhooks/read",
            axum::routing::post(read).fallback(super::method_not_allowed),
        )
        .route(
            "/v1/webhooks/delete",
            axum::routing::post(delete).fallback(super::method_not_allowed),
        )
        .layer(DefaultBodyLimit::max(WEBHOOK_BODY_LIMIT))
        .with_state(webhooks)
}

/// A signed body: JSON of `T`, its `time` an integer.
fn signed_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let body = body?;
    let mut value: serde_json::Value = parse_json(&body)?;
    integral_time(&mut value)?;
    serde_json::from_value(value).map_err(|err| {
        ApiError::new(
            ErrorCode::MalformedJson,
            format!("malformed JSON body: {err}"),
        )
    })
}

/// Reads the signed body of `T` and runs `call` on it off the async workers.
async fn signed_call<T, R>(
    body: Result<Bytes, BytesRejection>,
    call: impl FnOnce(&T) -> Result<R, crate::service::ServiceError> + Send + 'static,
) -> Result<R, ApiError>
where
    T: DeserializeOwned + Send + 'static,
    R: Send + 'static,
{
    let signed: T = signed_body(body)?;
    Ok(tokio::task::spawn_blocking(move || call(&signed))
        .await
        .map_err(|_| ApiError::new(ErrorCode::Internal, "a node task stopped unexpectedly"))??)
}

/// `POST /v1/webhooks`: 201 with the provider's address.
pub async fn register(
    State(webhooks): State<Arc<Webhooks>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let provider = signed_call(body, move |hook| webhooks.register(hook)).await?;
    Ok((StatusCode::CREATED, Json(Registered { provider })).into_response())
}

/// `POST /v1/webhooks/read`: 200 with the provider's hook and its delivery state.
pub async fn read(
    State(webhooks): State<Arc<Webhooks>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let state = signed_call(body, move |request| webhooks.read(request)).await?;
    Ok(Json(state).into_response())
}

/// `POST /v1/webhooks/delete`: 200 with the provider's address.
pub async fn delete(
    State(webhooks): State<Arc<Webhooks>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let provider = signed_call(body, move |request| webhooks.delete(request)).await?;
    Ok(Json(WebhookDeleted { provider }).into_response())
}

/// JSON Schema's `integer` takes `1700000000.0`: a `time` written as an integral float
/// is read as that integer; a fractional or out-of-range one is 400 invalid_request.
fn integral_time(value: &mut serde_json::Value) -> Result<(), ApiError> {
    let Some(time) = value.get_mut("time") else {
        return Ok(());
    };
    if time.is_u64() || !time.is_number() {
        return Ok(());
    }
    match time.as_f64() {
        Some(float) if float.fract() == 0.0 && (0.0..9.007_199_254_740_992e15).contains(&float) => {
            *time = serde_json::Value::from(float as u64);
            Ok(())
        }
        _ => Err(ApiError::invalid(
            "time must be a non-negative whole number of seconds",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_integral_float_time_is_an_integer_and_a_fraction_is_refused() {
        let mut value = json!({"time": 1_700_000_000.0});
        integral_time(&mut value).expect("integral");
        assert_eq!(value["time"], json!(1_700_000_000u64));
        for bad in [
            json!({"time": 1.5}),
            json!({"time": -1}),
            json!({"time": 1e300}),
        ] {
            let mut bad = bad;
            assert_eq!(
                integral_time(&mut bad).err().map(|err| err.code()),
                Some(ErrorCode::InvalidRequest)
            );
        }
        let mut untouched = json!({"time": "soon"});
        integral_time(&mut untouched).expect("left to the decoder");
        assert_eq!(untouched["time"], "soon");
    }
}
