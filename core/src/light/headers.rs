//! The verified header chain: ledger headers accepted only when they are hash-linked
//! to the verified tip (or are the anchor's first header) and the newest header of each
//! page is certified by a CometBFT light block verified from the trust anchor (see
//! [`super::certify`]). Kept in memory (a recent window) and, with a wallet store, in its
//! `headers` table together with the trusted light block (`light_trust`), so the
//! verified tip survives restarts and works offline.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::anchor::TrustAnchor;
use super::certify::check_certifies;
use super::error::{LightError, LightResult};
use super::light_block::LightBlock;
use crate::protocol::{Canonical, ProtocolError, SignedHeader, verify_chain};
use crate::store::{HeaderRow, StoreError, WalletStore};

/// Headers kept in memory; older ones are read back from the store when needed.
const MEMORY_WINDOW: usize = 2048;

/// The client's verified headers and trusted consensus state.
#[derive(Debug)]
pub struct HeaderCache {
    anchor: TrustAnchor,
    store: Option<Arc<Mutex<WalletStore>>>,
    recent: BTreeMap<u64, SignedHeader>,
    /// The last verified light block: it certifies the tip.
    trusted: Option<LightBlock>,
    store_loaded: bool,
}

impl HeaderCache {
    /// An empty cache for `anchor`, backed by `store` when given.
    pub fn new(anchor: TrustAnchor, store: Option<Arc<Mutex<WalletStore>>>) -> Self {
        HeaderCache {
            anchor,
            store,
            recent: BTreeMap::new(),
            trusted: None,
            store_loaded: false,
        }
    }

    fn with_store<T>(
        &self,
        call: impl FnOnce(&WalletStore) -> Result<T, StoreError>,
    ) -> LightResult<Option<T>> {
        match &self.store {
            None => Ok(None),
            Some(store) => {
                let guard = store.lock().map_err(|_| {
                    LightError::InvalidInput("the wallet store lock is poisoned".into())
                })?;
                Ok(Some(call(&guard)?))
            }
        }
    }

    /// Loads the stored tip and trusted light block once (after a restart), checking
    /// that they belong to the anchor's chain and that the light block certifies the
    /// tip. A store without a trusted light block (written before light blocks) keeps
    /// its headers but the client syncs again from the anchor.
    fn load_stored_tip(&mut self) -> LightResult<()> {
        if self.store_loaded {
            return Ok(());
        }
        self.store_loaded = true;
        let Some(Some((height, block))) = self.with_store(|store| store.light_trust())? else {
            return Ok(());
        };
        let Some(Some(row)) = self.with_store(|store| store.latest_header())? else {
            return Ok(());
        };
        let header = decode_row(&row)?;
        self.anchor.check_chain(&header)?;
        let trusted: LightBlock = serde_json::from_slice(&block).map_err(|err| {
            LightError::InvalidInput(format!("the stored light block is unreadable: {err}"))
        })?;
        if trusted.height().value() != height
            || trusted.signed_header.header.chain_id.as_str() != self.anchor.chain_id
        {
            return Err(LightError::InvalidInput(
                "the stored light block does not match its row".into(),
            ));
        }
        check_certifies(&trusted, &header)?;
        self.recent.insert(header.header.height, header);
        self.trusted = Some(trusted);
        Ok(())
    }

    /// The highest verified header, if any.
    pub fn tip(&mut self) -> LightResult<Option<SignedHeader>> {
        self.load_stored_tip()?;
        Ok(self
            .recent
            .last_key_value()
            .map(|(_, header)| header.clone()))
    }

    /// The verified tip's height, if any.
    pub fn tip_height(&mut self) -> LightResult<Option<u64>> {
        Ok(self.tip()?.map(|header| header.header.height))
    }

    /// The ledger height the next page starts at.
    pub fn next_height(&mut self) -> LightResult<u64> {
        Ok(match self.tip_height()? {
            Some(height) => height.saturating_add(1),
            None => self.anchor.first_ledger_height(),
        })
    }

    /// The last verified light block (it certifies the tip), if any.
    pub fn trusted_block(&mut self) -> LightResult<Option<LightBlock>> {
        self.load_stored_tip()?;
        Ok(self.trusted.clone())
    }

    /// The verified header at `height`: memory first, then the store.
    pub fn header_at(&mut self, height: u64) -> LightResult<SignedHeader> {
        self.load_stored_tip()?;
        if let Some(header) = self.recent.get(&height) {
            return Ok(header.clone());
        }
        if self.trusted.is_none() {
            return Err(LightError::NotSynced(height));
        }
        match self.with_store(|store| store.header(height))? {
            Some(Some(row)) => decode_row(&row),
            _ => Err(LightError::NotSynced(height)),
        }
    }

