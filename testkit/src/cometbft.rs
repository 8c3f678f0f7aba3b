//! Where the tests find the pinned CometBFT binary (the node's CometBFT tests and the
//! examples' network test start it).

/// The pinned CometBFT binary: `COMETBFT_BIN`, or where `scripts/cometbft install` puts it.
pub fn cometbft_bin() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("COMETBFT_BIN") {
        return std::path::PathBuf::from(path);
    }
    let cache = std::env::var_os("CARCHAIN_CACHE").map_or_else(
        || {
            std::path::PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/carchain")
        },
        std::path::PathBuf::from,
    );
    let path = cache.join("cometbft-v0.38.26/bin/cometbft");
    assert!(
        path.exists(),
        "CometBFT v0.38.26 is not built at {}: run scripts/setup (or scripts/cometbft install), \
         or set COMETBFT_BIN",
        path.display()
    );
    path
}
