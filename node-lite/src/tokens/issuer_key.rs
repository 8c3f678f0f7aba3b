//! The node's token issuer key: generated on first start, kept in `token-issuer.key`
//! (PKCS#8 DER, mode 0600) and written crash-safely (a temporary file, synced, renamed
//! over, the directory synced), so a crash leaves either no key or the whole key.

use std::io::Write;
use std::path::Path;

use carchain_core::tokens::IssuerKeyPair;

use super::error::IssuerKeyError;

/// File name of the issuer key in the data directory.
pub const ISSUER_KEY_FILE: &str = "token-issuer.key";

fn failed(path: &Path, what: &str) -> impl Fn(std::io::Error) -> IssuerKeyError {
    let path = path.display().to_string();
    let what = what.to_owned();
    move |err| IssuerKeyError(format!("{what} {path}: {err}"))
}

/// Loads the issuer key of `dir`, creating it on first start.
pub fn load_or_create_issuer(dir: &Path) -> Result<IssuerKeyPair, IssuerKeyError> {
    load_or_create_key_file(&dir.join(ISSUER_KEY_FILE))
}

/// Loads the blind-signature key pair kept at `path` (PKCS#8 DER), creating it
/// crash-safely on first use: the read-token issuer's and a private node's
/// write-credential issuer's key files both go through here.
pub fn load_or_create_key_file(path: &Path) -> Result<IssuerKeyPair, IssuerKeyError> {
    let path = path.to_path_buf();
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path.file_name().map_or_else(
        || ISSUER_KEY_FILE.to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    if path.exists() {
        let der = zeroize::Zeroizing::new(std::fs::read(&path).map_err(failed(&path, "reading"))?);
        return IssuerKeyPair::from_der(&der).map_err(|err| {
            IssuerKeyError(format!("{} holds no issuer key: {err}", path.display()))
        });
    }
    let key =
        IssuerKeyPair::generate().map_err(|err| IssuerKeyError(format!("issuer key: {err}")))?;
    let der = key
        .to_der()
        .map_err(|err| IssuerKeyError(format!("issuer key: {err}")))?;
    let temporary = dir.join(format!("{name}.tmp"));
    // A file left by a crash is removed: a new file gets mode 0600 from the start.
    if temporary.exists() {
        std::fs::remove_file(&temporary).map_err(failed(&temporary, "removing"))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&temporary)
        .map_err(failed(&temporary, "writing"))?;
    file.write_all(&der)
        .map_err(failed(&temporary, "writing"))?;
    file.sync_all().map_err(failed(&temporary, "syncing"))?;
    drop(file);
    std::fs::rename(&temporary, &path).map_err(failed(&path, "renaming into"))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(failed(dir, "syncing"))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_created_once_private_and_loads_back() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        // A temporary file left by a crash is overwritten.
        std::fs::write(dir.path().join(format!("{ISSUER_KEY_FILE}.tmp")), b"half")
            .unwrap_or_else(|e| panic!("{e}"));
        let first = load_or_create_issuer(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let again = load_or_create_issuer(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.public().key_id(), again.public().key_id());
        let path = dir.path().join(ISSUER_KEY_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o600));
        }
        assert!(!dir.path().join(format!("{ISSUER_KEY_FILE}.tmp")).exists());
        std::fs::write(&path, b"not a key").unwrap_or_else(|e| panic!("{e}"));
        assert!(load_or_create_issuer(dir.path()).is_err());
    }
}
