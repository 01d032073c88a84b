//! `landfall state …` and `landfall force-unlock`: reading the state wherever it lives,
//! replacing it (lineage- and serial-checked, under the lock), removing and
//! re-addressing records in it (`rm`, `mv`: under the lock, after a backup), moving it
//! between a file and S3, making a proper S3 bucket for it, and removing a dead run's
//! lock.

use std::fmt::Write;

use landfall_aws::state_s3::{S3StateBackend, bootstrap_bucket};
use landfall_core::Address;
use landfall_core::model::S3State;
use landfall_core::state::StateFile;
use landfall_core::state_edit::{self, EditError};
use landfall_engine::state_backend::{Expect, LockMode, StateBackend};
use landfall_engine::state_store::{load_state, parse_state, write_backup};

use crate::cli::{GlobalArgs, StateCommand};
use crate::context::{self, StateLocation, Workspace};
use crate::error::{CliError, CliResult};
use crate::stdout;

use super::SUCCESS;

pub async fn state(global: &GlobalArgs, cmd: &StateCommand) -> CliResult<u8> {
    if let StateCommand::Bootstrap { bucket, kms_key_id } = cmd {
        return bootstrap(global, bucket, kms_key_id.as_deref()).await;
    }
    let ws = context::load(global)?;
    let backend = context::open_state(&ws).await?;
    match cmd {
        StateCommand::List => {
            let state = existing(backend.as_ref()).await?;
            let mut text = String::new();
            for (address, rec) in &state.resources {
                let origin = if rec.created { "created" } else { "adopted" };
                let _ = writeln!(text, "{address}\t{}\t{origin}", rec.id);
            }
            stdout::print(&text)?;
        }
        StateCommand::Show { address } => {
            let state = existing(backend.as_ref()).await?;
            let parsed: Address = address.parse().map_err(|e: String| {
                CliError::with_hint(e, "list addresses with `landfall state list`")
            })?;
            let Some(rec) = state.resources.get(&parsed) else {
                return Err(not_in_state(&parsed, &state));
            };
            let shown = serde_json::json!({ "address": parsed, "id": rec.id, "created": rec.created, "attributes": rec.attributes });
            stdout::println(&serde_json::to_string_pretty(&shown).map_err(CliError::new)?)?;
        }
        StateCommand::Pull {
            version_id,
            versions,
        } => pull(&ws, backend.as_ref(), version_id.as_deref(), *versions).await?,
        StateCommand::Push { file, lock_timeout } => {
            let text = std::fs::read(file).map_err(|e| {
                CliError::with_hint(
                    format!("cannot read {}: {e}", file.display()),
                    "pass a state printed by `landfall state pull`",
                )
            })?;
            let pushed = parse_state(&file.display().to_string(), &text)?;
            let lock = backend
                .lock(
                    context::lock_info("landfall state push"),
                    LockMode::Exclusive,
                    *lock_timeout,
                )
                .await?;
            let result = push(&ws, backend.as_ref(), pushed).await;
            backend.unlock(lock).await?;
            result?;
        }
        StateCommand::Migrate { to, lock_timeout } => {
            let target = StateLocation::parse(to, ws.desired.landing_zone.s3_state.as_ref())?;
            let destination =
                context::open_state_at(&target, Some(&ws.desired.landing_zone.home_region)).await?;
            let lock = backend
                .lock(
                    context::lock_info("landfall state migrate"),
                    LockMode::Exclusive,
                    *lock_timeout,
                )
                .await?;
            let result = migrate(backend.as_ref(), destination.as_ref(), &target).await;
            backend.unlock(lock).await?;
            result?;
        }
        StateCommand::Rm {
            addresses,
            recursive,
            dry_run,
            lock_timeout,
        } => {
            let (parsed, bad) = parse_addresses(addresses);
            let undeclared: Vec<&Address> = {
                let declared = ws.desired.addresses();
                parsed.iter().filter(|a| !declared.contains(a)).collect()
            };
            let edit = |state: &StateFile| {
                let edited = state_edit::remove(state, &parsed, *recursive);
                let (next, removed) = checked(bad, edited, state)?;
                let lines = removed
                    .iter()
                    .map(|r| {
                        let id = r.id.as_deref().unwrap_or("a pending creation");
                        (
                            format!("remove {} ({id})", r.address),
                            format!("removed {} ({id})", r.address),
                        )
                    })
                    .collect();
                Ok(Edited {
                    state: next,
                    lines,
                    done: format!(
                        "Removed {} record(s) from {}",
                        removed.len(),
                        backend.location()
                    ),
                    next: "The next plan adopts what is still declared; the rest is no longer managed.",
                })
            };
            let mode = Mode::of(*dry_run, *lock_timeout);
            edit_state(&ws, backend.as_ref(), "landfall state rm", mode, edit).await?;
            if ws.desired.landing_zone.prune_unmanaged && !undeclared.is_empty() {
                let names: Vec<String> = undeclared.iter().map(|a| a.to_string()).collect();
                eprintln!(
                    "{} prune_unmanaged is on and {} not declared: unmanaged inside the managed scope, what prune covers among them (OUs, SCP attachments, VPC endpoints) is removed by the next apply. Declare them to have them adopted instead, or set prune_unmanaged = false.",
                    console::style("warning:").yellow().bold(),
                    names.join(", ") + if names.len() == 1 { " is" } else { " are" }
                );
            }
        }
        StateCommand::Mv {
            from,
            to,
            dry_run,
            lock_timeout,
        } => {
            let (parsed, bad) = parse_addresses(&[from.clone(), to.clone()]);
            if let Some(e) = report(bad).err() {
                return Err(e);
            }
            let [from, to] = parsed.as_slice() else {
                return Err(CliError::new("state mv takes two addresses"));
            };
            let edit = |state: &StateFile| {
                let edited = state_edit::relocate(state, from, to);
                let (next, done) = checked(Vec::new(), edited, state)?;
                let mut lines: Vec<(String, String)> = done
                    .moved
                    .iter()
                    .map(|(f, t)| (format!("move {f} -> {t}"), format!("moved {f} -> {t}")))
                    .collect();
                for address in &done.rewritten {
                    let how = format!("{from} -> {to} in its attributes");
                    lines.push((
                        format!("update {address} ({how})"),
                        format!("updated {address} ({how})"),
                    ));
                }
                Ok(Edited {
                    state: next,
                    lines,
                    done: format!(
                        "Moved {} record(s) in {}",
                        done.moved.len(),
                        backend.location()
                    ),
                    next: "The next plan sees them at their new addresses.",
                })
            };
            let mode = Mode::of(*dry_run, *lock_timeout);
            edit_state(&ws, backend.as_ref(), "landfall state mv", mode, edit).await?;
            // As `[[moved]]` requires (LF216), but a warning: the file may be edited
            // after the state.
            let declared = ws.desired.addresses();
            let warning = console::style("warning:").yellow().bold();
            if !declared.contains(to) {
                eprintln!(
                    "{warning} {to} is not declared: until the configuration declares it, the next plan removes it (deleting what Landfall created). Rename the declaration in the file before planning."
                );
            }
            if declared.contains(from) {
                eprintln!(
                    "{warning} {from} is still declared: the next plan adopts (or creates) it again. Rename the declaration in the file before planning."
                );
            }
        }
        StateCommand::Bootstrap { .. } => {}
    }
    Ok(SUCCESS)
}

