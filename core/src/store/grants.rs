//! Data grants the owner made and requests service providers sent, each a JSON
//! document with a provider, a status from a fixed list and an update time.

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::error::{StoreError, StoreResult};
use super::validate;
use super::wallet_store::WalletStore;

/// Status values a grant may hold.
pub const GRANT_STATUSES: &[&str] = &["pending", "active", "delivered", "revoked", "expired"];
/// Status values a provider request may hold.
pub const REQUEST_STATUSES: &[&str] = &["pending", "approved", "rejected", "completed", "expired"];

/// A data grant as stored by the wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRow {
    /// Grant identifier (unique).
    pub id: String,
    /// The service provider the data is granted to.
    pub provider: String,
    /// One of [`GRANT_STATUSES`].
    pub status: String,
    /// The grant document, JSON.
    pub json: String,
    /// Last change, Unix seconds.
    pub updated_at: i64,
}

/// A service provider's request awaiting or past the owner's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRequestRow {
    /// Request identifier (unique).
    pub id: String,
    /// The requesting service provider.
    pub provider: String,
    /// One of [`REQUEST_STATUSES`].
    pub status: String,
    /// The request document, JSON.
    pub json: String,
    /// Last change, Unix seconds.
    pub updated_at: i64,
}

/// The columns both tables share, and how each names its invalid statuses.
struct DocumentTable {
    table: &'static str,
    statuses: &'static [&'static str],
    invalid_status: fn(String) -> StoreError,
}

const GRANTS: DocumentTable = DocumentTable {
    table: "grants",
    statuses: GRANT_STATUSES,
    invalid_status: |status| StoreError::InvalidGrantStatus { status },
};

const REQUESTS: DocumentTable = DocumentTable {
    table: "provider_requests",
    statuses: REQUEST_STATUSES,
    invalid_status: |status| StoreError::InvalidRequestStatus { status },
};

/// `(id, provider, status, json, updated_at)`.
type Document = (String, String, String, String, i64);

impl DocumentTable {
    fn check_status(&self, status: &str) -> StoreResult<()> {
        if self.statuses.contains(&status) {
            Ok(())
        } else {
            Err((self.invalid_status)(status.to_owned()))
        }
    }

    fn validate(&self, (id, provider, status, json, _): &Document) -> StoreResult<()> {
        validate::non_empty("id", id)?;
        validate::non_empty("provider", provider)?;
        self.check_status(status)?;
        validate::json("json", json)
    }

    fn upsert(&self, conn: &Connection, doc: &Document) -> StoreResult<()> {
        let (id, provider, status, json, updated_at) = doc;
        conn.execute(
            &format!(
                "INSERT INTO {} (id, provider, status, json, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET provider = excluded.provider,
                     status = excluded.status, json = excluded.json,
                     updated_at = excluded.updated_at",
                self.table
            ),
            params![id, provider, status, json, updated_at],
        )?;
        Ok(())
    }

    fn one(&self, conn: &Connection, id: &str) -> StoreResult<Option<Document>> {
        Ok(conn
            .query_row(
                &format!(
                    "SELECT id, provider, status, json, updated_at FROM {} WHERE id = ?1",
                    self.table
                ),
                [id],
                document,
            )
            .optional()?)
    }

