//! The state file on disk: read, checked against the world it belongs to, written
//! atomically (temp file, fsync, rename) after every completed change, under an
//! exclusive lock that dies with its process.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use landfall_core::address::Address;
use landfall_core::live::WorldIdentity;
use landfall_core::state::{STATE_FORMAT_VERSION, StateFile};

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read state file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("state file {path} is not valid: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("cannot write state file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("state file {path} is locked by another Landfall run ({holder})")]
    Locked { path: PathBuf, holder: String },
    #[error(
        "state file {path} describes {state_world}, but the backend is connected to {backend_world}"
    )]
    WrongWorld {
        path: PathBuf,
        state_world: WorldIdentity,
        backend_world: WorldIdentity,
    },
    #[error("state file {path} is for landing zone `{found}`, not `{expected}`")]
    WrongLandingZone {
        path: PathBuf,
        found: String,
        expected: String,
    },
}

impl StateError {
    /// A hint to print under the error.
    pub fn hint(&self) -> Option<String> {
        match self {
            StateError::Corrupt { .. } => Some(
                "restore the file from version control or backup; Landfall never writes a partial state file"
                    .into(),
            ),
            StateError::Locked { path, .. } => Some(format!(
                "wait for the other run to finish; if it crashed, the lock is released with its process (lock file {})",
                lock_path(path).display()
            )),
            StateError::WrongWorld { .. } => Some(
                "use the state file that belongs to this organization (`state_path` or --state), or check --backend"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// Reads a state file; `Ok(None)` when there is none yet.
pub fn read_state(path: &Path) -> Result<Option<StateFile>, StateError> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StateError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let state: StateFile = serde_json::from_str(&text).map_err(|e| StateError::Corrupt {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if state.format_version != STATE_FORMAT_VERSION {
        return Err(StateError::Corrupt {
            path: path.to_path_buf(),
            message: format!(
                "format version {} is not supported (this Landfall writes {STATE_FORMAT_VERSION})",
                state.format_version
            ),
        });
    }
    Ok(Some(state))
}

/// Checks that a state file belongs to this landing zone and world.
pub fn check_state_identity(
    path: &Path,
    state: &StateFile,
    landing_zone: &str,
    world: &WorldIdentity,
) -> Result<(), StateError> {
    if state.world != *world {
        return Err(StateError::WrongWorld {
            path: path.to_path_buf(),
            state_world: state.world.clone(),
            backend_world: world.clone(),
        });
    }
    if state.landing_zone != landing_zone {
        return Err(StateError::WrongLandingZone {
            path: path.to_path_buf(),
            found: state.landing_zone.clone(),
            expected: landing_zone.to_string(),
        });
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically: temp file in the same directory, fsync, rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // Make the rename itself durable.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

pub fn lock_path(state_path: &Path) -> PathBuf {
    let mut name = state_path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    state_path.with_file_name(name)
}

/// An advisory lock on the state, released when dropped (or when the process dies, so
/// a crash never leaves a stale lock). A writer (`apply`) holds it exclusively and
/// writes who it is into the lock file; readers (`drift`) share it, so they never read
/// a state an apply is in the middle of changing.
#[derive(Debug)]
pub struct StateLock {
    file: Option<File>,
    exclusive: bool,
}

/// How long to wait between attempts while another run holds the lock.
const LOCK_RETRY: Duration = Duration::from_millis(100);

impl StateLock {
    /// Takes the lock for writing without waiting; fails naming the holder.
    pub fn acquire(state_path: &Path, command: &str) -> Result<Self, StateError> {
        Self::acquire_waiting(state_path, command, Duration::ZERO)
    }

    /// Takes the lock for writing, waiting up to `timeout` for other runs to finish;
    /// then fails naming the holder.
    pub fn acquire_waiting(
        state_path: &Path,
        command: &str,
        timeout: Duration,
    ) -> Result<Self, StateError> {
        let mut file = open_lock_file(state_path)?;
        wait_for(state_path, &mut file, timeout, File::try_lock)?;
        let since = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
        let info = format!(
            "pid {} on {}, `{command}`, since {since}",
            std::process::id(),
            host_name()
        );
        let _ = file.set_len(0);
        let _ = file.write_all(info.as_bytes());
        let _ = file.sync_all();
        Ok(StateLock {
            file: Some(file),
            exclusive: true,
        })
    }

    /// Takes the lock for reading, shared with other readers, waiting up to `timeout`
    /// while a writer holds it. Without a state file there is nothing to protect, and
    /// nothing is created.
    pub fn acquire_shared(state_path: &Path, timeout: Duration) -> Result<Self, StateError> {
        if !state_path.exists() && !lock_path(state_path).exists() {
            return Ok(StateLock {
                file: None,
                exclusive: false,
            });
        }
        let mut file = open_lock_file(state_path)?;
        wait_for(state_path, &mut file, timeout, File::try_lock_shared)?;
        Ok(StateLock {
            file: Some(file),
            exclusive: false,
        })
    }
}

impl Drop for StateLock {
    /// A released lock keeps no holder line: the file says nothing about a run that
    /// has finished.
    fn drop(&mut self) {
        if self.exclusive
            && let Some(file) = &self.file
        {
            let _ = file.set_len(0);
        }
    }
}

fn open_lock_file(state_path: &Path) -> Result<File, StateError> {
    let path = lock_path(state_path);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|source| StateError::Write {
            path: path.clone(),
            source,
        })?;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|source| StateError::Write { path, source })
}

/// Tries `lock` until it succeeds or `timeout` has passed; then names the holder.
fn wait_for(
    state_path: &Path,
    file: &mut File,
    timeout: Duration,
    lock: fn(&File) -> Result<(), fs::TryLockError>,
) -> Result<(), StateError> {
    let started = std::time::Instant::now();
    loop {
        match lock(file) {
            Ok(()) => return Ok(()),
            Err(fs::TryLockError::WouldBlock) if started.elapsed() < timeout => {
                std::thread::sleep(LOCK_RETRY);
            }
            Err(fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let waited = if timeout.is_zero() {
                    String::new()
                } else {
                    format!(", still held after {}", humantime::format_duration(timeout))
                };
                return Err(StateError::Locked {
                    path: state_path.to_path_buf(),
                    holder: if holder.is_empty() {
                        format!("a reader such as `landfall drift`{waited}")
                    } else {
                        format!("{holder}{waited}")
                    },
                });
            }
            Err(fs::TryLockError::Error(source)) => {
                return Err(StateError::Write {
                    path: lock_path(state_path),
                    source,
                });
            }
        }
    }
}

/// This machine's name for the lock's holder line: `HOSTNAME` when exported (shells
/// set but rarely export it), else the kernel's, else `localhost`.
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The live copy of the state during an apply: every update is written through.
pub struct StateStore {
    path: Option<PathBuf>,
    state: Mutex<StateFile>,
}

impl StateStore {
    /// A store that writes to `path` after every update.
    pub fn new(path: PathBuf, state: StateFile) -> Self {
        StateStore {
            path: Some(path),
            state: Mutex::new(state),
        }
    }

    /// A store that never touches the disk (benchmarks, tests).
    pub fn in_memory(state: StateFile) -> Self {
        StateStore {
            path: None,
            state: Mutex::new(state),
        }
    }

    pub fn snapshot(&self) -> StateFile {
        self.lock().clone()
    }

    pub fn id_of(&self, address: &Address) -> Option<String> {
        self.lock().id_of(address).map(str::to_string)
    }

    /// Whether a creation of `address` was started by an earlier, interrupted run.
    pub fn snapshot_pending(&self, address: &Address) -> bool {
        self.lock().pending_creates.contains(address)
    }

    /// Applies `f` to the state, bumps the serial and writes the file.
    pub fn update(&self, f: impl FnOnce(&mut StateFile)) -> Result<(), StateError> {
        let mut state = self.lock();
        f(&mut state);
        state.serial += 1;
        self.write(&state)
    }

    /// Writes the current state (e.g. a new, empty state before the first change).
    pub fn flush(&self) -> Result<(), StateError> {
        let state = self.lock();
        self.write(&state)
    }

    fn write(&self, state: &StateFile) -> Result<(), StateError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let bytes = serde_json::to_vec_pretty(state).map_err(|e| StateError::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        })?;
        write_atomically(path, &bytes).map_err(|source| StateError::Write {
            path: path.clone(),
            source,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StateFile> {
        // A poisoned mutex only means another task panicked mid-update; the data is a
        // plain value that was fully written or not at all, so keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use landfall_core::attrs::Attrs;
    use landfall_core::state::ResourceRecord;

    fn world() -> WorldIdentity {
        WorldIdentity {
            backend: "sim".into(),
            id: "sim-1".into(),
        }
    }

    #[test]
    fn store_round_trips_and_bumps_serial() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lz.state.json");
        let store = StateStore::new(path.clone(), StateFile::new("lz", world()));
        store
            .update(|s| {
                s.resources.insert(
                    Address::Root,
                    ResourceRecord {
                        id: "r-1".into(),
                        created: false,
                        attributes: Attrs::new(),
                        member: None,
                    },
                );
            })
            .unwrap();
        let back = read_state(&path).unwrap().unwrap();
        assert_eq!(back.serial, 1);
        assert_eq!(back.id_of(&Address::Root), Some("r-1"));
    }

    #[test]
    fn second_lock_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lz.state.json");
        let _held = StateLock::acquire(&path, "landfall apply").unwrap();
        let err = StateLock::acquire(&path, "landfall apply").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("locked"), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
    }

    #[test]
    fn corrupt_state_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lz.state.json");
        fs::write(&path, "{ not json").unwrap();
        assert!(matches!(read_state(&path), Err(StateError::Corrupt { .. })));
        assert!(
            read_state(&dir.path().join("missing.json"))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn wrong_world_is_refused() {
        let s = StateFile::new("lz", world());
        let other = WorldIdentity {
            backend: "aws".into(),
            id: "o-123".into(),
        };
        assert!(check_state_identity(Path::new("x"), &s, "lz", &other).is_err());
        assert!(check_state_identity(Path::new("x"), &s, "lz", &world()).is_ok());
    }
}
