//! Tests of `envelope`.

use super::*;
use crate::crypto::padding::padme_len;
use crate::crypto::test_keys::{grantee, owner};
use crate::crypto::test_vectors::{counting_epoch_key, ctx, pinned_envelope};
use proptest::prelude::*;

fn owner_epoch() -> CryptoResult<SealingEpoch> {
    SealingEpoch::new(owner().as_public_key())
}

#[test]
fn round_trips_empty_one_byte_and_30_kib_values() -> CryptoResult<()> {
    let epoch = owner_epoch()?;
    let mut cache = EpochKeyCache::new();
    let large: Vec<u8> = (0..30 * 1024u32).map(|i| (i % 251) as u8).collect();
    for plaintext in [Vec::new(), vec![0x5A], large] {
        let envelope = seal(&plaintext, &ctx(), &epoch)?;
        let padded = padme_len(plaintext.len() + 1);
        assert_eq!(envelope.ciphertext().len(), padded + TAG_LEN);
        let bytes = envelope.to_bytes()?;
        assert_eq!(bytes.len(), 21 + 256 + padded + TAG_LEN);
        let parsed = Envelope::from_bytes(&bytes)?;
        assert_eq!(parsed, envelope);
        assert_eq!(parsed.to_bytes()?, bytes);
        assert_eq!(
            parsed.open_with_owner_key(&ctx(), owner(), &mut cache)?,
            plaintext
        );
        assert_eq!(
            parsed.open_with_epoch_key(&ctx(), epoch.epoch_key())?,
            plaintext
        );
    }
    assert_eq!(cache.stats().unwraps, 1);
    Ok(())
}

#[test]
fn sealing_twice_uses_fresh_nonces() -> CryptoResult<()> {
    let epoch = owner_epoch()?;
    let a = seal(b"same", &ctx(), &epoch)?;
    let b = seal(b"same", &ctx(), &epoch)?;
    assert_ne!(a.nonce(), b.nonce());
    assert_ne!(a.ciphertext(), b.ciphertext());
    Ok(())
}

/// Layout and ciphertext computed independently with Python `cryptography`
/// (HKDF-SHA256 and ChaCha20-Poly1305) from the documented construction.
#[test]
fn pinned_v2_envelope_layout_vector() -> CryptoResult<()> {
    let envelope = pinned_envelope(None)?;
    let expected_header = format!("43434502010004bbbbbbbb{}0000", "0c".repeat(12));
    assert_eq!(hex::encode(envelope.header_bytes()?), expected_header);
    let bytes = envelope.to_bytes()?;
    assert_eq!(
        hex::encode(&bytes),
        format!(
            "{expected_header}341d84dfe824bd9bb2f0a23bd14bbe80e277dfa637066ed89a7d649c3006629c"
        )
    );
    assert_eq!(envelope.version(), 2);
    let parsed = Envelope::from_bytes(&bytes)?;
    assert_eq!(
        parsed.open_with_epoch_key(&ctx(), &counting_epoch_key())?,
        b"hello carchain"
    );
    let record_key = derive_record_key(&counting_epoch_key(), &ctx())?;
    assert!(!parsed.has_sealed_key());
    assert_eq!(parsed.open_sealed_key(&ctx(), &record_key)?, None);
    Ok(())
}

/// The same, with a sealed plaintext record key (Python `cryptography` again: the
/// key's cipher key is HKDF-SHA256 of the record key with the documented info).
#[test]
fn pinned_v2_envelope_with_a_sealed_key_vector() -> CryptoResult<()> {
    let plain_key = hex::decode("1080000000000000071080000065f1a20010800000006500d1c0")
        .map_err(|_| CryptoError::Malformed("hex"))?;
    let envelope = pinned_envelope(Some(&plain_key))?;
    let bytes = envelope.to_bytes()?;
    assert_eq!(
        hex::encode(&bytes),
        format!(
            "43434502010004bbbbbbbb{}00300399aea102242cf5b3f5c192c22c507f30fa9b0d258ca0\
             ea21f6503bffa97e219a2ab90501de0ed295685b53d56d235c341d84dfe824bd9bb2f0a23b\
             d14bbe8078354d0913fd8603f56dd08f4fc3c38a",
            "0c".repeat(12)
        )
    );
    let parsed = Envelope::from_bytes(&bytes)?;
    assert_eq!(parsed.to_bytes()?, bytes);
    let record_key = derive_record_key(&counting_epoch_key(), &ctx())?;
    assert_eq!(
        parsed.open_sealed_key(&ctx(), &record_key)?,
        Some(plain_key)
    );
    assert_eq!(
        parsed.open_with_record_key(&ctx(), &record_key)?,
        b"hello carchain"
    );
    // Another context (address, key or format) opens neither part.
    let moved = RecordContext {
        format: "carvio",
        ..ctx()
    };
    let moved_key = derive_record_key(&counting_epoch_key(), &moved)?;
    assert_eq!(
        parsed.open_sealed_key(&moved, &moved_key).err(),
        Some(CryptoError::AuthenticationFailed)
    );
    Ok(())
}

