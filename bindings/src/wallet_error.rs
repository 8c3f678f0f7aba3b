//! The wallet area's error across the FFI: every core [`CoreWalletError`] mapped to a
//! typed variant with a stable code. Messages name the problem, never words or keys.

use carchain_core::pairing::PairingPayloadError;
use carchain_core::wallet::{OwnerRecordError, WalletError as CoreWalletError};

use crate::inputs::BadInput;
use crate::light::core_light_error_code;

/// Errors of the wallet area.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum WalletError {
    /// The recovery words are wrong (count, unknown word, checksum).
    #[error("{detail}")]
    InvalidMnemonic {
        /// Stable code: `key.wrong_word_count`, `key.unknown_word`, `key.bad_checksum`.
        code: String,
        /// What is wrong, without the words.
        detail: String,
    },
    /// The scanned pairing payload is malformed, expired or of an unknown version.
    #[error("{detail}")]
    InvalidPairingPayload {
        /// Stable code: `pairing.malformed`, `pairing.expired`, `pairing.bad_code`, ...
        code: String,
        /// What is wrong (never the pairing code).
        detail: String,
    },
    /// An argument is unusable: a date, JSON, format, pool size, range, page or id, or
    /// an owner record that cannot be written as asked.
    #[error("{detail}")]
    InvalidInput {
        /// Stable code, e.g. `input.invalid_date`, `wallet.invalid_pool_size`,
        /// `owner_record.not_owned`.
        code: String,
        /// What is wrong.
        detail: String,
    },
    /// The car is unknown, not owned, owned by another wallet or did not answer.
    #[error("{detail}")]
    Device {
        /// Stable code, e.g. `wallet.unknown_device`, `wallet.pairing_timeout`.
        code: String,
        /// What is wrong.
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
    /// A record failed the pool, hash or decryption checks, or is not a valid trip.
    #[error("{detail}")]
    RecordRejected {
        /// Stable code: `wallet.record_rejected` or a `trip.*` / `record.*` code.
        code: String,
        /// Why.
        detail: String,
    },
    /// The wallet store or its identity failed (no wallet, one exists already, ...).
    #[error("{detail}")]
    Storage {
        /// Stable code: a `store.*` or `backup.*` code, or `wallet.no_identity`,
        /// `wallet.identity_exists`.
        code: String,
        /// What failed.
        detail: String,
    },
    /// Key derivation, encryption or transaction signing failed.
    #[error("{detail}")]
    Internal {
        /// Stable code naming the failing step.
        code: String,
        /// What failed.
        detail: String,
    },
}

impl WalletError {
    /// The stable code of this error.
    pub fn code(&self) -> &str {
        match self {
            WalletError::InvalidMnemonic { code, .. }
            | WalletError::InvalidPairingPayload { code, .. }
            | WalletError::InvalidInput { code, .. }
            | WalletError::Device { code, .. }
            | WalletError::Network { code, .. }
            | WalletError::RecordRejected { code, .. }
            | WalletError::Storage { code, .. }
            | WalletError::Internal { code, .. } => code,
        }
    }
}

/// Stable FFI code of a pairing payload error (`pairing.*`).
pub(crate) fn payload_error_code(error: &PairingPayloadError) -> String {
    crate::error_map::ffi_code(error.code())
}

impl From<BadInput> for WalletError {
    fn from(bad: BadInput) -> Self {
        WalletError::InvalidInput {
            code: bad.code.to_owned(),
            detail: bad.detail,
        }
    }
}

impl From<OwnerRecordError> for WalletError {
    fn from(error: OwnerRecordError) -> Self {
        match error {
            OwnerRecordError::Wallet(wallet) => wallet.into(),
            other => WalletError::InvalidInput {
                code: other.code().to_owned(),
                detail: other.to_string(),
            },
        }
    }
}

