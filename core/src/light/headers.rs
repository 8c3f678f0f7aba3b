//! The verified header chain: headers accepted only when they descend from the anchored
//! genesis link by link, kept in memory (a recent window) and, with a wallet store, in its
//! `headers` table so the verified tip survives restarts and works offline.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::anchor::TrustAnchor;
use super::error::{LightError, LightResult};
use crate::protocol::{Canonical, SignedHeader, verify_chain};
use crate::store::{HeaderRow, StoreError, WalletStore};

/// Headers kept in memory; older ones are read back from the store when needed.
const MEMORY_WINDOW: usize = 2048;

/// The client's verified headers.
#[derive(Debug)]
pub struct HeaderCache {
    anchor: TrustAnchor,
    store: Option<Arc<Mutex<WalletStore>>>,
    recent: BTreeMap<u64, SignedHeader>,
    store_loaded: bool,
}

impl HeaderCache {
    /// An empty cache for `anchor`, backed by `store` when given.
    pub fn new(anchor: TrustAnchor, store: Option<Arc<Mutex<WalletStore>>>) -> Self {
        HeaderCache {
            anchor,
            store,
            recent: BTreeMap::new(),
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

    /// Loads the stored tip once (after a restart), re-checking that the anchor vouches
    /// for it (chain, validator, signature).
    fn load_stored_tip(&mut self) -> LightResult<()> {
        if self.store_loaded {
            return Ok(());
        }
        self.store_loaded = true;
        if let Some(Some(row)) = self.with_store(|store| store.latest_header())? {
            let header = decode_row(&row)?;
            self.anchor.check_header(&header)?;
            self.recent.insert(header.header.height, header);
        }
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

    /// The verified header at `height`: memory first, then the store.
    pub fn header_at(&mut self, height: u64) -> LightResult<SignedHeader> {
        self.load_stored_tip()?;
        if let Some(header) = self.recent.get(&height) {
            return Ok(header.clone());
        }
        match self.with_store(|store| store.header(height))? {
            Some(Some(row)) => decode_row(&row),
            _ => Err(LightError::NotSynced(height)),
        }
    }

    /// Verifies `headers` (ascending, starting right after the tip) link by link and adds
    /// them. Headers verified before a failing one are kept; the failure is
    /// [`LightError::Tampered`]. Returns the new tip height.
    pub fn extend(&mut self, headers: &[SignedHeader]) -> LightResult<Option<u64>> {
        let mut previous = self.tip()?;
        let mut accepted = Vec::with_capacity(headers.len());
        let mut failure = None;
        for next in headers {
            let checked = match &previous {
                None => self.anchor.check_genesis(next),
                Some(prev) => verify_chain(prev, next).map_err(|err| {
                    LightError::Tampered(format!("header {}: {err}", next.header.height))
                }),
            };
            if let Err(err) = checked {
                failure = Some(err);
                break;
            }
            accepted.push(next.clone());
            previous = Some(next.clone());
        }
        self.keep(&accepted)?;
        match failure {
            Some(err) => Err(err),
            None => Ok(previous.map(|header| header.header.height)),
        }
    }

    fn keep(&mut self, accepted: &[SignedHeader]) -> LightResult<()> {
        if accepted.is_empty() {
            return Ok(());
        }
        let rows: Vec<HeaderRow> = accepted
            .iter()
            .map(|header| HeaderRow {
                height: header.header.height,
                hash: header.header.hash().to_vec(),
                bytes: header.to_canonical(),
            })
            .collect();
        match self.with_store(|store| store.save_headers(&rows)) {
            Err(LightError::Store(StoreError::HeaderConflict { height })) => {
                return Err(LightError::Tampered(format!(
                    "a second, different header at height {height}"
                )));
            }
            other => {
                other?;
            }
        }
        for header in accepted {
            self.recent.insert(header.header.height, header.clone());
        }
        while self.recent.len() > MEMORY_WINDOW {
            self.recent.pop_first();
        }
        Ok(())
    }
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

/// A locally signed chain for the light client's unit tests.
#[cfg(test)]
pub mod test_chain {
    use bitcoin::secp256k1::SecretKey;

    use crate::protocol::merkle::merkle_root;
    use crate::protocol::signing::{public_key_of, secret_key_from_bytes};
    use crate::protocol::{BlockHeader, SignedHeader};

    /// Chain id of the test chain.
    pub const TEST_CHAIN: &str = "carchain-test";

    /// The test validator's key.
    pub fn validator_secret() -> SecretKey {
        secret_key_from_bytes(&[7; 32]).unwrap()
    }

    /// The test genesis header.
    pub fn genesis() -> SignedHeader {
        BlockHeader {
            chain_id: TEST_CHAIN.into(),
            height: 0,
            time: 1_700_000_000_000,
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
            time: prev.header.time + 1_000,
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
}

#[cfg(test)]
mod tests {
    use super::test_chain::*;
    use super::*;
    use crate::protocol::Network;
    use crate::protocol::signing::{public_key_of, secret_key_from_bytes};
    use crate::store::InMemorySecretStore;

    fn anchor() -> TrustAnchor {
        TrustAnchor {
            chain_id: TEST_CHAIN.into(),
            network: Network::Regtest,
            validator: public_key_of(&validator_secret()),
        }
    }

    fn memory_store() -> Arc<Mutex<WalletStore>> {
        let store = WalletStore::open_in_memory(Arc::new(InMemorySecretStore::default())).unwrap();
        Arc::new(Mutex::new(store))
    }

    #[test]
    fn a_signed_chain_from_genesis_is_accepted_in_pages() {
        let headers = chain(10);
        let mut cache = HeaderCache::new(anchor(), None);
        assert_eq!(cache.tip_height().unwrap(), None);
        assert_eq!(cache.extend(&headers[..4]).unwrap(), Some(3));
        assert_eq!(cache.extend(&headers[4..]).unwrap(), Some(9));
        assert_eq!(cache.header_at(5).unwrap(), headers[5]);
        assert!(matches!(
            cache.header_at(10),
            Err(LightError::NotSynced(10))
        ));
    }

    #[test]
    fn a_chain_must_start_at_the_anchored_genesis() {
        let headers = chain(3);
        let mut cache = HeaderCache::new(anchor(), None);
        assert!(matches!(
            cache.extend(&headers[1..]),
            Err(LightError::Tampered(_))
        ));
        assert_eq!(cache.tip_height().unwrap(), None);

        let mut foreign = anchor();
        foreign.validator = public_key_of(&secret_key_from_bytes(&[8; 32]).unwrap());
        let mut cache = HeaderCache::new(foreign, None);
        assert!(matches!(
            cache.extend(&headers),
            Err(LightError::Tampered(_))
        ));
    }

    #[test]
    fn a_forged_header_stops_the_chain_and_keeps_the_verified_prefix() {
        let mut headers = chain(6);
        headers[4].header.state_root = [0xee; 32];
        let mut cache = HeaderCache::new(anchor(), None);
        let err = cache.extend(&headers).unwrap_err();
        assert!(matches!(&err, LightError::Tampered(reason) if reason.contains("header 4")));
        assert_eq!(cache.tip_height().unwrap(), Some(3));
    }

    #[test]
    fn a_resigned_header_by_another_key_is_refused() {
        let headers = chain(3);
        let intruder = secret_key_from_bytes(&[9; 32]).unwrap();
        let mut forged = child_header(&headers[1], [0xaa; 32]);
        forged.proposer = public_key_of(&intruder);
        let forged = forged.sign(&intruder).unwrap();
        let mut cache = HeaderCache::new(anchor(), None);
        cache.extend(&headers[..2]).unwrap();
        assert!(matches!(
            cache.extend(&[forged]),
            Err(LightError::Tampered(_))
        ));
        assert!(cache.extend(&headers[2..]).is_ok());
    }

    #[test]
    fn a_replayed_old_header_does_not_extend_the_tip() {
        let headers = chain(5);
        let mut cache = HeaderCache::new(anchor(), None);
        cache.extend(&headers).unwrap();
        assert!(matches!(
            cache.extend(&headers[2..3]),
            Err(LightError::Tampered(_))
        ));
        assert_eq!(cache.tip_height().unwrap(), Some(4));
    }

    #[test]
    fn the_stored_tip_survives_a_restart() {
        let store = memory_store();
        let headers = chain(7);
        let mut cache = HeaderCache::new(anchor(), Some(Arc::clone(&store)));
        cache.extend(&headers).unwrap();
        drop(cache);
        let mut restarted = HeaderCache::new(anchor(), Some(Arc::clone(&store)));
        assert_eq!(restarted.tip_height().unwrap(), Some(6));
        assert_eq!(restarted.header_at(2).unwrap(), headers[2]);
        let more = {
            let next = child_header(&headers[6], [0x77; 32])
                .sign(&validator_secret())
                .unwrap();
            vec![next]
        };
        assert_eq!(restarted.extend(&more).unwrap(), Some(7));
    }

    #[test]
    fn a_stored_tip_of_another_chain_is_refused() {
        let store = memory_store();
        let mut cache = HeaderCache::new(anchor(), Some(Arc::clone(&store)));
        cache.extend(&chain(2)).unwrap();
        let mut other = anchor();
        other.chain_id = "other-chain".into();
        let mut restarted = HeaderCache::new(other, Some(store));
        assert!(matches!(
            restarted.tip_height(),
            Err(LightError::Tampered(_))
        ));
    }
}
