//! `carchain`: the CarChain command line.
fn main() {}
