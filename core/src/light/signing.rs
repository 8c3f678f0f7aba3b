//! Transactions a wallet-side key signs and submits through the light client: the nonce
//! comes from the signer's proven account and the fee from the chain's proven fee
//! schedule (through [`crate::protocol::TxBuilder`]); and wallet-written records (`putWalKV`: a
//! pairing mailbox, a channel entry, a grant delivery) registered and stored in one call.

use bitcoin::secp256k1::SecretKey;

use super::client::LightClient;
use super::error::{LightError, LightResult};
use super::proofs::decode_proven;
use super::sequence::SignerTurn;
use super::types::{PutOutcome, Receipt};
use crate::crypto::HashFunc;
use crate::protocol::api::ErrorCode;
use crate::protocol::signing::{p2wpkh_address, public_key_of};
use crate::protocol::{FeeSchedule, RecordPut, TxBody, TxBuilder, state_key};
use crate::tokens::OwnedStamp;

impl LightClient {
    /// The chain's fee schedule, read once with its proof against a verified header and
    /// kept (a chain fixes it at genesis): the schedule in the chain's state, or the
    /// default one where the proof shows the chain keeps none. Every fee the SDK's
    /// wallet-side transactions offer, and every balance check before them, uses it.
    pub async fn fee_schedule(&self) -> LightResult<FeeSchedule> {
        if let Some(known) = *self.known_fee_schedule() {
            return Ok(known);
        }
        let proven = self
            .read_state(&["fee-schedule"], state_key::fee_schedule())
            .await?;
        self.remember_fee_schedule(proven)
    }

    /// [`Self::fee_schedule`], read from `node` against `header` when not known yet (a
    /// purchase reads everything on its own connection).
    pub(crate) async fn fee_schedule_at(
        &self,
        node: &super::http::NodeHttp,
        header: &crate::protocol::SignedHeader,
    ) -> LightResult<FeeSchedule> {
        if let Some(known) = *self.known_fee_schedule() {
            return Ok(known);
        }
        let proven = self
            .proven_state(node, header, &["fee-schedule"], state_key::fee_schedule())
            .await?;
        self.remember_fee_schedule(proven)
    }

    /// Decodes a proven fee-schedule answer (absent: the default schedule) and keeps it.
    fn remember_fee_schedule(&self, proven: Option<Vec<u8>>) -> LightResult<FeeSchedule> {
        let schedule = decode_proven::<FeeSchedule>(proven)?.unwrap_or(FeeSchedule::DEFAULT);
        *self.known_fee_schedule() = Some(schedule);
        Ok(schedule)
    }

    /// A builder signing for this client's chain under [`Self::fee_schedule`].
    pub async fn tx_builder(&self) -> LightResult<TxBuilder> {
        let anchor = self.anchor();
        let fees = self.fee_schedule().await?;
        Ok(TxBuilder::new(
            anchor.chain_id.clone(),
            anchor.network,
            fees,
        ))
    }

    /// Signs `body` with `secret` (nonce from its proven account, the default fee) and
    /// submits it, waiting until a block commits it. Concurrent submissions of one
    /// signer (a wallet pairing several cars at once) take turns only until the node
    /// admitted each, so they share blocks (`light::sequence`).
    pub async fn sign_and_submit(&self, secret: &SecretKey, body: TxBody) -> LightResult<Receipt> {
        Ok(self.sign_and_submit_signed(secret, body).await?.1)
    }

    /// [`Self::sign_and_submit`], also returning the signed transaction as committed (for
    /// callers that hand it on, like an auditor's countersignature).
    pub async fn sign_and_submit_signed(
        &self,
        secret: &SecretKey,
        body: TxBody,
    ) -> LightResult<(crate::protocol::SignedTransaction, Receipt)> {
        let anchor = self.anchor();
        let signer = public_key_of(secret);
        let address = p2wpkh_address(&signer, anchor.network);
        let builder = self.tx_builder().await?;
        let mut ahead_refused = false;
        loop {
            let turn = SignerTurn::take(self, &address).await?;
            let nonce = turn.nonce();
            let guessed = turn.guessed();
            let signed = builder.sign(secret, nonce, body.clone())?;
            match self.submit(&signed, false).await {
                Ok(_) => {
                    turn.admitted(nonce);
                    match self
                        .await_commit(&signed)
                        .await
                        .map(|r| (signed.clone(), r))
                    {
                        // A block refused an earlier transaction of the signer, so this
                        // one's nonce no longer follows: once more from the ledger's.
                        Err(LightError::Node { code, .. })
                            if code == ErrorCode::BadNonce.as_str()
                                && guessed
                                && !ahead_refused =>
                        {
                            SignerTurn::wait(self, &address).await.refused();
                            ahead_refused = true;
                        }
                        outcome => return outcome,
                    }
                }
                // A nonce guessed past pending transactions the node no longer holds
                // (it restarted), or behind another client's of the same key: once
                // more from the ledger's nonce.
                Err(LightError::Node { code, .. })
                    if (code == ErrorCode::BadNonce.as_str()
                        || code == ErrorCode::Replay.as_str())
                        && guessed
                        && !ahead_refused =>
                {
                    turn.refused();
                    ahead_refused = true;
                }
                Err(e) => {
                    turn.refused();
                    return Err(e);
                }
            }
        }
    }

    /// Registers (signed by `secret`, whose address the record lives under) and stores a
    /// record whose value is `value` as-is. A record already registered under the same
    /// address and key counts as registered (a retry); the value is stored again, which
    /// the node accepts only if it is the registered one.
    pub async fn put_wallet_record(
        &self,
        secret: &SecretKey,
        format: &str,
        key: Vec<u8>,
        value: &[u8],
    ) -> LightResult<PutOutcome> {
        self.put_wallet_record_stamped(secret, format, key, value, None)
            .await
    }

    /// [`LightClient::put_wallet_record`] whose fee `stamp` pays (bound to this put),
    /// when given: the signer's address then needs no funds.
    pub async fn put_wallet_record_stamped(
        &self,
        secret: &SecretKey,
        format: &str,
        key: Vec<u8>,
        value: &[u8],
        stamp: Option<&OwnedStamp>,
    ) -> LightResult<PutOutcome> {
        let address = p2wpkh_address(&public_key_of(secret), self.anchor().network);
        let hash = HashFunc::Sha256.digest(value);
        let put = RecordPut {
            address: address.clone(),
            key: key.clone(),
            format: format.to_owned(),
            hash_func: HashFunc::Sha256,
            d_hash: hash,
            c_hash: hash,
            size: u64::try_from(value.len()).unwrap_or(u64::MAX),
            wallet: true,
            stamp: stamp.map(|s| s.attach(&self.anchor().chain_id, &public_key_of(secret), &key)),
        };
        match self.sign_and_submit(secret, TxBody::RecordPut(put)).await {
            Ok(_) => {}
            Err(e) if e.node_code() == Some("duplicate_record") => {}
            Err(e) => return Err(e),
        }
        self.put_value(&address, &key, value, None).await
    }
}
