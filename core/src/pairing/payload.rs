//! The pairing payload a car shows on first boot (as a QR code or text): its VID, device
//! public key, a one-time code and the code's expiry, in QR-friendly text:
//! `carchain:pair?v=1&vid=<VID>&pk=<hex>&code=<8 chars>&exp=<unix s>`.
//!
//! The code is 8 characters of Crockford base32 (40 bits from the OS CSPRNG). Together
//! with the device key it derives the pairing mailbox, so it is shown only to the person
//! in the car: `Debug` redacts it and it is zeroized on drop.

use std::fmt;

use bitcoin::secp256k1::PublicKey;
use zeroize::Zeroize;

use super::error::PairingPayloadError;

/// The only payload version this SDK writes and reads.
pub const PAIRING_PAYLOAD_VERSION: u8 = 1;
/// The text prefix of every payload.
pub const PAIRING_PAYLOAD_PREFIX: &str = "carchain:pair?";
/// Number of characters in a pairing code.
pub const PAIRING_CODE_LEN: usize = 8;
/// Longest VID a payload carries.
pub const MAX_VID_LEN: usize = 64;
/// Crockford base32 alphabet (no I, L, O, U).
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// What a car shows to be paired. Build it with [`PairingPayload::generate`], show it with
/// [`PairingPayload::to_text`], read it back with [`PairingPayload::parse`].
#[derive(Clone, PartialEq, Eq)]
pub struct PairingPayload {
    /// Payload version ([`PAIRING_PAYLOAD_VERSION`]).
    pub version: u8,
    /// The vehicle identifier.
    pub vid: String,
    /// The device's secp256k1 signing key (public half).
    pub device_pubkey: PublicKey,
    /// The one-time code, canonical upper-case Crockford base32.
    pub code: String,
    /// When the code stops being valid (unix seconds).
    pub expires_at: u64,
}

impl PairingPayload {
    /// A payload with a fresh random code valid for `ttl_secs` seconds from `now`.
    pub fn generate(
        vid: &str,
        device_pubkey: PublicKey,
        now: u64,
        ttl_secs: u64,
    ) -> Result<Self, PairingPayloadError> {
        check_vid(vid)?;
        if ttl_secs == 0 {
            return Err(PairingPayloadError::Expired {
                expires_at: now,
                now,
            });
        }
        Ok(Self {
            version: PAIRING_PAYLOAD_VERSION,
            vid: vid.to_owned(),
            device_pubkey,
            code: random_code()?,
            expires_at: now.saturating_add(ttl_secs),
        })
    }

    /// The QR-friendly text form.
    pub fn to_text(&self) -> String {
        format!(
            "{PAIRING_PAYLOAD_PREFIX}v={}&vid={}&pk={}&code={}&exp={}",
            self.version,
            self.vid,
            hex::encode(self.device_pubkey.serialize()),
            self.code,
            self.expires_at
        )
    }

    /// Reads a payload's text and checks it is still valid at `now` (unix seconds).
    /// The code is accepted in any case and with Crockford's look-alikes (O for 0,
    /// I/L for 1), and stored canonical.
    pub fn parse(text: &str, now: u64) -> Result<Self, PairingPayloadError> {
        let query = text
            .trim()
            .strip_prefix(PAIRING_PAYLOAD_PREFIX)
            .ok_or_else(|| malformed("missing the carchain:pair? prefix"))?;
        let mut fields = Fields::default();
        for pair in query.split('&') {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| malformed("a field has no '='"))?;
            fields.set(name, value)?;
        }
        let version = fields.take("v")?;
        if version != PAIRING_PAYLOAD_VERSION.to_string() {
            return Err(PairingPayloadError::UnknownVersion { version });
        }
        let vid = fields.take("vid")?;
        check_vid(&vid)?;
        let pk_bytes = hex::decode(fields.take("pk")?).map_err(|_| PairingPayloadError::BadKey)?;
        let device_pubkey =
            PublicKey::from_slice(&pk_bytes).map_err(|_| PairingPayloadError::BadKey)?;
        if pk_bytes.len() != 33 {
            return Err(PairingPayloadError::BadKey);
        }
        let mut raw_code = fields.take("code")?;
        let code = canonical_code(&raw_code);
        raw_code.zeroize();
        let code = code?;
        let expires_at: u64 = fields
            .take("exp")?
            .parse()
            .map_err(|_| malformed("exp is not a unix time in seconds"))?;
        if expires_at <= now {
            return Err(PairingPayloadError::Expired { expires_at, now });
        }
        Ok(Self {
            version: PAIRING_PAYLOAD_VERSION,
            vid,
            device_pubkey,
            code,
            expires_at,
        })
    }

    /// Whether the code is still valid at `now`.
    pub fn is_valid_at(&self, now: u64) -> bool {
        now < self.expires_at
    }
}

