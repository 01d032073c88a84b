//! Who can act where once the plan is applied: the lockout checks for people. A plan
//! is refused (unless `--allow-lockout`) when it would remove the last assignment of an
//! admin-capable permission set in the management account, or leave a platform admin
//! group (a group given a `platform_admin` persona's set) with no account to act in.
//!
//! What Landfall can see: the permission sets it manages (declared or recorded) are
//! read in detail; sets it does not manage (Control Tower's own, for instance) are not,
//! so their assignments count as unknown, never as admin access. The check errs on
//! the side of refusing; `--allow-lockout` says the operator knows better.

use std::collections::BTreeSet;

use crate::address::{Address, Principal};
use crate::live::{LiveIndex, LivePermissionSet, LiveState, PrincipalType};
use crate::model::{DesiredState, PermissionSetSpec};

/// The AWS-managed policy that gives full access.
const ADMINISTRATOR_ACCESS: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

/// The persona whose groups run the platform.
const PLATFORM_ADMIN: &str = "platform_admin";

/// Whether a set with these policies can do anything: `AdministratorAccess`, or an
/// inline Allow of every action (`*`) on every resource without conditions.
pub fn is_admin_capable<'a>(
    mut managed: impl Iterator<Item = &'a String>,
    inline: Option<&str>,
) -> bool {
    if managed.any(|arn| arn == ADMINISTRATOR_ACCESS) {
        return true;
    }
    let Some(policy) = inline.and_then(|doc| {
        landfall_policy::parse_as(landfall_policy::PolicyKind::Identity, "inline", doc).ok()
    }) else {
        return false;
    };
    let empty = Default::default();
    policy.statements.iter().any(|st| {
        st.effect == landfall_policy::Effect::Allow
            && st.conditions.is_empty()
            && st.actions.matches("iam:CreateRole")
            && st.actions.matches("organizations:LeaveOrganization")
            && st.actions.matches("sagemaker:CreateDomain")
            && st.resources.matches("*", &empty)
    })
}

fn spec_admin(spec: &PermissionSetSpec) -> bool {
    is_admin_capable(spec.managed_policies.iter(), spec.inline_policy.as_deref())
}

fn live_admin(set: &LivePermissionSet) -> Option<bool> {
    set.detailed
        .then(|| is_admin_capable(set.managed_policies.iter(), set.inline_policy.as_deref()))
}

/// A reason to refuse the plan, tied to the resource it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockoutRisk {
    pub address: Address,
    pub message: String,
    pub hint: String,
}

/// One assignment as it will be once the plan is applied.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AccessAfter {
    pub permission_set: String,
    pub principal: Principal,
    pub account_id: String,
    /// `Some(true)`: the set is admin-capable; `None`: not known (a set Landfall does
    /// not manage).
    pub admin: Option<bool>,
}

/// The assignments after the apply: the declared ones (in accounts the organization
/// has or the plan creates), and the live ones Landfall does not manage, which it
/// leaves in place.
fn access_after(desired: &DesiredState, live: &LiveState) -> Vec<AccessAfter> {
    let index = LiveIndex::new(live);
    let identity = &live.identity;
    let account_id = |name: &str| {
        desired
            .accounts
            .get(name)
            .and_then(|a| index.account_by_email(&a.email))
            .map(|a| a.id.clone())
            .unwrap_or_else(|| format!("(new account {name})"))
    };
    let mut out: Vec<AccessAfter> = desired
        .assignments
        .iter()
        .map(|spec| AccessAfter {
            permission_set: spec.assignment.permission_set.clone(),
            principal: spec.assignment.principal.clone(),
            account_id: account_id(&spec.assignment.account),
            admin: desired
                .permission_sets
                .get(&spec.assignment.permission_set)
                .map(spec_admin),
        })
        .collect();
    let declared: BTreeSet<(String, String, String)> = out
        .iter()
        .map(|a| {
            (
                a.permission_set.clone(),
                a.principal.to_string(),
                a.account_id.clone(),
            )
        })
        .collect();
    for l in &identity.assignments {
        let Some(set) = identity.permission_sets.get(&l.permission_set_arn) else {
            continue;
        };
        // A managed set's undeclared assignments Landfall created go with the plan;
        // the ones it did not are left in place (and reported as drift).
        if desired.permission_sets.contains_key(&set.name) {
            continue;
        }
        let principal = match l.principal_type {
            PrincipalType::Group => Principal::Group(
                identity
                    .group_name(&l.principal_id)
                    .unwrap_or(&l.principal_id)
                    .to_string(),
            ),
            PrincipalType::User => Principal::User(l.principal_id.clone()),
        };
        let key = (
            set.name.clone(),
            principal.to_string(),
            l.account_id.clone(),
        );
        if declared.contains(&key) {
            continue;
        }
        out.push(AccessAfter {
            permission_set: set.name.clone(),
            principal,
            account_id: l.account_id.clone(),
            admin: live_admin(set),
        });
    }
    out.sort();
    out
}

