//! Core errors across the FFI, mapped in one place: [`ffi_code`] turns a core error's
//! stable `code()` into the bindings' stable code (the Kotlin/Swift vocabulary, which
//! predates core's codes and never changes), and [`map_core_error!`] builds a
//! `From<core error>` impl that picks the FFI variant by pattern and fills `code` from
//! [`ffi_code`] and `detail` from the core error's message (core messages never carry
//! words, keys or pairing codes).

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

/// The FFI's stable code for a core error's stable code.
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

/// `impl From<$core> for $ffi`: each arm's pattern picks the `$ffi` variant (a
/// `{ code, detail }` variant); `code` is [`ffi_code`] of the core error's `code()`.
macro_rules! map_core_error {
    ($core:ty => $ffi:ident { $($pat:pat => $variant:ident),+ $(,)? }) => {
        impl From<$core> for $ffi {
            fn from(error: $core) -> Self {
                let code = $crate::error_map::ffi_code(error.code());
                let detail = error.to_string();
                match error {
                    $($pat => $ffi::$variant { code, detail },)+
                }
            }
        }
    };
}
pub(crate) use map_core_error;

#[cfg(test)]
mod tests {
    use carchain_core::keys::KeyError as CoreKeyError;
    use carchain_core::light::LightError as CoreLightError;
    use carchain_core::pairing::PairingPayloadError;
    use carchain_core::store::StoreError as CoreStoreError;
    use carchain_core::trip::TripError as CoreTripError;

    use super::ffi_code;
    use crate::keys::KeyError;
    use crate::store::StoreError;
    use crate::trip::TripError;

    /// One error of each mapped core type: the FFI variant and the stable code Kotlin and
    /// Swift see (unchanged from the hand-written mapping).
    #[test]
    fn core_errors_map_to_ffi_variants_and_codes() {
        let key = KeyError::from(CoreKeyError::BadChecksum);
        assert!(matches!(key, KeyError::InvalidMnemonic { .. }));
        assert_eq!(key.code(), "key.bad_checksum");
        let key = KeyError::from(CoreKeyError::InvalidPublicKey);
        assert!(matches!(key, KeyError::Internal { .. }));
        assert_eq!(key.code(), "key.invalid_public_key");
        let store = StoreError::from(CoreStoreError::MasterKeyMissing);
        assert!(matches!(store, StoreError::SecretStore { .. }));
        assert_eq!(store.code(), "store.master_key_missing");
        let store = StoreError::from(CoreStoreError::LockPoisoned);
        assert!(matches!(store, StoreError::Storage { .. }));
        assert_eq!(store.code(), "store.invalid_data");
        let trip = TripError::from(CoreTripError::EmptyTrack);
        assert!(matches!(trip, TripError::InvalidTrip { .. }));
        assert_eq!(trip.code(), "trip.empty_track");
        let table: [(String, &str); 4] = [
            (
                ffi_code(CoreLightError::Tampered("root".into()).code()),
                "light.tampered",
            ),
            (ffi_code("light.node"), "light.node_refused"),
            (
                ffi_code(PairingPayloadError::BadCode.code()),
                "pairing.bad_code",
            ),
            (ffi_code("secret_store.access_denied"), "store.secret_store"),
        ];
        for (got, want) in table {
            assert_eq!(got, want);
        }
    }
}
