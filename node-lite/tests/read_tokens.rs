//! Read tokens on the real binary, played by their adversaries: a third party replaying
//! every payment id, issue request and token it saw buys nothing; the tokens of one
//! purchase are unlinkable to each other and to what the node signed; a token spent
//! just before a SIGKILL stays spent after the restart.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use carchain_core::tokens::Token;
use common::*;
use serde_json::Value;

const FUNDS: u64 = 1_000_000;

/// A car that stored `count` records under its own address; returns (car, keys, values).
async fn stored(base: &str, car: &Wallet, count: u64) -> Vec<(Vec<u8>, Vec<u8>)> {
    let records: Vec<(Vec<u8>, Vec<u8>)> = (0..count)
        .map(|i| {
            (
                vec![0x10, i as u8],
                format!("sealed value {i}").into_bytes(),
            )
        })
        .collect();
    let items: Vec<Value> = records
        .iter()
        .zip(0..)
        .map(|((key, value), nonce)| record_item(&car.record_put(nonce, key, value), value, None))
        .collect();
    let (code, body) = put_records(base, &items).await;
    assert_eq!(code, 200, "{body}");
    records
}

/// GET with a raw token header value; `(status, error code or "")`.
async fn read_with(base: &str, address: &str, key: &[u8], token: &str) -> (u16, String) {
    let response = client()
        .get(format!("{base}/v1/kv/{address}/{}", hex::encode(key)))
        .header("x-carchain-token", token)
        .send()
        .await
        .expect("get");
    let status = response.status().as_u16();
    if status == 200 {
        return (status, String::new());
    }
    let body: Value = response.json().await.expect("error body");
    (
        status,
        body["error"]["code"].as_str().unwrap_or("").to_owned(),
    )
}

/// Every 8-byte window of `bytes`.
/// Asserts that `payer` cannot have `purchase`'s payment issue `count` more tokens: a
/// payment issues once (409 payment_used).
async fn assert_payment_used(base: &str, payer: &Wallet, purchase: &Purchase, count: usize) {
    let (key, _) = token_key(base).await;
    let again = issue_body(
        payer,
        &purchase.payment.id(),
        &key,
        &key.blind(count).expect("blind"),
    );
    let (code, body) = post_tokens(base, &again).await;
    assert_error(code, &body, 409, "payment_used");
}

fn windows(bytes: &[u8]) -> std::collections::HashSet<[u8; 8]> {
    bytes
        .windows(8)
        .map(|w| <[u8; 8]>::try_from(w).expect("8 bytes"))
        .collect()
}

#[tokio::test]
async fn a_third_party_replaying_every_payment_request_and_token_it_saw_buys_nothing() {
    let ([car, owner, thief], chain, node) = funded_keys_node([31, 32, 33], FUNDS);
    let records = stored(&node.base, &car, 3).await;
    let purchase = buy_tokens(&node.base, &owner, 0, &chain.operator_address, 4).await;
    // The owner reads one record: the thief captures that request's token.
    let (status, _) = read_with(&node.base, &car.address, &records[0].0, &purchase.tokens[0]).await;
    assert_eq!(status, 200);

    // 1. The payment id from the ledger, as an old-style ticket or as a token: nothing.
    let payment_hex = hex::encode(purchase.payment.id());
    let (status, code) = read_with(&node.base, &car.address, &records[1].0, &payment_hex).await;
    assert_eq!((status, code.as_str()), (402, "token_malformed"));
    let unpaid = client()
        .get(format!(
            "{}/v1/kv/{}/{}",
            node.base,
            car.address,
            hex::encode(&records[1].0)
        ))
        .header("x-carchain-ticket", &payment_hex)
        .send()
        .await
        .expect("get");
    assert_eq!(unpaid.status(), 402);

    // 2. The payment claimed with the thief's own blinded messages, signed by the thief
    // or with the owner's captured signature: refused.
    let (key, _) = token_key(&node.base).await;
    let pending = key.blind(4).expect("blind");
    let own = issue_body(&thief, &purchase.payment.id(), &key, &pending);
    let (code, body) = post_tokens(&node.base, &own).await;
    assert_error(code, &body, 401, "bad_signature");
    let mut borrowed = own.clone();
    borrowed["signature"] = purchase.request["signature"].clone();
    let (code, body) = post_tokens(&node.base, &borrowed).await;
    assert_error(code, &body, 401, "bad_signature");

    // 3. The captured issue request replayed: the same blind signatures come back, over
    // the owner's blinded messages, which only the owner can unblind. Used as token
    // signatures over any message, they do not verify.
    let (code, replayed) = post_tokens(&node.base, &purchase.request).await;
    assert_eq!(code, 200, "{replayed}");
    for signature in replayed["signatures"].as_array().expect("signatures") {
        let signature = BASE64
            .decode(signature.as_str().expect("text"))
            .expect("base64");
        for message in [[0u8; 32], [7u8; 32]] {
            let forged = Token {
                key_id: key.key_id(),
                message,
                randomizer: [1; 32],
                signature: signature.clone(),
            };
            let (status, code) = read_with(
                &node.base,
                &car.address,
                &records[1].0,
                &hex::encode(forged.to_bytes()),
            )
            .await;
            assert_eq!((status, code.as_str()), (402, "token_invalid"));
        }
        // Nor do the thief's own messages finalize with them.
        assert!(key.finalize(&pending[0], &signature).is_err());
    }

    // 4. The captured token, replayed for another address's read: spent.
    let (status, code) =
        read_with(&node.base, &car.address, &records[1].0, &purchase.tokens[0]).await;
    assert_eq!((status, code.as_str()), (402, "token_spent"));

    // 5. A second payment of the thief's own cannot be stretched either: one issue each.
    let own_purchase = buy_tokens(&node.base, &thief, 0, &chain.operator_address, 1).await;
    assert_payment_used(&node.base, &thief, &own_purchase, 1).await;

    // The owner's remaining tokens are untouched by all of it.
    for (token, (key, value)) in purchase.tokens[1..].iter().zip(&records) {
        assert_eq!(
            get_value(&node.base, &car.address, key, Some(token)).await,
            Some(value.clone())
        );
    }
}

