//! The embedded simulated backend: an AWS Organizations world kept in a JSON file
//! (or only in memory), enforcing what AWS enforces and answering with the same
//! error kinds, so users can try a landing zone offline and tests and benchmarks run
//! fast without AWS.
//!
//! Where to look:
//! - [`world`]: the organization's data and every rule (duplicate names, quotas,
//!   non-empty OUs, attached policies, ...). Pure and synchronous.
//! - [`member`]: member accounts' VPCs, subnets, route tables, security groups, VPC
//!   endpoints and KMS keys, with the rules EC2 and KMS enforce. Also pure.
//! - [`governance`]: Control Tower controls and their operations, the Account
//!   Factory, Service Catalog portfolios and shares. Also pure.
//! - [`identity`]: IAM Identity Center permission sets, provisioning, Identity Store
//!   groups and users, account assignments and their asynchronous requests. Also
//!   pure, but for its `refresh_identity` reads.
//! - [`policy_types`]: Organizations policy types on the root (enable, disable,
//!   `RCPFullAWSAccess`, each type's quotas). Also pure.
//! - [`security`]: trusted access, delegated administrators, GuardDuty/Security Hub
//!   admin accounts, S3 buckets, CloudTrail trails, IAM roles, Config aggregators and
//!   Access Analyzer analyzers, with their services' rules. Pure, but for its
//!   `refresh_security` reads.
//! - [`faults`]: latency, throttling and one injected failure, from [`SimSettings`]
//!   and the [`FAULTS_ENV`] variable.
//! - [`model`]: the opt-in AWS model (per-API latency, token-bucket throttling,
//!   asynchronous operations that take their time), `[sim] model = "aws"`.
//! - [`ids`]: AWS-shaped, deterministic ids.
//! - [`store`]: the world file (atomic writes, clear errors for corrupt files).
//! - this file: [`SimBackend`], which puts them together behind
//!   [`landfall_engine::Provider`].
//!
//! A call goes: latency → throttling (`TooManyRequests`, nothing happens; with the AWS
//! model, its bucket decides and its latency is drawn: [`SimBackend::enter_in`]) → for
//! mutating calls, the `fail_at` counter → the rule in [`world::World`] → save the
//! world file (file-backed worlds only, after every successful change). Member-account
//! calls go the same way (they count for `fail_at` too), with the access check
//! (account exists and is active, else `AccessDenied`) just before their rule.
//!
//! Every member-account operation is a plain method, so tests and the CLI can play a
//! console user making out-of-band changes (delete an endpoint, edit a policy, turn
//! key rotation off, add an unmanaged endpoint to a managed VPC); a few operations
//! the provider interface does not need are here for that too
//! ([`SimBackend::disassociate_route_table`], [`SimBackend::set_key_enabled`],
//! [`SimBackend::remove_control`], [`SimBackend::mark_control_drifted`],
//! [`SimBackend::delete_portfolio_and_shares`], [`SimBackend::remove_account_assignment`],
//! [`SimBackend::edit_inline_policy`]); the Identity Store's users and the
//! customer-managed policies of accounts are seeded the same way
//! ([`SimBackend::add_identity_user`], [`SimBackend::add_customer_managed_policy`]).
//! Logging and organization policies have theirs: [`SimBackend::stop_logging`],
//! [`SimBackend::remove_trail`], [`SimBackend::replace_bucket_policy`],
//! [`SimBackend::disable_policy_type`], [`SimBackend::detach_org_policy`],
//! [`SimBackend::edit_org_policy_content`].

// Library code reports through return values and `tracing`; only the binary prints.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod faults;
pub mod governance;
pub mod identity;
pub mod ids;
pub mod member;
pub mod model;
pub mod policy_types;
pub mod security;
pub mod store;
pub mod world;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use landfall_core::live::{
    GovernanceScope, IdentityScope, LiveAccount, LiveGovernance, LiveIdentity, LiveMember, LiveOu,
    LivePolicy, LiveProvisionedAccount, LiveState, PrincipalType, WorldIdentity,
};
use landfall_core::live::{LiveSecurity, SecurityScope};
use landfall_core::model::{CustomerPolicyRef, Quotas, SimModel, SimSettings};
use landfall_core::policy_type::PolicyType;
use landfall_engine::call::SecurityCall;
use landfall_engine::pacing::{ApiClass, PaceKey, Pacer, PacingSettings};
use landfall_engine::provider::{
    ApiLimits, Call, CreateAccountRequest, CreateAccountStatus, ErrorKind, GovernanceCall,
    IdentityCall, IdentityRequest, MemberCall, MemberScope, OperationStatus, OrganizationRoot,
    OrganizationsCall, Page, Provider, ProviderError, ProviderResult, Reply,
};

pub use faults::{
    FAULTS_ENV, GovernanceFaults, governance_faults_from_env, parse_fault_overrides,
    parse_governance_faults, settings_with_env_overrides,
};
pub use governance::GovernanceSettings;
pub use store::SimError;

use faults::{Faults, Injection};
use member::{DEFAULT_ACCESS_ROLE, Member};
use model::{AsyncKind, AwsModel, Service};
use world::{Denied, Rule, World};

/// The simulated AWS Organizations backend.
///
/// `Send + Sync`; the world sits behind a `std::sync::Mutex` that is only ever held
/// for the synchronous part of a call (the rule and the save), never across an
/// `.await`, so concurrent executor tasks serialize on it briefly and cannot deadlock.
pub struct SimBackend {
    world: Mutex<World>,
    /// Where the world is saved after each change; `None` for in-memory worlds.
    path: Option<PathBuf>,
    faults: Faults,
    /// The role named when a member account cannot be entered.
    access_role: String,
    /// Control Tower and Account Factory behaviour (quota, polls, injected failures).
    governance: GovernanceSettings,
    /// The client side: the limiters the executor's writes and this backend's reads
    /// wait on: the AWS backend's under the AWS model, unlimited otherwise
    /// (`client_pacing`).
    pacer: Pacer,
    /// The AWS model, when on: latencies, throttling, operations that take time.
    model: Option<Arc<AwsModel>>,
}

/// The client side's limiters: the AWS backend's under the AWS model (so benchmarks
/// measure what Landfall does against AWS), none otherwise (nothing to wait for).
fn client_pacing(settings: &SimSettings) -> Pacer {
    Pacer::new(match settings.model {
        SimModel::Aws => PacingSettings::aws(),
        SimModel::Instant => PacingSettings::unlimited(),
    })
}

/// The most items AWS Organizations returns in one page of its `List*` calls.
const PAGE_SIZE: usize = 20;

/// One page of the entries of `map` that `keep` keeps, in key order, after the key
/// `token` names (AWS's tokens are opaque; the sim's are the last key of the page
/// before). Starts at the token without walking what comes before it.
fn page_of<V, T>(
    map: &BTreeMap<String, V>,
    token: Option<&str>,
    keep: impl Fn(&V) -> bool,
    item: impl Fn(&String, &V) -> T,
) -> Page<T> {
    let from = match token {
        Some(t) => Bound::Excluded(t),
        None => Bound::Unbounded,
    };
    let mut after = map
        .range::<str, _>((from, Bound::Unbounded))
        .filter(|(_, v)| keep(v))
        .peekable();
    let mut out = Vec::new();
    let mut last = None;
    while out.len() < PAGE_SIZE {
        match after.next() {
            Some((key, value)) => {
                last = Some(key.clone());
                out.push(item(key, value));
            }
            None => break,
        }
    }
    Page {
        items: out,
        next_token: if after.peek().is_some() { last } else { None },
    }
}

