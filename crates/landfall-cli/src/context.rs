//! Loading what every command needs: the desired state (with diagnostics on stderr),
//! the state-file path, and the backend.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use landfall_core::model::{BackendKind, DesiredState};
use landfall_core::provider::Provider;
use landfall_core::state::{StateFile, check_state_identity, read_state};
use landfall_core::{LiveState, WorldIdentity};
use landfall_sim::SimBackend;

use crate::cli::{BackendArg, GlobalArgs};
use crate::error::{CliError, CliResult};

pub struct Workspace {
    pub desired: DesiredState,
    pub state_path: PathBuf,
    pub backend: BackendKind,
}

fn color() -> bool {
    console::colors_enabled_stderr()
}

/// Loads and validates the desired state; diagnostics go to stderr.
pub fn load(global: &GlobalArgs) -> CliResult<Workspace> {
    let path = &global.config;
    if !path.exists() {
        return Err(CliError::with_hint(
            format!("no desired state at {}", path.display()),
            "pass -c PATH (a TOML file or a directory of them), e.g. -c examples/ml-platform.toml",
        ));
    }
    let loaded = match landfall_config::load(path) {
        Ok(l) => l,
        Err(diagnostics) => {
            eprint!("{}", diagnostics.render(color()));
            eprintln!(
                "{} {} error(s) in {}",
                console::style("error:").red().bold(),
                diagnostics.error_count(),
                path.display()
            );
            return Err(CliError::Reported);
        }
    };
    if !loaded.warnings.is_empty() {
        eprint!("{}", loaded.warnings.render(color()));
    }
    let desired = loaded.desired;
    let backend = match global.backend {
        Some(BackendArg::Sim) => BackendKind::Sim,
        Some(BackendArg::Aws) => BackendKind::Aws,
        None => desired.landing_zone.backend,
    };
    let state_path = global
        .state
        .clone()
        .or_else(|| desired.landing_zone.state_path.clone())
        .unwrap_or_else(|| {
            Path::new("state").join(format!("{}.state.json", desired.landing_zone.name))
        });
    Ok(Workspace {
        desired,
        state_path,
        backend,
    })
}

/// The sim world lives beside the state file, never in it.
pub fn sim_world_path(ws: &Workspace) -> PathBuf {
    let dir = ws.state_path.parent().unwrap_or(Path::new("."));
    dir.join(format!("{}.sim-world.json", ws.desired.landing_zone.name))
}

/// Opens the sim backend, with `LANDFALL_SIM_FAULTS` applied unless `faults` is false.
pub fn open_sim(ws: &Workspace, faults: bool) -> CliResult<Arc<SimBackend>> {
    let mut settings = ws.desired.landing_zone.sim.clone();
    if !faults {
        settings = Default::default();
    } else if let Ok(spec) = std::env::var(landfall_sim::FAULTS_ENV) {
        settings = landfall_sim::parse_fault_overrides(&settings, &spec).map_err(|e| {
            CliError::with_hint(
                format!("{}: {e}", landfall_sim::FAULTS_ENV),
                "example: LANDFALL_SIM_FAULTS=\"throttle_rate=0.3,fail_at=12,seed=7\"",
            )
        })?;
    }
    let path = sim_world_path(ws);
    let sim =
        SimBackend::open(&path, settings, ws.desired.landing_zone.quotas.clone()).map_err(|e| {
            CliError::with_hint(
                e.to_string(),
                "delete the sim world file to start a fresh simulated organization",
            )
        })?;
    Ok(Arc::new(sim))
}

pub fn open_backend(ws: &Workspace) -> CliResult<Arc<dyn Provider>> {
    match ws.backend {
        BackendKind::Sim => Ok(open_sim(ws, true)?),
        BackendKind::Aws => Err(CliError::with_hint(
            "the aws backend is not available in this build yet",
            "use --backend sim (the embedded simulator) for now",
        )),
    }
}

/// Reads the world identity and the live state, retrying throttling.
pub async fn refresh(provider: &dyn Provider) -> CliResult<(WorldIdentity, LiveState)> {
    let world = landfall_core::apply::with_retries(provider, || provider.identity())
        .await
        .map_err(|e| CliError::new(format!("cannot reach the backend: {e}")))?;
    let live = landfall_core::apply::with_retries(provider, || provider.refresh())
        .await
        .map_err(|e| CliError::new(format!("cannot read the live organization: {e}")))?;
    Ok((world, live))
}

/// Reads the state file and checks it belongs to this landing zone and world.
pub fn read_checked_state(ws: &Workspace, world: &WorldIdentity) -> CliResult<Option<StateFile>> {
    let state = read_state(&ws.state_path)?;
    if let Some(s) = &state {
        check_state_identity(&ws.state_path, s, &ws.desired.landing_zone.name, world)?;
    }
    Ok(state)
}
