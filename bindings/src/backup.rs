//! Backup and restore of the wallet's state across the FFI: the host app writes the
//! encrypted file where it keeps the owner's files (a cloud drive) and hands it back on
//! a new phone after restoring the words. Failures carry `backup.*` codes
//! (`backup.wrong_wallet`, `backup.corrupted`, `backup.truncated`,
//! `backup.newer_version`, `backup.not_a_backup`, `backup.io`).

use carchain_core::wallet::RestoredCounts as CoreRestoredCounts;

use crate::error::CarChainError;
use crate::wallet::Wallet;

/// What a restore brought back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct RestoredCounts {
    /// Cars (paired, reset or transferred), with their pools.
    pub devices: u32,
    /// Grants.
    pub grants: u32,
    /// Provider requests.
    pub provider_requests: u32,
    /// Unspent read tokens.
    pub read_tokens: u32,
}

impl From<CoreRestoredCounts> for RestoredCounts {
    fn from(counts: CoreRestoredCounts) -> Self {
        RestoredCounts {
            devices: counts.devices,
            grants: counts.grants,
            provider_requests: counts.provider_requests,
            read_tokens: counts.read_tokens,
        }
    }
}

#[uniffi::export]
impl Wallet {
    /// Writes an encrypted backup of the wallet's state (cars and their names, pools,
    /// grants, requests, read tokens, the pinned header tip) to `path`, replacing the
    /// file there only once the new one is complete. Only a wallet restored from the
    /// same words and passphrase opens it.
    pub fn write_backup(&self, path: String) -> Result<(), CarChainError> {
        Ok(self.wallet.write_backup(path)?)
    }

    /// Restores the backup at `path` into this wallet (restored from the same words).
    /// Another wallet's, a damaged, truncated or newer backup is refused with its
    /// `backup.*` code and nothing is written.
    pub fn restore_backup(&self, path: String) -> Result<RestoredCounts, CarChainError> {
        Ok(self.wallet.restore_backup(path)?.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wallet::tests::restore_abandon;

    #[test]
    fn a_backup_round_trips_and_another_wallet_gets_a_stable_code() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name).display().to_string();
        let first = restore_abandon(path("a.db"), "");
        first.write_backup(path("wallet.ccbackup")).unwrap();
        let again = restore_abandon(path("b.db"), "");
        assert_eq!(
            again.restore_backup(path("wallet.ccbackup")).unwrap(),
            RestoredCounts {
                devices: 0,
                grants: 0,
                provider_requests: 0,
                read_tokens: 0
            }
        );
        let other = restore_abandon(path("c.db"), "another passphrase");
        let err = other.restore_backup(path("wallet.ccbackup")).unwrap_err();
        assert_eq!(err.code(), "backup.wrong_wallet");
        let err = other.restore_backup(path("missing")).unwrap_err();
        assert_eq!(err.code(), "backup.io");
    }
}
