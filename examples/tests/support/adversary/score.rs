//! Scoring a linking attack against the ground truth: pairwise precision and recall of
//! the address pairs it links, and the chance level those pairs would reach by luck.
//!
//! Chance, precisely: for a linked pair (a, b), let w(a, b) be the time window from the
//! first to the last block time at which a or b had a record committed, and k(a, b) the
//! number of cars with at least one record committed inside w(a, b) (the cars "active in
//! the same window"). An attacker who links a to b but cannot tell those k cars apart
//! is right with probability 1 / k(a, b). The chance level of an attack is the mean of
//! 1 / k(a, b) over the pairs it links: the precision of an attacker that, for every
//! pair it links, guessed among the cars active in that pair's window.

use std::collections::{BTreeMap, BTreeSet};

/// What the test knows and the adversaries do not: which car each pool address belongs
/// to, and when each car's records were committed.
#[derive(Debug, Clone, Default)]
pub struct Truth {
    /// Pool address -> car index.
    pub car_of: BTreeMap<String, usize>,
    /// Pool address -> block times (ms) of its committed records.
    pub times_of: BTreeMap<String, Vec<u64>>,
}

impl Truth {
    /// Records that `address` of `car` had a record committed at `time_ms`.
    pub fn add(&mut self, address: &str, car: usize, time_ms: u64) {
        self.car_of.insert(address.to_owned(), car);
        self.times_of
            .entry(address.to_owned())
            .or_default()
            .push(time_ms);
    }

    /// Pairs of addresses that belong to one car.
    pub fn true_pairs(&self) -> usize {
        let mut per_car: BTreeMap<usize, usize> = BTreeMap::new();
        for car in self.car_of.values() {
            *per_car.entry(*car).or_default() += 1;
        }
        per_car.values().map(|n| n * n.saturating_sub(1) / 2).sum()
    }

    /// (first, last) commit time of `address`.
    fn span(&self, address: &str) -> Option<(u64, u64)> {
        let times = self.times_of.get(address)?;
        Some((*times.iter().min()?, *times.iter().max()?))
    }

    /// Cars with a record committed inside `[from, to]`.
    pub fn cars_active(&self, from: u64, to: u64) -> usize {
        let mut cars = BTreeSet::new();
        for (address, times) in &self.times_of {
            if times.iter().any(|t| (from..=to).contains(t))
                && let Some(car) = self.car_of.get(address)
            {
                cars.insert(*car);
            }
        }
        cars.len()
    }

    /// 1 / (cars active in the window of `a` and `b`).
    pub fn pair_chance(&self, a: &str, b: &str) -> f64 {
        match (self.span(a), self.span(b)) {
            (Some((fa, la)), Some((fb, lb))) => {
                let k = self.cars_active(fa.min(fb), la.max(lb)).max(1);
                1.0 / k as f64
            }
            _ => 0.0,
        }
    }
}

/// How one attack did.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// The attack's name.
    pub name: String,
    /// Pairs of ground-truth addresses it linked.
    pub links: usize,
    /// Linked pairs of one car.
    pub correct: usize,
    /// correct / links (0 when it linked nothing).
    pub precision: f64,
    /// correct / pairs of one car.
    pub recall: f64,
    /// The chance level of its links (see the module doc); 0 when it linked nothing.
    pub chance: f64,
    /// Fewest links for the precision to count (statistical attacks need a sample).
    pub min_links: usize,
}

impl Score {
    /// Whether the attack linked enough pairs for its precision to mean something.
    pub fn counts(&self) -> bool {
        self.links >= self.min_links.max(1)
    }

    /// Precision above chance by more than `margin` (only when it counts).
    pub fn beats_chance(&self, margin: f64) -> bool {
        self.counts() && self.precision > self.chance + margin
    }
}

/// Scores `pairs` (unordered; pairs naming an address outside the truth are ignored).
pub fn score_pairs(
    name: &str,
    truth: &Truth,
    pairs: &BTreeSet<(String, String)>,
    min_links: usize,
) -> Score {
    let mut links = 0;
    let mut correct = 0;
    let mut chance_sum = 0.0;
    let mut seen = BTreeSet::new();
    for (a, b) in pairs {
        if a == b {
            continue;
        }
        let key = if a < b { (a, b) } else { (b, a) };
        if !seen.insert(key) {
            continue;
        }
        let (Some(ca), Some(cb)) = (truth.car_of.get(a), truth.car_of.get(b)) else {
            continue;
        };
        links += 1;
        if ca == cb {
            correct += 1;
        }
        chance_sum += truth.pair_chance(a, b);
    }
    let true_pairs = truth.true_pairs();
    Score {
        name: name.to_owned(),
        links,
        correct,
        precision: if links == 0 {
            0.0
        } else {
            correct as f64 / links as f64
        },
        recall: if true_pairs == 0 {
            0.0
        } else {
            correct as f64 / true_pairs as f64
        },
        chance: if links == 0 {
            0.0
        } else {
            chance_sum / links as f64
        },
        min_links,
    }
}

/// Every pair inside each cluster.
pub fn cluster_pairs(clusters: &[Vec<String>]) -> BTreeSet<(String, String)> {
    let mut pairs = BTreeSet::new();
    for cluster in clusters {
        for (i, a) in cluster.iter().enumerate() {
            for b in &cluster[i + 1..] {
                if a != b {
                    pairs.insert(if a < b {
                        (a.clone(), b.clone())
                    } else {
                        (b.clone(), a.clone())
                    });
                }
            }
        }
    }
    pairs
}