/// A v1 envelope (with the recipient fingerprint) written before v2 still parses,
/// re-encodes byte for byte and opens; the vector is the one v1 was pinned with.
#[test]
fn pinned_v1_envelope_still_opens() -> CryptoResult<()> {
    let v1 = format!(
        "4343450101{}0004bbbbbbbb{}341d84dfe824bd9bb2f0a23bd14b2830270fd2d7ca0d3a0cec901ab6e0d2",
        "aa".repeat(32),
        "0c".repeat(12)
    );
    let bytes = hex::decode(v1).map_err(|_| CryptoError::Malformed("hex"))?;
    let envelope = Envelope::from_bytes(&bytes)?;
    assert_eq!(envelope.version(), 1);
    assert_eq!(envelope.wrapped_epoch_key().ciphertext, vec![0xBB; 4]);
    assert_eq!(envelope.to_bytes()?, bytes);
    assert_eq!(
        envelope.open_with_epoch_key(&ctx(), &counting_epoch_key())?,
        b"hello carchain"
    );
    Ok(())
}

/// A real v1 envelope (RSA-wrapped for the owner) opens with the owner's key.
#[test]
fn a_v1_envelope_opens_with_the_owner_key() -> CryptoResult<()> {
    let epoch = owner_epoch()?;
    let v2 = seal(b"old record", &ctx(), &epoch)?;
    let mut legacy = Envelope {
        legacy_fingerprint: Some(
            crate::keys::rsa_fingerprint_bytes(owner().as_public_key())
                .map_err(|_| CryptoError::PublicKeyEncoding)?,
        ),
        ..v2
    };
    let aad = legacy.associated_data(&ctx())?;
    legacy.ciphertext = cipher(&derive_record_key(epoch.epoch_key(), &ctx())?)
        .encrypt(
            &Nonce::from(legacy.nonce),
            Payload {
                msg: b"old record",
                aad: &aad,
            },
        )
        .map_err(|_| CryptoError::EncryptionFailed)?;
    let bytes = legacy.to_bytes()?;
    assert_eq!(bytes.get(3), Some(&1));
    let parsed = Envelope::from_bytes(&bytes)?;
    let mut cache = EpochKeyCache::new();
    assert_eq!(
        parsed.open_with_owner_key(&ctx(), owner(), &mut cache)?,
        b"old record"
    );
    assert_eq!(
        parsed
            .open_with_owner_key(&ctx(), grantee(), &mut cache)
            .err(),
        Some(CryptoError::WrongKey)
    );
    Ok(())
}

#[test]
fn every_single_byte_flip_fails_for_every_opening_path() -> CryptoResult<()> {
    let epoch = owner_epoch()?;
    let record_key = derive_record_key(epoch.epoch_key(), &ctx())?;
    let bytes = seal(b"odometer=123456", &ctx(), &epoch)?.to_bytes()?;
    let mut cache = EpochKeyCache::new();
    for index in 0..bytes.len() {
        let mut altered = bytes.clone();
        if let Some(byte) = altered.get_mut(index) {
            *byte ^= 0x01;
        }
        let Ok(envelope) = Envelope::from_bytes(&altered) else {
            continue;
        };
        assert!(
            envelope
                .open_with_epoch_key(&ctx(), epoch.epoch_key())
                .is_err()
        );
        assert!(envelope.open_with_record_key(&ctx(), &record_key).is_err());
        assert!(
            envelope
                .open_with_owner_key(&ctx(), owner(), &mut cache)
                .is_err(),
            "flip at {index} opened"
        );
    }
    Ok(())
}

