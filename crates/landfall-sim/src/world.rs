//! The simulated organization: its data and the rules AWS Organizations enforces on
//! it. Everything here is synchronous and free of I/O and fault injection, so each
//! rule can be read (and unit-tested) on its own; [`crate::SimBackend`] wraps these
//! methods with latency, throttling, injected failures and persistence.
//!
//! Every mutating method validates first and changes the world only once nothing can
//! fail any more, so a rejected call never leaves a half-applied change behind.
//! Errors carry the [`ErrorKind`] the real service would return (with the
//! `ConstraintViolationException` reason where AWS gives one).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use landfall_core::FULL_AWS_ACCESS;
use landfall_core::live::{
    AccountStatus, LiveAccount, LiveMember, LiveOu, LivePolicy, LiveState, member_key,
};
use landfall_core::model::{Quotas, Tags};
use landfall_core::policy_type::{OrgPolicyType, PolicyType};
use landfall_engine::provider::{CreateAccountStatus, ErrorKind, MemberScope, ProviderError};
use serde::{Deserialize, Serialize};

use crate::governance::Governance;
use crate::identity::IdentityCenter;
use crate::ids::{self, IdSource};
use crate::member::{Member, MemberWorld};
use crate::security::SecurityWorld;

/// Version of the world file layout; bumped on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;
/// The id the sim gives the AWS-managed `FullAWSAccess` policy (AWS uses
/// `p-FullAWSAccess` too).
pub const FULL_AWS_ACCESS_ID: &str = "p-FullAWSAccess";
/// The document of AWS's `FullAWSAccess` policy, minified.
pub const FULL_AWS_ACCESS_CONTENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
/// Name and email AWS would show for the account that created the organization.
pub const MANAGEMENT_ACCOUNT_NAME: &str = "management";
pub const MANAGEMENT_ACCOUNT_EMAIL: &str = "management@sim.landfall.invalid";
/// AWS Organizations allows at most 50 tags per resource.
pub const MAX_TAGS: usize = 50;

/// A call the world refused: what AWS would answer. [`Denied::at`] names the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denied {
    pub kind: ErrorKind,
    pub message: String,
}

impl Denied {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Denied {
            kind,
            message: message.into(),
        }
    }

    fn constraint(reason: &str, message: impl Into<String>) -> Self {
        Denied::new(ErrorKind::ConstraintViolation(reason.to_string()), message)
    }

    /// The provider error for this refusal, attributed to `api`.
    pub fn at(self, api: &'static str) -> ProviderError {
        ProviderError::new(self.kind, api, self.message)
    }
}

/// What a rule returns: its result, or what AWS would answer instead.
pub type Rule<T> = Result<T, Denied>;

/// A `CreateAccount` request as the service remembers it, so
/// `DescribeCreateAccountStatus` can answer for it later (and after a restart).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRequest {
    pub account_name: String,
    pub email: String,
    /// Status polls still answered `IN_PROGRESS` before the outcome is revealed.
    pub polls_remaining: u32,
    pub outcome: RequestOutcome,
}

/// How a create-account request ends (decided when it is made; revealed after the
/// configured number of polls).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestOutcome {
    Succeeded { account_id: String },
    Failed { reason: String },
}

/// The whole simulated organization, exactly what the world file holds.
///
/// Resources reuse the [`LiveState`] record types so that `refresh` is a plain clone.
/// Attachments are stored per target (target id → policy ids) because the quota
/// checks ask "what is attached to this target?" on every attach and detach.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct World {
    pub format_version: u32,
    pub id: String,
    pub ids: IdSource,
    /// The quotas enforced. Stored at creation; [`crate::SimBackend::open`] replaces
    /// them with the caller's so overrides in the landing zone take effect.
    pub quotas: Quotas,
    pub root_id: String,
    #[serde(default)]
    pub root_tags: Tags,
    pub management_account_id: String,
    pub ous: BTreeMap<String, LiveOu>,
    pub accounts: BTreeMap<String, LiveAccount>,
    pub policies: BTreeMap<String, LivePolicy>,
    /// The type of every policy that is not a service control policy (absent: an
    /// SCP, so world files written before other types existed load unchanged).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub policy_types: BTreeMap<String, PolicyType>,
    /// The policy types enabled on the root: SCPs only, as after `CreateOrganization`
    /// with all features, until `EnablePolicyType` (see [`crate::policy_types`]).
    #[serde(default = "scp_only", skip_serializing_if = "is_scp_only")]
    pub enabled_policy_types: BTreeSet<PolicyType>,
    /// Target id (root, OU or account) → ids of the policies attached to it directly.
    pub attachments: BTreeMap<String, BTreeSet<String>>,
    pub requests: BTreeMap<String, AccountRequest>,
    /// Member accounts' networks and keys, by [`member_key`] (`ACCOUNT_ID/REGION`).
    /// Absent from world files written before member accounts existed (and from
    /// files of worlds that have none), which load as empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub members: BTreeMap<String, MemberWorld>,
    /// Control Tower controls and operations, Account Factory provisioned products
    /// and records, Service Catalog portfolios and shares (see [`crate::governance`]).
    /// Absent from world files written before they existed, which load as empty.
    #[serde(default, skip_serializing_if = "Governance::is_empty")]
    pub governance: Governance,
    /// IAM Identity Center: permission sets, provisioning, the Identity Store's groups
    /// and users, assignments and requests (see [`crate::identity`]). Absent from world
    /// files written before it existed, which load with an enabled, empty instance.
    #[serde(default, skip_serializing_if = "IdentityCenter::is_empty")]
    pub identity: IdentityCenter,
    /// Trusted access for AWS Account Management (`account.amazonaws.com`) turned off:
    /// `PutAccountName` is refused. On by default in the sim, like Service Catalog's
    /// organizations access (a test turns it off); absent from world files that never
    /// changed it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub account_management_access_disabled: bool,
    /// Trusted access, delegated administrators, and the logging and security
    /// services' resources (see [`crate::security`]). Absent from world files written
    /// before they existed, which load as empty.
    #[serde(default, skip_serializing_if = "SecurityWorld::is_empty")]
    pub security: SecurityWorld,
    /// Lower-cased emails of every account (closed ones included: AWS does not let
    /// an address be reused). Derived; rebuilt by [`World::reindex`].
    #[serde(skip)]
    emails: HashSet<String>,
}