#[tokio::test]
async fn tokens_of_one_purchase_share_nothing_an_operator_could_link() {
    let owner = Wallet::from_byte(34);
    let chain = init_chain(&[(&owner.address, FUNDS)]);
    let node = NodeProcess::start(&chain.data_dir(), &[]);
    let purchase = buy_tokens(&node.base, &owner, 0, &chain.operator_address, 6).await;
    let (key, _) = token_key(&node.base).await;
    let key_id = windows(&key.key_id().0);
    // What the operator saw at issue time: the blinded messages and its answers.
    let (_, issued) = post_tokens(&node.base, &purchase.request).await;
    let mut seen = std::collections::HashSet::new();
    for field in [&purchase.request["blinded"], &issued["signatures"]] {
        for item in field.as_array().expect("array") {
            seen.extend(windows(
                &BASE64.decode(item.as_str().expect("text")).expect("b64"),
            ));
        }
    }
    let tokens: Vec<Vec<u8>> = purchase
        .tokens
        .iter()
        .map(|t| hex::decode(t).expect("hex"))
        .collect();
    for (i, token) in tokens.iter().enumerate() {
        // Past the version byte and the key id (shared by every token of the node).
        let mine = windows(&token[33..]);
        assert!(
            mine.is_disjoint(&seen),
            "a token shares bytes with its issue"
        );
        assert!(mine.is_disjoint(&key_id));
        for other in &tokens[i + 1..] {
            assert!(
                mine.is_disjoint(&windows(&other[33..])),
                "two tokens share bytes"
            );
        }
    }
}

#[tokio::test]
async fn a_token_spent_before_a_sigkill_stays_spent_after_the_restart() {
    let car = Wallet::from_byte(35);
    let owner = Wallet::from_byte(36);
    let chain = init_chain(&[(&car.address, FUNDS), (&owner.address, FUNDS)]);
    let node = NodeProcess::start(&chain.data_dir(), &[]);
    let records = stored(&node.base, &car, 1).await;
    let purchase = buy_tokens(&node.base, &owner, 0, &chain.operator_address, 2).await;
    let token = Token::from_bytes(&hex::decode(&purchase.tokens[0]).expect("hex")).expect("token");

    // The read goes out on a raw connection whose answer is never read; as soon as the
    // token shows in the spent table, the node is killed.
    let address = node.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).expect("connect");
    write!(
        stream,
        "GET /v1/kv/{}/{} HTTP/1.1\r\nhost: {address}\r\nx-carchain-token: {}\r\n\r\n",
        car.address,
        hex::encode(&records[0].0),
        purchase.tokens[0]
    )
    .expect("send");
    let spent_table = chain.data_dir().join("tokens.sqlite");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let db = rusqlite::Connection::open_with_flags(
            &spent_table,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open tokens");
        let spent: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM spent_tokens WHERE token_id = ?1",
                [token.token_id().as_slice()],
                |row| row.get(0),
            )
            .expect("query");
        if spent == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the read never spent its token");
        std::thread::sleep(Duration::from_millis(1));
    }
    node.kill();
    drop(stream);

    let node = NodeProcess::start(&chain.data_dir(), &[]);
    // The answer was lost, the token counts as spent: it buys no second read.
    let (status, code) =
        read_with(&node.base, &car.address, &records[0].0, &purchase.tokens[0]).await;
    assert_eq!((status, code.as_str()), (402, "token_spent"));
    // The rest of the purchase survived the restart: the next token reads.
    assert_eq!(
        get_value(
            &node.base,
            &car.address,
            &records[0].0,
            Some(&purchase.tokens[1])
        )
        .await,
        Some(records[0].1.clone())
    );
    // And the payment stays used: it issues nothing new after the restart.
    assert_payment_used(&node.base, &owner, &purchase, 2).await;
}
