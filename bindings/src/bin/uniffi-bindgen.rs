//! The `uniffi-bindgen` command of the workspace: generates the Kotlin and Swift sources
//! of the CarChain SDK from the built library (`scripts/bindings` runs it).

fn main() {
    uniffi::uniffi_bindgen_main();
}
