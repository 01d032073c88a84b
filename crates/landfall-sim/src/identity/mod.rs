//! IAM Identity Center: the organization's instance, its permission sets (policies,
//! boundary, tags, and the version provisioned to each account), the Identity Store's
//! groups and users, account assignments, and the asynchronous requests
//! (`CreateAccountAssignment`, `DeleteAccountAssignment`, `ProvisionPermissionSet`),
//! with the rules the services enforce. Pure and synchronous like [`crate::world`];
//! every rule validates before it changes anything.
//!
//! A world plays an organization whose Control Tower landing zone set Identity Center
//! up, so the instance exists unless a test turns it off ([`World::set_identity_center`]);
//! its ARN and identity store id come from the world's seed ([`crate::ids::identity_instance`]).
//!
//! Asynchronous requests take effect when they start (an assignment exists, the set is
//! provisioned) unless their outcome, decided then, is a failure — which changes
//! nothing — and are answered `IN_PROGRESS` for a number of polls
//! (`account_creation_polls`; under the AWS model, a drawn time instead). A request
//! counts as outstanding until a poll finishes it; opening a world file finishes what
//! an earlier process left running.
//!
//! Provisioning: a change to a set's policies, boundary or session duration bumps its
//! version, and each account holds the version last provisioned to it; an older one is
//! `LATEST_PERMISSION_SET_NOT_PROVISIONED` until `ProvisionPermissionSet`. The sim has
//! no IAM: a customer-managed policy (or boundary) a set names exists in an account
//! only when the world lists it there ([`World::add_customer_managed_policy`]);
//! provisioning to an account without it fails, as AWS's does.
//!
//! Where to look: `permission_sets` (the sets and their policies), `assignments`
//! (assignments, provisioning, requests and their statuses), `directory` (Identity
//! Store groups and users), `live` (what `refresh_identity` reads, call by call).

mod assignments;
mod directory;
mod live;
mod permission_sets;

pub(crate) use live::IDENTITY_PAGE_SIZE;

use std::collections::{BTreeMap, BTreeSet};

use landfall_core::live::{LiveAssignment, PrincipalType};
use landfall_core::model::{CustomerPolicyRef, PermissionsBoundary, Tags};
use landfall_engine::provider::{ErrorKind, IdentityRequest};
use serde::{Deserialize, Serialize};

use crate::ids;
use crate::world::{Denied, Rule, World};

/// Permission sets per instance (IAM Identity Center quotas: 2000, can be increased).
pub const MAX_PERMISSION_SETS: usize = 2000;
/// Permission sets provisioned to one account (IAM Identity Center quotas: 250).
pub const MAX_PROVISIONED_PER_ACCOUNT: usize = 250;
/// AWS-managed and customer-managed policies per permission set, together (IAM
/// Identity Center quotas: 20, not adjustable).
pub const MAX_POLICIES_PER_SET: usize = 20;
/// Inline policy size (IAM Identity Center quotas: 32,768 bytes).
pub const MAX_INLINE_POLICY_BYTES: usize = 32_768;
/// Inline policy size without whitespace (IAM Identity Center quotas: 10,240).
pub const MAX_INLINE_POLICY_NON_WHITESPACE: usize = 10_240;
/// `CreateAccountAssignment` requests outstanding at once (IAM Identity Center quotas:
/// "a maximum rate of 10 outstanding async calls"; cannot be changed).
pub const ASSIGNMENT_CREATIONS_OUTSTANDING: usize = 10;
/// Tags per permission set (SSO Admin `TagResource`: at most 50).
pub const MAX_PERMISSION_SET_TAGS: usize = 50;

/// IAM Identity Center as the world file holds it. Absent from world files written
/// before it existed, which load with an enabled, empty instance.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityCenter {
    /// Identity Center is not enabled for the organization (`ListInstances` answers
    /// none); a test's knob, enabled by default.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// By ARN.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub permission_sets: BTreeMap<String, PermissionSet>,
    /// Permission set ARN → account id → the set's version provisioned there.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub provisioned: BTreeMap<String, BTreeMap<String, u64>>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub assignments: BTreeSet<LiveAssignment>,
    /// Identity Store groups, by id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, Group>,
    /// Identity Store users, by id (the sim has no API to create them: tests and the
    /// CLI seed them, [`World::add_identity_user`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub users: BTreeMap<String, User>,
    /// Account id → the customer-managed IAM policies that exist there (the sim has no
    /// IAM; [`World::add_customer_managed_policy`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub customer_policies: BTreeMap<String, BTreeSet<CustomerPolicyRef>>,
    /// Asynchronous requests, by request id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: BTreeMap<String, RequestRecord>,
}

/// A permission set (`DescribePermissionSet` and its policies).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionSet {
    pub arn: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub session_duration: String,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub managed_policies: BTreeSet<String>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub customer_managed_policies: BTreeSet<CustomerPolicyRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<PermissionsBoundary>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
    /// Bumped by every change that reaches the IAM role in the accounts.
    pub version: u64,
}

/// An Identity Store group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// An Identity Store user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub user_name: String,
}

/// Which API started a request (and which status API answers for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestKind {
    AssignmentCreation,
    AssignmentDeletion,
    Provisioning,
}

impl RequestKind {
    fn of(request: IdentityRequest) -> RequestKind {
        match request {
            IdentityRequest::AssignmentCreation => RequestKind::AssignmentCreation,
            IdentityRequest::AssignmentDeletion => RequestKind::AssignmentDeletion,
            IdentityRequest::Provisioning => RequestKind::Provisioning,
        }
    }
}

