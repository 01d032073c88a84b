//! Where a landing zone's state lives and how it is locked: the [`StateBackend`]
//! interface (conditional reads and writes of the state's bytes, an exclusive lock for
//! writers, a wait for readers) and its local implementation, a file beside the
//! configuration with an advisory lock that dies with its process. The S3
//! implementation lives in `landfall-aws`, the only crate that links the SDK.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::state_store::{StateError, write_atomically};

/// Who holds (or asks for) the lock: written into the lock, shown to whoever finds it
/// held, and matched by `force-unlock ID`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// A fresh id per lock taken.
    pub id: String,
    /// The command, e.g. `landfall apply`.
    pub operation: String,
    pub who: String,
    pub host: String,
    pub pid: u32,
    /// RFC 3339.
    pub created: String,
    /// The Landfall version that took it.
    pub version: String,
    /// The state's lineage, when the state exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineage: Option<String>,
}

impl LockInfo {
    /// A new lock for `operation` by this process.
    pub fn new(operation: &str, version: &str) -> Self {
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            who: std::env::var("USER")
                .or_else(|_| std::env::var("USERNAME"))
                .unwrap_or_else(|_| "unknown".into()),
            host: host_name(),
            pid: std::process::id(),
            created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            version: version.to_string(),
            lineage: None,
        }
    }
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "lock {}: `{}` by {} on {} (pid {}), since {}",
            self.id, self.operation, self.who, self.host, self.pid, self.created
        )
    }
}

/// The state's bytes and the revision they are at (an S3 ETag; `None` for a local
/// file, whose lock alone guards it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateObject {
    pub bytes: Vec<u8>,
    pub revision: Option<String>,
}

/// What a writer must find before it writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// No state yet (the first write of a new state).
    Absent,
    /// The state at this revision (what this run read or last wrote).
    Revision(String),
    /// Whatever is there: a local file, guarded by its lock.
    Any,
}

impl Expect {
    /// What to expect of the state last seen at `revision`.
    pub fn after(revision: Option<&str>, existed: bool) -> Self {
        match (revision, existed) {
            (Some(r), _) => Expect::Revision(r.to_string()),
            (None, false) => Expect::Absent,
            (None, true) => Expect::Any,
        }
    }
}

/// A lock held by this run; give it back with [`StateBackend::unlock`].
#[derive(Debug)]
pub struct HeldLock {
    pub info: LockInfo,
    /// The lock object's revision, for a conditional delete.
    pub revision: Option<String>,
    /// A local advisory lock: held while this value lives, released when dropped.
    _local: Option<LocalLock>,
}

impl HeldLock {
    /// A lock held in a remote store, at `revision`.
    pub fn remote(info: LockInfo, revision: Option<String>) -> Self {
        HeldLock {
            info,
            revision,
            _local: None,
        }
    }
}

/// Whether a command writes the state (and so takes the lock) or only reads it (and
/// waits while a writer holds it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockMode {
    Exclusive,
    Shared,
}

/// Where the state lives. Every method is one conditional operation, so two runs can
/// never both believe they hold the lock, and a run that lost its lock can never
/// overwrite a newer state.
#[async_trait::async_trait]
pub trait StateBackend: Send + Sync {
    /// `state/ml.state.json` or `s3://bucket/key`: shown in messages and recorded in
    /// saved plans, so a plan is applied only against the state it was made from.
    fn location(&self) -> String;

    /// [`Self::location`] as saved plans record it, the same from any working
    /// directory (a local path made absolute).
    fn canonical_location(&self) -> String {
        self.location()
    }

    /// The state, `None` when there is none yet.
    async fn read(&self) -> Result<Option<StateObject>, StateError>;

    /// Writes the state if it is as `expect` says; returns the new revision. A state
    /// that moved on is [`StateError::Conflict`].
    async fn write(&self, bytes: &[u8], expect: &Expect) -> Result<Option<String>, StateError>;

    /// Takes the lock (`Exclusive`), or waits until no writer holds it (`Shared`),
    /// trying for up to `timeout`; then fails naming the holder.
    async fn lock(
        &self,
        info: LockInfo,
        mode: LockMode,
        timeout: Duration,
    ) -> Result<HeldLock, StateError>;

    /// Gives a lock back (only the one this run holds: conditional on its revision).
    async fn unlock(&self, held: HeldLock) -> Result<(), StateError>;

    /// Removes a lock left by a run that died, named by its id; returns it. Any other
    /// id is refused.
    async fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError>;

    /// The lock's holder, if held.
    async fn holder(&self) -> Result<Option<LockInfo>, StateError>;
}

/// The default: a JSON file (written atomically) with an advisory lock file beside it.
pub struct LocalStateBackend {
    path: PathBuf,
}

