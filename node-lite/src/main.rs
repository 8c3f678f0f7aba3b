//! The `carchain-node` binary.
fn main() {
    eprintln!("carchain-node: not yet runnable");
    std::process::exit(2);
}
