//! The suite's figures, printed as one labelled block that can be copied to the README.

use std::collections::BTreeMap;

use super::needles::Kind;
use super::replay_attack::ReplayFindings;
use super::score::{Score, best};

/// Everything measured in one run.
#[derive(Debug, Clone)]
pub struct Figures {
    /// Cars, owners, days, records, pool addresses, logged requests, ledger txs.
    pub fleet: (usize, usize, u32, usize, usize, usize, usize),
    /// Adversary (a)'s attacks.
    pub ledger: Vec<Score>,
    /// Adversary (b)'s clustering attacks.
    pub operator: Vec<Score>,
    /// Adversary (b)'s identifier search: kind -> (identifiers, found, found linking).
    pub identifiers: BTreeMap<Kind, (usize, usize, usize)>,
    /// Examples of where linking identifiers were found.
    pub identifier_places: Vec<String>,
    /// Adversary (c).
    pub replays: ReplayFindings,
    /// Run time of the fleet (pairing, writes, reads), seconds.
    pub fleet_secs: f64,
}

fn line(score: &Score) -> String {
    format!(
        "    {:<28} precision {:.3}  recall {:.3}  chance {:.3}  links {:>6}{}",
        score.name,
        score.precision,
        score.recall,
        score.chance,
        score.links,
        if score.counts() {
            ""
        } else {
            "  (too few links to count)"
        }
    )
}

impl Figures {
    /// The block.
    pub fn render(&self) -> String {
        let (cars, owners, days, records, addresses, requests, txs) = self.fleet;
        let mut out = String::new();
        out.push_str("==== CarChain adversary suite: figures ====\n");
        out.push_str(&format!(
            "fleet: {cars} cars of {owners} owners, {days} days, {records} records under {addresses} pool addresses; {requests} requests logged, {txs} ledger transactions; fleet ran {:.1} s\n",
            self.fleet_secs
        ));
        for (title, scores) in [
            ("(a) public ledger reader", &self.ledger),
            (
                "(b) shared-node operator (files + request log + ledger)",
                &self.operator,
            ),
        ] {
            out.push_str(&format!("{title}:\n"));
            for score in scores {
                out.push_str(&line(score));
                out.push('\n');
            }
            match best(scores) {
                Some(b) => out.push_str(&format!(
                    "    best: {} precision {:.3} vs chance {:.3} (pass needs <= chance + 0.05)\n",
                    b.name, b.precision, b.chance
                )),
                None => out.push_str("    best: no attack linked any pair\n"),
            }
        }
        out.push_str("(b) identifiers in the node's files and request log (found / found beside records / total):\n");
        for (kind, (total, found, linking)) in &self.identifiers {
            out.push_str(&format!(
                "    {:<24} {found:>3} / {linking:>3} / {total:>3}\n",
                kind.name()
            ));
        }
        for place in &self.identifier_places {
            out.push_str(&format!("      e.g. {place}\n"));
        }
        out.push_str(&format!(
            "(c) replays: {} verbatim tried, {} bought an answer; {} stolen tokens/ids transplanted, {} bought an answer\n",
            self.replays.verbatim_tried,
            self.replays.verbatim_bought,
            self.replays.transplants_tried,
            self.replays.transplants_bought
        ));
        for example in self.replays.examples.iter().take(6) {
            out.push_str(&format!("      e.g. {example}\n"));
        }
        out.push_str("==== end of figures ====\n");
        out
    }
}
