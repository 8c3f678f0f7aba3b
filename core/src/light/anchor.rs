//! The trust anchor: the chain, network and consensus root the client trusts, fixed by
//! the app (from its configuration or a QR code), never learned from a node.
//!
//! The root is either the chain's genesis validator set (ed25519 keys with voting
//! powers: CometBFT light block 1 must be committed by more than 2/3 of it) or a trusted
//! CometBFT height and header hash (light sync starts there). Its text form, as
//! `carchain-node init` and `/v1/status` print it:
//! - `<key hex>[:<power>][,<key hex>[:<power>]...]`: 64-hex ed25519 validator keys, power
//!   [`DEFAULT_POWER`] when not given (the embedded node prints its one key);
//! - `<height>:<header hash hex>`: a trusted height and the hash of its CometBFT header.

use tendermint::validator::Set;

use super::error::{LightError, LightResult};
use super::light_block::{DEFAULT_POWER, validator_set};
use crate::protocol::{Network, SignedHeader};

/// One genesis validator: its ed25519 key and voting power.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenesisValidator {
    /// The ed25519 public key.
    pub key: [u8; 32],
    /// Voting power.
    pub power: u64,
}

/// What consensus state the client starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustRoot {
    /// The genesis validator set: light block 1 is verified against it.
    Validators(Vec<GenesisValidator>),
    /// A CometBFT height whose header hash is known (from a source the app trusts).
    Height {
        /// CometBFT height (at least 1).
        height: u64,
        /// SHA-256 header hash.
        hash: [u8; 32],
    },
}

/// What the light client trusts: every header it accepts is certified by a CometBFT
/// commit it verified from `root`, on chain `chain_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnchor {
    /// The chain identifier (also the CometBFT chain id).
    pub chain_id: String,
    /// The address network of the chain's accounts.
    pub network: Network,
    /// The consensus root.
    pub root: TrustRoot,
}

fn invalid(reason: impl Into<String>) -> LightError {
    LightError::InvalidInput(reason.into())
}

fn parse_key(text: &str) -> LightResult<[u8; 32]> {
    let bytes = hex::decode(text.trim()).map_err(|_| invalid("validator key is not hex"))?;
    let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
        invalid("validator key is not a 32-byte ed25519 key (a secp256k1 header key is no longer a trust anchor)")
    })?;
    ed25519_consensus::VerificationKey::try_from(key)
        .map_err(|_| invalid("validator key is not an ed25519 point"))?;
    Ok(key)
}

fn parse_root(text: &str) -> LightResult<TrustRoot> {
    let text = text.trim();
    if let Some((height, hash)) = text.split_once(':')
        && !height.is_empty()
        && height.len() < 20
        && height.bytes().all(|b| b.is_ascii_digit())
    {
        let height: u64 = height.parse().map_err(|_| invalid("bad trusted height"))?;
        if height == 0 {
            return Err(invalid("the trusted height starts at 1"));
        }
        let bytes = hex::decode(hash.trim()).map_err(|_| invalid("header hash is not hex"))?;
        let hash = bytes
            .try_into()
            .map_err(|_| invalid("header hash is not 32 bytes"))?;
        return Ok(TrustRoot::Height { height, hash });
    }
    let mut validators = Vec::new();
    for item in text.split(',').filter(|item| !item.trim().is_empty()) {
        let (key, power) = match item.split_once(':') {
            Some((key, power)) => (
                key,
                power
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|p| *p > 0 && *p <= u64::from(u32::MAX))
                    .ok_or_else(|| invalid("bad voting power"))?,
            ),
            None => (item, DEFAULT_POWER),
        };
        validators.push(GenesisValidator {
            key: parse_key(key)?,
            power,
        });
    }
    if validators.is_empty() {
        return Err(invalid("no validator key given"));
    }
    Ok(TrustRoot::Validators(validators))
}

impl TrustAnchor {
    /// Builds an anchor from its text form (see the module doc): the validator key(s) as
    /// `carchain-node init` prints them, or `<height>:<hash>`.
    pub fn from_hex(chain_id: &str, network: Network, validators_text: &str) -> LightResult<Self> {
        if tendermint::chain::Id::try_from(chain_id.to_owned()).is_err() {
            return Err(invalid("the chain id is not a CometBFT chain id"));
        }
        Ok(TrustAnchor {
            chain_id: chain_id.to_owned(),
            network,
            root: parse_root(validators_text)?,
        })
    }

    /// The anchor's root in its text form.
    pub fn root_text(&self) -> String {
        match &self.root {
            TrustRoot::Validators(validators) => validators
                .iter()
                .map(|v| {
                    if v.power == DEFAULT_POWER {
                        hex::encode(v.key)
                    } else {
                        format!("{}:{}", hex::encode(v.key), v.power)
                    }
                })
                .collect::<Vec<_>>()
                .join(","),
            TrustRoot::Height { height, hash } => format!("{height}:{}", hex::encode(hash)),
        }
    }