impl From<CoreWalletError> for WalletError {
    /// Each core error keeps its core `code()` unless the bindings' code differs; the
    /// variant is its kind.
    fn from(error: CoreWalletError) -> Self {
        use crate::error_map::ffi_code;
        use CoreWalletError as E;
        use carchain_core::keys::KeyError as K;
        if let E::Export(export) = &error {
            return crate::export::export_error(export);
        }
        let detail = error.to_string();
        let code = match &error {
            E::Keys(key) => ffi_code(key.code()),
            E::PairingPayload(payload) => payload_error_code(payload),
            E::Light(light) => core_light_error_code(light),
            E::Store(store) => ffi_code(store.code()),
            E::Trip(trip) => ffi_code(trip.code()),
            E::Record(_) => "record.invalid".to_owned(),
            E::Pool(_) => "wallet.pool".to_owned(),
            E::Protocol(_) => "wallet.protocol".to_owned(),
            E::Sealed(_) => "wallet.sealed".to_owned(),
            E::Crypto(_) => "wallet.crypto".to_owned(),
            E::Mailbox(_) => "wallet.mailbox".to_owned(),
            E::PairingMessage(_) => "wallet.pairing_message".to_owned(),
            other => other.code().to_owned(),
        };
        match error {
            E::Keys(K::WrongWordCount { .. } | K::UnknownWord { .. } | K::BadChecksum) => {
                WalletError::InvalidMnemonic { code, detail }
            }
            E::Keys(K::InvalidAddress | K::WrongNetwork { .. })
            | E::Record(_)
            | E::InvalidPoolSize { .. }
            | E::InvalidDateRange { .. }
            | E::InvalidPage
            | E::InvalidSubscriber { .. } => WalletError::InvalidInput { code, detail },
            E::PairingPayload(_) => WalletError::InvalidPairingPayload { code, detail },
            E::Light(_) => WalletError::Network { code, detail },
            E::Store(_)
            | E::Backup(_)
            | E::Export(_)
            | E::NoIdentity
            | E::IdentityExists
            | E::UnsupportedNetwork { .. }
            | E::IdentityMismatch
            | E::CorruptRsaKey => WalletError::Storage { code, detail },
            E::Trip(_) | E::RecordRejected { .. } => WalletError::RecordRejected { code, detail },
            E::PairingTimeout { .. }
            | E::BadPairingAccept { .. }
            | E::DeviceOwnedByOther { .. }
            | E::AlreadyPaired { .. }
            | E::UnknownDevice { .. }
            | E::DeviceNotOwned { .. }
            | E::UnknownSubscriber { .. }
            | E::Mailbox(_)
            | E::PairingMessage(_) => WalletError::Device { code, detail },
            E::Keys(_)
            | E::LockPoisoned
            | E::Pool(_)
            | E::Protocol(_)
            | E::Sealed(_)
            | E::Crypto(_)
            | E::Derivation(_) => WalletError::Internal { code, detail },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_map_to_typed_variants_with_codes() {
        let cases: Vec<(CoreWalletError, &str)> = vec![
            (
                carchain_core::keys::KeyError::BadChecksum.into(),
                "key.bad_checksum",
            ),
            (PairingPayloadError::BadCode.into(), "pairing.bad_code"),
            (
                CoreWalletError::UnknownDevice { vid: "V".into() },
                "wallet.unknown_device",
            ),
            (CoreWalletError::NoIdentity, "wallet.no_identity"),
            (
                CoreWalletError::InvalidPoolSize { size: 0 },
                "wallet.invalid_pool_size",
            ),
            (
                carchain_core::light::LightError::Tampered("root".into()).into(),
                "light.tampered",
            ),
        ];
        for (core, code) in cases {
            assert_eq!(WalletError::from(core).code(), code);
        }
        assert!(matches!(
            WalletError::from(CoreWalletError::from(
                carchain_core::keys::KeyError::BadChecksum
            )),
            WalletError::InvalidMnemonic { .. }
        ));
        assert!(matches!(
            WalletError::from(CoreWalletError::from(PairingPayloadError::BadKey)),
            WalletError::InvalidPairingPayload { .. }
        ));
        assert!(matches!(
            WalletError::from(CoreWalletError::LockPoisoned),
            WalletError::Internal { code, .. } if code == "wallet.lock_poisoned"
        ));
        assert!(matches!(
            WalletError::from(CoreWalletError::from(
                carchain_core::keys::KeyError::InvalidAddress
            )),
            WalletError::InvalidInput { code, .. } if code == "key.invalid_address"
        ));
        assert!(matches!(
            WalletError::from(CoreWalletError::IdentityMismatch),
            WalletError::Storage { code, .. } if code == "wallet.identity_mismatch"
        ));
    }
}
