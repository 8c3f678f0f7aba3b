//! The Bitcoin-format network an account address belongs to.

use super::codec::{Canonical, Reader, Writer};
use super::error::{ProtocolError, Result};

/// The network type is the wallet's own: one definition for keys, addresses and ledger.
pub use crate::keys::Network;

/// The network's byte in canonical encodings.
fn tag(network: Network) -> u8 {
    match network {
        Network::Mainnet => 0,
        Network::Testnet => 1,
        Network::Regtest => 2,
    }
}

impl Canonical for Network {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(tag(*self));
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self> {
        match r.u8("network")? {
            0 => Ok(Network::Mainnet),
            1 => Ok(Network::Testnet),
            2 => Ok(Network::Regtest),
            tag => Err(ProtocolError::UnknownTag {
                what: "network",
                tag,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_network_round_trips_in_both_forms() {
        for net in [Network::Mainnet, Network::Testnet, Network::Regtest] {
            assert_eq!(Network::from_canonical(&net.to_canonical()), Ok(net));
            let json = serde_json::to_string(&net).unwrap_or_default();
            assert_eq!(serde_json::from_str::<Network>(&json).ok(), Some(net));
        }
        assert_eq!(
            serde_json::to_string(&Network::Regtest).ok().as_deref(),
            Some("\"regtest\"")
        );
    }

    #[test]
    fn unknown_network_byte_is_refused() {
        assert_eq!(
            Network::from_canonical(&[3]),
            Err(ProtocolError::UnknownTag {
                what: "network",
                tag: 3
            })
        );
    }
}
