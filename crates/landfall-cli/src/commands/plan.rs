//! `landfall plan` and `landfall apply`.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use landfall_core::diff::{PlanError, compute_plan};
use landfall_core::plan::{Plan, StateRef};
use landfall_core::state::StateFile;
use landfall_core::{LiveState, WorldIdentity};
use landfall_engine::apply::{self, ApplyOptions, check_applicable};
use landfall_engine::state_backend::{Expect, LockMode, StateBackend};
use landfall_engine::state_store::StateStore;

use crate::cli::{ApplyArgs, DiagnosticsFormat, GlobalArgs, PlanArgs};
use crate::context::{self, Workspace};
use crate::error::{CliError, CliResult};
use crate::progress::ApplyProgress;
use crate::render;
use crate::session::{Reads, Session};
use crate::stdout;

use super::{CHANGES, SUCCESS};

/// Makes a plan from the live state; plan problems become one error listing each.
pub fn make_plan(
    ws: &Workspace,
    live: &LiveState,
    state: Option<&StateFile>,
    world: &WorldIdentity,
) -> CliResult<Plan> {
    let fresh;
    let current = match state {
        Some(s) => s,
        None => {
            fresh = StateFile::new(&ws.desired.landing_zone.name, world.clone());
            &fresh
        }
    };
    let state_ref = StateRef {
        lineage: state.map(|s| s.lineage),
        serial: state.map_or(0, |s| s.serial),
    };
    compute_plan(&ws.desired, live, current, state_ref, world).map_err(plan_error)
}

/// Prints each plan problem on stderr and returns the error that ends the command.
pub(crate) fn plan_error(e: PlanError) -> CliError {
    match e {
        PlanError::Problems(problems) => {
            for p in &problems {
                eprintln!(
                    "{} {}: {}",
                    console::style("error:").red().bold(),
                    p.address,
                    p.message
                );
                if let Some(h) = &p.hint {
                    eprintln!("  {} {h}", console::style("hint:").cyan());
                }
            }
            CliError::with_hint(
                format!("cannot plan: {} problem(s)", problems.len()),
                "fix the desired state (or the live organization) and plan again",
            )
        }
        PlanError::Cycle(c) => CliError::with_hint(
            c.to_string(),
            "break the cycle by removing one of the references",
        ),
    }
}

/// `--target ADDRESS...` as addresses; an unparsable one is an error (before anything
/// is read).
fn parse_targets(targets: &[String]) -> CliResult<Vec<landfall_core::Address>> {
    targets
        .iter()
        .map(|t| {
            t.parse().map_err(|e| {
                CliError::with_hint(
                    format!("--target {t}: {e}"),
                    "targets are resource addresses as `plan` prints them, e.g. `account.ml-fraud-dev`, `ou.Workloads/Workloads_Dev`, `scp.deny-leave-org`",
                )
            })
        })
        .collect()
}