fn governance_settings(settings: &SimSettings) -> GovernanceSettings {
    let polls = polls(settings);
    GovernanceSettings {
        control_operation_polls: polls,
        provisioning_polls: polls,
        ..GovernanceSettings::default()
    }
}

/// Polls an asynchronous operation stays `IN_PROGRESS`: none under the AWS model,
/// where time decides instead ([`AwsModel::running`]).
fn polls(settings: &SimSettings) -> u32 {
    match settings.model {
        SimModel::Instant => settings.account_creation_polls,
        SimModel::Aws => 0,
    }
}

fn aws_model(settings: &SimSettings) -> Option<Arc<AwsModel>> {
    match settings.model {
        SimModel::Instant => None,
        SimModel::Aws => Some(Arc::new(AwsModel::new(settings.seed))),
    }
}

impl SimBackend {
    /// Opens the world file, creating it (and its parent directory) when missing.
    ///
    /// `quotas` replace those stored in the world, so quotas overridden in the
    /// landing zone are the ones enforced. A new world's ids are seeded from
    /// `settings.seed`. Control operations and Account Factory records an earlier
    /// process left running are finished (time passed since).
    pub fn open(path: &Path, settings: SimSettings, quotas: Quotas) -> Result<Self, SimError> {
        let world = match store::load(path)? {
            Some(mut world) => {
                world.quotas = quotas;
                let settled_identity = world.settle_identity();
                if world.settle_governance() | settled_identity {
                    store::save(path, &world)?;
                }
                world
            }
            None => {
                let world = World::new(settings.seed, quotas);
                store::save(path, &world)?;
                tracing::info!(path = %path.display(), world = %world.id, "created a new sim world");
                world
            }
        };
        Ok(SimBackend {
            world: Mutex::new(world),
            path: Some(path.to_path_buf()),
            governance: governance_settings(&settings),
            model: aws_model(&settings),
            pacer: client_pacing(&settings),
            faults: Faults::new(settings),
            access_role: DEFAULT_ACCESS_ROLE.to_string(),
        })
    }

    /// A world that lives only in memory (tests, benchmarks); [`Self::save_to`]
    /// writes it out.
    pub fn in_memory(settings: SimSettings, quotas: Quotas) -> Self {
        SimBackend {
            world: Mutex::new(World::new(settings.seed, quotas)),
            path: None,
            governance: governance_settings(&settings),
            model: aws_model(&settings),
            pacer: client_pacing(&settings),
            faults: Faults::new(settings),
            access_role: DEFAULT_ACCESS_ROLE.to_string(),
        }
    }

    /// An in-memory world on the AWS model (benchmarks, tests): `settings` with
    /// `model = "aws"`; `throttle_rate` still injects throttling on top.
    pub fn in_memory_aws(settings: SimSettings, quotas: Quotas) -> Self {
        Self::in_memory(
            SimSettings {
                model: SimModel::Aws,
                ..settings
            },
            quotas,
        )
    }

    /// The AWS model in force, if any: its figures, call log and operations.
    pub fn aws_model(&self) -> Option<&AwsModel> {
        self.model.as_deref()
    }

    /// The role Landfall assumes in member accounts (the landing zone's
    /// `access_role`), named in `AccessDenied` messages. Default:
    /// `OrganizationAccountAccessRole`.
    pub fn with_access_role(mut self, role: impl Into<String>) -> Self {
        self.access_role = role.into();
        self
    }

    /// The Control Tower faults of [`FAULTS_ENV`] ([`governance_faults_from_env`]):
    /// `control_operation_polls` and the controls whose operations fail.
    pub fn with_governance_faults(mut self, faults: GovernanceFaults) -> Self {
        if let Some(polls) = faults.control_operation_polls {
            self.governance.control_operation_polls = polls;
        }
        self.governance.fail_controls.extend(faults.fail_controls);
        self.governance
            .fail_registrations
            .extend(faults.fail_registrations);
        self
    }

    /// Control Tower's quota of control operations in flight (default 10; the
    /// landing zone's `[control_tower] control_operations_in_flight`).
    pub fn with_control_operations_in_flight(mut self, quota: usize) -> Self {
        self.governance.control_operations_in_flight = quota;
        self
    }

    /// The home region, named in enabled-control ARNs of Control Catalog controls
    /// (default `us-east-1`).
    pub fn with_home_region(mut self, region: impl Into<String>) -> Self {
        self.governance.home_region = region.into();
        self
    }

    /// Polls a control operation stays `IN_PROGRESS` (default:
    /// `account_creation_polls`).
    pub fn with_control_operation_polls(mut self, polls: u32) -> Self {
        self.governance.control_operation_polls = polls;
        self
    }

    /// The Control Tower and Account Factory settings in force.
    pub fn governance_settings(&self) -> &GovernanceSettings {
        &self.governance
    }

    /// Writes the world to `path` (atomically), whatever its backing.
    pub fn save_to(&self, path: &Path) -> Result<(), SimError> {
        let bytes = store::to_bytes(&self.lock())?;
        store::write_atomic(path, &bytes)
    }

    /// The world's id (`sim-` and 12 hex digits), what state files are bound to.
    pub fn world_id(&self) -> String {
        self.lock().id.clone()
    }

    /// The organization layer as [`LiveState`], bypassing latency and fault
    /// injection: for tests and benchmarks that need to look without disturbing the
    /// fault sequence. Member accounts are not included (`refresh` does not read them
    /// either); see [`Self::member_snapshot`].
    pub fn snapshot(&self) -> LiveState {
        self.lock().to_live()
    }

    /// One member account and region, bypassing latency, faults and the access check
    /// (empty when nothing exists there).
    pub fn member_snapshot(&self, scope: &MemberScope) -> LiveMember {
        self.lock().member_snapshot(scope)
    }

    /// Every member account and region that holds something, by
    /// [`landfall_core::live::member_key`], bypassing latency and faults.
    pub fn members_snapshot(&self) -> std::collections::BTreeMap<String, LiveMember> {
        self.lock()
            .members
            .iter()
            .map(|(key, member)| (key.clone(), member.to_live()))
            .collect()
    }

    /// Every enabled control, portfolio, share and Account Factory product, bypassing
    /// latency and faults.
    pub fn governance_snapshot(&self) -> LiveGovernance {
        let world = self.lock();
        let mut live = world.governance.to_live();
        live.baselines = Some(world.live_baselines(&self.governance));
        live
    }

    /// Out of band: disables a control on an OU at once (by its short id, e.g.
    /// `AWS-GR_RESTRICT_ROOT_USER`); returns the enabled control's ARN that went away.
    pub async fn remove_control(&self, short_id: &str, ou_id: &str) -> ProviderResult<String> {
        self.mutate("DisableControl", |w| w.remove_control(short_id, ou_id))
            .await
    }

    /// Out of band: marks a control on an OU as drifted (Control Tower's drift
    /// status `DRIFTED`); returns the enabled control's ARN.
    pub async fn mark_control_drifted(
        &self,
        short_id: &str,
        ou_id: &str,
    ) -> ProviderResult<String> {
        self.mutate("ModifyControlResources", |w| {
            w.mark_control_drifted(short_id, ou_id)
        })
        .await
    }

    /// Out of band: deregisters an OU at once (a console user); returns the enabled
    /// baseline's ARN.
    pub async fn deregister_ou(&self, ou_id: &str) -> ProviderResult<String> {
        self.mutate("DisableBaseline", |w| w.deregister_ou(ou_id))
            .await
    }

