//! Token issue and spend on the node's tables: one issue per payment, retries answered
//! the same, double spends refused across a reopen.

use std::sync::OnceLock;

use bitcoin::secp256k1::SecretKey;
use carchain_core::protocol::signing::{public_key_of, sign_digest};
use carchain_core::tokens::PendingToken;

use super::*;

fn issuer() -> IssuerKeyPair {
    static KEY: OnceLock<IssuerKeyPair> = OnceLock::new();
    KEY.get_or_init(|| IssuerKeyPair::generate().unwrap_or_else(|e| panic!("{e}")))
        .clone()
}

fn payer() -> SecretKey {
    SecretKey::from_slice(&[7; 32]).unwrap_or_else(|e| panic!("{e}"))
}

fn terms(tokens: u64) -> impl FnOnce(&[u8; 32]) -> Result<PaymentTerms, ServiceError> {
    move |_| {
        Ok(PaymentTerms {
            payer: public_key_of(&payer()),
            tokens,
        })
    }
}

/// A signed request for `count` fresh tokens on `payment`, with the client's pending tokens.
fn request(
    tokens: &ReadTokens,
    payment: [u8; 32],
    count: usize,
) -> (IssueRequest, Vec<PendingToken>) {
    let pending = tokens
        .public()
        .blind(count)
        .unwrap_or_else(|e| panic!("{e}"));
    let blinded: Vec<Vec<u8>> = pending
        .iter()
        .map(|p| p.blinded_message().to_vec())
        .collect();
    let digest = token_issue_digest(
        &payment,
        &tokens.public().key_id().0,
        &batch_digest(&blinded),
    );
    let signature = sign_digest(&payer(), &digest).serialize_compact().to_vec();
    (
        IssueRequest {
            payment,
            blinded,
            signature,
        },
        pending,
    )
}

fn open(dir: &Path) -> ReadTokens {
    ReadTokens::open(&dir.join(TOKENS_FILE), issuer()).unwrap_or_else(|e| panic!("{e}"))
}

fn code<T: std::fmt::Debug>(outcome: Result<T, ServiceError>) -> ErrorCode {
    outcome
        .map(|_| ())
        .map_err(|e| e.code)
        .expect_err("refused")
}

#[test]
fn a_payment_issues_once_and_a_retry_gets_the_same_signatures() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let tokens = open(dir.path());
    let (ask, pending) = request(&tokens, [1; 32], 3);
    let signed = tokens
        .issue(&ask, terms(3))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(signed.len(), 3);
    let again = tokens
        .issue(&ask, terms(3))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again, signed, "a retried identical request");
    // Another batch on the same payment, even signed by the payer, buys nothing.
    let (other, _) = request(&tokens, [1; 32], 3);
    assert_eq!(code(tokens.issue(&other, terms(3))), ErrorCode::PaymentUsed);
    // The signatures finalize into tokens that spend once.
    for (p, s) in pending.iter().zip(&signed) {
        let token = tokens
            .public()
            .finalize(p, s)
            .unwrap_or_else(|e| panic!("{e}"));
        let checked = tokens
            .check(&token.to_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        tokens.spend(&checked).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(code(tokens.spend(&checked)), ErrorCode::TokenSpent);
    }
    assert_eq!(tokens.spent_count(), Ok(3));
}

#[test]
fn requests_not_signed_by_the_payer_or_of_the_wrong_size_buy_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let tokens = open(dir.path());
    let (mut ask, _) = request(&tokens, [2; 32], 2);
    // The count must be what the payment bought.
    assert_eq!(
        code(tokens.issue(&ask, terms(3))),
        ErrorCode::InvalidRequest
    );
    // Someone else's key signed it.
    let thief = SecretKey::from_slice(&[9; 32]).unwrap_or_else(|e| panic!("{e}"));
    let thief_terms = move |_: &[u8; 32]| {
        Ok(PaymentTerms {
            payer: public_key_of(&thief),
            tokens: 2,
        })
    };
    assert_eq!(
        code(tokens.issue(&ask, thief_terms)),
        ErrorCode::BadSignature
    );
    // A swapped message breaks the signature.
    let (swap, _) = request(&tokens, [2; 32], 1);
    let original = ask.blinded[1].clone();
    ask.blinded[1] = swap.blinded[0].clone();
    assert_eq!(code(tokens.issue(&ask, terms(2))), ErrorCode::BadSignature);
    ask.blinded[1] = original;
    ask.signature.truncate(10);
    assert_eq!(code(tokens.issue(&ask, terms(2))), ErrorCode::BadSignature);
    // Not a payment.
    let unpaid = |_: &[u8; 32]| -> Result<PaymentTerms, ServiceError> {
        Err(ServiceError::new(
            ErrorCode::PaymentRequired,
            "no such payment",
        ))
    };
    let (fresh, _) = request(&tokens, [3; 32], 1);
    assert_eq!(
        code(tokens.issue(&fresh, unpaid)),
        ErrorCode::PaymentRequired
    );
    // None of the refusals used the payment: the right request still works.
    let (good, _) = request(&tokens, [2; 32], 2);
    assert!(tokens.issue(&good, terms(2)).is_ok());
    let empty = IssueRequest {
        payment: [4; 32],
        blinded: Vec::new(),
        signature: Vec::new(),
    };
    assert_eq!(
        code(tokens.issue(&empty, terms(0))),
        ErrorCode::InvalidRequest
    );
}

#[test]
fn spent_tokens_stay_spent_after_a_reopen_and_bad_tokens_are_typed() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let bytes = {
        let tokens = open(dir.path());
        let (ask, pending) = request(&tokens, [5; 32], 2);
        let signed = tokens
            .issue(&ask, terms(2))
            .unwrap_or_else(|e| panic!("{e}"));
        let token = tokens
            .public()
            .finalize(&pending[0], &signed[0])
            .unwrap_or_else(|e| panic!("{e}"));
        let checked = tokens
            .check(&token.to_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        tokens.spend(&checked).unwrap_or_else(|e| panic!("{e}"));
        token.to_bytes()
    };
    let tokens = open(dir.path());
    let checked = tokens.check(&bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(code(tokens.spend(&checked)), ErrorCode::TokenSpent);
    assert_eq!(code(tokens.check(&bytes[..40])), ErrorCode::TokenMalformed);
    let mut forged = bytes.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert_eq!(code(tokens.check(&forged)), ErrorCode::TokenInvalid);
    let mut other_key = bytes;
    other_key[1] ^= 1;
    assert_eq!(code(tokens.check(&other_key)), ErrorCode::TokenWrongKey);
}
