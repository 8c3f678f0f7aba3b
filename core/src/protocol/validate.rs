//! Stateless checks of a signed transaction, shared by the node (before admitting it) and
//! the light client (before sending it): chain, network, signature, address forms, and the
//! rules that need no ledger state.

use std::str::FromStr;

use bitcoin::{Address, AddressType};

use super::body::TxBody;
use super::error::{ProtocolError, Result};
use super::network::Network;
use super::tx::SignedTransaction;

/// Checks that `address` is a P2WPKH address of `network` in its canonical (lowercase
/// bech32) spelling, so one account has exactly one spelling on the ledger.
pub fn check_account_address(address: &str, network: Network, field: &'static str) -> Result<()> {
    let invalid = || ProtocolError::InvalidAddress { field };
    let parsed = Address::from_str(address)
        .map_err(|_| invalid())?
        .require_network(network.to_bitcoin())
        .map_err(|_| invalid())?;
    if parsed.address_type() != Some(AddressType::P2wpkh) || parsed.to_string() != address {
        return Err(invalid());
    }
    Ok(())
}

/// Checks a `YYYY-MM-DD` calendar date.
fn check_date(date: &str, field: &'static str) -> Result<()> {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .filter(|_| date.len() == 10)
        .map(|_| ())
        .ok_or(ProtocolError::InvalidDate { field })
}

impl SignedTransaction {
    /// Everything that can be checked without ledger state: the chain and network, the
    /// signature, every address's form, that a record put is signed by its address's key,
    /// that a device setup is signed by the owner and carries the device's pairing
    /// signature, and that request dates are valid and ordered.
    pub fn check_stateless(&self, chain_id: &str, network: Network) -> Result<()> {
        self.check_stateless_signer(chain_id, network).map(|_| ())
    }

