//! BIP39 recovery words: generation from the OS random generator, forgiving parsing of
//! user-typed text with typed errors, and conversion to the [`Seed`].

use core::fmt;

use bip39::Language;
use zeroize::Zeroizing;

use super::error::KeyError;
use super::seed::Seed;

/// How many words a freshly generated phrase has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WordCount {
    /// 12 words, 128 bits of entropy.
    #[default]
    Twelve,
    /// 24 words, 256 bits of entropy.
    TwentyFour,
}

impl WordCount {
    /// Number of entropy bytes behind this many words.
    pub fn entropy_len(self) -> usize {
        match self {
            WordCount::Twelve => 16,
            WordCount::TwentyFour => 32,
        }
    }

    /// Number of words.
    pub fn words(self) -> usize {
        match self {
            WordCount::Twelve => 12,
            WordCount::TwentyFour => 24,
        }
    }
}

/// Word counts BIP39 defines.
const VALID_WORD_COUNTS: [usize; 5] = [12, 15, 18, 21, 24];

/// A validated English BIP39 phrase. Secret: kept in zeroizing memory, redacted in `Debug`.
#[derive(Clone)]
pub struct Mnemonic {
    phrase: Zeroizing<String>,
    word_count: usize,
}

impl Mnemonic {
    /// Generates a new phrase from the operating system's random generator.
    pub fn generate(count: WordCount) -> Result<Self, KeyError> {
        let mut entropy = Zeroizing::new([0u8; 32]);
        let entropy = entropy
            .get_mut(..count.entropy_len())
            .ok_or(KeyError::BadEntropyLength {
                len: count.entropy_len(),
            })?;
        getrandom::fill(entropy).map_err(|_| KeyError::RandomUnavailable)?;
        Self::from_entropy(entropy)
    }

    /// Builds the phrase for given entropy (16, 20, 24, 28 or 32 bytes).
    pub fn from_entropy(entropy: &[u8]) -> Result<Self, KeyError> {
        let inner = bip39::Mnemonic::from_entropy_in(Language::English, entropy)
            .map_err(|_| KeyError::BadEntropyLength { len: entropy.len() })?;
        Ok(Self::from_inner(&inner))
    }

    /// Parses user-typed words: surrounding and repeated whitespace is ignored and case
    /// does not matter. Errors name the problem (word count, 1-based position of an
    /// unknown word, checksum) without repeating any word.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let normalized = Zeroizing::new(normalize(text));
        let count = normalized.split(' ').filter(|w| !w.is_empty()).count();
        if !VALID_WORD_COUNTS.contains(&count) {
            return Err(KeyError::WrongWordCount { count });
        }
        let inner = bip39::Mnemonic::parse_in_normalized(Language::English, &normalized).map_err(
            |err| match err {
                bip39::Error::BadWordCount(count) => KeyError::WrongWordCount { count },
                bip39::Error::UnknownWord(index) => KeyError::UnknownWord {
                    position: index + 1,
                },
                bip39::Error::BadEntropyBitCount(bits) => {
                    KeyError::BadEntropyLength { len: bits / 8 }
                }
                bip39::Error::InvalidChecksum | bip39::Error::AmbiguousLanguages(_) => {
                    KeyError::BadChecksum
                }
            },
        )?;
        Ok(Self::from_inner(&inner))
    }

    fn from_inner(inner: &bip39::Mnemonic) -> Self {
        let mut phrase = Zeroizing::new(String::with_capacity(24 * 9));
        let mut word_count = 0;
        for word in inner.words() {
            if word_count > 0 {
                phrase.push(' ');
            }
            phrase.push_str(word);
            word_count += 1;
        }
        Mnemonic { phrase, word_count }
    }

    /// The words separated by single spaces, for showing to the owner as a backup.
    pub fn phrase(&self) -> &str {
        &self.phrase
    }

    /// Number of words.
    pub fn word_count(&self) -> usize {
        self.word_count
    }

    /// The BIP39 seed for this phrase and an optional passphrase ("" for none).
    pub fn to_seed(&self, passphrase: &str) -> Result<Seed, KeyError> {
        let inner = bip39::Mnemonic::parse_in_normalized(Language::English, &self.phrase)
            .map_err(|_| KeyError::BadChecksum)?;
        let bytes = Zeroizing::new(inner.to_seed(passphrase));
        Ok(Seed::from_bytes(*bytes))
    }
}

impl fmt::Debug for Mnemonic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mnemonic([REDACTED; {} words])", self.word_count)
    }
}

impl PartialEq for Mnemonic {
    fn eq(&self, other: &Self) -> bool {
        self.phrase.as_bytes() == other.phrase.as_bytes()
    }
}

impl Eq for Mnemonic {}