    /// Checks that `headers` (ascending, starting right after the tip) are linked to the
    /// tip and to each other. Returns the linked prefix and the failure that ended it,
    /// if any; nothing is kept until [`Self::accept`].
    pub fn check_links(
        &mut self,
        headers: &[SignedHeader],
    ) -> LightResult<(Vec<SignedHeader>, Option<LightError>)> {
        let mut previous = self.tip()?;
        let mut linked = Vec::with_capacity(headers.len());
        for next in headers {
            let checked = match &previous {
                None => self.anchor.check_first(next),
                Some(prev) => verify_chain(prev, next).map_err(|err| link_error(prev, next, err)),
            };
            if let Err(err) = checked {
                return Ok((linked, Some(err)));
            }
            linked.push(next.clone());
            previous = Some(next.clone());
        }
        Ok((linked, None))
    }

    /// Keeps `headers` (linked by [`Self::check_links`]) whose last one `certified`
    /// (a light block verified from the trusted state) certifies. Returns the new tip.
    pub fn accept(&mut self, headers: &[SignedHeader], certified: LightBlock) -> LightResult<u64> {
        let last = headers
            .last()
            .ok_or_else(|| LightError::InvalidInput("no header to accept".into()))?;
        check_certifies(&certified, last)?;
        let rows: Vec<HeaderRow> = headers
            .iter()
            .map(|header| HeaderRow {
                height: header.header.height,
                hash: header.header.hash().to_vec(),
                bytes: header.to_canonical(),
            })
            .collect();
        let block = serde_json::to_vec(&certified)
            .map_err(|err| LightError::InvalidInput(format!("light block: {err}")))?;
        let saved = self.with_store(|store| {
            store.save_headers_and_trust(&rows, certified.height().value(), &block)
        });
        if let Err(LightError::Store(StoreError::HeaderConflict { height })) = saved {
            return Err(LightError::ConflictingHeaders {
                height,
                reason: "a second, different header at this height".into(),
            });
        }
        saved?;
        for header in headers {
            self.recent.insert(header.header.height, header.clone());
        }
        while self.recent.len() > MEMORY_WINDOW {
            self.recent.pop_first();
        }
        self.trusted = Some(certified);
        Ok(last.header.height)
    }
}

/// A header that does not link to a verified one: a header at the same height as the
/// verified one but different conflicts with it; anything else is tampering.
fn link_error(prev: &SignedHeader, next: &SignedHeader, err: ProtocolError) -> LightError {
    let conflicting = next.header.height == prev.header.height.saturating_add(1)
        && next.header.prev_hash != prev.header.hash();
    if conflicting {
        return LightError::ConflictingHeaders {
            height: prev.header.height,
            reason: "the node's chain names another header here than the verified one".into(),
        };
    }
    LightError::Tampered(format!("header {}: {err}", next.header.height))
}

fn decode_row(row: &HeaderRow) -> LightResult<SignedHeader> {
    let header = SignedHeader::from_canonical(&row.bytes)?;
    if header.header.height != row.height || header.header.hash().as_slice() != row.hash {
        return Err(LightError::InvalidInput(format!(
            "the stored header at height {} does not match its row",
            row.height
        )));
    }
    Ok(header)
}

/// A locally signed chain for the light client's unit tests, with the light blocks an
/// embedded one-validator node would serve for it.
#[cfg(test)]
pub mod test_chain {
    use bitcoin::secp256k1::SecretKey;

    use super::*;
    use crate::light::certify::verify_to;
    use crate::light::light_block::{
        BlockSpec, ConsensusSigner, DEFAULT_POWER, block_id_of, build_light_block, validator_set,
    };
    use crate::protocol::merkle::merkle_root;
    use crate::protocol::signing::{public_key_of, secret_key_from_bytes};
    use crate::protocol::{BlockHeader, Network};

    /// Chain id of the test chain.
    pub const TEST_CHAIN: &str = "carchain-test";

    /// The test header key.
    pub fn validator_secret() -> SecretKey {
        secret_key_from_bytes(&[7; 32]).unwrap()
    }

    /// The test validator's consensus key.
    pub fn consensus_signer() -> ConsensusSigner {
        ConsensusSigner::from_seed(&[5; 32])
    }

    /// The anchor of the test chain (its one validator).
    pub fn anchor() -> TrustAnchor {
        TrustAnchor::from_hex(
            TEST_CHAIN,
            Network::Regtest,
            &consensus_signer().public_hex(),
        )
        .unwrap()
    }