    fn list(&self, conn: &Connection, status: Option<&str>) -> StoreResult<Vec<Document>> {
        if let Some(status) = status {
            self.check_status(status)?;
        }
        let mut stmt = conn.prepare(&format!(
            "SELECT id, provider, status, json, updated_at FROM {}
             WHERE ?1 IS NULL OR status = ?1 ORDER BY updated_at DESC, id",
            self.table
        ))?;
        let rows = stmt.query_map([status], document)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

fn document(row: &Row<'_>) -> rusqlite::Result<Document> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

/// The conversions of a row type with the [`Document`] columns to and from its tuple
/// (`From<Document>`, and `document` for the way back).
macro_rules! document_rows {
    ($($row:ty),*) => {$(
        impl From<Document> for $row {
            fn from((id, provider, status, json, updated_at): Document) -> Self {
                Self {
                    id,
                    provider,
                    status,
                    json,
                    updated_at,
                }
            }
        }

        impl $row {
            fn document(&self) -> Document {
                (
                    self.id.clone(),
                    self.provider.clone(),
                    self.status.clone(),
                    self.json.clone(),
                    self.updated_at,
                )
            }
        }
    )*};
}

document_rows!(GrantRow, ProviderRequestRow);

/// [`WalletStore::save_grant`] inside the caller's transaction.
pub(super) fn save_grant_in(tx: &Transaction<'_>, grant: &GrantRow) -> StoreResult<()> {
    let doc = grant.document();
    GRANTS.validate(&doc)?;
    GRANTS.upsert(tx, &doc)
}

/// [`WalletStore::save_provider_request`] inside the caller's transaction.
pub(super) fn save_provider_request_in(
    tx: &Transaction<'_>,
    request: &ProviderRequestRow,
) -> StoreResult<()> {
    let doc = request.document();
    REQUESTS.validate(&doc)?;
    REQUESTS.upsert(tx, &doc)
}

impl WalletStore {
    /// Inserts the grant, or replaces the grant with the same id.
    pub fn save_grant(&self, grant: &GrantRow) -> StoreResult<()> {
        self.write(|tx| save_grant_in(tx, grant))
    }

    /// The grant with this id, if any.
    pub fn grant(&self, id: &str) -> StoreResult<Option<GrantRow>> {
        Ok(self.read(|conn| GRANTS.one(conn, id))?.map(GrantRow::from))
    }

    /// Grants with `status` (all when `None`), most recently updated first.
    pub fn grants(&self, status: Option<&str>) -> StoreResult<Vec<GrantRow>> {
        let docs = self.read(|conn| GRANTS.list(conn, status))?;
        Ok(docs.into_iter().map(GrantRow::from).collect())
    }

    /// Inserts the provider request, or replaces the request with the same id.
    pub fn save_provider_request(&self, request: &ProviderRequestRow) -> StoreResult<()> {
        self.write(|tx| save_provider_request_in(tx, request))
    }

    /// The provider request with this id, if any.
    pub fn provider_request(&self, id: &str) -> StoreResult<Option<ProviderRequestRow>> {
        Ok(self
            .read(|conn| REQUESTS.one(conn, id))?
            .map(ProviderRequestRow::from))
    }

    /// Provider requests with `status` (all when `None`), most recently updated first.
    pub fn provider_requests(&self, status: Option<&str>) -> StoreResult<Vec<ProviderRequestRow>> {
        let docs = self.read(|conn| REQUESTS.list(conn, status))?;
        Ok(docs.into_iter().map(ProviderRequestRow::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{open_test_store, row_count};
    use super::*;

    fn grant(id: &str, status: &str, updated_at: i64) -> GrantRow {
        GrantRow {
            id: id.to_owned(),
            provider: "insurer-1".to_owned(),
            status: status.to_owned(),
            json: format!(r#"{{"grant":"{id}","records":3}}"#),
            updated_at,
        }
    }

    fn request(id: &str, status: &str, updated_at: i64) -> ProviderRequestRow {
        ProviderRequestRow {
            id: id.to_owned(),
            provider: "dealer-7".to_owned(),
            status: status.to_owned(),
            json: format!(r#"{{"request":"{id}"}}"#),
            updated_at,
        }
    }

    type ErrorCheck = fn(&StoreError) -> bool;

    fn ids<T>(rows: &[T], id: fn(&T) -> &str) -> Vec<String> {
        rows.iter().map(|row| id(row).to_owned()).collect()
    }

    #[test]
    fn grants_round_trip_and_filter_by_status() {
        let store = open_test_store();
        store.save_grant(&grant("g1", "pending", 10)).unwrap();
        store.save_grant(&grant("g2", "active", 30)).unwrap();
        store.save_grant(&grant("g3", "pending", 20)).unwrap();
        assert_eq!(store.grant("g2").unwrap(), Some(grant("g2", "active", 30)));
        assert_eq!(store.grant("nope").unwrap(), None);
        assert_eq!(
            ids(&store.grants(None).unwrap(), |g| &g.id),
            ["g2", "g3", "g1"]
        );
        assert_eq!(
            ids(&store.grants(Some("pending")).unwrap(), |g| &g.id),
            ["g3", "g1"]
        );
        assert!(store.grants(Some("revoked")).unwrap().is_empty());
    }

    #[test]
    fn saving_same_grant_id_updates_it() {
        let store = open_test_store();
        store.save_grant(&grant("g1", "pending", 10)).unwrap();
        store.save_grant(&grant("g1", "revoked", 11)).unwrap();
        assert_eq!(row_count(&store, "grants"), 1);
        assert_eq!(store.grant("g1").unwrap().unwrap().status, "revoked");
    }

    #[test]
    fn grant_validation_writes_nothing() {
        let store = open_test_store();
        let cases: Vec<(GrantRow, ErrorCheck)> = vec![
            (grant("", "pending", 1), |e| {
                matches!(e, StoreError::EmptyField { field: "id" })
            }),
            (
                GrantRow {
                    provider: String::new(),
                    ..grant("g", "pending", 1)
                },
                |e| matches!(e, StoreError::EmptyField { field: "provider" }),
            ),
            (
                grant("g", "approved", 1),
                |e| matches!(e, StoreError::InvalidGrantStatus { status } if status == "approved"),
            ),
            (
                GrantRow {
                    json: "{not json".to_owned(),
                    ..grant("g", "pending", 1)
                },
                |e| matches!(e, StoreError::InvalidJson { field: "json" }),
            ),
        ];
        for (row, expected) in cases {
            let err = store.save_grant(&row).unwrap_err();
            assert!(expected(&err), "unexpected error {err:?}");
            assert_eq!(row_count(&store, "grants"), 0, "nothing written");
        }
        assert!(matches!(
            store.grants(Some("bogus")),
            Err(StoreError::InvalidGrantStatus { .. })
        ));
    }

    #[test]
    fn provider_requests_round_trip_and_filter() {
        let store = open_test_store();
        store
            .save_provider_request(&request("r1", "pending", 5))
            .unwrap();
        store
            .save_provider_request(&request("r2", "approved", 6))
            .unwrap();
        store
            .save_provider_request(&request("r1", "rejected", 7))
            .unwrap();
        assert_eq!(row_count(&store, "provider_requests"), 2);
        assert_eq!(
            store.provider_request("r1").unwrap(),
            Some(request("r1", "rejected", 7))
        );
        assert_eq!(
            ids(&store.provider_requests(None).unwrap(), |r| &r.id),
            ["r1", "r2"]
        );
        assert_eq!(
            ids(&store.provider_requests(Some("approved")).unwrap(), |r| &r
                .id),
            ["r2"]
        );
        assert!(store.provider_requests(Some("pending")).unwrap().is_empty());
    }

    #[test]
    fn provider_request_validation_writes_nothing() {
        let store = open_test_store();
        let bad_status = store
            .save_provider_request(&request("r1", "active", 1))
            .unwrap_err();
        assert!(
            matches!(bad_status, StoreError::InvalidRequestStatus { status } if status == "active")
        );
        let bad_json = store
            .save_provider_request(&ProviderRequestRow {
                json: String::new(),
                ..request("r1", "pending", 1)
            })
            .unwrap_err();
        assert!(matches!(
            bad_json,
            StoreError::InvalidJson { field: "json" }
        ));
        let empty_id = store
            .save_provider_request(&request(" ", "pending", 1))
            .unwrap_err();
        assert!(matches!(empty_id, StoreError::EmptyField { field: "id" }));
        assert_eq!(row_count(&store, "provider_requests"), 0);
        assert!(matches!(
            store.provider_requests(Some("revoked")),
            Err(StoreError::InvalidRequestStatus { .. })
        ));
    }
}
