//! Verified record reads: one record, a key range of one address and whole addresses
//! (many at once), each page proven against one header with its address index.

use super::*;

impl LightClient {
    /// One record: its registration proven against a verified header, its value fetched
    /// and checked against the registered cHash. `None` when not registered; a registered
    /// record the node holds no value for is [`LightError::ValueMissing`].
    pub async fn record(&self, address: &str, key: &[u8]) -> LightResult<Option<VerifiedRecord>> {
        let key_hex = hex::encode(key);
        self.inner
            .endpoints
            .run(|node| {
                let key_hex = key_hex.clone();
                async move {
                    // This address's read on a connection of its own.
                    let node = node.fresh()?;
                    let header = self.read_header(&node).await?;
                    let proven = self
                        .proven_state(
                            &node,
                            &header,
                            &["record", address, &key_hex],
                            state_key::record(address, key),
                        )
                        .await?;
                    let Some(registration) = decode_proven::<RecordRegistration>(proven)? else {
                        return Ok(None);
                    };
                    let value = self
                        .paid(&node, |token| {
                            let node = node.clone();
                            async move { node.get_value(address, key, token.as_deref()).await }
                        })
                        .await?
                        .ok_or_else(|| LightError::ValueMissing {
                            address: address.to_owned(),
                            key_hex: key_hex.clone(),
                        })?;
                    check_value(&registration, address, key, &value)
                        .map_err(|reason| tampered_value(address, key, reason))?;
                    Ok(Some(VerifiedRecord {
                        registration,
                        envelope: value,
                    }))
                }
            })
            .await
    }

    /// Every record of `address` with `start <= key <= end`, all pages, key order, each
    /// registration proven and value cHash-checked; items failing their check are in
    /// `rejected`. A node can omit items unnoticed (see [`crate::light::records`]).
    pub async fn records_in_range(
        &self,
        address: &str,
        start: &[u8],
        end: &[u8],
    ) -> LightResult<RangeRead> {
        if start > end {
            return Err(LightError::InvalidInput(
                "range start is after its end".into(),
            ));
        }
        // An answer with rejected items marks its node as serving bad data: the other
        // endpoints are tried, and if none answers cleanly the first such answer is
        // returned with its rejections.
        let with_rejections: Mutex<Option<RangeRead>> = Mutex::new(None);
        let outcome = self
            .inner
            .endpoints
            .run(|node| {
                let with_rejections = &with_rejections;
                async move {
                    let node = node.fresh()?;
                    let header = self.read_header(&node).await?;
                    let (items, _) = self
                        .all_range_items(&node, address, start, end, header.header.height)
                        .await?;
                    let (accepted, mut rejected) = screen_range_items(address, start, end, items);
                    let records = self
                        .prove_items(&node, &header, address, accepted, &mut rejected)
                        .await?;
                    if rejected.is_empty() {
                        return Ok(RangeRead {
                            records,
                            rejected,
                            missing: 0,
                        });
                    }
                    let count = rejected.len();
                    if let Ok(mut kept) = with_rejections.lock()
                        && kept.is_none()
                    {
                        *kept = Some(RangeRead {
                            records,
                            rejected,
                            missing: 0,
                        });
                    }
                    Err(LightError::Tampered(format!(
                        "{count} range item(s) failed verification"
                    )))
                }
            })
            .await;
        match outcome {
            Ok(read) => Ok(read),
            Err(err) => match with_rejections.into_inner().ok().flatten() {
                Some(read) => Ok(read),
                None => Err(err),
            },
        }
    }

    /// Every record of `address`, each registration proven and value cHash-checked, and
    /// checked complete against the ledger's per-address index (count and key digest):
    /// a node that drops a record is caught, and the next node is tried. When no node
    /// serves them all, the best answer comes back with `missing` set (e.g. a car that
    /// registered a record but has not stored its value yet).
    pub async fn records_at(&self, address: &str) -> LightResult<RangeRead> {
        self.records_at_under(address, None).await
    }

    /// [`LightClient::records_at`] of every address of `addresses`, in order, all checked
    /// against one header per node (read once, at the first address a node answers):
    /// a many-address read (a month of days) asks each node's status once, not once per
    /// address. Each address has its own answer (an offline node fails each).
    pub async fn records_at_many(&self, addresses: &[String]) -> Vec<LightResult<RangeRead>> {
        let headers = HeaderMemo::default();
        let mut reads = Vec::with_capacity(addresses.len());
        for address in addresses {
            reads.push(self.records_at_under(address, Some(&headers)).await);
        }
        reads
    }

    /// The header to check a read from `node` against: the one `memo` holds for the node,
    /// or a freshly read one (kept there).
    pub(super) async fn header_for(
        &self,
        node: &NodeHttp,
        memo: Option<&HeaderMemo>,
    ) -> LightResult<SignedHeader> {
        let Some(memo) = memo else {
            return self.read_header(node).await;
        };
        let known = memo
            .lock()
            .ok()
            .and_then(|headers| headers.get(node.label()).cloned());
        if let Some(header) = known {
            return Ok(header);
        }
        let header = self.read_header(node).await?;
        if let Ok(mut headers) = memo.lock() {
            headers.insert(node.label().to_owned(), header.clone());
        }
        Ok(header)
    }

