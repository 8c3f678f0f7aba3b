//! Token tests: issuing, verifying, refusing, encodings, and that nothing the issuer saw
//! at signing time shows in the finalized token.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::*;

/// Key generation takes a while: two keys shared by every test.
fn keys() -> &'static (IssuerKeyPair, IssuerKeyPair) {
    static KEYS: OnceLock<(IssuerKeyPair, IssuerKeyPair)> = OnceLock::new();
    KEYS.get_or_init(|| {
        (
            IssuerKeyPair::generate().unwrap(),
            IssuerKeyPair::generate().unwrap(),
        )
    })
}

/// `count` tokens of `issuer`, with what the issuer saw: blinded messages and its answers.
fn issue(issuer: &IssuerKeyPair, count: usize) -> (Vec<Token>, Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let public = issuer.public();
    let pending = public.blind(count).unwrap();
    let blinded: Vec<Vec<u8>> = pending
        .iter()
        .map(|p| p.blinded_message().to_vec())
        .collect();
    let signed = issuer.blind_sign_batch(&blinded).unwrap();
    let tokens = pending
        .iter()
        .zip(&signed)
        .map(|(p, s)| public.finalize(p, s).unwrap())
        .collect();
    (tokens, blinded, signed)
}

/// Every 8-byte window of `bytes`.
fn windows(bytes: &[u8]) -> HashSet<[u8; 8]> {
    bytes
        .windows(8)
        .map(|w| <[u8; 8]>::try_from(w).unwrap())
        .collect()
}

#[test]
fn a_token_verifies_and_survives_its_encoding() {
    let (issuer, _) = keys();
    let (tokens, _, _) = issue(issuer, 3);
    for token in &tokens {
        issuer.public().verify(token).unwrap();
        let decoded = Token::from_bytes(&token.to_bytes()).unwrap();
        assert_eq!(&decoded, token);
        assert_eq!(decoded.token_id(), token.token_id());
        issuer.public().verify(&decoded).unwrap();
    }
    let ids: HashSet<[u8; 32]> = tokens.iter().map(Token::token_id).collect();
    assert_eq!(ids.len(), 3, "each token has its own id");
}

#[test]
fn a_token_of_another_key_is_refused() {
    let (issuer, other) = keys();
    let (tokens, _, _) = issue(other, 1);
    let token = &tokens[0];
    assert_eq!(issuer.public().verify(token), Err(TokenError::WrongKey));
    // Relabelled as the issuer's, its signature does not verify.
    let mut relabelled = token.clone();
    relabelled.key_id = issuer.public().key_id();
    assert_eq!(
        issuer.public().verify(&relabelled),
        Err(TokenError::BadSignature)
    );
    // A blind signature of another key does not finalize. (A message blinded under the
    // issuer's modulus is above the other key's modulus about half the time when that one
    // is smaller; blind again until the other key can sign it.)
    let (pending, foreign) = (0..64)
        .find_map(|_| {
            let pending = issuer.public().blind(1).unwrap();
            let signed = other.blind_sign(pending[0].blinded_message()).ok()?;
            Some((pending, signed))
        })
        .expect("a message below both moduli");
    assert_eq!(
        issuer.public().finalize(&pending[0], &foreign),
        Err(TokenError::BadBlindSignature)
    );
    assert_eq!(
        other.public().finalize(&pending[0], &foreign),
        Err(TokenError::WrongKey)
    );
}

#[test]
fn any_changed_byte_is_refused() {
    let (issuer, _) = keys();
    let (tokens, _, _) = issue(issuer, 1);
    let bytes = tokens[0].to_bytes();
    for index in 0..bytes.len() {
        let mut changed = bytes.clone();
        changed[index] ^= 0x01;
        let outcome = Token::from_bytes(&changed).and_then(|t| issuer.public().verify(&t));
        let code = outcome.expect_err("a changed byte must not verify").code();
        assert!(
            ["token.malformed", "token.wrong_key", "token.bad_signature"].contains(&code),
            "byte {index}: {code}"
        );
    }
    let truncated = Token::from_bytes(&bytes[..bytes.len() - 1]).unwrap_err();
    assert_eq!(truncated.code(), "token.malformed");
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        Token::from_bytes(&longer).unwrap_err().code(),
        "token.malformed"
    );
    assert_eq!(
        Token::from_bytes(&[]).unwrap_err().code(),
        "token.malformed"
    );
}

#[test]
fn the_issuer_cannot_link_a_token_to_what_it_signed() {
    let (issuer, _) = keys();
    let (tokens, blinded, signed) = issue(issuer, 4);
    let seen: HashSet<[u8; 8]> = blinded
        .iter()
        .chain(&signed)
        .flat_map(|bytes| windows(bytes))
        .collect();
    for token in &tokens {
        for part in [
            &token.message[..],
            &token.randomizer[..],
            &token.signature[..],
        ] {
            assert!(
                windows(part).is_disjoint(&seen),
                "a token shares bytes with a blinded message or blind signature"
            );
        }
        assert!(!windows(&token.token_id()).iter().any(|w| seen.contains(w)));
    }
}

