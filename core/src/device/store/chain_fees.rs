//! The chain's fee schedule as the car last read it (with its proof, at pairing): what
//! the puts it signs offline pay.

use rusqlite::{OptionalExtension, params};

use super::{DeviceStore, Result};
use crate::device::error::DeviceStoreError;
use crate::protocol::FeeSchedule;
use crate::protocol::codec::Canonical;

impl DeviceStore {
    /// Keeps `fees` as the chain's schedule, replacing the one kept before.
    pub fn save_fee_schedule(&mut self, fees: &FeeSchedule) -> Result<()> {
        self.conn.execute(
            "INSERT INTO chain_fees (id, schedule) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET schedule = excluded.schedule",
            params![fees.to_canonical()],
        )?;
        Ok(())
    }

    /// The chain's schedule kept at pairing, `None` before the first pairing.
    pub fn fee_schedule(&self) -> Result<Option<FeeSchedule>> {
        let bytes: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT schedule FROM chain_fees WHERE id = 1", [], |row| {
                row.get(0)
            })
            .optional()?;
        bytes
            .map(|bytes| {
                FeeSchedule::from_canonical(&bytes).map_err(|_| DeviceStoreError::Invalid {
                    what: "chain_fees/schedule",
                })
            })
            .transpose()
    }
}
