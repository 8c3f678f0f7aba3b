//! Paying for reads on a shared node: each address read spends a fresh blind-signed
//! token; tokens are bought in batches with one transfer and kept in the pocket.

use super::*;
use crate::light::http::Issuer;
use crate::light::read_payment::{issue_request_signature, purchase_payment};
use crate::protocol::TxBuilder;
use crate::protocol::api::ErrorCode;

impl LightClient {
    /// Runs a KV read, paid with one fresh token when a payer is configured and the node
    /// charges reads. A token the node says was spent already (e.g. by an earlier attempt
    /// cut off before its answer) is dropped and a fresh one sent, up to
    /// [`TOKEN_ATTEMPTS`] in all; a changed issuer key is fetched again.
    pub(super) async fn paid<T, F, Fut>(&self, node: &NodeHttp, read: F) -> LightResult<T>
    where
        F: Fn(Option<Vec<u8>>) -> Fut,
        Fut: std::future::Future<Output = LightResult<T>>,
    {
        if self.inner.config.payer.is_none() {
            return read(None).await;
        }
        let mut last = None;
        for _ in 0..TOKEN_ATTEMPTS {
            let key = self.token_key(node).await?;
            if key.price == 0 {
                return read(None).await;
            }
            let token = self.take_token(node, &key).await?;
            match read(Some(token.to_bytes())).await {
                Err(LightError::Node { code, message })
                    if code == ErrorCode::TokenSpent.as_str() =>
                {
                    last = Some(LightError::Node { code, message });
                }
                Err(LightError::Node { code, message })
                    if code == ErrorCode::TokenWrongKey.as_str() =>
                {
                    self.forget_token_key(node)?;
                    last = Some(LightError::Node { code, message });
                }
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| LightError::InvalidInput("no token attempt made".into())))
    }

    /// `node`'s token issuer key (fetched once per endpoint, on a connection of its own).
    pub(super) async fn token_key(&self, node: &NodeHttp) -> LightResult<NodeTokenKey> {
        if let Some(key) = self.token_keys()?.get(node.label()) {
            return Ok(key.clone());
        }
        let wire = node.fresh()?.issuer_key(Issuer::ReadTokens).await?;
        let key = wire.issuer_key(node.label(), Issuer::ReadTokens)?;
        let key = NodeTokenKey {
            key,
            price: wire.price,
            max_batch: wire.max_batch.max(1),
        };
        self.token_keys()?
            .insert(node.label().to_owned(), key.clone());
        Ok(key)
    }

