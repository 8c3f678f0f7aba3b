//! Fee stamps: how a record put pays its fee without any account funding its address.
//!
//! The chain's stamp issuer (its RSA key named in genesis) blind-signs stamps (RFC 9474,
//! the read tokens' scheme, [`crate::tokens`]) for an owner who paid for them with one
//! Transfer to the stamp escrow address. A stamp is a token whose message commits to a
//! one-time secp256k1 key: message = SHA-256(`"carchain/fee-stamp-key/v1"` || stamp
//! public key, 33 bytes). The issuer never sees the message, so no stamp can be tied to
//! the payment that bought it.
//!
//! A record put carries [`FeeStamp`]: the token, the stamp's public key, and the stamp
//! key's signature over [`binding_digest`] (chain id, the put's signer key, the record
//! key). The state machine checks the token under the genesis key, the message against
//! the stamp key and the binding against the put; it keeps the token id in the spent
//! set of the state tree ([`super::state_key::spent_stamp`]) and pays the put's fee out
//! of the escrow account. A stamp copied from a put in transit is bound to that put's
//! signer and record key: it pays for nothing else.
//!
//! The escrow address ([`stamp_escrow_address`]) is a P2WPKH address whose witness
//! program is a hash, not the hash of a public key: nobody can sign for it, so only the
//! fee rule moves its balance.

use bitcoin::secp256k1::PublicKey;
use bitcoin::secp256k1::ecdsa::Signature;
use serde::{Deserialize, Serialize};

use super::codec::{Writer, canonical_struct};
use super::hashing::sha256;
use super::network::Network;
use super::serde_hex;
use super::signing::verify_digest;
use crate::tokens::{IssuerPublicKey, Token, TokenError};

/// Domain of a stamp's token message (the commitment to its one-time key).
pub const STAMP_MESSAGE_DOMAIN: &[u8] = b"carchain/fee-stamp-key/v1";
/// Domain of the digest a stamp key signs to bind the stamp to one record put.
pub const STAMP_BINDING_DOMAIN: &[u8] = b"carchain/fee-stamp-binding/v1";
/// Domain of the escrow address's witness program.
pub const STAMP_ESCROW_DOMAIN: &[u8] = b"carchain/fee-stamp-escrow/v1";

/// The stamp a record put pays its fee with.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeStamp {
    /// The token's canonical bytes ([`Token::to_bytes`]).
    #[serde(with = "serde_hex::bytes")]
    pub token: Vec<u8>,
    /// The stamp's one-time public key (the token message commits to it).
    #[serde(with = "serde_hex::pubkey")]
    pub stamp_key: PublicKey,
    /// The stamp key's signature over [`binding_digest`] of the put.
    #[serde(with = "serde_hex::signature")]
    pub binding: Signature,
}
canonical_struct!(FeeStamp {
    token,
    stamp_key,
    binding
});

impl std::fmt::Debug for FeeStamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeeStamp").finish_non_exhaustive()
    }
}

/// Why a stamp does not pay (each maps to the node's `stamp_invalid`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StampFault {
    /// The token bytes do not decode, or its signature is not the issuer's.
    #[error("the stamp's token: {0}")]
    Token(#[from] TokenError),
    /// The token's message is not the commitment to the stamp key.
    #[error("the stamp's token does not commit to its stamp key")]
    WrongMessage,
    /// The stamp key did not sign this put (a stamp copied from another put).
    #[error("the stamp is bound to another put")]
    WrongBinding,
}

crate::error_code::error_codes!(StampFault {
    Token => inner,
    WrongMessage => "stamp.wrong_message",
    WrongBinding => "stamp.wrong_binding",
});

/// The token message of a stamp whose one-time key is `stamp_key`.
pub fn stamp_message(stamp_key: &PublicKey) -> [u8; 32] {
    sha256(&[STAMP_MESSAGE_DOMAIN, &stamp_key.serialize()])
}

/// SHA-256(domain || string(chain_id) || signer (33) || bytes(record key)): what a stamp
/// key signs so that its stamp pays for this record put only.
pub fn binding_digest(chain_id: &str, signer: &PublicKey, record_key: &[u8]) -> [u8; 32] {
    let mut w = Writer::new();
    w.raw(STAMP_BINDING_DOMAIN);
    w.bytes(chain_id.as_bytes());
    w.raw(&signer.serialize());
    w.bytes(record_key);
    sha256(&[&w.into_bytes()])
}

/// The escrow account stamp payments go to and stamped puts' fees come from: the P2WPKH
/// address whose witness program is the first 20 bytes of SHA-256(domain || issuer key
/// id). No key hashes to it (finding one means inverting HASH160), so nobody signs for it.
pub fn stamp_escrow_address(key_id: &[u8; 32], network: Network) -> String {
    let digest = sha256(&[STAMP_ESCROW_DOMAIN, key_id]);
    let mut program = [0u8; 20];
    program.copy_from_slice(&digest[..20]);
    match bitcoin::WitnessProgram::new(bitcoin::WitnessVersion::V0, &program) {
        Ok(program) => {
            bitcoin::Address::from_witness_program(program, network.to_bitcoin()).to_string()
        }
        // A 20-byte version-0 program is always valid.
        Err(_) => String::new(),
    }
}

impl FeeStamp {
    /// Checks the stamp for a put signed by `signer` under `record_key` on `chain_id`:
    /// the token is the issuer's, it commits to the stamp key, and the stamp key bound
    /// it to this put. Returns the token, whose [`Token::token_id`] is the spent-set id.
    pub fn verify(
        &self,
        issuer: &IssuerPublicKey,
        chain_id: &str,
        signer: &PublicKey,
        record_key: &[u8],
    ) -> Result<Token, StampFault> {
        let token = Token::from_bytes(&self.token)?;
        issuer.verify(&token)?;
        if token.message != stamp_message(&self.stamp_key) {
            return Err(StampFault::WrongMessage);
        }
        verify_digest(
            &self.stamp_key,
            &binding_digest(chain_id, signer, record_key),
            &self.binding,
            "fee stamp binding",
        )
        .map_err(|_| StampFault::WrongBinding)?;
        Ok(token)
    }

    /// The spent-set id of this stamp, when its token decodes.
    pub fn stamp_id(&self) -> Result<[u8; 32], StampFault> {
        Ok(Token::from_bytes(&self.token)?.token_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_escrow_address_is_a_valid_account_address_per_key() {
        let a = stamp_escrow_address(&[1; 32], Network::Regtest);
        let b = stamp_escrow_address(&[2; 32], Network::Regtest);
        assert_ne!(a, b);
        assert!(a.starts_with("bcrt1q"));
        assert_eq!(
            super::super::check_account_address(&a, Network::Regtest, "escrow"),
            Ok(())
        );
    }

    #[test]
    fn the_binding_names_chain_signer_and_key() {
        let one = crate::protocol::signing::public_key_of(
            &crate::protocol::signing::secret_key_from_bytes(&[1; 32])
                .unwrap_or_else(|e| panic!("{e}")),
        );
        let two = crate::protocol::signing::public_key_of(
            &crate::protocol::signing::secret_key_from_bytes(&[2; 32])
                .unwrap_or_else(|e| panic!("{e}")),
        );
        let base = binding_digest("c", &one, b"k");
        assert_ne!(base, binding_digest("d", &one, b"k"));
        assert_ne!(base, binding_digest("c", &two, b"k"));
        assert_ne!(base, binding_digest("c", &one, b"j"));
        assert_ne!(stamp_message(&one), stamp_message(&two));
    }
}