/// Trims, lower-cases and collapses whitespace to single spaces.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    const ZOO: &str = "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote";

    /// (entropy, words, seed with passphrase "TREZOR") from the Trezor python-mnemonic
    /// vectors.json published with BIP39.
    const TREZOR_VECTORS: [(&str, &str, &str); 4] = [
        (
            "00000000000000000000000000000000",
            ABANDON,
            "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04",
        ),
        (
            "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f",
            "legal winner thank year wave sausage worth useful legal winner thank yellow",
            "2e8905819b8723fe2c1d161860e5ee1830318dbf49a83bd451cfb8440c28bd6fa457fe1296106559a3c80937a1c1069be3a3a5bd381ee6260e8d9739fce1f607",
        ),
        (
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            ZOO,
            "dd48c104698c30cfe2b6142103248622fb7bb0ff692eebb00089b32d22484e1613912f0a5b694407be899ffd31ed3992c456cdf60f5d4564b8ba3f05a69890ad",
        ),
        (
            "0000000000000000000000000000000000000000000000000000000000000000",
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art",
            "bda85446c68413707090a52022edd26a1c9462295029f2e60cd7c4f2bbd3097170af7a4d73245cafa9c3cca8d561a7c3de6f5d4a10be8ed2a5e608d68f92fcc8",
        ),
    ];

    #[test]
    fn trezor_vectors_entropy_words_and_seed() {
        for (entropy, words, seed) in TREZOR_VECTORS {
            let from_entropy = Mnemonic::from_entropy(&hex::decode(entropy).unwrap()).unwrap();
            assert_eq!(from_entropy.phrase(), words);
            let parsed = Mnemonic::parse(words).unwrap();
            assert_eq!(parsed, from_entropy);
            let derived = parsed.to_seed("TREZOR").unwrap();
            assert_eq!(hex::encode(derived.as_bytes()), seed);
        }
    }

    #[test]
    fn seed_without_passphrase_differs_from_trezor_seed() {
        let words = Mnemonic::parse(ABANDON).unwrap();
        let plain = words.to_seed("").unwrap();
        // Seed of the BIP84 test-vector wallet (no passphrase), as shown by BIP39 tools.
        assert_eq!(
            hex::encode(plain.as_bytes()),
            "5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4"
        );
        assert_ne!(plain, words.to_seed("TREZOR").unwrap());
    }

    #[test]
    fn parse_is_forgiving_about_case_and_spaces() {
        let messy = format!("  {}\n", ABANDON.to_uppercase().replace(' ', " \t "));
        assert_eq!(Mnemonic::parse(&messy).unwrap().phrase(), ABANDON);
    }

    #[test]
    fn generate_gives_requested_length_and_differs() {
        let a = Mnemonic::generate(WordCount::Twelve).unwrap();
        let b = Mnemonic::generate(WordCount::Twelve).unwrap();
        let c = Mnemonic::generate(WordCount::TwentyFour).unwrap();
        assert_eq!(a.word_count(), 12);
        assert_eq!(a.phrase().split(' ').count(), 12);
        assert_eq!(c.word_count(), 24);
        assert_ne!(a, b);
        assert_eq!(Mnemonic::parse(c.phrase()).unwrap(), c);
    }

    #[test]
    fn wrong_word_count_is_reported() {
        let eleven = ABANDON.rsplit_once(' ').unwrap().0;
        assert!(matches!(
            Mnemonic::parse(eleven),
            Err(KeyError::WrongWordCount { count: 11 })
        ));
        assert!(matches!(
            Mnemonic::parse("   "),
            Err(KeyError::WrongWordCount { count: 0 })
        ));
    }

    #[test]
    fn unknown_word_reports_position_not_word() {
        let text = ABANDON.replacen("abandon abandon abandon", "abandon abandon carchainx", 1);
        let err = Mnemonic::parse(&text).unwrap_err();
        assert!(matches!(err, KeyError::UnknownWord { position: 3 }));
        assert!(!err.to_string().contains("carchainx"));
    }

    #[test]
    fn bad_checksum_is_reported() {
        let text = ABANDON.replace("about", "abandon");
        assert!(matches!(Mnemonic::parse(&text), Err(KeyError::BadChecksum)));
    }

    #[test]
    fn bad_entropy_length_is_reported() {
        assert!(matches!(
            Mnemonic::from_entropy(&[0u8; 15]),
            Err(KeyError::BadEntropyLength { len: 15 })
        ));
    }

    #[test]
    fn debug_is_redacted() {
        let words = Mnemonic::parse(ZOO).unwrap();
        let shown = format!("{words:?}");
        assert_eq!(shown, "Mnemonic([REDACTED; 24 words])");
        assert!(!shown.contains("zoo"));
    }

    proptest::proptest! {
        #[test]
        fn entropy_round_trips_through_words(entropy in proptest::collection::vec(proptest::num::u8::ANY, 16..=16)) {
            let words = Mnemonic::from_entropy(&entropy).unwrap();
            let parsed = Mnemonic::parse(&words.phrase().to_uppercase()).unwrap();
            proptest::prop_assert_eq!(parsed.phrase(), words.phrase());
            proptest::prop_assert_eq!(parsed.word_count(), 12);
        }

        #[test]
        fn dropping_a_word_is_a_word_count_error(entropy in proptest::collection::vec(proptest::num::u8::ANY, 32..=32)) {
            let words = Mnemonic::from_entropy(&entropy).unwrap();
            let shorter = words.phrase().rsplit_once(' ').unwrap().0.to_owned();
            let is_count_error = matches!(
                Mnemonic::parse(&shorter),
                Err(KeyError::WrongWordCount { count: 23 })
            );
            proptest::prop_assert!(is_count_error);
        }
    }
}
