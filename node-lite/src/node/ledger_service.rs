//! The node as the transports see it: [`LedgerService`] over the committed ledger and the
//! KV store, with read payments and private-mode write credentials.

use super::*;
use crate::service::{CredentialKeyInfo, CredentialRequest, WriteCredential};

impl Node {
    pub(super) fn read_state<T: Canonical>(
        &self,
        key: jmt::KeyHash,
    ) -> Result<Option<T>, ServiceError> {
        let committed = Committed {
            db: &self.db,
            version: Some(self.committed_height()?),
        };
        Layer::new(&committed).get(key).map_err(ServiceError::from)
    }

    /// Charges one address traversal to `ticket` when reads are paid.
    fn charge_read(&self, ticket: Option<&[u8; 32]>) -> Result<(), ServiceError> {
        let price = self.genesis.fees.read_per_address;
        if self.config.mode == NodeMode::Private || price == 0 {
            return Ok(());
        }
        let ticket = ticket.ok_or_else(|| {
            ServiceError::new(ErrorCode::PaymentRequired, "reads need a payment ticket")
        })?;
        self.tickets.spend(ticket, || {
            let not_payment =
                |why: &str| ServiceError::new(ErrorCode::PaymentRequired, format!("ticket {why}"));
            let stored = self
                .db
                .tx(ticket)
                .map_err(internal)?
                .ok_or_else(|| not_payment("is not a committed transaction"))?;
            let signed = SignedTransaction::from_canonical(&stored.bytes).map_err(internal)?;
            match signed.tx.body {
                TxBody::Transfer(transfer) if transfer.to == self.genesis.operator_address => {
                    Ok(transfer.amount / price)
                }
                _ => Err(not_payment("is not a transfer to the operator")),
            }
        })?;
        Ok(())
    }
}

impl LedgerService for Node {
    async fn submit(
        &self,
        tx: SignedTransaction,
        wait: bool,
    ) -> Result<SubmitReceipt, ServiceError> {
        let tx_id = tx.id();
        if !wait {
            self.admit(tx, None)?;
            return Ok(SubmitReceipt {
                tx_id,
                height: None,
                index: None,
            });
        }
        let (sender, receiver) = oneshot::channel();
        self.admit(tx, Some(sender))?;
        let patience = self.config.block_time.saturating_mul(10) + Duration::from_secs(30);
        match tokio::time::timeout(patience, receiver).await {
            Ok(Ok(Ok((height, index)))) => Ok(SubmitReceipt {
                tx_id,
                height: Some(height),
                index: Some(index),
            }),
            Ok(Ok(Err(err))) => Err(err),
            Ok(Err(_)) => Err(ServiceError::new(
                ErrorCode::Unavailable,
                "the node stopped before the transaction was committed",
            )),
            Err(_) => Err(ServiceError::new(
                ErrorCode::Timeout,
                "no block committed the transaction in time; it may still commit",
            )),
        }
    }

    fn put_value(
        &self,
        address: &str,
        key: &[u8],
        value: &[u8],
        credential: Option<&WriteCredential>,
    ) -> Result<PutOutcome, ServiceError> {
        let registration: RecordRegistration = self
            .read_state(state_key::record(address, key))?
            .ok_or_else(|| {
                ServiceError::new(
                    ErrorCode::NotRegistered,
                    "no committed registration for this address and key",
                )
            })?;
        if registration.put.hash_func.digest(value) != registration.put.c_hash {
            return Err(ServiceError::new(
                ErrorCode::ChashMismatch,
                "the value's hash is not the registered cHash",
            ));
        }
        let counted = self.check_writer(&registration.put, credential)?;
        let outcome = self
            .kv
            .put(address, key, value)
            .map_err(ServiceError::from)?;
        self.count_stored(counted, outcome);
        Ok(outcome)
    }

    fn credential_key(&self) -> Result<CredentialKeyInfo, ServiceError> {
        self.credential_key_info()
    }

    fn issue_credentials(&self, request: &CredentialRequest) -> Result<Vec<Vec<u8>>, ServiceError> {
        self.issue(request)
    }

    async fn put_records(
        &self,
        items: Vec<RecordItem>,
    ) -> Vec<Result<RecordReceipt, ServiceError>> {
        self.put_records_batched(items).await
    }

