//! Adversary (c): a third party that saw the request log (in transit) and the ledger,
//! and replays every token, ticket or payment id from its own client, straight to the
//! node. Two ways:
//! - verbatim: every logged request that carried a token-like header value or (for a
//!   JSON body) a token-like field, sent again as it was;
//! - transplanted: every token-like header value of the log and every transaction id of
//!   the ledger, put in the token header of a logged paid read.
//!
//! A replay "buys" something when it is answered 2xx with a body of 64 bytes or more
//! while the same request with its tokens replaced by random ones of the same shape is
//! refused: the token, not the request, got the answer. A replayed request that is not
//! a read (a token purchase) buys something only when the node answers it with
//! something new: the node repeating, byte for byte, the answer the payer already got
//! (blind signatures only the payer's blinding secrets turn into tokens) gives the thief
//! nothing.
//!
//! Verbatim candidates are the requests that carried a token-like header value, or a
//! JSON body with a payment, token, ticket, credential or blinded-message field that is
//! set; a car's signed record puts are not payments (their replay lands on what is
//! already stored, and the ledger refuses a replayed registration by its nonce).

use std::collections::BTreeSet;

use carchain_core::protocol::hashing::sha256;
use reqwest::Method;
use serde_json::Value;

use super::ledger::PublicLedger;
use super::operator_attack::STANDARD_HEADERS;
use super::proxy::LoggedRequest;

/// Most verbatim replays tried (spread evenly over the candidates).
pub const MAX_VERBATIM: usize = 400;

/// What the thief got.
#[derive(Debug, Clone, Default)]
pub struct ReplayFindings {
    /// Verbatim replays tried.
    pub verbatim_tried: usize,
    /// Verbatim replays that bought an answer.
    pub verbatim_bought: usize,
    /// Stolen tokens and ledger ids transplanted.
    pub transplants_tried: usize,
    /// Transplants that bought an answer.
    pub transplants_bought: usize,
    /// Examples of what worked (method and route), for the report.
    pub examples: BTreeSet<String>,
}

impl ReplayFindings {
    /// Every replay that bought something.
    pub fn bought(&self) -> usize {
        self.verbatim_bought + self.transplants_bought
    }
}

/// Whether `value` looks like a token: 16+ characters of hex, base64 or base64url.
pub fn token_like(value: &[u8]) -> bool {
    value.len() >= 16
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=_-.".contains(b))
        && value.iter().any(u8::is_ascii_digit)
}

/// An unpredictable string of `len` lower-case hex digits.
fn random_hex(len: usize) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut text = String::new();
    let mut block = 0u64;
    while text.len() < len {
        text.push_str(&hex::encode(sha256(&[
            b"replay-control",
            &n.to_be_bytes(),
            &now.to_be_bytes(),
            &block.to_be_bytes(),
        ])));
        block += 1;
    }
    text.truncate(len);
    text
}

/// `value` with every token-like string leaf replaced by random hex of its length.
fn scramble_json(value: &mut Value) -> bool {
    match value {
        Value::String(text) if token_like(text.as_bytes()) && !super::fields::is_address(text) => {
            *text = random_hex(text.len());
            true
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |any, v| scramble_json(v) | any),
        Value::Object(map) => map
            .values_mut()
            .fold(false, |any, v| scramble_json(v) | any),
        _ => false,
    }
}

/// The token headers of a request.
fn token_headers(request: &LoggedRequest) -> Vec<(String, Vec<u8>)> {
    request
        .headers
        .iter()
        .filter(|(name, value)| !STANDARD_HEADERS.contains(&name.as_str()) && token_like(value))
        .cloned()
        .collect()
}

struct Thief {
    http: reqwest::Client,
    node: String,
}

impl Thief {
    /// Sends `request` with `headers` and `body`; (2xx, body length).
    async fn send(
        &self,
        request: &LoggedRequest,
        headers: &[(String, Vec<u8>)],
        body: &[u8],
    ) -> (bool, usize, [u8; 32]) {
        let url = if request.query.is_empty() {
            format!("{}{}", self.node, request.path)
        } else {
            format!("{}{}?{}", self.node, request.path, request.query)
        };
        let method = Method::from_bytes(request.method.as_bytes()).unwrap_or(Method::GET);
        let mut builder = self.http.request(method, url).body(body.to_vec());
        for (name, value) in headers {
            if !["host", "content-length", "connection"].contains(&name.as_str()) {
                builder = builder.header(name.as_str(), value.as_slice());
            }
        }
        match builder.send().await {
            Ok(answer) => {
                let ok = answer.status().is_success();
                let bytes = answer.bytes().await.unwrap_or_default();
                (ok, bytes.len(), sha256(&[&bytes]))
            }
            Err(_) => (false, 0, [0; 32]),
        }
    }