impl World {
    /// A fresh organization: a root, the management account under it and the
    /// AWS-managed `FullAWSAccess` policy attached to both (AWS attaches it to every
    /// root, OU and account when SCPs are enabled), as after `CreateOrganization`.
    pub fn new(seed: u64, quotas: Quotas) -> World {
        let mut ids = IdSource::new(seed);
        let root_id = ids.root();
        let management_account_id = ids.account();
        let mut world = World {
            format_version: FORMAT_VERSION,
            id: ids::world_id(),
            ids,
            quotas,
            root_id: root_id.clone(),
            root_tags: Tags::new(),
            management_account_id: management_account_id.clone(),
            ous: BTreeMap::new(),
            accounts: BTreeMap::new(),
            policies: BTreeMap::new(),
            policy_types: BTreeMap::new(),
            enabled_policy_types: scp_only(),
            attachments: BTreeMap::new(),
            requests: BTreeMap::new(),
            members: BTreeMap::new(),
            governance: Governance::default(),
            identity: IdentityCenter::default(),
            account_management_access_disabled: false,
            security: SecurityWorld::default(),
            emails: HashSet::new(),
        };
        world.policies.insert(
            FULL_AWS_ACCESS_ID.to_string(),
            LivePolicy {
                id: FULL_AWS_ACCESS_ID.to_string(),
                name: FULL_AWS_ACCESS.to_string(),
                description: "Allows access to every operation".to_string(),
                content: FULL_AWS_ACCESS_CONTENT.to_string(),
                tags: Tags::new(),
                aws_managed: true,
            },
        );
        world.insert_account(LiveAccount {
            id: management_account_id.clone(),
            name: MANAGEMENT_ACCOUNT_NAME.to_string(),
            email: MANAGEMENT_ACCOUNT_EMAIL.to_string(),
            parent_id: root_id.clone(),
            tags: Tags::new(),
            status: AccountStatus::Active,
        });
        world.attach_aws_managed(&root_id);
        world.attach_aws_managed(&management_account_id);
        world
    }

    /// Rebuilds derived indexes and checks the invariants a loaded file must hold.
    /// The error says what is wrong, for a "corrupt world file" message.
    pub fn reindex(&mut self) -> Result<(), String> {
        if self.format_version != FORMAT_VERSION {
            return Err(format!(
                "world format version {} is not supported (this Landfall reads version {FORMAT_VERSION})",
                self.format_version
            ));
        }
        if !self.accounts.contains_key(&self.management_account_id) {
            return Err(format!(
                "the management account {} is missing",
                self.management_account_id
            ));
        }
        if !self.policies.contains_key(FULL_AWS_ACCESS_ID) {
            return Err(format!("the {FULL_AWS_ACCESS} policy is missing"));
        }
        for ou in self.ous.values() {
            if !self.is_parent(&ou.parent_id) {
                return Err(format!("OU {} has unknown parent {}", ou.id, ou.parent_id));
            }
        }
        for account in self.accounts.values() {
            if !self.is_parent(&account.parent_id) {
                return Err(format!(
                    "account {} has unknown parent {}",
                    account.id, account.parent_id
                ));
            }
        }
        for (key, member) in &self.members {
            let Some((account_id, region)) = key.split_once('/') else {
                return Err(format!("member key {key:?} is not ACCOUNT_ID/REGION"));
            };
            if !self.accounts.contains_key(account_id) || region.is_empty() {
                return Err(format!("member {key} is in unknown account {account_id}"));
            }
            member.check().map_err(|e| format!("member {key}: {e}"))?;
        }
        if let Some(id) = self
            .policy_types
            .keys()
            .find(|id| !self.policies.contains_key(*id))
        {
            return Err(format!("unknown policy {id} has a policy type"));
        }
        self.security.check()?;
        self.governance.check()?;
        self.identity
            .check()
            .map_err(|e| format!("IAM Identity Center: {e}"))?;
        self.emails = self
            .accounts
            .values()
            .map(|a| a.email.to_ascii_lowercase())
            .collect();
        Ok(())
    }

    /// One consistent read of the whole organization (what `refresh` returns).
    pub fn to_live(&self) -> LiveState {
        LiveState {
            root_id: self.root_id.clone(),
            management_account_id: self.management_account_id.clone(),
            identity: Default::default(),
            ous: self.ous.clone(),
            accounts: self.accounts.clone(),
            policies: self
                .policies
                .iter()
                .filter(|(id, _)| self.type_of(id) == PolicyType::ServiceControlPolicy)
                .map(|(id, p)| (id.clone(), p.clone()))
                .collect(),
            attachments: self
                .attachments
                .iter()
                .flat_map(|(target, policies)| {
                    policies.iter().map(move |p| (p.clone(), target.clone()))
                })
                .filter(|(p, _)| self.type_of(p) == PolicyType::ServiceControlPolicy)
                .collect(),
            members: Default::default(),
            governance: Default::default(),
            enabled_policy_types: self.enabled_policy_types.clone(),
            org_policies: self.live_org_policies(),
            // RCPFullAWSAccess's attachments are left out, as the engine's read
            // leaves them out (they are everywhere and say nothing).
            org_policy_attachments: self
                .attachments
                .iter()
                .flat_map(|(target, policies)| {
                    policies.iter().map(move |p| (p.clone(), target.clone()))
                })
                .filter(|(p, _)| {
                    self.type_of(p) != PolicyType::ServiceControlPolicy
                        && !self.policies.get(p).is_some_and(|p| p.aws_managed)
                })
                .collect(),
            // Read apart (`refresh_security`), as the engine's organization read.
            security: Default::default(),
        }
    }

    // ---- lookups -------------------------------------------------------------

    /// The root or an OU: something accounts and OUs can live in.
    pub(crate) fn is_parent(&self, id: &str) -> bool {
        id == self.root_id || self.ous.contains_key(id)
    }

