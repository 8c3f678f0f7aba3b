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

    /// Whether reads cost a token here (shared mode with a read price).
    fn reads_are_paid(&self) -> bool {
        self.config.mode == NodeMode::Shared && self.genesis.fees.read_per_address > 0
    }

    /// Runs a read paid by `token` when reads are paid: the token is checked first, the
    /// read runs, then the token is spent (durably) before the answer is returned. A
    /// refused read (bad input) spends nothing; a token is never accepted twice.
    fn paid_read<T>(
        &self,
        token: Option<&[u8]>,
        read: impl FnOnce() -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        if !self.reads_are_paid() {
            return read();
        }
        let token = token.ok_or_else(|| {
            ServiceError::new(
                ErrorCode::PaymentRequired,
                "reads on this node need a read token (see POST /v1/tokens)",
            )
        })?;
        let token = self.tokens.check(token)?;
        let answer = read()?;
        self.tokens.spend(&token)?;
        Ok(answer)
    }

    /// What a token payment is: a committed Transfer to the operator, its signer and the
    /// tokens its amount buys.
    fn payment_terms(&self, payment: &[u8; 32]) -> Result<PaymentTerms, ServiceError> {
        let price = self.genesis.fees.read_per_address;
        if price == 0 {
            return Err(unpaid("is not needed: reads are free here"));
        }
        self.transfer_terms(
            payment,
            &self.genesis.operator_address,
            price,
            "the operator",
        )
    }
}

impl Node {
    /// What a stamp payment is: a committed Transfer to the stamp escrow, buying
    /// `amount / price` stamps.
    fn stamp_terms(&self, payment: &[u8; 32]) -> Result<PaymentTerms, ServiceError> {
        let rules = self
            .params
            .stamps
            .as_ref()
            .ok_or_else(|| unpaid("is not needed: this chain sells no stamps"))?;
        self.transfer_terms(
            payment,
            &rules.escrow_address,
            rules.price,
            "the stamp escrow",
        )
    }

    /// The terms of `payment` when it is a committed Transfer to `payee` (named
    /// `payee_name` in the refusal): its signer pays for `amount / price` tokens.
    fn transfer_terms(
        &self,
        payment: &[u8; 32],
        payee: &str,
        price: u64,
        payee_name: &str,
    ) -> Result<PaymentTerms, ServiceError> {
        let stored = self
            .db
            .tx(payment)
            .map_err(internal)?
            .ok_or_else(|| unpaid("is not a committed transaction"))?;
        let signed = SignedTransaction::from_canonical(&stored.bytes).map_err(internal)?;
        match signed.tx.body {
            TxBody::Transfer(transfer) if transfer.to == payee => Ok(PaymentTerms {
                payer: signed.tx.signer,
                tokens: transfer.amount / price,
            }),
            _ => Err(unpaid(&format!("is not a transfer to {payee_name}"))),
        }
    }
}

/// A payment refused: "payment `why`".
fn unpaid(why: &str) -> ServiceError {
    ServiceError::new(ErrorCode::PaymentRequired, format!("payment {why}"))
}

impl LedgerService for Node {
    async fn submit(
        &self,
        tx: SignedTransaction,
        wait: bool,
    ) -> Result<SubmitReceipt, ServiceError> {
        if let Some(link) = self.comet() {
            return self.submit_through_engine(link, tx, wait).await;
        }
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
        consensus::landed_receipt(tx_id, tokio::time::timeout(self.patience(), receiver).await)
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
        token: Option<&[u8]>,
    ) -> Result<Option<Vec<u8>>, ServiceError> {
        self.paid_read(token, || {
            self.kv.get(address, key).map_err(ServiceError::from)
        })
    }

    fn range_values(
        &self,
        request: &RangeRequest,
        token: Option<&[u8]>,
    ) -> Result<RangePage, ServiceError> {
        self.paid_read(token, || request.read(self.kv.as_ref()))
    }

    fn token_key(&self) -> Result<TokenKey, ServiceError> {
        let public = self.tokens.public();
        Ok(TokenKey {
            key_id: public.key_id().0,
            public_key: public.der().to_vec(),
            price: if self.reads_are_paid() {
                self.genesis.fees.read_per_address
            } else {
                0
            },
            max_batch: carchain_core::tokens::MAX_BATCH as u64,
        })
    }

    fn issue_tokens(&self, request: &IssueRequest) -> Result<Vec<Vec<u8>>, ServiceError> {
        if !self.reads_are_paid() {
            return Err(ServiceError::new(
                ErrorCode::ModeRefused,
                "reads are free on this node: it sells no tokens",
            ));
        }
        self.tokens
            .issue(request, |payment| self.payment_terms(payment))
    }

    fn stamp_key(&self) -> Result<TokenKey, ServiceError> {
        let (Some(stamps), Some(rules)) = (&self.stamps, &self.params.stamps) else {
            return Err(ServiceError::new(
                ErrorCode::NotFound,
                "this node does not issue fee stamps",
            ));
        };
        let public = stamps.public();
        Ok(TokenKey {
            key_id: public.key_id().0,
            public_key: public.der().to_vec(),
            price: rules.price,
            max_batch: carchain_core::tokens::MAX_BATCH as u64,
        })
    }

    fn issue_stamps(&self, request: &IssueRequest) -> Result<Vec<Vec<u8>>, ServiceError> {
        let Some(stamps) = &self.stamps else {
            return Err(ServiceError::new(
                ErrorCode::NotFound,
                "this node does not issue fee stamps",
            ));
        };
        stamps.issue(request, |payment| self.stamp_terms(payment))
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

    fn kv_health(&self) -> crate::kv::KvHealth {
        self.kv.health()
    }

    fn light_block(
        &self,
        height: u64,
    ) -> Result<carchain_core::protocol::light_block::LightBlock, ServiceError> {
        match self.consensus {
            super::Consensus::Embedded => self.embedded_light_block(height),
            super::Consensus::Comet(_) => self.engine_light_block(height),
        }
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
            validator: self.anchor_text(),
            operator_address: self.genesis.operator_address.clone(),
            mempool: ledger.mempool.len(),
            kv: Some(self.kv.health()),
        })
    }
}