#[test]
fn tokens_of_one_batch_share_nothing_but_the_key_id() {
    let (issuer, _) = keys();
    let (tokens, _, _) = issue(issuer, 5);
    let key_id = windows(&issuer.public().key_id().0);
    for (i, a) in tokens.iter().enumerate() {
        let mine: HashSet<[u8; 8]> = windows(&a.to_bytes()[33..]);
        for b in &tokens[i + 1..] {
            let theirs = windows(&b.to_bytes()[33..]);
            let common: Vec<_> = mine.intersection(&theirs).collect();
            assert!(common.is_empty(), "two tokens share {common:?}");
        }
        assert!(mine.is_disjoint(&key_id));
    }
}

#[test]
fn keys_survive_der_and_keep_their_id() {
    let (issuer, _) = keys();
    let der = issuer.to_der().unwrap();
    let again = IssuerKeyPair::from_der(&der).unwrap();
    assert_eq!(again.public().key_id(), issuer.public().key_id());
    let public = IssuerPublicKey::from_der(issuer.public().der()).unwrap();
    assert_eq!(public, *issuer.public());
    assert_eq!(public.modulus_len(), ISSUER_KEY_BITS / 8);
    // A token issued before the reload verifies after it.
    let (tokens, _, _) = issue(issuer, 1);
    public.verify(&tokens[0]).unwrap();
    again.public().verify(&tokens[0]).unwrap();
    assert_eq!(
        IssuerPublicKey::from_der(b"not a key").unwrap_err().code(),
        "token.bad_key"
    );
    assert_eq!(
        IssuerKeyPair::from_der(issuer.public().der())
            .unwrap_err()
            .code(),
        "token.bad_key"
    );
}

#[test]
fn a_pending_token_survives_its_encoding() {
    let (issuer, _) = keys();
    let pending = issuer.public().blind(1).unwrap();
    let bytes = pending[0].to_bytes().unwrap();
    let back = PendingToken::from_bytes(&bytes).unwrap();
    assert_eq!(back.blinded_message(), pending[0].blinded_message());
    let signed = issuer.blind_sign(back.blinded_message()).unwrap();
    let token = issuer.public().finalize(&back, &signed).unwrap();
    issuer.public().verify(&token).unwrap();
    assert_eq!(
        PendingToken::from_bytes(&bytes[..bytes.len() - 1])
            .unwrap_err()
            .code(),
        "token.malformed"
    );
}

#[test]
fn bad_blinded_messages_and_batch_sizes_are_refused() {
    let (issuer, _) = keys();
    let size = issuer.public().modulus_len();
    let short = issuer.blind_sign(&vec![1; size - 1]).unwrap_err();
    assert_eq!(short.code(), "token.bad_blinded_message");
    let above = issuer.blind_sign(&vec![0xff; size]).unwrap_err();
    assert_eq!(above.code(), "token.bad_blinded_message");
    let none: [Vec<u8>; 0] = [];
    assert_eq!(
        issuer.blind_sign_batch(&none).unwrap_err().code(),
        "token.batch_size"
    );
    assert_eq!(
        issuer.public().blind(MAX_BATCH + 1).unwrap_err(),
        TokenError::BatchSize {
            found: MAX_BATCH + 1,
            max: MAX_BATCH
        }
    );
    // One bad message fails the whole batch.
    let pending = issuer.public().blind(2).unwrap();
    let batch = vec![pending[0].blinded_message().to_vec(), vec![0; 3]];
    assert!(issuer.blind_sign_batch(&batch).is_err());
}

#[test]
fn the_batch_digest_binds_every_message_and_their_order() {
    let a = batch_digest(&[b"one".to_vec(), b"two".to_vec()]);
    assert_ne!(a, batch_digest(&[b"two".to_vec(), b"one".to_vec()]));
    assert_ne!(a, batch_digest(&[b"onetwo".to_vec()]));
    assert_ne!(a, batch_digest(&[b"one".to_vec()]));
    assert_eq!(a, batch_digest(&[b"one".to_vec(), b"two".to_vec()]));
}

#[test]
fn secrets_never_show_in_debug() {
    let (issuer, _) = keys();
    let (tokens, _, _) = issue(issuer, 1);
    let pending = issuer.public().blind(1).unwrap();
    let shown = format!("{issuer:?} {:?} {:?}", tokens[0], pending[0]);
    assert!(shown.contains(&issuer.public().key_id().to_string()));
    assert!(!shown.contains(&hex::encode(tokens[0].message)));
    assert!(!shown.contains(&hex::encode(&tokens[0].signature[..16])));
    let der = issuer.to_der().unwrap();
    assert!(!shown.contains(&hex::encode(&der[40..56])));
    assert!(!shown.contains(&format!("{:?}", &pending[0].blinded_message()[..8])));
}
