//! Adversary (a): the public ledger alone. Links addresses into cars with:
//! - exact links: addresses named in one transaction (signer, recipient, funder, a
//!   public key's address), any long value shared by transactions of different
//!   addresses (a signer, fee payer, fingerprint, commitment...), and counters that
//!   continue from one address to another (a column of any hex field, read as 64-bit
//!   big-endian integers at every offset, or any numeric field, that counts up inside
//!   an address and whose next value opens exactly one other address: lifetime
//!   `SESSION_ID`/`CARVIO_ID` counters in plaintext keys);
//! - statistical links: block order (each address to the one whose records start
//!   right after its own end), block co-occurrence, and identical rare sizes.
//!
//! Values shared by more than [`HUB`] addresses are constants of the chain (its id, a
//! format name) or a public service (the operator) and link nothing.

use std::collections::{BTreeMap, BTreeSet};

use carchain_core::protocol::Network;

use super::fields::{Fields, fields};
use super::ledger::PublicLedger;
use super::score::{Clusters, cluster_pairs};

/// A value shared by more addresses than this is a constant, not a link.
pub const HUB: usize = 64;

/// Pairs of addresses an attack links.
pub type Pairs = BTreeSet<(String, String)>;

/// What each attack linked.
#[derive(Debug, Clone, Default)]
pub struct LedgerLinks {
    /// Exact links, closed transitively (clusters).
    pub exact: Pairs,
    /// Each address to its successor in block order.
    pub order: Pairs,
    /// Addresses with records in two or more common blocks.
    pub cooccurrence: Pairs,
    /// Addresses sharing an identical size no third address has.
    pub sizes: Pairs,
}

/// One transaction as the attack reads it.
#[derive(Debug, Clone)]
pub struct TxView {
    /// Block height and index.
    pub at: (u64, u64),
    /// Its leaves.
    pub fields: Fields,
}

fn pair(a: &str, b: &str) -> (String, String) {
    if a < b {
        (a.to_owned(), b.to_owned())
    } else {
        (b.to_owned(), a.to_owned())
    }
}

/// The transactions of `ledger`, their operator address removed (a public service).
pub fn views(ledger: &PublicLedger, network: Network) -> Vec<TxView> {
    ledger
        .txs
        .iter()
        .map(|tx| {
            let mut fields = fields(&tx.tx, network);
            fields.addresses.remove(&ledger.operator);
            TxView {
                at: (tx.height, tx.index),
                fields,
            }
        })
        .collect()
}

/// Addresses named together with more than `hub` others.
fn hubs(views: &[TxView], hub: usize) -> BTreeSet<String> {
    let mut neighbours: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for view in views {
        for a in &view.fields.addresses {
            for b in &view.fields.addresses {
                if a != b {
                    neighbours.entry(a).or_default().insert(b);
                }
            }
        }
    }
    neighbours
        .into_iter()
        .filter(|(_, n)| n.len() > hub)
        .map(|(a, _)| a.to_owned())
        .collect()
}

/// Runs every ledger attack; values shared by more than `hub` addresses are constants
/// ([`HUB`] on a real ledger).
pub fn attack(views: &[TxView], hub: usize) -> LedgerLinks {
    let hubs = hubs(views, hub);
    let subjects: Vec<BTreeSet<String>> = views
        .iter()
        .map(|v| v.fields.addresses.difference(&hubs).cloned().collect())
        .collect();
    let mut clusters = Clusters::default();
    // Named together in one transaction.
    for names in &subjects {
        let mut names = names.iter();
        if let Some(first) = names.next() {
            for other in names {
                clusters.union(first, other);
            }
        }
    }
    // Long values shared across addresses.
    let mut holders: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (view, names) in views.iter().zip(&subjects) {
        for (_, token) in &view.fields.tokens {
            holders
                .entry(token)
                .or_default()
                .extend(names.iter().map(String::as_str));
        }
    }
    for names in holders.values() {
        if (2..=hub).contains(&names.len()) {
            let mut names = names.iter();
            if let Some(first) = names.next() {
                for other in names {
                    clusters.union(first, other);
                }
            }
        }
    }
    for (a, b) in counter_links(views, &subjects) {
        clusters.union(&a, &b);
    }
    LedgerLinks {
        exact: cluster_pairs(&clusters.clusters()),
        order: order_links(views, &subjects),
        cooccurrence: cooccurrence_links(views, &subjects),
        sizes: size_links(views, &subjects),
    }
}

/// Per column (field path + offset), per single-address transaction's address: values.
type Columns = BTreeMap<(String, usize), BTreeMap<String, Vec<u64>>>;

