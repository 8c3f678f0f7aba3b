//! One node over HTTP: the raw JSON calls of the node API, each with a timeout, every
//! failure typed (unreachable, refused with the node's code, unreadable answer).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::{Client, RequestBuilder, Response, StatusCode, Url};
use serde::de::DeserializeOwned;

use super::client::TOKEN_ATTEMPTS;
use super::error::{LightError, LightResult};
use super::types::{ItemRefusal, PutOutcome, RecordUpload, UploadResult, WriteCredential};
use super::wire::{
    CredentialKeyWire, CredentialRequestWire, CredentialsWire, ErrorWire, HeadersWire, IssueWire,
    IssuedWire, NodeStatusView, PutWire, RangeWire, ReceiptWire, RecordItemWire, RecordResultWire,
    RecordsAnswerWire, RecordsWire, StateAnswerWire, SubmitWire, TokenKeyWire,
};
use crate::protocol::api::ErrorCode;
use crate::protocol::{SignedHeader, SignedTransaction};
use crate::tokens::IssuerPublicKey;

/// A blind-signature issuer a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issuer {
    /// Read tokens, paying reads on a shared node.
    ReadTokens,
    /// Fee stamps, paying a car's puts without naming its account.
    FeeStamps,
}

impl Issuer {
    fn path(self) -> &'static str {
        match self {
            Issuer::ReadTokens => "tokens",
            Issuer::FeeStamps => "stamps",
        }
    }

    /// What the issuer signs, for messages.
    pub fn what(self) -> &'static str {
        match self {
            Issuer::ReadTokens => "token",
            Issuer::FeeStamps => "stamp",
        }
    }
}

impl TokenKeyWire {
    /// The issuer key this answer carries, checked: base64 DER whose hash is the key id
    /// announced beside it. `endpoint` names the node in errors.
    pub fn issuer_key(&self, endpoint: &str, issuer: Issuer) -> LightResult<IssuerPublicKey> {
        let what = issuer.what();
        let der = BASE64
            .decode(&self.public_key)
            .map_err(|_| LightError::BadAnswer {
                endpoint: endpoint.to_owned(),
                reason: format!("the {what} key is not base64"),
            })?;
        let key = IssuerPublicKey::from_der(&der)?;
        if key.key_id().0 != self.key_id {
            return Err(LightError::Tampered(format!(
                "the {what} key id is not the hash of the key"
            )));
        }
        Ok(key)
    }
}

/// Timeout of one ordinary request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Timeout of a submission that waits for its block.
pub const SUBMIT_WAIT_TIMEOUT: Duration = Duration::from_secs(60);
/// Header carrying a put's write credential (hex), private nodes only.
pub const CREDENTIAL_HEADER: &str = "x-carchain-credential";
/// Header carrying one read token (hex of its bytes).
pub const TOKEN_HEADER: &str = "x-carchain-token";

/// An HTTP client as the light client builds them (its own connection pool).
pub fn http_client() -> LightResult<Client> {
    Client::builder()
        .connect_timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|err| LightError::InvalidInput(format!("HTTP client: {err}")))
}

/// One page of a KV range: its records, the cursor of the next page and, on a proven
/// page, the address index.
#[derive(Debug)]
pub struct RangePage {
    /// The page's records, key order.
    pub items: super::records::RangeItems,
    /// The cursor of the next page, `None` at the end.
    pub next: Option<Vec<u8>>,
    /// A proven page's address index with its proof (unchecked here).
    pub index: Option<super::wire::StateAnswerWire>,
}

/// One node's HTTP API.
#[derive(Debug, Clone)]
pub struct NodeHttp {
    base: Url,
    label: String,
    client: Client,
}

impl NodeHttp {
    /// A node at `base` (e.g. `http://127.0.0.1:8080`), sharing `client`'s connections.
    pub fn new(base: &str, client: Client) -> LightResult<Self> {
        let (url, label) = Self::check_base(base)?;
        Ok(NodeHttp {
            base: url,
            label,
            client,
        })
    }

