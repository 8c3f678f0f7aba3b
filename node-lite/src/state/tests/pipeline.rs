//! Building blocks on top of blocks not yet written (the producer's pipeline): the
//! chain and its state roots are those of building one block at a time, admission
//! checks see the block being written, and a failed write voids what was built on it.

use carchain_core::protocol::StateHasher;
use jmt::JellyfishMerkleTree;

use crate::chain::{BuiltBlock, build_block};

use super::*;

/// Builds (without writing) a block of `txs` on `prev` at `time`.
fn build(
    chain: &mut Chain,
    prev: &SignedHeader,
    txs: &[SignedTransaction],
    time: u64,
) -> BuiltBlock {
    build_block(&mut chain.app, &chain.key, prev, txs, time)
        .unwrap_or_else(|e| panic!("{e}"))
        .block
        .unwrap_or_else(|| panic!("no block"))
}

/// Writes `block` (built at `height`) to the ledger file, then commits it.
fn write_and_commit(chain: &mut Chain, block: &BuiltBlock, height: u64) {
    block.write_to(&chain.db).unwrap_or_else(|e| panic!("{e}"));
    chain.app.commit(height);
}

fn first_block() -> Vec<SignedTransaction> {
    vec![
        sign(1, 0, 10, transfer(2, 300)),
        sign(1, 1, 10, put(1, b"trip-1", 100)),
    ]
}

fn second_block() -> Vec<SignedTransaction> {
    vec![
        sign(2, 0, 10, transfer(3, 200)),
        sign(1, 2, 10, put(1, b"trip-2", 100)),
    ]
}

#[test]
fn a_block_built_on_an_unwritten_block_commits_what_one_at_a_time_commits() {
    let mut serial = Chain::new(1_000_000, &[(1, 1_000)]);
    let t1 = serial.prev.header.time + 1000;
    let t2 = t1 + 1000;
    let one = produce_block(
        &mut serial.app,
        &serial.db,
        &serial.key,
        &serial.prev,
        &first_block(),
        t1,
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .header
    .unwrap_or_else(|| panic!("no block 1"));
    let two = produce_block(
        &mut serial.app,
        &serial.db,
        &serial.key,
        &one,
        &second_block(),
        t2,
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .header
    .unwrap_or_else(|| panic!("no block 2"));

    let mut piped = Chain::new(1_000_000, &[(1, 1_000)]);
    let genesis = piped.prev.clone();
    let block_one = build(&mut piped, &genesis, &first_block(), t1);
    // Account 2 is funded only by the unwritten block 1: its transfer is admitted.
    assert_eq!(
        piped.app.check_tx(&sign(2, 0, 10, transfer(3, 200))),
        Ok(())
    );
    piped.app.reset_pending(std::iter::empty());
    let block_two = build(&mut piped, &block_one.header, &second_block(), t2);
    assert_eq!(piped.app.built_height(), Some(2));
    assert_eq!(piped.app.committed_height(), Some(0));
    assert_eq!(
        piped.app.pending_blocks(),
        3,
        "genesis cache and two built blocks"
    );
    write_and_commit(&mut piped, &block_one, 1);
    write_and_commit(&mut piped, &block_two, 2);
    assert_eq!(
        piped.app.pending_blocks(),
        3,
        "committed blocks stay as a cache"
    );

    assert_eq!(block_one.header, one);
    assert_eq!(block_two.header, two);
    assert_eq!(piped.account(3).balance, 200);
    assert_eq!(piped.account(1), serial.account(1));
    // The stored tree recomputes the header's root at every height.
    for (height, header) in [(1, &one), (2, &two)] {
        let view = piped.db.tree_view().unwrap_or_else(|e| panic!("{e}"));
        let tree: JellyfishMerkleTree<'_, _, StateHasher> = JellyfishMerkleTree::new(&view);
        let root = tree.get_root_hash(height).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(root.0, header.header.state_root, "height {height}");
    }
}

#[test]
fn a_failed_write_voids_the_blocks_built_on_it() {
    let mut chain = Chain::new(1_000_000, &[(1, 1_000)]);
    let genesis = chain.prev.clone();
    let time = genesis.header.time + 1000;
    let block_one = build(&mut chain, &genesis, &first_block(), time);
    let _block_two = build(&mut chain, &block_one.header, &second_block(), time);
    // Writing block 1 failed: nothing above the committed genesis stands.
    chain.app.rollback_to(chain.app.committed_height());
    assert_eq!(chain.app.built_height(), Some(0));
    assert_eq!(chain.app.pending_blocks(), 1);
    // Account 2's funds were in the void block: its transfer is refused again.
    assert_eq!(
        chain
            .app
            .check_tx(&sign(2, 0, 10, transfer(3, 200)))
            .map_err(|e| e.code()),
        Err(ErrorCode::InsufficientBalance)
    );
    chain.app.reset_pending(std::iter::empty());
    // Height 1 is built again from other transactions, and commits.
    let other = [sign(1, 0, 10, transfer(4, 50))];
    let rebuilt = build(&mut chain, &genesis, &other, time);
    assert_eq!(rebuilt.height(), 1);
    write_and_commit(&mut chain, &rebuilt, 1);
    assert_eq!(chain.account(4).balance, 50);
    assert_eq!(chain.account(2).balance, 0);
    assert_eq!(chain.account(1).nonce, 1);
}

#[test]
fn rolling_back_to_a_built_block_keeps_it() {
    let mut chain = Chain::new(1_000_000, &[(1, 1_000)]);
    let genesis = chain.prev.clone();
    let time = genesis.header.time + 1000;
    let block_one = build(&mut chain, &genesis, &first_block(), time);
    chain.app.begin_block(2).unwrap_or_else(|e| panic!("{e}"));
    // Building block 2 failed: block 1, still being written, stays built.
    chain.app.rollback_to(Some(1));
    assert_eq!(chain.app.built_height(), Some(1));
    let block_two = build(&mut chain, &block_one.header, &second_block(), time);
    write_and_commit(&mut chain, &block_one, 1);
    write_and_commit(&mut chain, &block_two, 2);
    assert_eq!(chain.account(3).balance, 200);
}

#[test]
fn batch_admission_answers_each_transaction_and_stops_at_the_limit() {
    let mut chain = Chain::new(1_000_000, &[(1, 1_000)]);
    let params = chain.genesis.params();
    let prechecked: Vec<Prechecked> = [
        sign(1, 0, 10, transfer(2, 5)),
        sign(1, 5, 10, transfer(2, 5)),
        sign(1, 1, 10, transfer(2, 5)),
        sign(1, 2, 10, transfer(2, 5)),
    ]
    .into_iter()
    .map(|tx| Prechecked::check(&params, tx).unwrap_or_else(|e| panic!("{e}")))
    .collect();
    let answers = chain
        .app
        .check_prechecked_all(&prechecked, 2)
        .unwrap_or_else(|e| panic!("{e}"));
    let codes: Vec<Option<Result<(), ErrorCode>>> = answers
        .into_iter()
        .map(|answer| answer.map(|result| result.map_err(|e| e.code())))
        .collect();
    assert_eq!(
        codes,
        vec![
            Some(Ok(())),
            Some(Err(ErrorCode::BadNonce)),
            Some(Ok(())),
            None
        ]
    );
    assert_eq!(chain.app.verified_len(), 2);
}