fn columns(views: &[TxView], subjects: &[BTreeSet<String>]) -> Columns {
    let mut columns: Columns = BTreeMap::new();
    for (view, names) in views.iter().zip(subjects) {
        if names.len() != 1 {
            continue;
        }
        let Some(address) = names.iter().next() else {
            continue;
        };
        for (path, bytes) in &view.fields.blobs {
            if bytes.len() < 8 || bytes.len() > 96 {
                continue;
            }
            for offset in 0..=bytes.len() - 8 {
                let mut word = [0u8; 8];
                word.copy_from_slice(&bytes[offset..offset + 8]);
                columns
                    .entry((format!("{path}#{}", bytes.len()), offset))
                    .or_default()
                    .entry(address.clone())
                    .or_default()
                    .push(u64::from_be_bytes(word));
            }
        }
        for (path, number) in &view.fields.numbers {
            columns
                .entry((path.clone(), usize::MAX))
                .or_default()
                .entry(address.clone())
                .or_default()
                .push(*number);
        }
    }
    columns
}

/// Counters that continue from one address into exactly one other.
pub fn counter_links(views: &[TxView], subjects: &[BTreeSet<String>]) -> Pairs {
    let mut links = Pairs::new();
    for per_address in columns(views, subjects).values() {
        // A counter column counts up densely inside an address.
        let multi: Vec<&Vec<u64>> = per_address.values().filter(|v| v.len() >= 2).collect();
        let dense = multi
            .iter()
            .filter(|values| {
                let distinct: BTreeSet<&u64> = values.iter().collect();
                let (Some(min), Some(max)) = (distinct.first(), distinct.last()) else {
                    return false;
                };
                distinct.len() == values.len() && max.wrapping_sub(**min) <= 4 * values.len() as u64
            })
            .count();
        if multi.len() < 5 || dense * 10 < multi.len() * 8 {
            continue;
        }
        let mut opening: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
        for (address, values) in per_address {
            if let Some(min) = values.iter().min() {
                opening.entry(*min).or_default().push(address);
            }
        }
        for (address, values) in per_address {
            let Some(max) = values.iter().max() else {
                continue;
            };
            if let Some(next) = opening.get(&max.wrapping_add(1))
                && next.len() == 1
                && next[0] != address
            {
                links.insert(pair(address, next[0]));
            }
        }
    }
    links
}

/// First and last (height, index) of an address's transactions.
type Span = ((u64, u64), (u64, u64));

/// First and last (height, index) of each single-address transaction's address.
fn spans(views: &[TxView], subjects: &[BTreeSet<String>]) -> BTreeMap<String, Span> {
    let mut spans: BTreeMap<String, Span> = BTreeMap::new();
    for (view, names) in views.iter().zip(subjects) {
        if names.len() != 1 {
            continue;
        }
        for name in names {
            let span = spans.entry(name.clone()).or_insert((view.at, view.at));
            span.0 = span.0.min(view.at);
            span.1 = span.1.max(view.at);
        }
    }
    spans
}

/// Each address linked to the address whose first record comes next after its last.
pub fn order_links(views: &[TxView], subjects: &[BTreeSet<String>]) -> Pairs {
    let spans = spans(views, subjects);
    let mut starts: Vec<((u64, u64), &str)> = spans
        .iter()
        .map(|(a, (first, _))| (*first, a.as_str()))
        .collect();
    starts.sort_unstable();
    let mut links = Pairs::new();
    for (address, (_, last)) in &spans {
        let next = starts.partition_point(|(first, _)| first <= last);
        if let Some((_, successor)) = starts.get(next) {
            links.insert(pair(address, successor));
        }
    }
    links
}

/// Addresses with records in at least two common blocks.
pub fn cooccurrence_links(views: &[TxView], subjects: &[BTreeSet<String>]) -> Pairs {
    let mut blocks: BTreeMap<u64, BTreeSet<&str>> = BTreeMap::new();
    for (view, names) in views.iter().zip(subjects) {
        if names.len() == 1 {
            blocks
                .entry(view.at.0)
                .or_default()
                .extend(names.iter().map(String::as_str));
        }
    }
    let mut together: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for names in blocks.values() {
        let names: Vec<&str> = names.iter().copied().collect();
        for (i, a) in names.iter().enumerate() {
            for b in &names[i + 1..] {
                *together.entry((a, b)).or_default() += 1;
            }
        }
    }
    together
        .into_iter()
        .filter(|(_, n)| *n >= 2)
        .map(|((a, b), _)| pair(a, b))
        .collect()
}