/// The addresses that parse, and an error (with its hint) for each one that does not:
/// reported together with what the state says of the others.
fn parse_addresses(texts: &[String]) -> (Vec<Address>, Vec<CliError>) {
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for text in texts {
        match text.parse::<Address>() {
            Ok(a) => parsed.push(a),
            Err(e) => errors.push(CliError::with_hint(
                e,
                "list addresses with `landfall state list`",
            )),
        }
    }
    (parsed, errors)
}

/// Prints every error but the last, and returns that one (none: `Ok`).
fn report(mut errors: Vec<CliError>) -> CliResult<()> {
    let Some(last) = errors.pop() else {
        return Ok(());
    };
    for e in &errors {
        e.print();
    }
    Err(last)
}

/// `ADDRESS is not in the state`, with the closest recorded address of its kind.
fn not_in_state(address: &Address, state: &StateFile) -> CliError {
    let text = address.to_string();
    // Compared without the kind (`account.`), which every candidate shares.
    let name = |t: &str| t.split_once('.').map_or(t, |(_, n)| n).to_string();
    let candidates: Vec<String> = state
        .resources
        .keys()
        .chain(&state.pending_creates)
        .filter(|a| a.kind() == address.kind())
        .map(|a| a.to_string())
        .collect();
    let names: Vec<String> = candidates.iter().map(|c| name(c)).collect();
    let near = landfall_config::suggest::closest(&name(&text), names.iter().map(String::as_str))
        .and_then(|n| candidates.iter().find(|c| name(c) == n))
        .map(|c| format!("did you mean `{c}`? "))
        .unwrap_or_default();
    CliError::with_hint(
        format!("{address} is not in the state"),
        format!("{near}list addresses with `landfall state list`"),
    )
}

