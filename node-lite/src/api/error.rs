//! The HTTP error shape of the node API: every refusal is
//! `{"error":{"code":"<snake_case code>","message":"..."}}` with a status that fits the code.

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::service::{ErrorCode, ServiceError};

/// A refused HTTP request: a [`ServiceError`] rendered as the API's JSON error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ApiError(pub ServiceError);

impl ApiError {
    /// Builds an error from a code and a message for people.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError(ServiceError::new(code, message))
    }

    /// An [`ErrorCode::InvalidRequest`] error.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    /// An [`ErrorCode::NotFound`] error.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        self.0.code
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        ApiError(error)
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorCode::BodyTooLarge,
                "the request body is larger than this node accepts",
            )
        } else {
            ApiError::invalid(format!(
                "could not read the request body: {}",
                rejection.body_text()
            ))
        }
    }
}

/// The HTTP status that answers an error code.
pub fn status_for(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadSignature => StatusCode::UNAUTHORIZED,
        ErrorCode::NotOwner
        | ErrorCode::NotAddressOwner
        | ErrorCode::ModeRefused
        | ErrorCode::CredentialMissing
        | ErrorCode::CredentialInvalid
        | ErrorCode::CredentialSpent
        | ErrorCode::CredentialBoundElsewhere => StatusCode::FORBIDDEN,
        ErrorCode::CredentialMalformed => StatusCode::BAD_REQUEST,
        ErrorCode::IssuanceQuota | ErrorCode::OpenQuotaExhausted => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::PaymentRequired
        | ErrorCode::InsufficientBalance
        | ErrorCode::TokenSpent
        | ErrorCode::TokenMalformed
        | ErrorCode::TokenWrongKey
        | ErrorCode::TokenInvalid
        | ErrorCode::StampSpent
        | ErrorCode::StampInvalid
        | ErrorCode::StampEscrowEmpty => StatusCode::PAYMENT_REQUIRED,
        ErrorCode::PaymentUsed => StatusCode::CONFLICT,
        ErrorCode::NotFound | ErrorCode::UnknownDevice => StatusCode::NOT_FOUND,
        ErrorCode::BadNonce
        | ErrorCode::Replay
        | ErrorCode::DeviceExists
        | ErrorCode::DuplicateRecord
        | ErrorCode::DuplicateValue
        | ErrorCode::NotRegistered
        | ErrorCode::InsufficientStake
        | ErrorCode::PowerOverflow
        | ErrorCode::LastValidator => StatusCode::CONFLICT,
        ErrorCode::WrongChain
        | ErrorCode::ChashMismatch
        | ErrorCode::FeeTooLow
        | ErrorCode::UnknownFormat
        | ErrorCode::StakeAmountZero
        | ErrorCode::InvalidValidatorKey
        | ErrorCode::WebhookUrlScheme
        | ErrorCode::WebhookUrlSelf
        | ErrorCode::WebhookUrlPrivate
        | ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
        ErrorCode::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::MalformedJson => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::Unavailable | ErrorCode::KvUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The JSON body of an error answer.
#[derive(Debug, Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Debug, Serialize)]
struct ErrorDetail<'a> {
    code: ErrorCode,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_for(self.0.code);
        if status.is_server_error() {
            tracing::warn!(code = ?self.0.code, message = %self.0.message, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.0.code,
                message: &self.0.message,
            },
        };
        (status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_error_code_maps_to_a_4xx_and_server_errors_to_5xx() {
        let client = [
            (ErrorCode::BadSignature, 401),
            (ErrorCode::BadNonce, 409),
            (ErrorCode::Replay, 409),
            (ErrorCode::WrongChain, 400),
            (ErrorCode::UnknownDevice, 404),
            (ErrorCode::NotOwner, 403),
            (ErrorCode::DeviceExists, 409),
            (ErrorCode::NotAddressOwner, 403),
            (ErrorCode::DuplicateRecord, 409),
            (ErrorCode::DuplicateValue, 409),
            (ErrorCode::NotRegistered, 409),
            (ErrorCode::ChashMismatch, 400),
            (ErrorCode::InsufficientBalance, 402),
            (ErrorCode::FeeTooLow, 400),
            (ErrorCode::UnknownFormat, 400),
            (ErrorCode::InvalidRequest, 400),
            (ErrorCode::ModeRefused, 403),
            (ErrorCode::CredentialMissing, 403),
            (ErrorCode::CredentialMalformed, 400),
            (ErrorCode::CredentialInvalid, 403),
            (ErrorCode::CredentialSpent, 403),
            (ErrorCode::CredentialBoundElsewhere, 403),
            (ErrorCode::IssuanceQuota, 429),
            (ErrorCode::OpenQuotaExhausted, 429),
            (ErrorCode::PaymentRequired, 402),
            (ErrorCode::PaymentUsed, 409),
            (ErrorCode::TokenSpent, 402),
            (ErrorCode::TokenMalformed, 402),
            (ErrorCode::TokenWrongKey, 402),
            (ErrorCode::TokenInvalid, 402),
            (ErrorCode::StampSpent, 402),
            (ErrorCode::StampInvalid, 402),
            (ErrorCode::StampEscrowEmpty, 402),
            (ErrorCode::StakeAmountZero, 400),
            (ErrorCode::InsufficientStake, 409),
            (ErrorCode::InvalidValidatorKey, 400),
            (ErrorCode::PowerOverflow, 409),
            (ErrorCode::LastValidator, 409),
            (ErrorCode::WebhookUrlScheme, 400),
            (ErrorCode::WebhookUrlSelf, 400),
            (ErrorCode::WebhookUrlPrivate, 400),
            (ErrorCode::NotFound, 404),
            (ErrorCode::BodyTooLarge, 413),
            (ErrorCode::MalformedJson, 422),
            (ErrorCode::Unavailable, 503),
            (ErrorCode::Timeout, 504),
            (ErrorCode::Internal, 500),
        ];
        for (code, status) in client {
            assert_eq!(status_for(code).as_u16(), status, "{code:?}");
        }
    }
}
