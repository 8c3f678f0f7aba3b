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
    fn from(error: CoreWalletError) -> Self {
        use CoreWalletError as E;
        let detail = error.to_string();
        let input = |code: &str| WalletError::InvalidInput {
            code: code.to_owned(),
            detail: detail.clone(),
        };
        let device = |code: &str| WalletError::Device {
            code: code.to_owned(),
            detail: detail.clone(),
        };
        let storage = |code: &str| WalletError::Storage {
            code: code.to_owned(),
            detail: detail.clone(),
        };
        let internal = |code: &str| WalletError::Internal {
            code: code.to_owned(),
            detail: detail.clone(),
        };
        match &error {
            E::Keys(key) => {
                let code = &crate::error_map::ffi_code(key.code());
                match key {
                    carchain_core::keys::KeyError::WrongWordCount { .. }
                    | carchain_core::keys::KeyError::UnknownWord { .. }
                    | carchain_core::keys::KeyError::BadChecksum => WalletError::InvalidMnemonic {
                        code: code.to_owned(),
                        detail: detail.clone(),
                    },
                    carchain_core::keys::KeyError::InvalidAddress
                    | carchain_core::keys::KeyError::WrongNetwork { .. } => input(code),
                    _ => internal(code),
                }
            }
            E::PairingPayload(payload) => WalletError::InvalidPairingPayload {
                code: payload_error_code(payload),
                detail: detail.clone(),
            },
            E::Light(light) => WalletError::Network {
                code: core_light_error_code(light),
                detail: detail.clone(),
            },
            E::Store(store) => storage(&crate::error_map::ffi_code(store.code())),
            E::Backup(backup) => storage(backup.code()),
            E::Export(export) => crate::export::export_error(export),
            E::Trip(trip) => WalletError::RecordRejected {
                code: crate::error_map::ffi_code(trip.code()),
                detail: detail.clone(),
            },
            E::Record(_) => input("record.invalid"),
            E::RecordRejected { .. } => WalletError::RecordRejected {
                code: "wallet.record_rejected".to_owned(),
                detail: detail.clone(),
            },
            E::InvalidPoolSize { .. } => input("wallet.invalid_pool_size"),
            E::InvalidDateRange { .. } => input("wallet.invalid_date_range"),
            E::InvalidPage => input("wallet.invalid_page"),
            E::InvalidSubscriber { .. } => input("wallet.invalid_subscriber"),
            E::PairingTimeout { .. } => device("wallet.pairing_timeout"),
            E::BadPairingAccept { .. } => device("wallet.bad_pairing_accept"),
            E::DeviceOwnedByOther { .. } => device("wallet.device_owned_by_other"),
            E::AlreadyPaired { .. } => device("wallet.already_paired"),
            E::UnknownDevice { .. } => device("wallet.unknown_device"),
            E::DeviceNotOwned { .. } => device("wallet.device_not_owned"),
            E::UnknownSubscriber { .. } => device("wallet.unknown_subscriber"),
            E::NoIdentity => storage("wallet.no_identity"),
            E::IdentityExists => storage("wallet.identity_exists"),
            E::UnsupportedNetwork { .. } => storage("wallet.unsupported_network"),
            E::IdentityMismatch => storage("wallet.identity_mismatch"),
            E::CorruptRsaKey => storage("wallet.corrupt_rsa_key"),
            E::LockPoisoned => internal("wallet.lock_poisoned"),
            E::Pool(_) => internal("wallet.pool"),
            E::Protocol(_) => internal("wallet.protocol"),
            E::Sealed(_) => internal("wallet.sealed"),
            E::Crypto(_) => internal("wallet.crypto"),
            E::Mailbox(_) => device("wallet.mailbox"),
            E::PairingMessage(_) => device("wallet.pairing_message"),
            E::Derivation(_) => internal("wallet.derivation"),
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
    }
}
