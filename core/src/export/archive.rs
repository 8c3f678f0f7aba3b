//! The container: a plain POSIX ustar archive (any `tar` tool lists and extracts it),
//! written deterministically (mode 0644, mtime 0, files in a fixed order) and read back
//! strictly: regular files only, known names only, no duplicates, and the two zero
//! blocks that end a tar stream must be there (a cut archive is refused as truncated).

use std::collections::BTreeMap;
use std::io::Read;

use super::error::ExportError;

/// A tar block.
const BLOCK: usize = 512;
/// The end-of-archive marker: two zero blocks.
const END_MARKER: usize = 2 * BLOCK;

/// Packs `files` (name, bytes), in the given order, into a tar archive.
pub fn pack(files: &[(&str, Vec<u8>)]) -> Result<Vec<u8>, ExportError> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in files {
        let mut header = tar::Header::new_ustar();
        header.set_path(name).map_err(|err| packing(name, &err))?;
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        builder
            .append(&header, bytes.as_slice())
            .map_err(|err| packing(name, &err))?;
    }
    builder.into_inner().map_err(|err| packing("end", &err))
}

fn packing(name: &str, err: &std::io::Error) -> ExportError {
    ExportError::Io {
        path: name.to_owned(),
        reason: format!("packing the archive: {err}"),
    }
}

/// The files of an archive, in archive order. `known` names the only files allowed.
pub fn unpack(archive: &[u8], known: &[&str]) -> Result<Vec<(String, Vec<u8>)>, ExportError> {
    let truncated = |reason: &str| ExportError::Truncated {
        found: archive.len(),
        reason: reason.to_owned(),
    };
    if archive.len() < BLOCK || !looks_like_tar(&archive[..BLOCK]) {
        if archive.len() < BLOCK && starts_like_an_export(archive) {
            return Err(truncated("shorter than one tar block"));
        }
        return Err(ExportError::NotAnExport {
            reason: "not a tar archive".into(),
        });
    }
    if !archive.len().is_multiple_of(BLOCK) {
        return Err(truncated("not a whole number of tar blocks"));
    }
    if archive.len() < BLOCK + END_MARKER
        || archive[archive.len() - END_MARKER..]
            .iter()
            .any(|b| *b != 0)
    {
        return Err(truncated("no end-of-archive marker"));
    }
    let mut reader = tar::Archive::new(archive);
    let entries = reader
        .entries()
        .map_err(|err| truncated(&format!("unreadable: {err}")))?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut seen = BTreeMap::new();
    for entry in entries {
        let mut entry = entry.map_err(|err| truncated(&format!("unreadable entry: {err}")))?;
        let name = entry
            .path()
            .map_err(|_| manifest("an entry name is not UTF-8"))?
            .to_string_lossy()
            .into_owned();
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(manifest(&format!("{name} is not a regular file")));
        }
        if !known.contains(&name.as_str()) {
            return Err(manifest(&format!("unexpected file {name}")));
        }
        if seen.insert(name.clone(), ()).is_some() {
            return Err(manifest(&format!("{name} appears twice")));
        }
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|err| truncated(&format!("{name}: {err}")))?;
        files.push((name, bytes));
    }
    Ok(files)
}

fn manifest(reason: &str) -> ExportError {
    ExportError::Manifest {
        reason: reason.to_owned(),
    }
}

/// Whether `block` is a ustar header (magic at offset 257).
fn looks_like_tar(block: &[u8]) -> bool {
    block.len() >= 263 && &block[257..262] == b"ustar"
}

/// Whether a piece shorter than a block starts like an export (whose first entry is
/// always the manifest).
fn starts_like_an_export(piece: &[u8]) -> bool {
    let name = super::manifest::MANIFEST.as_bytes();
    let shared = piece.len().min(name.len());
    !piece.is_empty()
        && piece[..shared] == name[..shared]
        && (piece.len() < 263 || looks_like_tar(piece))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["manifest.json", "b.csv"];

    fn archive() -> Vec<u8> {
        pack(&[
            ("manifest.json", b"{}".to_vec()),
            ("b.csv", b"x,y\n".to_vec()),
        ])
        .unwrap()
    }

    #[test]
    fn files_round_trip_in_order_and_deterministically() {
        let bytes = archive();
        assert_eq!(bytes, archive());
        let files = unpack(&bytes, KNOWN).unwrap();
        assert_eq!(
            files,
            vec![
                ("manifest.json".to_owned(), b"{}".to_vec()),
                ("b.csv".to_owned(), b"x,y\n".to_vec())
            ]
        );
    }

    #[test]
    fn every_cut_is_truncated_or_not_an_export() {
        let bytes = archive();
        for cut in (1..bytes.len())
            .step_by(97)
            .chain([bytes.len() - 1, bytes.len() - 512])
        {
            let err = unpack(&bytes[..cut], KNOWN).unwrap_err();
            assert_eq!(err.code(), "export.truncated", "cut at {cut}: {err:?}");
        }
        assert_eq!(
            unpack(b"", KNOWN).unwrap_err().code(),
            "export.not_an_export"
        );
        assert_eq!(
            unpack(&[0x42; 2048], KNOWN).unwrap_err().code(),
            "export.not_an_export"
        );
        assert_eq!(
            unpack(b"PK\x03\x04 a zip file", KNOWN).unwrap_err().code(),
            "export.not_an_export"
        );
    }

    #[test]
    fn unknown_and_duplicate_files_are_refused() {
        let extra = pack(&[
            ("manifest.json", b"{}".to_vec()),
            ("other.txt", b"x".to_vec()),
        ])
        .unwrap();
        assert_eq!(unpack(&extra, KNOWN).unwrap_err().code(), "export.manifest");
        let twice = pack(&[("b.csv", b"{}".to_vec()), ("b.csv", b"[]".to_vec())]).unwrap();
        assert_eq!(unpack(&twice, KNOWN).unwrap_err().code(), "export.manifest");
    }
}