#[test]
fn flips_in_the_body_fail_authentication_with_the_epoch_key() -> CryptoResult<()> {
    let epoch = owner_epoch()?;
    let bytes = seal(b"vin", &ctx(), &epoch)?.to_bytes()?;
    // Wrapped key, nonce, ciphertext: parse fine, must not authenticate.
    for index in 5..bytes.len() {
        if matches!(index, 5 | 6 | 275 | 276) {
            continue; // the length field changes the parse instead
        }
        let mut altered = bytes.clone();
        if let Some(byte) = altered.get_mut(index) {
            *byte ^= 0x80;
        }
        assert_eq!(
            Envelope::from_bytes(&altered)?
                .open_with_epoch_key(&ctx(), epoch.epoch_key())
                .err(),
            Some(CryptoError::AuthenticationFailed),
            "flip at {index}"
        );
    }
    Ok(())
}

#[test]
fn header_flips_give_typed_parse_errors() -> CryptoResult<()> {
    let bytes = seal(b"x", &ctx(), &owner_epoch()?)?.to_bytes()?;
    let with = |index: usize, value: u8| {
        let mut altered = bytes.clone();
        if let Some(byte) = altered.get_mut(index) {
            *byte = value;
        }
        Envelope::from_bytes(&altered)
    };
    assert!(matches!(with(0, b'X'), Err(CryptoError::Malformed(_))));
    assert_eq!(with(3, 3).err(), Some(CryptoError::UnsupportedVersion(3)));
    assert_eq!(with(4, 9).err(), Some(CryptoError::UnsupportedSuite(9)));
    // Length field claims more bytes than present.
    assert!(matches!(with(5, 0xFF), Err(CryptoError::Truncated { .. })));
    // Length 0x0000: an empty wrapped key.
    let empty = {
        let mut altered = bytes.clone();
        altered.splice(5..7, [0, 0]);
        Envelope::from_bytes(&altered)
    };
    assert!(matches!(empty, Err(CryptoError::Malformed(_))));
    Ok(())
}

#[test]
fn garbage_and_empty_input_are_rejected() {
    assert!(matches!(
        Envelope::from_bytes(b""),
        Err(CryptoError::Truncated { .. })
    ));
    assert!(matches!(
        Envelope::from_bytes(b"CC"),
        Err(CryptoError::Truncated { .. })
    ));
    assert!(matches!(
        Envelope::from_bytes(b"garbage that is not an envelope"),
        Err(CryptoError::Malformed(_))
    ));
    for version in [1u8, 2] {
        let mut zero_length_key = vec![b'C', b'C', b'E', version, 1];
        zero_length_key.extend_from_slice(&[0; 34 + 12 + 16]);
        assert!(matches!(
            Envelope::from_bytes(&zero_length_key),
            Err(CryptoError::Malformed(_))
        ));
    }
}

#[test]
fn every_truncation_fails_with_a_typed_error() -> CryptoResult<()> {
    let epoch = owner_epoch()?;
    let bytes = seal(b"trip payload", &ctx(), &epoch)?.to_bytes()?;
    for cut in 0..bytes.len() {
        let prefix = bytes.get(..cut).unwrap_or_default();
        match Envelope::from_bytes(prefix) {
            Err(CryptoError::Truncated { .. }) => {}
            Ok(envelope) => assert_eq!(
                envelope
                    .open_with_epoch_key(&ctx(), epoch.epoch_key())
                    .err(),
                Some(CryptoError::AuthenticationFailed),
                "cut at {cut}"
            ),
            Err(other) => panic!("cut at {cut}: unexpected {other:?}"),
        }
    }
    Ok(())
}

