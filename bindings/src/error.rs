//! The one error every CarChain call raises across the FFI (`CarChainException` in
//! Kotlin, `CarChainError` in Swift). Its variant is the kind of failure an app reacts
//! to (bad input, not found, network, storage, ...); each carries the stable `code` of
//! the exact failure (e.g. `key.bad_checksum`) and a `detail` message that never quotes
//! words, keys or pairing codes.
//!
//! Every core error converts through its own stable `code()`: [`ffi_code`] renames the
//! few codes whose FFI spelling predates core's, and the [`KINDS`] table picks the
//! variant from the code, so one table, not one enum per area, says what a code means.

use carchain_core::grants::GrantsError as CoreGrantsError;
use carchain_core::wallet::WalletError as CoreWalletError;

use crate::inputs::BadInput;

/// Declares [`CarChainError`] (every variant `{ code, detail }`), the matching private
/// [`Kind`] and the conversions between them.
macro_rules! carchain_error {
    ($($(#[doc = $doc:literal])+ $kind:ident,)+) => {
        /// Every failure of a CarChain call: the variant is its kind, `code` the exact
        /// stable failure (listed in the bindings' README), `detail` a message for people.
        #[derive(Debug, thiserror::Error, uniffi::Error)]
        pub enum CarChainError {
            $($(#[doc = $doc])+
            #[error("{detail}")]
            $kind {
                /// Stable code of the exact failure, e.g. `key.bad_checksum`.
                code: String,
                /// What is wrong, never quoting a secret.
                detail: String,
            },)+
        }

        /// The variants of [`CarChainError`] without their fields, for [`KINDS`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Kind { $($kind,)+ }

        impl CarChainError {
            /// The stable code of this error.
            pub fn code(&self) -> &str {
                match self { $(CarChainError::$kind { code, .. })|+ => code }
            }

            fn of_kind(kind: Kind, code: String, detail: String) -> Self {
                match kind { $(Kind::$kind => CarChainError::$kind { code, detail },)+ }
            }
        }
    };
}

carchain_error! {
    /// An argument is unusable: a date, JSON, id, amount, range, page, pool size, format.
    InvalidInput,
    /// The recovery words are wrong (count, unknown word, checksum).
    InvalidMnemonic,
    /// The scanned pairing payload is malformed, expired or of an unknown version.
    InvalidPairingPayload,
    /// A record, trip or export archive is malformed or fails its hash or pool checks.
    InvalidRecord,
    /// An approval widens what the provider asked for, or narrows it inexactly.
    InvalidNarrowing,
    /// The car, request, grant, provider or subscriber named is unknown.
    NotFound,
    /// The pairing state does not allow this (not paired, already paired, owned by
    /// another wallet, code expired or mismatched, no answer from the car).
    Pairing,
    /// The request is addressed to another owner.
    NotAddressedToMe,
    /// The request was already approved, rejected or has expired.
    RequestClosed,
    /// A paid request came without its payment.
    PaymentMissing,
    /// Nothing can be delivered for this grant (no data, computation not supported).
    CannotDeliver,
    /// The result is not there yet: try again later.
    NotYet,
    /// A node or the other party refused (node codes in `detail`, grant refused, ...).
    Refused,
    /// No node could be reached or serve now; retrying later may succeed.
    Unavailable,
    /// A node answered something that fails verification or serves another chain.
    Verification,
    /// The wallet's or car's store, backup or identity failed.
    Storage,
    /// The host's secure storage or the store's master key failed.
    SecretStore,
    /// A step that should not fail did (derivation, encryption, signing).
    Internal,
}

/// What each stable code means: per kind, its codes and code prefixes (ending in `.` or
/// `_`), separated by spaces. The longest entry that equals or prefixes a code gives its
/// variant, so `light.tampered` beats `light.`; unlisted codes are [`Kind::Internal`].
const KINDS: &[(Kind, &str)] = &[
    (
        Kind::InvalidMnemonic,
        "key.wrong_word_count key.unknown_word key.bad_checksum",
    ),
    (
        Kind::InvalidInput,
        "key.invalid_word_count key.invalid_address key.wrong_network key.unknown_network light.invalid_input light.not_synced grants.invalid_ wallet.invalid_ input. pool. owner_record. payment. stake. export. device.fee_stamp_ standing.invalid_period",
    ),
    (Kind::InvalidPairingPayload, "pairing."),
    (
        Kind::Refused,
        "light.node_refused device.refused grants.delivery_refused grants.grant_refused grants.malformed_document standing. escrow. audit. compute. sealed. webhook.",
    ),
    (
        Kind::Verification,
        "light.tampered light.forged_commit light.app_hash_mismatch light.header_mismatch light.conflicting_headers light.wrong_chain light.value_missing token.bad_blind_signature",
    ),
    (Kind::Unavailable, "light. webhook.transport"),
    (
        Kind::SecretStore,
        "store.secret_store store.master_key_ device_store.master_key_",
    ),
    (
        Kind::Storage,
        "store. device_store. backup. export.io device.wrong_vid wallet.no_identity wallet.identity_ wallet.unsupported_network wallet.corrupt_rsa_key",
    ),
    (
        Kind::NotFound,
        "wallet.unknown_ grants.unknown_ export.unknown_car",
    ),
    (
        Kind::InvalidRecord,
        "wallet.record_rejected record. trip. export.file_changed export.header_invalid export.proof_invalid export.record_invalid export.derived_mismatch export.incomplete export.anchor_mismatch export.manifest",
    ),
    (Kind::InvalidNarrowing, "grants.invalid_narrowing"),
    (Kind::NotAddressedToMe, "grants.not_addressed_to_me"),
    (Kind::RequestClosed, "grants.request_closed"),
    (Kind::PaymentMissing, "grants.payment_missing"),
    (
        Kind::CannotDeliver,
        "grants.nothing_to_deliver grants.unsupported_computation grants.unregistered_computation",
    ),
    (Kind::NotYet, "grants.not_delivered grants.timeout"),
    (
        Kind::Internal,
        "pool.key_derivation device.pool webhook.randomness",
    ),
    (
        Kind::Pairing,
        "wallet.pairing_timeout wallet.bad_pairing_accept wallet.device_ wallet.already_paired device. mailbox. pairing_message.",
    ),
];

/// Store codes the FFI reports as they are; every other `store.*` code is reported as
/// `store.invalid_data`, as the bindings always did.
const FFI_STORE_CODES: [&str; 8] = [
    "store.secret_store",
    "store.master_key_missing",
    "store.master_key_wrong_length",
    "store.master_key_mismatch",
    "store.sqlite",
    "store.schema_too_new",
    "store.schema_version_invalid",
    "store.secret_corrupted",
];

/// The FFI's stable code for a core error's stable code (the few FFI spellings that
/// predate core's codes; every other code is core's own).
pub(crate) fn ffi_code(core_code: &str) -> String {
    if let Some(rest) = core_code.strip_prefix("keys.") {
        return format!("key.{rest}");
    }
    if let Some(rest) = core_code.strip_prefix("pairing_payload.") {
        return format!("pairing.{rest}");
    }
    if core_code == "light.node" {
        return "light.node_refused".to_owned();
    }
    if core_code.starts_with("secret_store.") {
        return "store.secret_store".to_owned();
    }
    if core_code.starts_with("store.") && !FFI_STORE_CODES.contains(&core_code) {
        return "store.invalid_data".to_owned();
    }
    core_code.to_owned()
}

fn kind_of(code: &str) -> Kind {
    let matches = |pattern: &&str| {
        code == *pattern
            || ((pattern.ends_with('.') || pattern.ends_with('_')) && code.starts_with(*pattern))
    };
    KINDS
        .iter()
        .flat_map(|(kind, patterns)| patterns.split(' ').map(move |pattern| (pattern, *kind)))
        .filter(|(pattern, _)| matches(pattern))
        .max_by_key(|(pattern, _)| pattern.len())
        .map_or(Kind::Internal, |(_, kind)| kind)
}

impl CarChainError {
    /// The error of stable FFI code `code`, its variant picked by [`KINDS`].
    pub(crate) fn new(code: impl Into<String>, detail: impl Into<String>) -> Self {
        let code = code.into();
        Self::of_kind(kind_of(&code), code, detail.into())
    }

    /// The error for a core error's stable code and message.
    pub(crate) fn from_core(core_code: &str, detail: String) -> Self {
        Self::new(ffi_code(core_code), detail)
    }
}

impl From<BadInput> for CarChainError {
    fn from(bad: BadInput) -> Self {
        Self::new(bad.code, bad.detail)
    }
}

/// `From<core error>` for each core error: its code and message, kind from [`KINDS`].
macro_rules! from_core_errors {
    ($($core:ty),+ $(,)?) => {$(
        impl From<$core> for CarChainError {
            fn from(error: $core) -> Self {
                Self::from_core(error.code(), error.to_string())
            }
        }
    )+};
}

from_core_errors!(
    CoreWalletError,
    carchain_core::keys::KeyError,
    carchain_core::pool::PoolError,
    carchain_core::record::RecordError,
    carchain_core::trip::TripError,
    carchain_core::store::StoreError,
    carchain_core::device::DeviceError,
    carchain_core::export::ExportError,
    carchain_core::wallet::PaymentError,
    carchain_core::grants::StandingError,
);

impl From<carchain_core::wallet::OwnerRecordError> for CarChainError {
    /// An owner-record error that wraps a wallet error reports the wallet error's code.
    fn from(error: carchain_core::wallet::OwnerRecordError) -> Self {
        match error {
            carchain_core::wallet::OwnerRecordError::Wallet(wallet) => wallet.into(),
            other => Self::from_core(other.code(), other.to_string()),
        }
    }
}

impl From<carchain_core::light::LightError> for CarChainError {
    /// A node's transient answer (`unavailable`, `internal`, `timeout`) is
    /// [`CarChainError::Unavailable`]; its other refusals are [`CarChainError::Refused`].
    fn from(error: carchain_core::light::LightError) -> Self {
        let code = ffi_code(error.code());
        if error.node_code().is_some() && error.is_failover() {
            Self::of_kind(Kind::Unavailable, code, error.to_string())
        } else {
            Self::new(code, error.to_string())
        }
    }
}

impl From<CoreGrantsError> for CarChainError {
    /// A grants error that wraps another area's error reports that error's code.
    fn from(error: CoreGrantsError) -> Self {
        use CoreGrantsError as E;
        let detail = error.to_string();
        match error {
            E::Owner(owner) => match owner.downcast::<CoreWalletError>() {
                Ok(wallet) => (*wallet).into(),
                Err(other) => Self::new("grants.wallet", other.to_string()),
            },
            E::Light(inner) => Self::from_core(inner.code(), detail),
            E::Trip(inner) => Self::from_core(inner.code(), detail),
            E::Store(inner) => Self::from_core(inner.code(), detail),
            E::Key(inner) => Self::from_core(inner.code(), detail),
            E::Standing(inner) => Self::from_core(inner.code(), detail),
            other => Self::from_core(other.code(), detail),
        }
    }
}

impl From<carchain_core::grants::webhook::WebhookError> for CarChainError {
    /// Code `webhook.<code>`: the node's refusal code (`webhook.not_found`,
    /// `webhook.replay`, ...), `webhook.transport` or `webhook.randomness`.
    fn from(error: carchain_core::grants::webhook::WebhookError) -> Self {
        Self::new(format!("webhook.{}", error.code()), error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use carchain_core::device::{DeviceError, DeviceStoreError};
    use carchain_core::export::ExportError;
    use carchain_core::keys::KeyError;
    use carchain_core::light::LightError;
    use carchain_core::pairing::PairingPayloadError;
    use carchain_core::store::StoreError;
    use carchain_core::trip::TripError;
    use carchain_core::wallet::{PaymentError, WalletError};

    use super::*;

    fn node(code: &str) -> LightError {
        LightError::Node {
            code: code.into(),
            message: "m".into(),
        }
    }

    /// `error` converts to `code` and the variant of `kind`.
    #[track_caller]
    fn check(error: impl Into<CarChainError>, code: &str, kind: Kind) {
        let error = error.into();
        assert_eq!(error.code(), code, "{error:?}");
        let same_kind = CarChainError::of_kind(kind, String::new(), String::new());
        assert_eq!(
            std::mem::discriminant(&error),
            std::mem::discriminant(&same_kind),
            "{code}"
        );
    }

    /// One core error of each area: the FFI code Kotlin and Swift see and its variant.
    #[test]
    fn core_errors_map_to_their_code_and_kind() {
        check(
            KeyError::BadChecksum,
            "key.bad_checksum",
            Kind::InvalidMnemonic,
        );
        check(
            KeyError::InvalidPublicKey,
            "key.invalid_public_key",
            Kind::Internal,
        );
        check(
            WalletError::from(KeyError::InvalidAddress),
            "key.invalid_address",
            Kind::InvalidInput,
        );
        check(
            StoreError::MasterKeyMissing,
            "store.master_key_missing",
            Kind::SecretStore,
        );
        check(
            StoreError::LockPoisoned,
            "store.invalid_data",
            Kind::Storage,
        );
        check(
            TripError::EmptyTrack,
            "trip.empty_track",
            Kind::InvalidRecord,
        );
        check(
            WalletError::from(PairingPayloadError::BadCode),
            "pairing.bad_code",
            Kind::InvalidPairingPayload,
        );
        check(
            node("duplicate_record"),
            "light.node_refused",
            Kind::Refused,
        );
        check(node("unavailable"), "light.node_refused", Kind::Unavailable);
        check(
            LightError::Tampered("root".into()),
            "light.tampered",
            Kind::Verification,
        );
        check(
            LightError::NotSynced(4),
            "light.not_synced",
            Kind::InvalidInput,
        );
        check(
            LightError::Network {
                endpoint: "http://a".into(),
                reason: "refused".into(),
            },
            "light.network",
            Kind::Unavailable,
        );
        check(DeviceError::NotPaired, "device.not_paired", Kind::Pairing);
        check(
            DeviceError::CodeExpired { expires_at: 1 },
            "device.code_expired",
            Kind::Pairing,
        );
        check(
            DeviceError::Store(DeviceStoreError::Random),
            "device_store.random",
            Kind::Storage,
        );
        check(
            DeviceError::Refused {
                seq: 1,
                code: "bad_signature".into(),
                message: "no".into(),
            },
            "device.refused",
            Kind::Refused,
        );
        check(DeviceError::Pool("p".into()), "device.pool", Kind::Internal);
        check(
            WalletError::UnknownDevice { vid: "V".into() },
            "wallet.unknown_device",
            Kind::NotFound,
        );
        check(WalletError::NoIdentity, "wallet.no_identity", Kind::Storage);
        check(
            WalletError::IdentityMismatch,
            "wallet.identity_mismatch",
            Kind::Storage,
        );
        check(
            WalletError::InvalidPoolSize { size: 0 },
            "wallet.invalid_pool_size",
            Kind::InvalidInput,
        );
        check(
            WalletError::LockPoisoned,
            "wallet.lock_poisoned",
            Kind::Internal,
        );
        check(
            ExportError::UnknownCar { vid: "V".into() },
            "export.unknown_car",
            Kind::NotFound,
        );
        check(
            ExportError::FileChanged { file: "x".into() },
            "export.file_changed",
            Kind::InvalidRecord,
        );
        check(
            ExportError::Truncated {
                found: 3,
                reason: "cut".into(),
            },
            "export.truncated",
            Kind::InvalidInput,
        );
        check(
            ExportError::Io {
                path: "p".into(),
                reason: "r".into(),
            },
            "export.io",
            Kind::Storage,
        );
        check(
            PaymentError::ZeroAmount,
            "payment.zero_amount",
            Kind::InvalidInput,
        );
        check(
            PaymentError::InsufficientFunds {
                balance: 1,
                needed: 20,
            },
            "payment.insufficient_funds",
            Kind::InvalidInput,
        );
        check(
            CoreGrantsError::InvalidTerms("x".into()),
            "grants.invalid_terms",
            Kind::InvalidInput,
        );
        check(
            CoreGrantsError::InvalidNarrowing("w".into()),
            "grants.invalid_narrowing",
            Kind::InvalidNarrowing,
        );
        check(
            CoreGrantsError::UnknownGrant("g".into()),
            "grants.unknown_grant",
            Kind::NotFound,
        );
        check(
            CoreGrantsError::RequestClosed {
                request: "r".into(),
                reason: "expired".into(),
            },
            "grants.request_closed",
            Kind::RequestClosed,
        );
        check(
            CoreGrantsError::NothingToDeliver,
            "grants.nothing_to_deliver",
            Kind::CannotDeliver,
        );
        check(
            CoreGrantsError::Timeout("r".into()),
            "grants.timeout",
            Kind::NotYet,
        );
        check(
            CoreGrantsError::from(LightError::Tampered("root".into())),
            "light.tampered",
            Kind::Verification,
        );
        check(
            CoreGrantsError::from(WalletError::UnknownDevice { vid: "V".into() }),
            "wallet.unknown_device",
            Kind::NotFound,
        );
        check(
            BadInput {
                code: "input.invalid_date",
                detail: "d".into(),
            },
            "input.invalid_date",
            Kind::InvalidInput,
        );
    }

    /// The message is core's, so it names the problem without the secret.
    #[test]
    fn the_detail_is_the_core_message() {
        let error = CarChainError::from(CoreGrantsError::UnknownRequest("ab12".into()));
        assert!(error.to_string().contains("ab12"), "{error}");
    }
}
