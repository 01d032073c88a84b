//! `landfall plan` and `landfall apply`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use landfall_core::diff::{PlanError, compute_plan};
use landfall_core::plan::{Plan, StateRef};
use landfall_core::state::StateFile;
use landfall_core::{LiveState, WorldIdentity};
use landfall_engine::apply::{self, ApplyOptions, check_applicable};
use landfall_engine::state_store::{StateLock, StateStore};

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

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub async fn plan(global: &GlobalArgs, args: &PlanArgs) -> CliResult<u8> {
    let t0 = Instant::now();
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
    let Session {
        backend,
        world,
        live,
        state,
        refresh_time: t_refresh,
    } = Session::open(&ws, backend, Reads::Everything).await?;
    let t2 = Instant::now();
    let scps = super::guard::Scps::new(&ws, &live);
    super::guard::check_expectations(&ws, &scps.desired)?;
    super::guard::check_lockout(&ws, &live, &scps, args.allow_lockout)?;
    let mut plan = make_plan(&ws, &live, state.as_ref(), &world)?;
    super::guard::add_blast_radius(&ws, &scps, &mut plan);
    plan.refresh_calls = backend.provider.call_counts();
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
        let mut s = serde_json::to_string_pretty(&plan).map_err(CliError::new)?;
        s.push('\n');
        s
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

fn read_plan(path: &Path) -> CliResult<Plan> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::new(format!("cannot read plan {}: {e}", path.display())))?;
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
    let ws = context::load(global)?;
    let backend = context::open_backend(&ws, global).await?;
    let _lock = StateLock::acquire_waiting(&ws.state_path, "landfall apply", args.lock_timeout)?;
    context::create_organization_if_missing(&backend, args.auto_approve, global).await?;
    let Session {
        backend,
        world,
        live,
        state,
        ..
    } = Session::open(&ws, backend, Reads::Everything).await?;
    let provider = backend.provider.clone();
    if args.refresh_only {
        return refresh_only(&ws, &live, state, args.auto_approve, global);
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
    let scps = super::guard::Scps::new(&ws, &live);
    super::guard::check_expectations(&ws, &scps.desired)?;
    super::guard::check_lockout(&ws, &live, &scps, args.allow_lockout)?;
    let plan = match &args.plan_file {
        Some(file) => read_plan(file)?,
        None => {
            let mut plan = make_plan(&ws, &live, state.as_ref(), &world)?;
            super::guard::add_blast_radius(&ws, &scps, &mut plan);
            plan
        }
    };
    check_applicable(&plan, state.as_ref(), &world, &options).map_err(|e| {
        let hint = match e {
            apply::NotApplicable::Stale { .. } => "make a new plan with `landfall plan --out FILE`",
            apply::NotApplicable::OtherWorld { .. } => "check --backend and the state file",
            apply::NotApplicable::ClosesAccounts(_) => {
                "rerun with --allow-close if closing is intended"
            }
        };
        CliError::with_hint(e.to_string(), hint)
    })?;
    if plan.is_empty() {
        stdout::println("No changes. The live organization matches the desired state.")?;
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
        Some(s) => s,
        None => StateFile::new(&ws.desired.landing_zone.name, world.clone()),
    };
    let store = Arc::new(StateStore::new(ws.state_path.clone(), state));
    store.flush()?;
    let total = plan.changes.len();
    let progress = Arc::new(ApplyProgress::new(total));
    let started = Instant::now();
    let outcome = apply::apply(plan, provider, store, &options, progress.clone()).await;
    progress.finish();
    let elapsed = started.elapsed().as_secs_f64();
    if outcome.succeeded() {
        stdout::println(&format!(
            "Apply complete: {} change(s) in {elapsed:.1}s ({} retried call(s)). State saved to {}.",
            outcome.completed,
            outcome.retries,
            ws.state_path.display()
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
            "the state file {} records every completed change; fix the cause and rerun `landfall apply` to resume",
            ws.state_path.display()
        ),
    ))
}

/// `apply --refresh-only`: records the live values of drifted resources in the state.
fn refresh_only(
    ws: &Workspace,
    live: &LiveState,
    state: Option<StateFile>,
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
    let store = StateStore::new(ws.state_path.clone(), state);
    store.update(|s| {
        s.resources = next.resources.clone();
    })?;
    stdout::println(&format!(
        "Accepted {} live value(s) into {}. `landfall plan` now shows what restoring the desired state would change.",
        accepted.len(),
        ws.state_path.display()
    ))?;
    Ok(SUCCESS)
}