    pub(super) fn token_keys(
        &self,
    ) -> LightResult<std::sync::MutexGuard<'_, HashMap<String, NodeTokenKey>>> {
        self.inner
            .token_keys
            .lock()
            .map_err(|_| LightError::InvalidInput("the token key lock is poisoned".into()))
    }

    pub(super) fn forget_token_key(&self, node: &NodeHttp) -> LightResult<()> {
        self.token_keys()?.remove(node.label());
        Ok(())
    }

    /// The configured read payer, or `InvalidInput` when reads are not paid.
    fn read_payer(&self) -> LightResult<ReadPayer> {
        self.inner
            .config
            .payer
            .clone()
            .ok_or_else(|| LightError::InvalidInput("no read payer configured".into()))
    }

    /// One unspent token for `key`, buying a batch first when the pocket is low.
    pub(super) async fn take_token(
        &self,
        node: &NodeHttp,
        key: &NodeTokenKey,
    ) -> LightResult<Token> {
        let payer = self.read_payer()?;
        let _one_purchase = self.inner.purchase.lock().await;
        let key_id = key.key.key_id();
        if self.inner.pocket.count(key_id)? < payer.low_water() {
            self.buy_tokens(node, key, &payer).await?;
        }
        self.inner
            .pocket
            .take(key_id)?
            .ok_or_else(|| LightError::InvalidInput("the token purchase left no token".into()))
    }

    /// Buys `payer.batch` tokens at `node`, on a connection of its own (the purchase
    /// names the payer; the reads it pays for must not share its connection): commits a
    /// Transfer of `batch x price` to the operator, asks for blind signatures of fresh
    /// blinded messages with the payer's signature over them, and keeps the finalized
    /// tokens. The issue request is retried as is when the answer is lost.
    pub(super) async fn buy_tokens(
        &self,
        node: &NodeHttp,
        key: &NodeTokenKey,
        payer: &ReadPayer,
    ) -> LightResult<u64> {
        let node = node.fresh()?;
        let count = payer.batch.min(key.max_batch).max(1);
        let amount = count.checked_mul(key.price).ok_or_else(|| {
            LightError::InvalidInput("the token purchase amount overflows".into())
        })?;
        let pending = key.key.blind(usize::try_from(count).unwrap_or(1))?;
        let anchor = &self.inner.config.anchor;
        let status = self.checked_status(&node).await?;
        let signer = public_key_of(&payer.secret);
        let payer_address = p2wpkh_address(&signer, anchor.network);
        // The payer's other transactions (a wallet pairing cars) may be pending: the
        // purchase takes its turn and the nonce after theirs.
        // Its account is read on the purchase's own connection, as the purchase is sent.
        let mut turn = SignerTurn::wait(self, &payer_address).await;
        let header = self.read_header(&node).await?;
        let proven = self
            .proven_state(
                &node,
                &header,
                &["account", &payer_address],
                state_key::account(&payer_address),
            )
            .await?;
        let account: AccountState = decode_proven(proven)?.unwrap_or_default();
        turn.set_committed(account.nonce);
        let nonce = turn.nonce();
        let fees = self.fee_schedule_at(&node, &header).await?;
        let builder = TxBuilder::new(anchor.chain_id.clone(), anchor.network, fees);
        let tx = purchase_payment(
            &builder,
            &payer.secret,
            nonce,
            status.operator_address,
            amount,
        )?;
        let receipt = turn.answered(nonce, node.submit(&tx, true).await)?;
        let blinded: Vec<&[u8]> = pending.iter().map(|p| p.blinded_message()).collect();
        let signature =
            issue_request_signature(&payer.secret, &receipt.tx_id, &key.key.key_id().0, &blinded);
        let (key_id, signatures) = node
            .issue(Issuer::ReadTokens, &receipt.tx_id, &blinded, &signature)
            .await?;
        if key_id != key.key.key_id().0 || signatures.len() != pending.len() {
            return Err(LightError::Tampered(
                "the node issued under another key or another count".into(),
            ));
        }
        let tokens = pending
            .iter()
            .zip(&signatures)
            .map(|(p, s)| key.key.finalize(p, s))
            .collect::<Result<Vec<_>, _>>()?;
        self.inner.pocket.add(tokens)?;
        Ok(count)
    }

    /// Read tokens held for the first answering endpoint's issuer key (0 when it reads
    /// for free).
    pub async fn read_tokens_held(&self) -> LightResult<u64> {
        self.inner
            .endpoints
            .run(|node| async move {
                let key = self.token_key(&node).await?;
                self.inner.pocket.count(key.key.key_id())
            })
            .await
    }

    /// Buys one batch of read tokens from the first answering endpoint now (see
    /// [`LightClient::with_read_payer`]); returns the tokens held afterwards. Nothing is
    /// bought where reads are free.
    pub async fn buy_read_tokens(&self) -> LightResult<u64> {
        let payer = self.read_payer()?;
        self.inner
            .endpoints
            .run(|node| {
                let payer = payer.clone();
                async move {
                    let key = self.token_key(&node).await?;
                    if key.price > 0 {
                        let _one_purchase = self.inner.purchase.lock().await;
                        self.buy_tokens(&node, &key, &payer).await?;
                    }
                    self.inner.pocket.count(key.key.key_id())
                }
            })
            .await
    }
}
