//! Adversary (b): the shared node's operator, with every byte of its data directory
//! (each SQLite file read row by row, and every file's raw bytes) and the full request
//! log. It searches both for the identifiers of [`super::needles`] and calls one
//! "linking" when it sits in the same row or request as a pool address, or on a TCP
//! connection that also carried a pool address. It also clusters pool addresses with
//! the log: same connection, any non-standard header value shared across addresses
//! (tickets, tokens, VIDs), any 12-byte run shared by (non-JSON) request bodies of a
//! few addresses (a per-owner or per-car constant in an envelope), and request timing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::fields::addresses_in;
use super::ledger_attack::Pairs;
use super::needles::{Identifier, Kind, Search, address_forms};
use super::proxy::LoggedRequest;

/// Headers every HTTP client sends; the others are worth a look.
pub const STANDARD_HEADERS: [&str; 7] = [
    "host",
    "user-agent",
    "accept",
    "accept-encoding",
    "content-type",
    "content-length",
    "connection",
];

/// One identifier's findings.
#[derive(Debug, Clone, Default)]
pub struct Finding {
    /// Places (file/table or request path) and encodings where it was found.
    pub places: BTreeSet<String>,
    /// The places where it sat in one row or request with a pool address.
    pub linking_places: BTreeSet<String>,
    /// Pool addresses it sits beside (row, request or connection).
    pub linked: BTreeSet<String>,
}

/// What the operator found.
#[derive(Debug, Clone, Default)]
pub struct OperatorFindings {
    /// Per identifier (same order as given).
    pub findings: Vec<Finding>,
    /// Identifiers found anywhere in raw file bytes, per identifier.
    pub raw_hits: Vec<usize>,
    /// Exact links from the log alone.
    pub log_exact: LogLinks,
    /// Each address to the address whose first request follows its last.
    pub log_timing: Pairs,
}

/// Every regular file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("data dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Every row of every table of the SQLite file `path`, as (table, row bytes).
fn sqlite_rows(path: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(db) = rusqlite::Connection::open(path) else {
        return Vec::new();
    };
    let tables: Vec<String> = match db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut s| {
            s.query_map([], |row| row.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()
        }) {
        Ok(tables) => tables,
        Err(_) => return Vec::new(),
    };
    let mut rows = Vec::new();
    for table in tables {
        let Ok(mut statement) = db.prepare(&format!("SELECT * FROM \"{table}\"")) else {
            continue;
        };
        let columns = statement.column_count();
        let Ok(mut cursor) = statement.query([]) else {
            continue;
        };
        while let Ok(Some(row)) = cursor.next() {
            let mut bytes = Vec::new();
            for i in 0..columns {
                use rusqlite::types::ValueRef;
                match row.get_ref(i) {
                    Ok(ValueRef::Blob(b)) => bytes.extend_from_slice(b),
                    Ok(ValueRef::Text(t)) => bytes.extend_from_slice(t),
                    Ok(ValueRef::Integer(n)) => bytes.extend_from_slice(n.to_string().as_bytes()),
                    Ok(ValueRef::Real(x)) => bytes.extend_from_slice(x.to_string().as_bytes()),
                    _ => {}
                }
                bytes.push(0x1f);
            }
            rows.push((table.clone(), bytes));
        }
    }
    rows
}