    /// `request` with its tokens scrambled (headers and JSON body).
    fn control(request: &LoggedRequest) -> (Vec<(String, Vec<u8>)>, Vec<u8>) {
        let headers = request
            .headers
            .iter()
            .map(|(name, value)| {
                if !STANDARD_HEADERS.contains(&name.as_str()) && token_like(value) {
                    (name.clone(), random_hex(value.len()).into_bytes())
                } else {
                    (name.clone(), value.clone())
                }
            })
            .collect();
        let body = match serde_json::from_slice::<Value>(&request.body) {
            Ok(mut json) => {
                scramble_json(&mut json);
                serde_json::to_vec(&json).unwrap_or_default()
            }
            Err(_) => request.body.clone(),
        };
        (headers, body)
    }
}

/// Field names that carry a payment, a token or what buys one.
const PAYMENT_FIELDS: &[&str] = &[
    "payment",
    "token",
    "tokens",
    "ticket",
    "credential",
    "blinded",
];

/// Whether a JSON body carries a payment, token, ticket, credential or blinded-message
/// field that is set (at any depth).
fn body_tokens(request: &LoggedRequest) -> bool {
    fn has_payment(value: &Value) -> bool {
        match value {
            Value::Object(map) => map.iter().any(|(name, v)| {
                (PAYMENT_FIELDS.contains(&name.as_str()) && !v.is_null()) || has_payment(v)
            }),
            Value::Array(items) => items.iter().any(has_payment),
            _ => false,
        }
    }
    serde_json::from_slice::<Value>(&request.body).is_ok_and(|json| has_payment(&json))
}

/// Replays what the thief saw against `node`.
pub async fn attack(node: &str, log: &[LoggedRequest], ledger: &PublicLedger) -> ReplayFindings {
    let thief = Thief {
        http: reqwest::Client::new(),
        node: node.trim_end_matches('/').to_owned(),
    };
    let mut found = ReplayFindings::default();

    // Verbatim. Ledger submissions are left out: a transaction is public anyway and
    // the ledger refuses a replayed one by its nonce.
    let candidates: Vec<&LoggedRequest> = log
        .iter()
        .filter(|r| r.path != "/v1/tx")
        .filter(|r| !token_headers(r).is_empty() || body_tokens(r))
        .collect();
    let step = candidates.len().div_ceil(MAX_VERBATIM).max(1);
    for request in candidates.iter().step_by(step) {
        found.verbatim_tried += 1;
        let (ok, len, answer) = thief.send(request, &request.headers, &request.body).await;
        if !ok || len < 64 {
            continue;
        }
        if request.method != "GET" && answer == request.response_hash {
            continue; // the payer's own answer, repeated: nothing new for the thief
        }
        let (headers, body) = Thief::control(request);
        let (control_ok, _, _) = thief.send(request, &headers, &body).await;
        if !control_ok {
            found.verbatim_bought += 1;
            found.examples.insert(format!(
                "verbatim {} {}",
                request.method,
                first_segments(&request.path)
            ));
        }
    }

    // Transplanted: one paid read per token header name as the template.
    let mut stolen: BTreeSet<Vec<u8>> = log
        .iter()
        .flat_map(token_headers)
        .map(|(_, value)| value)
        .collect();
    stolen.extend(ledger.txs.iter().map(|tx| tx.id.clone().into_bytes()));
    let mut templates: Vec<(&LoggedRequest, String)> = Vec::new();
    for request in log
        .iter()
        .filter(|r| r.method == "GET" && (200..300).contains(&r.status))
    {
        for (name, _) in token_headers(request) {
            if !templates.iter().any(|(_, n)| *n == name) {
                templates.push((request, name));
            }
        }
    }
    for (template, name) in templates {
        let (control_headers, _) = Thief::control(template);
        let (control_ok, _, _) = thief.send(template, &control_headers, &template.body).await;
        if control_ok {
            continue; // this read is free: nothing to buy
        }
        for token in &stolen {
            found.transplants_tried += 1;
            let headers: Vec<(String, Vec<u8>)> = control_headers
                .iter()
                .map(|(n, v)| {
                    if *n == name {
                        (n.clone(), token.clone())
                    } else {
                        (n.clone(), v.clone())
                    }
                })
                .collect();
            let (ok, len, _) = thief.send(template, &headers, &template.body).await;
            if ok && len >= 64 {
                found.transplants_bought += 1;
                found.examples.insert(format!(
                    "transplant into {name} of {} {}",
                    template.method,
                    first_segments(&template.path)
                ));
            }
        }
    }
    found
}

/// `/v1/kv/...` -> `/v1/kv`, for reports.
fn first_segments(path: &str) -> String {
    path.split('/').take(3).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_recognised_and_scrambled() {
        assert!(token_like(b"3f9a0c1d2e3f4a5b6c7d8e9f00112233"));
        assert!(token_like(b"AbCdEf0123456789+/=="));
        assert!(!token_like(b"short1"));
        assert!(!token_like(b"application/json; charset=utf-8"));
        assert!(!token_like(b"reqwest-client-library"), "no digit, a name");
        let mut body = serde_json::json!({"token": "00ff".repeat(8), "n": 3, "s": "plain"});
        assert!(scramble_json(&mut body));
        assert_ne!(body["token"], "00ff".repeat(8));
        assert_eq!(body["token"].as_str().unwrap().len(), 32);
        assert_eq!(body["s"], "plain");
    }
}
