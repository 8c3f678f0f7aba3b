//! Shared pieces of CarChain's runnable examples.
#![forbid(unsafe_code)]

pub mod seed_vectors;
