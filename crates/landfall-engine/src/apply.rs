//! The executor: runs a plan's changes against a [`Provider`], independent changes
//! concurrently (bounded by `parallelism` and per-API limits), retrying throttling and
//! concurrent-modification errors with exponential backoff and jitter, and writing the
//! state after every completed change. On a failure, no new change starts, in-flight
//! ones finish, and the state on disk describes exactly what was done — so a rerun
//! resumes where this one stopped.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use tokio::task::JoinSet;

use crate::call::Call;
use crate::pacing::PaceKey;
use crate::provider::{
    ApiLimits, ErrorKind, MemberScope, Provider, ProviderError, ProviderResult, Reply,
};
use crate::state_store::{StateError, StateStore};
use crate::typed_calls::FromReply;
use landfall_core::address::Address;
use landfall_core::plan::{Action, Change, Op, Plan, Record, Ref};
use landfall_core::state::{ResourceRecord, StateFile};

mod governance_ops;
mod identity_ops;
mod member_ops;
mod organization_ops;
mod priority;
mod security_ops;

use priority::{OwnedPermit, Permit, PrioritySemaphore};

#[derive(Clone, Debug)]
pub struct ApplyOptions {
    pub parallelism: usize,
    pub allow_close: bool,
    /// Control Tower control operations in flight (`[control_tower]`), overriding
    /// the backend's default.
    pub control_operations_in_flight: Option<usize>,
    /// Account Factory operations in flight (`[control_tower]`).
    pub account_factory_in_flight: Option<usize>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 10,
            allow_close: false,
            control_operations_in_flight: None,
            account_factory_in_flight: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{address}: {source}")]
    Provider {
        address: Address,
        source: Box<ProviderError>,
    },
    #[error("{address}: account creation for {email} failed: {reason}")]
    AccountCreationFailed {
        address: Address,
        email: String,
        reason: String,
    },
    #[error(
        "{address}: account creation for {email} still IN_PROGRESS after {polls} status checks"
    )]
    AccountCreationTimedOut {
        address: Address,
        email: String,
        polls: u32,
    },
    /// A Control Tower operation or an Account Factory provisioning record failed.
    #[error("{address}: {api} failed: {message}")]
    OperationFailed {
        address: Address,
        api: &'static str,
        message: String,
    },
    #[error("{address}: {api} still in progress after {polls} status checks")]
    OperationTimedOut {
        address: Address,
        api: &'static str,
        polls: u32,
    },
    #[error("{address}: {reference} has no physical id (it was not created)")]
    Unresolved {
        address: Address,
        reference: Box<Address>,
    },
    #[error("{address}: the plan has no id for this resource")]
    MissingId { address: Address },
    /// A member-account operation in a change that names no member account: a saved
    /// plan edited by hand, or written by an incompatible Landfall.
    #[error("{address}: the plan names no member account for this member-account change")]
    NoMemberAccount { address: Address },
    #[error(transparent)]
    State(#[from] StateError),
}