/// The edit, or every reason it is refused (addresses that did not parse first), each
/// with its hint.
fn checked<T>(
    mut bad: Vec<CliError>,
    edited: Result<T, Vec<EditError>>,
    state: &StateFile,
) -> CliResult<T> {
    let errors = match edited {
        Ok(done) if bad.is_empty() => return Ok(done),
        Ok(_) => Vec::new(),
        Err(errors) => errors,
    };
    bad.extend(errors.into_iter().map(|e| refusal(&e, state)));
    report(bad)?;
    Err(CliError::new("the edit was refused"))
}

/// One reason an edit is refused, with its hint.
fn refusal(e: &EditError, state: &StateFile) -> CliError {
    let rm_first = |address: &Address| {
        format!("if the record at {address} is stale, `landfall state rm {address}` first")
    };
    match e {
        EditError::NotInState { address } => not_in_state(address, state),
        EditError::Dependents {
            address,
            dependents,
        } => CliError::with_hint(
            e,
            format!(
                "name them too, or pass --recursive to remove {address} with the {} record(s) naming it",
                dependents.len()
            ),
        ),
        EditError::KindMismatch { .. } | EditError::SameAddress(_) => CliError::with_hint(
            e,
            "a record moves only to another address of its kind; to manage another resource instead, `landfall state rm` this one and let the next plan adopt that one",
        ),
        EditError::Occupied { address } => CliError::with_hint(e, rm_first(address)),
        EditError::Collision { to, .. } => CliError::with_hint(e, rm_first(to)),
        EditError::AcrossParents { .. } => CliError::with_hint(
            e,
            "declare the OU at its new path with a [[moved]] block instead: the plan then replaces it (a new OU, its accounts moved, the old one deleted)",
        ),
        EditError::PendingOnly { .. } => CliError::with_hint(
            e,
            "run `landfall apply` to record it first, or `landfall state rm` it",
        ),
    }
}

/// A state edit and what it did: lines `(dry run, done)` for stdout, a summary
/// ("Removed 2 record(s) from LOCATION") and what the next plan makes of it.
struct Edited {
    state: StateFile,
    lines: Vec<(String, String)>,
    done: String,
    next: &'static str,
}

/// Whether an edit writes (under the lock, waiting this long for it) or only says
/// what it would do.
#[derive(Clone, Copy)]
enum Mode {
    DryRun,
    Write(std::time::Duration),
}

impl Mode {
    fn of(dry_run: bool, lock_timeout: std::time::Duration) -> Self {
        if dry_run {
            Mode::DryRun
        } else {
            Mode::Write(lock_timeout)
        }
    }
}

/// Reads the state, applies `edit`, and — unless a dry run — writes the result at
/// the next serial, under the exclusive lock, conditional on the revision read, after
/// keeping the previous state (a backup file beside a local state; the previous
/// object version, which versioning keeps, for S3).
async fn edit_state(
    ws: &Workspace,
    backend: &dyn StateBackend,
    operation: &str,
    mode: Mode,
    edit: impl FnOnce(&StateFile) -> CliResult<Edited>,
) -> CliResult<()> {
    let Mode::Write(lock_timeout) = mode else {
        // Read only: a state an apply is writing is read whole (an atomic rename, or
        // one S3 object), so no lock is taken.
        let (state, _) = read_for_edit(ws, backend).await?;
        let edited = edit(&state)?;
        let mut text = String::new();
        for (would, _) in &edited.lines {
            let _ = writeln!(text, "would {would}");
        }
        let _ = writeln!(text, "Dry run: nothing written to {}.", backend.location());
        return stdout::print(&text);
    };
    let lock = backend
        .lock(
            context::lock_info(operation),
            LockMode::Exclusive,
            lock_timeout,
        )
        .await?;
    let result = write_edit(ws, backend, edit).await;
    backend.unlock(lock).await?;
    result
}

async fn read_for_edit(
    ws: &Workspace,
    backend: &dyn StateBackend,
) -> CliResult<(StateFile, landfall_engine::state_backend::StateObject)> {
    let Some(object) = backend.read().await? else {
        return Err(CliError::with_hint(
            format!("no state at {}", backend.location()),
            "nothing is managed yet; run `landfall apply` first (or pass --state)",
        ));
    };
    let state = parse_state(&backend.location(), &object.bytes)?;
    if state.landing_zone != ws.desired.landing_zone.name {
        return Err(CliError::with_hint(
            format!(
                "the state at {} is for landing zone `{}`, not `{}`",
                backend.location(),
                state.landing_zone,
                ws.desired.landing_zone.name
            ),
            "pass the configuration of that landing zone (-c), or the state of this one (--state)",
        ));
    }
    Ok((state, object))
}

