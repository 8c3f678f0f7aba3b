//! secp256k1 ECDSA signatures: low-S, 64-byte compact form, over 32-byte digests and over
//! CarChain's domain-separated message digest.

use core::fmt;

use bitcoin::CompressedPublicKey;
use bitcoin::secp256k1::{Message, SecretKey, ecdsa::Signature};
use sha2::{Digest, Sha256};

use super::ecc::secp;

/// Prefix that separates CarChain message signatures from every other use of the key.
pub const MESSAGE_PREFIX: &[u8] = b"CarChain Signed Message:\n";

/// Length of a compact signature (r || s).
pub const COMPACT_SIGNATURE_LEN: usize = 64;

/// A 64-byte compact ECDSA signature (r || s, big-endian), always low-S when produced here.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CompactSignature(pub [u8; COMPACT_SIGNATURE_LEN]);

impl CompactSignature {
    /// The 64 signature bytes.
    pub fn to_bytes(&self) -> [u8; COMPACT_SIGNATURE_LEN] {
        self.0
    }

    /// Hex form, for JSON and logs (signatures are public).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for CompactSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CompactSignature({})", self.to_hex())
    }
}

/// A secp256k1 private key able to sign. Secret: redacted `Debug`, erased on drop.
#[derive(Clone)]
pub struct SigningKey {
    secret: SecretKey,
    public: CompressedPublicKey,
}

impl SigningKey {
    /// Wraps a secp256k1 secret key.
    pub fn from_secret_key(secret: SecretKey) -> Self {
        let public = CompressedPublicKey(secret.public_key(secp()));
        SigningKey { secret, public }
    }

    /// The compressed public key.
    pub fn public_key(&self) -> CompressedPublicKey {
        self.public
    }

    /// The raw secret key, for code that must hand it to another secp256k1 API.
    pub fn secret_key(&self) -> &SecretKey {
        &self.secret
    }

    /// Signs a 32-byte digest (RFC 6979 deterministic nonce, low-S).
    pub fn sign_digest(&self, digest: [u8; 32]) -> CompactSignature {
        let signature = secp().sign_ecdsa(&Message::from_digest(digest), &self.secret);
        CompactSignature(signature.serialize_compact())
    }

    /// Signs a message under the CarChain domain prefix (see [`message_digest`]).
    pub fn sign_message(&self, message: &[u8]) -> CompactSignature {
        self.sign_digest(message_digest(message))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &hex::encode(self.public.to_bytes()))
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.secret.non_secure_erase();
    }
}

/// Verifies a compact signature over a digest. High-S signatures are rejected (they are
/// malleated copies of a valid signature).
pub fn verify_digest(
    public_key: &CompressedPublicKey,
    digest: &[u8; 32],
    signature: &CompactSignature,
) -> bool {
    let Ok(signature) = Signature::from_compact(&signature.0) else {
        return false;
    };
    secp()
        .verify_ecdsa(&Message::from_digest(*digest), &signature, &public_key.0)
        .is_ok()
}

/// SHA256d(prefix || CompactSize(len) || message): the digest CarChain message signatures
/// cover.
pub fn message_digest(message: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(MESSAGE_PREFIX);
    hasher.update(compact_size(message.len() as u64));
    hasher.update(message);
    let once = hasher.finalize();
    Sha256::digest(once).into()
}

/// Verifies a signature made by [`SigningKey::sign_message`].
pub fn verify_message(
    public_key: &CompressedPublicKey,
    message: &[u8],
    signature: &CompactSignature,
) -> bool {
    verify_digest(public_key, &message_digest(message), signature)
}

/// Bitcoin's CompactSize length prefix.
fn compact_size(len: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(9);
    match len {
        0..=0xfc => out.push(len as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(len as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xfe);
            out.extend_from_slice(&(len as u32).to_le_bytes());
        }
        _ => {
            out.push(0xff);
            out.extend_from_slice(&len.to_le_bytes());
        }
    }
    out
}

