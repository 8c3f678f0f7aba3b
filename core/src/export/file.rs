//! Writing an archive without ever leaving half a file: a temp file beside the target
//! (created new, synced), renamed over it; on any failure the temp file is removed and
//! the target is untouched.

use std::io::Write;
use std::path::Path;

use super::error::ExportError;

/// Checks that `path` can name the archive: a file name in an existing directory.
pub fn check_target(path: &Path) -> Result<(), ExportError> {
    if path.file_name().is_none() || path.is_dir() {
        return Err(io(path, "not a file path"));
    }
    if !dir_of(path).is_dir() {
        return Err(io(path, "its directory does not exist"));
    }
    Ok(())
}

fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn io(path: &Path, reason: &str) -> ExportError {
    ExportError::Io {
        path: path.display().to_string(),
        reason: reason.to_owned(),
    }
}

/// Writes `bytes` to `path` through a temp file and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    check_target(path)?;
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|_| io(path, "no randomness for a temp name"))?;
    replace_through_temp(path, bytes, &suffix).map_err(|err| io(path, &err.kind().to_string()))
}

/// Writes `bytes` to a temp file beside `path` (named with `suffix`, created new,
/// synced) and renames it over `path`; on failure the temp file is removed and `path`
/// is untouched. A crash leaves the old file or the new one, never half of one.
pub(crate) fn replace_through_temp(
    path: &Path,
    bytes: &[u8],
    suffix: &[u8; 8],
) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let temp = dir_of(path).join(format!(".{name}.{}.tmp", hex::encode(suffix)));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}