    /// The genesis validator set, when the root is one.
    pub fn validator_set(&self) -> LightResult<Option<Set>> {
        let TrustRoot::Validators(validators) = &self.root else {
            return Ok(None);
        };
        let infos = validators
            .iter()
            .map(|v| {
                let key = tendermint::PublicKey::from_raw_ed25519(&v.key)
                    .ok_or_else(|| invalid("validator key is not ed25519"))?;
                let power =
                    u32::try_from(v.power).map_err(|_| invalid("voting power too large"))?;
                Ok(tendermint::validator::Info::new(key, power.into()))
            })
            .collect::<LightResult<Vec<_>>>()?;
        Ok(Some(validator_set(infos)))
    }

    /// The first ledger height the client syncs: 0 (genesis) from a validator set, the
    /// ledger block certified by the trusted CometBFT height otherwise.
    pub fn first_ledger_height(&self) -> u64 {
        match &self.root {
            TrustRoot::Validators(_) => 0,
            TrustRoot::Height { height, .. } => height.saturating_sub(1),
        }
    }

    /// `chain_id/network`, as error messages name a chain.
    pub fn label(&self) -> String {
        format!("{}/{}", self.chain_id, network_name(self.network))
    }

    /// Checks the shape of the first header the client accepts (its trust comes from
    /// the light block that certifies it): this chain, at [`Self::first_ledger_height`],
    /// and a genesis header (all-zero `prev_hash`) when that is 0.
    pub fn check_first(&self, header: &SignedHeader) -> LightResult<()> {
        self.check_chain(header)?;
        let first = self.first_ledger_height();
        if header.header.height != first {
            return Err(LightError::Tampered(format!(
                "the first header is at height {}, not {first}",
                header.header.height
            )));
        }
        if first == 0 && header.header.prev_hash != [0; 32] {
            return Err(LightError::Tampered(
                "the first header is not a genesis header".into(),
            ));
        }
        Ok(())
    }

    /// Checks that a header is of this chain.
    pub fn check_chain(&self, header: &SignedHeader) -> LightResult<()> {
        if header.header.chain_id != self.chain_id {
            return Err(LightError::Tampered(format!(
                "header {} is for chain {}, not {}",
                header.header.height, header.header.chain_id, self.chain_id
            )));
        }
        Ok(())
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
    use crate::light::headers::test_chain::{TEST_CHAIN, consensus_signer, genesis};
    use crate::light::light_block::ConsensusSigner;

    #[test]
    fn from_hex_parses_validator_keys_heights_and_refuses_garbage() {
        let key = consensus_signer().public_hex();
        let parsed = TrustAnchor::from_hex(TEST_CHAIN, Network::Regtest, &key).unwrap();
        assert_eq!(
            parsed.root,
            TrustRoot::Validators(vec![GenesisValidator {
                key: hex::decode(&key).unwrap().try_into().unwrap(),
                power: DEFAULT_POWER,
            }])
        );
        assert_eq!(parsed.root_text(), key);
        assert_eq!(parsed.label(), "carchain-test/regtest");
        assert_eq!(
            parsed.validator_set().unwrap().unwrap().validators().len(),
            1
        );

        let other = ConsensusSigner::from_seed(&[3; 32]).public_hex();
        let list = format!("{key}:5, {other}");
        let several = TrustAnchor::from_hex(TEST_CHAIN, Network::Regtest, &list).unwrap();
        let set = several.validator_set().unwrap().unwrap();
        assert_eq!(set.total_voting_power().value(), 15);

        let trusted = format!("42:{}", hex::encode([7u8; 32]));
        let at = TrustAnchor::from_hex(TEST_CHAIN, Network::Regtest, &trusted).unwrap();
        assert_eq!(
            at.root,
            TrustRoot::Height {
                height: 42,
                hash: [7; 32]
            }
        );
        assert_eq!(at.first_ledger_height(), 41);
        assert_eq!(at.root_text(), trusted);

        let secp = "02".to_owned() + &"11".repeat(32);
        for bad in ["zz", "0202", "", secp.as_str(), "0:00", "5:abc"] {
            assert!(
                matches!(
                    TrustAnchor::from_hex(TEST_CHAIN, Network::Regtest, bad),
                    Err(LightError::InvalidInput(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_first_header_must_be_this_chains_genesis() {
        let anchor = TrustAnchor::from_hex(
            TEST_CHAIN,
            Network::Regtest,
            &consensus_signer().public_hex(),
        )
        .unwrap();
        let good = genesis();
        assert!(anchor.check_first(&good).is_ok());
        let mut other_chain = anchor.clone();
        other_chain.chain_id = "other".into();
        assert!(matches!(
            other_chain.check_first(&good),
            Err(LightError::Tampered(_))
        ));
        let mut not_genesis = good;
        not_genesis.header.height = 1;
        assert!(matches!(
            anchor.check_first(&not_genesis),
            Err(LightError::Tampered(_))
        ));
    }
}