#[test]
fn moving_to_another_address_key_or_format_fails() -> CryptoResult<()> {
    let epoch = owner_epoch()?;
    let envelope = seal(b"{\"speed\":88}", &ctx(), &epoch)?;
    let moved = [
        RecordContext {
            address: "bcrt1qother",
            ..ctx()
        },
        RecordContext {
            key_bytes: &[1, 2, 3, 4, 6],
            ..ctx()
        },
        RecordContext {
            format: "carvio",
            ..ctx()
        },
    ];
    let mut cache = EpochKeyCache::new();
    for wrong in &moved {
        assert_eq!(
            envelope.open_with_epoch_key(wrong, epoch.epoch_key()).err(),
            Some(CryptoError::AuthenticationFailed)
        );
        assert_eq!(
            envelope
                .open_with_owner_key(wrong, owner(), &mut cache)
                .err(),
            Some(CryptoError::AuthenticationFailed)
        );
        // Even the right record key cannot open it under the wrong context.
        let right_key = derive_record_key(epoch.epoch_key(), &ctx())?;
        assert_eq!(
            envelope.open_with_record_key(wrong, &right_key).err(),
            Some(CryptoError::AuthenticationFailed)
        );
    }
    Ok(())
}

#[test]
fn wrong_rsa_key_is_refused() -> CryptoResult<()> {
    let envelope = seal(b"secret", &ctx(), &owner_epoch()?)?;
    let mut cache = EpochKeyCache::new();
    // Found out by one trial, which the cache remembers: asking again costs nothing.
    for attempt in 1..=2 {
        assert_eq!(
            envelope
                .open_with_owner_key(&ctx(), grantee(), &mut cache)
                .err(),
            Some(CryptoError::WrongKey),
            "attempt {attempt}"
        );
        assert_eq!(cache.stats().unwraps, 1, "attempt {attempt}");
    }
    Ok(())
}

#[test]
fn wrong_epoch_or_record_key_fails_authentication() -> CryptoResult<()> {
    let envelope = seal(b"secret", &ctx(), &owner_epoch()?)?;
    let wrong_epoch_key = envelope.open_with_epoch_key(&ctx(), &EpochKey::generate()?);
    let wrong_record_key = envelope.open_with_record_key(&ctx(), &RecordKey::generate()?);
    for opened in [wrong_epoch_key, wrong_record_key] {
        assert_eq!(opened.err(), Some(CryptoError::AuthenticationFailed));
    }
    Ok(())
}

#[test]
fn a_day_of_four_records_costs_one_rsa_unwrap() -> CryptoResult<()> {
    let day = owner_epoch()?;
    let sessions: [&[u8]; 4] = [b"s1", b"s2", b"s3", b"s4"];
    let stored: Vec<Vec<u8>> = sessions
        .iter()
        .map(|session| {
            let ctx = RecordContext {
                key_bytes: session,
                ..ctx()
            };
            seal(session, &ctx, &day)?.to_bytes()
        })
        .collect::<CryptoResult<_>>()?;
    let mut cache = EpochKeyCache::new();
    for (session, bytes) in sessions.iter().zip(&stored) {
        let ctx = RecordContext {
            key_bytes: session,
            ..ctx()
        };
        let plaintext =
            Envelope::from_bytes(bytes)?.open_with_owner_key(&ctx, owner(), &mut cache)?;
        assert_eq!(plaintext, *session);
    }
    assert_eq!(cache.stats().unwraps, 1);
    assert_eq!(cache.stats().hits, 3);
    Ok(())
}

/// Every 8-byte window of `bytes` after the fixed magic/version/suite header.
fn windows_after_header(bytes: &[u8]) -> impl Iterator<Item = [u8; 8]> + '_ {
    bytes
        .get(5..)
        .unwrap_or_default()
        .windows(8)
        .filter_map(|w| <[u8; 8]>::try_from(w).ok())
}

/// Envelopes of different epochs (another owner, another car, another day) that
/// share an 8-byte substring outside the fixed header, as (epoch, epoch) pairs.
fn shared_substrings(envelopes: &[(usize, Vec<u8>)]) -> Vec<(usize, usize)> {
    let mut seen: std::collections::HashMap<[u8; 8], usize> = Default::default();
    let mut shared = Vec::new();
    for (epoch, bytes) in envelopes {
        for window in windows_after_header(bytes) {
            match seen.get(&window) {
                Some(other) if other != epoch => shared.push((*other, *epoch)),
                Some(_) => {}
                None => {
                    seen.insert(window, *epoch);
                }
            }
        }
    }
    shared
}

