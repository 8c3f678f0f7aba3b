//! The Bitcoin network CarChain addresses are formatted for, and its BIP84 coin type.

use core::fmt;
use core::str::FromStr;

use bitcoin::{KnownHrp, NetworkKind};

use super::error::KeyError;

/// Network of the owner's and the devices' addresses.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// Bitcoin mainnet (`bc1...`).
    Mainnet,
    /// Bitcoin testnet (`tb1...`).
    Testnet,
    /// Local regression-test network (`bcrt1...`), the default for development.
    #[default]
    Regtest,
}

impl Network {
    /// All networks, in a fixed order.
    pub const ALL: [Network; 3] = [Network::Mainnet, Network::Testnet, Network::Regtest];

    /// The `bitcoin` crate's network.
    pub fn to_bitcoin(self) -> bitcoin::Network {
        match self {
            Network::Mainnet => bitcoin::Network::Bitcoin,
            Network::Testnet => bitcoin::Network::Testnet,
            Network::Regtest => bitcoin::Network::Regtest,
        }
    }

    /// Main or test kind, used by extended keys (xpub/tpub).
    pub fn kind(self) -> NetworkKind {
        match self {
            Network::Mainnet => NetworkKind::Main,
            Network::Testnet | Network::Regtest => NetworkKind::Test,
        }
    }

    /// Human-readable part of this network's bech32 addresses.
    pub fn hrp(self) -> KnownHrp {
        KnownHrp::from(self.to_bitcoin())
    }

    /// BIP44/BIP84 coin type: 0 on mainnet, 1 on every test network.
    pub fn coin_type(self) -> u32 {
        match self {
            Network::Mainnet => 0,
            Network::Testnet | Network::Regtest => 1,
        }
    }

    /// Lower-case name, as accepted by [`FromStr`].
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Mainnet => "mainnet",
            Network::Testnet => "testnet",
            Network::Regtest => "regtest",
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Network {
    type Err = KeyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "mainnet" => Ok(Network::Mainnet),
            "testnet" => Ok(Network::Testnet),
            "regtest" => Ok(Network::Regtest),
            _ => Err(KeyError::UnknownNetwork {
                name: text.to_owned(),
            }),
        }
    }
}

impl From<Network> for bitcoin::Network {
    fn from(network: Network) -> Self {
        network.to_bitcoin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for network in Network::ALL {
            assert_eq!(network.to_string().parse::<Network>().unwrap(), network);
        }
        assert_eq!(" MainNet ".parse::<Network>().unwrap(), Network::Mainnet);
    }

    #[test]
    fn unknown_name_is_a_typed_error() {
        let err = "signet".parse::<Network>().unwrap_err();
        assert!(matches!(err, KeyError::UnknownNetwork { ref name } if name == "signet"));
    }

    #[test]
    fn coin_types_and_bitcoin_mapping() {
        assert_eq!(Network::Mainnet.coin_type(), 0);
        assert_eq!(Network::Testnet.coin_type(), 1);
        assert_eq!(Network::Regtest.coin_type(), 1);
        assert_eq!(Network::Mainnet.to_bitcoin(), bitcoin::Network::Bitcoin);
        assert_eq!(Network::Testnet.to_bitcoin(), bitcoin::Network::Testnet);
        assert_eq!(Network::Regtest.to_bitcoin(), bitcoin::Network::Regtest);
        assert_eq!(Network::Mainnet.kind(), NetworkKind::Main);
        assert_eq!(Network::Regtest.kind(), NetworkKind::Test);
    }
}
