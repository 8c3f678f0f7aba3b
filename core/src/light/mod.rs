//! The embedded light node: talks HTTP/JSON to one or more CarChain nodes, verifies
//! signed headers, Merkle and state proofs and record hashes instead of trusting them,
//! fails over between nodes, and caches what it verified in the wallet's store.
