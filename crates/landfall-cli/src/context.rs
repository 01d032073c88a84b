//! Loading what every command needs: the desired state (with diagnostics on stderr),
//! the state-file path, and the backend.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use landfall_aws::{AwsBackend, AwsOptions};
use landfall_core::model::{BackendKind, DesiredState};
use landfall_core::state::StateFile;
use landfall_core::{LiveState, WorldIdentity};
use landfall_engine::provider::Provider;
use landfall_engine::state_store::{check_state_identity, read_state};
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
    let lz = &ws.desired.landing_zone;
    let mut sim = SimBackend::open(&path, settings, lz.quotas.clone())
        .map_err(|e| {
            CliError::with_hint(
                e.to_string(),
                "delete the sim world file to start a fresh simulated organization",
            )
        })?
        .with_home_region(&lz.home_region);
    if faults {
        let governance = landfall_sim::governance_faults_from_env().map_err(|e| {
            CliError::with_hint(
                format!("{}: {e}", landfall_sim::FAULTS_ENV),
                "example: LANDFALL_SIM_FAULTS=\"fail_control=AWS-GR_RESTRICT_ROOT_USER\"",
            )
        })?;
        sim = sim.with_governance_faults(governance);
    }
    if let Some(ct) = &lz.control_tower {
        sim = sim.with_control_operations_in_flight(ct.control_operations_in_flight);
    }
    Ok(Arc::new(sim))
}

/// The backend a command talks to; `aws` is kept concretely for organization creation.
pub struct Backend {
    pub provider: Arc<dyn Provider>,
    pub aws: Option<Arc<AwsBackend>>,
}

pub async fn open_backend(ws: &Workspace, global: &GlobalArgs) -> CliResult<Backend> {
    match ws.backend {
        BackendKind::Sim => Ok(Backend {
            provider: open_sim(ws, true)?,
            aws: None,
        }),
        BackendKind::Aws => {
            let aws = Arc::new(
                AwsBackend::connect(&aws_options(
                    global,
                    &ws.desired.landing_zone.access_role,
                    Some(&ws.desired.landing_zone.home_region),
                )?)
                .await
                .map_err(|e| backend_error("cannot connect to AWS", e))?,
            );
            Ok(Backend {
                provider: aws.clone(),
                aws: Some(aws),
            })
        }
    }
}

/// The environment variable that overrides the AWS call rates, e.g.
/// `reads=50,writes=20,member_writes=10`.
pub const AWS_RATE_ENV: &str = "LANDFALL_AWS_RATE";

/// `home_region`: where Control Tower and Service Catalog are called (the landing
/// zone's home region; the SDK region otherwise).
fn aws_options(
    global: &GlobalArgs,
    access_role: &str,
    home_region: Option<&str>,
) -> CliResult<AwsOptions> {
    let mut options = AwsOptions {
        profile: global.profile.clone(),
        region: global.region.clone(),
        access_role: access_role.to_string(),
        home_region: home_region.map(str::to_string),
        ..AwsOptions::default()
    };
    if let Ok(spec) = std::env::var(AWS_RATE_ENV) {
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = || {
                CliError::with_hint(
                    format!(
                        "{AWS_RATE_ENV}: `{part}` is not `reads=N`, `writes=N` or `member_writes=N`"
                    ),
                    format!("example: {AWS_RATE_ENV}=\"reads=10,writes=5,member_writes=5\""),
                )
            };
            let (key, value) = part.split_once('=').ok_or_else(bad)?;
            let n: u32 = value.trim().parse().map_err(|_| bad())?;
            match key.trim() {
                "reads" => options.reads_per_second = n.max(1),
                "writes" => options.writes_per_second = n.max(1),
                "member_writes" => options.member_writes_per_second = n.max(1),
                _ => return Err(bad()),
            }
        }
    }
    Ok(options)
}

/// What to do when the AWS account has no organization yet.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum MissingOrganization {
    /// plan, drift: report it.
    Report,
    /// apply: offer to create it (created at once with --auto-approve).
    Offer { auto_approve: bool },
}

const NO_ORG: &str = "AWSOrganizationsNotInUseException";