    fn get_value(
        &self,
        address: &str,
        key: &[u8],
        ticket: Option<&[u8; 32]>,
    ) -> Result<Option<Vec<u8>>, ServiceError> {
        self.charge_read(ticket)?;
        self.kv.get(address, key).map_err(ServiceError::from)
    }

    fn range_values(
        &self,
        request: &RangeRequest,
        ticket: Option<&[u8; 32]>,
    ) -> Result<RangePage, ServiceError> {
        self.charge_read(ticket)?;
        self.kv
            .range(
                &request.address,
                &request.start,
                &request.end,
                request.limit,
                request.after.as_deref(),
            )
            .map_err(ServiceError::from)
    }

    fn transaction(&self, id: &[u8; 32]) -> Result<Option<TxLookup>, ServiceError> {
        let Some(stored) = self.db.tx(id).map_err(internal)? else {
            return Ok(None);
        };
        let tx = SignedTransaction::from_canonical(&stored.bytes).map_err(internal)?;
        let ids: Vec<[u8; 32]> = self
            .db
            .block_txs(stored.height)
            .map_err(internal)?
            .iter()
            .map(|t| <[u8; 32]>::try_from(t.id.as_slice()).map_err(internal))
            .collect::<Result<_, _>>()?;
        let index = usize::try_from(stored.index).map_err(internal)?;
        let proof = InclusionProof::build(&ids, index)
            .ok_or_else(|| internal("tx index out of its block"))?;
        let block = self
            .db
            .block(stored.height)
            .map_err(internal)?
            .ok_or_else(|| internal("the transaction's block is missing"))?;
        Ok(Some(TxLookup {
            tx,
            height: stored.height,
            index: stored.index,
            proof,
            header: decode_header(&block).map_err(internal)?,
        }))
    }

    fn headers_from(&self, height: u64, limit: u32) -> Result<Vec<SignedHeader>, ServiceError> {
        if limit == 0 || limit > MAX_BLOCKS_PER_READ {
            return Err(ServiceError::new(
                ErrorCode::InvalidRequest,
                format!("limit must be 1..={MAX_BLOCKS_PER_READ}"),
            ));
        }
        self.db
            .blocks_from(height, limit)
            .map_err(internal)?
            .iter()
            .map(|block| decode_header(block).map_err(internal))
            .collect()
    }

    fn query_state(
        &self,
        query: &StateQuery,
        height: Option<u64>,
    ) -> Result<StateAnswer, ServiceError> {
        let latest = self.committed_height()?;
        let height = height.unwrap_or(latest);
        if height > latest {
            return Err(ServiceError::new(
                ErrorCode::NotFound,
                format!("height {height} is above the latest {latest}"),
            ));
        }
        let block = self
            .db
            .block(height)
            .map_err(internal)?
            .ok_or_else(|| internal("a block below the tip is missing"))?;
        let header = decode_header(&block).map_err(internal)?;
        let key_hash = query_key(query);
        let view = self.db.tree_view().map_err(internal)?;
        let tree: JellyfishMerkleTree<'_, _, StateHasher> = JellyfishMerkleTree::new(&view);
        let (value, proof) = tree.get_with_proof(key_hash, height).map_err(internal)?;
        drop(view);
        let value_json = value
            .as_deref()
            .map(|bytes| query_json(query, bytes))
            .transpose()?;
        Ok(StateAnswer {
            height,
            state_root: header.header.state_root,
            key_hash: key_hash.0,
            value,
            value_json,
            proof: encode_state_proof(&proof).map_err(internal)?,
        })
    }

    fn status(&self) -> Result<NodeStatus, ServiceError> {
        let ledger = lock(&self.ledger);
        let network = serde_json::to_value(self.genesis.network)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Ok(NodeStatus {
            chain_id: self.genesis.chain_id.clone(),
            network,
            height: ledger.latest.header.height,
            latest_hash: Some(hex::encode(ledger.latest.header.hash())),
            mode: self.config.mode,
            version: env!("CARGO_PKG_VERSION").to_string(),
            peers: self.config.peers.clone(),
            validator: self.genesis.validator_pubkey.clone(),
            operator_address: self.genesis.operator_address.clone(),
            mempool: ledger.mempool.len(),
        })
    }
}
