//! The identifiers that must not link records, in every encoding they could take (raw
//! bytes, lower and upper hex, standard and URL-safe base64 at each of the three byte
//! alignments inside a longer encoded blob, bech32 addresses and their 20-byte
//! programs), and one multi-pattern search over any bytes.

use aho_corasick::AhoCorasick;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// What kind of identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A car's VID.
    Vid,
    /// A car's device public key.
    DeviceKey,
    /// A car's own account (the address of its device key).
    CarAccount,
    /// An owner's address.
    OwnerAddress,
    /// An owner's RSA key fingerprint.
    OwnerFingerprint,
    /// An owner's RSA public key.
    OwnerRsaKey,
}

impl Kind {
    /// Its name in the figures.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Vid => "VID",
            Kind::DeviceKey => "device public key",
            Kind::CarAccount => "car account",
            Kind::OwnerAddress => "owner address",
            Kind::OwnerFingerprint => "owner RSA fingerprint",
            Kind::OwnerRsaKey => "owner RSA public key",
        }
    }
}

/// One identifier and the byte strings it may appear as.
#[derive(Debug, Clone)]
pub struct Identifier {
    /// Its kind.
    pub kind: Kind,
    /// Whose it is (e.g. `car 3`).
    pub whose: String,
    /// (encoding name, bytes).
    pub forms: Vec<(String, Vec<u8>)>,
}

/// `raw` as raw bytes, hex and base64 (both alphabets, the three alignments).
pub fn encodings(label: &str, raw: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut forms = vec![
        (format!("{label} raw"), raw.to_vec()),
        (format!("{label} hex"), hex::encode(raw).into_bytes()),
        (format!("{label} HEX"), hex::encode_upper(raw).into_bytes()),
    ];
    for (name, engine) in [("base64", STANDARD_NO_PAD), ("base64url", URL_SAFE_NO_PAD)] {
        for shift in 0..3usize {
            let mut shifted = vec![0u8; shift];
            shifted.extend_from_slice(raw);
            let text = engine.encode(&shifted);
            // Characters fully determined by `raw`'s bits, whatever surrounds it.
            let start = (shift * 4).div_ceil(3);
            let end = (shifted.len() * 8) / 6;
            if end > start && end - start >= 12 {
                forms.push((
                    format!("{label} {name}+{shift}"),
                    text.as_bytes()[start..end].to_vec(),
                ));
            }
        }
    }
    forms.retain(|(_, bytes)| bytes.len() >= 8);
    forms
}

/// An address: its text (and upper case), and its 20-byte witness program in every
/// encoding.
pub fn address_forms(address: &str) -> Vec<(String, Vec<u8>)> {
    let mut forms = vec![
        ("bech32".to_owned(), address.as_bytes().to_vec()),
        (
            "BECH32".to_owned(),
            address.to_ascii_uppercase().into_bytes(),
        ),
    ];
    if let Ok(parsed) = address.parse::<bitcoin::Address<bitcoin::address::NetworkUnchecked>>() {
        let script = parsed.assume_checked().script_pubkey();
        if let Some(program) = script.as_bytes().get(2..) {
            forms.extend(encodings("program", program));
        }
    }
    forms
}

/// Where needles were found in a haystack: (needle index, form index) pairs.
pub struct Search {
    automaton: AhoCorasick,
    owners: Vec<(usize, usize)>,
}

impl Search {
    /// A search for every form of every needle (`needles[i]` = forms of needle i).
    pub fn new(needles: &[Vec<(String, Vec<u8>)>]) -> Self {
        let mut patterns = Vec::new();
        let mut owners = Vec::new();
        for (i, forms) in needles.iter().enumerate() {
            for (f, (_, bytes)) in forms.iter().enumerate() {
                patterns.push(bytes.clone());
                owners.push((i, f));
            }
        }
        Search {
            automaton: AhoCorasick::new(&patterns).expect("patterns"),
            owners,
        }
    }

    /// Every (needle, form) found in `haystack`.
    pub fn find(&self, haystack: &[u8]) -> Vec<(usize, usize)> {
        let mut found: Vec<(usize, usize)> = self
            .automaton
            .find_overlapping_iter(haystack)
            .map(|m| self.owners[m.pattern().as_usize()])
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_found_in_any_encoding_at_any_alignment() {
        let raw: Vec<u8> = (1..=33).collect();
        let search = Search::new(&[encodings("key", &raw)]);
        for prefix in 0..3usize {
            let mut blob = vec![0xAAu8; prefix];
            blob.extend_from_slice(&raw);
            blob.extend_from_slice(b"tail");
            for text in [
                STANDARD_NO_PAD.encode(&blob),
                URL_SAFE_NO_PAD.encode(&blob),
                hex::encode(&blob),
            ] {
                let haystack = format!("{{\"v\":\"{text}\"}}");
                assert!(
                    !search.find(haystack.as_bytes()).is_empty(),
                    "{prefix} {text}"
                );
            }
            assert!(!search.find(&blob).is_empty());
        }
        assert!(search.find(b"nothing to see here at all").is_empty());
    }
}
