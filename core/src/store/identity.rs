//! The owner identity: network, owner address, and the secrets it is derived from
//! (mnemonic, passphrase, RSA private key), sealed at rest. One identity per store.

use rusqlite::{OptionalExtension, params};

use super::at_rest::SecretLocation;
use super::error::{StoreError, StoreResult};
use super::secret_values::{SecretBytes, SecretString};
use super::validate;
use super::wallet_store::WalletStore;

/// Network names an identity may use.
pub const NETWORKS: &[&str] = &["mainnet", "testnet", "signet", "regtest"];
/// Word counts a BIP39 mnemonic may have.
const MNEMONIC_WORD_COUNTS: &[usize] = &[12, 15, 18, 21, 24];
/// The identity table's single row id, bound into its seals.
const IDENTITY_ROW: &str = "1";

/// The owner's identity as stored by the wallet. `Debug` redacts the secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// One of [`NETWORKS`].
    pub network: String,
    /// The owner's P2WPKH address.
    pub owner_address: String,
    /// Size of the owner's RSA key, 2048..=8192 and a multiple of 8.
    pub rsa_bits: u32,
    /// BIP39 words (12, 15, 18, 21 or 24), sealed at rest.
    pub mnemonic: SecretString,
    /// BIP39 passphrase (may be empty), sealed at rest.
    pub passphrase: SecretString,
    /// RSA private key, DER encoded, sealed at rest.
    pub rsa_private_der: SecretBytes,
    /// Creation time, Unix seconds.
    pub created_at: i64,
}