/// Keeps the changes of `targets` and what they depend on (nothing to do without
/// targets), warning on stderr that `--target` is for exceptional use and naming the
/// targets that have no change.
fn select_targets(plan: Plan, targets: &[landfall_core::Address]) -> Plan {
    if targets.is_empty() {
        return plan;
    }
    let (plan, warnings) = landfall_core::target::select(plan, targets);
    let warning = console::style("warning:").yellow().bold();
    eprintln!(
        "{warning} --target is in effect: the plan holds only the changes of the targeted addresses and those they depend on. It is for exceptional use (recovering from a failed apply, one urgent change): the state may not match the configuration afterwards; run a full `landfall plan` next."
    );
    for w in warnings {
        eprintln!("{warning} {w}");
    }
    plan
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub async fn plan(global: &GlobalArgs, args: &PlanArgs) -> CliResult<u8> {
    let t0 = Instant::now();
    let targets = parse_targets(&args.targets)?;
    // With --json, a configuration that does not load is a JSON document too: a CI step
    // parses stdout either way.
    let ws = if args.json {
        let (ws, warnings) = context::load_reporting(global, DiagnosticsFormat::Json)?;
        if !warnings.is_empty() {
            eprint!("{}", warnings.render(console::colors_enabled_stderr()));
        }
        ws
    } else {
        context::load(global)?
    };
    let t_load = t0.elapsed();
    let backend = context::open_backend(&ws, global).await?;
    let state_backend = context::open_state(&ws).await?;
    // Read only between applies: an apply's half-recorded changes are not a plan's
    // starting point.
    let lock = state_backend
        .lock(
            context::lock_info("landfall plan"),
            LockMode::Shared,
            args.lock_timeout,
        )
        .await?;
    let session = Session::open(&ws, backend, Reads::Everything(state_backend.as_ref())).await;
    state_backend.unlock(lock).await?;
    let Session {
        backend,
        world,
        live,
        state,
        refresh_time: t_refresh,
        ..
    } = session?;
    let t2 = Instant::now();
    let scps = super::guard::Scps::new(&ws, &live);
    let documents = super::guard::live_documents(
        &ws,
        &super::guard::expectation_arns(&ws),
        backend.provider.as_ref(),
    )
    .await;
    super::guard::check_expectations(&ws, &scps.desired, &documents)?;
    super::guard::check_lockout(&ws, &live, &scps, args.allow_lockout)?;
    super::guard::check_people_lockout(&ws, &live, args.allow_lockout)?;
    let mut plan = select_targets(make_plan(&ws, &live, state.as_ref(), &world)?, &targets);
    super::guard::add_blast_radius(&ws, &scps, &mut plan);
    plan.refresh_calls = backend.provider.call_counts();
    plan.state_location = Some(state_backend.canonical_location());
    let t_plan = t2.elapsed();
    if let Some(out) = &args.out {
        save_plan(&plan, out)?;
        eprintln!(
            "Saved the plan to {}; apply it with `landfall apply{} {}`.",
            out.display(),
            global.rerun_flags(),
            shlex::try_quote(&out.display().to_string()).unwrap_or_default()
        );
    }
    let t3 = Instant::now();
    let text = if args.json {
        render::plan_json(&plan).map_err(CliError::new)?
    } else {
        render::plan_human(&plan, console::colors_enabled())
    };
    stdout::print(&text)?;
    if args.timings {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        eprintln!(
            "timings: load={:.1}ms refresh={:.1}ms plan={:.1}ms render={:.1}ms total={:.1}ms peak_rss={:.1}MB changes={}",
            ms(t_load),
            ms(t_refresh),
            ms(t_plan),
            ms(t3.elapsed()),
            ms(t0.elapsed()),
            peak_rss_mb().unwrap_or(0.0),
            plan.changes.len()
        );
    }
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        CHANGES
    } else {
        SUCCESS
    })
}

/// `sha256:HEX` of the plan's JSON without its digest: what `apply FILE` checks, so a
/// plan edited after it was written (an operation changed, a record not) is refused
/// rather than applied with a state that disagrees with what ran.
fn digest_of(plan: &Plan) -> CliResult<String> {
    use sha2::{Digest, Sha256};
    let mut unsigned = plan.clone();
    unsigned.digest = None;
    let bytes = serde_json::to_vec(&unsigned).map_err(CliError::new)?;
    let hash: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(format!("sha256:{hash}"))
}

fn save_plan(plan: &Plan, path: &Path) -> CliResult<()> {
    let mut signed = plan.clone();
    signed.digest = Some(digest_of(plan)?);
    let mut bytes = serde_json::to_vec_pretty(&signed).map_err(CliError::new)?;
    bytes.push(b'\n');
    landfall_engine::state_store::write_atomically(path, &bytes)
        .map_err(|e| CliError::new(format!("cannot write {}: {e}", path.display())))
}

/// Reads a plan saved by `plan --out`: refused when it is not one, has another format
/// version, or was edited after it was written (its digest). `apply FILE` and `show`.
pub(crate) fn read_plan(path: &Path) -> CliResult<Plan> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::with_hint(
            format!("cannot read plan {}: {e}", path.display()),
            "save a plan with `landfall plan --out FILE`",
        )
    })?;
    let plan: Plan = serde_json::from_str(&text).map_err(|e| {
        CliError::with_hint(
            format!("{} is not a Landfall plan: {e}", path.display()),
            "save a plan with `landfall plan --out FILE`",
        )
    })?;
    if plan.format_version != landfall_core::plan::PLAN_FORMAT_VERSION {
        return Err(CliError::new(format!(
            "{} has plan format {}, this Landfall reads {}",
            path.display(),
            plan.format_version,
            landfall_core::plan::PLAN_FORMAT_VERSION
        )));
    }
    let edited = || {
        CliError::with_hint(
            format!(
                "{} was changed after `landfall plan --out` wrote it (its digest does not match)",
                path.display()
            ),
            "a saved plan is applied as written or not at all; make a new one with `landfall plan --out FILE`",
        )
    };
    match &plan.digest {
        Some(digest) if *digest == digest_of(&plan)? => Ok(plan),
        Some(_) => Err(edited()),
        None => Err(CliError::with_hint(
            format!(
                "{} has no digest: it was not written by `landfall plan --out`",
                path.display()
            ),
            "make a new plan with `landfall plan --out FILE`",
        )),
    }
}

