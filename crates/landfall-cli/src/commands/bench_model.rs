//! `landfall bench apply` and `landfall bench refresh`: apply (or refresh) landing zones
//! on the sim's AWS model (`landfall_sim::model`) under a paused tokio clock, and
//! compare the makespan with a lower bound computed from the same run's work.
//!
//! The run is on a current-thread runtime whose clock starts paused, in its own OS
//! thread: every `tokio::time::sleep` (the model's latencies and operation durations,
//! the executor's backoff and polling) advances virtual time the moment every task is
//! waiting, so an hour of AWS time takes seconds of CPU and the figures do not depend on
//! the machine.
//!
//! The lower bound is the largest of:
//! - the critical path through the plan's dependency graph (`Change::depends_on`),
//!   each change weighted by the calls it made (served ones, status polls aside) at the
//!   model's mean latency, plus, per asynchronous operation it started, the operation's
//!   mean duration and one poll;
//! - for each token bucket, (calls it served − its burst) ÷ its refill rate;
//! - for each hard concurrency limit, the operations' mean durations ÷ the limit.
//!
//! Calls are attributed to changes by tokio task: the executor runs each change in a
//! task of its own, the `Progress::started` hook records which, and the model logs the
//! task of each call.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use landfall_core::model::{DesiredState, SimSettings};
use landfall_core::plan::{Change, Plan, StateRef};
use landfall_core::state::StateFile;
use landfall_engine::apply::{self, ApplyOptions, Progress};
use landfall_engine::provider::Provider;
use landfall_engine::refresh;
use landfall_engine::state_store::StateStore;
use landfall_sim::SimBackend;
use landfall_sim::model::{self, AsyncKind, AwsModel, CallRecord, Outcome, mean_latency};
use tokio::time::Instant;

use super::SUCCESS;
use super::bench::{Shape, generate_toml};
use crate::cli::ModelBenchArgs;
use crate::error::{CliError, CliResult};
use crate::stdout;

/// Throttling is reported overall and for the calls after this much virtual time,
/// once a client-side limiter has had time to adapt.
const ADAPTED_AFTER: Duration = Duration::from_secs(10);

/// What `bench apply` and `bench refresh` are asked.
#[derive(Clone)]
pub struct ModelBench {
    /// `example` or an account count.
    pub zones: Vec<String>,
    pub throttle_rate: f64,
    pub seed: u64,
    pub parallelism: usize,
    /// The example landing zone's configuration.
    pub example: PathBuf,
}

impl ModelBench {
    /// From the arguments, with the command's default zones.
    pub fn from_args(args: &ModelBenchArgs, default_zones: &[&str]) -> CliResult<Self> {
        if !(0.0..=1.0).contains(&args.throttle_rate) {
            return Err(CliError::with_hint(
                format!(
                    "--throttle-rate {} is not between 0 and 1",
                    args.throttle_rate
                ),
                "e.g. `--throttle-rate 0.3` throttles three calls in ten on top of the model",
            ));
        }
        let zones = if args.zones.is_empty() {
            default_zones.iter().map(ToString::to_string).collect()
        } else {
            args.zones.iter().map(|z| z.trim().to_string()).collect()
        };
        Ok(ModelBench {
            zones,
            throttle_rate: args.throttle_rate,
            seed: args.seed,
            parallelism: args.parallelism,
            example: args.example.clone(),
        })
    }
}

/// One measured run.
struct Row {
    zone: String,
    changes: usize,
    makespan: Duration,
    bound: Bound,
    calls: usize,
    retries: usize,
    throttled: Share,
    adapted: Share,
    injected: usize,
}

#[derive(Default)]
struct Share {
    throttled: usize,
    of: usize,
}

impl Share {
    fn percent(&self) -> f64 {
        if self.of == 0 {
            0.0
        } else {
            100.0 * self.throttled as f64 / self.of as f64
        }
    }
}

