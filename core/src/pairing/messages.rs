//! The two pairing messages exchanged through the mailbox, as JSON:
//! - SEQ 1, wallet -> car, sealed to the device key: [`PairingOffer`] (everything the car
//!   needs to write for its owner: owner address and RSA key, its pool branch key, pool
//!   seed, agent node).
//! - SEQ 2, car -> wallet, sealed to the offer's `owner_pubkey`: [`PairingAccept`] (the
//!   device's signature over `protocol::pairing_digest`).
//!
//! Also the pool commitment the ledger stores in place of the pool:
//! SHA256(`"carchain/pool-commitment/v1"` || pool_seed || branch xpub, 78-byte BIP32
//! encoding).

use std::fmt;
use std::str::FromStr;

use bitcoin::bip32::{Xpriv, Xpub};
use bitcoin::secp256k1::ecdsa::Signature;
use bitcoin::secp256k1::{PublicKey, Secp256k1};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use super::error::PairingMessageError;
use super::payload::canonical_code;
use crate::pool::{MAX_POOL_SIZE, POOL_SEED_LEN, PoolSeed};
use crate::tokens::OwnedStamp;

/// Domain tag of the pool commitment.
pub const POOL_COMMITMENT_DOMAIN: &[u8] = b"carchain/pool-commitment/v1";

/// Commits to a pool (its seed and branch public key) without revealing it.
pub fn pool_commitment(pool_seed: &PoolSeed, branch_xpub: &Xpub) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(POOL_COMMITMENT_DOMAIN);
    hasher.update(pool_seed.as_bytes());
    hasher.update(branch_xpub.encode());
    hasher.finalize().into()
}

/// The wallet's offer to a car (SEQ 1). Secret: holds the pairing code, the pool branch
/// private key and the pool seed; `Debug` redacts them and they are erased on drop.
#[derive(Clone)]
pub struct PairingOffer {
    /// The pairing code the car showed (canonical form); the car checks it is its own.
    pub code: String,
    /// The owner's identity address (P2WPKH).
    pub owner_address: String,
    /// The owner's RSA public key, PKCS#1 DER: the car wraps epoch keys for it.
    pub owner_rsa_public_der: Vec<u8>,
    /// The pool branch private key (m/84'/coin'/account'/generation): the car signs each
    /// put with its pool address's key.
    pub pool_branch_xpriv: Xpriv,
    /// The pool generation (setDup).
    pub generation: u32,
    /// Number of addresses in the pool.
    pub pool_size: u32,
    /// The pool seed that picks each day's address.
    pub pool_seed: PoolSeed,
    /// The agent node the car should talk to (base URL or name).
    pub agent: String,
    /// The owner's identity public key: the accept is sealed to it.
    pub owner_pubkey: PublicKey,
    /// Fee stamps for the car (JSON `fee_stamps`, absent when none): given when the
    /// chain's phase-1 reserve no longer pays puts, so the car's accept and its first
    /// records pay with them. Secret; Debug shows only their number.
    pub fee_stamps: Vec<OwnedStamp>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OfferWire {
    code: String,
    owner_address: String,
    owner_rsa_public_der: String,
    pool_branch_xpriv: String,
    generation: u32,
    pool_size: u32,
    pool_seed: String,
    agent: String,
    owner_pubkey: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    fee_stamps: Vec<String>,
}

impl Drop for OfferWire {
    fn drop(&mut self) {
        self.code.zeroize();
        self.pool_branch_xpriv.zeroize();
        self.pool_seed.zeroize();
        self.fee_stamps.iter_mut().for_each(|s| s.zeroize());
    }
}

impl PairingOffer {
    /// The branch public key (what the pool commitment binds).
    pub fn branch_xpub(&self) -> Xpub {
        Xpub::from_priv(&Secp256k1::new(), &self.pool_branch_xpriv)
    }

    /// This offer's pool commitment.
    pub fn pool_commitment(&self) -> [u8; 32] {
        pool_commitment(&self.pool_seed, &self.branch_xpub())
    }

