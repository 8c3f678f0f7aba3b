//! Stable ABCI result codes of CarChain's refusals (codespace `carchain`), and back.
//!
//! CometBFT only tells `0` (accepted) from the rest; clients and the node's own submit
//! path read the number (and the code's name, which starts the log line) to give the
//! same [`ErrorCode`] the embedded node gives. Numbers never change meaning; a code
//! missing from the table goes out as [`OTHER`] with its name in the log.

use crate::service::{ErrorCode, ServiceError};

/// The codespace of every CarChain result code.
pub const CODESPACE: &str = "carchain";

/// The number of a refusal whose code is not in the table (its name is in the log).
pub const OTHER: u32 = 999;

/// `(code, number)`: the stable numbers.
const TABLE: &[(ErrorCode, u32)] = &[
    (ErrorCode::BadSignature, 1),
    (ErrorCode::BadNonce, 2),
    (ErrorCode::Replay, 3),
    (ErrorCode::WrongChain, 4),
    (ErrorCode::UnknownDevice, 5),
    (ErrorCode::NotOwner, 6),
    (ErrorCode::DeviceExists, 7),
    (ErrorCode::NotAddressOwner, 8),
    (ErrorCode::DuplicateRecord, 9),
    (ErrorCode::DuplicateValue, 10),
    (ErrorCode::NotRegistered, 11),
    (ErrorCode::ChashMismatch, 12),
    (ErrorCode::InsufficientBalance, 13),
    (ErrorCode::FeeTooLow, 14),
    (ErrorCode::UnknownFormat, 15),
    (ErrorCode::InvalidRequest, 16),
    (ErrorCode::PaymentRequired, 17),
    (ErrorCode::NotFound, 18),
    (ErrorCode::Unavailable, 19),
    (ErrorCode::Internal, 20),
    (ErrorCode::StakeAmountZero, 21),
    (ErrorCode::InsufficientStake, 22),
    (ErrorCode::InvalidValidatorKey, 23),
    (ErrorCode::PowerOverflow, 24),
    (ErrorCode::LastValidator, 25),
];

/// The ABCI number of `code`.
pub fn number(code: ErrorCode) -> u32 {
    TABLE
        .iter()
        .find(|(known, _)| *known == code)
        .map_or(OTHER, |(_, number)| *number)
}

/// The snake_case name of `code` (as the HTTP API spells it).
pub fn name(code: ErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_else(|| "internal".into())
}

/// The log line of a refusal: `name: message`.
pub fn log(err: &ServiceError) -> String {
    format!("{}: {}", name(err.code), err.message)
}

/// The refusal an ABCI result stands for: `number` (in `codespace`) and its `log`.
pub fn to_service_error(codespace: &str, number: u32, log: &str) -> ServiceError {
    let (named, message) = match log.split_once(": ") {
        Some((name, rest)) => (
            serde_json::from_value::<ErrorCode>(serde_json::Value::String(name.into())).ok(),
            rest,
        ),
        None => (None, log),
    };
    let by_number = TABLE
        .iter()
        .find(|(_, known)| *known == number)
        .map(|(code, _)| *code);
    let code = if codespace == CODESPACE {
        by_number.or(named).unwrap_or(ErrorCode::InvalidRequest)
    } else {
        // CometBFT's own refusals (a full mempool, a transaction too large).
        ErrorCode::Unavailable
    };
    let message = if message.is_empty() { log } else { message };
    ServiceError::new(code, message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for (code, number) in TABLE {
            assert!(seen.insert(*number), "number {number} used twice");
            assert_ne!(*number, 0);
            let err = ServiceError::new(*code, "why");
            let back = to_service_error(CODESPACE, number_of(&err), &log(&err));
            assert_eq!(back, err);
        }
    }

    fn number_of(err: &ServiceError) -> u32 {
        number(err.code)
    }

    #[test]
    fn a_code_outside_the_table_keeps_its_name() {
        let err = ServiceError::new(ErrorCode::TokenSpent, "spent");
        assert_eq!(number(err.code), OTHER);
        assert_eq!(to_service_error(CODESPACE, OTHER, &log(&err)), err);
    }

    #[test]
    fn a_foreign_codespace_is_unavailable() {
        let err = to_service_error("mempool", 1, "mempool is full");
        assert_eq!(err.code, ErrorCode::Unavailable);
    }
}