impl ApplyError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ApplyError::AccountCreationFailed { reason, .. } => Some(
                match reason.as_str() {
                    "EMAIL_ALREADY_EXISTS" => "another AWS account already uses this root email; declare a different email",
                    "ACCOUNT_LIMIT_EXCEEDED" => "the organization reached its account quota; request an increase in Service Quotas",
                    "INVALID_EMAIL" => "the root email is not accepted by AWS; declare a valid address",
                    "CONCURRENT_ACCOUNT_MODIFICATION" => "another account operation was running; rerun `landfall apply`",
                    _ => "see the AWS Organizations CreateAccountStatus FailureReason documentation",
                }
                .to_string(),
            ),
            ApplyError::Provider { source, .. } => match &source.kind {
                ErrorKind::AccessDenied => Some(format!(
                    "the caller lacks organizations:{} (or an SCP denies it)",
                    source.api
                )),
                ErrorKind::InjectedFault => Some(
                    "a fault injected by the sim backend; rerun `landfall apply` without LANDFALL_SIM_FAULTS to resume".into(),
                ),
                k if k.is_retryable() => {
                    Some("still throttled after all retries; rerun `landfall apply` to resume".into())
                }
                _ => None,
            },
            ApplyError::OperationFailed { api, .. } => Some(match *api {
                "ProvisionProduct" | "UpdateProvisionedProduct" => "see the provisioned product in Service Catalog and Control Tower's Account Factory page; fix the cause, terminate a TAINTED/ERROR provisioned product if needed, then rerun `landfall apply`".into(),
                "EnableBaseline" | "UpdateEnabledBaseline" | "ResetEnabledBaseline" | "DisableBaseline" => "see the OU in the Control Tower console (Organization); fix the cause (e.g. the parent OU is not registered, the landing zone has drifted, or an account in the OU cannot be enrolled) and rerun `landfall apply`".into(),
                _ => "see the operation in the Control Tower console (Controls); fix the cause (e.g. the OU is not registered, or a parameter is invalid) and rerun `landfall apply`".into(),
            }),
            ApplyError::OperationTimedOut { .. } => Some(
                "the operation may still finish; rerun `landfall apply` later, it waits for it instead of starting another".into(),
            ),
            ApplyError::State(e) => e.hint(),
            _ => None,
        }
    }
}

/// Reports progress; the CLI draws it on the terminal or as plain lines.
pub trait Progress: Send + Sync {
    fn started(&self, _change: &Change) {}
    fn retrying(&self, _change: &Change, _error: &ProviderError, _delay: Duration) {}
    fn finished(&self, _change: &Change) {}
    fn failed(&self, _change: &Change, _error: &ApplyError) {}
}

/// No progress output.
pub struct Silent;
impl Progress for Silent {}

#[derive(Debug, Default)]
pub struct ApplyOutcome {
    pub completed: usize,
    pub failures: Vec<ApplyError>,
    /// Changes not started because an earlier one failed.
    pub skipped: usize,
    pub retries: usize,
}

impl ApplyOutcome {
    pub fn succeeded(&self) -> bool {
        self.failures.is_empty() && self.skipped == 0
    }
}

/// Why a plan cannot be applied as it stands.
#[derive(Debug, thiserror::Error)]
pub enum NotApplicable {
    #[error(
        "the saved plan is stale: it was made against state serial {plan_serial} (lineage {plan_lineage}), and the state is now at serial {state_serial} (lineage {state_lineage})"
    )]
    Stale {
        plan_serial: u64,
        plan_lineage: String,
        state_serial: u64,
        state_lineage: String,
    },
    #[error("the plan was made for {plan_world}, but the backend is {backend_world}")]
    OtherWorld {
        plan_world: String,
        backend_world: String,
    },
    #[error("the plan closes {}; closing accounts needs --allow-close", .0.join(", "))]
    ClosesAccounts(Vec<String>),
    #[error("the plan was made against the state at {plan_state}, but this run's state is {state}")]
    OtherState { plan_state: String, state: String },
}

/// Checks a plan against the current state before anything runs.
pub fn check_applicable(
    plan: &Plan,
    state: Option<&StateFile>,
    state_location: &str,
    world: &landfall_core::live::WorldIdentity,
    options: &ApplyOptions,
) -> Result<(), NotApplicable> {
    if plan.world != *world {
        return Err(NotApplicable::OtherWorld {
            plan_world: plan.world.to_string(),
            backend_world: world.to_string(),
        });
    }
    if let Some(planned) = &plan.state_location
        && planned != state_location
    {
        return Err(NotApplicable::OtherState {
            plan_state: planned.clone(),
            state: state_location.to_string(),
        });
    }
    let (lineage, serial) = match state {
        Some(s) => (Some(s.lineage), s.serial),
        None => (None, 0),
    };
    if plan.state.lineage != lineage || plan.state.serial != serial {
        let show = |l: Option<uuid::Uuid>| l.map_or("none".to_string(), |l| l.to_string());
        return Err(NotApplicable::Stale {
            plan_serial: plan.state.serial,
            plan_lineage: show(plan.state.lineage),
            state_serial: serial,
            state_lineage: show(lineage),
        });
    }
    let closes = plan.closes_accounts();
    if !closes.is_empty() && !options.allow_close {
        return Err(NotApplicable::ClosesAccounts(
            closes.iter().map(ToString::to_string).collect(),
        ));
    }
    Ok(())
}