    /// Checks the fields a car relies on: code form, pool size, RSA key present.
    pub fn validate(&self) -> Result<(), PairingMessageError> {
        canonical_code(&self.code).map_err(|_| invalid("code", "not a pairing code"))?;
        if self.pool_size == 0 || self.pool_size as usize > MAX_POOL_SIZE {
            return Err(invalid(
                "pool_size",
                &format!("must be 1..={MAX_POOL_SIZE}, got {}", self.pool_size),
            ));
        }
        if self.owner_rsa_public_der.is_empty() {
            return Err(invalid("owner_rsa_public_der", "empty"));
        }
        if self.owner_address.is_empty() {
            return Err(invalid("owner_address", "empty"));
        }
        Ok(())
    }

    /// The JSON bytes (to seal with `mailbox::seal_to`).
    pub fn to_json(&self) -> Result<Zeroizing<Vec<u8>>, PairingMessageError> {
        let wire = OfferWire {
            code: self.code.clone(),
            owner_address: self.owner_address.clone(),
            owner_rsa_public_der: hex::encode(&self.owner_rsa_public_der),
            pool_branch_xpriv: self.pool_branch_xpriv.to_string(),
            generation: self.generation,
            pool_size: self.pool_size,
            pool_seed: hex::encode(self.pool_seed.as_bytes()),
            agent: self.agent.clone(),
            owner_pubkey: hex::encode(self.owner_pubkey.serialize()),
            fee_stamps: self
                .fee_stamps
                .iter()
                .map(|stamp| hex::encode(stamp.to_bytes().as_slice()))
                .collect(),
        };
        serde_json::to_vec(&wire)
            .map(Zeroizing::new)
            .map_err(|e| malformed(&e.to_string()))
    }

    /// Reads and validates an offer from its JSON bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Self, PairingMessageError> {
        // serde_json errors name positions and expected types, never the values.
        let wire: OfferWire =
            serde_json::from_slice(bytes).map_err(|e| malformed(&e.to_string()))?;
        let owner_rsa_public_der = hex::decode(&wire.owner_rsa_public_der)
            .map_err(|_| invalid("owner_rsa_public_der", "not hex"))?;
        let pool_branch_xpriv = Xpriv::from_str(&wire.pool_branch_xpriv)
            .map_err(|_| invalid("pool_branch_xpriv", "not a BIP32 extended private key"))?;
        let mut seed_bytes = Zeroizing::new([0u8; POOL_SEED_LEN]);
        hex::decode_to_slice(&wire.pool_seed, seed_bytes.as_mut_slice())
            .map_err(|_| invalid("pool_seed", "not 32 bytes of hex"))?;
        let owner_pubkey = hex::decode(&wire.owner_pubkey)
            .ok()
            .filter(|b| b.len() == 33)
            .and_then(|b| PublicKey::from_slice(&b).ok())
            .ok_or_else(|| invalid("owner_pubkey", "not a compressed secp256k1 key"))?;
        let fee_stamps = wire
            .fee_stamps
            .iter()
            .map(|text| {
                let bytes = Zeroizing::new(
                    hex::decode(text).map_err(|_| invalid("fee_stamps", "not hex"))?,
                );
                OwnedStamp::from_bytes(&bytes).map_err(|_| invalid("fee_stamps", "not a stamp"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let offer = Self {
            fee_stamps,
            code: canonical_code(&wire.code).map_err(|_| invalid("code", "not a pairing code"))?,
            owner_address: wire.owner_address.clone(),
            owner_rsa_public_der,
            pool_branch_xpriv,
            generation: wire.generation,
            pool_size: wire.pool_size,
            pool_seed: PoolSeed::from_bytes(*seed_bytes),
            agent: wire.agent.clone(),
            owner_pubkey,
        };
        offer.validate()?;
        Ok(offer)
    }
}

impl Drop for PairingOffer {
    fn drop(&mut self) {
        self.code.zeroize();
        self.pool_branch_xpriv.private_key.non_secure_erase();
        self.pool_branch_xpriv.chain_code = bitcoin::bip32::ChainCode::from([0u8; 32]);
    }
}

impl fmt::Debug for PairingOffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PairingOffer")
            .field("code", &"[REDACTED]")
            .field("owner_address", &self.owner_address)
            .field("owner_rsa_public_der_len", &self.owner_rsa_public_der.len())
            .field("pool_branch_xpriv", &"[REDACTED]")
            .field("generation", &self.generation)
            .field("pool_size", &self.pool_size)
            .field("pool_seed", &self.pool_seed)
            .field("agent", &self.agent)
            .field("owner_pubkey", &hex::encode(self.owner_pubkey.serialize()))
            .field("fee_stamps", &self.fee_stamps.len())
            .finish()
    }
}

/// The car's acceptance (SEQ 2): its signature over the pairing digest, which the wallet
/// puts into the `DeviceSetup` transaction. Holds nothing secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairingAccept {
    /// The car's VID.
    pub vid: String,
    /// The device key's signature over `protocol::pairing_digest(vid, owner_address,
    /// pool_commitment)`.
    pub device_signature: Signature,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptWire {
    vid: String,
    device_signature: String,
}

impl PairingAccept {
    /// The JSON bytes (to seal with `mailbox::seal_to`).
    pub fn to_json(&self) -> Result<Vec<u8>, PairingMessageError> {
        serde_json::to_vec(&AcceptWire {
            vid: self.vid.clone(),
            device_signature: hex::encode(self.device_signature.serialize_compact()),
        })
        .map_err(|e| malformed(&e.to_string()))
    }