/// Asks a yes/no question on the terminal; refuses when stdin is not one, with a hint
/// naming the command that answers it in advance (the run's own command and flags,
/// with `--auto-approve`).
pub fn confirm_with(question: &str, hint: &str) -> CliResult<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::with_hint(
            "this needs confirmation, and stdin is not a terminal",
            hint,
        ));
    }
    eprint!("{question} Only `yes` is accepted: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(CliError::new)?;
    Ok(line.trim() == "yes")
}

pub async fn apply(global: &GlobalArgs, args: &ApplyArgs) -> CliResult<u8> {
    let targets = parse_targets(&args.targets)?;
    let ws = context::load(global)?;
    let backend = context::open_backend(&ws, global).await?;
    let state_backend = context::open_state(&ws).await?;
    let lock = state_backend
        .lock(
            context::lock_info("landfall apply"),
            LockMode::Exclusive,
            args.lock_timeout,
        )
        .await?;
    // The lock is given back however the apply ends; a run killed here leaves it for
    // `force-unlock`.
    let result = apply_locked(global, args, &ws, backend, state_backend.clone(), &targets).await;
    let released = state_backend.unlock(lock).await;
    let code = result?;
    released?;
    Ok(code)
}

async fn apply_locked(
    global: &GlobalArgs,
    args: &ApplyArgs,
    ws: &Workspace,
    backend: context::Backend,
    state_backend: Arc<dyn StateBackend>,
    targets: &[landfall_core::Address],
) -> CliResult<u8> {
    context::create_organization_if_missing(&backend, args.auto_approve, global).await?;
    let Session {
        backend,
        world,
        live,
        state,
        state_expect,
        ..
    } = Session::open(ws, backend, Reads::Everything(state_backend.as_ref())).await?;
    let provider = backend.provider.clone();
    if args.refresh_only {
        return refresh_only(
            &live,
            state,
            (state_backend, state_expect),
            args.auto_approve,
            global,
        )
        .await;
    }
    let control_tower = ws.desired.landing_zone.control_tower.as_ref();
    let options = ApplyOptions {
        parallelism: args.parallelism.max(1),
        allow_close: args.allow_close,
        control_operations_in_flight: control_tower.map(|ct| ct.control_operations_in_flight),
        account_factory_in_flight: control_tower.map(|ct| ct.account_operations_in_flight),
    };
    // Expectations and lockout protection hold for saved plans too: the SCPs they
    // apply are the desired state's.
    let scps = super::guard::Scps::new(ws, &live);
    let documents =
        super::guard::live_documents(ws, &super::guard::expectation_arns(ws), provider.as_ref())
            .await;
    super::guard::check_expectations(ws, &scps.desired, &documents)?;
    super::guard::check_lockout(ws, &live, &scps, args.allow_lockout)?;
    super::guard::check_people_lockout(ws, &live, args.allow_lockout)?;
    let plan = match &args.plan_file {
        Some(file) => {
            let plan = read_plan(file)?;
            if let Some(note) = render::partial_note(&plan.targets) {
                eprintln!("{} {note}", console::style("warning:").yellow().bold());
            }
            plan
        }
        None => {
            let mut plan = select_targets(make_plan(ws, &live, state.as_ref(), &world)?, targets);
            super::guard::add_blast_radius(ws, &scps, &mut plan);
            plan
        }
    };
    let location = state_backend.canonical_location();
    check_applicable(&plan, state.as_ref(), &location, &world, &options).map_err(|e| {
        let hint = match e {
            apply::NotApplicable::Stale { .. } => "make a new plan with `landfall plan --out FILE`",
            apply::NotApplicable::OtherWorld { .. } => "check --backend and the state file",
            apply::NotApplicable::OtherState { .. } => {
                "apply it with the state it was planned against ([state] or --state), or make a new plan"
            }
            apply::NotApplicable::ClosesAccounts(_) => {
                "rerun with --allow-close if closing is intended"
            }
        };
        CliError::with_hint(e.to_string(), hint)
    })?;
    if plan.is_empty() {
        stdout::println(render::no_changes(&plan))?;
        return Ok(SUCCESS);
    }
    if args.plan_file.is_none() {
        stdout::show_before_change(&render::plan_human(&plan, console::colors_enabled()))?;
        let hint = format!(
            "review the plan, then run `landfall apply --auto-approve{}` (or apply a saved plan)",
            global.rerun_flags()
        );
        if !args.auto_approve && !confirm_with("Apply these changes?", &hint)? {
            eprintln!("Apply cancelled; nothing was changed.");
            return Err(CliError::Reported);
        }
    }
    let state = match state {
        // The plan's `[[moved]]` re-addressing is recorded with its first write.
        Some(s) => s.with_moves(&plan.moved).0,
        None => StateFile::new(&ws.desired.landing_zone.name, world.clone()),
    };
    let fresh = state_expect == Expect::Absent;
    let store = Arc::new(StateStore::new(state_backend.clone(), state, state_expect));
    // A new state is written before the first change, so a crash leaves a state to
    // resume from; so is a re-addressed one, even when no change follows.
    if fresh {
        store.flush().await?;
    } else if !plan.moved.is_empty() {
        store.update(|_| {}).await?;
    }
    let total = plan.changes.len();
    let progress = Arc::new(ApplyProgress::new(total));
    let started = Instant::now();
    let refresh_calls = provider.call_counts();
    let outcome = apply::apply(
        plan,
        provider.clone(),
        store.clone(),
        &options,
        progress.clone(),
    )
    .await;
    progress.finish();
    log_apply_calls(&refresh_calls, &provider.call_counts());
    crate::session::log_pacing(provider.as_ref(), "apply");
    let elapsed = started.elapsed().as_secs_f64();
    if outcome.succeeded() {
        stdout::println(&format!(
            "Apply complete: {} change(s) in {elapsed:.1}s ({} retried call(s)). State saved to {} ({} write(s)).",
            outcome.completed,
            outcome.retries,
            state_backend.location(),
            store.writes()
        ))?;
        return Ok(SUCCESS);
    }
    for failure in &outcome.failures {
        eprintln!("{} {failure}", console::style("error:").red().bold());
        if let Some(h) = failure.hint() {
            eprintln!("  {} {h}", console::style("hint:").cyan());
        }
    }
    Err(CliError::with_hint(
        format!(
            "apply failed: {} change(s) completed, {} failed, {} not started",
            outcome.completed,
            outcome.failures.len(),
            outcome.skipped
        ),
        format!(
            "the state at {} records every completed change; fix the cause and rerun `landfall apply` to resume",
            state_backend.location()
        ),
    ))
}