async fn write_edit(
    ws: &Workspace,
    backend: &dyn StateBackend,
    edit: impl FnOnce(&StateFile) -> CliResult<Edited>,
) -> CliResult<()> {
    let (state, object) = read_for_edit(ws, backend).await?;
    let edited = edit(&state)?;
    let kept = match &ws.state {
        StateLocation::Local(path) => {
            let backup = write_backup(path, &object.bytes).map_err(|e| {
                CliError::with_hint(
                    format!("cannot back up the state beside {}: {e}", path.display()),
                    "nothing was changed; make its directory writable",
                )
            })?;
            format!("The previous state is saved as {}", backup.display())
        }
        StateLocation::S3(_) => {
            let version = match object.revision.as_deref() {
                Some(revision) => s3_backend(ws).await?.version_at(revision).await?,
                None => None,
            };
            match version {
                Some(v) => format!(
                    "The previous state is version {v} of {} (`landfall state pull --version-id {v}`)",
                    backend.location()
                ),
                None => format!(
                    "The previous state is kept by the versioning of {}",
                    backend.location()
                ),
            }
        }
    };
    let mut next = edited.state;
    next.serial = state.serial + 1;
    let bytes = serde_json::to_vec_pretty(&next).map_err(CliError::new)?;
    backend
        .write(&bytes, &Expect::after(object.revision.as_deref(), true))
        .await?;
    let mut text = String::new();
    for (_, done) in &edited.lines {
        let _ = writeln!(text, "{done}");
    }
    let _ = writeln!(
        text,
        "{} (serial {}); nothing live was changed. {kept}. {}",
        edited.done, next.serial, edited.next
    );
    stdout::print(&text)
}

async fn existing(backend: &dyn StateBackend) -> CliResult<StateFile> {
    match load_state(backend).await? {
        Some((state, _)) => Ok(state),
        None => Err(CliError::with_hint(
            format!("no state at {}", backend.location()),
            "nothing is managed yet; run `landfall apply` first (or pass --state)",
        )),
    }
}

async fn s3_backend(ws: &Workspace) -> CliResult<S3StateBackend> {
    match &ws.state {
        StateLocation::S3(s3) => {
            Ok(S3StateBackend::connect(s3, Some(&ws.desired.landing_zone.home_region)).await)
        }
        StateLocation::Local(path) => Err(CliError::with_hint(
            format!(
                "the state at {} is a local file: it has no versions",
                path.display()
            ),
            "versions are S3's (with bucket versioning); keep local state in version control",
        )),
    }
}

async fn pull(
    ws: &Workspace,
    backend: &dyn StateBackend,
    version_id: Option<&str>,
    versions: bool,
) -> CliResult<()> {
    if versions {
        let s3 = s3_backend(ws).await?;
        let mut text = String::new();
        for v in s3.versions().await? {
            let latest = if v.latest { "\tlatest" } else { "" };
            let _ = writeln!(
                text,
                "{}\t{}\t{} bytes{latest}",
                v.version_id, v.last_modified, v.size
            );
        }
        return stdout::print(&text);
    }
    let bytes = match version_id {
        Some(v) => s3_backend(ws).await?.read_version(v).await?,
        None => match backend.read().await? {
            Some(object) => object.bytes,
            None => {
                return Err(CliError::with_hint(
                    format!("no state at {}", backend.location()),
                    "nothing is managed yet; run `landfall apply` first (or pass --state)",
                ));
            }
        },
    };
    // Checked before printing: a pulled state is meant to be pushed back.
    let state = parse_state(&backend.location(), &bytes)?;
    let mut text = serde_json::to_string_pretty(&state).map_err(CliError::new)?;
    text.push('\n');
    stdout::print(&text)
}

