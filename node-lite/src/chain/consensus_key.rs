//! The validator's ed25519 consensus key (`consensus.key`, 64 hex characters of seed,
//! mode 0600): it signs the CometBFT light blocks of the embedded single-validator node,
//! so light clients verify an embedded chain exactly as a CometBFT network. Made by
//! `init`; a data directory made before it gets one at its next start (its anchor text,
//! the key's hex, then changes: `/v1/status` prints it).

use std::io::Write;
use std::path::Path;

use carchain_core::protocol::light_block::ConsensusSigner;
use zeroize::Zeroizing;

use super::error::ChainError;

/// File name of the consensus key in the data directory.
pub const CONSENSUS_KEY_FILE: &str = "consensus.key";

fn failed<'a>(
    path: &'a Path,
    what: &'static str,
) -> impl FnOnce(std::io::Error) -> ChainError + 'a {
    move |err| ChainError::ValidatorKey(format!("{what} {}: {err}", path.display()))
}

/// Reads `path`, or creates it with a fresh key (0600) when it does not exist.
pub fn load_or_create_consensus_key(path: &Path) -> Result<ConsensusSigner, ChainError> {
    if path.exists() {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(failed(path, "reading"))?);
        let mut seed = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim(), seed.as_mut_slice()).map_err(|_| {
            ChainError::ValidatorKey(format!("{} is not 64 hex characters", path.display()))
        })?;
        return Ok(ConsensusSigner::from_seed(&seed));
    }
    let key =
        ConsensusSigner::generate().map_err(|err| ChainError::ValidatorKey(err.to_string()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(failed(path, "creating"))?;
    let text = Zeroizing::new(hex::encode(key.seed().as_slice()));
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(failed(path, "writing"))?;
    Ok(key)
}
