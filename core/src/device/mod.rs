//! The car side (`CarDevice`): first-boot keys, pairing, sealing and putting records under
//! the day's pool address, and an offline queue delivered when a node is reachable.