    /// Reads an accept from its JSON bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Self, PairingMessageError> {
        let wire: AcceptWire =
            serde_json::from_slice(bytes).map_err(|e| malformed(&e.to_string()))?;
        let device_signature = hex::decode(&wire.device_signature)
            .ok()
            .and_then(|b| Signature::from_compact(&b).ok())
            .ok_or_else(|| invalid("device_signature", "not a 64-byte compact signature"))?;
        if wire.vid.is_empty() {
            return Err(invalid("vid", "empty"));
        }
        Ok(Self {
            vid: wire.vid,
            device_signature,
        })
    }
}

fn malformed(reason: &str) -> PairingMessageError {
    PairingMessageError::Malformed {
        reason: reason.to_owned(),
    }
}

fn invalid(field: &'static str, reason: &str) -> PairingMessageError {
    PairingMessageError::InvalidField {
        field,
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::NetworkKind;
    use bitcoin::secp256k1::SecretKey;

    fn offer() -> PairingOffer {
        let xpriv = Xpriv::new_master(NetworkKind::Test, &[9u8; 32]).unwrap();
        PairingOffer {
            code: "7K3MQ9XZ".into(),
            owner_address: "bcrt1qowner".into(),
            owner_rsa_public_der: vec![0x30, 0x82, 1, 2],
            pool_branch_xpriv: xpriv,
            generation: 0,
            pool_size: 32,
            pool_seed: PoolSeed::from_bytes([0x5a; 32]),
            agent: "http://127.0.0.1:1".into(),
            owner_pubkey: SecretKey::from_slice(&[1; 32])
                .unwrap()
                .public_key(&Secp256k1::new()),
            fee_stamps: Vec::new(),
        }
    }

    #[test]
    fn fee_stamps_travel_in_the_offer_and_bad_ones_are_refused() {
        use crate::tokens::{IssuerKeyPair, prepare_stamps};
        let issuer = IssuerKeyPair::generate().unwrap();
        let pending = prepare_stamps(issuer.public(), 2).unwrap();
        let stamps: Vec<OwnedStamp> = pending
            .iter()
            .map(|p| {
                let blind = issuer.blind_sign(p.blinded_message()).unwrap();
                p.finalize(issuer.public(), &blind).unwrap()
            })
            .collect();
        let mut with_stamps = offer();
        with_stamps.fee_stamps = stamps.clone();
        let json = with_stamps.to_json().unwrap();
        let back = PairingOffer::from_json(&json).unwrap();
        assert_eq!(back.fee_stamps, stamps);
        assert!(!format!("{back:?}").contains(&hex::encode(&stamps[0].to_bytes()[1..33])));
        // An offer without stamps has no `fee_stamps` field (older cars read it).
        let plain: serde_json::Value = serde_json::from_slice(&offer().to_json().unwrap()).unwrap();
        assert!(plain.get("fee_stamps").is_none());
        let bad = offer_json_with("fee_stamps", serde_json::json!(["00ff"]));
        assert!(PairingOffer::from_json(&bad).is_err());
    }

    fn offer_json_with(field: &str, value: serde_json::Value) -> Vec<u8> {
        let mut json: serde_json::Value =
            serde_json::from_slice(&offer().to_json().unwrap()).unwrap();
        json[field] = value;
        serde_json::to_vec(&json).unwrap()
    }

    #[test]
    fn offer_round_trip() {
        let original = offer();
        let back = PairingOffer::from_json(&original.to_json().unwrap()).unwrap();
        assert_eq!(back.code, original.code);
        assert_eq!(back.owner_address, original.owner_address);
        assert_eq!(back.owner_rsa_public_der, original.owner_rsa_public_der);
        assert_eq!(back.pool_branch_xpriv, original.pool_branch_xpriv);
        assert_eq!(back.pool_seed, original.pool_seed);
        assert_eq!(back.pool_size, 32);
        assert_eq!(back.agent, original.agent);
        assert_eq!(back.owner_pubkey, original.owner_pubkey);
        assert_eq!(back.pool_commitment(), original.pool_commitment());
    }

    #[test]
    fn offer_bad_fields_are_refused() {
        let cases = [
            ("pool_size", serde_json::json!(0)),
            ("pool_size", serde_json::json!(MAX_POOL_SIZE + 1)),
            ("pool_seed", serde_json::json!("00")),
            ("pool_branch_xpriv", serde_json::json!("xprv-nope")),
            ("owner_pubkey", serde_json::json!("02ff")),
            ("code", serde_json::json!("short")),
            ("owner_rsa_public_der", serde_json::json!("")),
        ];
        for (field, value) in cases {
            let result = PairingOffer::from_json(&offer_json_with(field, value));
            assert!(
                matches!(result, Err(PairingMessageError::InvalidField { field: f, .. }) if f == field),
                "{field}: {result:?}"
            );
        }
        assert!(matches!(
            PairingOffer::from_json(b"{}"),
            Err(PairingMessageError::Malformed { .. })
        ));
        assert!(matches!(
            PairingOffer::from_json(&offer_json_with("extra", serde_json::json!(1))),
            Err(PairingMessageError::Malformed { .. })
        ));
    }

    #[test]
    fn offer_debug_and_errors_hide_secrets() {
        let o = offer();
        let shown = format!("{o:?}");
        assert!(!shown.contains("7K3MQ9XZ"));
        assert!(!shown.contains(&o.pool_branch_xpriv.to_string()));
        assert!(!shown.contains(&"5a".repeat(32)));
        let err = PairingOffer::from_json(&offer_json_with("pool_size", serde_json::json!(0)))
            .unwrap_err()
            .to_string();
        assert!(
            !err.contains(&"5a".repeat(32)) && !err.contains("7K3MQ9XZ"),
            "{err}"
        );
    }

    #[test]
    fn accept_round_trip_and_bad_signature() {
        let device = SecretKey::from_slice(&[2; 32]).unwrap();
        let signature =
            crate::protocol::pairing::sign_pairing(&device, "VID1", "bcrt1qowner", &[3; 32]);
        let accept = PairingAccept {
            vid: "VID1".into(),
            device_signature: signature,
        };
        assert_eq!(
            PairingAccept::from_json(&accept.to_json().unwrap()).unwrap(),
            accept
        );
        assert!(matches!(
            PairingAccept::from_json(br#"{"vid":"VID1","device_signature":"00"}"#),
            Err(PairingMessageError::InvalidField {
                field: "device_signature",
                ..
            })
        ));
    }

    #[test]
    fn pool_commitment_is_pinned_and_binds_seed_and_branch() {
        let o = offer();
        let xpub = o.branch_xpub();
        let mut hasher = Sha256::new();
        hasher.update(b"carchain/pool-commitment/v1");
        hasher.update([0x5a; 32]);
        hasher.update(xpub.encode());
        let expected: [u8; 32] = hasher.finalize().into();
        assert_eq!(pool_commitment(&o.pool_seed, &xpub), expected);
        assert_eq!(
            hex::encode(expected),
            "989e643f2226ce98cfcb221ad7c435f5799885c2d9257975d808daa2e7bb346c"
        );
        assert_ne!(
            pool_commitment(&PoolSeed::from_bytes([0x5b; 32]), &xpub),
            expected
        );
    }
}