/// The lower bound and the term that set it.
struct Bound {
    value: Duration,
    term: String,
}

impl Bound {
    /// The largest of the terms (`(duration, what)`), or zero.
    fn of(terms: Vec<(Duration, String)>) -> Bound {
        for (value, term) in &terms {
            tracing::info!("lower bound term: {:.1} s, {term}", value.as_secs_f64());
        }
        terms
            .into_iter()
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(value, term)| Bound { value, term })
            .unwrap_or(Bound {
                value: Duration::ZERO,
                term: "nothing to do".into(),
            })
    }
}

/// Runs `work` on a current-thread tokio runtime whose clock starts paused, in its
/// own OS thread (the CLI's own runtime is multi-threaded and on the wall clock).
fn on_virtual_clock<T, F, Fut>(work: F) -> CliResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = CliResult<T>>,
{
    std::thread::spawn(move || {
        // `start_paused` needs tokio's `test-util` feature (enabled for this crate for
        // exactly this): a paused clock jumps to the next timer whenever every task
        // waits, which is what makes AWS-scale durations cheap and deterministic.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .map_err(|e| CliError::new(format!("cannot start the benchmark runtime: {e}")))?;
        runtime.block_on(work())
    })
    .join()
    .map_err(|_| CliError::new("the benchmark thread stopped unexpectedly"))?
}

/// Loads the desired state of a zone: the example, or a generated one of N accounts
/// written into `dir`.
fn load_zone(zone: &str, example: &Path, dir: &Path) -> CliResult<(String, DesiredState)> {
    let (name, path) = if zone == "example" {
        ("example".to_string(), example.to_path_buf())
    } else {
        let accounts: usize = zone.parse().map_err(|_| {
            CliError::with_hint(
                format!("`{zone}` is not a zone"),
                "zones are `example` or an account count, e.g. `--zones example,100,1000`",
            )
        })?;
        let path = dir.join(format!("lz-{accounts}.toml"));
        std::fs::write(
            &path,
            generate_toml("bench", &Shape::for_accounts(accounts)),
        )
        .map_err(|e| CliError::new(format!("cannot write {}: {e}", path.display())))?;
        (format!("{accounts} accounts"), path)
    };
    let loaded = landfall_config::load(&path).map_err(|d| {
        CliError::new(format!(
            "{} is not a valid landing zone:\n{}",
            path.display(),
            d.render(false)
        ))
    })?;
    Ok((name, loaded.desired))
}

/// A sim on the AWS model for `desired`, configured as `landfall apply` configures one.
fn model_sim(desired: &DesiredState, bench: &ModelBench) -> SimBackend {
    let lz = &desired.landing_zone;
    let settings = SimSettings {
        seed: bench.seed,
        throttle_rate: bench.throttle_rate,
        ..SimSettings::default()
    };
    let mut sim = SimBackend::in_memory_aws(settings, lz.quotas.clone())
        .with_home_region(&lz.home_region)
        .with_access_role(&lz.access_role);
    if let Some(ct) = &lz.control_tower {
        sim = sim.with_control_operations_in_flight(ct.control_operations_in_flight);
    }
    sim
}

fn apply_options(desired: &DesiredState, parallelism: usize) -> ApplyOptions {
    let control_tower = desired.landing_zone.control_tower.as_ref();
    ApplyOptions {
        parallelism: parallelism.max(1),
        allow_close: false,
        control_operations_in_flight: control_tower.map(|ct| ct.control_operations_in_flight),
        account_factory_in_flight: control_tower.map(|ct| ct.account_operations_in_flight),
    }
}