impl Drop for PairingPayload {
    fn drop(&mut self) {
        self.code.zeroize();
    }
}

impl fmt::Debug for PairingPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PairingPayload")
            .field("version", &self.version)
            .field("vid", &self.vid)
            .field(
                "device_pubkey",
                &hex::encode(self.device_pubkey.serialize()),
            )
            .field("code", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The canonical form of a typed or scanned code: upper case, Crockford look-alikes
/// mapped (O→0, I/L→1), hyphens and spaces ignored; exactly 8 characters.
pub fn canonical_code(text: &str) -> Result<String, PairingPayloadError> {
    let mut code = String::with_capacity(PAIRING_CODE_LEN);
    for c in text.chars() {
        let mapped = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        };
        if !mapped.is_ascii() || !CROCKFORD.contains(&(mapped as u8)) {
            code.zeroize();
            return Err(PairingPayloadError::BadCode);
        }
        code.push(mapped);
    }
    if code.len() != PAIRING_CODE_LEN {
        code.zeroize();
        return Err(PairingPayloadError::BadCode);
    }
    Ok(code)
}

/// A fresh 8-character Crockford base32 code (40 bits from the OS CSPRNG).
pub fn random_code() -> Result<String, PairingPayloadError> {
    let mut bytes = [0u8; 5];
    getrandom::fill(&mut bytes).map_err(|_| PairingPayloadError::RandomnessUnavailable)?;
    let mut bits = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    bytes.zeroize();
    let mut code = String::with_capacity(PAIRING_CODE_LEN);
    for shift in (0..PAIRING_CODE_LEN).rev() {
        let index = ((bits >> (shift * 5)) & 0x1f) as usize;
        code.push(char::from(CROCKFORD.get(index).copied().unwrap_or(b'0')));
    }
    bits.zeroize();
    Ok(code)
}

fn check_vid(vid: &str) -> Result<(), PairingPayloadError> {
    let bad = |reason: &str| PairingPayloadError::BadVid {
        reason: reason.to_owned(),
    };
    if vid.is_empty() {
        return Err(bad("empty"));
    }
    if vid.len() > MAX_VID_LEN {
        return Err(bad("longer than 64 characters"));
    }
    if !vid
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(bad(
            "only ASCII letters, digits, '-', '_' and '.' are allowed",
        ));
    }
    Ok(())
}

fn malformed(reason: &str) -> PairingPayloadError {
    PairingPayloadError::Malformed {
        reason: reason.to_owned(),
    }
}