fn backend_error(context: &str, e: landfall_engine::ProviderError) -> CliError {
    let hint = match &e.kind {
        landfall_engine::ErrorKind::AccessDenied => Some(format!(
            "grant organizations:{} to the caller (or use the management account's credentials)",
            e.api
        )),
        landfall_engine::ErrorKind::Other(code) if code == NO_ORG => {
            Some("`landfall apply` offers to create the organization (feature set ALL)".to_string())
        }
        landfall_engine::ErrorKind::ServiceUnavailable => {
            Some("check the network, --region and AWS_ENDPOINT_URL".to_string())
        }
        _ => None,
    };
    match hint {
        Some(h) => CliError::with_hint(format!("{context}: {e}"), h),
        None => CliError::new(format!("{context}: {e}")),
    }
}

/// Reads the world identity and the live state, retrying throttling.
pub async fn refresh(
    backend: &Backend,
    global: &GlobalArgs,
    missing: MissingOrganization,
    access_role: &str,
) -> CliResult<(WorldIdentity, LiveState)> {
    let provider = backend.provider.as_ref();
    let mut identity = landfall_engine::apply::with_retries(provider, || provider.identity()).await;
    if let (Err(e), Some(aws), MissingOrganization::Offer { auto_approve }) =
        (&identity, &backend.aws, missing)
        && e.kind == landfall_engine::ErrorKind::Other(NO_ORG.into())
    {
        eprintln!("This AWS account has no organization yet.");
        if !auto_approve
            && !crate::commands::plan::confirm_with("Create one with all features enabled?")?
        {
            return Err(CliError::new("no organization; nothing was changed"));
        }
        aws.create_organization()
            .await
            .map_err(|e| backend_error("cannot create the organization", e))?;
        eprintln!("Created the organization (feature set ALL, SCPs enabled).");
        identity = match AwsBackend::connect(&aws_options(global, access_role, None)?).await {
            Ok(fresh) => fresh.identity().await,
            Err(e) => Err(e),
        };
    }
    let world = identity.map_err(|e| backend_error("cannot reach the backend", e))?;
    let live = landfall_engine::apply::with_retries(provider, || provider.refresh())
        .await
        .map_err(|e| backend_error("cannot read the live organization", e))?;
    let calls = provider.call_counts();
    if !calls.is_empty() {
        let total: u64 = calls.values().sum();
        let list: Vec<String> = calls.iter().map(|(k, v)| format!("{k}={v}")).collect();
        tracing::info!("refresh made {total} API calls: {}", list.join(" "));
    }
    Ok((world, live))
}

/// Reads the member accounts' networks and keys that the desired state or the state
/// file mention, concurrently, into `live.members` — and the governance layer (Control
/// Tower controls, Account Factory accounts, Service Catalog portfolios) into
/// `live.governance` when anything declared or recorded needs it.
pub async fn refresh_members(
    provider: &Arc<dyn Provider>,
    desired: &landfall_core::DesiredState,
    live: &mut LiveState,
    state: Option<&StateFile>,
) -> CliResult<()> {
    let scopes = landfall_core::member::members_to_read(desired, live, state);
    let mut reads = tokio::task::JoinSet::new();
    for (account_id, region) in scopes {
        let provider = provider.clone();
        reads.spawn(async move {
            let scope = landfall_engine::provider::MemberScope { account_id, region };
            let result = landfall_engine::apply::with_retries(provider.as_ref(), || {
                provider.refresh_member(&scope)
            })
            .await;
            (scope, result)
        });
    }
    while let Some(joined) = reads.join_next().await {
        let (scope, result) = joined
            .map_err(|e| CliError::new(format!("a member read stopped unexpectedly: {e}")))?;
        let member =
            result.map_err(|e| backend_error(&format!("cannot read account {scope}"), e))?;
        live.members.insert(
            landfall_core::live::member_key(&scope.account_id, &scope.region),
            member,
        );
    }
    if landfall_core::governance::needs_governance(desired, state) {
        let scope = landfall_core::governance::governance_scope(desired, state, live);
        live.governance = landfall_engine::apply::with_retries(provider.as_ref(), || {
            provider.refresh_governance(&scope)
        })
        .await
        .map_err(|e| backend_error("cannot read the Control Tower and Service Catalog state", e))?;
    }
    Ok(())
}

/// Reads the state file and checks it belongs to this landing zone and world.
pub fn read_checked_state(ws: &Workspace, world: &WorldIdentity) -> CliResult<Option<StateFile>> {
    let state = read_state(&ws.state_path)?;
    if let Some(s) = &state {
        check_state_identity(&ws.state_path, s, &ws.desired.landing_zone.name, world)?;
    }
    Ok(state)
}
