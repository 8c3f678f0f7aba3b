//! Shared pieces of CarChain's runnable examples: the design's example data, the car
//! simulator, the trip maps and the tour.
#![forbid(unsafe_code)]

pub mod maps;
pub mod seed_vectors;
pub mod sim;
pub mod tour;
