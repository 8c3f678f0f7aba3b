//! Shared pieces of CarChain's runnable examples: the design's example data, the car
//! simulator (offline and driving a node), the trip maps, the tour and the `carchain` CLI.
#![forbid(unsafe_code)]

pub mod cli;
pub mod maps;
pub mod seed_vectors;
pub mod sim;
pub mod tour;