/// Reads the world as `landfall plan` does and plans `desired` against it.
async fn plan_against(
    provider: &Arc<dyn Provider>,
    desired: &DesiredState,
    state: &StateFile,
) -> CliResult<Plan> {
    let world = refresh::identity(provider.as_ref())
        .await
        .map_err(CliError::new)?;
    let mut live = refresh::organization(provider.as_ref())
        .await
        .map_err(CliError::new)?;
    refresh::members_and_governance(provider, desired, &mut live, Some(state))
        .await
        .map_err(|e| CliError::new(format!("{}: {}", e.context, e.source)))?;
    landfall_core::diff::compute_plan(
        desired,
        &live,
        state,
        StateRef {
            lineage: Some(state.lineage),
            serial: state.serial,
        },
        &world,
    )
    .map_err(|e| CliError::new(format!("cannot plan the landing zone: {e}")))
}

/// Records which tokio task runs which change.
#[derive(Default)]
struct Attribution {
    tasks: Mutex<HashMap<tokio::task::Id, (String, String)>>,
}

impl Progress for Attribution {
    fn started(&self, change: &Change) {
        if let Some(task) = tokio::task::try_id() {
            self.tasks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(task, change_key(change));
        }
    }
}

fn change_key(change: &Change) -> (String, String) {
    (change.address.to_string(), format!("{:?}", change.action))
}

/// Applies one zone from a fresh world and measures it; returns the sim (converged)
/// for a refresh after it.
async fn apply_zone(
    zone: String,
    desired: DesiredState,
    bench: &ModelBench,
) -> CliResult<(Row, Arc<SimBackend>)> {
    let sim = Arc::new(model_sim(&desired, bench));
    let provider: Arc<dyn Provider> = sim.clone();
    let world = refresh::identity(provider.as_ref())
        .await
        .map_err(CliError::new)?;
    let state = StateFile::new(&desired.landing_zone.name, world);
    let plan = plan_against(&provider, &desired, &state).await?;
    let model = sim
        .aws_model()
        .ok_or_else(|| CliError::new("the sim has no AWS model"))?;
    model.clear_log();
    let store = Arc::new(StateStore::in_memory(state));
    let attribution = Arc::new(Attribution::default());
    let options = apply_options(&desired, bench.parallelism);
    let start = Instant::now();
    let outcome = apply::apply(
        plan.clone(),
        provider.clone(),
        store.clone(),
        &options,
        attribution.clone(),
    )
    .await;
    let makespan = start.elapsed();
    if !outcome.succeeded() {
        let first = outcome
            .failures
            .first()
            .map(ToString::to_string)
            .unwrap_or_else(|| format!("{} changes skipped", outcome.skipped));
        return Err(CliError::with_hint(
            format!(
                "{zone}: the apply did not converge on the AWS model after {:.1} virtual s ({} of {} changes done, {} retries): {first}",
                makespan.as_secs_f64(),
                outcome.completed,
                plan.changes.len(),
                outcome.retries
            ),
            "a call ran out of retries against the model's throttling: the client paces too little for the bucket it shares",
        ));
    }
    let calls = model.calls();
    let tasks = attribution
        .tasks
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let bound = apply_bound(&plan, &calls, model, &tasks, &options);
    let (throttled, adapted, injected) = shares(&calls, start);
    let row = Row {
        zone,
        changes: plan.changes.len(),
        makespan,
        bound,
        calls: calls.len(),
        retries: outcome.retries,
        throttled,
        adapted,
        injected,
    };
    Ok((row, sim))
}

/// Throttled share overall and after [`ADAPTED_AFTER`], and the injected count.
fn shares(calls: &[CallRecord], start: Instant) -> (Share, Share, usize) {
    let mut all = Share::default();
    let mut adapted = Share::default();
    let mut injected = 0;
    for call in calls {
        let throttled = call.outcome == Outcome::Throttled;
        injected += usize::from(call.outcome == Outcome::Injected);
        all.of += 1;
        all.throttled += usize::from(throttled);
        if call.at.saturating_duration_since(start) >= ADAPTED_AFTER {
            adapted.of += 1;
            adapted.throttled += usize::from(throttled);
        }
    }
    (all, adapted, injected)
}

