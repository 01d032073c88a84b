//! The state during a run: read from its [`StateBackend`] and checked against the
//! world it belongs to, then written through after every completed change —
//! concurrent completions coalesced into one write, each write conditional on the
//! revision the last one left.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use landfall_core::address::Address;
use landfall_core::live::WorldIdentity;
use landfall_core::state::{STATE_FORMAT_VERSION, StateFile};

use crate::state_backend::{Expect, StateBackend};

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read the state at {location}: {message}")]
    Read { location: String, message: String },
    #[error("the state at {location} is not valid: {message}")]
    Corrupt { location: String, message: String },
    #[error("cannot write the state at {location}: {message}")]
    Write { location: String, message: String },
    #[error("the state at {location} is locked by another Landfall run ({holder})")]
    Locked { location: String, holder: String },
    #[error(
        "the state at {location} changed since this run read it: another run wrote it, so this run's write was refused"
    )]
    Conflict { location: String },
    #[error("no lock {id} on the state at {location}{}", holder.as_ref().map(|h| format!(" (it is held by {h})")).unwrap_or_else(|| " (it is not locked)".into()))]
    NoSuchLock {
        location: String,
        id: String,
        holder: Option<String>,
    },
    #[error("the lock on the state at {location} belongs to a run that is still going ({holder})")]
    LiveLock { location: String, holder: String },
    #[error("the state bucket of {location} does not have versioning enabled")]
    Unversioned { location: String },
    #[error(
        "the state at {location} describes {state_world}, but the backend is connected to {backend_world}"
    )]
    WrongWorld {
        location: String,
        state_world: WorldIdentity,
        backend_world: WorldIdentity,
    },
    #[error("the state at {location} is for landing zone `{found}`, not `{expected}`")]
    WrongLandingZone {
        location: String,
        found: String,
        expected: String,
    },
}

impl StateError {
    /// A hint to print under the error.
    pub fn hint(&self) -> Option<String> {
        match self {
            StateError::Corrupt { .. } => Some(
                "restore the state from version control or an earlier object version; Landfall never writes a partial state"
                    .into(),
            ),
            StateError::Locked { .. } => Some(
                "wait for the other run to finish (or pass --lock-timeout); if it died, `landfall force-unlock LOCK_ID` with the id above removes its lock (a local lock is released with its process)"
                    .into(),
            ),
            StateError::Conflict { .. } => Some(
                "this run no longer held the lock (was it force-unlocked?); plan again from the state as it is now"
                    .into(),
            ),
            StateError::NoSuchLock { .. } => Some(
                "pass the id of the lock to remove exactly as the error naming its holder shows it".into(),
            ),
            StateError::LiveLock { .. } => Some(
                "a local lock is released when its process ends: wait for it, or stop that process".into(),
            ),
            StateError::Unversioned { .. } => Some(
                "enable versioning on the bucket (every recorded change is then a version you can go back to), or create a proper one with `landfall state bootstrap --bucket NAME`"
                    .into(),
            ),
            StateError::WrongWorld { .. } => Some(
                "use the state that belongs to this organization ([state], state_path or --state), or check --backend"
                    .into(),
            ),
            StateError::Read { .. }
            | StateError::Write { .. }
            | StateError::WrongLandingZone { .. } => None,
        }
    }
}

/// Parses a state's bytes; `location` names it in errors.
pub fn parse_state(location: &str, bytes: &[u8]) -> Result<StateFile, StateError> {
    let state: StateFile = serde_json::from_slice(bytes).map_err(|e| StateError::Corrupt {
        location: location.to_string(),
        message: e.to_string(),
    })?;
    if state.format_version != STATE_FORMAT_VERSION {
        return Err(StateError::Corrupt {
            location: location.to_string(),
            message: format!(
                "format version {} is not supported (this Landfall writes {STATE_FORMAT_VERSION})",
                state.format_version
            ),
        });
    }
    Ok(state)
}

/// Reads a local state file; `Ok(None)` when there is none yet.
pub fn read_state(path: &Path) -> Result<Option<StateFile>, StateError> {
    match fs::read(path) {
        Ok(bytes) => parse_state(&path.display().to_string(), &bytes).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StateError::Read {
            location: path.display().to_string(),
            message: e.to_string(),
        }),
    }
}

/// Reads the state from its backend: the state and the revision it was read at.
pub async fn load_state(
    backend: &dyn StateBackend,
) -> Result<Option<(StateFile, Option<String>)>, StateError> {
    match backend.read().await? {
        None => Ok(None),
        Some(object) => {
            let state = parse_state(&backend.location(), &object.bytes)?;
            Ok(Some((state, object.revision)))
        }
    }
}