    /// Something a policy can be attached to: the root, an OU or an account.
    fn is_target(&self, id: &str) -> bool {
        self.is_parent(id) || self.accounts.contains_key(id)
    }

    /// Levels below the root: a child of the root is at depth 1.
    fn depth(&self, parent_id: &str) -> usize {
        let mut depth = 0;
        let mut current = parent_id;
        // Bounded walk: a corrupt file with a parent cycle must not hang the sim.
        while let Some(ou) = self.ous.get(current) {
            depth += 1;
            if depth > self.ous.len() {
                break;
            }
            current = &ou.parent_id;
        }
        depth
    }

    fn sibling_named(&self, parent_id: &str, name: &str) -> Option<&LiveOu> {
        self.ous
            .values()
            .find(|ou| ou.parent_id == parent_id && ou.name == name)
    }

    fn is_attached_anywhere(&self, policy_id: &str) -> bool {
        self.attachments.values().any(|set| set.contains(policy_id))
    }

    // ---- small mutators that cannot fail ---------------------------------------

    fn insert_account(&mut self, account: LiveAccount) {
        self.emails.insert(account.email.to_ascii_lowercase());
        self.accounts.insert(account.id.clone(), account);
    }

    /// Attaches the AWS-managed policy of every enabled type that has one
    /// (`FullAWSAccess` for SCPs, `RCPFullAWSAccess` for RCPs): AWS puts it on every
    /// root, OU and account, new ones included.
    fn attach_aws_managed(&mut self, target_id: &str) {
        let managed: Vec<&'static str> = self
            .enabled_policy_types
            .iter()
            .filter_map(|t| crate::policy_types::aws_managed_id(*t))
            .collect();
        let on_target = self.attachments.entry(target_id.to_string()).or_default();
        for id in managed {
            on_target.insert(id.to_string());
        }
    }

    /// A new id from `make` that `taken` does not reject.
    pub(crate) fn fresh<F: FnMut(&mut IdSource) -> String>(
        &mut self,
        mut make: F,
        taken: impl Fn(&World, &str) -> bool,
    ) -> String {
        loop {
            let id = make(&mut self.ids);
            if !taken(self, &id) {
                return id;
            }
        }
    }

    // ---- organizational units ----------------------------------------------------

    /// `CreateOrganizationalUnit`. AWS attaches `FullAWSAccess` to every new OU.
    pub fn create_ou(&mut self, parent_id: &str, name: &str, tags: &Tags) -> Rule<String> {
        validate_name("OU name", name, 128)?;
        validate_tags(tags)?;
        if !self.is_parent(parent_id) {
            return Err(Denied::new(
                ErrorKind::NotFound,
                format!("ParentNotFoundException: parent {parent_id} does not exist"),
            ));
        }
        if self.sibling_named(parent_id, name).is_some() {
            return Err(Denied::new(
                ErrorKind::DuplicateOrganizationalUnit,
                format!("an OU named {name:?} already exists under {parent_id}"),
            ));
        }
        let depth = self.depth(parent_id) + 1;
        if depth > self.quotas.ou_max_depth {
            return Err(Denied::constraint(
                "OU_DEPTH_LIMIT_EXCEEDED",
                format!(
                    "OU {name:?} would be {depth} levels below the root; the limit is {}",
                    self.quotas.ou_max_depth
                ),
            ));
        }
        let root_id = self.root_id.clone();
        let id = self.fresh(|ids| ids.ou(&root_id), |w, id| w.ous.contains_key(id));
        self.ous.insert(
            id.clone(),
            LiveOu {
                id: id.clone(),
                name: name.to_string(),
                parent_id: parent_id.to_string(),
                tags: tags.clone(),
            },
        );
        self.attach_aws_managed(&id);
        Ok(id)
    }

    /// `UpdateOrganizationalUnit` (rename).
    pub fn rename_ou(&mut self, ou_id: &str, name: &str) -> Rule<()> {
        validate_name("OU name", name, 128)?;
        let Some(ou) = self.ous.get(ou_id) else {
            return Err(ou_not_found(ou_id));
        };
        if let Some(other) = self.sibling_named(&ou.parent_id, name)
            && other.id != ou_id
        {
            return Err(Denied::new(
                ErrorKind::DuplicateOrganizationalUnit,
                format!(
                    "an OU named {name:?} already exists under {}",
                    other.parent_id
                ),
            ));
        }
        if let Some(ou) = self.ous.get_mut(ou_id) {
            ou.name = name.to_string();
        }
        Ok(())
    }

    /// `DeleteOrganizationalUnit`: only an empty OU; its policy attachments go with it.
    pub fn delete_ou(&mut self, ou_id: &str) -> Rule<()> {
        if !self.ous.contains_key(ou_id) {
            return Err(ou_not_found(ou_id));
        }
        let child_ous = self.ous.values().filter(|o| o.parent_id == ou_id).count();
        let child_accounts = self
            .accounts
            .values()
            .filter(|a| a.parent_id == ou_id)
            .count();
        if child_ous + child_accounts > 0 {
            return Err(Denied::new(
                ErrorKind::OrganizationalUnitNotEmpty,
                format!(
                    "OU {ou_id} still contains {child_ous} OU(s) and {child_accounts} account(s)"
                ),
            ));
        }
        self.ous.remove(ou_id);
        self.attachments.remove(ou_id);
        Ok(())
    }

    // ---- accounts ----------------------------------------------------------------

    /// Whether an account (closed ones included) already uses this email.
    pub(crate) fn email_in_use(&self, email: &str) -> bool {
        self.emails.contains(&email.to_ascii_lowercase())
    }

    /// Adds an active account under `parent_id` with `FullAWSAccess` attached; the
    /// caller has checked the name, email, tags, parent and quota.
    pub(crate) fn add_account(
        &mut self,
        name: &str,
        email: &str,
        tags: &Tags,
        parent_id: &str,
    ) -> String {
        let account_id = self.fresh(IdSource::account, |w, id| w.accounts.contains_key(id));
        self.insert_account(LiveAccount {
            id: account_id.clone(),
            name: name.to_string(),
            email: email.to_string(),
            parent_id: parent_id.to_string(),
            tags: tags.clone(),
            status: AccountStatus::Active,
        });
        self.attach_aws_managed(&account_id);
        account_id
    }