/// `Debug` of a type holding an account's keys: its name, its address, and its keys
/// redacted (the keys themselves are a [`SigningKey`], erased on drop).
pub fn fmt_account_holder(
    f: &mut std::fmt::Formatter<'_>,
    name: &str,
    address: &str,
) -> std::fmt::Result {
    f.debug_struct(name)
        .field("address", &address)
        .field("keys", &"<redacted>")
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// secp256k1 group order n, big-endian.
    const ORDER: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36,
        0x41, 0x41,
    ];

    fn key(byte: u8) -> SigningKey {
        SigningKey::from_secret_key(SecretKey::from_slice(&[byte; 32]).unwrap())
    }

    /// n - s, big-endian subtraction.
    fn negate_s(s: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let mut diff = i16::from(ORDER[i]) - i16::from(s[i]) - borrow;
            borrow = 0;
            if diff < 0 {
                diff += 256;
                borrow = 1;
            }
            out[i] = diff as u8;
        }
        out
    }

    #[test]
    fn compact_size_encoding() {
        assert_eq!(compact_size(0), vec![0]);
        assert_eq!(compact_size(0xfc), vec![0xfc]);
        assert_eq!(compact_size(0xfd), vec![0xfd, 0xfd, 0x00]);
        assert_eq!(compact_size(0x1_0000), vec![0xfe, 0x00, 0x00, 0x01, 0x00]);
        assert_eq!(compact_size(1 << 32), vec![0xff, 0, 0, 0, 0, 1, 0, 0, 0]);
    }

    #[test]
    fn message_digest_is_domain_separated_sha256d() {
        let msg = b"pair LBVNU79049SB81546";
        let mut preimage = MESSAGE_PREFIX.to_vec();
        preimage.push(msg.len() as u8);
        preimage.extend_from_slice(msg);
        let expected: [u8; 32] = Sha256::digest(Sha256::digest(&preimage)).into();
        assert_eq!(message_digest(msg), expected);
        assert_ne!(
            message_digest(msg),
            message_digest(b"pair LBVNU79049SB81547")
        );
    }

    #[test]
    fn sign_and_verify_digest() {
        let signer = key(1);
        let digest = [0x42u8; 32];
        let signature = signer.sign_digest(digest);
        assert!(verify_digest(&signer.public_key(), &digest, &signature));
        assert!(!verify_digest(
            &signer.public_key(),
            &[0x43u8; 32],
            &signature
        ));
        assert!(!verify_digest(&key(2).public_key(), &digest, &signature));
        // RFC 6979: signing twice gives the same bytes.
        assert_eq!(signature, signer.sign_digest(digest));
    }

    #[test]
    fn signatures_are_low_s_and_high_s_is_rejected() {
        let signer = key(3);
        for byte in 0..8u8 {
            let digest = [byte; 32];
            let signature = signer.sign_digest(digest);
            assert!(signature.0[32] < 0x80, "s must be in the lower half");
            let mut malleated = signature.0;
            let high = negate_s(&signature.0[32..]);
            malleated[32..].copy_from_slice(&high);
            assert!(!verify_digest(
                &signer.public_key(),
                &digest,
                &CompactSignature(malleated)
            ));
        }
    }

    #[test]
    fn message_signatures_round_trip_and_bind_message() {
        let signer = key(5);
        let signature = signer.sign_message(b"grant trip 2016-05-11 to insurer");
        assert!(verify_message(
            &signer.public_key(),
            b"grant trip 2016-05-11 to insurer",
            &signature
        ));
        assert!(!verify_message(
            &signer.public_key(),
            b"grant trip 2016-05-12 to insurer",
            &signature
        ));
        // A message signature is not a signature over the raw SHA-256 of the message.
        let raw: [u8; 32] = Sha256::digest(b"grant trip 2016-05-11 to insurer").into();
        assert!(!verify_digest(&signer.public_key(), &raw, &signature));
    }

    #[test]
    fn malformed_signature_bytes_do_not_verify() {
        let signer = key(6);
        assert!(!verify_digest(
            &signer.public_key(),
            &[1u8; 32],
            &CompactSignature([0xff; 64])
        ));
        assert!(!verify_digest(
            &signer.public_key(),
            &[1u8; 32],
            &CompactSignature([0; 64])
        ));
    }

    #[test]
    fn debug_hides_secret() {
        let signer = key(0x11);
        let shown = format!("{signer:?}");
        assert!(shown.contains("[REDACTED]"));
        assert!(!shown.contains(&"11".repeat(32)));
    }

    proptest::proptest! {
        #[test]
        fn any_message_signature_verifies_only_for_its_message(
            secret in proptest::array::uniform32(1u8..=0x7f),
            message in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
        ) {
            let signer = SigningKey::from_secret_key(SecretKey::from_slice(&secret).unwrap());
            let signature = signer.sign_message(&message);
            proptest::prop_assert!(signature.0[32] < 0x80);
            proptest::prop_assert!(verify_message(&signer.public_key(), &message, &signature));
            let mut altered = message.clone();
            altered.push(0);
            proptest::prop_assert!(!verify_message(&signer.public_key(), &altered, &signature));
        }
    }
}