    /// Out of band: marks an OU's registration as drifted; returns the enabled
    /// baseline's ARN.
    pub async fn mark_registration_drifted(&self, ou_id: &str) -> ProviderResult<String> {
        self.mutate("ModifyBaselineResources", |w| {
            w.mark_registration_drifted(ou_id)
        })
        .await
    }

    /// Out of band: sets up, breaks or removes the Control Tower landing zone (a
    /// console user decommissioning it, or Control Tower reporting drift).
    pub fn set_landing_zone(&self, landing_zone: governance::LandingZone) -> ProviderResult<()> {
        let mut world = self.lock();
        world.governance.landing_zone = landing_zone;
        self.persist("UpdateLandingZone", &world)
    }

    /// Out of band: turns Service Catalog's AWS Organizations access on or off.
    pub fn set_organizations_access(&self, enabled: bool) -> ProviderResult<()> {
        let mut world = self.lock();
        world.governance.organizations_access_disabled = !enabled;
        self.persist("EnableAWSOrganizationsAccess", &world)
    }

    /// Out of band: turns trusted access for AWS Account Management on or off.
    pub fn set_account_management_access(&self, enabled: bool) -> ProviderResult<()> {
        let mut world = self.lock();
        world.account_management_access_disabled = !enabled;
        self.persist("EnableAWSServiceAccess", &world)
    }

    /// Out of band: deletes a portfolio together with its shares (a console user
    /// unsharing it, then deleting it).
    pub async fn delete_portfolio_and_shares(&self, portfolio_id: &str) -> ProviderResult<()> {
        self.mutate("DeletePortfolio", |w| {
            w.delete_portfolio_and_shares(portfolio_id)
        })
        .await
    }

    /// `DisassociateRouteTable` for a subnet's explicit association (an out-of-band
    /// change; Landfall itself only associates).
    pub async fn disassociate_route_table(
        &self,
        scope: &MemberScope,
        subnet_id: &str,
    ) -> ProviderResult<()> {
        self.member_mutate("DisassociateRouteTable", scope, |m| {
            m.disassociate_route_table(subnet_id)
        })
        .await
    }

    /// `EnableKey` / `DisableKey` (an out-of-band change).
    pub async fn set_key_enabled(
        &self,
        scope: &MemberScope,
        key_id: &str,
        enabled: bool,
    ) -> ProviderResult<()> {
        let api = if enabled { "EnableKey" } else { "DisableKey" };
        self.member_mutate(api, scope, |m| m.set_key_enabled(key_id, enabled))
            .await
    }

    /// Everything IAM Identity Center holds (every set detailed, every group and
    /// user), bypassing latency and faults.
    pub fn identity_snapshot(&self) -> LiveIdentity {
        self.lock().identity_snapshot()
    }

    /// Seeds a user of the Identity Store (the sim has no API that creates users, nor
    /// does Landfall); returns its id.
    pub fn add_identity_user(&self, user_name: &str) -> ProviderResult<String> {
        let mut world = self.lock();
        let id = world.add_identity_user(user_name);
        self.persist("CreateUser", &world)?;
        Ok(id)
    }

    /// Out of band: a customer-managed IAM policy now exists in an account (the sim has
    /// no IAM: a permission set naming it provisions there only from now on).
    pub fn add_customer_managed_policy(
        &self,
        account_id: &str,
        policy: CustomerPolicyRef,
    ) -> ProviderResult<()> {
        let mut world = self.lock();
        world.add_customer_managed_policy(account_id, policy);
        self.persist("CreatePolicy", &world)
    }

    /// Out of band: turns IAM Identity Center on or off for the organization.
    pub fn set_identity_center(&self, enabled: bool) -> ProviderResult<()> {
        let mut world = self.lock();
        world.set_identity_center(enabled);
        self.persist("CreateInstance", &world)
    }

    /// Out of band: a console user removes an account assignment at once (the last of
    /// its permission set in the account deprovisions the set there).
    pub async fn remove_account_assignment(
        &self,
        permission_set_arn: &str,
        principal_type: PrincipalType,
        principal_id: &str,
        account_id: &str,
    ) -> ProviderResult<()> {
        self.mutate_as(
            "DeleteAccountAssignment",
            None,
            Some(Service::IdentityCenter),
            |w| w.remove_assignment(permission_set_arn, principal_type, principal_id, account_id),
        )
        .await
    }

    /// Out of band: a console user replaces (`None`: deletes) the inline policy of the
    /// permission set with this name; its accounts are outdated until provisioned.
    pub async fn edit_inline_policy(
        &self,
        permission_set_name: &str,
        document: Option<&str>,
    ) -> ProviderResult<()> {
        self.mutate_as(
            "PutInlinePolicyToPermissionSet",
            None,
            Some(Service::IdentityCenter),
            |w| w.edit_inline_policy(permission_set_name, document),
        )
        .await
    }

    /// Trusted access, delegated administrators, admin accounts, trails, buckets,
    /// aggregators and analyzers of every account and region, bypassing latency and
    /// faults.
    pub fn security_snapshot(&self) -> LiveSecurity {
        self.lock().security_snapshot()
    }

    /// The policy types still `PENDING_ENABLE` under the AWS model (none without it).
    fn pending_policy_types(&self) -> BTreeSet<PolicyType> {
        match &self.model {
            Some(model) => PolicyType::ALL
                .into_iter()
                .filter(|t| model.running(&policy_type_operation(*t)))
                .collect(),
            None => BTreeSet::new(),
        }
    }

    /// Out of band: `StopLogging` on a trail (by ARN or name), as a console user
    /// turning the organization trail off; returns its ARN.
    pub async fn stop_logging(&self, trail: &str) -> ProviderResult<String> {
        self.mutate_as("StopLogging", None, Some(Service::CloudTrail), |w| {
            w.stop_logging(trail)
        })
        .await
    }

    /// Out of band: deletes a trail (by ARN or name) at once; returns its ARN.
    pub async fn remove_trail(&self, trail: &str) -> ProviderResult<String> {
        self.mutate_as("DeleteTrail", None, Some(Service::CloudTrail), |w| {
            w.remove_trail(trail)
        })
        .await
    }

    /// Out of band: replaces (`None`: deletes) a bucket's policy, whichever account
    /// owns it (a console user loosening it).
    pub async fn replace_bucket_policy(
        &self,
        bucket: &str,
        policy: Option<&str>,
    ) -> ProviderResult<()> {
        let api = if policy.is_some() {
            "PutBucketPolicy"
        } else {
            "DeleteBucketPolicy"
        };
        self.mutate_as(api, None, Some(Service::S3), |w| {
            w.replace_bucket_policy(bucket, policy)
        })
        .await
    }

    /// Out of band: `DisablePolicyType` on the root (every policy of the type is
    /// detached).
    pub async fn disable_policy_type(&self, policy_type: PolicyType) -> ProviderResult<()> {
        self.mutate("DisablePolicyType", |w| {
            let root = w.root_id.clone();
            w.disable_policy_type(&root, policy_type)
        })
        .await
    }

    /// Out of band: detaches a policy of the type (by name or id) from a target (a
    /// root, OU or account id); returns the policy's id.
    pub async fn detach_org_policy(
        &self,
        policy_type: PolicyType,
        policy: &str,
        target_id: &str,
    ) -> ProviderResult<String> {
        self.mutate("DetachPolicy", |w| {
            let id = w.policy_of_type(policy_type, policy)?;
            w.detach_policy(&id, target_id)?;
            Ok(id)
        })
        .await
    }