/// The lockout risks of applying `desired` over `live`.
pub fn lockout_risks(desired: &DesiredState, live: &LiveState) -> Vec<LockoutRisk> {
    let identity = &live.identity;
    if !identity.read || identity.instance.is_none() {
        return vec![];
    }
    let mut out = Vec::new();
    let management = live.management_account_id.as_str();
    let after = access_after(desired, live);

    // Admin access to the management account: there before, gone after.
    let admin_before: Vec<String> = identity
        .assignments
        .iter()
        .filter(|l| l.account_id == management)
        .filter_map(|l| identity.permission_sets.get(&l.permission_set_arn))
        .filter(|set| live_admin(set) == Some(true))
        .map(|set| set.name.clone())
        .collect();
    let admin_after = after
        .iter()
        .any(|a| a.account_id == management && a.admin != Some(false));
    if !admin_before.is_empty() && !admin_after {
        let set = admin_before.first().cloned().unwrap_or_default();
        out.push(LockoutRisk {
            address: Address::PermissionSet(set.clone()),
            message: format!(
                "the plan removes the last assignment of an admin-capable permission set in the management account ({management}): today {} give admin access there; afterwards no one would have it through IAM Identity Center",
                admin_before.join(", ")
            ),
            hint: "keep an assignment of an admin-capable set (e.g. the platform admin group's) to the management account, or pass --allow-lockout if another way in (break-glass user, Control Tower's own set) is in place".into(),
        });
    }

    // Platform admin groups left with no account to act in.
    let platform_sets: BTreeSet<&str> = desired
        .permission_sets
        .values()
        .filter(|s| s.persona.as_deref() == Some(PLATFORM_ADMIN))
        .map(|s| s.name.as_str())
        .collect();
    let platform_arns: BTreeSet<&str> = identity
        .permission_sets
        .values()
        .filter(|s| platform_sets.contains(s.name.as_str()))
        .map(|s| s.arn.as_str())
        .collect();
    let groups_before: BTreeSet<String> = identity
        .assignments
        .iter()
        .filter(|l| platform_arns.contains(l.permission_set_arn.as_str()))
        .filter(|l| l.principal_type == PrincipalType::Group)
        .filter_map(|l| identity.group_name(&l.principal_id).map(str::to_string))
        .collect();
    for group in groups_before {
        let principal = Principal::Group(group.clone());
        if after.iter().any(|a| a.principal == principal) {
            continue;
        }
        out.push(LockoutRisk {
            address: Address::Group(group.clone()),
            message: format!(
                "the platform admin group `{group}` would be left with no account to act in: the plan removes all of its assignments"
            ),
            hint: "keep at least one assignment of the platform admin set to the group, or pass --allow-lockout".into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::live::{LiveAssignment, LiveIdentity, LiveIdentityInstance};

    const ADMIN_ARN: &str = "arn:aws:sso:::permissionSet/ssoins-1/ps-admin";

    fn admin_set(detailed: bool) -> LivePermissionSet {
        LivePermissionSet {
            arn: ADMIN_ARN.into(),
            name: "PlatformAdmin".into(),
            description: None,
            session_duration: "PT1H".into(),
            managed_policies: [ADMINISTRATOR_ACCESS.to_string()].into(),
            customer_managed_policies: Default::default(),
            inline_policy: None,
            permissions_boundary: None,
            tags: Default::default(),
            provisioned_to: ["111111111111".to_string()].into(),
            outdated_in: Default::default(),
            detailed,
        }
    }

    /// The management account with one admin assignment live, through a set Landfall
    /// manages (detailed) or not.
    fn live(detailed: bool) -> LiveState {
        LiveState {
            management_account_id: "111111111111".into(),
            identity: LiveIdentity {
                read: true,
                instance: Some(LiveIdentityInstance {
                    arn: "arn:aws:sso:::instance/ssoins-1".into(),
                    identity_store_id: "d-1".into(),
                }),
                permission_sets: [(ADMIN_ARN.to_string(), admin_set(detailed))].into(),
                group_names: [("g-admins".to_string(), "admins".to_string())].into(),
                assignments: [LiveAssignment {
                    permission_set_arn: ADMIN_ARN.into(),
                    principal_type: PrincipalType::Group,
                    principal_id: "g-admins".into(),
                    account_id: "111111111111".into(),
                }]
                .into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn desired(with_set: bool) -> DesiredState {
        let mut text = String::from(
            r#"{"landing_zone": {"name": "x", "home_region": "us-east-1", "governed_regions": [],
            "backend": "sim", "quotas": {"scp_max_chars": 5120, "scps_per_target": 5, "ou_max_depth": 5,
            "max_accounts": 10, "interface_endpoints_per_vpc": 50, "endpoint_policy_max_chars": 20480,
            "key_policy_max_bytes": 32768}, "prune_unmanaged": false, "account_removal": {"mode": "forget"},
            "access_role": "OrganizationAccountAccessRole", "sim": {"latency_ms": 0, "throttle_rate": 0.0,
            "fail_at": null, "fail_after_effect": false, "account_creation_polls": 1, "seed": 0},
            "account_factory": "organizations", "control_tower": null, "skip_preflight": false},
            "ous": {}, "accounts": {}, "policies": {}, "attachments": []"#,
        );
        if with_set {
            text.push_str(
                r#", "permission_sets": {"PlatformAdmin": {"name": "PlatformAdmin", "description": null,
                "session_duration": "PT1H", "managed_policies": ["arn:aws:iam::aws:policy/AdministratorAccess"],
                "customer_managed_policies": [], "inline_policy": null, "permissions_boundary": null,
                "tags": {}, "persona": "platform_admin", "origin": {"file": "f", "line": 1, "column": 1}}}"#,
            );
        }
        text.push('}');
        serde_json::from_str(&text).unwrap()
    }

    /// Dropping the last admin assignment in the management account (its set still
    /// declared) is a risk; a set Landfall does not manage is left in place, so its
    /// assignment still counts (as unknown) and nothing is said.
    #[test]
    fn the_last_admin_assignment_in_the_management_account() {
        let risks = lockout_risks(&desired(true), &live(true));
        let messages: Vec<&str> = risks.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(risks.len(), 2, "{messages:?}");
        assert!(messages[0].contains(
            "last assignment of an admin-capable permission set in the management account"
        ));
        assert!(messages[1].contains("platform admin group `admins`"));
        assert!(lockout_risks(&desired(false), &live(false)).is_empty());
    }

    #[test]
    fn admin_capable_sets() {
        let none = std::iter::empty::<&String>;
        assert!(is_admin_capable(
            [ADMINISTRATOR_ACCESS.to_string()].iter(),
            None
        ));
        assert!(is_admin_capable(
            none(),
            Some(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
            )
        ));
        // Conditioned, or a service's actions only: not admin.
        assert!(!is_admin_capable(
            none(),
            Some(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}"#
            )
        ));
        assert!(!is_admin_capable(
            none(),
            Some(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sagemaker:*","Resource":"*"}]}"#
            )
        ));
    }
}
