//! The node's stable error codes: what `{"error": {"code": ...}}` carries, what
//! CheckTx and FinalizeBlock report to CometBFT (by number, `abci::codes` in the node),
//! and what the SDK tells apart (a spent token, a replayed nonce, a missing record).
//! Defined once, here, for the node and the SDK.

use serde::{Deserialize, Serialize};

/// A stable, machine-readable error code (snake_case in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The signature does not verify.
    BadSignature,
    /// The nonce is not the account's next nonce (ahead of it).
    BadNonce,
    /// The nonce was already used: a replay.
    Replay,
    /// The chain id or network does not match this node.
    WrongChain,
    /// No such device.
    UnknownDevice,
    /// A reset or setDup not signed by the device's current owner.
    NotOwner,
    /// A device that is already paired.
    DeviceExists,
    /// The signer's address is not the record's address.
    NotAddressOwner,
    /// Address + key already registered.
    DuplicateRecord,
    /// A different value is already stored under address + key.
    DuplicateValue,
    /// No registration for this address + key.
    NotRegistered,
    /// The value's hash is not the registered cHash.
    ChashMismatch,
    /// Not enough balance for amount + fee.
    InsufficientBalance,
    /// The fee is below what the transaction must pay.
    FeeTooLow,
    /// An unknown or invalid record format.
    UnknownFormat,
    /// Any other invalid transaction or argument.
    InvalidRequest,
    /// This node's mode refuses the request (e.g. a private node and a foreign device).
    ModeRefused,
    /// A private node stores values only with a write credential of one of its users.
    CredentialMissing,
    /// The write credential cannot be read (not the token form this node issues).
    CredentialMalformed,
    /// The write credential's signature does not verify under this node's key.
    CredentialInvalid,
    /// The write credential stored all the values it may: show a fresh one.
    CredentialSpent,
    /// The write credential is bound to another address.
    CredentialBoundElsewhere,
    /// The holder was issued all the credentials it may be issued today.
    IssuanceQuota,
    /// The node took all the credential-less open puts (pairing mailbox, data-request
    /// inbox) it takes this hour.
    OpenQuotaExhausted,
    /// A read needs a token (shared mode), or a token request's payment is not a
    /// committed transfer to the operator.
    PaymentRequired,
    /// The payment already bought other tokens.
    PaymentUsed,
    /// The read token was spent already.
    TokenSpent,
    /// The read token is not a token (undecodable, wrong version or size).
    TokenMalformed,
    /// The read token was issued under another key (another node, or a rotated key).
    TokenWrongKey,
    /// The read token's signature does not verify.
    TokenInvalid,
    /// A record put's fee stamp paid a fee before (a replayed stamp).
    StampSpent,
    /// A record put's fee stamp does not pay (not the chain issuer's, bound to another
    /// put, or the chain names no stamp issuer).
    StampInvalid,
    /// The stamp escrow cannot cover a stamped put's fee.
    StampEscrowEmpty,
    /// A bond or unbond of zero tokens.
    StakeAmountZero,
    /// An unbond of more than the signer bonded to the validator.
    InsufficientStake,
    /// A bond or unbond naming a validator key that is not an ed25519 public key.
    InvalidValidatorKey,
    /// A bond that would take the total voting power beyond CometBFT's limit.
    PowerOverflow,
    /// An unbond that would leave the chain without voting power.
    LastValidator,
    /// A webhook URL that is not an http(s) URL with a host.
    WebhookUrlScheme,
    /// A webhook URL that points at this node itself.
    WebhookUrlSelf,
    /// A webhook URL on a private or other non-public address, on a node that refuses
    /// them.
    WebhookUrlPrivate,
    /// Nothing found.
    NotFound,
    /// The body is larger than the node accepts.
    BodyTooLarge,
    /// The body is not valid JSON of the expected shape.
    MalformedJson,
    /// The mempool is full or the node is shutting down.
    Unavailable,
    /// The KV store cannot reach enough replicas (its quorum) to store or read durably;
    /// nothing was acknowledged. Retry later.
    KvUnavailable,
    /// Waiting for the commit took too long (the transaction may still commit).
    Timeout,
    /// A bug or an I/O failure inside the node.
    Internal,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 48] = [
        ErrorCode::BadSignature,
        ErrorCode::BadNonce,
        ErrorCode::Replay,
        ErrorCode::WrongChain,
        ErrorCode::UnknownDevice,
        ErrorCode::NotOwner,
        ErrorCode::DeviceExists,
        ErrorCode::NotAddressOwner,
        ErrorCode::DuplicateRecord,
        ErrorCode::DuplicateValue,
        ErrorCode::NotRegistered,
        ErrorCode::ChashMismatch,
        ErrorCode::InsufficientBalance,
        ErrorCode::FeeTooLow,
        ErrorCode::UnknownFormat,
        ErrorCode::InvalidRequest,
        ErrorCode::ModeRefused,
        ErrorCode::CredentialMissing,
        ErrorCode::CredentialMalformed,
        ErrorCode::CredentialInvalid,
        ErrorCode::CredentialSpent,
        ErrorCode::CredentialBoundElsewhere,
        ErrorCode::IssuanceQuota,
        ErrorCode::OpenQuotaExhausted,
        ErrorCode::PaymentRequired,
        ErrorCode::PaymentUsed,
        ErrorCode::TokenSpent,
        ErrorCode::TokenMalformed,
        ErrorCode::TokenWrongKey,
        ErrorCode::TokenInvalid,
        ErrorCode::StampSpent,
        ErrorCode::StampInvalid,
        ErrorCode::StampEscrowEmpty,
        ErrorCode::StakeAmountZero,
        ErrorCode::InsufficientStake,
        ErrorCode::InvalidValidatorKey,
        ErrorCode::PowerOverflow,
        ErrorCode::LastValidator,
        ErrorCode::WebhookUrlScheme,
        ErrorCode::WebhookUrlSelf,
        ErrorCode::WebhookUrlPrivate,
        ErrorCode::NotFound,
        ErrorCode::BodyTooLarge,
        ErrorCode::MalformedJson,
        ErrorCode::Unavailable,
        ErrorCode::KvUnavailable,
        ErrorCode::Timeout,
        ErrorCode::Internal,
    ];

    /// The code as it goes on the wire (snake_case).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::BadNonce => "bad_nonce",
            ErrorCode::Replay => "replay",
            ErrorCode::WrongChain => "wrong_chain",
            ErrorCode::UnknownDevice => "unknown_device",
            ErrorCode::NotOwner => "not_owner",
            ErrorCode::DeviceExists => "device_exists",
            ErrorCode::NotAddressOwner => "not_address_owner",
            ErrorCode::DuplicateRecord => "duplicate_record",
            ErrorCode::DuplicateValue => "duplicate_value",
            ErrorCode::NotRegistered => "not_registered",
            ErrorCode::ChashMismatch => "chash_mismatch",
            ErrorCode::InsufficientBalance => "insufficient_balance",
            ErrorCode::FeeTooLow => "fee_too_low",
            ErrorCode::UnknownFormat => "unknown_format",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::ModeRefused => "mode_refused",
            ErrorCode::CredentialMissing => "credential_missing",
            ErrorCode::CredentialMalformed => "credential_malformed",
            ErrorCode::CredentialInvalid => "credential_invalid",
            ErrorCode::CredentialSpent => "credential_spent",
            ErrorCode::CredentialBoundElsewhere => "credential_bound_elsewhere",
            ErrorCode::IssuanceQuota => "issuance_quota",
            ErrorCode::OpenQuotaExhausted => "open_quota_exhausted",
            ErrorCode::PaymentRequired => "payment_required",
            ErrorCode::PaymentUsed => "payment_used",
            ErrorCode::TokenSpent => "token_spent",
            ErrorCode::TokenMalformed => "token_malformed",
            ErrorCode::TokenWrongKey => "token_wrong_key",
            ErrorCode::TokenInvalid => "token_invalid",
            ErrorCode::StampSpent => "stamp_spent",
            ErrorCode::StampInvalid => "stamp_invalid",
            ErrorCode::StampEscrowEmpty => "stamp_escrow_empty",
            ErrorCode::StakeAmountZero => "stake_amount_zero",
            ErrorCode::InsufficientStake => "insufficient_stake",
            ErrorCode::InvalidValidatorKey => "invalid_validator_key",
            ErrorCode::PowerOverflow => "power_overflow",
            ErrorCode::LastValidator => "last_validator",
            ErrorCode::WebhookUrlScheme => "webhook_url_scheme",
            ErrorCode::WebhookUrlSelf => "webhook_url_self",
            ErrorCode::WebhookUrlPrivate => "webhook_url_private",
            ErrorCode::NotFound => "not_found",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::KvUnavailable => "kv_unavailable",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Internal => "internal",
        }
    }

    /// The code named `text`, if any.
    pub fn from_name(text: &str) -> Option<ErrorCode> {
        Self::ALL.into_iter().find(|code| code.as_str() == text)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_its_json_and_names_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            let json = serde_json::to_value(code).unwrap_or_default();
            assert_eq!(json, serde_json::Value::from(code.as_str()));
            assert_eq!(ErrorCode::from_name(code.as_str()), Some(code));
            assert!(seen.insert(code.as_str()), "{code:?} twice");
        }
        assert_eq!(ErrorCode::from_name("no_such_code"), None);
    }
}