/// Logs (`-v`) the calls the changes made, by API: the counts since the refresh.
fn log_apply_calls(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) {
    let made: Vec<(&String, u64)> = after
        .iter()
        .map(|(k, v)| (k, v.saturating_sub(before.get(k).copied().unwrap_or(0))))
        .filter(|(_, n)| *n > 0)
        .collect();
    if made.is_empty() {
        return;
    }
    let total: u64 = made.iter().map(|(_, n)| n).sum();
    let list: Vec<String> = made.iter().map(|(k, n)| format!("{k}={n}")).collect();
    tracing::info!("apply made {total} API calls: {}", list.join(" "));
}

/// `apply --refresh-only`: records the live values of drifted resources in the state.
async fn refresh_only(
    live: &LiveState,
    state: Option<StateFile>,
    (state_backend, state_expect): (Arc<dyn StateBackend>, Expect),
    auto_approve: bool,
    global: &GlobalArgs,
) -> CliResult<u8> {
    let Some(state) = state else {
        return Err(CliError::with_hint(
            "there is no state to refresh yet",
            "run `landfall apply` first",
        ));
    };
    let (next, accepted) = landfall_core::drift::accept_live(live, &state);
    if accepted.is_empty() {
        stdout::println("No drift to accept: the state matches what is live.")?;
        return Ok(SUCCESS);
    }
    let mut text = format!(
        "Accept the live values of {} resource(s) into the state (nothing changes live):\n",
        accepted.len()
    );
    for address in &accepted {
        let what = if next.resources.contains_key(address) {
            "record live attributes"
        } else {
            "forget (deleted outside Landfall)"
        };
        text.push_str(&format!("  {address}: {what}\n"));
    }
    stdout::show_before_change(&text)?;
    let hint = format!(
        "review what would be recorded, then run `landfall apply --refresh-only --auto-approve{}`",
        global.rerun_flags()
    );
    if !auto_approve && !confirm_with("Record them?", &hint)? {
        eprintln!("Cancelled; the state is unchanged.");
        return Err(CliError::Reported);
    }
    let store = StateStore::new(state_backend.clone(), state, state_expect);
    store
        .update(|s| {
            s.resources = next.resources.clone();
        })
        .await?;
    stdout::println(&format!(
        "Accepted {} live value(s) into {}. `landfall plan` now shows what restoring the desired state would change.",
        accepted.len(),
        state_backend.location()
    ))?;
    Ok(SUCCESS)
}