fn location(column: &'static str) -> SecretLocation<'static> {
    SecretLocation {
        table: "identity",
        column,
        row: IDENTITY_ROW,
    }
}

fn validate_identity(identity: &Identity) -> StoreResult<()> {
    if !NETWORKS.contains(&identity.network.as_str()) {
        return Err(StoreError::InvalidNetwork {
            network: identity.network.clone(),
        });
    }
    validate::non_empty("owner_address", &identity.owner_address)?;
    let bits = identity.rsa_bits;
    if !(2048..=8192).contains(&bits) || !bits.is_multiple_of(8) {
        return Err(StoreError::InvalidRsaBits { bits });
    }
    let words = identity.mnemonic.expose().split_whitespace().count();
    if !MNEMONIC_WORD_COUNTS.contains(&words) {
        return Err(StoreError::InvalidMnemonicWordCount { count: words });
    }
    if identity.rsa_private_der.expose().first() != Some(&0x30) {
        return Err(StoreError::InvalidRsaDer);
    }
    Ok(())
}

impl WalletStore {
    /// Saves the owner identity. A store holds one identity: a second save fails with
    /// [`StoreError::IdentityExists`] and changes nothing.
    pub fn save_identity(&self, identity: &Identity) -> StoreResult<()> {
        validate_identity(identity)?;
        let mnemonic = self
            .cipher
            .seal(&location("mnemonic"), identity.mnemonic.expose().as_bytes())?;
        let passphrase = self.cipher.seal(
            &location("passphrase"),
            identity.passphrase.expose().as_bytes(),
        )?;
        let rsa_private_der = self.cipher.seal(
            &location("rsa_private_der"),
            identity.rsa_private_der.expose(),
        )?;
        self.write(|tx| {
            let existing: i64 =
                tx.query_row("SELECT count(*) FROM identity", [], |row| row.get(0))?;
            if existing > 0 {
                return Err(StoreError::IdentityExists);
            }
            tx.execute(
                "INSERT INTO identity (id, network, owner_address, rsa_bits, mnemonic_sealed,
                     passphrase_sealed, rsa_private_der_sealed, created_at)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    identity.network,
                    identity.owner_address,
                    identity.rsa_bits,
                    mnemonic,
                    passphrase,
                    rsa_private_der,
                    identity.created_at
                ],
            )?;
            Ok(())
        })
    }

    /// The stored identity with its secrets opened, or `None` before one is saved.
    pub fn load_identity(&self) -> StoreResult<Option<Identity>> {
        let row = self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT network, owner_address, rsa_bits, mnemonic_sealed, passphrase_sealed,
                         rsa_private_der_sealed, created_at
                     FROM identity WHERE id = 1",
                    [],
                    |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, i64>(2)?,
                            row.get::<_, Vec<u8>>(3)?,
                            row.get::<_, Vec<u8>>(4)?,
                            row.get::<_, Vec<u8>>(5)?,
                            row.get::<_, i64>(6)?,
                        ))
                    },
                )
                .optional()?)
        })?;
        let Some((network, owner_address, rsa_bits, mnemonic, passphrase, der, created_at)) = row
        else {
            return Ok(None);
        };
        Ok(Some(Identity {
            network,
            owner_address,
            rsa_bits: validate::from_sql_int("rsa_bits", rsa_bits)?,
            mnemonic: self.open_text(&location("mnemonic"), &mnemonic)?,
            passphrase: self.open_text(&location("passphrase"), &passphrase)?,
            rsa_private_der: SecretBytes::from_slice(
                &self.cipher.open(&location("rsa_private_der"), &der)?,
            ),
            created_at,
        }))
    }

    fn open_text(&self, location: &SecretLocation<'_>, sealed: &[u8]) -> StoreResult<SecretString> {
        let bytes = self.cipher.open(location, sealed)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| StoreError::SecretCorrupted {
            table: location.table,
            column: location.column,
            row: location.row.to_owned(),
        })?;
        Ok(SecretString::from(text))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn save_then_load_round_trips() {
        let store = open_test_store();
        assert_eq!(store.load_identity().unwrap(), None);
        let identity = sample_identity();
        store.save_identity(&identity).unwrap();
        let loaded = store.load_identity().unwrap().unwrap();
        assert_eq!(loaded, identity);
        assert_eq!(loaded.mnemonic.expose(), MNEMONIC);
        assert_eq!(loaded.passphrase.expose(), "TREZOR");
    }

    #[test]
    fn second_identity_is_refused() {
        let store = open_test_store();
        store.save_identity(&sample_identity()).unwrap();
        let mut other = sample_identity();
        other.owner_address = "bcrt1qother".to_owned();
        assert!(matches!(
            store.save_identity(&other),
            Err(StoreError::IdentityExists)
        ));
        assert_eq!(store.load_identity().unwrap().unwrap(), sample_identity());
    }

    #[test]
    fn debug_does_not_show_secrets() {
        let identity = sample_identity();
        let shown = format!("{identity:?}");
        assert!(!shown.contains("abandon"), "{shown}");
        assert!(!shown.contains("TREZOR"), "{shown}");
        assert!(
            shown.contains("bcrt1q"),
            "non-secret fields stay visible: {shown}"
        );
    }

    fn assert_rejected(change: impl FnOnce(&mut Identity), expected: fn(&StoreError) -> bool) {
        let identity = sample_identity();
        assert_write_rejected(
            identity,
            change,
            WalletStore::save_identity,
            "identity",
            expected,
        );
    }

    #[test]
    fn unknown_network_rejected() {
        assert_rejected(
            |i| i.network = "moonnet".into(),
            |e| matches!(e, StoreError::InvalidNetwork { network } if network == "moonnet"),
        );
    }

    #[test]
    fn empty_owner_address_rejected() {
        assert_rejected(
            |i| i.owner_address = String::new(),
            |e| {
                matches!(
                    e,
                    StoreError::EmptyField {
                        field: "owner_address"
                    }
                )
            },
        );
    }

    #[test]
    fn bad_rsa_bits_rejected() {
        assert_rejected(
            |i| i.rsa_bits = 1024,
            |e| matches!(e, StoreError::InvalidRsaBits { bits: 1024 }),
        );
        assert_rejected(
            |i| i.rsa_bits = 2049,
            |e| matches!(e, StoreError::InvalidRsaBits { bits: 2049 }),
        );
    }

    #[test]
    fn bad_mnemonic_word_count_rejected() {
        assert_rejected(
            |i| i.mnemonic = SecretString::from("abandon about"),
            |e| matches!(e, StoreError::InvalidMnemonicWordCount { count: 2 }),
        );
        assert_rejected(
            |i| i.mnemonic = SecretString::from(""),
            |e| matches!(e, StoreError::InvalidMnemonicWordCount { count: 0 }),
        );
    }

    #[test]
    fn non_der_rsa_key_rejected() {
        assert_rejected(
            |i| i.rsa_private_der = SecretBytes::new(vec![1, 2, 3]),
            |e| matches!(e, StoreError::InvalidRsaDer),
        );
        assert_rejected(
            |i| i.rsa_private_der = SecretBytes::new(Vec::new()),
            |e| matches!(e, StoreError::InvalidRsaDer),
        );
    }

    #[test]
    fn errors_never_show_the_mnemonic() {
        let store = open_test_store();
        let mut identity = sample_identity();
        identity.rsa_bits = 7;
        let err = store.save_identity(&identity).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("abandon"));
    }

    #[test]
    fn sealed_column_moved_to_another_column_fails() {
        let store = open_test_store();
        store.save_identity(&sample_identity()).unwrap();
        store
            .conn
            .lock()
            .unwrap()
            .execute(
                "UPDATE identity SET passphrase_sealed = mnemonic_sealed",
                [],
            )
            .unwrap();
        let err = store.load_identity().unwrap_err();
        assert!(matches!(
            err,
            StoreError::SecretCorrupted {
                table: "identity",
                column: "passphrase",
                ..
            }
        ));
        assert!(!format!("{err}").contains("abandon"));
    }
}
