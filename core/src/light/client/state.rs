//! Proven state reads: accounts, devices, registrations and any state key, each checked
//! against a verified header's state root; several answers at one header with the light
//! blocks that certify it (for exports checked offline).

use super::*;

/// State answers proven at one header, with the light blocks that certify the header
/// ([`LightClient::proven_answers`]).
#[derive(Debug, Clone)]
pub struct ProvenAnswers {
    /// The verified header every answer is proven against.
    pub header: SignedHeader,
    /// The light blocks from the anchor's root to the one certifying `header`, ascending.
    pub light_blocks: Vec<LightBlock>,
    /// The answers, in query order.
    pub answers: Vec<StateAnswerWire>,
}

impl LightClient {
    pub(crate) async fn proven_state(
        &self,
        node: &NodeHttp,
        header: &SignedHeader,
        path: &[&str],
        key: jmt::KeyHash,
    ) -> LightResult<Option<Vec<u8>>> {
        let answer = node.state(path, header.header.height).await?;
        verify_state_answer(&answer, key, header)
    }

    /// The answers of `queries` (state path, key) all at one verified header, each
    /// checked against it before it is returned, with that header and the light blocks
    /// that certify it from the trust anchor's root: for callers that ship the proofs
    /// themselves (a wallet export, checked offline with
    /// [`crate::light::certify::verify_recorded`]).
    pub async fn proven_answers(
        &self,
        queries: &[(Vec<String>, jmt::KeyHash)],
    ) -> LightResult<ProvenAnswers> {
        self.inner
            .endpoints
            .run(|node| async move {
                let header = self.read_header(&node).await?;
                let fetched: Mutex<Vec<LightBlock>> = Mutex::new(Vec::new());
                let (node_ref, fetched_ref) = (&node, &fetched);
                let certified = verify_to(
                    &self.inner.config.anchor,
                    None,
                    (light_height_of(header.header.height), self.clock()),
                    |height| async move {
                        let block = node_ref.light_block(height).await?;
                        fetched_ref
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push(block.clone());
                        Ok(block)
                    },
                )
                .await?;
                check_certifies(&certified, &header)?;
                let mut light_blocks = fetched
                    .into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                light_blocks.sort_by_key(|block| block.height().value());
                light_blocks.dedup_by_key(|block| block.height().value());
                let mut answers = Vec::with_capacity(queries.len());
                for (path, key) in queries {
                    let path: Vec<&str> = path.iter().map(String::as_str).collect();
                    let answer = node.state(&path, header.header.height).await?;
                    verify_state_answer(&answer, *key, &header)?;
                    answers.push(answer);
                }
                Ok(ProvenAnswers {
                    header,
                    light_blocks,
                    answers,
                })
            })
            .await
    }

    pub(crate) async fn read_state(
        &self,
        path: &[&str],
        key: jmt::KeyHash,
    ) -> LightResult<Option<Vec<u8>>> {
        self.inner
            .endpoints
            .run(|node| async move {
                let header = self.read_header(&node).await?;
                self.proven_state(&node, &header, path, key).await
            })
            .await
    }

    /// An account's proven state; an absent account is zero balance, nonce 0.
    pub async fn account(&self, address: &str) -> LightResult<AccountState> {
        let proven = self
            .read_state(&["account", address], state_key::account(address))
            .await?;
        Ok(decode_proven(proven)?.unwrap_or_default())
    }

    /// A device's proven state, `None` when it was never paired.
    pub async fn device(&self, vid: &str) -> LightResult<Option<DeviceState>> {
        let proven = self
            .read_state(&["device", vid], state_key::device(vid))
            .await?;
        decode_proven(proven)
    }

    /// A record's proven registration, `None` when not registered.
    pub async fn registration(
        &self,
        address: &str,
        key: &[u8],
    ) -> LightResult<Option<RecordRegistration>> {
        let key_hex = hex::encode(key);
        let proven = self
            .read_state(
                &["record", address, &key_hex],
                state_key::record(address, key),
            )
            .await?;
        decode_proven(proven)
    }
}
