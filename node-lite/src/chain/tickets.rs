//! Read payments of a shared node: a ticket is the id of a committed transfer to the
//! operator; it buys `amount / read_per_address` address traversals, counted in a local
//! table (`reads.sqlite`), one per get or range page.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use crate::service::{ErrorCode, ServiceError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS read_tickets (
    ticket BLOB PRIMARY KEY,
    budget INTEGER NOT NULL,
    used INTEGER NOT NULL
) WITHOUT ROWID;
";

/// The local ledger of spent read tickets.
#[derive(Debug)]
pub struct ReadTickets {
    connection: Mutex<Connection>,
}

fn internal(err: impl std::fmt::Display) -> ServiceError {
    ServiceError::new(ErrorCode::Internal, format!("read tickets: {err}"))
}

impl ReadTickets {
    /// Opens (creating if needed) the ticket table at `path`.
    pub fn open(path: &Path) -> Result<Self, rusqlite::Error> {
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.execute_batch(SCHEMA)?;
        Ok(Self {
            connection: Mutex::new(connection),
        })
    }

    /// Spends one traversal of `ticket`. `budget` is asked (once, at first use) how many
    /// traversals the ticket bought; it refuses tickets that are not read payments.
    pub fn spend(
        &self,
        ticket: &[u8; 32],
        budget: impl FnOnce() -> Result<u64, ServiceError>,
    ) -> Result<u64, ServiceError> {
        let mut connection = self
            .connection
            .lock()
            .map_err(|_| internal("lock poisoned"))?;
        let tx = connection.transaction().map_err(internal)?;
        let row: Option<(i64, i64)> = tx
            .query_row(
                "SELECT budget, used FROM read_tickets WHERE ticket = ?1",
                [ticket.as_slice()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(internal)?;
        let (budget, used) = match row {
            Some(row) => row,
            None => {
                let budget = i64::try_from(budget()?).unwrap_or(i64::MAX);
                tx.execute(
                    "INSERT INTO read_tickets (ticket, budget, used) VALUES (?1, ?2, 0)",
                    params![ticket.as_slice(), budget],
                )
                .map_err(internal)?;
                (budget, 0)
            }
        };
        if used >= budget {
            return Err(ServiceError::new(
                ErrorCode::PaymentRequired,
                format!("read ticket spent: {used} of {budget} traversals used"),
            ));
        }
        tx.execute(
            "UPDATE read_tickets SET used = used + 1 WHERE ticket = ?1",
            [ticket.as_slice()],
        )
        .map_err(internal)?;
        tx.commit().map_err(internal)?;
        Ok(u64::try_from(budget - used - 1).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_buys_its_budget_and_no_more() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let tickets =
            ReadTickets::open(&dir.path().join("reads.sqlite")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tickets.spend(&[1; 32], || Ok(2)), Ok(1));
        // The budget is fixed at first use.
        assert_eq!(tickets.spend(&[1; 32], || Ok(100)), Ok(0));
        let spent = tickets.spend(&[1; 32], || Ok(100)).map_err(|e| e.code);
        assert_eq!(spent, Err(ErrorCode::PaymentRequired));
        let refused = tickets
            .spend(&[2; 32], || {
                Err(ServiceError::new(ErrorCode::PaymentRequired, "no"))
            })
            .map_err(|e| e.code);
        assert_eq!(refused, Err(ErrorCode::PaymentRequired));
        // A refused ticket is not remembered.
        assert_eq!(tickets.spend(&[2; 32], || Ok(1)), Ok(0));
    }
}