/// Replaces the state with `pushed`: same landing zone, world and lineage, and not
/// older than the state it replaces. It is written at the next serial, so plans made
/// against the replaced state are stale.
async fn push(ws: &Workspace, backend: &dyn StateBackend, pushed: StateFile) -> CliResult<()> {
    let current = load_state(backend).await?;
    if pushed.landing_zone != ws.desired.landing_zone.name {
        return Err(CliError::with_hint(
            format!(
                "the pushed state is for landing zone `{}`, not `{}`",
                pushed.landing_zone, ws.desired.landing_zone.name
            ),
            "push a state of this landing zone",
        ));
    }
    let (expect, serial) = match &current {
        None => (Expect::Absent, pushed.serial),
        Some((state, revision)) => {
            if state.lineage != pushed.lineage || state.world != pushed.world {
                return Err(CliError::with_hint(
                    format!(
                        "the pushed state belongs to another state (lineage {}, {}) than the one at {} (lineage {}, {})",
                        pushed.lineage,
                        pushed.world,
                        backend.location(),
                        state.lineage,
                        state.world
                    ),
                    "push only a state pulled from this one; to start over, migrate to a new location",
                ));
            }
            if pushed.serial < state.serial {
                return Err(CliError::with_hint(
                    format!(
                        "the pushed state is older than the one at {}: serial {} < {}",
                        backend.location(),
                        pushed.serial,
                        state.serial
                    ),
                    "pull the current state and edit that; an older version would forget changes applied since",
                ));
            }
            (
                Expect::after(revision.as_deref(), true),
                state.serial.max(pushed.serial) + 1,
            )
        }
    };
    let mut next = pushed;
    next.serial = serial;
    let bytes = serde_json::to_vec_pretty(&next).map_err(CliError::new)?;
    backend.write(&bytes, &expect).await?;
    stdout::println(&format!(
        "Pushed the state to {} (serial {serial}).",
        backend.location()
    ))
}

async fn migrate(
    source: &dyn StateBackend,
    destination: &dyn StateBackend,
    target: &StateLocation,
) -> CliResult<()> {
    if source.canonical_location() == destination.canonical_location() {
        return Err(CliError::new(format!(
            "the state is at {} already",
            source.location()
        )));
    }
    let Some((state, _)) = load_state(source).await? else {
        return Err(CliError::with_hint(
            format!("no state at {} to migrate", source.location()),
            "nothing is managed yet; set [state] to the new location and apply",
        ));
    };
    if destination.read().await?.is_some() {
        return Err(CliError::with_hint(
            format!("there is a state at {} already", destination.location()),
            "migrate to an empty location; Landfall never overwrites a state there",
        ));
    }
    let bytes = serde_json::to_vec_pretty(&state).map_err(CliError::new)?;
    destination.write(&bytes, &Expect::Absent).await?;
    let set = match target {
        StateLocation::Local(path) => format!("[state] path = \"{}\"", path.display()),
        StateLocation::S3(s3) => format!(
            "[state] backend = \"s3\", bucket = \"{}\", key = \"{}\"",
            s3.bucket, s3.key
        ),
    };
    stdout::println(&format!(
        "Copied the state (serial {}) from {} to {}. Set {set} (or pass --state {}) so every run uses it; the old copy at {} is left as it was.",
        state.serial,
        source.location(),
        destination.location(),
        destination.location(),
        source.location()
    ))
}

async fn bootstrap(global: &GlobalArgs, bucket: &str, kms_key_id: Option<&str>) -> CliResult<u8> {
    let s3 = S3State {
        bucket: bucket.to_string(),
        key: String::new(),
        region: global.region.clone(),
        kms_key_id: None,
        profile: global.profile.clone(),
        role_arn: None,
    };
    let backend = S3StateBackend::connect(&s3, None).await;
    let region = global
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .unwrap_or_else(|| "us-east-1".into());
    let made = bootstrap_bucket(backend.client(), bucket, &region, kms_key_id).await?;
    let mut text = String::new();
    for step in &made.steps {
        let _ = writeln!(text, "  {step}");
    }
    let _ = writeln!(
        text,
        "State bucket s3://{} is ready. Use it with:\n\n[state]\nbackend = \"s3\"\nbucket = \"{}\"\nkey = \"LANDING_ZONE.state.json\"\nregion = \"{}\"",
        made.bucket, made.bucket, made.region
    );
    stdout::print(&text)?;
    Ok(SUCCESS)
}

pub async fn force_unlock(global: &GlobalArgs, lock_id: &str) -> CliResult<u8> {
    let ws = context::load(global)?;
    let backend = context::open_state(&ws).await?;
    let removed = backend.force_unlock(lock_id).await?;
    stdout::println(&format!(
        "Removed {removed} from {}. If that run is still going, its next state write is refused.",
        backend.location()
    ))?;
    Ok(SUCCESS)
}