/// Addresses sharing a numeric value (a size, a fee) that no third address has.
pub fn size_links(views: &[TxView], subjects: &[BTreeSet<String>]) -> Pairs {
    let mut holders: BTreeMap<(&str, u64), BTreeSet<&str>> = BTreeMap::new();
    for (view, names) in views.iter().zip(subjects) {
        if names.len() != 1 {
            continue;
        }
        for (path, number) in &view.fields.numbers {
            if *number >= 100 {
                holders
                    .entry((path, *number))
                    .or_default()
                    .extend(names.iter().map(String::as_str));
            }
        }
    }
    holders
        .values()
        .filter(|names| names.len() == 2)
        .filter_map(|names| {
            let mut names = names.iter();
            Some(pair(names.next()?, names.next()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::score::{Truth, score_pairs};
    use super::*;

    /// A record put of `address` at `height` with an order-preserving integer key.
    fn put(address: &str, height: u64, counter: i64, size: u64) -> TxView {
        let key = {
            let mut k = vec![0x10];
            k.extend_from_slice(&((counter as u64) ^ (1 << 63)).to_be_bytes());
            k
        };
        let doc = serde_json::json!({
            "chain_id": "carchain-attack-test",
            "body": {"address": address, "key": hex::encode(key), "size": size},
        });
        TxView {
            at: (height, 0),
            fields: fields(&doc, Network::Regtest),
        }
    }

    fn addr(name: &str) -> String {
        format!("bcrt1q{name}xxxxxxxxxxxxxxxxxxxx")
    }

    #[test]
    fn continuing_counters_link_days_of_one_car_and_score_as_such() {
        // Car 0 writes counters 10..=12 under a0 then 13..=14 under a1; car 1 writes
        // 500..=501 under b0 then 502..=503 under b1; car 2 two unrelated addresses.
        let (a0, a1, b0, b1, c0, c1) = (
            addr("aa"),
            addr("ab"),
            addr("ba"),
            addr("bb"),
            addr("ca"),
            addr("cb"),
        );
        let views = vec![
            put(&a0, 1, 10, 1000),
            put(&b0, 1, 500, 2000),
            put(&a0, 2, 11, 1001),
            put(&b0, 2, 501, 2001),
            put(&a0, 3, 12, 1002),
            put(&c0, 3, 90_000, 3001),
            put(&c0, 4, 90_001, 3002),
            put(&a1, 5, 13, 1003),
            put(&b1, 5, 502, 2002),
            put(&a1, 6, 14, 1004),
            put(&b1, 6, 503, 2003),
            put(&c1, 7, 70_000, 3010),
            put(&c1, 8, 70_001, 3011),
        ];
        let links = attack(&views, 4);
        assert_eq!(
            links.exact,
            [pair(&a0, &a1), pair(&b0, &b1)]
                .into_iter()
                .collect::<Pairs>(),
            "the chain id is shared by all (a constant), the counters link a and b only"
        );
        let mut truth = Truth::default();
        for (address, car, t) in [
            (&a0, 0, 1),
            (&a1, 0, 6),
            (&b0, 1, 2),
            (&b1, 1, 6),
            (&c0, 2, 4),
            (&c1, 2, 8),
        ] {
            truth.add(address, car, t);
        }
        let exact = score_pairs("exact", &truth, &links.exact, 1);
        assert_eq!((exact.precision, exact.recall), (1.0, 2.0 / 3.0));
        assert!(exact.beats_chance(0.05));
        // Block order: a0 ends at 3, c0 starts at 3 and a1/b1 at 5.
        assert!(links.order.contains(&pair(&c0, &a1)) || links.order.contains(&pair(&c0, &b1)));
        // a0 and b0 share blocks 1 and 2.
        assert!(links.cooccurrence.contains(&pair(&a0, &b0)));
    }

    #[test]
    fn random_keys_and_a_shared_signer() {
        // Keys that are keyed hashes: no counter links. A shared long value (one
        // signer for two addresses) is an exact link.
        let views: Vec<TxView> = (0..12u64)
            .map(|i| {
                let doc = serde_json::json!({
                    "signer": if i < 2 { "s".repeat(40) } else { format!("{i:040}") },
                    "body": {"address": addr(&format!("k{i}")),
                             "key": hex::encode(carchain_core::protocol::hashing::sha256(&[&i.to_be_bytes()]))},
                });
                TxView { at: (i, 0), fields: fields(&doc, Network::Regtest) }
            })
            .collect();
        let links = attack(&views, 4);
        assert_eq!(
            links.exact,
            [pair(&addr("k0"), &addr("k1"))]
                .into_iter()
                .collect::<Pairs>()
        );
    }
}