    /// `CreateAccount`. Returns the request id at once. Unlike AWS, which adds the
    /// account when creation completes, the sim inserts it immediately (under the
    /// root, `FullAWSAccess` attached, tags applied): the observable difference is
    /// only that a crash mid-polling still finds the account, which is what matters
    /// for resume tests, and AWS behaves that way once creation finishes anyway.
    /// Business failures (email taken, account quota) are not errors of this call:
    /// they are reported by the request's status, as AWS does.
    pub fn create_account(
        &mut self,
        name: &str,
        email: &str,
        tags: &Tags,
        polls: u32,
    ) -> Rule<String> {
        validate_name("account name", name, 50)?;
        validate_email(email)?;
        validate_tags(tags)?;
        let request_id = self.fresh(IdSource::create_account_request, |w, id| {
            w.requests.contains_key(id)
        });
        let outcome = if self.emails.contains(&email.to_ascii_lowercase()) {
            RequestOutcome::Failed {
                reason: "EMAIL_ALREADY_EXISTS".into(),
            }
        } else if self.accounts.len() >= self.quotas.max_accounts {
            RequestOutcome::Failed {
                reason: "ACCOUNT_LIMIT_EXCEEDED".into(),
            }
        } else {
            let root_id = self.root_id.clone();
            let account_id = self.add_account(name, email, tags, &root_id);
            RequestOutcome::Succeeded { account_id }
        };
        self.requests.insert(
            request_id.clone(),
            AccountRequest {
                account_name: name.to_string(),
                email: email.to_string(),
                polls_remaining: polls,
                outcome,
            },
        );
        Ok(request_id)
    }

    /// `DescribeCreateAccountStatus`: `IN_PROGRESS` for the configured number of
    /// polls, then the outcome. The bool says whether the world changed (a poll was
    /// consumed) and so needs saving.
    pub fn create_account_status(&mut self, request_id: &str) -> Rule<(CreateAccountStatus, bool)> {
        let Some(request) = self.requests.get_mut(request_id) else {
            return Err(Denied::new(
                ErrorKind::NotFound,
                format!("CreateAccountStatusNotFoundException: no request {request_id}"),
            ));
        };
        if request.polls_remaining > 0 {
            request.polls_remaining -= 1;
            return Ok((CreateAccountStatus::InProgress, true));
        }
        let status = match &request.outcome {
            RequestOutcome::Succeeded { account_id } => CreateAccountStatus::Succeeded {
                account_id: account_id.clone(),
            },
            RequestOutcome::Failed { reason } => CreateAccountStatus::Failed {
                reason: reason.clone(),
            },
        };
        Ok((status, false))
    }

    /// `ListCreateAccountStatus` with `IN_PROGRESS`: (request id, account name) of
    /// every creation still polling.
    pub fn in_progress_account_creations(&self) -> Vec<(String, String)> {
        self.requests
            .iter()
            .filter(|(_, r)| r.polls_remaining > 0)
            .map(|(id, r)| (id.clone(), r.account_name.clone()))
            .collect()
    }

    /// `MoveAccount`, with AWS's distinct errors: `AccountNotFoundException` (as
    /// [`ErrorKind::NotFound`]), `SourceParentNotFoundException` when the source is
    /// not the account's current parent, `DestinationParentNotFoundException`, and
    /// `DuplicateAccountException` when it is already in the destination.
    pub fn move_account(&mut self, account_id: &str, source: &str, destination: &str) -> Rule<()> {
        let Some(account) = self.accounts.get(account_id) else {
            return Err(account_not_found(account_id));
        };
        if account.parent_id != source {
            return Err(Denied::new(
                ErrorKind::Other("SourceParentNotFoundException".into()),
                format!(
                    "account {account_id} is not in {source} (it is in {})",
                    account.parent_id
                ),
            ));
        }
        if !self.is_parent(destination) {
            return Err(Denied::new(
                ErrorKind::Other("DestinationParentNotFoundException".into()),
                format!("destination parent {destination} does not exist"),
            ));
        }
        if destination == source {
            return Err(Denied::new(
                ErrorKind::Other("DuplicateAccountException".into()),
                format!("account {account_id} is already in {destination}"),
            ));
        }
        if let Some(account) = self.accounts.get_mut(account_id) {
            account.parent_id = destination.to_string();
        }
        Ok(())
    }

