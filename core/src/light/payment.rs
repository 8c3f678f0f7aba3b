//! Read payments on shared nodes: a payer key buys read tickets (a Transfer to the node's
//! operator) and the client sends the ticket's transaction id with every paid read.
//!
//! The fee schedule is not in the node's status: a ticket buys `traversals` tokens worth,
//! i.e. `traversals` reads at the default `read_per_address` of 1, and the transfer pays
//! the default base fee [`TICKET_TX_FEE`].

use std::collections::HashMap;
use std::fmt;

use bitcoin::secp256k1::SecretKey;

/// Fee of a ticket purchase: the default schedule's base fee.
pub const TICKET_TX_FEE: u64 = crate::protocol::FeeSchedule::DEFAULT.base_fee;

/// The key that pays for reads and how many traversals each ticket buys.
#[derive(Clone)]
pub struct ReadPayer {
    /// The paying account's key.
    pub secret: SecretKey,
    /// Traversals (reads) per ticket.
    pub traversals: u64,
}

impl fmt::Debug for ReadPayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadPayer")
            .field("secret", &"<redacted>")
            .field("traversals", &self.traversals)
            .finish()
    }
}

impl Drop for ReadPayer {
    fn drop(&mut self) {
        self.secret.non_secure_erase();
    }
}

/// The current ticket of each endpoint, by endpoint label.
#[derive(Debug, Default)]
pub struct Tickets {
    by_endpoint: HashMap<String, [u8; 32]>,
}

impl Tickets {
    /// The ticket in use at `endpoint`.
    pub fn get(&self, endpoint: &str) -> Option<[u8; 32]> {
        self.by_endpoint.get(endpoint).copied()
    }

    /// Replaces the ticket of `endpoint`.
    pub fn set(&mut self, endpoint: &str, ticket: [u8; 32]) {
        self.by_endpoint.insert(endpoint.to_owned(), ticket);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payer_key_never_shows_in_debug() {
        let secret = SecretKey::from_slice(&[0x42; 32]).unwrap();
        let payer = ReadPayer {
            secret,
            traversals: 50,
        };
        let shown = format!("{payer:?}");
        assert!(shown.contains("<redacted>"));
        assert!(!shown.contains(&hex::encode([0x42; 32])));
        assert!(!shown.contains("4242"));
    }

    #[test]
    fn tickets_are_kept_per_endpoint() {
        let mut tickets = Tickets::default();
        assert_eq!(tickets.get("http://a"), None);
        tickets.set("http://a", [1; 32]);
        tickets.set("http://b", [2; 32]);
        tickets.set("http://a", [3; 32]);
        assert_eq!(tickets.get("http://a"), Some([3; 32]));
        assert_eq!(tickets.get("http://b"), Some([2; 32]));
    }
}