/// Searches the data directory copy `data_dir` and `log` for `identifiers`, with the
/// pool addresses `pool` as the records they must not link to; clusters with the log.
pub fn attack(
    data_dir: &Path,
    log: &[LoggedRequest],
    identifiers: &[Identifier],
    pool: &BTreeSet<String>,
) -> OperatorFindings {
    let pool_list: Vec<&String> = pool.iter().collect();
    let id_search = Search::new(
        &identifiers
            .iter()
            .map(|i| i.forms.clone())
            .collect::<Vec<_>>(),
    );
    let pool_search = Search::new(
        &pool_list
            .iter()
            .map(|a| address_forms(a))
            .collect::<Vec<_>>(),
    );
    let mut findings = vec![Finding::default(); identifiers.len()];
    let mut raw_hits = vec![0usize; identifiers.len()];
    let note = |unit: &str, bytes: &[u8], findings: &mut Vec<Finding>| -> Vec<usize> {
        let found = id_search.find(bytes);
        if found.is_empty() {
            return Vec::new();
        }
        let near: BTreeSet<String> = pool_search
            .find(bytes)
            .into_iter()
            .map(|(a, _)| pool_list[a].clone())
            .collect();
        let mut ids = Vec::new();
        for (i, f) in found {
            let finding = &mut findings[i];
            let place = format!("{unit} ({})", identifiers[i].forms[f].0);
            if !near.is_empty() {
                finding.linking_places.insert(place.clone());
            }
            finding.places.insert(place);
            finding.linked.extend(near.iter().cloned());
            ids.push(i);
        }
        ids
    };

    // The data directory: every file's raw bytes, and every SQLite row.
    for file in files(data_dir) {
        let name = file
            .strip_prefix(data_dir)
            .unwrap_or(&file)
            .display()
            .to_string();
        let bytes = std::fs::read(&file).unwrap_or_default();
        for (i, _) in id_search.find(&bytes) {
            raw_hits[i] += 1;
        }
        if bytes.starts_with(b"SQLite format 3\0") {
            for (table, row) in sqlite_rows(&file) {
                note(&format!("{name}:{table}"), &row, &mut findings);
            }
        } else if !name.ends_with("-wal") && !name.ends_with("-shm") {
            note(&name, &bytes, &mut findings);
        }
    }

    // The log: each request, then each connection.
    let mut per_connection: BTreeMap<(SocketAddr, u64), (BTreeSet<usize>, BTreeSet<String>)> =
        BTreeMap::new();
    let touched: Vec<BTreeSet<String>> = log
        .iter()
        .map(|r| {
            addresses_in(&r.all_bytes())
                .into_iter()
                .filter(|a| pool.contains(a))
                .collect()
        })
        .collect();
    for (request, addresses) in log.iter().zip(&touched) {
        let ids = note(
            &format!("log {} {}", request.method, route(&request.path)),
            &request.all_bytes(),
            &mut findings,
        );
        let entry = per_connection
            .entry((request.peer, request.connection))
            .or_default();
        entry.0.extend(ids);
        entry.1.extend(addresses.iter().cloned());
    }
    for ((peer, _), (ids, addresses)) in &per_connection {
        for i in ids {
            if !addresses.is_empty() {
                findings[*i].linking_places.insert(format!(
                    "log: a connection ({peer}) that also carried {} pool addresses",
                    addresses.len()
                ));
            }
            findings[*i].linked.extend(addresses.iter().cloned());
        }
    }

    OperatorFindings {
        findings,
        raw_hits,
        log_exact: log_exact(log, &touched),
        log_timing: log_timing(log, &touched),
    }
}

