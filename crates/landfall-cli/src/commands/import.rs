//! `landfall import --out DIR`: the live organization written as a landing zone that
//! Landfall then manages with no changes — TOML, the SCP documents, and a state that
//! records every resource as adopted. Nothing is written until the files have been
//! loaded back and planned against the organization they came from; the result is
//! all or nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use landfall_config::import::{ImportRequest, ImportedZone};
use landfall_core::diff::{PlanError, compute_plan};
use landfall_core::live::{GovernanceScope, LiveState, SecurityScope, WorldIdentity};
use landfall_core::model::{BackendKind, DesiredState, Quotas, SimSettings};
use landfall_core::plan::{Action, Plan, Record, Ref, StateRef};
use landfall_core::state::{ResourceRecord, StateFile};
use landfall_engine::provider::Provider;
use landfall_engine::refresh;
use landfall_engine::state_backend::Expect;
use landfall_sim::SimBackend;

use crate::cli::{BackendArg, GlobalArgs, ImportArgs};
use crate::commands::SUCCESS;
use crate::context::{StateLocation, aws_options, backend_error, open_state_at};
use crate::error::{CliError, CliResult};
use crate::stdout;

/// The arguments, checked.
struct Settings {
    out: PathBuf,
    name: String,
    home_region: String,
    backend: BackendKind,
    sim_world: Option<PathBuf>,
    state: StateLocation,
}

impl Settings {
    fn from_args(global: &GlobalArgs, args: &ImportArgs) -> CliResult<Settings> {
        let backend = match global.backend {
            Some(BackendArg::Aws) => BackendKind::Aws,
            Some(BackendArg::Sim) | None => BackendKind::Sim,
        };
        let name = match &args.name {
            Some(n) => n.clone(),
            None => args
                .out
                .file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default(),
        };
        if let Some(problem) = landfall_config::landing_zone_name_problem(&name) {
            return Err(CliError::with_hint(
                format!("`{name}` cannot name a landing zone: {problem}"),
                "pass --name NAME, e.g. --name ml-platform",
            ));
        }
        let home_region = args
            .home_region
            .clone()
            .or_else(|| global.region.clone())
            .or_else(|| std::env::var("AWS_REGION").ok())
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
            .or_else(|| (backend == BackendKind::Sim).then(|| "us-east-1".to_string()));
        let Some(home_region) = home_region else {
            return Err(CliError::with_hint(
                "no home region: Control Tower and the landing zone's settings need one",
                "pass --home-region REGION (the region of your Control Tower landing zone, or where you work)",
            ));
        };
        let sim_world = match (backend, &args.sim_world) {
            (BackendKind::Sim, Some(p)) => {
                if !p.is_file() {
                    return Err(CliError::with_hint(
                        format!("no sim world at {}", p.display()),
                        "a sim world is `state/<name>.sim-world.json` beside a sim landing zone's state",
                    ));
                }
                Some(p.clone())
            }
            (BackendKind::Sim, None) => {
                return Err(CliError::with_hint(
                    "importing from the sim backend needs the world to read",
                    "pass --sim-world PATH, e.g. --sim-world state/ml-platform.sim-world.json (or --backend aws)",
                ));
            }
            (BackendKind::Aws, Some(_)) => {
                return Err(CliError::with_hint(
                    "--sim-world is for the sim backend",
                    "leave it out with --backend aws",
                ));
            }
            (BackendKind::Aws, None) => None,
        };
        let default_state = args.out.join("state").join(format!("{name}.state.json"));
        let mut state = match &global.state {
            Some(flag) => StateLocation::parse(flag, None)?,
            None => StateLocation::Local(default_state),
        };
        // The bucket's region is written into `[state]`: without it, later runs would
        // look for the bucket in the home region.
        if let StateLocation::S3(s3) = &mut state
            && s3.region.is_none()
        {
            let region = global
                .region
                .clone()
                .or_else(|| std::env::var("AWS_REGION").ok())
                .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok());
            match region {
                Some(r) => s3.region = Some(r),
                None => {
                    return Err(CliError::with_hint(
                        "the state bucket's region is not known",
                        "pass --region REGION (the bucket's region), or set AWS_REGION",
                    ));
                }
            }
        }
        Ok(Settings {
            out: args.out.clone(),
            name,
            home_region,
            backend,
            sim_world,
            state,
        })
    }
}

