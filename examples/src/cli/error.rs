//! The CLI's error type and the exit code each kind of failure maps to: 2 usage, 3 bad
//! input, 4 node or network, 5 verification failure, 1 anything local (files, the
//! wallet store). Messages name the problem and never carry a secret.

use carchain_core::device::DeviceError;
use carchain_core::grants::GrantsError;
use carchain_core::light::LightError;
use carchain_core::wallet::{PaymentError, WalletError};
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

impl From<LightError> for CliError {
    fn from(err: LightError) -> Self {
        let text = err.to_string();
        match err {
            LightError::Tampered(_) | LightError::WrongChain { .. } => CliError::Verification(text),
            LightError::InvalidInput(_) => CliError::Input(text),
            LightError::Store(_) => CliError::Local(text),
            LightError::AllNodesFailed(ref reasons)
                if reasons.iter().all(|r| r.contains("verification")) =>
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
            WalletError::Backup(backup) => match backup {
                carchain_core::wallet::BackupError::Io { .. }
                | carchain_core::wallet::BackupError::RandomnessUnavailable => {
                    CliError::Local(text)
                }
                _ => CliError::Input(format!("{text} ({})", backup.code())),
            },
            _ => CliError::Input(text),
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
            GrantsError::Light(light) => light.into(),
            GrantsError::Wallet(wallet) => (*wallet).into(),
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
}
