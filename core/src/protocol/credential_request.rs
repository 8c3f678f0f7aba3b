//! A request for write credentials (`POST /v1/credentials` on a private node): the
//! holder — a paired device with its device key, or the owner of a paired device with
//! the owner key — signs a digest of the node's agent name, the time and the blinded
//! token messages. Issuance is authenticated; the credentials themselves are blind
//! signatures, so spending one names no one.
//!
//! Digest = SHA256(`"carchain/credential-request/v1"` || string(agent) || string(kind)
//! || string(vid) || bytes(owner public key, empty for a device) || u64(time) ||
//! u64(count) || bytes(blinded message)...), strings and bytes length-prefixed as in
//! [`super::codec`].

use super::codec::Writer;
use super::hashing::sha256;

/// Domain tag of a credential request digest.
pub const CREDENTIAL_REQUEST_DOMAIN: &[u8] = b"carchain/credential-request/v1";

/// The digest a holder signs to ask `agent` for credentials on `blinded` messages.
/// `owner_pubkey` is the owner's compressed key for an owner request, empty for a device.
pub fn credential_request_digest(
    agent: &str,
    kind: &str,
    vid: &str,
    owner_pubkey: &[u8],
    time: u64,
    blinded: &[Vec<u8>],
) -> [u8; 32] {
    let mut w = Writer::new();
    w.raw(CREDENTIAL_REQUEST_DOMAIN);
    w.bytes(agent.as_bytes());
    w.bytes(kind.as_bytes());
    w.bytes(vid.as_bytes());
    w.bytes(owner_pubkey);
    w.raw(&time.to_be_bytes());
    w.raw(
        &u64::try_from(blinded.len())
            .unwrap_or(u64::MAX)
            .to_be_bytes(),
    );
    for message in blinded {
        w.bytes(message);
    }
    sha256(&[&w.into_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_binds_every_field() {
        let blinded = vec![vec![1, 2], vec![3]];
        let base = credential_request_digest("agent", "device", "V1", &[], 5, &blinded);
        assert_ne!(
            base,
            credential_request_digest("other", "device", "V1", &[], 5, &blinded)
        );
        assert_ne!(
            base,
            credential_request_digest("agent", "owner", "V1", &[], 5, &blinded)
        );
        assert_ne!(
            base,
            credential_request_digest("agent", "device", "V2", &[], 5, &blinded)
        );
        assert_ne!(
            base,
            credential_request_digest("agent", "device", "V1", &[7], 5, &blinded)
        );
        assert_ne!(
            base,
            credential_request_digest("agent", "device", "V1", &[], 6, &blinded)
        );
        assert_ne!(
            base,
            credential_request_digest("agent", "device", "V1", &[], 5, &[vec![1], vec![2, 3]])
        );
    }
}
