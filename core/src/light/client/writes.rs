//! Submissions and value puts: a signed transaction handed to a node (waited into its
//! block or not), a value stored under its registration, a batch of records.

use super::*;

impl LightClient {
    /// Submits a signed transaction; with `wait`, returns once it is committed.
    pub async fn submit(&self, tx: &SignedTransaction, wait: bool) -> LightResult<Receipt> {
        self.inner
            .endpoints
            .run(|node| async move {
                let receipt = node.submit(tx, wait).await?;
                Ok(Receipt {
                    tx_id: receipt.tx_id,
                    height: receipt.height,
                })
            })
            .await
    }

    /// The height of the block that committed `tx_id` (`GET /v1/tx/{id}`), `None` while
    /// no block has.
    pub(crate) async fn committed_height(&self, tx_id: &[u8; 32]) -> LightResult<Option<u64>> {
        self.inner
            .endpoints
            .run(|node| async move { node.committed_height(tx_id).await })
            .await
    }

    /// Stores an encrypted value under its registered address and key. `credential` is
    /// the address's write credential, needed by private nodes; nothing names the writer.
    pub async fn put_value(
        &self,
        address: &str,
        key: &[u8],
        value: &[u8],
        credential: Option<&WriteCredential>,
    ) -> LightResult<PutOutcome> {
        self.inner
            .endpoints
            .run(|node| async move { node.put_value(address, key, value, credential).await })
            .await
    }

    /// Registers and stores `items` in one request (`POST /v1/records`, one block),
    /// waiting for the block; one result per item, in order. Sending the same items
    /// again is harmless. A car sends one address's records per call, through
    /// [`LightClient::with_fresh_connections`].
    pub async fn put_records(&self, items: &[RecordUpload]) -> LightResult<Vec<UploadResult>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        self.inner
            .endpoints
            .run(|node| async move { node.put_records(items).await })
            .await
    }
}
