//! Loading what every command needs: the desired state (with diagnostics on stderr),
//! the state-file path, and the backend.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use landfall_aws::state_s3::S3StateBackend;
use landfall_aws::{AwsBackend, AwsOptions};
use landfall_core::model::{BackendKind, DesiredState, S3State};
use landfall_engine::provider::Provider;
use landfall_engine::state_backend::{LocalStateBackend, LockInfo, StateBackend};
use landfall_sim::SimBackend;

use crate::cli::{BackendArg, DiagnosticsFormat, GlobalArgs};
use crate::error::{CliError, CliResult};

pub struct Workspace {
    pub desired: DesiredState,
    /// The local state file; with S3 state, where it would be, so the sim world (which
    /// lives beside it) stays beside the configuration.
    pub state_path: PathBuf,
    /// Where the state lives.
    pub state: StateLocation,
    /// The sim world file: `[sim] world` (relative to the configuration's directory),
    /// else beside the state file, never in it.
    pub sim_world: PathBuf,
    pub backend: BackendKind,
}

/// Where a landing zone's state lives: `[state]` (or `state_path`), else `--state`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateLocation {
    Local(PathBuf),
    S3(S3State),
}

impl StateLocation {
    /// `s3://BUCKET/KEY` as S3 state, keeping `base`'s other S3 settings (region, KMS
    /// key, profile, role); anything else is a file path.
    pub fn parse(text: &str, base: Option<&S3State>) -> CliResult<Self> {
        let Some(rest) = text.strip_prefix("s3://") else {
            return Ok(StateLocation::Local(PathBuf::from(text)));
        };
        match rest.split_once('/') {
            Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() && !key.ends_with('/') => {
                let mut s3 = base.cloned().unwrap_or(S3State {
                    bucket: String::new(),
                    key: String::new(),
                    region: None,
                    kms_key_id: None,
                    profile: None,
                    role_arn: None,
                });
                s3.bucket = bucket.to_string();
                s3.key = key.to_string();
                Ok(StateLocation::S3(s3))
            }
            _ => Err(CliError::with_hint(
                format!("`{text}` is not an S3 state location"),
                "write s3://BUCKET/KEY, e.g. s3://acme-landfall-state/ml-platform.state.json",
            )),
        }
    }
}

/// The state's backend: the local file, or the S3 object (its bucket checked for
/// versioning, which Landfall requires of a state bucket).
pub async fn open_state(ws: &Workspace) -> CliResult<Arc<dyn StateBackend>> {
    open_state_at(&ws.state, Some(&ws.desired.landing_zone.home_region)).await
}

pub async fn open_state_at(
    location: &StateLocation,
    home_region: Option<&str>,
) -> CliResult<Arc<dyn StateBackend>> {
    match location {
        StateLocation::Local(path) => Ok(Arc::new(LocalStateBackend::new(path.clone()))),
        StateLocation::S3(s3) => {
            let backend = S3StateBackend::connect(s3, home_region).await;
            backend.check_versioning().await?;
            Ok(Arc::new(backend))
        }
    }
}

/// A new lock request for `operation` by this process.
pub fn lock_info(operation: &str) -> LockInfo {
    LockInfo::new(operation, env!("CARGO_PKG_VERSION"))
}

fn color() -> bool {
    console::colors_enabled_stderr()
}

/// Loads and validates the desired state; diagnostics go to stderr.
pub fn load(global: &GlobalArgs) -> CliResult<Workspace> {
    load_reporting(global, DiagnosticsFormat::Human).map(|(ws, _)| ws)
}

