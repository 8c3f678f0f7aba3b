//! The public ledger as anyone can fetch it: every committed transaction (its JSON as
//! `GET /v1/tx/{id}` serves it, with its block height, index and block time) and the
//! signed headers of `GET /v1/headers`.
//!
//! A ledger is public: every replica holds its blocks. The node's API serves a committed
//! transaction by id and headers by height but has no "list a block" call, so the ids are
//! enumerated from the node's block table (what any replica holds) and every
//! transaction is then fetched through the public endpoint: the adversary gets exactly
//! the published JSON, checked complete against the headers' `tx_count`.

use std::path::Path;

use serde_json::Value;

/// One committed transaction.
#[derive(Debug, Clone)]
pub struct LedgerTx {
    /// Block height.
    pub height: u64,
    /// Index in the block.
    pub index: u64,
    /// Block time, unix ms.
    pub time_ms: u64,
    /// Transaction id (hex).
    pub id: String,
    /// The transaction as served (`tx` of `GET /v1/tx/{id}`).
    pub tx: Value,
}

/// The whole public ledger.
#[derive(Debug, Clone, Default)]
pub struct PublicLedger {
    /// Transactions in ledger order.
    pub txs: Vec<LedgerTx>,
    /// The operator's account, public in the chain's genesis (read payments go there).
    pub operator: String,
}

/// Fetches every committed transaction from `node` (ids enumerated from the block
/// table of `data_dir`'s ledger file) and checks the count against the headers.
pub async fn export(node: &str, data_dir: &Path, operator: &str) -> PublicLedger {
    let ids: Vec<String> = {
        let db = rusqlite::Connection::open_with_flags(
            data_dir.join("ledger.sqlite"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("ledger file");
        let mut statement = db
            .prepare("SELECT id FROM txs ORDER BY height, idx")
            .expect("txs table");
        statement
            .query_map([], |row| row.get::<_, Vec<u8>>(0))
            .expect("tx ids")
            .map(|id| hex::encode(id.expect("tx id")))
            .collect()
    };
    let http = reqwest::Client::new();
    let mut published = 0u64;
    let mut from = 1u64;
    loop {
        let page = json_of(
            http.get(format!("{node}/v1/headers?from={from}&limit=1000")),
            "headers",
        )
        .await;
        let headers = page["headers"].as_array().cloned().unwrap_or_default();
        if headers.is_empty() {
            break;
        }
        for header in &headers {
            published += header["header"]["tx_count"].as_u64().unwrap_or(0);
        }
        from += headers.len() as u64;
    }
    let mut txs = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(32) {
        let mut tasks = tokio::task::JoinSet::new();
        for id in chunk {
            let (http, url, id) = (http.clone(), format!("{node}/v1/tx/{id}"), id.clone());
            tasks.spawn(async move {
                let found = json_of(http.get(url), "tx lookup").await;
                LedgerTx {
                    height: found["height"].as_u64().expect("height"),
                    index: found["index"].as_u64().expect("index"),
                    time_ms: found["header"]["header"]["time"].as_u64().expect("time"),
                    id,
                    tx: found["tx"].clone(),
                }
            });
        }
        while let Some(tx) = tasks.join_next().await {
            txs.push(tx.expect("lookup task"));
        }
    }
    txs.sort_by_key(|tx| (tx.height, tx.index));
    assert!(
        txs.len() as u64 >= published,
        "{} transactions fetched, the headers count {published}",
        txs.len()
    );
    PublicLedger {
        txs,
        operator: operator.to_owned(),
    }
}

/// The JSON answer to `request`; `what` names it in a failure.
async fn json_of(request: reqwest::RequestBuilder, what: &str) -> Value {
    let sent = request.send().await;
    let response = sent.unwrap_or_else(|e| panic!("{what}: {e}"));
    let answer = response.json().await;
    answer.unwrap_or_else(|e| panic!("{what} json: {e}"))
}
