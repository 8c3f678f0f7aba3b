//! The CLI's error type and the exit code each kind of failure maps to: 2 usage, 3 bad
//! input, 4 node or network, 5 verification failure, 1 anything local (files, the
//! wallet store). Messages name the problem and never carry a secret.

use carchain_core::device::DeviceError;
use carchain_core::grants::GrantsError;
use carchain_core::light::LightError;
use carchain_core::wallet::{OwnerRecordError, PaymentError, WalletError};
use thiserror::Error;

/// Exit code of a usage error (bad flags; clap uses it too).
pub const EXIT_USAGE: u8 = 2;
/// Exit code of bad input (malformed JSON, bad date, unknown VID, bad words).
pub const EXIT_INPUT: u8 = 3;
/// Exit code of a node or network failure.
pub const EXIT_NODE: u8 = 4;
/// Exit code of an answer that failed verification.
pub const EXIT_VERIFY: u8 = 5;
/// Exit code of a local failure (wallet store, files).
pub const EXIT_LOCAL: u8 = 1;

/// Everything a `carchain` command can fail with.
#[derive(Debug, Error)]
pub enum CliError {
    /// The command line is incomplete or inconsistent beyond what clap checks.
    #[error("usage: {0}")]
    Usage(String),
    /// An input value is malformed or names something that does not exist.
    #[error("bad input: {0}")]
    Input(String),
    /// A node could not be reached or refused the request.
    #[error("node: {0}")]
    Node(String),
    /// A node's answer failed verification.
    #[error("verification failed: {0}")]
    Verification(String),
    /// A local file or the wallet store failed.
    #[error("{0}")]
    Local(String),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Input(_) => EXIT_INPUT,
            CliError::Node(_) => EXIT_NODE,
            CliError::Verification(_) => EXIT_VERIFY,
            CliError::Local(_) => EXIT_LOCAL,
        }
    }

    /// A local failure with what was being done.
    pub fn local(what: &str, err: impl std::fmt::Display) -> CliError {
        CliError::Local(format!("{what}: {err}"))
    }
}

/// The exit code of a core error by its stable `code()`: the code, not the message
/// text, decides. Codes of families the CLI does not know yet are input errors.
pub fn exit_for_code(code: &str) -> u8 {
    match code {
        // Files and randomness on this machine.
        "export.io"
        | "backup.io"
        | "backup.randomness_unavailable"
        | "token.internal"
        | "standing.corrupt_row" => EXIT_LOCAL,
        // An archive or answer that does not match what it claims.
        "export.file_changed"
        | "export.header_invalid"
        | "export.proof_invalid"
        | "export.record_invalid"
        | "export.derived_mismatch"
        | "export.incomplete"
        | "export.anchor_mismatch"
        | "export.manifest"
        | "token.bad_signature"
        | "token.bad_blind_signature"
        | "token.wrong_key"
        | "standing.out_of_scope" => EXIT_VERIFY,
        // A node's token material that cannot be used.
        "token.malformed" | "token.bad_key" | "token.bad_blinded_message" | "token.batch_size" => {
            EXIT_NODE
        }
        // Everything else a coded core error says is about the input: an unknown car,
        // a bad period, a truncated or newer archive or backup, another wallet's backup,
        // an owner record's bad format, key or value.
        _ => EXIT_INPUT,
    }
}

impl CliError {
    /// A core error with a stable `code`: the message names the code, the exit code
    /// comes from [`exit_for_code`].
    pub fn coded(code: &str, err: impl std::fmt::Display) -> CliError {
        let text = format!("{err} ({code})");
        match exit_for_code(code) {
            EXIT_LOCAL => CliError::Local(text),
            EXIT_VERIFY => CliError::Verification(text),
            EXIT_NODE => CliError::Node(text),
            _ => CliError::Input(text),
        }
    }
}

impl From<LightError> for CliError {
    fn from(err: LightError) -> Self {
        let text = err.to_string();
        match err {
            ref failed if failed.is_failed_check() => CliError::Verification(text),
            LightError::InvalidInput(_) => CliError::Input(text),
            LightError::Store(_) => CliError::Local(text),
            LightError::Token(token) => CliError::coded(token.code(), text),
            LightError::AllNodesFailed(ref failures)
                if !failures.is_empty() && failures.iter().all(|f| f.failed_check) =>
            {
                CliError::Verification(text)
            }
            _ => CliError::Node(text),
        }
    }
}

impl From<WalletError> for CliError {
    fn from(err: WalletError) -> Self {
        let text = err.to_string();
        match err {
            WalletError::Light(light) => light.into(),
            WalletError::RecordRejected { .. } => CliError::Verification(text),
            WalletError::Store(_) | WalletError::LockPoisoned | WalletError::CorruptRsaKey => {
                CliError::Local(text)
            }
            WalletError::IdentityMismatch | WalletError::UnsupportedNetwork { .. } => {
                CliError::Local(text)
            }
            WalletError::PairingTimeout { .. } => CliError::Node(text),
            WalletError::Export(export) => export.into(),
            WalletError::Backup(backup) => CliError::coded(backup.code(), text),
            _ => CliError::Input(text),
        }
    }
}

