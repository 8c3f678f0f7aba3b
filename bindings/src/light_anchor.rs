//! The light client's trust anchor across the FFI: a client trusting a genesis validator
//! set (ed25519 keys with voting powers) or a trusted CometBFT height and header hash,
//! its anchor in text form, and the nodes it dropped for serving forged consensus data.
//!
//! `LightClient.new` takes the anchor's text form (`<key hex>[:<power>],...` or
//! `<height>:<hash hex>`, as `carchain-node init` and a network's operator print it);
//! the constructors here build the same anchor from typed parts.

use std::sync::Arc;

use carchain_core::light::{
    GenesisValidator, LightClient as CoreLightClient, TrustAnchor, TrustRoot,
};

use crate::error::CarChainError;
use crate::keys::Network;
use crate::light::LightClient;

/// One validator of a genesis validator set: its ed25519 consensus key and voting power.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AnchorValidator {
    /// The ed25519 public key, 64 hex characters.
    pub key_hex: String,
    /// Its voting power at genesis (at least 1).
    pub power: u64,
}

/// A node the client stopped asking: it served a forged commit, a rewritten header or a
/// header conflicting with the verified chain.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DroppedEndpoint {
    /// The node's base URL.
    pub endpoint: String,
    /// What it served, as the verification error says.
    pub reason: String,
}

fn invalid(detail: &str) -> CarChainError {
    CarChainError::new("light.invalid_input", detail)
}

fn client_of(
    endpoints: Vec<String>,
    anchor: TrustAnchor,
) -> Result<Arc<LightClient>, CarChainError> {
    let client = CoreLightClient::new(endpoints, anchor)?;
    Ok(Arc::new(LightClient { client }))
}

#[uniffi::export]
impl LightClient {
    /// A client of `endpoints` trusting the chain `chain_id` on `network` from its genesis
    /// validator set: CometBFT block 1 must be committed by more than 2/3 of
    /// `validators`' power; later blocks follow the set as it changes.
    #[uniffi::constructor]
    pub fn with_validators(
        endpoints: Vec<String>,
        chain_id: String,
        network: Network,
        validators: Vec<AnchorValidator>,
    ) -> Result<Arc<Self>, CarChainError> {
        if validators.is_empty() {
            return Err(invalid("no validator given"));
        }
        let text = validators
            .iter()
            .map(|v| format!("{}:{}", v.key_hex.trim(), v.power))
            .collect::<Vec<_>>()
            .join(",");
        client_of(
            endpoints,
            TrustAnchor::from_hex(&chain_id, network.into(), &text)?,
        )
    }

    /// A client of `endpoints` trusting the chain `chain_id` on `network` from the
    /// CometBFT header at `height` whose hash is `header_hash_hex` (from a source the app
    /// trusts, e.g. its operator's QR code); sync starts at the ledger block it certifies.
    #[uniffi::constructor]
    pub fn with_trusted_height(
        endpoints: Vec<String>,
        chain_id: String,
        network: Network,
        height: u64,
        header_hash_hex: String,
    ) -> Result<Arc<Self>, CarChainError> {
        let text = format!("{height}:{}", header_hash_hex.trim());
        let anchor = TrustAnchor::from_hex(&chain_id, network.into(), &text)?;
        if !matches!(anchor.root, TrustRoot::Height { .. }) {
            return Err(invalid("not a trusted height and header hash"));
        }
        client_of(endpoints, anchor)
    }

    /// The anchor in its text form (`<key hex>[:<power>],...` or `<height>:<hash hex>`).
    pub fn trust_anchor(&self) -> String {
        self.client.anchor().root_text()
    }

    /// The genesis validators of the anchor (empty for a trusted height).
    pub fn anchor_validators(&self) -> Vec<AnchorValidator> {
        match &self.client.anchor().root {
            TrustRoot::Validators(validators) => validators
                .iter()
                .map(|GenesisValidator { key, power }| AnchorValidator {
                    key_hex: hex::encode(key),
                    power: *power,
                })
                .collect(),
            TrustRoot::Height { .. } => Vec::new(),
        }
    }

    /// The newest CometBFT block this client verified, as the text `<height>:<hash hex>`
    /// that `withTrustedHeight` (or `LightClient(..., text)`) takes: a checkpoint to pin
    /// or share. `null` before the first sync.
    pub fn checkpoint(&self) -> Result<Option<String>, CarChainError> {
        Ok(self
            .client
            .checkpoint()?
            .map(|(height, hash)| format!("{height}:{}", hex::encode(hash))))
    }

    /// The nodes this client dropped for serving forged consensus data.
    pub fn dropped_endpoints(&self) -> Vec<DroppedEndpoint> {
        self.client
            .dropped_endpoints()
            .into_iter()
            .map(|(endpoint, reason)| DroppedEndpoint { endpoint, reason })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = crate::light::tests::GENERATOR_HEX;

    #[test]
    fn validators_and_trusted_heights_build_their_anchors() {
        let endpoints = vec!["http://127.0.0.1:1".to_owned()];
        let set = LightClient::with_validators(
            endpoints.clone(),
            "carchain-dev".into(),
            Network::Regtest,
            vec![AnchorValidator {
                key_hex: KEY.into(),
                power: 7,
            }],
        )
        .unwrap();
        assert_eq!(set.trust_anchor(), format!("{KEY}:7"));
        assert_eq!(
            set.anchor_validators(),
            vec![AnchorValidator {
                key_hex: KEY.into(),
                power: 7
            }]
        );
        assert!(set.dropped_endpoints().is_empty());
        let hash = "ab".repeat(32);
        let at = LightClient::with_trusted_height(
            endpoints.clone(),
            "carchain-dev".into(),
            Network::Regtest,
            12,
            hash.clone(),
        )
        .unwrap();
        assert_eq!(at.trust_anchor(), format!("12:{hash}"));
        assert!(at.anchor_validators().is_empty());
        let text = LightClient::new(
            endpoints,
            "carchain-dev".into(),
            Network::Regtest,
            format!("12:{hash}"),
        )
        .unwrap();
        assert_eq!(text.trust_anchor(), at.trust_anchor());
    }

    #[test]
    fn bad_anchors_are_invalid_input() {
        let endpoints = || vec!["http://127.0.0.1:1".to_owned()];
        let chain = || "carchain-dev".to_owned();
        let bad = [
            LightClient::with_validators(endpoints(), chain(), Network::Regtest, vec![]),
            LightClient::with_validators(
                endpoints(),
                chain(),
                Network::Regtest,
                vec![AnchorValidator {
                    key_hex: KEY.into(),
                    power: 0,
                }],
            ),
            LightClient::with_trusted_height(
                endpoints(),
                chain(),
                Network::Regtest,
                0,
                "ab".repeat(32),
            ),
            LightClient::with_trusted_height(
                endpoints(),
                chain(),
                Network::Regtest,
                3,
                "abcd".into(),
            ),
        ];
        for result in bad {
            let err = result.unwrap_err();
            assert_eq!(err.code(), "light.invalid_input", "{err}");
        }
    }
}