/// The payload's fields, each allowed exactly once.
#[derive(Default)]
struct Fields {
    values: Vec<(&'static str, String)>,
}

impl Fields {
    const NAMES: [&'static str; 5] = ["v", "vid", "pk", "code", "exp"];

    fn set(&mut self, name: &str, value: &str) -> Result<(), PairingPayloadError> {
        let known = Self::NAMES
            .iter()
            .find(|known| **known == name)
            .ok_or_else(|| malformed("unknown field"))?;
        if self.values.iter().any(|(n, _)| n == known) {
            return Err(malformed("a field appears twice"));
        }
        self.values.push((known, value.to_owned()));
        Ok(())
    }

    fn take(&mut self, name: &'static str) -> Result<String, PairingPayloadError> {
        let position = self
            .values
            .iter()
            .position(|(n, _)| *n == name)
            .ok_or_else(|| PairingPayloadError::Malformed {
                reason: format!("missing field {name}"),
            })?;
        Ok(self.values.swap_remove(position).1)
    }
}

impl Drop for Fields {
    fn drop(&mut self) {
        for (_, value) in &mut self.values {
            value.zeroize();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::secp256k1::{Secp256k1, SecretKey};

    const NOW: u64 = 1_700_000_000;

    fn device_key() -> PublicKey {
        let secret = SecretKey::from_slice(&[7u8; 32]).unwrap();
        secret.public_key(&Secp256k1::new())
    }

    fn fixed() -> PairingPayload {
        PairingPayload {
            version: 1,
            vid: "LBVNU79049SB81546".into(),
            device_pubkey: device_key(),
            code: "7K3MQ9XZ".into(),
            expires_at: NOW + 600,
        }
    }

    #[test]
    fn golden_text_form() {
        let pk = hex::encode(device_key().serialize());
        assert_eq!(
            fixed().to_text(),
            format!("carchain:pair?v=1&vid=LBVNU79049SB81546&pk={pk}&code=7K3MQ9XZ&exp=1700000600")
        );
    }

    #[test]
    fn text_round_trip() {
        let payload = PairingPayload::generate("VID-1", device_key(), NOW, 300).unwrap();
        assert_eq!(payload.expires_at, NOW + 300);
        let parsed = PairingPayload::parse(&payload.to_text(), NOW).unwrap();
        assert_eq!(parsed, payload);
        assert!(parsed.is_valid_at(NOW + 299));
        assert!(!parsed.is_valid_at(NOW + 300));
    }

    #[test]
    fn fields_in_any_order_and_lenient_code() {
        let pk = hex::encode(device_key().serialize());
        let text =
            format!("carchain:pair?code=7k3mq9xz&exp=1700000600&pk={pk}&vid=LBVNU79049SB81546&v=1");
        assert_eq!(PairingPayload::parse(&text, NOW).unwrap(), fixed());
        assert_eq!(canonical_code("o1l-i abcd").unwrap(), "0111ABCD");
    }

    #[test]
    fn generated_codes_are_crockford_and_differ() {
        let a = random_code().unwrap();
        let b = random_code().unwrap();
        assert_eq!(a.len(), 8);
        assert_eq!(canonical_code(&a).unwrap(), a);
        assert_ne!(a, b, "40 random bits twice in a row");
    }

    #[test]
    fn expired_code_is_refused() {
        let text = fixed().to_text();
        assert_eq!(
            PairingPayload::parse(&text, NOW + 600),
            Err(PairingPayloadError::Expired {
                expires_at: NOW + 600,
                now: NOW + 600
            })
        );
        assert!(matches!(
            PairingPayload::generate("V", device_key(), NOW, 0),
            Err(PairingPayloadError::Expired { .. })
        ));
    }

    #[test]
    fn malformed_texts_are_refused() {
        let good = fixed().to_text();
        let cases = [
            good.replace("carchain:pair?", "carchain:pay?"),
            good.replace("&exp=1700000600", ""),
            good.replace("exp=1700000600", "exp=soon"),
            format!("{good}&exp=1700000600"),
            format!("{good}&extra=1"),
            good.replace("&vid=", "&vid"),
        ];
        for text in cases {
            assert!(
                matches!(
                    PairingPayload::parse(&text, NOW),
                    Err(PairingPayloadError::Malformed { .. })
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn unknown_version_is_refused() {
        let text = fixed().to_text().replace("v=1&", "v=2&");
        assert_eq!(
            PairingPayload::parse(&text, NOW),
            Err(PairingPayloadError::UnknownVersion {
                version: "2".into()
            })
        );
    }

    #[test]
    fn bad_keys_are_refused() {
        let pk = hex::encode(device_key().serialize());
        let uncompressed = hex::encode(device_key().serialize_uncompressed());
        let not_on_curve = format!("02{}", "ff".repeat(32));
        for bad in [
            "zz".to_owned(),
            pk[..64].to_owned(),
            uncompressed,
            not_on_curve,
        ] {
            let text = fixed().to_text().replace(&pk, &bad);
            assert_eq!(
                PairingPayload::parse(&text, NOW),
                Err(PairingPayloadError::BadKey),
                "{bad}"
            );
        }
    }

    #[test]
    fn bad_codes_and_vids_are_refused() {
        for code in ["7K3MQ9X", "7K3MQ9XZZ", "7K3MQ9XU", "7K3MQ9X!"] {
            let text = fixed().to_text().replace("7K3MQ9XZ", code);
            assert_eq!(
                PairingPayload::parse(&text, NOW),
                Err(PairingPayloadError::BadCode),
                "{code}"
            );
        }
        for vid in ["", "VID WITH SPACE", &"V".repeat(65)] {
            assert!(matches!(
                PairingPayload::generate(vid, device_key(), NOW, 60),
                Err(PairingPayloadError::BadVid { .. })
            ));
        }
    }

    #[test]
    fn debug_hides_the_code() {
        let shown = format!("{:?}", fixed());
        assert!(!shown.contains("7K3MQ9XZ"), "{shown}");
        assert!(shown.contains("LBVNU79049SB81546"));
    }
}
