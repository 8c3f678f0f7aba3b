//! The trust anchor: the chain, network and validator key the client trusts, fixed by the
//! app (from its configuration or a QR code), never learned from a node.

use bitcoin::secp256k1::PublicKey;

use super::error::{LightError, LightResult};
use crate::protocol::{Network, SignedHeader};

/// What the light client trusts: every header it accepts descends from a genesis header
/// of `chain_id` signed by `validator`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnchor {
    /// The chain identifier.
    pub chain_id: String,
    /// The address network of the chain's accounts.
    pub network: Network,
    /// The validator's public key.
    pub validator: PublicKey,
}

impl TrustAnchor {
    /// Builds an anchor from the validator key in hex (33-byte compressed), as
    /// `carchain-node init` prints it.
    pub fn from_hex(chain_id: &str, network: Network, validator_hex: &str) -> LightResult<Self> {
        let bytes = hex::decode(validator_hex.trim())
            .map_err(|_| LightError::InvalidInput("validator key is not hex".into()))?;
        let validator = PublicKey::from_slice(&bytes)
            .map_err(|_| LightError::InvalidInput("validator key is not a secp256k1 key".into()))?;
        Ok(TrustAnchor {
            chain_id: chain_id.to_owned(),
            network,
            validator,
        })
    }

    /// `chain_id/network`, as error messages name a chain.
    pub fn label(&self) -> String {
        format!("{}/{}", self.chain_id, network_name(self.network))
    }

    /// Checks a header that the anchor itself must vouch for (genesis, or a cached tip
    /// loaded after a restart): this chain, this validator, a valid signature.
    pub fn check_header(&self, header: &SignedHeader) -> LightResult<()> {
        if header.header.chain_id != self.chain_id {
            return Err(LightError::Tampered(format!(
                "header {} is for chain {}, not {}",
                header.header.height, header.header.chain_id, self.chain_id
            )));
        }
        if header.header.proposer != self.validator {
            return Err(LightError::Tampered(format!(
                "header {} is not proposed by the anchored validator",
                header.header.height
            )));
        }
        header
            .verify_signature()
            .map_err(|err| LightError::Tampered(format!("header {}: {err}", header.header.height)))
    }

    /// Checks a genesis header: height 0, all-zero `prev_hash`, and [`Self::check_header`].
    pub fn check_genesis(&self, genesis: &SignedHeader) -> LightResult<()> {
        if genesis.header.height != 0 || genesis.header.prev_hash != [0; 32] {
            return Err(LightError::Tampered(
                "the first header is not a genesis header".into(),
            ));
        }
        self.check_header(genesis)
    }
}

/// The network's name as the node's status reports it.
pub fn network_name(network: Network) -> &'static str {
    match network {
        Network::Mainnet => "mainnet",
        Network::Testnet => "testnet",
        Network::Regtest => "regtest",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::light::headers::test_chain::{TEST_CHAIN, genesis, validator_secret};
    use crate::protocol::signing::public_key_of;

    fn anchor() -> TrustAnchor {
        TrustAnchor {
            chain_id: TEST_CHAIN.into(),
            network: Network::Regtest,
            validator: public_key_of(&validator_secret()),
        }
    }

    #[test]
    fn from_hex_parses_the_validator_key_and_refuses_garbage() {
        let key = hex::encode(public_key_of(&validator_secret()).serialize());
        let parsed = TrustAnchor::from_hex(TEST_CHAIN, Network::Regtest, &key).unwrap();
        assert_eq!(parsed, anchor());
        assert!(matches!(
            TrustAnchor::from_hex(TEST_CHAIN, Network::Regtest, "zz"),
            Err(LightError::InvalidInput(_))
        ));
        assert!(matches!(
            TrustAnchor::from_hex(TEST_CHAIN, Network::Regtest, "0202"),
            Err(LightError::InvalidInput(_))
        ));
        assert_eq!(parsed.label(), "carchain-test/regtest");
    }

    #[test]
    fn genesis_must_be_this_chain_this_validator_and_signed() {
        let good = genesis();
        assert!(anchor().check_genesis(&good).is_ok());

        let mut other_chain = anchor();
        other_chain.chain_id = "other".into();
        assert!(matches!(
            other_chain.check_genesis(&good),
            Err(LightError::Tampered(_))
        ));

        let mut other_validator = anchor();
        other_validator.validator =
            public_key_of(&crate::protocol::signing::secret_key_from_bytes(&[9; 32]).unwrap());
        assert!(matches!(
            other_validator.check_genesis(&good),
            Err(LightError::Tampered(_))
        ));

        let mut forged = good.clone();
        forged.header.state_root[0] ^= 1;
        assert!(matches!(
            anchor().check_genesis(&forged),
            Err(LightError::Tampered(_))
        ));

        let mut not_genesis = good;
        not_genesis.header.height = 1;
        assert!(matches!(
            anchor().check_genesis(&not_genesis),
            Err(LightError::Tampered(_))
        ));
    }
}