/// Loads and validates the desired state. Errors are reported as `format` says (the
/// machine formats on stdout, so a CI step parses one document); a human format also
/// renders the warnings on stderr, which are returned for the machine formats.
pub fn load_reporting(
    global: &GlobalArgs,
    format: DiagnosticsFormat,
) -> CliResult<(Workspace, landfall_config::Diagnostics)> {
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
            match format {
                DiagnosticsFormat::Human => {
                    eprint!("{}", diagnostics.render(color()));
                    eprintln!(
                        "{} {} error(s) in {}",
                        console::style("error:").red().bold(),
                        diagnostics.error_count(),
                        path.display()
                    );
                }
                DiagnosticsFormat::Json | DiagnosticsFormat::Sarif => {
                    print_diagnostics(&diagnostics, format)?;
                }
            }
            return Err(CliError::Reported);
        }
    };
    if format == DiagnosticsFormat::Human && !loaded.warnings.is_empty() {
        eprint!("{}", loaded.warnings.render(color()));
    }
    let desired = loaded.desired;
    let backend = match global.backend {
        Some(BackendArg::Sim) => BackendKind::Sim,
        Some(BackendArg::Aws) => BackendKind::Aws,
        None => desired.landing_zone.backend,
    };
    // The state (and the sim world beside it) belongs to the configuration, not to the
    // directory a command happens to run from: `plan -c ../lz/landfall.toml` must find
    // the same state as `plan` run in `../lz`. Only `--state` is taken as given.
    let config_dir = config_dir(path);
    let default_path =
        config_dir.join(desired.landing_zone.state_path.clone().unwrap_or_else(|| {
            Path::new("state").join(format!("{}.state.json", desired.landing_zone.name))
        }));
    let configured = match &desired.landing_zone.s3_state {
        Some(s3) => StateLocation::S3(s3.clone()),
        None => StateLocation::Local(default_path.clone()),
    };
    let state = match &global.state {
        Some(flag) => StateLocation::parse(flag, desired.landing_zone.s3_state.as_ref())?,
        None => configured,
    };
    let state_path = match &state {
        StateLocation::Local(p) => p.clone(),
        StateLocation::S3(_) => default_path,
    };
    let sim_world = match &desired.landing_zone.sim_world {
        Some(world) => config_dir.join(world),
        None => {
            let dir = state_path.parent().unwrap_or(Path::new("."));
            dir.join(format!("{}.sim-world.json", desired.landing_zone.name))
        }
    };
    Ok((
        Workspace {
            desired,
            state_path,
            state,
            sim_world,
            backend,
        },
        loaded.warnings,
    ))
}

/// The diagnostics as a JSON or SARIF document on stdout.
pub fn print_diagnostics(
    diagnostics: &landfall_config::Diagnostics,
    format: DiagnosticsFormat,
) -> CliResult<()> {
    let doc = match format {
        DiagnosticsFormat::Sarif => diagnostics.to_sarif(env!("CARGO_PKG_VERSION")),
        DiagnosticsFormat::Json | DiagnosticsFormat::Human => diagnostics.to_json(),
    };
    let mut text = serde_json::to_string_pretty(&doc).map_err(CliError::new)?;
    text.push('\n');
    crate::stdout::print(&text)
}

/// The directory a configuration's relative paths start from: the directory given to
/// `-c`, or the one holding the file (empty for a bare file name: the working
/// directory, and paths shown without a `./`).
fn config_dir(config: &Path) -> PathBuf {
    if config.is_dir() {
        return config.to_path_buf();
    }
    config.parent().map(Path::to_path_buf).unwrap_or_default()
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
    let path = ws.sim_world.clone();
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

/// The environment variable that caps the AWS call rates (calls per second per
/// limiter), e.g. `reads=50,writes=20,member_writes=10` or `ec2_writes=5`.
pub const AWS_RATE_ENV: &str = "LANDFALL_AWS_RATE";

/// `home_region`: where Control Tower and Service Catalog are called (the landing
/// zone's home region; the SDK region otherwise).
pub(crate) fn aws_options(
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
        options.pacing = options.pacing.with_caps(&spec).map_err(|e| {
            CliError::with_hint(
                format!("{AWS_RATE_ENV}: {e}"),
                format!(
                    "caps in calls per second, e.g. {AWS_RATE_ENV}=\"reads=20,writes=5,member_writes=5\"; classes: {}",
                    landfall_engine::pacing::PacingSettings::class_names()
                ),
            )
        })?;
    }
    Ok(options)
}

const NO_ORG: &str = "AWSOrganizationsNotInUseException";

pub fn backend_error(context: &str, e: landfall_engine::ProviderError) -> CliError {
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

/// `apply`'s first step on AWS, before anything is read: an account with no
/// organization gets one (feature set ALL, SCPs enabled), after a confirmation unless
/// `--auto-approve`. Plan and drift only report the missing organization.
pub async fn create_organization_if_missing(
    backend: &Backend,
    auto_approve: bool,
    global: &GlobalArgs,
) -> CliResult<()> {
    let Some(aws) = &backend.aws else {
        return Ok(());
    };
    let Err(e) = landfall_engine::refresh::identity(backend.provider.as_ref()).await else {
        return Ok(());
    };
    if e.kind != landfall_engine::ErrorKind::Other(NO_ORG.into()) {
        return Ok(()); // reported by the refresh that follows
    }
    eprintln!("This AWS account has no organization yet.");
    let hint = format!(
        "to create it without asking, run `landfall apply --auto-approve{}`",
        global.rerun_flags()
    );
    let question = "Create one with all features enabled?";
    if !auto_approve && !crate::commands::plan::confirm_with(question, &hint)? {
        return Err(CliError::new("no organization; nothing was changed"));
    }
    aws.create_organization()
        .await
        .map_err(|e| backend_error("cannot create the organization", e))?;
    eprintln!("Created the organization (feature set ALL, SCPs enabled).");
    Ok(())
}