struct Executor {
    plan: Plan,
    provider: Arc<dyn Provider>,
    store: Arc<StateStore>,
    progress: Arc<dyn Progress>,
    limits: ApiLimits,
    create_accounts: PrioritySemaphore,
    control_operations: PrioritySemaphore,
    account_factory: PrioritySemaphore,
    /// Outstanding asynchronous Identity Center requests.
    identity_requests: PrioritySemaphore,
    /// Per change, the typical seconds of work on the longest path from it to the end
    /// of the plan (itself included): who goes first when changes wait for a slot.
    priorities: Vec<u64>,
    retries: AtomicUsize,
    root_id: Option<String>,
    /// Changes doing work at once (`--parallelism`).
    slots: Arc<PrioritySemaphore>,
    /// Set on the first failure: changes not started yet do not start.
    stopping: AtomicBool,
}

/// Runs the plan. Check it with [`check_applicable`] first.
pub async fn apply(
    plan: Plan,
    provider: Arc<dyn Provider>,
    store: Arc<StateStore>,
    options: &ApplyOptions,
    progress: Arc<dyn Progress>,
) -> ApplyOutcome {
    let limits = provider.limits();
    let root_id = store.id_of(&Address::Root).or_else(|| {
        plan.changes
            .iter()
            .find(|c| c.address == Address::Root)
            .and_then(|c| c.id.clone())
    });
    let total = plan.changes.len();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); total];
    let mut waiting: Vec<usize> = vec![0; total];
    for (i, c) in plan.changes.iter().enumerate() {
        waiting[i] = c.depends_on.len();
        for &d in &c.depends_on {
            if let Some(list) = dependents.get_mut(d) {
                list.push(i);
            }
        }
    }
    tracing::info!(
        "apply: {} change(s), {} working at once; hard limits: {} CreateAccount in progress, {} Control Tower operations, {} Account Factory provisionings, {} Identity Center requests",
        total,
        options.parallelism.max(1),
        limits.create_account_in_flight.max(1),
        options
            .control_operations_in_flight
            .unwrap_or(limits.control_operations_in_flight)
            .max(1),
        options
            .account_factory_in_flight
            .unwrap_or(limits.account_factory_in_flight)
            .max(1),
        limits.identity_requests_in_flight.max(1),
    );
    let exec = Arc::new(Executor {
        create_accounts: PrioritySemaphore::new(limits.create_account_in_flight.max(1)),
        priorities: priorities(&plan, &dependents),
        control_operations: PrioritySemaphore::new(
            options
                .control_operations_in_flight
                .unwrap_or(limits.control_operations_in_flight)
                .max(1),
        ),
        account_factory: PrioritySemaphore::new(
            options
                .account_factory_in_flight
                .unwrap_or(limits.account_factory_in_flight)
                .max(1),
        ),
        identity_requests: PrioritySemaphore::new(limits.identity_requests_in_flight.max(1)),
        limits,
        plan,
        provider,
        store,
        progress,
        retries: AtomicUsize::new(0),
        root_id,
        slots: Arc::new(PrioritySemaphore::new(options.parallelism.max(1))),
        stopping: AtomicBool::new(false),
    });
    // Every change whose dependencies are done starts at once and waits for a
    // working slot (`parallelism` of them); a change waiting on AWS — between polls of
    // an asynchronous operation, or for a hard in-flight limit — gives its slot back
    // (`Executor::idle`), so slow operations never hold up the calls of others.
    let mut ready: Vec<usize> = (0..total).filter(|&i| waiting[i] == 0).collect();
    let mut running = JoinSet::new();
    let mut outcome = ApplyOutcome::default();
    loop {
        if outcome.failures.is_empty() {
            for i in ready.drain(..) {
                let exec = exec.clone();
                running.spawn(async move { (i, exec.run(i).await) });
            }
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        match joined {
            Ok((i, Ok(Ran::Done))) => {
                outcome.completed += 1;
                for &d in &dependents[i] {
                    waiting[d] -= 1;
                    if waiting[d] == 0 {
                        ready.push(d);
                    }
                }
            }
            Ok((_, Ok(Ran::NotStarted))) => {}
            Ok((_, Err(e))) => {
                exec.stopping.store(true, Ordering::Relaxed);
                outcome.failures.push(e);
            }
            Err(join_error) => {
                exec.stopping.store(true, Ordering::Relaxed);
                outcome
                    .failures
                    .push(ApplyError::State(StateError::Corrupt {
                        location: "<executor>".into(),
                        message: format!("a change task stopped unexpectedly: {join_error}"),
                    }));
            }
        }
    }
    outcome.skipped = total - outcome.completed - outcome.failures.len();
    outcome.retries = exec.retries.load(Ordering::Relaxed);
    outcome
}

