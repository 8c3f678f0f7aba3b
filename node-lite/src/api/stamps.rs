//! Fee stamp endpoints, served by the node that holds the chain's stamp issuer key:
//! `GET /v1/stamps/key` (the issuer key and a stamp's price) and `POST /v1/stamps` (blind
//! signatures for a batch of stamps paid by one Transfer to the stamp escrow). Same JSON
//! as the read tokens' endpoints; the payer signs the same digest under the stamp key id.

use super::tokens::blind_issuer;

blind_issuer!(
    /// Fee stamps: a write pays its fee with them.
    FeeStamps,
    stamp_key,
    issue_stamps
);