/// The attacker's view of stored bytes: envelopes of 2 owners x 2 cars x 3 days
/// (two records a day) have nothing in common beyond magic, version and suite, so
/// no stored byte string links an owner's or a car's records. Records of one day
/// of one car share their wrapped epoch key, as they share their address.
#[test]
fn envelopes_of_different_owners_cars_and_days_share_no_constant_bytes() -> CryptoResult<()> {
    let mut envelopes = Vec::new();
    let mut legacy = Vec::new();
    let mut epoch_id = 0;
    for owner_key in [owner(), grantee()] {
        let fingerprint = crate::keys::rsa_fingerprint_bytes(owner_key.as_public_key())
            .map_err(|_| CryptoError::PublicKeyEncoding)?;
        for car in 0..2u8 {
            for day in 0..3u8 {
                epoch_id += 1;
                let epoch = SealingEpoch::new(owner_key.as_public_key())?;
                let address = format!("bcrt1qcar{car}day{day}");
                for session in 0..2u8 {
                    let key = [0x10, 0x80, 0, 0, 0, 0, 0, 0, session];
                    let ctx = RecordContext {
                        address: &address,
                        key_bytes: &key,
                        format: "trip-gps",
                    };
                    let value = format!("{{\"VIN\":\"LSVCAR{car}\",\"day\":{day}}}");
                    let envelope = seal_with_record_key(value.as_bytes(), &key, &ctx, &epoch)?;
                    legacy.push((
                        epoch_id,
                        Envelope {
                            legacy_fingerprint: Some(fingerprint),
                            ..envelope.clone()
                        }
                        .to_bytes()?,
                    ));
                    envelopes.push((epoch_id, envelope.to_bytes()?));
                }
            }
        }
    }
    assert_eq!(envelopes.len(), 24);
    assert_eq!(shared_substrings(&envelopes), Vec::new());
    // The same check finds the v1 recipient fingerprint, which linked every record
    // of an owner across cars and days.
    assert!(shared_substrings(&legacy).len() > 100);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_value_and_context_round_trips(
        plaintext in proptest::collection::vec(any::<u8>(), 0..2048),
        address in "[a-z0-9]{0,64}",
        key_bytes in proptest::collection::vec(any::<u8>(), 0..64),
        format in "[a-zA-Z_-]{0,16}",
    ) {
        let wrapped = WrappedKey { ciphertext: vec![7; 256] };
        let epoch = SealingEpoch::from_parts(counting_epoch_key(), wrapped);
        let ctx = RecordContext { address: &address, key_bytes: &key_bytes, format: &format };
        let bytes = seal(&plaintext, &ctx, &epoch)?.to_bytes()?;
        let opened = Envelope::from_bytes(&bytes)?.open_with_epoch_key(&ctx, epoch.epoch_key())?;
        prop_assert_eq!(opened, plaintext);
    }

    #[test]
    fn arbitrary_bytes_parse_to_a_typed_result_and_re_encode_canonically(
        fingerprint in proptest::array::uniform32(any::<u8>()),
        wrapped_len in 0u16..64,
        rest in proptest::collection::vec(any::<u8>(), 0..160),
    ) {
        let mut framed_v1 = b"CCE\x01\x01".to_vec();
        framed_v1.extend_from_slice(&fingerprint);
        framed_v1.extend_from_slice(&wrapped_len.to_be_bytes());
        framed_v1.extend_from_slice(&rest);
        let mut framed_v2 = b"CCE\x02\x01".to_vec();
        framed_v2.extend_from_slice(&wrapped_len.to_be_bytes());
        framed_v2.extend_from_slice(&rest);
        for input in [&rest, &framed_v1, &framed_v2] {
            match Envelope::from_bytes(input) {
                Ok(envelope) => prop_assert_eq!(&envelope.to_bytes()?, input),
                Err(error) => {
                    let typed = matches!(
                        error,
                        CryptoError::Truncated { .. }
                            | CryptoError::Malformed(_)
                            | CryptoError::UnsupportedVersion(_)
                            | CryptoError::UnsupportedSuite(_)
                    );
                    prop_assert!(typed, "unexpected error {:?}", error);
                }
            }
        }
    }
}