/// How a change task ended without an error.
enum Ran {
    Done,
    /// An earlier change failed before this one had a slot: it made no call.
    NotStarted,
}

/// What the task running a change holds: its working slot (given back while it
/// waits, see [`Executor::idle`]) and its priority.
struct Working {
    slot: Option<OwnedPermit>,
    priority: u64,
}

tokio::task_local! {
    static WORKING: RefCell<Working>;
}

/// The priority of the change this task runs (0 outside a change).
fn priority() -> u64 {
    WORKING.try_with(|w| w.borrow().priority).unwrap_or(0)
}

/// Per change, the milliseconds of typical work on the longest path from it to the end
/// of the plan. Changes depend only on earlier ones, so one backward pass computes it.
fn priorities(plan: &Plan, dependents: &[Vec<usize>]) -> Vec<u64> {
    let mut rank = vec![0.0f64; plan.changes.len()];
    for (i, change) in plan.changes.iter().enumerate().rev() {
        let own: f64 = change.ops.iter().map(Op::typical_seconds).sum();
        let after = dependents
            .get(i)
            .into_iter()
            .flatten()
            .filter_map(|&d| rank.get(d).copied())
            .fold(0.0, f64::max);
        rank[i] = own + after;
    }
    rank.into_iter().map(|r| (r * 1000.0) as u64).collect()
}

impl Executor {
    async fn run(&self, i: usize) -> Result<Ran, ApplyError> {
        let priority = self.priorities.get(i).copied().unwrap_or(0);
        let slot = self.slots.acquire_owned(priority).await;
        // No new change starts after a failure; those already started finish.
        if self.stopping.load(Ordering::Relaxed) {
            return Ok(Ran::NotStarted);
        }
        let change = &self.plan.changes[i];
        let working = Working {
            slot: Some(slot),
            priority,
        };
        WORKING
            .scope(RefCell::new(working), async {
                self.progress.started(change);
                let result = self.run_change(change).await;
                match &result {
                    Ok(()) => self.progress.finished(change),
                    Err(e) => self.progress.failed(change, e),
                }
                result.map(|()| Ran::Done)
            })
            .await
    }

