//! A car's authorisation of a KV write on its own agent node (private mode): the device
//! key signs a digest of where the value goes and what it hashes to. It never reaches the
//! ledger; only the agent, which already serves that car, sees it.
//!
//! Digest = SHA256(`"carchain/agent-put/v1"` || string(address) || bytes(key) || c_hash),
//! strings and bytes length-prefixed as in [`super::codec`].

use super::codec::Writer;
use super::hashing::sha256;

/// Domain tag of a device's agent-put authorisation digest.
pub const AGENT_PUT_DOMAIN: &[u8] = b"carchain/agent-put/v1";

/// The digest a device signs to authorise a put of a value hashing to `c_hash` under
/// `address` and `key`.
pub fn agent_put_digest(address: &str, key: &[u8], c_hash: &[u8; 32]) -> [u8; 32] {
    let mut w = Writer::new();
    w.raw(AGENT_PUT_DOMAIN);
    w.bytes(address.as_bytes());
    w.bytes(key);
    w.raw(c_hash);
    sha256(&[&w.into_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_binds_address_key_and_hash() {
        let base = agent_put_digest("bcrt1qaddr", b"k", &[1; 32]);
        assert_ne!(base, agent_put_digest("bcrt1qother", b"k", &[1; 32]));
        assert_ne!(base, agent_put_digest("bcrt1qaddr", b"j", &[1; 32]));
        assert_ne!(base, agent_put_digest("bcrt1qaddr", b"k", &[2; 32]));
        // Length prefixes keep "ab" + "c" apart from "a" + "bc".
        assert_ne!(
            agent_put_digest("ab", b"c", &[0; 32]),
            agent_put_digest("a", b"bc", &[0; 32])
        );
    }
}