/// An asynchronous request as Identity Center remembers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub kind: RequestKind,
    pub permission_set_arn: String,
    /// The account of an assignment request (provisioning covers every account the
    /// set is provisioned to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Polls still answered `IN_PROGRESS`.
    pub polls_remaining: u32,
    /// Decided when the request starts: its `FailureReason`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Finished: its outcome is final and it is no longer outstanding.
    pub finished: bool,
}

/// The instance `ListInstances` answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub arn: String,
    pub identity_store_id: String,
}

impl IdentityCenter {
    pub fn is_empty(&self) -> bool {
        *self == IdentityCenter::default()
    }

    /// Consistency checks for a loaded world file.
    pub fn check(&self) -> Result<(), String> {
        for (arn, set) in &self.permission_sets {
            if *arn != set.arn {
                return Err(format!("permission set {arn} is stored under another ARN"));
            }
        }
        for arn in self.provisioned.keys() {
            if !self.permission_sets.contains_key(arn) {
                return Err(format!("unknown permission set {arn} is provisioned"));
            }
        }
        for a in &self.assignments {
            if !self.permission_sets.contains_key(&a.permission_set_arn) {
                return Err(format!(
                    "an assignment in {} names unknown permission set {}",
                    a.account_id, a.permission_set_arn
                ));
            }
        }
        for (id, group) in &self.groups {
            if *id != group.id {
                return Err(format!("group {id} is stored under another id"));
            }
        }
        for (id, user) in &self.users {
            if *id != user.id {
                return Err(format!("user {id} is stored under another id"));
            }
        }
        Ok(())
    }

    /// `CreateAccountAssignment` requests not finished yet.
    pub fn outstanding_creations(&self) -> usize {
        self.requests
            .values()
            .filter(|r| r.kind == RequestKind::AssignmentCreation && !r.finished)
            .count()
    }

    fn set(&self, arn: &str) -> Rule<&PermissionSet> {
        self.permission_sets
            .get(arn)
            .ok_or_else(|| permission_set_not_found(arn))
    }

    fn set_mut(&mut self, arn: &str) -> Rule<&mut PermissionSet> {
        self.permission_sets
            .get_mut(arn)
            .ok_or_else(|| permission_set_not_found(arn))
    }

    fn principal_exists(&self, principal_type: PrincipalType, principal_id: &str) -> bool {
        match principal_type {
            PrincipalType::Group => self.groups.contains_key(principal_id),
            PrincipalType::User => self.users.contains_key(principal_id),
        }
    }
}

impl World {
    /// The organization's Identity Center instance, `None` when it is not enabled.
    pub fn identity_instance(&self) -> Option<Instance> {
        if self.identity.disabled {
            return None;
        }
        let (arn, identity_store_id) = ids::identity_instance(self.ids.seed);
        Some(Instance {
            arn,
            identity_store_id,
        })
    }

    /// The instance every Identity Center call works under; AWS's answer when there is
    /// none (the caller found no instance with `ListInstances`).
    fn instance(&self) -> Rule<Instance> {
        self.identity_instance().ok_or_else(|| {
            Denied::new(
                ErrorKind::NotFound,
                "ResourceNotFoundException: IAM Identity Center is not enabled for this organization \
                 (ListInstances answers no instance)",
            )
        })
    }

    /// Out of band: turns Identity Center on or off for the organization (off: reads
    /// find no instance, calls are refused). Its data stays.
    pub fn set_identity_center(&mut self, enabled: bool) {
        self.identity.disabled = !enabled;
    }

    /// Finishes every request still running (an earlier process's: time passed
    /// since). Returns whether anything changed.
    pub fn settle_identity(&mut self) -> bool {
        let mut changed = false;
        for request in self.identity.requests.values_mut() {
            if !request.finished {
                request.finished = true;
                request.polls_remaining = 0;
                changed = true;
            }
        }
        changed
    }
}

pub(crate) fn validation(message: impl Into<String>) -> Denied {
    Denied::new(
        ErrorKind::InvalidInput,
        format!("ValidationException: {}", message.into()),
    )
}

pub(crate) fn conflict(message: impl Into<String>) -> Denied {
    Denied::new(
        ErrorKind::Conflict,
        format!("ConflictException: {}", message.into()),
    )
}

pub(crate) fn not_found(message: impl Into<String>) -> Denied {
    Denied::new(
        ErrorKind::NotFound,
        format!("ResourceNotFoundException: {}", message.into()),
    )
}

pub(crate) fn quota(message: impl Into<String>) -> Denied {
    Denied::new(
        ErrorKind::ServiceQuotaExceeded,
        format!("ServiceQuotaExceededException: {}", message.into()),
    )
}

fn permission_set_not_found(arn: &str) -> Denied {
    not_found(format!("no permission set {arn}"))
}

/// The IAM policy ARN of a customer-managed policy in an account.
pub fn customer_policy_arn(account_id: &str, policy: &CustomerPolicyRef) -> String {
    format!(
        "arn:aws:iam::{account_id}:policy{}{}",
        policy.path, policy.name
    )
}

#[cfg(test)]
mod tests {
    use landfall_core::model::Quotas;

    use super::*;

    #[test]
    fn the_instance_comes_from_the_seed_and_draws_no_ids() {
        let a = World::new(5, Quotas::default());
        let b = World::new(5, Quotas::default());
        let before = a.ids.clone();
        let instance = a.identity_instance().unwrap();
        assert_eq!(Some(instance.clone()), b.identity_instance());
        assert_eq!(a.ids, before);
        let id = instance
            .arn
            .strip_prefix("arn:aws:sso:::instance/ssoins-")
            .unwrap();
        assert!(id.len() == 16 && id.chars().all(|c| c.is_ascii_hexdigit()));
        let store = instance.identity_store_id.strip_prefix("d-").unwrap();
        assert!(store.len() == 10 && store.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(
            World::new(6, Quotas::default()).identity_instance(),
            Some(instance)
        );
    }
}
