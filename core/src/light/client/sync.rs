//! Syncing the verified header chain: each page of ledger headers certified by the
//! engine's light blocks from the trust anchor and bound to them, the lag a node may
//! have, and the header a read is made at.

use super::*;

impl LightClient {
    /// Height of the verified tip (0 before any header is verified).
    pub fn verified_height(&self) -> u64 {
        self.verified_tip()
            .ok()
            .flatten()
            .map_or(0, |h| h.header.height)
    }

    /// The newest CometBFT light block this client verified, as a checkpoint: its height
    /// and header hash, which anchor another client ([`crate::light::TrustRoot::Height`], e.g. shared
    /// as a QR code) without the genesis validator set. `None` before the first sync.
    pub fn checkpoint(&self) -> LightResult<Option<(u64, [u8; 32])>> {
        let Some(block) = self.headers()?.trusted_block()? else {
            return Ok(None);
        };
        let hash: [u8; 32] = block
            .signed_header
            .header
            .hash()
            .as_bytes()
            .try_into()
            .map_err(|_| LightError::InvalidInput("a header hash is not 32 bytes".into()))?;
        Ok(Some((block.height().value(), hash)))
    }

    /// The verified tip header, if any (from memory or the store, no network).
    pub fn verified_tip(&self) -> LightResult<Option<SignedHeader>> {
        self.headers()?.tip()
    }

    /// The verified header at `height` (from memory or the store, no network).
    pub fn verified_header(&self, height: u64) -> LightResult<SignedHeader> {
        self.headers()?.header_at(height)
    }

    /// Syncs verified headers up to a node's tip, reporting progress after each page.
    /// Returns the verified height.
    pub async fn sync(&self, progress: &(dyn Fn(SyncProgress) + Send + Sync)) -> LightResult<u64> {
        self.inner
            .endpoints
            .run(|node| async move {
                let status = self.checked_status(&node).await?;
                self.sync_from(&node, status.height, progress).await?;
                self.check_lag(&node, status.height)?;
                Ok(self.verified_height())
            })
            .await
    }

    pub(super) async fn checked_status(&self, node: &NodeHttp) -> LightResult<NodeStatusView> {
        let status = node.status().await?;
        let anchor = &self.inner.config.anchor;
        if status.chain_id != anchor.chain_id || status.network != network_name(anchor.network) {
            return Err(LightError::WrongChain {
                expected: anchor.label(),
                found: format!("{}/{}", status.chain_id, status.network),
            });
        }
        Ok(status)
    }

    pub(super) async fn sync_from(
        &self,
        node: &NodeHttp,
        target: u64,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> LightResult<()> {
        let _one_sync = self.inner.sync_lock.lock().await;
        loop {
            let tip = self.headers()?.tip_height()?;
            let from = self.headers()?.next_height()?;
            if tip.is_some_and(|h| h >= target) || from > target {
                return Ok(());
            }
            let wanted = (target - from + 1).min(HEADERS_PER_PAGE);
            let limit = u32::try_from(wanted).unwrap_or(1000);
            let page = node.headers(from, limit).await?;
            if page.is_empty() {
                return Err(LightError::Tampered(format!(
                    "node reports height {target} but serves no header at {from}"
                )));
            }
            let (complete, height) = self.certify_page(node, &page).await?;
            progress(SyncProgress { height, target });
            if !complete {
                return Ok(());
            }
        }
    }

    /// Links `page` to the verified tip, certifies its newest header with a light block
    /// verified from the trusted state (skipping, bisecting when needed), binds every
    /// header of it to the verified CometBFT chain ([`bind_headers`]) and keeps it.
    /// A CometBFT node commits the light block of ledger block `H` one block later: when
    /// the newest one is not served yet, the page is certified one header shorter.
    /// Returns whether the whole page was kept, and the verified height.
    pub(super) async fn certify_page(
        &self,
        node: &NodeHttp,
        page: &[SignedHeader],
    ) -> LightResult<(bool, u64)> {
        let (mut linked, failure) = self.headers()?.check_links(page)?;
        let trusted = self.headers()?.trusted_block()?;
        let anchor = &self.inner.config.anchor;
        let mut complete = failure.is_none();
        let mut tip = self.verified_height();
        while let Some(last) = linked.last() {
            let target = light_height_of(last.header.height);
            let fetched = verify_to(anchor, trusted.clone(), (target, self.clock()), |height| {
                node.light_block(height)
            })
            .await;
            match fetched {
                Ok(certified) => {
                    let previous = self.headers()?.tip()?;
                    bind_headers(
                        &linked,
                        &certified,
                        trusted.as_ref(),
                        previous.as_ref(),
                        |height| node.light_block(height),
                    )
                    .await?;
                    tip = self.headers()?.accept(&linked, certified)?;
                    break;
                }
                Err(err) if is_not_yet_committed(&err) && linked.len() > 1 => {
                    linked.pop();
                    complete = false;
                }
                // Only the node's tip is new and its light block is not committed yet:
                // nothing more to certify now (the tip is read one block behind).
                Err(err) if is_not_yet_committed(&err) => {
                    complete = false;
                    break;
                }
                Err(err) => return Err(err),
            }
        }
        match failure {
            Some(err) => Err(err),
            None => Ok((complete, tip)),
        }
    }

    pub(super) fn check_lag(&self, node: &NodeHttp, node_height: u64) -> LightResult<u64> {
        let verified = self
            .headers()?
            .tip_height()?
            .ok_or(LightError::NotSynced(0))?;
        if node_height.saturating_add(self.inner.config.max_lag) < verified {
            return Err(LightError::Stale {
                endpoint: node.label().to_owned(),
                node_height,
                verified_height: verified,
            });
        }
        Ok(verified)
    }

    /// Brings the verified tip up to `node`'s and returns the header to read state at:
    /// the verified tip, or the node's tip when it is (within the allowed lag) behind.
    pub(super) async fn read_header(&self, node: &NodeHttp) -> LightResult<SignedHeader> {
        let status = self.checked_status(node).await?;
        self.sync_from(node, status.height, &|_| {}).await?;
        let verified = self.check_lag(node, status.height)?;
        self.headers()?.header_at(verified.min(status.height))
    }
}
