//! Whether and what a refresh reads of IAM Identity Center: the permission sets, groups
//! and users the desired state or the state file name.

use crate::address::Principal;
use crate::kind::IdentityKind;
use crate::live::IdentityScope;
use crate::model::DesiredState;
use crate::state::StateFile;

/// True when the desired state or the state file has anything of the identity layer.
pub fn needs_identity(desired: &DesiredState, state: Option<&StateFile>) -> bool {
    desired.declares_identity()
        || state.is_some_and(|s| s.resources.keys().any(|a| a.identity_kind().is_some()))
}

/// What the refresh reads: the sets, groups and users declared or recorded, in the
/// instance's region.
pub fn identity_scope(desired: &DesiredState, state: Option<&StateFile>) -> IdentityScope {
    let region = desired.identity_center.as_ref().map_or_else(
        || desired.landing_zone.home_region.clone(),
        |ic| ic.region.clone(),
    );
    let mut scope = IdentityScope {
        region,
        ..IdentityScope::default()
    };
    scope
        .permission_sets
        .extend(desired.permission_sets.keys().cloned());
    scope.groups.extend(desired.groups.keys().cloned());
    let principal = |p: &Principal, scope: &mut IdentityScope| match p {
        Principal::Group(g) => {
            scope.groups.insert(g.clone());
        }
        Principal::User(u) => {
            scope.users.insert(u.clone());
        }
    };
    for spec in &desired.assignments {
        principal(&spec.assignment.principal, &mut scope);
    }
    if let Some(state) = state {
        for (address, rec) in &state.resources {
            let Some(kind) = address.identity_kind() else {
                continue;
            };
            match kind {
                IdentityKind::PermissionSet(name) => {
                    scope.permission_sets.insert(name.to_string());
                }
                IdentityKind::Group(_) => {
                    scope.group_ids.insert(rec.id.clone());
                }
                IdentityKind::Assignment(a) => {
                    principal(&a.principal, &mut scope);
                    scope.permission_sets.insert(a.permission_set.clone());
                }
            }
        }
    }
    scope
}