/// A path with its addresses and long hex segments replaced, for reports.
fn route(path: &str) -> String {
    path.split('/')
        .map(|s| {
            if super::fields::is_address(s) {
                "{address}"
            } else if s.len() > 16 {
                "{id}"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Values shared by more addresses than this are taken for constants of a day or of
/// the software, not of a car or an owner (a day's date is shared by every car
/// writing that day).
pub const LOG_HUB: usize = 16;

/// The log's exact links, per source.
#[derive(Debug, Clone, Default)]
pub struct LogLinks {
    /// Addresses carried by one TCP connection.
    pub connection: Pairs,
    /// Addresses of requests sharing a non-standard header value.
    pub header: Pairs,
    /// Addresses of requests whose (non-JSON) bodies share a 12-byte run.
    pub body: Pairs,
    /// All three.
    pub all: Pairs,
}

/// Exact links from the log: one connection; one header value; one body run.
pub fn log_exact(log: &[LoggedRequest], touched: &[BTreeSet<String>]) -> LogLinks {
    let mut by_peer: BTreeMap<(SocketAddr, u64), BTreeSet<&str>> = BTreeMap::new();
    let mut by_header: BTreeMap<(&str, &[u8]), BTreeSet<&str>> = BTreeMap::new();
    let mut by_run: HashMap<&[u8], BTreeSet<&str>> = HashMap::new();
    for (request, addresses) in log.iter().zip(touched) {
        if addresses.is_empty() {
            continue;
        }
        let names = addresses.iter().map(String::as_str);
        by_peer
            .entry((request.peer, request.connection))
            .or_default()
            .extend(names.clone());
        for (name, value) in &request.headers {
            if !STANDARD_HEADERS.contains(&name.as_str()) {
                by_header
                    .entry((name, value))
                    .or_default()
                    .extend(names.clone());
            }
        }
        // JSON bodies are ledger transactions, read field by field by the ledger
        // attack; runs of their text (a fee, a nonce) are shared by chance.
        if serde_json::from_slice::<serde_json::Value>(&request.body).is_ok() {
            continue;
        }
        let head = &request.body[..request.body.len().min(768)];
        for run in head.windows(12) {
            let holders = by_run.entry(run).or_default();
            if holders.len() <= LOG_HUB {
                holders.extend(names.clone());
            }
        }
    }
    // Each source links the addresses of a group pairwise (no transitive closure: one
    // wrong group must not merge every car).
    let source = |groups: Vec<&BTreeSet<&str>>, limit: usize| {
        let mut pairs = Pairs::new();
        for names in groups {
            if (2..=limit).contains(&names.len()) {
                let names: Vec<&str> = names.iter().copied().collect();
                for (i, a) in names.iter().enumerate() {
                    for b in &names[i + 1..] {
                        pairs.insert(((*a).to_owned(), (*b).to_owned()));
                    }
                }
            }
        }
        pairs
    };
    // A connection is one client's: no limit.
    let connection = source(by_peer.values().collect(), usize::MAX);
    let header = source(by_header.values().collect(), LOG_HUB);
    let body = source(by_run.values().collect(), LOG_HUB);
    let all = connection
        .iter()
        .chain(&header)
        .chain(&body)
        .cloned()
        .collect();
    LogLinks {
        connection,
        header,
        body,
        all,
    }
}

/// A pause longer than this ends an address's burst of requests.
pub const BURST_GAP_MS: f64 = 2000.0;

/// Each address linked to the address whose first request comes right after the end
/// of its own first burst (its requests until a pause of [`BURST_GAP_MS`]; later
/// reads of the address do not count).
pub fn log_timing(log: &[LoggedRequest], touched: &[BTreeSet<String>]) -> Pairs {
    let mut bursts: BTreeMap<&str, (f64, f64, bool)> = BTreeMap::new();
    for (request, addresses) in log.iter().zip(touched) {
        if addresses.len() != 1 {
            continue;
        }
        for address in addresses {
            let burst = bursts
                .entry(address)
                .or_insert((request.at_ms, request.at_ms, false));
            if burst.2 {
                continue;
            }
            if request.at_ms - burst.1 > BURST_GAP_MS {
                burst.2 = true; // the first burst is over
            } else {
                burst.1 = burst.1.max(request.at_ms);
            }
        }
    }
    let mut starts: Vec<(f64, &str)> = bursts.iter().map(|(a, (f, _, _))| (*f, *a)).collect();
    starts.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let mut links = Pairs::new();
    for (address, (_, last, _)) in &bursts {
        let next = starts.partition_point(|(first, _)| first <= last);
        if let Some((_, successor)) = starts.get(next) {
            let (a, b) = (address.to_string(), successor.to_string());
            links.insert(if a < b { (a, b) } else { (b, a) });
        }
    }
    links
}

/// Per kind: (identifiers, found anywhere, found beside records).
pub fn tally(
    identifiers: &[Identifier],
    findings: &OperatorFindings,
) -> BTreeMap<Kind, (usize, usize, usize)> {
    let mut tally: BTreeMap<Kind, (usize, usize, usize)> = BTreeMap::new();
    for (identifier, (finding, raw)) in identifiers
        .iter()
        .zip(findings.findings.iter().zip(&findings.raw_hits))
    {
        let entry = tally.entry(identifier.kind).or_default();
        entry.0 += 1;
        if !finding.places.is_empty() || *raw > 0 {
            entry.1 += 1;
        }
        if !finding.linked.is_empty() {
            entry.2 += 1;
        }
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::super::needles::encodings;
    use super::super::score::{Truth, score_pairs};
    use super::*;

    fn request(
        seq: usize,
        port: u16,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> LoggedRequest {
        LoggedRequest {
            seq,
            at_ms: seq as f64,
            peer: SocketAddr::from(([127, 0, 0, 1], port)),
            connection: u64::from(port),
            method: "PUT".into(),
            path: path.into(),
            query: String::new(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
                .collect(),
            body: body.to_vec(),
            status: 200,
            response_len: 10,
            response_hash: [0; 32],
        }
    }

    #[test]
    fn a_vid_header_and_a_shared_connection_are_found_and_scored() {
        let (a0, a1, b0) = (
            "bcrt1qaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "bcrt1qababababababababababababababababababab",
            "bcrt1qbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        );
        let log = vec![
            request(
                0,
                1000,
                &format!("/v1/kv/{a0}/10"),
                &[("x-car", "VIN0000000000001")],
                b"\x01random-one",
            ),
            request(
                1,
                1000,
                &format!("/v1/kv/{a1}/11"),
                &[("x-car", "VIN0000000000001")],
                b"\x01random-two",
            ),
            request(
                2,
                2000,
                &format!("/v1/kv/{b0}/12"),
                &[],
                b"\x01random-three",
            ),
        ];
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"nothing").unwrap();
        let identifiers = vec![Identifier {
            kind: Kind::Vid,
            whose: "car 0".into(),
            forms: encodings("vid", b"VIN0000000000001"),
        }];
        let pool: BTreeSet<String> = [a0, a1, b0].iter().map(|s| (*s).to_owned()).collect();
        let found = attack(dir.path(), &log, &identifiers, &pool);
        assert_eq!(
            found.findings[0].linked,
            [a0.to_owned(), a1.to_owned()].into_iter().collect(),
            "the VID names the car of both of its addresses"
        );
        let tally = tally(&identifiers, &found);
        assert_eq!(tally[&Kind::Vid], (1, 1, 1));

        let mut truth = Truth::default();
        truth.add(a0, 0, 0);
        truth.add(a1, 0, 1);
        truth.add(b0, 1, 1);
        assert!(
            found
                .log_exact
                .header
                .contains(&(a0.to_owned(), a1.to_owned()))
        );
        let exact = score_pairs("log", &truth, &found.log_exact.all, 1);
        assert_eq!((exact.links, exact.precision), (1, 1.0));
        assert_eq!(exact.chance, 0.5, "two cars active in [0, 1]");
    }
}