    pub(super) async fn records_at_under(
        &self,
        address: &str,
        memo: Option<&HeaderMemo>,
    ) -> LightResult<RangeRead> {
        let incomplete: Mutex<Option<RangeRead>> = Mutex::new(None);
        let outcome = self
            .inner
            .endpoints
            .run(|node| {
                let incomplete = &incomplete;
                async move {
                    let node = node.fresh()?;
                    let header = self.header_for(&node, memo).await?;
                    let (items, page_index) = self
                        .all_range_items(&node, address, &[], ALL_KEYS_END, header.header.height)
                        .await?;
                    // The index the first page carried, or (a node that does not send
                    // it) one more request; checked against the header either way.
                    let index_key = state_key::address_index(address);
                    let proven_index = match page_index {
                        Some(answer) => verify_state_answer(&answer, index_key, &header)?,
                        None => {
                            self.proven_state(
                                &node,
                                &header,
                                &["address-index", address],
                                index_key,
                            )
                            .await?
                        }
                    };
                    let index: AddressIndex = decode_proven(proven_index)?.unwrap_or_default();
                    let (accepted, mut rejected) =
                        screen_range_items(address, &[], ALL_KEYS_END, items);
                    let records = self
                        .prove_items(&node, &header, address, accepted, &mut rejected)
                        .await?;
                    // Values registered after the header read (the car is still writing)
                    // are not part of the index at that height: left for the next read.
                    rejected.retain(|r| r.reason != NOT_REGISTERED);
                    let served = AddressIndex::of_keys(
                        records.iter().map(|r| r.registration.put.key.as_slice()),
                    );
                    if served == index && rejected.is_empty() {
                        return Ok(RangeRead {
                            records,
                            rejected,
                            missing: 0,
                        });
                    }
                    let rejected_count = rejected.len();
                    let missing = index.count.saturating_sub(records.len() as u64);
                    if let Ok(mut kept) = incomplete.lock() {
                        let better = kept
                            .as_ref()
                            .is_none_or(|k| records.len() > k.records.len());
                        if better {
                            *kept = Some(RangeRead {
                                records,
                                rejected,
                                missing,
                            });
                        }
                    }
                    Err(LightError::Tampered(format!(
                        "{address}: the ledger indexes {} record(s), the node served {} of \
                         them; {rejected_count} item(s) failed verification",
                        index.count, served.count,
                    )))
                }
            })
            .await;
        match outcome {
            Ok(read) => Ok(read),
            Err(err) => match incomplete.into_inner().ok().flatten() {
                Some(read) => Ok(read),
                None => Err(err),
            },
        }
    }

    /// Every page of `address` in `start..=end`, each record with its registration proven
    /// at `proofs_at` (the header the read checks against) when the node serves proven
    /// pages, and the address index (with its proof, unchecked) the first page carried.
    pub(super) async fn all_range_items(
        &self,
        node: &NodeHttp,
        address: &str,
        start: &[u8],
        end: &[u8],
        proofs_at: u64,
    ) -> LightResult<(RangeItems, Option<StateAnswerWire>)> {
        let mut items = Vec::new();
        let mut index = None;
        let mut after: Option<Vec<u8>> = None;
        loop {
            let cursor = after.clone();
            let page = self
                .paid(node, |token| {
                    let node = node.clone();
                    let cursor = cursor.clone();
                    async move {
                        node.range(
                            address,
                            start,
                            end,
                            RANGE_PAGE_LIMIT,
                            cursor.as_deref(),
                            Some(proofs_at),
                            token.as_deref(),
                        )
                        .await
                    }
                })
                .await?;
            items.extend(page.items);
            if index.is_none() {
                index = page.index;
            }
            match page.next {
                None => return Ok((items, index)),
                Some(next) if after.as_ref().is_some_and(|previous| &next <= previous) => {
                    return Err(LightError::BadAnswer {
                        endpoint: node.label().to_owned(),
                        reason: "range cursor does not advance".into(),
                    });
                }
                Some(next) => after = Some(next),
            }
        }
    }

    /// Proves each accepted item against `header`: from the proof its page carried, or
    /// (a node that serves pages without proofs) from one state request per item, a few
    /// at a time.
    pub(super) async fn prove_items(
        &self,
        node: &NodeHttp,
        header: &SignedHeader,
        address: &str,
        accepted: RangeItems,
        rejected: &mut Vec<crate::light::types::RejectedRecord>,
    ) -> LightResult<Vec<VerifiedRecord>> {
        let permits = Arc::new(Semaphore::new(PROOF_CONCURRENCY));
        let mut tasks = JoinSet::new();
        let mut outcomes = Vec::with_capacity(accepted.len());
        for (index, item) in accepted.into_iter().enumerate() {
            if let Some(answer) = &item.registration {
                outcomes.push((
                    index,
                    prove_answered(answer, header, address, item.key, item.value)?,
                ));
                continue;
            }
            let (node, header, address) = (node.clone(), header.clone(), address.to_owned());
            let permits = Arc::clone(&permits);
            tasks.spawn(async move {
                let _permit = permits
                    .acquire_owned()
                    .await
                    .map_err(|_| LightError::InvalidInput("proof tasks closed".into()))?;
                prove_item(node, header, address, item)
                    .await
                    .map(|outcome| (index, outcome))
            });
        }
        while let Some(joined) = tasks.join_next().await {
            outcomes.push(joined.map_err(|err| {
                LightError::InvalidInput(format!("a proof task failed: {err}"))
            })??);
        }
        outcomes.sort_by_key(|(index, _)| *index);
        let mut verified = Vec::with_capacity(outcomes.len());
        for (_, outcome) in outcomes {
            match outcome {
                Ok(record) => verified.push(record),
                Err(reject) => rejected.push(reject),
            }
        }
        Ok(verified)
    }
}