    /// Account Management's `PutAccountName`, called from the management account: a
    /// name of 1 to 50 characters from AWS's pattern `[ -;=?-~]+` (printable ASCII but
    /// `<` and `>`), else `ValidationException`; the account must be in the
    /// organization, and Account Management must have trusted access to it (else
    /// `AccessDeniedException`). The management account renames itself (its call
    /// carries no account id; the backend leaves it out).
    pub fn put_account_name(&mut self, account_id: &str, name: &str) -> Rule<()> {
        let len = name.chars().count();
        let allowed = |c: char| (' '..='~').contains(&c) && c != '<' && c != '>';
        if len == 0 || len > 50 || !name.chars().all(allowed) {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                format!(
                    "ValidationException: the account name {name:?} must be 1 to 50 printable ASCII characters other than `<` and `>`"
                ),
            ));
        }
        if self.account_management_access_disabled {
            return Err(Denied::new(
                ErrorKind::AccessDenied,
                "AccessDeniedException: trusted access for AWS Account Management (account.amazonaws.com) is not enabled in this organization",
            ));
        }
        let Some(account) = self.accounts.get_mut(account_id) else {
            return Err(Denied::new(
                ErrorKind::AccessDenied,
                format!(
                    "AccessDeniedException: account {account_id} is not a member of this organization"
                ),
            ));
        };
        account.name = name.to_string();
        Ok(())
    }

    /// `CloseAccount`: the account becomes `SUSPENDED` and stays listed (AWS keeps
    /// closed accounts in the organization for 90 days). The management account
    /// cannot be closed through this API.
    pub fn close_account(&mut self, account_id: &str) -> Rule<()> {
        let Some(account) = self.accounts.get_mut(account_id) else {
            return Err(account_not_found(account_id));
        };
        if account_id == self.management_account_id {
            return Err(Denied::constraint(
                "ACCOUNT_CANNOT_LEAVE_ORGANIZATION",
                format!("{account_id} is the management account; CloseAccount cannot close it"),
            ));
        }
        if account.status != AccountStatus::Active {
            return Err(Denied::new(
                ErrorKind::AccountAlreadyClosed,
                format!("account {account_id} is already closed"),
            ));
        }
        account.status = AccountStatus::Suspended;
        Ok(())
    }

    // ---- member accounts ---------------------------------------------------------

    /// Whether Landfall could assume `role` in the scope's account: the account must
    /// be in the organization and active. Closed accounts keep their resources (AWS
    /// keeps them for 90 days) but cannot be entered.
    pub fn check_member_access(&self, scope: &MemberScope, role: &str) -> Rule<()> {
        let account_id = &scope.account_id;
        match self.accounts.get(account_id) {
            Some(a) if a.status == AccountStatus::Active => {}
            _ => {
                return Err(Denied::new(
                    ErrorKind::AccessDenied,
                    format!(
                        "cannot assume {role} in account {account_id}: the account does not exist or is closed"
                    ),
                ));
            }
        }
        if !is_region_name(&scope.region) {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                format!("{:?} is not an AWS region name", scope.region),
            ));
        }
        Ok(())
    }

    /// One member account and region as `refresh_member` reports it (empty when
    /// nothing was ever created there).
    pub fn member_live(&self, scope: &MemberScope, role: &str) -> Rule<LiveMember> {
        self.check_member_access(scope, role)?;
        Ok(self.member_snapshot(scope))
    }

    /// The member's resources, without any access check.
    pub fn member_snapshot(&self, scope: &MemberScope) -> LiveMember {
        self.members
            .get(&member_key(&scope.account_id, &scope.region))
            .map(MemberWorld::to_live)
            .unwrap_or_default()
    }

    /// Runs a member-account rule after the access check. Members left with nothing
    /// in them are dropped, so refused calls leave no trace in the world file.
    pub fn with_member<T>(
        &mut self,
        scope: &MemberScope,
        role: &str,
        rule: impl FnOnce(&mut Member<'_>) -> Rule<T>,
    ) -> Rule<T> {
        self.check_member_access(scope, role)?;
        let key = member_key(&scope.account_id, &scope.region);
        let data = self.members.entry(key.clone()).or_default();
        let mut member = Member {
            account_id: &scope.account_id,
            region: &scope.region,
            data,
            ids: &mut self.ids,
            quotas: &self.quotas,
        };
        let result = rule(&mut member);
        if self.members.get(&key).is_some_and(MemberWorld::is_empty) {
            self.members.remove(&key);
        }
        result
    }

    // ---- reads -------------------------------------------------------------------

    /// `ParentNotFoundException` unless `parent_id` is the root or an OU.
    pub(crate) fn require_parent(&self, parent_id: &str) -> Rule<()> {
        if self.is_parent(parent_id) {
            Ok(())
        } else {
            Err(Denied::new(
                ErrorKind::NotFound,
                format!("ParentNotFoundException: parent {parent_id} does not exist"),
            ))
        }
    }

    /// `DescribePolicy`: `PolicyNotFoundException` for an unknown id.
    pub(crate) fn policy(&self, policy_id: &str) -> Rule<&LivePolicy> {
        self.policies.get(policy_id).ok_or_else(|| {
            Denied::new(
                ErrorKind::NotFound,
                format!("PolicyNotFoundException: no policy {policy_id}"),
            )
        })
    }

    /// `ListTagsForResource`: a root's, OU's, account's or policy's tags.
    pub(crate) fn tags_of(&self, resource_id: &str) -> Rule<&Tags> {
        if resource_id == self.root_id {
            return Ok(&self.root_tags);
        }
        self.ous
            .get(resource_id)
            .map(|ou| &ou.tags)
            .or_else(|| self.accounts.get(resource_id).map(|a| &a.tags))
            .or_else(|| self.policies.get(resource_id).map(|p| &p.tags))
            .ok_or_else(|| {
                Denied::new(
                    ErrorKind::NotFound,
                    format!(
                        "TargetNotFoundException: no root, OU, account or policy {resource_id}"
                    ),
                )
            })
    }

    // ---- tags --------------------------------------------------------------------

    fn tags_mut(&mut self, resource_id: &str) -> Rule<&mut Tags> {
        if resource_id == self.root_id {
            return Ok(&mut self.root_tags);
        }
        if let Some(ou) = self.ous.get_mut(resource_id) {
            return Ok(&mut ou.tags);
        }
        if let Some(account) = self.accounts.get_mut(resource_id) {
            return Ok(&mut account.tags);
        }
        if let Some(policy) = self.policies.get_mut(resource_id) {
            if policy.aws_managed {
                return Err(immutable_policy(resource_id));
            }
            return Ok(&mut policy.tags);
        }
        Err(Denied::new(
            ErrorKind::NotFound,
            format!("TargetNotFoundException: no root, OU, account or policy {resource_id}"),
        ))
    }

    /// `TagResource`: adds or overwrites; at most [`MAX_TAGS`] per resource.
    pub fn tag_resource(&mut self, resource_id: &str, tags: &Tags) -> Rule<()> {
        validate_tags(tags)?;
        let current = self.tags_mut(resource_id)?;
        let added = tags.keys().filter(|k| !current.contains_key(*k)).count();
        if current.len() + added > MAX_TAGS {
            return Err(Denied::constraint(
                "MAX_TAG_LIMIT_EXCEEDED",
                format!(
                    "{resource_id} would have {} tags; the limit is {MAX_TAGS}",
                    current.len() + added
                ),
            ));
        }
        current.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(())
    }

    /// `UntagResource`: keys that are not present are ignored, as AWS does.
    pub fn untag_resource(&mut self, resource_id: &str, keys: &[String]) -> Rule<()> {
        let current = self.tags_mut(resource_id)?;
        for key in keys {
            current.remove(key);
        }
        Ok(())
    }

    // ---- policies ----------------------------------------------------------------

    /// The type of a policy (an id the world does not list is taken for an SCP).
    pub fn type_of(&self, policy_id: &str) -> PolicyType {
        self.policy_types
            .get(policy_id)
            .copied()
            .unwrap_or(PolicyType::ServiceControlPolicy)
    }

    /// Content rules per type: valid JSON (`MalformedPolicyDocumentException`), a JSON
    /// object for the management policy types (tag and AI services opt-out policies
    /// are objects of `@@` operators), and the type's size quota
    /// (`POLICY_CONTENT_LIMIT_EXCEEDED`; SCPs' from [`Quotas::scp_max_chars`]).
    fn check_content(&self, policy_type: PolicyType, content: &str) -> Rule<()> {
        let malformed = |why: &str| {
            Denied::new(
                ErrorKind::Other("MalformedPolicyDocumentException".into()),
                format!("the {} document {why}", policy_type.aws_name()),
            )
        };
        let Ok(value) = serde_json::from_str::<serde_json::Value>(content) else {
            return Err(malformed("is not valid JSON"));
        };
        if matches!(
            policy_type,
            PolicyType::TagPolicy | PolicyType::AiservicesOptOutPolicy
        ) && !value.is_object()
        {
            return Err(malformed("is not a JSON object"));
        }
        let limit = crate::policy_types::max_chars(policy_type, &self.quotas);
        let chars = content.chars().count();
        if chars > limit {
            return Err(Denied::constraint(
                "POLICY_CONTENT_LIMIT_EXCEEDED",
                format!(
                    "the {} document has {chars} characters; the limit is {limit}",
                    policy_type.aws_name()
                ),
            ));
        }
        Ok(())
    }

    /// `CreatePolicy` of type `SERVICE_CONTROL_POLICY`.
    pub fn create_policy(
        &mut self,
        name: &str,
        description: &str,
        content: &str,
        tags: &Tags,
    ) -> Rule<String> {
        self.create_policy_of(
            PolicyType::ServiceControlPolicy,
            name,
            description,
            content,
            tags,
            &BTreeSet::new(),
        )
    }

    /// `CreatePolicy` of any type: the type must be enabled on the root (`pending`:
    /// types whose `EnablePolicyType` is still running under the AWS model), the
    /// name unique among the policies of the type.
    pub fn create_policy_of(
        &mut self,
        policy_type: PolicyType,
        name: &str,
        description: &str,
        content: &str,
        tags: &Tags,
        pending: &BTreeSet<PolicyType>,
    ) -> Rule<String> {
        validate_name("policy name", name, 128)?;
        if description.chars().count() > 512 {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                "the policy description is longer than 512 characters",
            ));
        }
        validate_tags(tags)?;
        self.require_type_enabled(policy_type, pending)?;
        if self.named_policy(policy_type, name, None) {
            return Err(Denied::new(
                ErrorKind::DuplicatePolicy,
                format!("a {} named {name:?} already exists", policy_type.aws_name()),
            ));
        }
        self.check_content(policy_type, content)?;
        let id = self.fresh(IdSource::policy, |w, id| w.policies.contains_key(id));
        self.policies.insert(
            id.clone(),
            LivePolicy {
                id: id.clone(),
                name: name.to_string(),
                description: description.to_string(),
                content: content.to_string(),
                tags: tags.clone(),
                aws_managed: false,
            },
        );
        if policy_type != PolicyType::ServiceControlPolicy {
            self.policy_types.insert(id.clone(), policy_type);
        }
        Ok(id)
    }

    /// Whether a policy of the type other than `except` has this name.
    fn named_policy(&self, policy_type: PolicyType, name: &str, except: Option<&str>) -> bool {
        self.policies.values().any(|p| {
            p.name == name && self.type_of(&p.id) == policy_type && Some(p.id.as_str()) != except
        })
    }

    /// `UpdatePolicy` (name, description and/or content); AWS-managed policies are
    /// immutable, and a name another policy of the type has is refused
    /// (`DuplicatePolicyException`).
    pub fn update_policy(
        &mut self,
        policy_id: &str,
        name: Option<&str>,
        description: Option<&str>,
        content: Option<&str>,
    ) -> Rule<()> {
        let Some(policy) = self.policies.get(policy_id) else {
            return Err(policy_not_found(policy_id));
        };
        if policy.aws_managed {
            return Err(immutable_policy(policy_id));
        }
        let policy_type = self.type_of(policy_id);
        if let Some(n) = name {
            validate_name("policy name", n, 128)?;
            if self.named_policy(policy_type, n, Some(policy_id)) {
                return Err(Denied::new(
                    ErrorKind::DuplicatePolicy,
                    format!("a policy named {n:?} already exists"),
                ));
            }
        }
        if let Some(d) = description
            && d.chars().count() > 512
        {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                "the policy description is longer than 512 characters",
            ));
        }
        if let Some(c) = content {
            self.check_content(policy_type, c)?;
        }
        if let Some(policy) = self.policies.get_mut(policy_id) {
            if let Some(n) = name {
                policy.name = n.to_string();
            }
            if let Some(d) = description {
                policy.description = d.to_string();
            }
            if let Some(c) = content {
                policy.content = c.to_string();
            }
        }
        Ok(())
    }

    /// `DeletePolicy`: only a customer-managed policy attached nowhere.
    pub fn delete_policy(&mut self, policy_id: &str) -> Rule<()> {
        let Some(policy) = self.policies.get(policy_id) else {
            return Err(policy_not_found(policy_id));
        };
        if policy.aws_managed {
            return Err(immutable_policy(policy_id));
        }
        if self.is_attached_anywhere(policy_id) {
            return Err(Denied::new(
                ErrorKind::PolicyInUse,
                format!("policy {policy_id} is still attached; detach it first"),
            ));
        }
        self.policies.remove(policy_id);
        self.policy_types.remove(policy_id);
        Ok(())
    }

    fn check_policy_and_target(&self, policy_id: &str, target_id: &str) -> Rule<()> {
        if !self.policies.contains_key(policy_id) {
            return Err(policy_not_found(policy_id));
        }
        if !self.is_target(target_id) {
            return Err(Denied::new(
                ErrorKind::NotFound,
                format!("TargetNotFoundException: no root, OU or account {target_id}"),
            ));
        }
        Ok(())
    }

    /// Policies of `policy_type` attached directly to a target.
    pub(crate) fn attached_of_type(&self, target_id: &str, policy_type: PolicyType) -> usize {
        self.attachments.get(target_id).map_or(0, |set| {
            set.iter()
                .filter(|p| self.type_of(p) == policy_type)
                .count()
        })
    }

    /// `AttachPolicy` of an SCP or any other enabled type: at most the type's quota
    /// directly on a target (SCPs: [`Quotas::scps_per_target`]; the AWS-managed
    /// `FullAWSAccess` and `RCPFullAWSAccess` count).
    pub fn attach_policy(&mut self, policy_id: &str, target_id: &str) -> Rule<()> {
        self.attach_policy_pending(policy_id, target_id, &BTreeSet::new())
    }

    /// [`Self::attach_policy`] with the types still `PENDING_ENABLE` (AWS model).
    pub fn attach_policy_pending(
        &mut self,
        policy_id: &str,
        target_id: &str,
        pending: &BTreeSet<PolicyType>,
    ) -> Rule<()> {
        self.check_policy_and_target(policy_id, target_id)?;
        let policy_type = self.type_of(policy_id);
        self.require_type_enabled(policy_type, pending)?;
        let on_target = self.attachments.get(target_id);
        if on_target.is_some_and(|set| set.contains(policy_id)) {
            return Err(Denied::new(
                ErrorKind::DuplicatePolicyAttachment,
                format!("policy {policy_id} is already attached to {target_id}"),
            ));
        }
        let count = self.attached_of_type(target_id, policy_type);
        let limit = crate::policy_types::per_target(policy_type, &self.quotas);
        if count >= limit {
            return Err(Denied::constraint(
                "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                format!(
                    "{target_id} already has {count} {} attached; the limit is {limit}",
                    policy_type.aws_name()
                ),
            ));
        }
        self.attachments
            .entry(target_id.to_string())
            .or_default()
            .insert(policy_id.to_string());
        Ok(())
    }

    /// `DetachPolicy`: a target must keep at least one SCP; `RCPFullAWSAccess` cannot
    /// be detached at all.
    pub fn detach_policy(&mut self, policy_id: &str, target_id: &str) -> Rule<()> {
        self.check_policy_and_target(policy_id, target_id)?;
        let policy_type = self.type_of(policy_id);
        if !self
            .attachments
            .get(target_id)
            .is_some_and(|set| set.contains(policy_id))
        {
            return Err(Denied::new(
                ErrorKind::PolicyNotAttached,
                format!("policy {policy_id} is not attached to {target_id}"),
            ));
        }
        if policy_type == PolicyType::ResourceControlPolicy
            && crate::policy_types::aws_managed_id(policy_type) == Some(policy_id)
        {
            return Err(Denied::constraint(
                "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                format!(
                    "{} is attached to every root, OU and account while resource control policies are enabled and cannot be detached",
                    landfall_core::policy_type::RCP_FULL_AWS_ACCESS
                ),
            ));
        }
        if policy_type == PolicyType::ServiceControlPolicy
            && self.attached_of_type(target_id, policy_type) == 1
        {
            return Err(Denied::constraint(
                "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                format!("{policy_id} is the last SCP on {target_id}; a target needs at least one"),
            ));
        }
        if let Some(on_target) = self.attachments.get_mut(target_id) {
            on_target.remove(policy_id);
        }
        Ok(())
    }

    /// The resource control, tag and AI services opt-out policies, as
    /// [`LiveState::org_policies`] holds them.
    pub fn live_org_policies(&self) -> BTreeMap<String, landfall_core::live::LiveOrgPolicy> {
        self.policies
            .iter()
            .filter_map(|(id, p)| {
                let org_type: OrgPolicyType = self.type_of(id).org_policy_type()?;
                Some((
                    id.clone(),
                    landfall_core::live::LiveOrgPolicy {
                        id: id.clone(),
                        policy_type: org_type,
                        name: p.name.clone(),
                        description: p.description.clone(),
                        content: p.content.clone(),
                        tags: p.tags.clone(),
                        aws_managed: p.aws_managed,
                    },
                ))
            })
            .collect()
    }
}

