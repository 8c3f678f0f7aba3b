//! The fee schedule a chain fixes at genesis, and what each transaction must pay under
//! it. Nodes charge it; wallets, cars and providers compute the fee they offer with it
//! (the default schedule unless the chain says otherwise). A chain whose schedule is not
//! the default keeps it in its state under [`super::state_key::fee_schedule`], so a light
//! client reads it with a proof; a chain on the default schedule has no entry there, and
//! the proof of its absence says so.

use serde::{Deserialize, Serialize};

use super::body::TxBody;
use super::codec::canonical_struct;

/// Fees of a chain, fixed at genesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeSchedule {
    /// Fee every transaction pays.
    pub base_fee: u64,
    /// Added per ciphertext byte of a record put.
    pub put_per_byte: u64,
    /// Price of one address traversal of a read (shared mode).
    pub read_per_address: u64,
}

canonical_struct!(FeeSchedule {
    base_fee,
    put_per_byte,
    read_per_address
});

impl FeeSchedule {
    /// The schedule of a chain whose genesis names no other: 10 per transaction, 1 per
    /// stored byte, 1 per address read.
    pub const DEFAULT: FeeSchedule = FeeSchedule {
        base_fee: 10,
        put_per_byte: 1,
        read_per_address: 1,
    };

    /// The fee `body` must pay: the base fee, plus `put_per_byte * size` for a record put;
    /// `None` when that overflows.
    pub fn required(&self, body: &TxBody) -> Option<u64> {
        let per_byte = match body {
            TxBody::RecordPut(put) => self.put_per_byte.checked_mul(put.size)?,
            _ => 0,
        };
        self.base_fee.checked_add(per_byte)
    }

    /// The fee a signer offers for `body` under this schedule (what [`Self::required`]
    /// asks; `u64::MAX` when that overflows, which no account can pay, so the node
    /// refuses the transaction with its typed error).
    pub fn fee_for(&self, body: &TxBody) -> u64 {
        self.required(body).unwrap_or(u64::MAX)
    }
}

/// The fee `body` pays under the chain's default schedule ([`FeeSchedule::DEFAULT`]).
pub fn fee_for(body: &TxBody) -> u64 {
    FeeSchedule::DEFAULT.fee_for(body)
}

impl Default for FeeSchedule {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{HashFunc, RecordPut, Transfer};

    #[test]
    fn puts_pay_per_byte_and_overflow_is_refused() {
        let fees = FeeSchedule::DEFAULT;
        let transfer = TxBody::Transfer(Transfer {
            to: "bcrt1qxyz".into(),
            amount: 5,
        });
        assert_eq!(fees.required(&transfer), Some(10));
        let put = |size| {
            TxBody::RecordPut(RecordPut {
                address: "bcrt1qxyz".into(),
                key: vec![1],
                format: "trip-gps".into(),
                hash_func: HashFunc::Sha256,
                d_hash: [0; 32],
                c_hash: [0; 32],
                size,
                wallet: false,
                stamp: None,
            })
        };
        assert_eq!(fees.required(&put(250)), Some(260));
        assert_eq!(fees.required(&put(u64::MAX)), None);
    }
}