/// The best attack: the highest precision among those that count.
pub fn best(scores: &[Score]) -> Option<&Score> {
    scores.iter().filter(|s| s.counts()).max_by(|a, b| {
        (a.precision - a.chance)
            .partial_cmp(&(b.precision - b.chance))
            .unwrap_or(std::cmp::Ordering::Equal)
    })
}

/// A small union-find over strings, for clustering attacks.
#[derive(Debug, Default)]
pub struct Clusters {
    index: BTreeMap<String, usize>,
    parent: Vec<usize>,
}

impl Clusters {
    fn id(&mut self, name: &str) -> usize {
        if let Some(id) = self.index.get(name) {
            return *id;
        }
        let id = self.parent.len();
        self.parent.push(id);
        self.index.insert(name.to_owned(), id);
        id
    }

    fn root(&mut self, mut id: usize) -> usize {
        while self.parent[id] != id {
            self.parent[id] = self.parent[self.parent[id]];
            id = self.parent[id];
        }
        id
    }

    /// Puts `a` and `b` in one cluster.
    pub fn union(&mut self, a: &str, b: &str) {
        let (ia, ib) = (self.id(a), self.id(b));
        let (ra, rb) = (self.root(ia), self.root(ib));
        if ra != rb {
            self.parent[ra] = rb;
        }
    }

    /// The clusters of more than one member.
    pub fn clusters(&mut self) -> Vec<Vec<String>> {
        let names: Vec<(String, usize)> = self
            .index
            .iter()
            .map(|(name, id)| (name.clone(), *id))
            .collect();
        let mut groups: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for (name, id) in names {
            let root = self.root(id);
            groups.entry(root).or_default().push(name);
        }
        groups.into_values().filter(|g| g.len() > 1).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cars 0 and 1 active early (t 0..=100), car 2 alone late (t 1000..=1100).
    fn truth() -> Truth {
        let mut truth = Truth::default();
        truth.add("a0", 0, 0);
        truth.add("a1", 0, 100);
        truth.add("b0", 1, 10);
        truth.add("b1", 1, 90);
        truth.add("c0", 2, 1000);
        truth.add("c1", 2, 1100);
        truth
    }

    fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn precision_recall_and_chance_on_a_hand_made_truth() {
        let truth = truth();
        assert_eq!(truth.true_pairs(), 3);
        assert_eq!(truth.cars_active(0, 100), 2);
        assert_eq!(truth.cars_active(0, 1100), 3);
        assert_eq!(
            truth.pair_chance("c0", "c1"),
            1.0,
            "only car 2 in its window"
        );
        assert_eq!(truth.pair_chance("a0", "b1"), 0.5);

        // Right (a0,a1), wrong (a0,b0), right (c0,c1); an unknown address is ignored.
        let score = score_pairs(
            "t",
            &truth,
            &pairs(&[("a0", "a1"), ("b0", "a0"), ("c1", "c0"), ("a0", "zz")]),
            1,
        );
        assert_eq!((score.links, score.correct), (3, 2));
        assert!((score.precision - 2.0 / 3.0).abs() < 1e-9);
        assert!((score.recall - 2.0 / 3.0).abs() < 1e-9);
        // Windows: a0-a1 [0,100] 2 cars; a0-b0 [0,100] 2 cars; c0-c1 1 car.
        assert!((score.chance - (0.5 + 0.5 + 1.0) / 3.0).abs() < 1e-9);
        assert!(!score.beats_chance(0.05), "2/3 vs chance 2/3");

        // Nothing linked: precision and chance 0, never counts.
        let none = score_pairs("none", &truth, &BTreeSet::new(), 1);
        assert_eq!((none.links, none.precision, none.chance), (0, 0.0, 0.0));
        assert!(!none.counts());
    }

    #[test]
    fn clusters_become_pairs_and_the_best_attack_is_picked() {
        let truth = truth();
        let mut clusters = Clusters::default();
        clusters.union("a0", "a1");
        clusters.union("a1", "b0");
        clusters.union("c0", "c1");
        let groups = clusters.clusters();
        assert_eq!(groups.len(), 2);
        let linked = cluster_pairs(&groups);
        assert_eq!(
            linked.len(),
            4,
            "3 pairs in {{a0,a1,b0}} and 1 in {{c0,c1}}"
        );
        let exact = score_pairs("exact", &truth, &linked, 1);
        assert_eq!((exact.links, exact.correct), (4, 2));

        let perfect = score_pairs("perfect", &truth, &pairs(&[("a0", "a1"), ("b0", "b1")]), 1);
        assert_eq!(perfect.precision, 1.0);
        assert!(perfect.beats_chance(0.05), "1.0 vs chance 0.5");
        // A statistical attack below its sample size does not count.
        let small = score_pairs("small", &truth, &pairs(&[("a0", "a1")]), 20);
        assert!(!small.counts() && !small.beats_chance(0.05));
        let scores = [exact.clone(), perfect.clone(), small];
        assert_eq!(best(&scores).map(|s| s.name.as_str()), Some("perfect"));
    }
}