/// Checks that a state belongs to this landing zone and world.
pub fn check_state_identity(
    location: &str,
    state: &StateFile,
    landing_zone: &str,
    world: &WorldIdentity,
) -> Result<(), StateError> {
    if state.world != *world {
        return Err(StateError::WrongWorld {
            location: location.to_string(),
            state_world: state.world.clone(),
            backend_world: world.clone(),
        });
    }
    if state.landing_zone != landing_zone {
        return Err(StateError::WrongLandingZone {
            location: location.to_string(),
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

/// Saves `bytes` (a state about to be replaced) beside `path` as
/// `<path>.<UTC time>.backup`, e.g. `ml.state.json.20261204T100000Z.backup`, the way
/// Terraform backs up before `state rm`/`mv`. Written whole (temp file, fsync, rename)
/// and never over an earlier backup: a second one in the same second gets `-2`, `-3`,
/// …. Returns the backup's path.
pub fn write_backup(path: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let stamp: String = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    let mut n = 1;
    loop {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let mut name = path.as_os_str().to_os_string();
        name.push(format!(".{stamp}{suffix}.backup"));
        let target = PathBuf::from(name);
        match tmp.persist_noclobber(&target) {
            Ok(_) => {
                if let Ok(d) = File::open(&dir) {
                    let _ = d.sync_all();
                }
                return Ok(target);
            }
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => {
                tmp = e.file;
                n += 1;
            }
            Err(e) => return Err(e.error),
        }
    }
}

/// What has been written: the serial and the revision it left.
struct Written {
    serial: Option<u64>,
    expect: Expect,
}

/// The live copy of the state during a run. Every update is durable before it
/// returns: it is written, or a write that started after it finished. Updates that
/// complete while a write is in flight are coalesced into the next write, so a burst
/// of completed changes costs one write, not one each on the critical path.
pub struct StateStore {
    backend: Option<Arc<dyn StateBackend>>,
    state: Mutex<StateFile>,
    written: tokio::sync::Mutex<Written>,
    writes: AtomicU64,
}

impl StateStore {
    /// A store writing to `backend`; `expect` is what the backend holds now (the
    /// revision this run read, or no state at all).
    pub fn new(backend: Arc<dyn StateBackend>, state: StateFile, expect: Expect) -> Self {
        StateStore {
            backend: Some(backend),
            state: Mutex::new(state),
            written: tokio::sync::Mutex::new(Written {
                serial: None,
                expect,
            }),
            writes: AtomicU64::new(0),
        }
    }

    /// A store that never writes (benchmarks, tests).
    pub fn in_memory(state: StateFile) -> Self {
        StateStore {
            backend: None,
            state: Mutex::new(state),
            written: tokio::sync::Mutex::new(Written {
                serial: None,
                expect: Expect::Any,
            }),
            writes: AtomicU64::new(0),
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

    /// How many times the state was written.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// Applies `f` to the state, bumps the serial, and returns once a write holding
    /// the change is done.
    pub async fn update(&self, f: impl FnOnce(&mut StateFile)) -> Result<(), StateError> {
        let serial = {
            let mut state = self.lock();
            f(&mut state);
            state.serial += 1;
            state.serial
        };
        self.persist(Some(serial)).await
    }

    /// Writes the current state (e.g. a new, empty state before the first change).
    pub async fn flush(&self) -> Result<(), StateError> {
        self.persist(None).await
    }

    /// Writes unless a write that covers `serial` is done already (`None`: write).
    async fn persist(&self, serial: Option<u64>) -> Result<(), StateError> {
        let Some(backend) = &self.backend else {
            return Ok(());
        };
        let mut written = self.written.lock().await;
        if let (Some(want), Some(done)) = (serial, written.serial)
            && done >= want
        {
            return Ok(());
        }
        let (bytes, at) = {
            let state = self.lock();
            let bytes = serde_json::to_vec_pretty(&*state).map_err(|e| StateError::Corrupt {
                location: backend.location(),
                message: e.to_string(),
            })?;
            (bytes, state.serial)
        };
        let revision = backend.write(&bytes, &written.expect).await?;
        self.writes.fetch_add(1, Ordering::Relaxed);
        written.serial = Some(at);
        written.expect = match revision {
            Some(r) => Expect::Revision(r),
            None => Expect::Any,
        };
        Ok(())
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
    use crate::state_backend::{LocalStateBackend, LockInfo, LockMode};
    use landfall_core::attrs::Attrs;
    use landfall_core::state::ResourceRecord;
    use std::time::Duration;

    fn world() -> WorldIdentity {
        WorldIdentity {
            backend: "sim".into(),
            id: "sim-1".into(),
        }
    }

    fn root() -> ResourceRecord {
        ResourceRecord {
            id: "r-1".into(),
            created: false,
            attributes: Attrs::new(),
            member: None,
        }
    }

    #[test]
    fn backups_sit_beside_the_state_and_never_overwrite_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lz.state.json");
        let first = write_backup(&path, b"one").unwrap();
        let second = write_backup(&path, b"two").unwrap();
        assert_ne!(first, second);
        assert_eq!(first.parent(), Some(dir.path()));
        let name = first.file_name().unwrap().to_string_lossy().into_owned();
        let stamp = name
            .strip_prefix("lz.state.json.")
            .and_then(|n| n.split('.').next())
            .unwrap()
            .to_string();
        // 20261204T100000Z (and -2 for a second backup in the same second).
        assert_eq!(stamp.len(), 16, "{name}");
        assert!(
            stamp.ends_with('Z') && stamp.as_bytes()[8] == b'T',
            "{name}"
        );
        assert!(name.ends_with(".backup"), "{name}");
        assert_eq!(fs::read(&first).unwrap(), b"one");
        assert_eq!(fs::read(&second).unwrap(), b"two");
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 2, "no temp files left behind");
    }

    #[tokio::test]
    async fn store_round_trips_and_bumps_serial() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lz.state.json");
        let backend = Arc::new(LocalStateBackend::new(path.clone()));
        let store = StateStore::new(backend, StateFile::new("lz", world()), Expect::Absent);
        store
            .update(|s| {
                s.resources.insert(Address::Root, root());
            })
            .await
            .unwrap();
        let back = read_state(&path).unwrap().unwrap();
        assert_eq!(back.serial, 1);
        assert_eq!(back.id_of(&Address::Root), Some("r-1"));
        assert_eq!(store.writes(), 1);
    }

    /// A backend that counts writes and takes a while for each, like a network store.
    struct Slow {
        writes: AtomicU64,
        last: Mutex<Option<u64>>,
    }

    #[async_trait::async_trait]
    impl StateBackend for Slow {
        fn location(&self) -> String {
            "slow".into()
        }
        async fn read(&self) -> Result<Option<crate::state_backend::StateObject>, StateError> {
            Ok(None)
        }
        async fn write(&self, bytes: &[u8], _: &Expect) -> Result<Option<String>, StateError> {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let n = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
            let state: StateFile = serde_json::from_slice(bytes).unwrap();
            *self.last.lock().unwrap() = Some(state.serial);
            Ok(Some(format!("etag-{n}")))
        }
        async fn lock(
            &self,
            info: LockInfo,
            _: LockMode,
            _: Duration,
        ) -> Result<crate::state_backend::HeldLock, StateError> {
            Ok(crate::state_backend::HeldLock::remote(info, None))
        }
        async fn unlock(&self, _: crate::state_backend::HeldLock) -> Result<(), StateError> {
            Ok(())
        }
        async fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError> {
            Err(StateError::NoSuchLock {
                location: self.location(),
                id: id.into(),
                holder: None,
            })
        }
        async fn holder(&self) -> Result<Option<LockInfo>, StateError> {
            Ok(None)
        }
    }

    /// Fifty updates completing together cost a handful of writes, not fifty, and
    /// every update returns only once a write holding it is done.
    #[tokio::test]
    async fn concurrent_updates_are_coalesced_and_each_is_durable_on_return() {
        let backend = Arc::new(Slow {
            writes: AtomicU64::new(0),
            last: Mutex::new(None),
        });
        let store = Arc::new(StateStore::new(
            backend.clone(),
            StateFile::new("lz", world()),
            Expect::Absent,
        ));
        let mut tasks = Vec::new();
        for i in 0..50 {
            let store = store.clone();
            let backend = backend.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .update(|s| {
                        s.resources
                            .insert(Address::Account(format!("a{i}")), root());
                    })
                    .await
                    .unwrap();
                // Durable on return: the last write holds this update's serial or later.
                let written = backend.last.lock().unwrap().unwrap();
                let mine = store.snapshot().resources.len() as u64;
                assert!(written >= 1 && mine >= 1);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let writes = backend.writes.load(Ordering::SeqCst);
        assert!(writes < 50 / 2, "{writes} writes for 50 updates");
        assert_eq!(*backend.last.lock().unwrap(), Some(50));
        assert_eq!(store.writes(), writes);
    }

    #[tokio::test]
    async fn second_lock_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let backend = LocalStateBackend::new(dir.path().join("lz.state.json"));
        let info = LockInfo::new("landfall apply", "test");
        let _held = backend
            .lock(info.clone(), LockMode::Exclusive, Duration::ZERO)
            .await
            .unwrap();
        let err = backend
            .lock(
                LockInfo::new("landfall apply", "test"),
                LockMode::Exclusive,
                Duration::ZERO,
            )
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("locked"), "{msg}");
        assert!(msg.contains(&info.id), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        assert_eq!(backend.holder().await.unwrap(), Some(info.clone()));
        // A live local lock is not Landfall's to break; a wrong id is refused.
        assert!(matches!(
            backend.force_unlock(&info.id).await,
            Err(StateError::LiveLock { .. })
        ));
        assert!(matches!(
            backend.force_unlock("nope").await,
            Err(StateError::NoSuchLock { .. })
        ));
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
        assert!(check_state_identity("x", &s, "lz", &other).is_err());
        assert!(check_state_identity("x", &s, "lz", &world()).is_ok());
    }
}