    /// Out of band: replaces the content of a policy of the type (by name or id), as a
    /// console user editing a tag policy; the type's content rules apply. Returns the
    /// policy's id.
    pub async fn edit_org_policy_content(
        &self,
        policy_type: PolicyType,
        policy: &str,
        content: &str,
    ) -> ProviderResult<String> {
        self.mutate("UpdatePolicy", |w| {
            let id = w.policy_of_type(policy_type, policy)?;
            w.update_policy(&id, None, None, Some(content))?;
            Ok(id)
        })
        .await
    }

    /// The settings in force (after any overrides).
    pub fn settings(&self) -> &SimSettings {
        self.faults.settings()
    }

    // A poisoned lock only means another thread panicked while holding it; rules
    // validate before they change anything, so the world is still consistent.
    fn lock(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Latency, then throttling: what every call (read or write) goes through first.
    async fn enter(&self, api: &'static str) -> ProviderResult<()> {
        self.enter_in(api, None).await
    }

    /// [`Self::enter`] for a call in a member account and region (`scope`), which
    /// the AWS model throttles per account and region.
    async fn enter_in(&self, api: &'static str, scope: Option<&MemberScope>) -> ProviderResult<()> {
        self.enter_as(api, scope, None).await
    }

    /// [`Self::enter_in`] for a call of `service` (`None`: the API's name says which;
    /// Identity Center names its own, its `TagResource` is not Organizations').
    async fn enter_as(
        &self,
        api: &'static str,
        scope: Option<&MemberScope>,
        service: Option<Service>,
    ) -> ProviderResult<()> {
        self.faults.delay().await;
        if let Some(model) = &self.model {
            return model
                .call_as(api, scope, service, self.faults.throttled())
                .await;
        }
        if self.faults.throttled() {
            return Err(ProviderError::new(
                ErrorKind::TooManyRequests,
                api,
                format!(
                    "Rate exceeded (injected by the sim, throttle_rate={})",
                    self.faults.settings().throttle_rate
                ),
            ));
        }
        Ok(())
    }

    fn persist(&self, api: &'static str, world: &World) -> ProviderResult<()> {
        match &self.path {
            Some(path) => store::save(path, world).map_err(|e| {
                ProviderError::new(
                    ErrorKind::Other("SimWorldWriteError".into()),
                    api,
                    e.to_string(),
                )
            }),
            None => Ok(()),
        }
    }

    /// Runs a mutating call: faults, the rule, then a save on success.
    ///
    /// If the save fails the change stays in memory (the next successful save
    /// writes it) and the call reports the write error.
    async fn mutate<T, F>(&self, api: &'static str, rule: F) -> ProviderResult<T>
    where
        F: FnOnce(&mut World) -> Result<T, Denied> + Send,
        T: Send,
    {
        self.mutate_in(api, None, rule).await
    }

    /// [`Self::mutate`] for a call in a member account and region.
    async fn mutate_in<T, F>(
        &self,
        api: &'static str,
        scope: Option<&MemberScope>,
        rule: F,
    ) -> ProviderResult<T>
    where
        F: FnOnce(&mut World) -> Result<T, Denied> + Send,
        T: Send,
    {
        self.mutate_as(api, scope, None, rule).await
    }

    /// [`Self::mutate_in`] for a call of `service` ([`Self::enter_as`]).
    async fn mutate_as<T, F>(
        &self,
        api: &'static str,
        scope: Option<&MemberScope>,
        service: Option<Service>,
        rule: F,
    ) -> ProviderResult<T>
    where
        F: FnOnce(&mut World) -> Result<T, Denied> + Send,
        T: Send,
    {
        self.enter_as(api, scope, service).await?;
        let injection = self.faults.on_mutating_call();
        if let Injection::FailBefore(n) = injection {
            tracing::debug!(api, n, "sim: injected failure before effect");
            return Err(ProviderError::new(
                ErrorKind::InjectedFault,
                api,
                format!("injected failure on mutating call {n}"),
            ));
        }
        let result = {
            let mut world = self.lock();
            let result = rule(&mut world);
            if result.is_ok() {
                self.persist(api, &world)?;
            }
            result
        };
        if let Injection::FailAfter(n) = injection {
            tracing::debug!(api, n, "sim: injected failure after effect");
            return Err(ProviderError::new(
                ErrorKind::InjectedFault,
                api,
                format!(
                    "injected failure on mutating call {n} (the change was applied; the response was lost)"
                ),
            ));
        }
        result.map_err(|d| d.at(api))
    }

    /// One Organizations read: paced on the Organizations read limiter, latency and
    /// throttling, then the world read; retried on throttling.
    async fn read_organization<T, F>(&self, api: &'static str, read: F) -> ProviderResult<T>
    where
        F: Fn(&World) -> Result<T, Denied> + Send + Sync,
        T: Send,
    {
        let key = PaceKey::global(ApiClass::OrganizationsReads);
        self.pacer
            .read(&key, &self.limits(), || async {
                self.enter(api).await?;
                read(&self.lock()).map_err(|d| d.at(api))
            })
            .await
    }

    /// One IAM Identity Center read: paced on the Identity Center limiter (20/s for
    /// reads and writes together), latency and throttling, then the world read;
    /// retried on throttling.
    async fn identity_read<T, F>(&self, api: &'static str, read: F) -> ProviderResult<T>
    where
        F: Fn(&World) -> Result<T, Denied> + Send + Sync,
        T: Send,
    {
        let key = PaceKey::global(ApiClass::IdentityCenter);
        self.pacer
            .read(&key, &self.limits(), || async {
                self.enter_as(api, None, Some(Service::IdentityCenter))
                    .await?;
                read(&self.lock()).map_err(|d| d.at(api))
            })
            .await
    }

    /// An Identity Center `List*` read, page by page ([`identity::live`]'s page size):
    /// one call per page, each reading the list afresh from the world.
    async fn identity_list<T, F>(&self, api: &'static str, list: F) -> ProviderResult<Vec<T>>
    where
        F: Fn(&World) -> Result<Vec<T>, Denied> + Send + Sync,
        T: Send,
    {
        const PAGE: usize = identity::IDENTITY_PAGE_SIZE;
        let mut out = Vec::new();
        loop {
            let from = out.len();
            let (page, more) = self
                .identity_read(api, |w| {
                    let mut all = list(w)?;
                    let more = all.len() > from + PAGE;
                    all.truncate(from + PAGE);
                    Ok((all.into_iter().skip(from).collect::<Vec<T>>(), more))
                })
                .await?;
            out.extend(page);
            if !more {
                return Ok(out);
            }
        }
    }

    /// SSO Admin `ListTagsForResource` of a permission set (one page: at most 50 tags).
    async fn identity_list_tags<F>(&self, list: F) -> ProviderResult<Vec<(String, String)>>
    where
        F: Fn(&World) -> Result<Vec<(String, String)>, Denied> + Send + Sync,
    {
        self.identity_read("ListTagsForResource", list).await
    }

    /// A status read that may consume a poll: throttled, never counted for
    /// `fail_at`; saved when it changed the world. Under the AWS model, `pending`
    /// while the operation `id` is still running.
    async fn poll<T, F>(
        &self,
        api: &'static str,
        id: &str,
        pending: T,
        rule: F,
    ) -> ProviderResult<T>
    where
        F: FnOnce(&mut World) -> Result<(T, bool), Denied> + Send,
    {
        self.enter(api).await?;
        if self.model.as_ref().is_some_and(|m| m.running(id)) {
            return Ok(pending);
        }
        let mut world = self.lock();
        let (status, changed) = rule(&mut world).map_err(|d| d.at(api))?;
        if changed {
            self.persist(api, &world)?;
        }
        Ok(status)
    }

    /// Runs a mutating member-account call: like [`Self::mutate`], with the access
    /// check before the rule.
    async fn member_mutate<T, F>(
        &self,
        api: &'static str,
        scope: &MemberScope,
        rule: F,
    ) -> ProviderResult<T>
    where
        F: FnOnce(&mut Member<'_>) -> Rule<T> + Send,
        T: Send,
    {
        let role = self.access_role.as_str();
        self.mutate_in(api, Some(scope), move |w| w.with_member(scope, role, rule))
            .await
    }
}

impl SimBackend {
    /// Every call is a mutating one: faults, then the rule in [`World`] (for member
    /// accounts, after the access check), then a save.
    async fn execute_rule(&self, call: &Call<'_>) -> ProviderResult<Reply> {
        let api = call.api();
        match *call {
            Call::Organizations(call) => {
                let polls = polls(self.faults.settings());
                let model = self.model.as_deref();
                let pending = self.pending_policy_types();
                self.mutate(api, |w| {
                    if let (Some(model), OrganizationsCall::CreateAccount(_)) = (model, call) {
                        check_account_creations(model)?;
                    }
                    organizations_rule(w, call, polls, &pending)
                })
                .await
            }
            Call::Member(scope, call) => {
                self.member_mutate(api, scope, |m| member_rule(m, call))
                    .await
            }
            Call::Security(scope, call) => {
                let service = Service::of_security_class(call.pace_class());
                // IAM has not propagated a role created moments ago (AWS model only).
                let propagating = match (call, &self.model) {
                    (SecurityCall::PutConfigurationAggregator { role_arn, .. }, Some(model)) => {
                        model.running(role_arn)
                    }
                    _ => false,
                };
                let role = self.access_role.as_str();
                self.mutate_as(api, Some(scope), Some(service), |w| {
                    w.check_member_access(scope, role)?;
                    security_rule(w, scope, call, propagating)
                })
                .await
            }
            Call::Governance(call) => {
                let settings = &self.governance;
                self.mutate(api, |w| governance_rule(w, settings, call))
                    .await
            }
            Call::Identity(call) => {
                let polls = polls(self.faults.settings());
                let model = self.model.as_deref();
                self.mutate_as(api, None, Some(Service::IdentityCenter), |w| {
                    // Creations still running: by time under the AWS model, by the
                    // world's unfinished requests otherwise.
                    let outstanding = match model {
                        Some(m) => m.in_progress(AsyncKind::AssignmentCreation),
                        None => w.identity.outstanding_creations(),
                    };
                    identity_rule(w, call, polls, outstanding)
                })
                .await
            }
        }
    }
}

/// AWS Organizations' hard limit on `CreateAccount` requests in progress.
fn check_account_creations(model: &AwsModel) -> Rule<()> {
    if model.account_creations_in_progress() >= model::CREATE_ACCOUNT_IN_PROGRESS {
        return Err(Denied::new(
            ErrorKind::ConcurrentModification,
            format!(
                "{} CreateAccount requests are already in progress (AWS Organizations allows {}); retry when one finishes",
                model.account_creations_in_progress(),
                model::CREATE_ACCOUNT_IN_PROGRESS
            ),
        ));
    }
    Ok(())
}

#[async_trait]
impl Provider for SimBackend {
    /// Latency applies, throttling does not: identity is the guard check run once
    /// before anything else and answered from the local world, and throttling it
    /// would only make runs with `throttle_rate` fail before they start.
    async fn identity(&self) -> ProviderResult<WorldIdentity> {
        self.faults.delay().await;
        Ok(WorldIdentity {
            backend: "sim".into(),
            id: self.world_id(),
        })
    }

    async fn refresh_identity(&self, scope: &IdentityScope) -> ProviderResult<LiveIdentity> {
        self.read_identity(scope).await
    }

    /// A read (throttled, never counted for `fail_at`); a consumed poll is saved.
    async fn identity_request(
        &self,
        request: IdentityRequest,
        request_id: &str,
    ) -> ProviderResult<OperationStatus> {
        self.poll(
            request.api(),
            request_id,
            OperationStatus::InProgress,
            |w| w.identity_request_status(request, request_id),
        )
        .await
    }

    /// The sim ships no AWS-managed policy documents: `None`, and the CLI falls back
    /// to the documents it ships.
    async fn aws_managed_policy_document(
        &self,
        _policy_arn: &str,
    ) -> ProviderResult<Option<String>> {
        Ok(None)
    }

    fn limits(&self) -> ApiLimits {
        if self.model.is_some() {
            // AWS's backoff and polling, as the AWS backend's (its pacing is
            // `PacingSettings::aws`, see `client_pacing`).
            return ApiLimits {
                control_operations_in_flight: self.governance.control_operations_in_flight,
                ..ApiLimits::default()
            };
        }
        ApiLimits {
            create_account_in_flight: 5,
            base_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(200),
            max_retries: 20,
            poll_interval: self.faults.latency().max(Duration::from_millis(1)),
            max_polls: 1000,
            operation_poll_interval: self.faults.latency().max(Duration::from_millis(1)),
            control_operations_in_flight: self.governance.control_operations_in_flight,
            ..ApiLimits::default()
        }
    }

    fn pacer(&self) -> &Pacer {
        &self.pacer
    }

    async fn organization_root(&self) -> ProviderResult<OrganizationRoot> {
        let pending = self.pending_policy_types();
        self.read_organization("ListRoots", |w| {
            // A type still PENDING_ENABLE (AWS model) is not listed ENABLED.
            Ok(OrganizationRoot {
                root_id: w.root_id.clone(),
                management_account_id: w.management_account_id.clone(),
                enabled_policy_types: w
                    .enabled_policy_types
                    .difference(&pending)
                    .copied()
                    .collect(),
            })
        })
        .await
    }

    async fn ous_for_parent(
        &self,
        parent_id: &str,
        token: Option<String>,
    ) -> ProviderResult<Page<LiveOu>> {
        self.read_organization("ListOrganizationalUnitsForParent", |w| {
            w.require_parent(parent_id)?;
            Ok(page_of(
                &w.ous,
                token.as_deref(),
                |ou| ou.parent_id == parent_id,
                |_, ou| ou.clone(),
            ))
        })
        .await
    }

    async fn accounts_for_parent(
        &self,
        parent_id: &str,
        token: Option<String>,
    ) -> ProviderResult<Page<LiveAccount>> {
        self.read_organization("ListAccountsForParent", |w| {
            w.require_parent(parent_id)?;
            Ok(page_of(
                &w.accounts,
                token.as_deref(),
                |a| a.parent_id == parent_id,
                |_, a| a.clone(),
            ))
        })
        .await
    }

    async fn refresh_security(&self, scope: &SecurityScope) -> ProviderResult<LiveSecurity> {
        self.read_security(scope).await
    }

    async fn policies(
        &self,
        policy_type: PolicyType,
        token: Option<String>,
    ) -> ProviderResult<Page<LivePolicy>> {
        self.read_organization("ListPolicies", |w| {
            Ok(page_of(
                &w.policies,
                token.as_deref(),
                |p| w.type_of(&p.id) == policy_type,
                |_, p| LivePolicy {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    description: p.description.clone(),
                    content: String::new(),
                    tags: Default::default(),
                    aws_managed: p.aws_managed,
                },
            ))
        })
        .await
    }

    async fn policy_content(&self, policy_id: &str) -> ProviderResult<String> {
        self.read_organization("DescribePolicy", |w| {
            Ok(w.policy(policy_id)?.content.clone())
        })
        .await
    }

    async fn targets_for_policy(
        &self,
        policy_id: &str,
        token: Option<String>,
    ) -> ProviderResult<Page<String>> {
        self.read_organization("ListTargetsForPolicy", |w| {
            w.policy(policy_id)?;
            Ok(page_of(
                &w.attachments,
                token.as_deref(),
                |policies| policies.contains(policy_id),
                |target, _| target.clone(),
            ))
        })
        .await
    }

    async fn tags_for_resource(
        &self,
        resource_id: &str,
        token: Option<String>,
    ) -> ProviderResult<Page<(String, String)>> {
        self.read_organization("ListTagsForResource", |w| {
            let tags = w.tags_of(resource_id)?;
            Ok(page_of(
                tags,
                token.as_deref(),
                |_| true,
                |k, v| (k.clone(), v.clone()),
            ))
        })
        .await
    }

    async fn refresh_member(&self, scope: &MemberScope) -> ProviderResult<LiveMember> {
        const API: &str = "DescribeVpcs";
        self.enter_in(API, Some(scope)).await?;
        self.lock()
            .member_live(scope, &self.access_role)
            .map_err(|d| d.at(API))
    }

    async fn refresh_governance(&self, scope: &GovernanceScope) -> ProviderResult<LiveGovernance> {
        const API: &str = "ListEnabledControls";
        self.enter(API).await?;
        self.lock()
            .governance_live(&self.governance, scope)
            .map_err(|d| d.at(API))
    }

    /// [`Self::execute_rule`]; under the AWS model, the clock of the operation the
    /// call started.
    async fn execute(&self, call: &Call<'_>) -> ProviderResult<Reply> {
        let mut reply = self.execute_rule(call).await;
        // The AWS model times the operation the call started; until it ends, the
        // request is IN_PROGRESS, as AWS answers `CreateAccount`.
        if let (Some(model), Some(kind), Ok(started)) =
            (&self.model, AsyncKind::of(call), &mut reply)
        {
            if let Some(id) = &started.id {
                model.start(kind, id);
            }
            started.account_status = None;
        }
        reply
    }

    /// A read (throttled, never counted for `fail_at`); a consumed poll is saved.
    async fn create_account_status(&self, request_id: &str) -> ProviderResult<CreateAccountStatus> {
        self.poll(
            "DescribeCreateAccountStatus",
            request_id,
            CreateAccountStatus::InProgress,
            |w| w.create_account_status(request_id),
        )
        .await
    }

    async fn in_progress_account_creations(&self) -> ProviderResult<Vec<(String, String)>> {
        self.enter("ListCreateAccountStatus").await?;
        let world = self.lock();
        let mut running = world.in_progress_account_creations();
        if let Some(model) = &self.model {
            running.extend(
                world
                    .requests
                    .iter()
                    .filter(|(id, _)| model.running(id))
                    .map(|(id, r)| (id.clone(), r.account_name.clone())),
            );
        }
        Ok(running)
    }

    /// A read (throttled, never counted for `fail_at`); a consumed poll is saved.
    async fn control_operation(&self, operation_id: &str) -> ProviderResult<OperationStatus> {
        self.poll(
            "GetControlOperation",
            operation_id,
            OperationStatus::InProgress,
            |w| w.control_operation_status(operation_id),
        )
        .await
    }

    async fn enabled_control_arn(
        &self,
        control_arn: &str,
        ou_id: &str,
    ) -> ProviderResult<Option<String>> {
        const API: &str = "ListEnabledControls";
        self.enter(API).await?;
        self.lock()
            .enabled_control_arn(control_arn, ou_id)
            .map_err(|d| d.at(API))
    }

    /// A read (throttled, never counted for `fail_at`); a consumed poll is saved.
    async fn baseline_operation(&self, operation_id: &str) -> ProviderResult<OperationStatus> {
        self.poll(
            "GetBaselineOperation",
            operation_id,
            OperationStatus::InProgress,
            |w| w.baseline_operation_status(operation_id),
        )
        .await
    }

    async fn enabled_baseline_arn(&self, ou_id: &str) -> ProviderResult<Option<String>> {
        const API: &str = "ListEnabledBaselines";
        self.enter(API).await?;
        self.lock()
            .enabled_baseline_arn(ou_id)
            .map_err(|d| d.at(API))
    }

    /// A read (throttled, never counted for `fail_at`); a consumed poll is saved.
    async fn provisioning_record(&self, record_id: &str) -> ProviderResult<OperationStatus> {
        self.poll(
            "DescribeRecord",
            record_id,
            OperationStatus::InProgress,
            |w| w.provisioning_record_status(record_id),
        )
        .await
    }

    async fn provisioned_account(
        &self,
        product: &str,
        name: &str,
    ) -> ProviderResult<Option<LiveProvisionedAccount>> {
        const API: &str = "SearchProvisionedProducts";
        self.enter(API).await?;
        self.lock()
            .provisioned_account(product, name)
            .map_err(|d| d.at(API))
    }
}

/// A rule's answer as a call's reply: the id it returns, if any.
trait IntoReply {
    fn reply(self) -> Option<String>;
}

impl IntoReply for () {
    fn reply(self) -> Option<String> {
        None
    }
}

impl IntoReply for String {
    fn reply(self) -> Option<String> {
        Some(self)
    }
}

impl IntoReply for Option<String> {
    fn reply(self) -> Option<String> {
        self
    }
}

fn reply<T: IntoReply>(rule: Rule<T>) -> Rule<Reply> {
    rule.map(|r| Reply::from(r.reply()))
}

/// `CreateAccount`'s reply: the request id, with AWS's answer IN_PROGRESS while the
/// world keeps the creation polling (`account_creation_polls`, 1 by default); a world
/// that finishes creations at once (`account_creation_polls = 0`) answers with the
/// outcome, as moto does.
fn create_account_reply(w: &mut World, r: &CreateAccountRequest, polls: u32) -> Rule<Reply> {
    let request_id = w.create_account(&r.name, &r.email, &r.tags, polls)?;
    let account_status = match polls {
        0 => Some(w.create_account_status(&request_id)?.0),
        _ => None,
    };
    Ok(Reply {
        id: Some(request_id),
        account_status,
    })
}

/// The organization's rule for an Organizations call; `pending`: the policy types
/// still `PENDING_ENABLE` (AWS model).
fn organizations_rule(
    w: &mut World,
    call: OrganizationsCall<'_>,
    polls: u32,
    pending: &BTreeSet<PolicyType>,
) -> Rule<Reply> {
    use OrganizationsCall as C;
    match call {
        C::CreateOrganizationalUnit {
            parent_id,
            name,
            tags,
        } => reply(w.create_ou(parent_id, name, tags)),
        C::UpdateOrganizationalUnit { ou_id, name } => reply(w.rename_ou(ou_id, name)),
        C::DeleteOrganizationalUnit { ou_id } => reply(w.delete_ou(ou_id)),
        C::CreateAccount(r) => create_account_reply(w, r, polls),
        C::MoveAccount {
            account_id,
            source_parent_id,
            destination_parent_id,
        } => reply(w.move_account(account_id, source_parent_id, destination_parent_id)),
        C::PutAccountName { account_id, name } => reply(w.put_account_name(account_id, name)),
        C::CloseAccount { account_id } => reply(w.close_account(account_id)),
        C::TagResource { resource_id, tags } => reply(w.tag_resource(resource_id, tags)),
        C::UntagResource { resource_id, keys } => reply(w.untag_resource(resource_id, keys)),
        C::CreatePolicy {
            policy_type,
            name,
            description,
            content,
            tags,
        } => reply(w.create_policy_of(policy_type, name, description, content, tags, pending)),
        // The reply names the operation the AWS model times (`PENDING_ENABLE`).
        C::EnablePolicyType {
            root_id,
            policy_type,
        } => w
            .enable_policy_type(root_id, policy_type)
            .map(|()| Reply::from(Some(policy_type_operation(policy_type)))),
        C::DisablePolicyType {
            root_id,
            policy_type,
        } => reply(w.disable_policy_type(root_id, policy_type)),
        C::EnableAwsServiceAccess { service_principal } => {
            reply(w.enable_service_access(service_principal))
        }
        C::DisableAwsServiceAccess { service_principal } => {
            reply(w.disable_service_access(service_principal))
        }
        C::RegisterDelegatedAdministrator {
            account_id,
            service_principal,
        } => reply(w.register_delegated_admin(account_id, service_principal)),
        C::DeregisterDelegatedAdministrator {
            account_id,
            service_principal,
        } => reply(w.deregister_delegated_admin(account_id, service_principal)),
        C::UpdatePolicy {
            policy_id,
            name,
            description,
            content,
        } => reply(w.update_policy(policy_id, name, description, content)),
        C::DeletePolicy { policy_id } => reply(w.delete_policy(policy_id)),
        C::AttachPolicy {
            policy_id,
            target_id,
        } => reply(w.attach_policy_pending(policy_id, target_id, pending)),
        C::DetachPolicy {
            policy_id,
            target_id,
        } => reply(w.detach_policy(policy_id, target_id)),
    }
}

/// IAM Identity Center's rule for an SSO Admin or Identity Store call; `outstanding`:
/// the `CreateAccountAssignment` requests still running.
fn identity_rule(
    w: &mut World,
    call: IdentityCall<'_>,
    polls: u32,
    outstanding: usize,
) -> Rule<Reply> {
    use IdentityCall as I;
    match call {
        I::CreatePermissionSet {
            name,
            description,
            session_duration,
            tags,
        } => reply(w.create_permission_set(name, description, session_duration, tags)),
        I::UpdatePermissionSet {
            permission_set_arn,
            description,
            session_duration,
        } => reply(w.update_permission_set(permission_set_arn, description, session_duration)),
        I::DeletePermissionSet { permission_set_arn } => {
            reply(w.delete_permission_set(permission_set_arn))
        }
        I::AttachManagedPolicyToPermissionSet {
            permission_set_arn,
            policy_arn,
        } => reply(w.attach_managed_policy(permission_set_arn, policy_arn)),
        I::DetachManagedPolicyFromPermissionSet {
            permission_set_arn,
            policy_arn,
        } => reply(w.detach_managed_policy(permission_set_arn, policy_arn)),
        I::AttachCustomerManagedPolicyReferenceToPermissionSet {
            permission_set_arn,
            policy,
        } => reply(w.attach_customer_policy(permission_set_arn, policy)),
        I::DetachCustomerManagedPolicyReferenceFromPermissionSet {
            permission_set_arn,
            policy,
        } => reply(w.detach_customer_policy(permission_set_arn, policy)),
        I::PutInlinePolicyToPermissionSet {
            permission_set_arn,
            document,
        } => reply(w.put_inline_policy(permission_set_arn, document)),
        I::DeleteInlinePolicyFromPermissionSet { permission_set_arn } => {
            reply(w.delete_inline_policy(permission_set_arn))
        }
        I::PutPermissionsBoundaryToPermissionSet {
            permission_set_arn,
            boundary,
        } => reply(w.put_permissions_boundary(permission_set_arn, boundary)),
        I::DeletePermissionsBoundaryFromPermissionSet { permission_set_arn } => {
            reply(w.delete_permissions_boundary(permission_set_arn))
        }
        I::TagPermissionSet {
            permission_set_arn,
            tags,
        } => reply(w.tag_permission_set(permission_set_arn, tags)),
        I::UntagPermissionSet {
            permission_set_arn,
            keys,
        } => reply(w.untag_permission_set(permission_set_arn, keys)),
        I::ProvisionPermissionSet { permission_set_arn } => {
            reply(w.provision_permission_set(permission_set_arn, polls))
        }
        I::CreateAccountAssignment {
            permission_set_arn,
            principal_type,
            principal_id,
            account_id,
        } => reply(w.create_account_assignment(
            permission_set_arn,
            principal_type,
            principal_id,
            account_id,
            polls,
            outstanding,
        )),
        I::DeleteAccountAssignment {
            permission_set_arn,
            principal_type,
            principal_id,
            account_id,
        } => reply(w.delete_account_assignment(
            permission_set_arn,
            principal_type,
            principal_id,
            account_id,
            polls,
        )),
        I::CreateGroup {
            display_name,
            description,
        } => reply(w.create_group(display_name, description)),
        I::UpdateGroup {
            group_id,
            description,
        } => reply(w.update_group(group_id, description)),
        I::DeleteGroup { group_id } => reply(w.delete_group(group_id)),
    }
}

/// A member account's rule for an EC2 or KMS call.
fn member_rule(m: &mut Member<'_>, call: MemberCall<'_>) -> Rule<Reply> {
    use MemberCall as M;
    match call {
        M::CreateVpc { cidr, tags } => reply(m.create_vpc(cidr, tags)),
        M::DeleteVpc { vpc_id } => reply(m.delete_vpc(vpc_id)),
        M::CreateSubnet {
            vpc_id,
            az,
            cidr,
            tags,
        } => reply(m.create_subnet(vpc_id, az, cidr, tags)),
        M::DeleteSubnet { subnet_id } => reply(m.delete_subnet(subnet_id)),
        M::CreateRouteTable { vpc_id, tags } => reply(m.create_route_table(vpc_id, tags)),
        M::AssociateRouteTable {
            route_table_id,
            subnet_id,
        } => reply(m.associate_route_table(route_table_id, subnet_id)),
        M::DeleteRouteTable { route_table_id } => reply(m.delete_route_table(route_table_id)),
        M::CreateSecurityGroup {
            vpc_id,
            name,
            description,
            ingress_cidr,
            tags,
        } => reply(m.create_security_group(vpc_id, name, description, ingress_cidr, tags)),
        M::SetSecurityGroupIngress {
            group_id,
            add,
            remove,
        } => reply(m.set_security_group_ingress(group_id, add, remove)),
        M::DeleteSecurityGroup { group_id } => reply(m.delete_security_group(group_id)),
        M::CreateVpcEndpoint(request) => reply(m.create_endpoint(request)),
        M::ModifyVpcEndpoint {
            endpoint_id,
            change,
        } => reply(m.modify_endpoint(endpoint_id, change)),
        M::DeleteVpcEndpoint { endpoint_id } => reply(m.delete_endpoint(endpoint_id)),
        M::CreateTags { resource_id, tags } => reply(m.tag_ec2(resource_id, tags)),
        M::DeleteTags { resource_id, keys } => reply(m.untag_ec2(resource_id, keys)),
        M::CreateKey {
            description,
            policy,
            tags,
        } => reply(m.create_key(description, policy, tags)),
        M::SetKeyRotation { key_id, enabled } => reply(m.set_key_rotation(key_id, enabled)),
        M::PutKeyPolicy { key_id, policy } => reply(m.put_key_policy(key_id, policy)),
        M::UpdateKeyDescription {
            key_id,
            description,
        } => reply(m.update_key_description(key_id, description)),
        M::ScheduleKeyDeletion {
            key_id,
            window_days,
        } => reply(m.schedule_key_deletion(key_id, window_days)),
        M::CancelKeyDeletion { key_id } => reply(m.restore_key(key_id)),
        M::PutAlias { alias, key_id } => reply(m.put_alias(alias, key_id)),
        M::DeleteAlias { alias } => reply(m.delete_alias(alias)),
        M::TagKey { key_id, tags } => reply(m.tag_key(key_id, tags)),
        M::UntagKey { key_id, keys } => reply(m.untag_key(key_id, keys)),
    }
}

/// The id under which the AWS model times a policy type's enabling.
fn policy_type_operation(policy_type: PolicyType) -> String {
    format!("policy-type/{}", policy_type.aws_name())
}

/// The logging and security services' rule for a call in `scope`; `propagating`: the
/// aggregator's role is not visible to Config yet (AWS model).
fn security_rule(
    w: &mut World,
    scope: &MemberScope,
    call: SecurityCall<'_>,
    propagating: bool,
) -> Rule<Reply> {
    use SecurityCall as S;
    match call {
        S::EnableOrganizationAdminAccount {
            service,
            account_id,
        } => reply(w.enable_organization_admin(scope, service, account_id)),
        S::DisableOrganizationAdminAccount {
            service,
            account_id,
        } => reply(w.disable_organization_admin(scope, service, account_id)),
        S::CreateBucket {
            bucket,
            object_lock,
        } => reply(w.create_bucket(scope, bucket, object_lock)),
        S::PutBucketVersioning { bucket } => reply(w.put_bucket_versioning(scope, bucket)),
        S::PutBucketEncryption {
            bucket,
            kms_key_arn,
        } => reply(w.put_bucket_encryption(scope, bucket, kms_key_arn)),
        S::PutPublicAccessBlock { bucket } => reply(w.put_public_access_block(scope, bucket)),
        S::PutBucketPolicy { bucket, policy } => reply(w.put_bucket_policy(scope, bucket, policy)),
        S::PutObjectLockConfiguration {
            bucket,
            object_lock,
        } => reply(w.put_object_lock_configuration(scope, bucket, object_lock)),
        S::PutBucketLifecycleConfiguration { bucket, lifecycle } => {
            reply(w.put_bucket_lifecycle(scope, bucket, lifecycle))
        }
        S::DeleteBucketLifecycle { bucket } => reply(w.delete_bucket_lifecycle(scope, bucket)),
        S::PutBucketTagging { bucket, tags } => reply(w.put_bucket_tagging(scope, bucket, tags)),
        S::DeleteBucket { bucket } => reply(w.delete_bucket(scope, bucket)),
        S::CreateTrail(request) => reply(w.create_trail(scope, request)),
        S::UpdateTrail(request) => reply(w.update_trail(scope, request)),
        S::StartLogging { trail_arn } => reply(w.start_logging(scope, trail_arn)),
        S::AddTags { trail_arn, tags } => reply(w.add_trail_tags(scope, trail_arn, tags)),
        S::DeleteTrail { trail_arn } => reply(w.delete_trail(scope, trail_arn)),
        S::CreateRole {
            role_name,
            trusted_service,
        } => reply(w.create_role(scope, role_name, trusted_service)),
        S::AttachRolePolicy {
            role_name,
            policy_arn,
        } => reply(w.attach_role_policy(scope, role_name, policy_arn)),
        S::DetachRolePolicy {
            role_name,
            policy_arn,
        } => reply(w.detach_role_policy(scope, role_name, policy_arn)),
        S::DeleteRole { role_name } => reply(w.delete_role(scope, role_name)),
        S::PutConfigurationAggregator {
            name,
            role_arn,
            tags,
        } => reply(w.put_configuration_aggregator(scope, name, role_arn, tags, propagating)),
        S::DeleteConfigurationAggregator { name } => {
            reply(w.delete_configuration_aggregator(scope, name))
        }
        S::CreateAnalyzer { name, tags } => reply(w.create_analyzer(scope, name, tags)),
        S::DeleteAnalyzer { name } => reply(w.delete_analyzer(scope, name)),
    }
}

/// Control Tower's and Service Catalog's rule for a governance call.
fn governance_rule(
    w: &mut World,
    settings: &GovernanceSettings,
    call: GovernanceCall<'_>,
) -> Rule<Reply> {
    use GovernanceCall as G;
    match call {
        G::EnableControl {
            control_arn,
            ou_id,
            parameters,
        } => reply(w.enable_control(settings, control_arn, ou_id, parameters)),
        G::DisableControl { control_arn, ou_id } => {
            reply(w.disable_control(settings, control_arn, ou_id))
        }
        G::UpdateEnabledControl {
            enabled_control_arn,
            parameters,
        } => reply(w.update_enabled_control(settings, enabled_control_arn, parameters)),
        G::ResetEnabledControl {
            enabled_control_arn,
        } => reply(w.reset_enabled_control(settings, enabled_control_arn)),
        G::EnableBaseline {
            baseline_arn,
            version,
            ou_id,
            identity_center,
        } => reply(w.enable_baseline(settings, baseline_arn, version, ou_id, identity_center)),
        G::UpdateEnabledBaseline {
            enabled_baseline_arn,
            version,
            identity_center,
        } => reply(w.update_enabled_baseline(
            settings,
            enabled_baseline_arn,
            version,
            identity_center,
        )),
        G::ResetEnabledBaseline {
            enabled_baseline_arn,
        } => reply(w.reset_enabled_baseline(settings, enabled_baseline_arn)),
        G::DisableBaseline {
            enabled_baseline_arn,
        } => reply(w.disable_baseline(settings, enabled_baseline_arn)),
        G::ProvisionProduct(request) => reply(w.provision_account(settings, request)),
        G::UpdateProvisionedProduct {
            provisioned_product_id,
            request,
        } => reply(w.update_provisioned_account(settings, provisioned_product_id, request)),
        G::CreatePortfolio {
            display_name,
            provider_name,
            description,
            tags,
        } => reply(w.create_portfolio(display_name, provider_name, description, tags)),
        G::UpdatePortfolio {
            portfolio_id,
            update,
        } => reply(w.update_portfolio(portfolio_id, update)),
        G::DeletePortfolio { portfolio_id } => reply(w.delete_portfolio(portfolio_id)),
        G::CreatePortfolioShare {
            portfolio_id,
            target,
            share_tag_options,
        } => reply(w.create_portfolio_share(portfolio_id, target, share_tag_options)),
        G::DeletePortfolioShare {
            portfolio_id,
            target,
        } => reply(w.delete_portfolio_share(portfolio_id, target)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn backend_is_send_and_sync() {
        assert_send_sync::<SimBackend>();
    }

    #[test]
    fn limits_follow_latency() {
        let fast = SimBackend::in_memory(SimSettings::default(), Quotas::default());
        assert_eq!(fast.limits().poll_interval, Duration::from_millis(1));
        assert!(
            fast.pacer().settings().rate(ApiClass::OrganizationsWrites)
                == landfall_engine::pacing::Rate::Unlimited
        );
        let slow = SimBackend::in_memory(
            SimSettings {
                latency_ms: 7,
                ..SimSettings::default()
            },
            Quotas::default(),
        );
        assert_eq!(slow.limits().poll_interval, Duration::from_millis(7));
    }
}
