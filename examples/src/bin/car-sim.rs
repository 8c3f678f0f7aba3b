//! `car-sim`: drives simulated cars against a CarChain node.
fn main() {}