    /// `base` as a node's http(s) base URL, with its label (the trimmed text).
    pub fn check_base(base: &str) -> LightResult<(Url, String)> {
        let trimmed = base.trim().trim_end_matches('/');
        let url = Url::parse(trimmed)
            .map_err(|err| LightError::InvalidInput(format!("bad endpoint {trimmed}: {err}")))?;
        if url.cannot_be_a_base() || !matches!(url.scheme(), "http" | "https") {
            return Err(LightError::InvalidInput(format!(
                "endpoint {trimmed} is not an http(s) base URL"
            )));
        }
        Ok((url, trimmed.to_owned()))
    }

    /// The same node reached through `client` (its own connections).
    pub fn with_client(&self, client: Client) -> NodeHttp {
        NodeHttp {
            base: self.base.clone(),
            label: self.label.clone(),
            client,
        }
    }

    /// The same node over a client of its own: no connection is shared with `self` or
    /// any other copy. One address's read (its status, headers, proofs and pages) runs
    /// on one such copy, so the node cannot tie two addresses' reads by connection.
    pub fn fresh(&self) -> LightResult<Self> {
        Ok(self.with_client(http_client()?))
    }

    /// The base URL as given.
    pub fn label(&self) -> &str {
        &self.label
    }

    fn url(&self, segments: &[&str]) -> LightResult<Url> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| LightError::InvalidInput(format!("endpoint {} has no path", self.label)))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    fn network_error(&self, err: reqwest::Error) -> LightError {
        LightError::Network {
            endpoint: self.label.clone(),
            reason: err.without_url().to_string(),
        }
    }

    fn bad_answer(&self, reason: impl Into<String>) -> LightError {
        LightError::BadAnswer {
            endpoint: self.label.clone(),
            reason: reason.into(),
        }
    }

    async fn send(&self, request: RequestBuilder) -> LightResult<Response> {
        request.send().await.map_err(|err| self.network_error(err))
    }

    async fn refusal(&self, response: Response) -> LightError {
        let status = response.status();
        match response.json::<ErrorWire>().await {
            Ok(body) => LightError::Node {
                code: body.error.code,
                message: body.error.message,
            },
            Err(_) => self.bad_answer(format!("HTTP {status} without an error body")),
        }
    }

    async fn json<T: DeserializeOwned>(&self, request: RequestBuilder) -> LightResult<T> {
        let response = self.send(request).await?;
        let bytes = self.success_body(response).await?;
        serde_json::from_slice(&bytes).map_err(|err| self.bad_answer(err.to_string()))
    }

    /// The body of a successful answer; any other status is the node's refusal.
    async fn success_body(
        &self,
        response: Response,
    ) -> LightResult<impl std::ops::Deref<Target = [u8]>> {
        if !response.status().is_success() {
            return Err(self.refusal(response).await);
        }
        response
            .bytes()
            .await
            .map_err(|err| self.network_error(err))
    }

    fn get(&self, url: Url, token: Option<&[u8]>) -> RequestBuilder {
        let request = self.client.get(url).timeout(REQUEST_TIMEOUT);
        match token {
            Some(token) => request.header(TOKEN_HEADER, hex::encode(token)),
            None => request,
        }
    }

    /// `GET /v1/{tokens|stamps}/key`: `issuer`'s key and price (unverified here: see
    /// [`TokenKeyWire::issuer_key`]).
    pub async fn issuer_key(&self, issuer: Issuer) -> LightResult<TokenKeyWire> {
        self.json(self.get(self.url(&["v1", issuer.path(), "key"])?, None))
            .await
    }

    /// `POST /v1/{tokens|stamps}`: `issuer`'s blind signatures for `blinded`, paid by
    /// `payment`; sent again as is, up to [`TOKEN_ATTEMPTS`] times in all, while the
    /// answer is lost (the node answers a repeated request from what it recorded).
    pub async fn issue(
        &self,
        issuer: Issuer,
        payment: &[u8; 32],
        blinded: &[&[u8]],
        signature: &[u8; 64],
    ) -> LightResult<(Vec<u8>, Vec<Vec<u8>>)> {
        let mut answer = self
            .issue_at(issuer.path(), payment, blinded, signature)
            .await;
        for _ in 1..TOKEN_ATTEMPTS {
            match &answer {
                Err(err) if err.is_failover() => {
                    answer = self
                        .issue_at(issuer.path(), payment, blinded, signature)
                        .await;
                }
                _ => break,
            }
        }
        answer
    }

    /// `POST /v1/{what}` of a blind-signature issue request.
    async fn issue_at(
        &self,
        what: &str,
        payment: &[u8; 32],
        blinded: &[&[u8]],
        signature: &[u8; 64],
    ) -> LightResult<(Vec<u8>, Vec<Vec<u8>>)> {
        let body = IssueWire {
            payment: hex::encode(payment),
            blinded: blinded.iter().map(|b| BASE64.encode(b)).collect(),
            signature: hex::encode(signature),
        };
        let request = self
            .client
            .post(self.url(&["v1", what])?)
            .timeout(SUBMIT_WAIT_TIMEOUT)
            .json(&body);
        let answer: IssuedWire = self.json(request).await?;
        let signatures = answer
            .signatures
            .iter()
            .map(|s| BASE64.decode(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| self.bad_answer("a blind signature is not base64"))?;
        Ok((answer.key_id.to_vec(), signatures))
    }

    /// `GET /v1/status`.
    pub async fn status(&self) -> LightResult<NodeStatusView> {
        self.json(self.get(self.url(&["v1", "status"])?, None))
            .await
    }

    /// `GET /v1/headers?from=&limit=`.
    pub async fn headers(&self, from: u64, limit: u32) -> LightResult<Vec<SignedHeader>> {
        let mut url = self.url(&["v1", "headers"])?;
        url.query_pairs_mut()
            .append_pair("from", &from.to_string())
            .append_pair("limit", &limit.to_string());
        let page: HeadersWire = self.json(self.get(url, None)).await?;
        Ok(page.headers)
    }

    /// `GET /v1/light/{height}`: the CometBFT light block at `height` (unverified).
    pub async fn light_block(&self, height: u64) -> LightResult<super::light_block::LightBlock> {
        let url = self.url(&["v1", "light", &height.to_string()])?;
        self.json(self.get(url, None)).await
    }

    /// `GET /v1/state/{kind}/{parts..}?height=` (unverified answer).
    pub async fn state(&self, path: &[&str], height: u64) -> LightResult<StateAnswerWire> {
        let mut segments = vec!["v1", "state"];
        segments.extend_from_slice(path);
        let mut url = self.url(&segments)?;
        url.query_pairs_mut()
            .append_pair("height", &height.to_string());
        self.json(self.get(url, None)).await
    }

    /// `POST /v1/tx`.
    pub async fn submit(&self, tx: &SignedTransaction, wait: bool) -> LightResult<ReceiptWire> {
        let timeout = if wait {
            SUBMIT_WAIT_TIMEOUT
        } else {
            REQUEST_TIMEOUT
        };
        let request = self
            .client
            .post(self.url(&["v1", "tx"])?)
            .timeout(timeout)
            .json(&SubmitWire { tx, wait });
        self.json(request).await
    }

    /// `GET /v1/tx/{id}`: the height of the block that committed `tx_id`, `None` while
    /// no block has (the node answers `not_found`). The answer is the node's word, as a
    /// waited-for submission's receipt is.
    pub async fn committed_height(&self, tx_id: &[u8; 32]) -> LightResult<Option<u64>> {
        #[derive(serde::Deserialize)]
        struct Lookup {
            #[serde(with = "hex::serde")]
            tx_id: [u8; 32],
            height: u64,
        }
        let id = hex::encode(tx_id);
        let url = self.url(&["v1", "tx", &id])?;
        match self.json::<Lookup>(self.get(url, None)).await {
            Ok(found) if found.tx_id == *tx_id => Ok(Some(found.height)),
            Ok(_) => Err(self.bad_answer("the node answered another transaction")),
            Err(LightError::Node { code, .. }) if code == ErrorCode::NotFound.as_str() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /v1/tx/{id}`: the committed transaction `tx_id`, `None` while no block has
    /// committed it. Only its id is checked here (an answer of another transaction is
    /// refused); what the id is recorded in binds the rest.
    pub async fn transaction(&self, tx_id: &[u8; 32]) -> LightResult<Option<SignedTransaction>> {
        #[derive(serde::Deserialize)]
        struct Lookup {
            tx: SignedTransaction,
        }
        let id = hex::encode(tx_id);
        let url = self.url(&["v1", "tx", &id])?;
        match self.json::<Lookup>(self.get(url, None)).await {
            Ok(found) if found.tx.id() == *tx_id => Ok(Some(found.tx)),
            Ok(_) => Err(self.bad_answer("the node answered another transaction")),
            Err(LightError::Node { code, .. }) if code == ErrorCode::NotFound.as_str() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `PUT /v1/kv/{address}/{key_hex}`, with the address's write credential when the
    /// node is private.
    pub async fn put_value(
        &self,
        address: &str,
        key: &[u8],
        value: &[u8],
        credential: Option<&WriteCredential>,
    ) -> LightResult<PutOutcome> {
        let key_hex = hex::encode(key);
        let mut request = self
            .client
            .put(self.url(&["v1", "kv", address, &key_hex])?)
            .timeout(REQUEST_TIMEOUT)
            .body(value.to_vec());
        if let Some(credential) = credential {
            request = request.header(CREDENTIAL_HEADER, hex::encode(&credential.0));
        }
        let answer: PutWire = self.json(request).await?;
        match answer.outcome.as_str() {
            "stored" => Ok(PutOutcome::Stored),
            "already_stored" => Ok(PutOutcome::AlreadyStored),
            other => Err(self.bad_answer(format!("unknown put outcome {other}"))),
        }
    }

    /// `POST /v1/records`: registers and stores `items` in one request (one block); one
    /// result per item, in order. Waits for the block.
    pub async fn put_records(&self, items: &[RecordUpload]) -> LightResult<Vec<UploadResult>> {
        let body = RecordsWire {
            items: items
                .iter()
                .map(|item| RecordItemWire {
                    tx: &item.tx,
                    value: BASE64.encode(&item.value),
                    credential: item.credential.as_ref().map(|c| hex::encode(&c.0)),
                })
                .collect(),
        };
        let request = self
            .client
            .post(self.url(&["v1", "records"])?)
            .timeout(SUBMIT_WAIT_TIMEOUT)
            .json(&body);
        let answer: RecordsAnswerWire = self.json(request).await?;
        if answer.results.len() != items.len() {
            return Err(self.bad_answer(format!(
                "{} results for {} items",
                answer.results.len(),
                items.len()
            )));
        }
        answer
            .results
            .into_iter()
            .map(|result| match result {
                RecordResultWire::Stored { outcome } => match outcome.as_str() {
                    "stored" => Ok(Ok(PutOutcome::Stored)),
                    "already_stored" => Ok(Ok(PutOutcome::AlreadyStored)),
                    other => Err(self.bad_answer(format!("unknown put outcome {other}"))),
                },
                RecordResultWire::Error { error } => Ok(Err(ItemRefusal {
                    code: error.code,
                    message: error.message,
                })),
            })
            .collect()
    }

    /// `GET /v1/credentials/key` (private nodes).
    pub async fn credential_key(&self) -> LightResult<CredentialKeyWire> {
        self.json(self.get(self.url(&["v1", "credentials", "key"])?, None))
            .await
    }

    /// `POST /v1/credentials`: blind signatures for an authenticated holder.
    pub async fn issue_credentials(
        &self,
        request: &CredentialRequestWire,
    ) -> LightResult<CredentialsWire> {
        let request = self
            .client
            .post(self.url(&["v1", "credentials"])?)
            .timeout(REQUEST_TIMEOUT)
            .json(request);
        self.json(request).await
    }

    /// `GET /v1/kv/{address}/{key_hex}`: the raw value, `None` when the node has none.
    pub async fn get_value(
        &self,
        address: &str,
        key: &[u8],
        token: Option<&[u8]>,
    ) -> LightResult<Option<Vec<u8>>> {
        let url = self.url(&["v1", "kv", address, &hex::encode(key)])?;
        let response = self.send(self.get(url, token)).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return match self.refusal(response).await {
                LightError::Node { code, .. } if code == ErrorCode::NotFound.as_str() => Ok(None),
                other => Err(other),
            };
        }
        Ok(Some(self.success_body(response).await?.to_vec()))
    }

    /// `GET /v1/kv/{address}?start=&end=&limit=&after=&proofs_at=`: one decoded page; with
    /// `proofs_at`, each item carries its registration proven at that height.
    #[allow(clippy::too_many_arguments)]
    pub async fn range(
        &self,
        address: &str,
        start: &[u8],
        end: &[u8],
        limit: u32,
        after: Option<&[u8]>,
        proofs_at: Option<u64>,
        token: Option<&[u8]>,
    ) -> LightResult<RangePage> {
        let mut url = self.url(&["v1", "kv", address])?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("start", &hex::encode(start))
                .append_pair("end", &hex::encode(end))
                .append_pair("limit", &limit.to_string());
            if let Some(after) = after {
                query.append_pair("after", &hex::encode(after));
            }
            if let Some(height) = proofs_at {
                query.append_pair("proofs_at", &height.to_string());
            }
        }
        let page: RangeWire = self.json(self.get(url, token)).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for item in page.items {
            let key =
                hex::decode(&item.key).map_err(|_| self.bad_answer("range key is not hex"))?;
            let value = BASE64
                .decode(&item.value)
                .map_err(|_| self.bad_answer("range value is not base64"))?;
            items.push(super::records::RangeItem {
                key,
                value,
                registration: item.registration,
            });
        }
        let cursor = page
            .next_cursor
            .map(|cursor| hex::decode(cursor).map_err(|_| self.bad_answer("cursor is not hex")))
            .transpose()?;
        Ok(RangePage {
            items,
            next: cursor,
            index: page.index,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_http_base_urls() {
        let client = Client::new();
        let node = NodeHttp::new("http://127.0.0.1:8080/", client.clone()).unwrap();
        assert_eq!(node.label(), "http://127.0.0.1:8080");
        assert_eq!(
            node.url(&["v1", "state", "device", "VIN 1/2"])
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8080/v1/state/device/VIN%201%2F2"
        );
        let nested = NodeHttp::new("https://node.example/carchain", client.clone()).unwrap();
        assert_eq!(
            nested.url(&["v1", "status"]).unwrap().as_str(),
            "https://node.example/carchain/v1/status"
        );
        assert!(matches!(
            NodeHttp::new("ftp://node.example", client.clone()),
            Err(LightError::InvalidInput(_))
        ));
        assert!(matches!(
            NodeHttp::new("not a url", client),
            Err(LightError::InvalidInput(_))
        ));
    }

    #[tokio::test]
    async fn a_closed_port_is_a_network_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let node = NodeHttp::new(&format!("http://{address}"), Client::new()).unwrap();
        let err = node.status().await.unwrap_err();
        assert!(matches!(err, LightError::Network { .. }), "{err}");
        assert!(err.is_unreachable());
    }
}
