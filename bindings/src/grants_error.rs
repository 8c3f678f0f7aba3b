//! The grants area's error across the FFI: every core [`CoreGrantsError`] mapped to a
//! typed variant with a stable code (`grants.*`, or the code of the wallet, light-client,
//! store, key or trip error underneath). Messages name the problem, never a key.
//!
//! Raised by the wallet's owner-side grant calls (`pending_requests`, `approve`,
//! `reject`, `grants`, `revoke`, `balance`), by [`crate::grants_ledger::GrantsLedger`]
//! and by [`crate::grants_provider::ServiceProvider`].

use carchain_core::grants::GrantsError as CoreGrantsError;
use carchain_core::wallet::WalletError as CoreWalletError;

use crate::inputs::BadInput;
use crate::light::core_light_error_code;
use crate::wallet_error::WalletError;

/// Errors of data requests, approvals, grants and escrows.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum GrantsError {
    /// An argument is unusable: a hex id, a date, a seed, a code hash, request terms.
    #[error("{detail}")]
    InvalidInput {
        /// Stable code, e.g. `grants.invalid_id`, `input.invalid_date`, `grants.invalid_terms`.
        code: String,
        /// What is wrong.
        detail: String,
    },
    /// The owner's narrowing asks for more than the request, or cannot apply.
    #[error("{detail}")]
    InvalidNarrowing {
        /// Stable code: `grants.invalid_narrowing` or a `trip.*` zone code.
        code: String,
        /// What is wrong.
        detail: String,
    },
    /// No such request or provider on the ledger, or no such grant in this wallet.
    #[error("{detail}")]
    NotFound {
        /// Stable code: `grants.unknown_request`, `grants.unknown_grant`,
        /// `grants.unknown_provider`.
        code: String,
        /// What was not found.
        detail: String,
    },
    /// The request is addressed to another wallet.
    #[error("{detail}")]
    NotAddressedToMe {
        /// Stable code: `grants.not_addressed_to_me`.
        code: String,
        /// Which request.
        detail: String,
    },
    /// The request was already approved or rejected, or has expired.
    #[error("{detail}")]
    RequestClosed {
        /// Stable code: `grants.request_closed`.
        code: String,
        /// Which request and why.
        detail: String,
    },
    /// A priced request is not paid for by a funded escrow to the owner.
    #[error("{detail}")]
    PaymentMissing {
        /// Stable code: `grants.payment_missing`.
        code: String,
        /// What is wrong with the escrow.
        detail: String,
    },
    /// The approved scope cannot be delivered: no records in it, or a computation this
    /// wallet cannot run or the provider did not register.
    #[error("{detail}")]
    CannotDeliver {
        /// Stable code: `grants.nothing_to_deliver`, `grants.unsupported_computation`,
        /// `grants.unregistered_computation`.
        code: String,
        /// Why.
        detail: String,
    },
    /// The owner has not answered yet (or not within the timeout).
    #[error("{detail}")]
    NotYet {
        /// Stable code: `grants.not_delivered`, `grants.timeout`.
        code: String,
        /// Which request.
        detail: String,
    },
    /// A delivery or grant failed a check against the ledger.
    #[error("{detail}")]
    Refused {
        /// Stable code: `grants.delivery_refused`, `grants.grant_refused`,
        /// `grants.malformed_document`, `grants.sealed`, `grants.compute`, a `trip.*` code.
        code: String,
        /// What failed.
        detail: String,
    },
    /// A node could not be reached, refused, or failed verification.
    #[error("{detail}")]
    Network {
        /// Stable code: a `light.*` code.
        code: String,
        /// What failed.
        detail: String,
    },
    /// A wallet operation underneath failed (unknown car, store, ...).
    #[error("{detail}")]
    Wallet {
        /// Stable code: the wallet area's code, e.g. `wallet.unknown_device`.
        code: String,
        /// What failed.
        detail: String,
    },
    /// The wallet store failed.
    #[error("{detail}")]
    Storage {
        /// Stable code: a `store.*` code.
        code: String,
        /// What failed.
        detail: String,
    },
    /// Key use, encryption or transaction building failed.
    #[error("{detail}")]
    Internal {
        /// Stable code naming the failing step.
        code: String,
        /// What failed.
        detail: String,
    },
}

impl GrantsError {
    /// The stable code of this error.
    pub fn code(&self) -> &str {
        match self {
            GrantsError::InvalidInput { code, .. }
            | GrantsError::InvalidNarrowing { code, .. }
            | GrantsError::NotFound { code, .. }
            | GrantsError::NotAddressedToMe { code, .. }
            | GrantsError::RequestClosed { code, .. }
            | GrantsError::PaymentMissing { code, .. }
            | GrantsError::CannotDeliver { code, .. }
            | GrantsError::NotYet { code, .. }
            | GrantsError::Refused { code, .. }
            | GrantsError::Network { code, .. }
            | GrantsError::Wallet { code, .. }
            | GrantsError::Storage { code, .. }
            | GrantsError::Internal { code, .. } => code,
        }
    }

