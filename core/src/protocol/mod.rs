//! The ledger protocol shared by the node and the light client: transactions, headers,
//! canonical encoding, Merkle proofs.