pub async fn import(global: &GlobalArgs, args: &ImportArgs) -> CliResult<u8> {
    let started = Instant::now();
    let settings = Settings::from_args(global, args)?;
    if !args.dry_run && has_entries(&settings.out) {
        return Err(CliError::with_hint(
            format!("{} exists and is not empty", settings.out.display()),
            "import into a new directory; Landfall never overwrites a configuration",
        ));
    }
    let provider = open_provider(global, &settings).await?;

    // Read the organization, and Control Tower with every OU in scope.
    let world = refresh::identity(provider.as_ref())
        .await
        .map_err(|e| backend_error("cannot reach the backend", e))?;
    let mut live = refresh::organization(provider.as_ref())
        .await
        .map_err(|e| backend_error("cannot read the live organization", e))?;
    if !args.skip_control_tower {
        let scope = GovernanceScope {
            control_targets: live.ous.keys().cloned().collect(),
            portfolios: false,
            account_factory: None,
            landing_zone: true,
            organizations_access: false,
            baselines: true,
        };
        live.governance = refresh::governance(provider.as_ref(), &scope)
            .await
            .map_err(|e| {
                CliError::with_hint(
                    format!("cannot read Control Tower: {e}"),
                    "grant the Control Tower reads (controltower:ListLandingZones, GetLandingZone, ListBaselines, ListEnabledBaselines, ListEnabledControls), or pass --skip-control-tower to import without controls and registrations",
                )
            })?;
    }
    // Trusted access and delegated administrators, named in comments: a read these
    // credentials may not be allowed is a warning, not a failed import.
    match refresh::security(provider.as_ref(), &SecurityScope::default()).await {
        Ok(security) => live.security = security,
        Err(e) => eprintln!(
            "{} cannot read trusted access and delegated administrators ({e}); the import does not name them",
            console::style("warning:").yellow().bold()
        ),
    }
    // Member accounts: every imported (active) account in each --members region; an
    // account whose access role cannot be assumed is named and left out.
    let mut member_failures = Vec::new();
    if !args.members.is_empty() {
        let scopes: Vec<(String, String)> = live
            .accounts
            .values()
            .filter(|a| {
                a.id != live.management_account_id
                    && a.status == landfall_core::live::AccountStatus::Active
            })
            .flat_map(|a| args.members.iter().map(|r| (a.id.clone(), r.clone())))
            .collect();
        let reads = refresh::members(&provider, scopes)
            .await
            .map_err(|e| backend_error(&e.context, e.source))?;
        for (scope, result) in reads {
            match result {
                Ok(member) => {
                    live.members.insert(
                        landfall_core::live::member_key(&scope.account_id, &scope.region),
                        member,
                    );
                }
                Err(e) => member_failures.push((scope.account_id, scope.region, e.to_string())),
            }
        }
    }
    let read_time = started.elapsed();
    let calls = provider.call_counts();
    crate::session::log_pacing(provider.as_ref(), "import's reads");

    let state_s3 = match &settings.state {
        StateLocation::S3(s3) => Some(s3.clone()),
        StateLocation::Local(_) => None,
    };
    let sim_world = settings
        .sim_world
        .as_ref()
        .map(|w| relative_to(&settings.out, w))
        .transpose()?;
    let request = ImportRequest {
        live: &live,
        world: &world,
        name: settings.name.clone(),
        home_region: settings.home_region.clone(),
        backend: settings.backend,
        split: args.split,
        sim_world,
        s3_state: state_s3,
        control_tower: !args.skip_control_tower,
        member_regions: args.members.clone(),
        member_failures,
        access_role: landfall_config::DEFAULT_ACCESS_ROLE.to_string(),
    };
    let zone = landfall_config::import::import(&request);

    // Load the files back from a staging directory beside DIR, and plan with them.
    let parent = parent_dir(&settings.out);
    std::fs::create_dir_all(&parent)
        .map_err(|e| CliError::new(format!("cannot create {}: {e}", parent.display())))?;
    let staging = tempfile::Builder::new()
        .prefix(".landfall-import-")
        .tempdir_in(&parent)
        .map_err(|e| CliError::new(format!("cannot write in {}: {e}", parent.display())))?;
    write_files(staging.path(), &zone)?;
    let desired = match landfall_config::load(staging.path()) {
        Ok(loaded) => loaded.desired,
        Err(diagnostics) => {
            eprint!("{}", diagnostics.render(console::colors_enabled_stderr()));
            return Err(CliError::with_hint(
                "the imported configuration does not validate; nothing was written",
                "this is a Landfall bug: please report it with the diagnostics above",
            ));
        }
    };
    let adopted = adopt_everything(&desired, &live, &world, &zone.ids)?;

    for w in &zone.warnings {
        eprintln!("{} {w}", console::style("warning:").yellow().bold());
    }
    let check = describe_check(&adopted);
    if args.dry_run {
        let mut text = String::new();
        for (path, content) in &zone.files {
            text.push_str(&format!(
                "# ==> {} <==\n",
                settings.out.join(path).display()
            ));
            text.push_str(content);
            if !content.ends_with('\n') {
                text.push('\n');
            }
            text.push('\n');
        }
        stdout::print(&text)?;
        eprintln!("{check}");
        eprintln!(
            "Dry run: {} file(s) and a state of {} resource(s) would be written to {}.",
            zone.files.len(),
            adopted.state.resources.len(),
            settings.out.display()
        );
        return Ok(SUCCESS);
    }

    // Write: the state first where it is remote (it must not exist), then the files
    // in one rename; a local state goes inside the directory before the rename.
    let state_bytes = serde_json::to_vec_pretty(&adopted.state).map_err(CliError::new)?;
    match &settings.state {
        StateLocation::Local(path) => {
            let inside = path.strip_prefix(&settings.out).ok().map(Path::to_path_buf);
            match inside {
                Some(rel) => {
                    let target = staging.path().join(rel);
                    landfall_engine::state_store::write_atomically(&target, &state_bytes)
                        .map_err(|e| CliError::new(format!("cannot write the state: {e}")))?;
                }
                None => {
                    let backend =
                        open_state_at(&settings.state, Some(&settings.home_region)).await?;
                    backend.write(&state_bytes, &Expect::Absent).await?;
                }
            }
        }
        StateLocation::S3(_) => {
            let backend = open_state_at(&settings.state, Some(&settings.home_region)).await?;
            if backend.read().await?.is_some() {
                return Err(CliError::with_hint(
                    format!("there is a state at {} already", backend.location()),
                    "import into a new state location; Landfall never overwrites a state",
                ));
            }
            backend.write(&state_bytes, &Expect::Absent).await?;
        }
    }
    let staged = staging.keep();
    if settings.out.exists() {
        // Empty (checked above): replaced by the staged directory.
        std::fs::remove_dir(&settings.out).map_err(|e| {
            CliError::new(format!("cannot replace {}: {e}", settings.out.display()))
        })?;
    }
    std::fs::rename(&staged, &settings.out).map_err(|e| {
        CliError::new(format!(
            "cannot move the imported files into {}: {e} (they are in {})",
            settings.out.display(),
            staged.display()
        ))
    })?;

    let c = &zone.counts;
    // The sim answers from memory and counts no calls; AWS's backend counts each.
    let total_calls = match calls.values().sum::<u64>() {
        0 => "no counted API calls".to_string(),
        n => format!("{n} API call(s)"),
    };
    stdout::println(&format!(
        "Imported {} into {}: {} OU(s), {} account(s), {} SCP(s), {} other organization policies, {} control(s), {} OU registration(s), {} network(s), {} KMS key(s); {} left out (see the comments).\nState: {} resource(s) adopted at {}.\n{check}\nRead in {:.2} s with {total_calls}; {:.2} s in all.",
        world,
        settings.out.display(),
        c.ous,
        c.accounts,
        c.scps,
        c.org_policies,
        c.controls,
        c.registrations,
        c.networks,
        c.kms_keys,
        c.skipped,
        adopted.state.resources.len(),
        match &settings.state {
            StateLocation::Local(p) => p.display().to_string(),
            StateLocation::S3(s3) => format!("s3://{}/{}", s3.bucket, s3.key),
        },
        read_time.as_secs_f64(),
        started.elapsed().as_secs_f64(),
    ))?;
    tracing::info!(
        "import calls: {}",
        calls
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(SUCCESS)
}

async fn open_provider(global: &GlobalArgs, settings: &Settings) -> CliResult<Arc<dyn Provider>> {
    match (&settings.backend, &settings.sim_world) {
        (BackendKind::Sim, Some(world)) => {
            let sim = SimBackend::open(
                world,
                SimSettings {
                    account_creation_polls: 1,
                    ..SimSettings::default()
                },
                Quotas::default(),
            )
            .map_err(|e| CliError::new(format!("cannot open the sim world: {e}")))?
            .with_home_region(&settings.home_region);
            Ok(Arc::new(sim))
        }
        (BackendKind::Sim, None) => Err(CliError::new("no sim world to import")),
        (BackendKind::Aws, _) => {
            let options = aws_options(
                global,
                landfall_config::DEFAULT_ACCESS_ROLE,
                Some(&settings.home_region),
            )?;
            let aws = landfall_aws::AwsBackend::connect(&options)
                .await
                .map_err(|e| backend_error("cannot connect to AWS", e))?;
            Ok(Arc::new(aws))
        }
    }
}

/// The state an import writes, and what the first plan would still do.
struct Adopted {
    state: StateFile,
    /// Changes planned against that state: none when the files match the organization.
    remaining: Vec<(Action, String, String)>,
    problems: Vec<String>,
}

/// Plans the imported configuration against a state that knows only the OUs', accounts'
/// and SCPs' ids — everything else is found by its natural key, so the plan adopts
/// it — and records those adoptions as apply would (`created: false`); then plans
/// again against that state.
fn adopt_everything(
    desired: &DesiredState,
    live: &LiveState,
    world: &WorldIdentity,
    ids: &BTreeMap<landfall_core::Address, (String, Option<String>)>,
) -> CliResult<Adopted> {
    let mut state = StateFile::new(&desired.landing_zone.name, world.clone());
    // OUs, accounts and SCPs by the ids they were read with: matched by id, a resource
    // whose name had to change is planned as a rename, not as a new resource.
    for (address, (id, member)) in ids {
        let account_id = member
            .as_deref()
            .and_then(|m| m.split_once('/'))
            .map(|(a, _)| a);
        let attributes =
            landfall_core::family::declared_attrs(desired, address, account_id).unwrap_or_default();
        state.resources.insert(
            address.clone(),
            ResourceRecord {
                id: id.clone(),
                created: false,
                attributes,
                member: member.clone(),
            },
        );
    }
    let state_ref = StateRef {
        lineage: None,
        serial: 0,
    };
    let mut problems = Vec::new();
    match compute_plan(desired, live, &state, state_ref.clone(), world) {
        Ok(plan) => record_adoptions(&plan, &mut state),
        Err(e) => problems.extend(problem_lines(e)),
    }
    state.serial = 1;
    let remaining = match compute_plan(
        desired,
        live,
        &state,
        StateRef {
            lineage: Some(state.lineage),
            serial: state.serial,
        },
        world,
    ) {
        Ok(plan) => plan
            .changes
            .iter()
            .map(|c| (c.action, c.address.to_string(), c.reason.clone()))
            .collect(),
        Err(e) => {
            problems.extend(problem_lines(e));
            Vec::new()
        }
    };
    problems.sort();
    problems.dedup();
    Ok(Adopted {
        state,
        remaining,
        problems,
    })
}

fn problem_lines(e: PlanError) -> Vec<String> {
    match e {
        PlanError::Problems(problems) => problems
            .into_iter()
            .map(|p| format!("{}: {}", p.address, p.message))
            .collect(),
        PlanError::Cycle(c) => vec![c.to_string()],
    }
}

/// What apply records for the plan's adoptions, without calling anything: adopt
/// changes have no operations.
fn record_adoptions(plan: &Plan, state: &mut StateFile) {
    for change in &plan.changes {
        let (Action::Adopt, Some(id), Record::Upsert { attributes, .. }) =
            (change.action, &change.id, &change.record)
        else {
            continue;
        };
        let member = change.member.as_ref().and_then(|m| match &m.account {
            Ref::Id(account) => Some((account.as_str(), m.region.as_str())),
            Ref::Address(_) => None,
        });
        state.resources.insert(
            change.address.clone(),
            ResourceRecord::upserted(id.clone(), false, attributes, member),
        );
    }
}

fn describe_check(adopted: &Adopted) -> String {
    if adopted.remaining.is_empty() && adopted.problems.is_empty() {
        return "Checked: the first plan against this organization has no changes.".into();
    }
    let mut text =
        String::from("Checked: the first plan will not be empty — review these before applying:");
    let mut by_action: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (action, address, reason) in &adopted.remaining {
        by_action
            .entry(action.verb().to_string())
            .or_default()
            .push(format!("{address}: {reason}"));
    }
    for (action, lines) in by_action {
        for l in lines {
            text.push_str(&format!("\n  {action} {l}"));
        }
    }
    for p in &adopted.problems {
        text.push_str(&format!("\n  problem {p}"));
    }
    text
}

fn write_files(dir: &Path, zone: &ImportedZone) -> CliResult<()> {
    for (rel, content) in &zone.files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| CliError::new(format!("cannot create {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, content)
            .map_err(|e| CliError::new(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

fn has_entries(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) || (dir.exists() && !dir.is_dir())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `target` as a path relative to directory `from` (both made absolute first), with
/// `/` separators, for `[sim] world`.
fn relative_to(from: &Path, target: &Path) -> CliResult<String> {
    let cwd = std::env::current_dir().map_err(CliError::new)?;
    let abs = |p: &Path| {
        let joined = if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        };
        normalize(&joined)
    };
    let (from, target) = (abs(from), abs(target));
    let common = from
        .components()
        .zip(target.components())
        .take_while(|(a, b)| a == b)
        .count();
    let ups = from.components().count() - common;
    let mut parts: Vec<String> = vec!["..".to_string(); ups];
    parts.extend(
        target
            .components()
            .skip(common)
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    Ok(parts.join("/"))
}

/// `a/./b/../c` → `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}