    /// An unusable argument with `code`.
    pub(crate) fn input(code: &str, detail: impl Into<String>) -> Self {
        GrantsError::InvalidInput {
            code: code.to_owned(),
            detail: detail.into(),
        }
    }
}

impl From<BadInput> for GrantsError {
    fn from(bad: BadInput) -> Self {
        GrantsError::input(bad.code, bad.detail)
    }
}

impl From<WalletError> for GrantsError {
    fn from(error: WalletError) -> Self {
        let code = error.code().to_owned();
        let detail = error.to_string();
        match error {
            WalletError::Network { .. } => GrantsError::Network { code, detail },
            WalletError::InvalidInput { .. } => GrantsError::InvalidInput { code, detail },
            WalletError::Storage { .. } => GrantsError::Storage { code, detail },
            _ => GrantsError::Wallet { code, detail },
        }
    }
}

impl From<CoreGrantsError> for GrantsError {
    /// Each core error keeps its core `code()`, except those whose own layer's code is the
    /// stable one (light, trip, store, key, record); the variant is its kind.
    fn from(error: CoreGrantsError) -> Self {
        use crate::error_map::ffi_code;
        use CoreGrantsError as E;
        let detail = error.to_string();
        let code = match &error {
            E::Light(light) => core_light_error_code(light),
            E::Trip(trip) => ffi_code(trip.code()),
            E::Store(store) => ffi_code(store.code()),
            E::Key(key) => ffi_code(key.code()),
            E::Record(_) => "record.invalid".to_owned(),
            other => other.code().to_owned(),
        };
        match error {
            E::Owner(owner) => match owner.downcast::<CoreWalletError>() {
                Ok(wallet) => WalletError::from(*wallet).into(),
                Err(_) => GrantsError::Wallet { code, detail },
            },
            E::InvalidTerms(_) => GrantsError::InvalidInput { code, detail },
            E::InvalidNarrowing(_) => GrantsError::InvalidNarrowing { code, detail },
            E::UnknownRequest(_) | E::UnknownGrant(_) | E::UnknownProvider(_) => {
                GrantsError::NotFound { code, detail }
            }
            E::NotAddressedToMe(_) => GrantsError::NotAddressedToMe { code, detail },
            E::RequestClosed { .. } => GrantsError::RequestClosed { code, detail },
            E::PaymentMissing { .. } => GrantsError::PaymentMissing { code, detail },
            E::NothingToDeliver | E::UnsupportedComputation(_) | E::UnregisteredComputation(_) => {
                GrantsError::CannotDeliver { code, detail }
            }
            E::NotDelivered(_) | E::Timeout(_) => GrantsError::NotYet { code, detail },
            E::DeliveryRefused(_)
            | E::GrantRefused(_)
            | E::MalformedDocument(_)
            | E::Sealed(_)
            | E::Compute(_)
            | E::Trip(_)
            | E::Standing(_) => GrantsError::Refused { code, detail },
            E::Light(_) => GrantsError::Network { code, detail },
            E::Store(_) => GrantsError::Storage { code, detail },
            E::Key(_) | E::Record(_) | E::Inbox(_) | E::Crypto(_) | E::Protocol(_) => {
                GrantsError::Internal { code, detail }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_map_to_typed_variants_with_codes() {
        let id = "ab".repeat(32);
        let cases: Vec<(CoreGrantsError, &str)> = vec![
            (
                CoreGrantsError::InvalidTerms("x".into()),
                "grants.invalid_terms",
            ),
            (
                CoreGrantsError::UnknownRequest(id.clone()),
                "grants.unknown_request",
            ),
            (
                CoreGrantsError::UnknownGrant(id.clone()),
                "grants.unknown_grant",
            ),
            (
                CoreGrantsError::RequestClosed {
                    request: id.clone(),
                    reason: "expired".into(),
                },
                "grants.request_closed",
            ),
            (
                CoreGrantsError::PaymentMissing {
                    price: 5,
                    reason: "no escrow".into(),
                },
                "grants.payment_missing",
            ),
            (
                CoreGrantsError::NothingToDeliver,
                "grants.nothing_to_deliver",
            ),
            (CoreGrantsError::Timeout(id.clone()), "grants.timeout"),
            (
                carchain_core::light::LightError::Tampered("root".into()).into(),
                "light.tampered",
            ),
            (
                carchain_core::wallet::WalletError::UnknownDevice { vid: "V".into() }.into(),
                "wallet.unknown_device",
            ),
        ];
        for (core, code) in cases {
            assert_eq!(GrantsError::from(core).code(), code);
        }
        let unknown = GrantsError::from(CoreGrantsError::UnknownRequest(id.clone()));
        assert!(matches!(unknown, GrantsError::NotFound { .. }));
        assert!(unknown.to_string().contains(&id));
        assert!(matches!(
            GrantsError::from(CoreGrantsError::InvalidNarrowing("wider".into())),
            GrantsError::InvalidNarrowing { .. }
        ));
        assert!(matches!(
            GrantsError::from(CoreGrantsError::from(
                carchain_core::wallet::WalletError::UnknownDevice { vid: "V".into() }
            )),
            GrantsError::Wallet { .. }
        ));
    }
}
