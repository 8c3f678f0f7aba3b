//! Code the examples' benchmarks share (included by each with
//! `#[path = "common/mod.rs"] mod common;`; the month of long trips they store and the
//! timing helpers are in `carchain_testkit::month`): the owner wallet and paired car
//! they start from, and the read
//! primitives (RSA unwraps, AEAD opens, trip decoding, unchecked HTTP calls) they set
//! beside their figures. Each bench uses part of it.
#![allow(dead_code)]

pub mod primitives;
pub mod setup;