impl LocalStateBackend {
    pub fn new(path: PathBuf) -> Self {
        LocalStateBackend { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[async_trait::async_trait]
impl StateBackend for LocalStateBackend {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn canonical_location(&self) -> String {
        std::path::absolute(&self.path)
            .unwrap_or_else(|_| self.path.clone())
            .display()
            .to_string()
    }

    async fn read(&self) -> Result<Option<StateObject>, StateError> {
        match fs::read(&self.path) {
            Ok(bytes) => Ok(Some(StateObject {
                bytes,
                revision: None,
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError::Read {
                location: self.location(),
                message: e.to_string(),
            }),
        }
    }

    async fn write(&self, bytes: &[u8], _expect: &Expect) -> Result<Option<String>, StateError> {
        write_atomically(&self.path, bytes).map_err(|e| StateError::Write {
            location: self.location(),
            message: e.to_string(),
        })?;
        Ok(None)
    }

    async fn lock(
        &self,
        info: LockInfo,
        mode: LockMode,
        timeout: Duration,
    ) -> Result<HeldLock, StateError> {
        let local = match mode {
            LockMode::Exclusive => LocalLock::exclusive(&self.path, &info, timeout)?,
            LockMode::Shared => LocalLock::shared(&self.path, timeout)?,
        };
        Ok(HeldLock {
            info,
            revision: None,
            _local: Some(local),
        })
    }

    async fn unlock(&self, held: HeldLock) -> Result<(), StateError> {
        drop(held);
        Ok(())
    }

    async fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError> {
        // An advisory lock dies with its process: one that is held belongs to a live
        // run, and is not Landfall's to break.
        match self.holder().await? {
            Some(holder) if holder.id == id => Err(StateError::LiveLock {
                location: self.location(),
                holder: holder.to_string(),
            }),
            holder => Err(StateError::NoSuchLock {
                location: self.location(),
                id: id.to_string(),
                holder: holder.map(|h| h.to_string()),
            }),
        }
    }

    async fn holder(&self) -> Result<Option<LockInfo>, StateError> {
        let path = lock_path(&self.path);
        let Ok(file) = File::open(&path) else {
            return Ok(None);
        };
        if file.try_lock_shared().is_ok() {
            // Nobody holds it exclusively.
            return Ok(None);
        }
        let mut text = String::new();
        let mut file = file;
        let _ = file.read_to_string(&mut text);
        Ok(serde_json::from_str(&text).ok())
    }
}

pub fn lock_path(state_path: &Path) -> PathBuf {
    let mut name = state_path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    state_path.with_file_name(name)
}

/// An advisory lock on a local state file, released when dropped (or when the process
/// dies, so a crash never leaves a stale lock). A writer holds it exclusively and
/// writes its [`LockInfo`] into the lock file; readers share it, so they never read a
/// state a writer is in the middle of changing.
#[derive(Debug)]
struct LocalLock {
    file: Option<File>,
    exclusive: bool,
}

/// How long to wait between attempts while another run holds the lock.
pub const LOCK_RETRY: Duration = Duration::from_millis(100);

impl LocalLock {
    fn exclusive(
        state_path: &Path,
        info: &LockInfo,
        timeout: Duration,
    ) -> Result<Self, StateError> {
        let mut file = open_lock_file(state_path)?;
        wait_for(state_path, &mut file, timeout, File::try_lock)?;
        let _ = file.set_len(0);
        if let Ok(text) = serde_json::to_vec(info) {
            let _ = file.write_all(&text);
        }
        let _ = file.sync_all();
        Ok(LocalLock {
            file: Some(file),
            exclusive: true,
        })
    }

    /// Without a state file there is nothing to protect, and nothing is created.
    fn shared(state_path: &Path, timeout: Duration) -> Result<Self, StateError> {
        if !state_path.exists() && !lock_path(state_path).exists() {
            return Ok(LocalLock {
                file: None,
                exclusive: false,
            });
        }
        let mut file = open_lock_file(state_path)?;
        wait_for(state_path, &mut file, timeout, File::try_lock_shared)?;
        Ok(LocalLock {
            file: Some(file),
            exclusive: false,
        })
    }
}

impl Drop for LocalLock {
    /// A released lock keeps no holder: the file says nothing about a run that has
    /// finished.
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
    let failed = |e: std::io::Error| StateError::Write {
        location: path.display().to_string(),
        message: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(failed)?;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(failed)
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
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = serde_json::from_str::<LockInfo>(text.trim())
                    .map(|i| i.to_string())
                    .unwrap_or_else(|_| "a reader such as `landfall drift`".into());
                return Err(StateError::Locked {
                    location: state_path.display().to_string(),
                    holder: held_for(holder, timeout),
                });
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(StateError::Write {
                    location: lock_path(state_path).display().to_string(),
                    message: e.to_string(),
                });
            }
        }
    }
}

/// The holder line, saying how long this run waited.
pub fn held_for(holder: String, timeout: Duration) -> String {
    if timeout.is_zero() {
        holder
    } else {
        format!(
            "{holder}, still held after {}",
            humantime::format_duration(timeout)
        )
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
