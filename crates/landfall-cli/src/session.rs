//! One read of the world for a command: the backend, its identity
//! and live organization, the state file checked against that world, and the member
//! accounts and governance layer either of them mentions. `plan`, `apply`, `drift` and
//! `explain --live` each open one instead of repeating the pipeline.

use std::time::{Duration, Instant};

use landfall_core::live::{LiveState, WorldIdentity};
use landfall_core::state::StateFile;
use landfall_engine::refresh;
use landfall_engine::state_store::{check_state_identity, read_state};

use crate::context::{Backend, Workspace, backend_error};
use crate::error::{CliError, CliResult};

/// How much of the world a command reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    /// The organization only (`explain --live`): no state file, no member accounts.
    Organization,
    /// Everything a plan or a drift check compares.
    Everything,
}

pub struct Session {
    pub backend: Backend,
    pub world: WorldIdentity,
    pub live: LiveState,
    /// The state file, checked against `world`; `None` before the first apply (and
    /// with [`Reads::Organization`]).
    pub state: Option<StateFile>,
    /// Wall time of the reads.
    pub refresh_time: Duration,
}

impl Session {
    pub async fn open(ws: &Workspace, backend: Backend, reads: Reads) -> CliResult<Session> {
        let started = Instant::now();
        let provider = backend.provider.clone();
        let world = refresh::identity(provider.as_ref())
            .await
            .map_err(|e| backend_error("cannot reach the backend", e))?;
        let mut live = refresh::organization(provider.as_ref())
            .await
            .map_err(|e| backend_error("cannot read the live organization", e))?;
        let calls = provider.call_counts();
        if !calls.is_empty() {
            let total: u64 = calls.values().sum();
            let list: Vec<String> = calls.iter().map(|(k, v)| format!("{k}={v}")).collect();
            tracing::info!("refresh made {total} API calls: {}", list.join(" "));
        }
        let state = match reads {
            Reads::Organization => None,
            Reads::Everything => {
                let state = read_checked_state(ws, &world)?;
                refresh::members_and_governance(&provider, &ws.desired, &mut live, state.as_ref())
                    .await
                    .map_err(|e| backend_error(&e.context, e.source))?;
                state
            }
        };
        Ok(Session {
            backend,
            world,
            live,
            state,
            refresh_time: started.elapsed(),
        })
    }
}

/// Reads the state file and checks it belongs to this landing zone and world.
fn read_checked_state(ws: &Workspace, world: &WorldIdentity) -> CliResult<Option<StateFile>> {
    let state = read_state(&ws.state_path).map_err(CliError::from)?;
    if let Some(s) = &state {
        check_state_identity(&ws.state_path, s, &ws.desired.landing_zone.name, world)?;
    }
    Ok(state)
}