impl From<carchain_core::export::ExportError> for CliError {
    fn from(err: carchain_core::export::ExportError) -> Self {
        CliError::coded(err.code(), &err)
    }
}

impl From<OwnerRecordError> for CliError {
    fn from(err: OwnerRecordError) -> Self {
        match err {
            OwnerRecordError::Wallet(wallet) => wallet.into(),
            other => CliError::coded(other.code(), &other),
        }
    }
}

impl From<DeviceError> for CliError {
    fn from(err: DeviceError) -> Self {
        let text = err.to_string();
        match err {
            DeviceError::Light(light) => light.into(),
            DeviceError::Store(_) => CliError::Local(text),
            _ => CliError::Input(text),
        }
    }
}

impl From<PaymentError> for CliError {
    fn from(err: PaymentError) -> Self {
        let text = err.to_string();
        match err {
            PaymentError::Light(light) => light.into(),
            PaymentError::InvalidRecipient { .. }
            | PaymentError::ZeroAmount
            | PaymentError::SelfTransfer
            | PaymentError::AmountTooLarge { .. }
            | PaymentError::InsufficientFunds { .. } => CliError::Input(text),
        }
    }
}

impl From<GrantsError> for CliError {
    fn from(err: GrantsError) -> Self {
        let text = err.to_string();
        match err {
            GrantsError::Standing(ref standing) => CliError::coded(standing.code(), text),
            GrantsError::Light(light) => light.into(),
            GrantsError::Owner(owner) => match owner.downcast::<WalletError>() {
                Ok(wallet) => (*wallet).into(),
                Err(_) => CliError::Input(text),
            },
            GrantsError::DeliveryRefused(_)
            | GrantsError::GrantRefused(_)
            | GrantsError::MalformedDocument(_)
            | GrantsError::Sealed(_) => CliError::Verification(text),
            GrantsError::NotDelivered(_) | GrantsError::Timeout(_) => CliError::Node(text),
            GrantsError::Store(_)
            | GrantsError::Crypto(_)
            | GrantsError::Compute(_)
            | GrantsError::Protocol(_) => CliError::Local(text),
            _ => CliError::Input(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use carchain_core::light::NodeFailure;

    #[test]
    fn each_kind_has_its_exit_code() {
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
        assert_eq!(CliError::Input("x".into()).exit_code(), 3);
        assert_eq!(CliError::Node("x".into()).exit_code(), 4);
        assert_eq!(CliError::Verification("x".into()).exit_code(), 5);
        assert_eq!(CliError::Local("x".into()).exit_code(), 1);
    }

    #[test]
    fn light_errors_map_to_node_or_verification() {
        let tampered: CliError = LightError::Tampered("bad proof".into()).into();
        assert_eq!(tampered.exit_code(), EXIT_VERIFY);
        let offline: CliError = LightError::Network {
            endpoint: "http://127.0.0.1:1".into(),
            reason: "refused".into(),
        }
        .into();
        assert_eq!(offline.exit_code(), EXIT_NODE);
        let refused: CliError = LightError::Node {
            code: "insufficient_funds".into(),
            message: "no".into(),
        }
        .into();
        assert_eq!(refused.exit_code(), EXIT_NODE);
    }

    #[test]
    fn wallet_errors_about_input_are_input_errors() {
        let unknown: CliError = WalletError::UnknownDevice { vid: "V1".into() }.into();
        assert_eq!(unknown.exit_code(), EXIT_INPUT);
        assert!(unknown.to_string().contains("V1"));
        let rejected: CliError = WalletError::RecordRejected {
            address: "bcrt1q".into(),
            reason: "cHash".into(),
        }
        .into();
        assert_eq!(rejected.exit_code(), EXIT_VERIFY);
    }

    #[test]
    fn grant_errors_map_by_kind() {
        let unknown: CliError = GrantsError::UnknownRequest("ab12".into()).into();
        assert_eq!(unknown.exit_code(), EXIT_INPUT);
        assert!(unknown.to_string().contains("ab12"));
        let narrowing: CliError = GrantsError::InvalidNarrowing("too long".into()).into();
        assert_eq!(narrowing.exit_code(), EXIT_INPUT);
        let refused: CliError = GrantsError::GrantRefused("revoked".into()).into();
        assert_eq!(refused.exit_code(), EXIT_VERIFY);
        let waiting: CliError = GrantsError::Timeout("ab12".into()).into();
        assert_eq!(waiting.exit_code(), EXIT_NODE);
        let offline: CliError = GrantsError::Light(LightError::Network {
            endpoint: "http://127.0.0.1:1".into(),
            reason: "refused".into(),
        })
        .into();
        assert_eq!(offline.exit_code(), EXIT_NODE);
        let wallet: CliError =
            GrantsError::from(WalletError::UnknownDevice { vid: "V9".into() }).into();
        assert_eq!(wallet.exit_code(), EXIT_INPUT);
    }

    #[test]
    fn coded_core_errors_take_their_exit_code_from_the_code() {
        use carchain_core::export::ExportError;
        use carchain_core::tokens::TokenError;
        for (code, exit) in [
            ("export.io", EXIT_LOCAL),
            ("backup.randomness_unavailable", EXIT_LOCAL),
            ("export.file_changed", EXIT_VERIFY),
            ("export.manifest", EXIT_VERIFY),
            ("token.bad_blind_signature", EXIT_VERIFY),
            ("token.malformed", EXIT_NODE),
            ("export.truncated", EXIT_INPUT),
            ("export.unknown_car", EXIT_INPUT),
            ("backup.wrong_wallet", EXIT_INPUT),
            ("owner_record.value_too_large", EXIT_INPUT),
        ] {
            assert_eq!(exit_for_code(code), exit, "{code}");
            let err = CliError::coded(code, "what happened");
            assert_eq!(err.exit_code(), exit, "{code}");
            assert!(err.to_string().contains(code), "{err}");
        }
        // The core's errors themselves exit by their codes.
        let changed: CliError = ExportError::FileChanged {
            file: "records.json".into(),
        }
        .into();
        assert_eq!(changed.exit_code(), EXIT_VERIFY);
        assert!(
            changed.to_string().contains("export.file_changed"),
            "{changed}"
        );
        let token: CliError = LightError::Token(TokenError::BadBlindSignature).into();
        assert_eq!(token.exit_code(), EXIT_VERIFY);
        let owner: CliError = OwnerRecordError::UnknownFormat {
            format: "odometer".into(),
        }
        .into();
        assert_eq!(owner.exit_code(), EXIT_INPUT);
        assert!(
            owner.to_string().contains("owner_record.unknown_format"),
            "{owner}"
        );
    }

    #[test]
    fn every_node_failing_a_check_is_a_verification_failure() {
        let reason = |err: LightError| NodeFailure::new("http://127.0.0.1:9", &err);
        let lied = LightError::AllNodesFailed(vec![
            reason(LightError::Tampered("state root".into())),
            reason(LightError::WrongChain {
                expected: "a/regtest".into(),
                found: "b/regtest".into(),
            }),
        ]);
        assert_eq!(CliError::from(lied).exit_code(), EXIT_VERIFY);
        let forged = LightError::AllNodesFailed(vec![
            reason(LightError::ForgedCommit {
                height: 3,
                reason: "not enough voting power signed".into(),
            }),
            reason(LightError::AppHashMismatch { height: 12 }),
            reason(LightError::HeaderMismatch {
                height: 12,
                field: "time",
            }),
            reason(LightError::ConflictingHeaders {
                height: 4,
                reason: "another hash".into(),
            }),
        ]);
        assert_eq!(CliError::from(forged).exit_code(), EXIT_VERIFY);
        assert_eq!(
            CliError::from(LightError::AppHashMismatch { height: 2 }).exit_code(),
            EXIT_VERIFY
        );
        let mixed = LightError::AllNodesFailed(vec![
            reason(LightError::Tampered("state root".into())),
            reason(LightError::Network {
                endpoint: "http://127.0.0.1:9".into(),
                reason: "refused".into(),
            }),
        ]);
        assert_eq!(CliError::from(mixed).exit_code(), EXIT_NODE);
        // A node's message that merely mentions verification is no verdict.
        let said = LightError::AllNodesFailed(vec![reason(LightError::Node {
            code: "unavailable".into(),
            message: "verification backlog".into(),
        })]);
        assert_eq!(CliError::from(said).exit_code(), EXIT_NODE);
        assert_eq!(
            CliError::from(LightError::AllNodesFailed(Vec::new())).exit_code(),
            EXIT_NODE
        );
    }

    #[test]
    fn an_export_verifies_badly_exactly_when_the_core_calls_it_tampering() {
        use carchain_core::export::ExportError as E;
        let (r, a) = (String::new, || "bcrt1q".to_owned());
        let every = [
            E::NotAnExport { reason: r() },
            E::NewerVersion {
                found: 2,
                supported: 1,
            },
            E::Truncated {
                found: 3,
                reason: r(),
            },
            E::Manifest { reason: r() },
            E::FileChanged { file: r() },
            E::HeaderInvalid {
                height: 1,
                reason: r(),
            },
            E::ProofInvalid {
                address: a(),
                reason: r(),
            },
            E::RecordInvalid {
                address: a(),
                reason: r(),
            },
            E::DerivedMismatch { file: r() },
            E::Incomplete {
                address: a(),
                reason: r(),
            },
            E::AnchorMismatch {
                expected: r(),
                found: r(),
            },
            E::UnknownCar { vid: r() },
            E::InvalidPeriod {
                from: r(),
                to: r(),
                reason: r(),
            },
            E::Io {
                path: r(),
                reason: r(),
            },
        ];
        for err in every {
            let exit = CliError::from(err.clone()).exit_code();
            assert_eq!(exit == EXIT_VERIFY, err.is_tampering(), "{}", err.code());
            assert_eq!(
                exit == EXIT_LOCAL,
                err.code() == "export.io",
                "{}",
                err.code()
            );
        }
    }
}
