//! `landfall drift`: read-only. It never takes the state lock's write path, never
//! writes the state, and calls only the backend's read operations.

use landfall_core::drift;
use landfall_engine::state_backend::{LockMode, StateBackend};

use crate::cli::{DriftArgs, GlobalArgs};
use crate::context;
use crate::error::{CliError, CliResult};
use crate::render;
use crate::session::{Reads, Session};
use crate::stdout;

use super::{CHANGES, SUCCESS};

pub async fn drift(global: &GlobalArgs, args: &DriftArgs) -> CliResult<u8> {
    let ws = context::load(global)?;
    let state_backend = context::open_state(&ws).await?;
    // A wrong path is reported before anything is read live.
    if state_backend.read().await?.is_none() {
        return Err(no_state(&state_backend.location()));
    }
    // Read the state and the world only between applies: an apply's in-flight changes
    // are not drift.
    let lock = state_backend
        .lock(
            context::lock_info("landfall drift"),
            LockMode::Shared,
            args.lock_timeout,
        )
        .await?;
    let result = report(global, args, &ws, state_backend.as_ref()).await;
    state_backend.unlock(lock).await?;
    result
}

async fn report(
    global: &GlobalArgs,
    args: &DriftArgs,
    ws: &context::Workspace,
    state_backend: &dyn StateBackend,
) -> CliResult<u8> {
    let backend = context::open_backend(ws, global).await?;
    let Session {
        world, live, state, ..
    } = Session::open(ws, backend, Reads::Everything(state_backend)).await?;
    // Without a state there is nothing Landfall manages to compare: every declaration
    // would be "pending", which a drift job would page on. It is a wrong path or a
    // landing zone never applied.
    let Some(state) = state else {
        return Err(no_state(&state_backend.location()));
    };
    let mut report = drift::detect(&ws.desired, &live, Some(&state), &world);
    let patterns: Vec<String> = ws
        .desired
        .drift_ignore
        .iter()
        .chain(&args.ignore)
        .cloned()
        .collect();
    let ignored = report.ignore(&patterns).map_err(|e| {
        CliError::with_hint(
            e,
            "patterns are globs on addresses, e.g. `account.sandbox-*`",
        )
    })?;
    if ignored > 0 {
        eprintln!("{ignored} finding(s) ignored by ignore rules.");
    }
    if report.has_drift() {
        let flags = global.rerun_flags();
        report.next_commands = vec![
            drift::NextCommand {
                command: format!("landfall apply{flags}"),
                does: "restore the desired state".into(),
            },
            drift::NextCommand {
                command: format!("landfall apply --refresh-only{flags}"),
                does: "accept the live values into the state".into(),
            },
        ];
    }
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&report).map_err(CliError::new)?;
        s.push('\n');
        s
    } else if args.markdown {
        render::drift_markdown(&report)
    } else {
        render::drift_human(&report, console::colors_enabled())
    };
    stdout::print(&text)?;
    Ok(if report.has_drift() { CHANGES } else { SUCCESS })
}

fn no_state(location: &str) -> CliError {
    CliError::with_hint(
        format!("no state at {location}"),
        "drift compares the live organization with the state an apply wrote; run `landfall apply` first, pass -c with the landing zone the state belongs to, or pass --state PATH|s3://BUCKET/KEY",
    )
}