/// SCPs only: a new organization's root (and a world file that never changed it).
fn scp_only() -> BTreeSet<PolicyType> {
    BTreeSet::from([PolicyType::ServiceControlPolicy])
}

fn is_scp_only(types: &BTreeSet<PolicyType>) -> bool {
    *types == scp_only()
}

// ---- input validation shared by several calls (AWS's InvalidInputException) -------

pub(crate) fn validate_name(what: &str, name: &str, max: usize) -> Rule<()> {
    let len = name.chars().count();
    if len == 0 || len > max || name.chars().any(char::is_control) {
        return Err(Denied::new(
            ErrorKind::InvalidInput,
            format!("{what} {name:?} must be 1 to {max} printable characters"),
        ));
    }
    Ok(())
}

pub(crate) fn validate_email(email: &str) -> Rule<()> {
    let len = email.chars().count();
    let well_formed = match email.split_once('@') {
        Some((local, domain)) => !local.is_empty() && !domain.is_empty() && !domain.contains('@'),
        None => false,
    };
    if !(6..=64).contains(&len) || !well_formed || email.chars().any(char::is_whitespace) {
        return Err(Denied::new(
            ErrorKind::InvalidInput,
            format!("{email:?} is not a valid account email (6 to 64 characters, one @)"),
        ));
    }
    Ok(())
}