    /// Waits for `wait` (a poll interval, a hard in-flight limit) without holding the
    /// change's working slot: it is given back for the wait and taken again after.
    async fn idle<F: Future>(&self, wait: F) -> F::Output {
        let held = WORKING
            .try_with(|w| w.borrow_mut().slot.take())
            .ok()
            .flatten();
        let Some(held) = held else {
            return wait.await;
        };
        drop(held);
        let out = wait.await;
        let slot = self.slots.acquire_owned(priority()).await;
        let _ = WORKING.try_with(|w| w.borrow_mut().slot.replace(slot));
        out
    }

    /// A permit of a hard in-flight limit (account creations, Control Tower or Account
    /// Factory operations), served by priority, waited for without a working slot.
    async fn limited<'s>(&self, limit: &'s PrioritySemaphore) -> Permit<'s> {
        self.idle(limit.acquire(priority())).await
    }

    async fn run_change(&self, change: &Change) -> Result<(), ApplyError> {
        let address = &change.address;
        let resumed = self.store.snapshot_pending(address);
        if change.ops.iter().any(Op::creates) {
            // Durable intent before the call: a lost response is adopted as ours.
            self.store
                .update(|s| {
                    s.pending_creates.insert(address.clone());
                })
                .await?;
        }
        let scope = match &change.member {
            Some(m) => Some(MemberScope {
                account_id: self.resolve(change, &m.account)?,
                region: m.region.clone(),
            }),
            None => None,
        };
        let mut id = change.id.clone();
        for op in &change.ops {
            let new_id = match op {
                Op::Organization(op) => {
                    self.run_organization_op(change, op, id.as_deref(), resumed)
                        .await?
                }
                Op::Member(op) => {
                    let scope = scope.as_ref().ok_or_else(|| ApplyError::NoMemberAccount {
                        address: address.clone(),
                    })?;
                    self.run_member_op(change, scope, op, id.as_deref()).await?
                }
                Op::Governance(op) => {
                    self.run_governance_op(change, op, id.as_deref(), resumed)
                        .await?
                }
                Op::Identity(op) => self.run_identity_op(change, op, id.as_deref()).await?,
                Op::Security(op) => {
                    self.run_security_op(change, scope.as_ref(), op, id.as_deref())
                        .await?
                }
            };
            if let Some(new_id) = new_id {
                id = Some(new_id);
            }
        }
        match &change.record {
            Record::Upsert {
                created,
                attributes,
            } => {
                let id = id.ok_or_else(|| ApplyError::MissingId {
                    address: address.clone(),
                })?;
                let record = ResourceRecord::upserted(
                    id,
                    *created,
                    attributes,
                    scope
                        .as_ref()
                        .map(|s| (s.account_id.as_str(), s.region.as_str())),
                );
                self.store
                    .update(|s| {
                        s.pending_creates.remove(address);
                        s.resources.insert(address.clone(), record);
                    })
                    .await?;
            }
            Record::Remove => {
                if change.action != Action::Forget || self.store.id_of(address).is_some() {
                    self.store
                        .update(|s| {
                            s.resources.remove(address);
                        })
                        .await?;
                }
            }
        }
        Ok(())
    }

    fn resolve(&self, change: &Change, r: &Ref) -> Result<String, ApplyError> {
        match r {
            Ref::Id(id) => Ok(id.clone()),
            Ref::Address(a) => self.store.id_of(a).ok_or_else(|| ApplyError::Unresolved {
                address: change.address.clone(),
                reference: Box::new(a.clone()),
            }),
        }
    }

    /// Calls the provider with retries on throttling-class errors. A call paced by a
    /// limiter (`key`) waits for its turn before every attempt and tells the limiter
    /// how it went; reads pass `None` (the backend paces the calls they make).
    async fn call<T, F, Fut>(
        &self,
        change: &Change,
        key: Option<&PaceKey>,
        f: F,
    ) -> Result<T, ApplyError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = ProviderResult<T>>,
    {
        let mut f = f;
        let pacer = self.provider.pacer();
        let attempt = || {
            let fut = f();
            async move {
                match key {
                    Some(key) => pacer.attempt(key, fut).await,
                    None => fut.await,
                }
            }
        };
        attempt
            .retry(backoff(&self.limits))
            .sleep(tokio::time::sleep)
            .when(|e: &ProviderError| e.kind.is_retryable())
            .notify(|e: &ProviderError, delay: Duration| {
                self.retries.fetch_add(1, Ordering::Relaxed);
                self.progress.retrying(change, e, delay);
            })
            .await
            .map_err(|source| ApplyError::Provider {
                address: change.address.clone(),
                source: Box::new(source),
            })
    }

    /// Runs one call for `change`, paced and retried as [`Self::call`] does. An error
    /// that says the call's effect is already in place counts as success (resuming
    /// after a lost response); deletes wait out `DependencyViolation` while AWS
    /// releases what the deleted resource held.
    async fn execute<'c>(
        &self,
        change: &Change,
        call: impl Into<Call<'c>>,
    ) -> Result<Reply, ApplyError> {
        let call = call.into();
        let key = call.pace_key();
        let dependents = |e: &ApplyError| {
            matches!(e, ApplyError::Provider { source, .. }
                if source.kind == ErrorKind::DependencyViolation && call.waits_for_dependents())
        };
        let result = (|| self.call(change, Some(&key), || self.provider.execute(&call)))
            .retry(backoff(&self.limits))
            .sleep(tokio::time::sleep)
            .when(dependents)
            .notify(|e: &ApplyError, delay: Duration| {
                if let ApplyError::Provider { source, .. } = e {
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    self.progress.retrying(change, source, delay);
                }
            })
            .await;
        match result {
            Err(ApplyError::Provider { source, .. }) if call.already_done(&source.kind) => {
                Ok(Reply::default())
            }
            other => other,
        }
    }

    /// [`Self::execute`] for a call that must return an id: a create, or the start
    /// of an asynchronous operation.
    async fn execute_for_id<'c>(
        &self,
        change: &Change,
        call: impl Into<Call<'c>>,
    ) -> Result<String, ApplyError> {
        let call = call.into();
        let reply = self.execute(change, call).await?;
        String::from_reply(call.api(), reply).map_err(|source| ApplyError::Provider {
            address: change.address.clone(),
            source: Box::new(source),
        })
    }

    /// [`Self::execute`] for a call whose reply gives the change no new id.
    async fn done<'c>(
        &self,
        change: &Change,
        call: impl Into<Call<'c>>,
    ) -> Result<Option<String>, ApplyError> {
        self.execute(change, call).await.map(|_| None)
    }

    /// The id of the resource a change works on, which every operation but a create
    /// needs.
    fn target<'a>(change: &Change, id: Option<&'a str>) -> Result<&'a str, ApplyError> {
        id.ok_or_else(|| ApplyError::MissingId {
            address: change.address.clone(),
        })
    }
}

/// Runs a read (identity, refresh) with the provider's retry policy for throttling.
pub async fn with_retries<T, F, Fut>(provider: &dyn Provider, f: F) -> ProviderResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ProviderResult<T>>,
{
    retry_throttled(&provider.limits(), f).await
}

/// Retries `f` on throttling-class errors with exponential backoff and jitter.
pub async fn retry_throttled<T, F, Fut>(limits: &ApiLimits, f: F) -> ProviderResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ProviderResult<T>>,
{
    f.retry(backoff(limits))
        .sleep(tokio::time::sleep)
        .when(|e: &ProviderError| e.kind.is_retryable())
        .await
}

/// The one retry schedule: exponential from `base_backoff` to `max_backoff`, with
/// jitter, at most `max_retries` times.
fn backoff(limits: &ApiLimits) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(limits.base_backoff)
        .with_max_delay(limits.max_backoff)
        .with_max_times(limits.max_retries)
        .with_jitter()
}