fn is_poll(api: &str) -> bool {
    AsyncKind::ALL.iter().any(|k| k.poll_api() == api)
}

/// The bucket terms: for each bucket, (served calls − burst) ÷ refill rate.
fn bucket_terms(calls: &[CallRecord]) -> Vec<(Duration, String)> {
    let mut served: BTreeMap<&(&'static str, String), (usize, model::ThrottleClass)> =
        BTreeMap::new();
    for call in calls.iter().filter(|c| c.outcome == Outcome::Served) {
        let entry = served.entry(&call.bucket).or_insert((0, call.class));
        entry.0 += 1;
    }
    served
        .into_iter()
        .map(|((name, scope), (n, class))| {
            let secs = (n as f64 - class.capacity).max(0.0) / class.refill_per_second;
            let scope = if scope.is_empty() {
                String::new()
            } else {
                format!(" in {scope}")
            };
            (
                Duration::from_secs_f64(secs),
                format!(
                    "bucket {name}{scope}: {n} calls, burst {}, {}/s",
                    class.capacity, class.refill_per_second
                ),
            )
        })
        .collect()
}

fn apply_bound(
    plan: &Plan,
    calls: &[CallRecord],
    model: &AwsModel,
    tasks: &HashMap<tokio::task::Id, (String, String)>,
    options: &ApplyOptions,
) -> Bound {
    // Change index by (address, action); the same key twice keeps the first.
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for (i, change) in plan.changes.iter().enumerate() {
        index.entry(change_key(change)).or_insert(i);
    }
    let change_of = |task: Option<tokio::task::Id>| {
        task.and_then(|t| tasks.get(&t))
            .and_then(|key| index.get(key).copied())
    };
    let mut weight = vec![Duration::ZERO; plan.changes.len()];
    for call in calls {
        if call.outcome != Outcome::Served || is_poll(call.api) {
            continue;
        }
        if let Some(i) = change_of(call.task) {
            weight[i] += call.latency;
        }
    }
    let operations = model.operations();
    let mut by_kind: BTreeMap<AsyncKind, usize> = BTreeMap::new();
    for op in &operations {
        *by_kind.entry(op.kind).or_default() += 1;
        if let Some(i) = change_of(op.task) {
            weight[i] += op.ready_at.saturating_duration_since(op.started)
                + mean_latency(op.kind.poll_api(), false);
        }
    }
    let starts = earliest_starts(plan, &weight);
    let critical = starts
        .iter()
        .zip(&weight)
        .filter_map(|(start, w)| start.map(|s| s + *w))
        .max()
        .unwrap_or(Duration::ZERO);
    let mut terms = vec![(critical, "critical path".to_string())];
    terms.extend(bucket_terms(calls));
    // Each hard concurrency limit: its operations, each released no earlier than its
    // change can start (the critical-path start), run on `limit` servers.
    let limit_term = |kinds: &[AsyncKind], limit: usize, what: &str| {
        let jobs: Vec<(Duration, Duration)> = operations
            .iter()
            .filter(|op| kinds.contains(&op.kind))
            .map(|op| {
                let release = change_of(op.task)
                    .and_then(|i| starts.get(i).copied().flatten())
                    .unwrap_or(Duration::ZERO);
                (release, op.ready_at.saturating_duration_since(op.started))
            })
            .collect();
        let (bound, from) = released_work(&jobs, limit.max(1));
        let count = kinds
            .iter()
            .map(|k| by_kind.get(k).copied().unwrap_or(0))
            .sum::<usize>();
        let mut label = format!("{count} {what}, {limit} in flight");
        if from >= Duration::from_secs(1) {
            label.push_str(&format!(
                " (those released after {:.0} s)",
                from.as_secs_f64()
            ));
        }
        (bound, label)
    };
    terms.push(limit_term(
        &[AsyncKind::AccountCreation],
        model::CREATE_ACCOUNT_IN_PROGRESS,
        "account creations",
    ));
    let control_quota = options.control_operations_in_flight.unwrap_or(10).max(1);
    terms.push(limit_term(
        &[AsyncKind::ControlOperation, AsyncKind::BaselineOperation],
        control_quota,
        "Control Tower operations",
    ));
    terms.push(limit_term(
        &[AsyncKind::Provisioning],
        model::ACCOUNT_FACTORY_IN_FLIGHT,
        "Account Factory provisionings",
    ));
    Bound::of(terms)
}

/// The release-date bound of jobs `(release, duration)` on `servers` parallel
/// servers: for every release time `t`, the jobs released at or after `t` cannot
/// finish before `t` + their total duration ÷ `servers`. Returns the largest such
/// time and the `t` that gives it (`t = 0` is plain work ÷ servers).
fn released_work(jobs: &[(Duration, Duration)], servers: usize) -> (Duration, Duration) {
    let mut jobs = jobs.to_vec();
    jobs.sort();
    let mut best = (Duration::ZERO, Duration::ZERO);
    let mut after = Duration::ZERO;
    for (release, duration) in jobs.iter().rev() {
        after += *duration;
        let candidate = *release + after / servers as u32;
        if candidate > best.0 {
            best = (candidate, *release);
        }
    }
    best
}

/// When each change can start at the earliest, each change weighted (`None` for one
/// on a cycle or naming a missing index, which a plan never has).
fn earliest_starts(plan: &Plan, weight: &[Duration]) -> Vec<Option<Duration>> {
    let n = plan.changes.len();
    let mut start: Vec<Option<Duration>> = vec![None; n];
    let mut done = 0;
    while done < n {
        let before = done;
        for (i, change) in plan.changes.iter().enumerate() {
            if start[i].is_some() {
                continue;
            }
            let ready: Option<Vec<Duration>> = change
                .depends_on
                .iter()
                .map(|&d| {
                    start
                        .get(d)
                        .copied()
                        .flatten()
                        .map(|s| s + weight.get(d).copied().unwrap_or_default())
                })
                .collect();
            if let Some(ready) = ready {
                start[i] = Some(ready.into_iter().max().unwrap_or(Duration::ZERO));
                done += 1;
            }
        }
        if done == before {
            break;
        }
    }
    start
}

/// `work`: what the second column counts (changes applied, accounts read).
fn print_header(title: &str, work: &str) -> CliResult<bool> {
    stdout::still_read(&format!(
        "{title}\n{:>12} {:>8} {:>11} {:>11} {:>6} {:>7} {:>7} {:>9} {:>11} {:>8}  bound set by\n",
        "zone",
        work,
        "makespan",
        "bound",
        "ratio",
        "calls",
        "retries",
        "throttled",
        "after 10 s",
        "injected",
    ))
}

fn print_row(row: &Row) -> CliResult<bool> {
    let bound = row.bound.value.as_secs_f64();
    let makespan = row.makespan.as_secs_f64();
    let ratio = if bound > 0.0 { makespan / bound } else { 0.0 };
    stdout::still_read(&format!(
        "{:>12} {:>8} {:>10.1}s {:>10.1}s {:>6.2} {:>7} {:>7} {:>8.1}% {:>10.1}% {:>8}  {}\n",
        row.zone,
        row.changes,
        makespan,
        bound,
        ratio,
        row.calls,
        row.retries,
        row.throttled.percent(),
        row.adapted.percent(),
        row.injected,
        row.bound.term,
    ))
}

/// `landfall bench apply`.
pub fn apply(bench: ModelBench) -> CliResult<u8> {
    let title = format!(
        "landfall bench apply: fresh worlds on the sim's AWS model (seed {}, injected throttle_rate {}, parallelism {}); virtual seconds",
        bench.seed, bench.throttle_rate, bench.parallelism
    );
    if !print_header(&title, "changes")? {
        return Ok(SUCCESS);
    }
    let dir = tempfile::tempdir().map_err(CliError::new)?;
    let mut failed = Vec::new();
    for zone in bench.zones.clone() {
        let (name, desired) = load_zone(&zone, &bench.example, dir.path())?;
        let bench = bench.clone();
        let row = on_virtual_clock(move || async move {
            apply_zone(name, desired, &bench).await.map(|(row, _)| row)
        });
        match row {
            Ok(row) if !print_row(&row)? => return Ok(SUCCESS),
            Ok(_) => {}
            // A zone that does not converge is a result too: say so, measure the rest.
            Err(e) => failed.push(e),
        }
    }
    finish(failed)
}

/// Exit 0, or the first zone that did not converge (each reported on stderr).
fn finish(failed: Vec<CliError>) -> CliResult<u8> {
    let mut failed = failed.into_iter();
    match failed.next() {
        None => Ok(SUCCESS),
        Some(first) => {
            for other in failed {
                other.print();
            }
            Err(first)
        }
    }
}

/// `landfall bench refresh`: converges each zone on the model, then times one full
/// refresh of the organization (what `landfall plan` reads of it).
pub fn refresh(bench: ModelBench) -> CliResult<u8> {
    let title = format!(
        "landfall bench refresh: a full organization refresh of converged zones on the sim's AWS model (seed {}, injected throttle_rate {}); virtual seconds",
        bench.seed, bench.throttle_rate
    );
    if !print_header(&title, "accounts")? {
        return Ok(SUCCESS);
    }
    let dir = tempfile::tempdir().map_err(CliError::new)?;
    let mut failed = Vec::new();
    for zone in bench.zones.clone() {
        let (name, desired) = load_zone(&zone, &bench.example, dir.path())?;
        let bench = bench.clone();
        let row = on_virtual_clock(move || async move {
            let (_, sim) = apply_zone(name.clone(), desired.clone(), &bench).await?;
            refresh_zone(name, &desired, sim).await
        });
        match row {
            Ok(row) if !print_row(&row)? => return Ok(SUCCESS),
            Ok(_) => {}
            Err(e) => failed.push(e),
        }
    }
    finish(failed)
}

async fn refresh_zone(
    zone: String,
    desired: &DesiredState,
    sim: Arc<SimBackend>,
) -> CliResult<Row> {
    let model = sim
        .aws_model()
        .ok_or_else(|| CliError::new("the sim has no AWS model"))?;
    // Let every bucket refill: the refresh starts from a rested organization.
    tokio::time::sleep(Duration::from_secs(600)).await;
    model.clear_log();
    let provider: Arc<dyn Provider> = sim.clone();
    let start = Instant::now();
    let live = refresh::organization(provider.as_ref())
        .await
        .map_err(CliError::new)?;
    let makespan = start.elapsed();
    let calls = model.calls();
    let mut terms = bucket_terms(&calls);
    terms.push(refresh_path(desired));
    let (throttled, adapted, injected) = shares(&calls, start);
    Ok(Row {
        zone,
        changes: live.accounts.len(),
        makespan,
        bound: Bound::of(terms),
        calls: calls.len(),
        retries: calls
            .iter()
            .filter(|c| c.outcome != Outcome::Served)
            .count(),
        throttled,
        adapted,
        injected,
    })
}

/// The refresh's critical path: the walk lists each parent's children, so it needs
/// one round trip per level of the OU tree below the root, and one for the root.
fn refresh_path(desired: &DesiredState) -> (Duration, String) {
    const LEVEL_READ: &str = "ListOrganizationalUnitsForParent";
    let depth = desired
        .ous
        .keys()
        .map(|p| p.to_string().matches('/').count() + 1)
        .max()
        .unwrap_or(0);
    let levels = depth as u32 + 1;
    (
        mean_latency(LEVEL_READ, false) * levels,
        format!("tree depth {depth}: {levels} × {LEVEL_READ}"),
    )
}