pub(crate) fn validate_tags(tags: &Tags) -> Rule<()> {
    if tags.len() > MAX_TAGS {
        return Err(Denied::constraint(
            "MAX_TAG_LIMIT_EXCEEDED",
            format!("{} tags given; the limit is {MAX_TAGS}", tags.len()),
        ));
    }
    for (key, value) in tags {
        let key_len = key.chars().count();
        if key_len == 0 || key_len > 128 || key.to_ascii_lowercase().starts_with("aws:") {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                format!("tag key {key:?} must be 1 to 128 characters and not start with `aws:`"),
            ));
        }
        if value.chars().count() > 256 {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                format!("the value of tag {key:?} is longer than 256 characters"),
            ));
        }
    }
    Ok(())
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`: lowercase words
/// joined by `-`, ending in a number.
pub(crate) fn is_region_name(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

pub(crate) fn ou_not_found(ou_id: &str) -> Denied {
    Denied::new(
        ErrorKind::NotFound,
        format!("OrganizationalUnitNotFoundException: no OU {ou_id}"),
    )
}

pub(crate) fn account_not_found(account_id: &str) -> Denied {
    Denied::new(
        ErrorKind::NotFound,
        format!("AccountNotFoundException: no account {account_id}"),
    )
}

fn policy_not_found(policy_id: &str) -> Denied {
    Denied::new(
        ErrorKind::NotFound,
        format!("PolicyNotFoundException: no policy {policy_id}"),
    )
}

/// AWS answers changes to its managed policies with `InvalidInputException`
/// (reason `IMMUTABLE_POLICY`).
fn immutable_policy(policy_id: &str) -> Denied {
    Denied::new(
        ErrorKind::InvalidInput,
        format!("IMMUTABLE_POLICY: {policy_id} is managed by AWS and cannot be changed"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        World::new(1, Quotas::default())
    }

    fn kind<T: std::fmt::Debug>(r: Rule<T>) -> ErrorKind {
        r.unwrap_err().kind
    }

    #[test]
    fn a_new_world_looks_like_a_fresh_organization() {
        let w = world();
        assert!(w.root_id.starts_with("r-"));
        let mgmt = &w.accounts[&w.management_account_id];
        assert_eq!(mgmt.name, "management");
        assert_eq!(mgmt.email, MANAGEMENT_ACCOUNT_EMAIL);
        assert_eq!(mgmt.parent_id, w.root_id);
        let fa = &w.policies[FULL_AWS_ACCESS_ID];
        assert!(fa.aws_managed);
        assert_eq!(fa.name, "FullAWSAccess");
        let live = w.to_live();
        assert!(
            live.attachments
                .contains(&(FULL_AWS_ACCESS_ID.to_string(), w.root_id.clone()))
        );
    }

    #[test]
    fn same_seed_and_calls_give_same_ids() {
        let run = || {
            let mut w = World::new(9, Quotas::default());
            let root = w.root_id.clone();
            let ou = w.create_ou(&root, "A", &Tags::new()).unwrap();
            let p = w.create_policy("p", "", "{}", &Tags::new()).unwrap();
            let r = w
                .create_account("a", "a@example.com", &Tags::new(), 0)
                .unwrap();
            (root, w.management_account_id.clone(), ou, p, r)
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn ou_depth_counts_levels_below_root() {
        let mut w = World::new(
            2,
            Quotas {
                ou_max_depth: 2,
                ..Quotas::default()
            },
        );
        let root = w.root_id.clone();
        let a = w.create_ou(&root, "A", &Tags::new()).unwrap();
        let b = w.create_ou(&a, "B", &Tags::new()).unwrap();
        assert_eq!(
            kind(w.create_ou(&b, "C", &Tags::new())),
            ErrorKind::ConstraintViolation("OU_DEPTH_LIMIT_EXCEEDED".into())
        );
    }

    #[test]
    fn refused_calls_change_nothing() {
        let mut w = world();
        let before = w.to_live();
        let root = w.root_id.clone();
        let _ = w.create_ou("ou-nope-00000000", "A", &Tags::new());
        let _ = w.create_policy("bad", "", "{not json", &Tags::new());
        let _ = w.detach_policy(FULL_AWS_ACCESS_ID, &root);
        let _ = w.delete_policy(FULL_AWS_ACCESS_ID);
        assert_eq!(w.to_live(), before);
    }

    #[test]
    fn validation_rejects_bad_input() {
        let mut w = world();
        let root = w.root_id.clone();
        assert_eq!(
            kind(w.create_ou(&root, "", &Tags::new())),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(w.create_account("x", "not-an-email", &Tags::new(), 0)),
            ErrorKind::InvalidInput
        );
        let aws_tag = Tags::from([("aws:owner".to_string(), "x".to_string())]);
        assert_eq!(
            kind(w.tag_resource(&root, &aws_tag)),
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn region_names() {
        for ok in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-3",
        ] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in ["", "us-east", "us-east-1a", "US-EAST-1", "us--1", "east-1"] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }

    #[test]
    fn member_calls_need_an_active_account_and_leave_no_empty_members() {
        let mut w = world();
        let mgmt = w.management_account_id.clone();
        let scope = MemberScope {
            account_id: mgmt.clone(),
            region: "us-east-1".into(),
        };
        let r = w.with_member(&scope, "Role", |m| m.create_vpc("bad", &Tags::new()));
        assert_eq!(r.unwrap_err().kind, ErrorKind::InvalidInput);
        assert!(w.members.is_empty());
        let vpc = w
            .with_member(&scope, "Role", |m| {
                m.create_vpc("10.0.0.0/16", &Tags::new())
            })
            .unwrap();
        assert!(
            w.member_live(&scope, "Role")
                .unwrap()
                .vpcs
                .contains_key(&vpc)
        );
        let nobody = MemberScope {
            account_id: "000000000000".into(),
            region: "us-east-1".into(),
        };
        let err = w.member_live(&nobody, "Role").unwrap_err();
        assert_eq!(err.kind, ErrorKind::AccessDenied);
        assert!(
            err.message
                .contains("cannot assume Role in account 000000000000")
        );
        assert!(w.reindex().is_ok());
    }

    #[test]
    fn reindex_rejects_broken_worlds() {
        let mut w = world();
        assert!(w.reindex().is_ok());
        let mut broken = w.clone();
        broken.accounts.clear();
        assert!(broken.reindex().unwrap_err().contains("management account"));
        let mut future = w.clone();
        future.format_version = 99;
        assert!(future.reindex().unwrap_err().contains("version 99"));
    }
}
