//! The owner's keys: BIP39 words, BIP32/BIP84 secp256k1 keys and addresses, and the
//! RSA key pair derived deterministically from the same seed.
