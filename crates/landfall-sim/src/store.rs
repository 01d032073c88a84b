//! Reading and writing the world file. Writes are atomic (temp file in the same
//! directory, then rename), so a crash leaves either the old or the new world, never
//! a torn one. There is no fsync: the sim only has to survive process crashes (the
//! page cache does), not power loss.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::world::World;

/// Why a world file could not be opened or saved. Messages name the file and say what
/// to do about it.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(
        "cannot read the sim world file {}: {source} (check that the path is a readable file, or point the \
         sim at another world file)",
        path.display()
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot write the sim world file {}: {source} (check that the directory exists and is writable)",
        path.display()
    )]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the sim world file {} is corrupt: {reason}. It holds the simulated organization (not Landfall's state); \
         restore it from a backup, or delete it to start a fresh, empty sim world (Landfall will then refuse state \
         files bound to the old world)",
        path.display()
    )]
    Corrupt { path: PathBuf, reason: String },
    #[error("cannot serialize the sim world: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// Reads a world file; `Ok(None)` when it does not exist.
pub fn load(path: &Path) -> Result<Option<World>, SimError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Err(SimError::Corrupt {
                path: path.to_path_buf(),
                reason: "it is not UTF-8 text".into(),
            });
        }
        Err(source) => {
            return Err(SimError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let corrupt = |reason: String| SimError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let mut world: World =
        serde_json::from_str(&text).map_err(|e| corrupt(format!("not a sim world ({e})")))?;
    world.reindex().map_err(corrupt)?;
    Ok(Some(world))
}

/// Serializes a world (pretty, so users can read what "live" looks like).
pub fn to_bytes(world: &World) -> Result<Vec<u8>, SimError> {
    let mut bytes = serde_json::to_vec_pretty(world)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Atomically replaces `path` with `bytes`, creating the parent directory if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SimError> {
    let write_err = |source| SimError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(write_err)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".landfall-sim-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(write_err)?;
    tmp.write_all(bytes).map_err(write_err)?;
    tmp.persist(path).map_err(|e| write_err(e.error))?;
    Ok(())
}

/// Serializes and atomically writes a world.
pub fn save(path: &Path, world: &World) -> Result<(), SimError> {
    write_atomic(path, &to_bytes(world)?)
}
