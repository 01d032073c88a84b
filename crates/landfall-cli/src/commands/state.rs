//! `landfall state …` and `landfall force-unlock`: reading the state wherever it lives,
//! replacing it (lineage- and serial-checked, under the lock), moving it between a
//! file and S3, making a proper S3 bucket for it, and removing a dead run's lock.

use std::fmt::Write;

use landfall_aws::state_s3::{S3StateBackend, bootstrap_bucket};
use landfall_core::Address;
use landfall_core::model::S3State;
use landfall_core::state::StateFile;
use landfall_engine::state_backend::{Expect, LockMode, StateBackend};
use landfall_engine::state_store::{load_state, parse_state};

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
                return Err(CliError::with_hint(
                    format!("{parsed} is not in the state"),
                    "list addresses with `landfall state list`",
                ));
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
        StateCommand::Bootstrap { .. } => {}
    }
    Ok(SUCCESS)
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