    /// Block time of ledger header 0: a minute ago (the verifier refuses future headers).
    pub fn start_time() -> u64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        now - 60_000
    }

    /// The test genesis header.
    pub fn genesis() -> SignedHeader {
        BlockHeader {
            chain_id: TEST_CHAIN.into(),
            height: 0,
            time: start_time() / 60_000 * 60_000,
            prev_hash: [0; 32],
            tx_root: merkle_root(&[]),
            state_root: [0x10; 32],
            tx_count: 0,
            proposer: public_key_of(&validator_secret()),
        }
        .sign(&validator_secret())
        .unwrap()
    }

    /// The child header of `prev` with `state_root`, unsigned.
    pub fn child_header(prev: &SignedHeader, state_root: [u8; 32]) -> BlockHeader {
        BlockHeader {
            height: prev.header.height + 1,
            time: prev.header.time + 10,
            prev_hash: prev.header.hash(),
            tx_root: merkle_root(&[[prev.header.height as u8; 32]]),
            tx_count: 1,
            state_root,
            ..prev.header.clone()
        }
    }

    /// Genesis and `len - 1` signed children; header `h` has state root `[0x10 + h; 32]`.
    pub fn chain(len: usize) -> Vec<SignedHeader> {
        let mut headers = vec![genesis()];
        while headers.len() < len {
            let prev = headers.last().unwrap();
            let root = [0x10u8.wrapping_add(headers.len() as u8); 32];
            headers.push(child_header(prev, root).sign(&validator_secret()).unwrap());
        }
        headers
    }

    /// Light blocks `1..=headers.len()` signed by the one test validator.
    pub fn light_blocks(headers: &[SignedHeader]) -> Vec<LightBlock> {
        let signer = consensus_signer();
        let set = validator_set(vec![signer.validator(DEFAULT_POWER)]);
        let mut blocks: Vec<LightBlock> = Vec::new();
        for header in headers {
            let spec = BlockSpec {
                chain_id: header.header.chain_id.clone(),
                height: header.header.height + 1,
                time_ms: header.header.time,
                app_hash: header.header.state_root,
                last_block_id: blocks.last().map(block_id_of),
            };
            blocks.push(build_light_block(&spec, &set, &set, &[&signer]).unwrap());
        }
        blocks
    }

    /// Links, certifies (fetching from `blocks`, index = height - 1) and keeps a page,
    /// as the client's sync does.
    pub fn sync_page(
        cache: &mut HeaderCache,
        page: &[SignedHeader],
        blocks: &[LightBlock],
    ) -> LightResult<Option<u64>> {
        let (linked, failure) = cache.check_links(page)?;
        let mut tip = cache.tip_height()?;
        if let Some(last) = linked.last() {
            let trusted = cache.trusted_block()?;
            let target = last.header.height + 1;
            let anchor = cache.anchor.clone();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let certified = runtime.block_on(verify_to(
                &anchor,
                trusted.clone(),
                (target, &crate::clock::SystemClock),
                |h| {
                    let found = blocks.get(h as usize - 1).cloned();
                    async move { found.ok_or(LightError::NotSynced(h)) }
                },
            ))?;
            let previous = cache.tip()?;
            runtime.block_on(crate::light::bind::bind_headers(
                &linked,
                &certified,
                trusted.as_ref(),
                previous.as_ref(),
                |h| {
                    let found = blocks.get(h as usize - 1).cloned();
                    async move { found.ok_or(LightError::NotSynced(h)) }
                },
            ))?;
            tip = Some(cache.accept(&linked, certified)?);
        }
        match failure {
            Some(err) => Err(err),
            None => Ok(tip),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_chain::*;
    use super::*;
    use crate::store::InMemorySecretStore;

    fn memory_store() -> Arc<Mutex<WalletStore>> {
        let store = WalletStore::open_in_memory(Arc::new(InMemorySecretStore::default())).unwrap();
        Arc::new(Mutex::new(store))
    }

    #[test]
    fn a_certified_chain_from_genesis_is_accepted_in_pages() {
        let headers = chain(10);
        let blocks = light_blocks(&headers);
        let mut cache = HeaderCache::new(anchor(), None);
        assert_eq!(cache.tip_height().unwrap(), None);
        assert_eq!(
            sync_page(&mut cache, &headers[..4], &blocks).unwrap(),
            Some(3)
        );
        assert_eq!(
            sync_page(&mut cache, &headers[4..], &blocks).unwrap(),
            Some(9)
        );
        assert_eq!(cache.header_at(5).unwrap(), headers[5]);
        assert_eq!(cache.trusted_block().unwrap().unwrap().height().value(), 10);
        assert!(matches!(
            cache.header_at(10),
            Err(LightError::NotSynced(10))
        ));
    }

    #[test]
    fn a_chain_must_start_at_the_anchored_genesis_and_validator() {
        let headers = chain(3);
        let blocks = light_blocks(&headers);
        let mut cache = HeaderCache::new(anchor(), None);
        assert!(matches!(
            sync_page(&mut cache, &headers[1..], &blocks),
            Err(LightError::Tampered(_))
        ));
        assert_eq!(cache.tip_height().unwrap(), None);

        let stranger = crate::light::light_block::ConsensusSigner::from_seed(&[8; 32]);
        let foreign = TrustAnchor::from_hex(
            TEST_CHAIN,
            crate::protocol::Network::Regtest,
            &stranger.public_hex(),
        )
        .unwrap();
        let mut cache = HeaderCache::new(foreign, None);
        assert!(matches!(
            sync_page(&mut cache, &headers, &blocks),
            Err(LightError::ForgedCommit { height: 1, .. })
        ));
        assert_eq!(cache.tip_height().unwrap(), None);
    }

    #[test]
    fn a_header_whose_state_root_is_not_the_committed_app_hash_is_refused() {
        let headers = chain(6);
        let blocks = light_blocks(&headers);
        let mut forged = headers.clone();
        forged[5] = child_header(&headers[4], [0xee; 32])
            .sign(&validator_secret())
            .unwrap();
        let mut cache = HeaderCache::new(anchor(), None);
        let err = sync_page(&mut cache, &forged, &blocks).unwrap_err();
        assert!(
            matches!(err, LightError::AppHashMismatch { height: 5 }),
            "{err}"
        );
        assert_eq!(cache.tip_height().unwrap(), None);
        assert_eq!(sync_page(&mut cache, &headers, &blocks).unwrap(), Some(5));
    }

    #[test]
    fn a_broken_link_keeps_the_certified_prefix_only() {
        let mut headers = chain(6);
        let blocks = light_blocks(&headers);
        headers[4].header.tx_count = 99;
        let mut cache = HeaderCache::new(anchor(), None);
        let err = sync_page(&mut cache, &headers, &blocks).unwrap_err();
        assert!(matches!(&err, LightError::Tampered(reason) if reason.contains("header 4")));
        assert_eq!(cache.tip_height().unwrap(), Some(3));
    }

    #[test]
    fn a_header_conflicting_with_the_verified_tip_is_named() {
        let headers = chain(5);
        let blocks = light_blocks(&headers);
        let mut cache = HeaderCache::new(anchor(), None);
        sync_page(&mut cache, &headers[..3], &blocks).unwrap();
        let other = chain(5);
        let mut fork = child_header(&headers[1], [0x99; 32]);
        fork.time += 1;
        let fork = fork.sign(&validator_secret()).unwrap();
        let next = child_header(&fork, [0x98; 32])
            .sign(&validator_secret())
            .unwrap();
        assert!(matches!(
            sync_page(&mut cache, &[next], &blocks),
            Err(LightError::ConflictingHeaders { height: 2, .. })
        ));
        assert_eq!(other[3], headers[3]);
        assert_eq!(
            sync_page(&mut cache, &headers[3..], &blocks).unwrap(),
            Some(4)
        );
    }

    #[test]
    fn a_replayed_old_header_does_not_extend_the_tip() {
        let headers = chain(5);
        let blocks = light_blocks(&headers);
        let mut cache = HeaderCache::new(anchor(), None);
        sync_page(&mut cache, &headers, &blocks).unwrap();
        assert!(sync_page(&mut cache, &headers[2..3], &blocks).is_err());
        assert_eq!(cache.tip_height().unwrap(), Some(4));
    }

    #[test]
    fn the_stored_tip_and_trust_survive_a_restart() {
        let store = memory_store();
        let headers = chain(8);
        let blocks = light_blocks(&headers);
        let mut cache = HeaderCache::new(anchor(), Some(Arc::clone(&store)));
        sync_page(&mut cache, &headers[..7], &blocks).unwrap();
        drop(cache);
        let mut restarted = HeaderCache::new(anchor(), Some(Arc::clone(&store)));
        assert_eq!(restarted.tip_height().unwrap(), Some(6));
        assert_eq!(restarted.header_at(2).unwrap(), headers[2]);
        let trusted = restarted.trusted_block().unwrap().unwrap();
        assert_eq!(trusted.signed_header, blocks[6].signed_header);
        assert_eq!(trusted.validators.hash(), blocks[6].validators.hash());
        assert_eq!(
            sync_page(&mut restarted, &headers[7..], &blocks).unwrap(),
            Some(7)
        );
    }

    #[test]
    fn a_stored_tip_of_another_chain_is_refused() {
        let store = memory_store();
        let headers = chain(2);
        let mut cache = HeaderCache::new(anchor(), Some(Arc::clone(&store)));
        sync_page(&mut cache, &headers, &light_blocks(&headers)).unwrap();
        let mut other = anchor();
        other.chain_id = "other-chain".into();
        let mut restarted = HeaderCache::new(other, Some(store));
        assert!(matches!(
            restarted.tip_height(),
            Err(LightError::Tampered(_))
        ));
    }
}