    /// [`SignedTransaction::check_stateless`], giving back the signer's address it
    /// derived on the way (so that a caller does not derive it again).
    pub fn check_stateless_signer(&self, chain_id: &str, network: Network) -> Result<String> {
        let tx = &self.tx;
        if tx.chain_id != chain_id {
            return Err(ProtocolError::WrongChain);
        }
        if tx.network != network {
            return Err(ProtocolError::WrongNetwork);
        }
        self.verify_signature()?;
        let signer = tx.signer_address();
        let check = |address: &str, field| check_account_address(address, network, field);
        match &tx.body {
            TxBody::Transfer(b) => check(&b.to, "to")?,
            TxBody::DeviceSetup(b) => {
                // The signer's own address is well formed by construction: only another
                // one needs parsing.
                if b.owner_address != signer {
                    check(&b.owner_address, "owner_address")?;
                    return Err(ProtocolError::SignerNotOwner);
                }
                b.verify_device_signature()?;
            }
            TxBody::Reset(b) => check(&b.new_owner_address, "new_owner_address")?,
            TxBody::RecordPut(b) => {
                if b.address != signer {
                    check(&b.address, "address")?;
                    return Err(ProtocolError::SignerNotRecordAddress);
                }
            }
            TxBody::Grant(b) => {
                check(&b.grantee_address, "grantee_address")?;
            }
            TxBody::DataRequest(b) => {
                check(&b.owner_address, "owner_address")?;
                check_date(&b.from_date, "from_date")?;
                check_date(&b.to_date, "to_date")?;
                if b.from_date > b.to_date {
                    return Err(ProtocolError::InvalidDate { field: "to_date" });
                }
            }
            TxBody::EscrowOpen(b) => check(&b.seller, "seller")?,
            TxBody::SetDup(_)
            | TxBody::Revoke(_)
            | TxBody::Renounce(_)
            | TxBody::ProviderRegister(_)
            | TxBody::DataResponse(_)
            | TxBody::EscrowDeliver(_)
            | TxBody::EscrowAccept(_)
            | TxBody::EscrowDispute(_)
            | TxBody::EscrowResolve(_)
            | TxBody::EscrowRefund(_)
            | TxBody::AuditorAttestation(_)
            | TxBody::Bond(_)
            | TxBody::Unbond(_) => {}
        }
        Ok(signer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::body::{DataRequest, RecordPut, Transfer};
    use crate::protocol::test_fixtures::{address, public, sample_bodies, sample_tx, secret};
    use crate::protocol::tx::Transaction;

    const CHAIN: &str = "carchain-test";

    fn signed_by(byte: u8, body: TxBody) -> SignedTransaction {
        let tx = Transaction {
            signer: public(byte),
            ..sample_tx(body)
        };
        tx.sign(&secret(byte)).unwrap_or_else(|e| panic!("{e}"))
    }

    fn body(kind: usize) -> TxBody {
        sample_bodies().swap_remove(kind)
    }

    #[test]
    fn sample_transactions_pass_when_signed_by_the_right_key() {
        for (kind, body) in sample_bodies().into_iter().enumerate() {
            // Record puts are signed by their address's key (0x06..06), the rest by the owner.
            let signer = if matches!(body, TxBody::RecordPut(_)) {
                6
            } else {
                1
            };
            let signed = signed_by(signer, body);
            assert_eq!(
                signed.check_stateless(CHAIN, Network::Regtest),
                Ok(()),
                "kind {kind}"
            );
        }
    }

    #[test]
    fn wrong_chain_or_network_is_refused() {
        let signed = signed_by(1, body(0));
        assert_eq!(
            signed.check_stateless("other", Network::Regtest),
            Err(ProtocolError::WrongChain)
        );
        assert_eq!(
            signed.check_stateless(CHAIN, Network::Testnet),
            Err(ProtocolError::WrongNetwork)
        );
    }

    #[test]
    fn a_record_put_or_device_setup_signed_by_the_wrong_key_is_refused() {
        let cases = [
            // A record put signed by a key other than the record address's.
            (1, 4, ProtocolError::SignerNotRecordAddress),
            // A device setup must be signed by the owner.
            (3, 1, ProtocolError::SignerNotOwner),
        ];
        for (signer, kind, expected) in cases {
            assert_eq!(
                signed_by(signer, body(kind)).check_stateless(CHAIN, Network::Regtest),
                Err(expected),
                "kind {kind}"
            );
        }
    }

    #[test]
    fn addresses_of_other_networks_types_or_spellings_are_refused() {
        let mainnet = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4";
        let uppercase = address(3).to_uppercase();
        // A valid regtest address of the wrong type (P2WSH of an empty script).
        let p2wsh = Address::p2wsh(bitcoin::Script::new(), bitcoin::Network::Regtest).to_string();
        assert!(p2wsh.starts_with("bcrt1q") && p2wsh.len() > 60, "{p2wsh}");
        for to in [
            mainnet.to_string(),
            uppercase,
            p2wsh,
            "not an address".into(),
        ] {
            let signed = signed_by(
                1,
                TxBody::Transfer(Transfer {
                    to: to.clone(),
                    amount: 1,
                }),
            );
            assert_eq!(
                signed.check_stateless(CHAIN, Network::Regtest),
                Err(ProtocolError::InvalidAddress { field: "to" }),
                "{to}"
            );
        }
    }

    #[test]
    fn bad_or_reversed_request_dates_are_refused() {
        let TxBody::DataRequest(request) = body(9) else {
            panic!("fixture order")
        };
        for (from, to, field) in [
            ("2024-02-30", "2024-03-01", "from_date"),
            ("2024-01-01", "2024-1-31", "to_date"),
            ("2024-02-01", "2024-01-01", "to_date"),
        ] {
            let changed = DataRequest {
                from_date: from.into(),
                to_date: to.into(),
                ..request.clone()
            };
            let signed = signed_by(1, TxBody::DataRequest(changed));
            assert_eq!(
                signed.check_stateless(CHAIN, Network::Regtest),
                Err(ProtocolError::InvalidDate { field }),
                "{from}..{to}"
            );
        }
    }

    #[test]
    fn bad_signature_is_refused_before_body_rules() {
        let put = RecordPut {
            size: 1,
            ..match body(4) {
                TxBody::RecordPut(p) => p,
                _ => panic!("fixture order"),
            }
        };
        let mut signed = signed_by(6, TxBody::RecordPut(put));
        signed.tx.fee += 1;
        assert_eq!(
            signed.check_stateless(CHAIN, Network::Regtest),
            Err(ProtocolError::BadSignature {
                what: "transaction"
            })
        );
    }
}
