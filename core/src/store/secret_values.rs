//! Secret values handed to and returned by the store: zeroized on drop and shown as
//! `<redacted>` by `Debug`, so a logged row never leaks a mnemonic or a key.

use std::fmt;

use zeroize::Zeroizing;

/// Secret bytes (an RSA private key, a pool seed, a device delivery secret).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Wraps `bytes`; the vector is zeroized when this value is dropped.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Copies `bytes` into a new secret.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self::new(bytes.to_vec())
    }

    /// The secret bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<redacted {} bytes>)", self.0.len())
    }
}

/// Secret text (a BIP39 mnemonic, its passphrase).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Wraps `text`; the string is zeroized when this value is dropped.
    pub fn new(text: String) -> Self {
        Self(Zeroizing::new(text))
    }

    /// The secret text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SecretString {
    fn from(text: &str) -> Self {
        Self::new(text.to_owned())
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts() {
        let bytes = SecretBytes::from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        let text = SecretString::from("abandon ability");
        assert_eq!(format!("{bytes:?}"), "SecretBytes(<redacted 4 bytes>)");
        assert_eq!(format!("{text:?}"), "SecretString(<redacted>)");
    }

    #[test]
    fn expose_returns_the_value() {
        let bytes = SecretBytes::new(vec![1, 2, 3]);
        assert_eq!(bytes.expose(), &[1, 2, 3]);
        assert_eq!(bytes.len(), 3);
        assert!(!bytes.is_empty());
        assert!(SecretBytes::new(Vec::new()).is_empty());
        assert_eq!(SecretString::from("words").expose(), "words");
    }
}
