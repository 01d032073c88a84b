//! One read of the world for a command: the backend, its identity
//! and live organization, the state file checked against that world, and the member
//! accounts and governance layer either of them mentions. `plan`, `apply`, `drift` and
//! `explain --live` each open one instead of repeating the pipeline.

use std::time::{Duration, Instant};

use landfall_core::live::{LiveState, WorldIdentity};
use landfall_core::state::StateFile;
use landfall_engine::refresh;
use landfall_engine::state_backend::{Expect, StateBackend};
use landfall_engine::state_store::{check_state_identity, load_state};

use crate::context::{Backend, Workspace, backend_error};
use crate::error::{CliError, CliResult};

/// How much of the world a command reads.
#[derive(Clone, Copy)]
pub enum Reads<'a> {
    /// The organization only (`explain --live`): no state, no member accounts.
    Organization,
    /// Everything a plan or a drift check compares, with the state from this backend.
    Everything(&'a dyn StateBackend),
}

pub struct Session {
    pub backend: Backend,
    pub world: WorldIdentity,
    pub live: LiveState,
    /// The state file, checked against `world`; `None` before the first apply (and
    /// with [`Reads::Organization`]).
    pub state: Option<StateFile>,
    /// What a write of the state must find: the revision it was read at (S3), or no
    /// state yet.
    pub state_expect: Expect,
    /// Wall time of the reads.
    pub refresh_time: Duration,
}

impl Session {
    pub async fn open(ws: &Workspace, backend: Backend, reads: Reads<'_>) -> CliResult<Session> {
        let started = Instant::now();
        let provider = backend.provider.clone();
        let world = refresh::identity(provider.as_ref())
            .await
            .map_err(|e| backend_error("cannot reach the backend", e))?;
        let mut live = refresh::organization(provider.as_ref())
            .await
            .map_err(|e| backend_error("cannot read the live organization", e))?;
        let (state, state_expect) = match reads {
            Reads::Organization => (None, Expect::Any),
            Reads::Everything(state_backend) => {
                let (state, revision) = read_checked_state(ws, state_backend, &world).await?;
                refresh::members_and_governance(&provider, &ws.desired, &mut live, state.as_ref())
                    .await
                    .map_err(|e| backend_error(&e.context, e.source))?;
                let expect = Expect::after(revision.as_deref(), state.is_some());
                (state, expect)
            }
        };
        // Every read of this session: the organization, the member accounts and the
        // governance layer (what `plan --json` reports as `refresh_calls`).
        let calls = provider.call_counts();
        if !calls.is_empty() {
            let total: u64 = calls.values().sum();
            let list: Vec<String> = calls.iter().map(|(k, v)| format!("{k}={v}")).collect();
            tracing::info!("refresh made {total} API calls: {}", list.join(" "));
        }
        log_pacing(provider.as_ref(), "refresh");
        Ok(Session {
            backend,
            world,
            live,
            state,
            state_expect,
            refresh_time: started.elapsed(),
        })
    }
}

/// Logs (`-v`) every limiter used so far: its class and scope, how it is paced (and
/// capped), its rate now, the calls it paced, the throttled ones and the time waited.
pub fn log_pacing(provider: &dyn landfall_engine::Provider, after: &str) {
    for limiter in provider.pacer().report() {
        tracing::info!("pacing after {after}: {limiter}");
    }
}

/// Reads the state and checks it belongs to this landing zone and world; with the
/// revision it was read at.
async fn read_checked_state(
    ws: &Workspace,
    state_backend: &dyn StateBackend,
    world: &WorldIdentity,
) -> CliResult<(Option<StateFile>, Option<String>)> {
    let Some((state, revision)) = load_state(state_backend).await.map_err(CliError::from)? else {
        return Ok((None, None));
    };
    check_state_identity(
        &state_backend.location(),
        &state,
        &ws.desired.landing_zone.name,
        world,
    )?;
    Ok((Some(state), revision))
}
