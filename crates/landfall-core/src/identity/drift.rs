//! Drift of the identity layer against the state file: a permission set deleted or
//! edited in the console (or changed and not provisioned), a group deleted or edited,
//! an assignment removed; and assignments of Landfall's permission sets added outside
//! Landfall.

use std::collections::BTreeSet;

use crate::attrs::diff_attrs;
use crate::drift_report::{DriftClass, Finding};
use crate::kind::IdentityKind;
use crate::live::{LiveAssignment, LiveState, PrincipalType};
use crate::state::StateFile;

use super::attrs::{live_group_attrs, live_permission_set_attrs, parse_assignment_id};

pub fn drift_findings(live: &LiveState, state: &StateFile) -> Vec<Finding> {
    let mut out = Vec::new();
    let identity = &live.identity;
    if !identity.read || identity.instance.is_none() {
        return out;
    }
    let mut recorded_assignments: BTreeSet<LiveAssignment> = BTreeSet::new();
    let mut managed_sets: BTreeSet<&str> = BTreeSet::new();
    for (address, rec) in &state.resources {
        let Some(kind) = address.identity_kind() else {
            continue;
        };
        let id = rec.id.as_str();
        let finding = |class, message: String, diffs| Finding {
            class,
            address: address.clone(),
            id: Some(id.to_string()),
            control_tower_drift_type: None,
            message,
            diffs,
        };
        match kind {
            IdentityKind::PermissionSet(name) => {
                managed_sets.insert(id);
                match identity.permission_sets.get(id) {
                    None => out.push(finding(
                        DriftClass::Missing,
                        format!("permission set {name} was deleted outside Landfall"),
                        vec![],
                    )),
                    Some(set) if set.detailed => {
                        let diffs =
                            diff_attrs(&rec.attributes, &live_permission_set_attrs(set), &[]);
                        if !diffs.is_empty() {
                            out.push(finding(
                                DriftClass::Changed,
                                format!("permission set {name} was edited outside Landfall (in the console or the API)"),
                                diffs,
                            ));
                        } else if !set.outdated_in.is_empty() {
                            out.push(finding(
                                DriftClass::Changed,
                                format!(
                                    "permission set {name}'s latest version is not provisioned to {} account(s): their roles are out of date",
                                    set.outdated_in.len()
                                ),
                                vec![],
                            ));
                        }
                    }
                    Some(_) => {}
                }
            }
            IdentityKind::Group(name) => match identity.groups.values().find(|g| g.id == id) {
                None => out.push(finding(
                    DriftClass::Missing,
                    format!("group {name} was deleted outside Landfall"),
                    vec![],
                )),
                Some(g) => {
                    let diffs = diff_attrs(&rec.attributes, &live_group_attrs(g), &[]);
                    if !diffs.is_empty() {
                        out.push(finding(
                            DriftClass::Changed,
                            format!("group {name} was edited outside Landfall"),
                            diffs,
                        ));
                    }
                }
            },
            IdentityKind::Assignment(a) => {
                let Some(live_assignment) = parse_assignment_id(id) else {
                    continue;
                };
                if !identity.assignments.contains(&live_assignment) {
                    out.push(finding(
                        DriftClass::Missing,
                        format!(
                            "{} no longer has permission set {} in account {}: the assignment was removed outside Landfall",
                            a.principal, a.permission_set, a.account
                        ),
                        vec![],
                    ));
                }
                recorded_assignments.insert(live_assignment);
            }
        }
    }
    // Access to Landfall's permission sets granted outside Landfall.
    for l in &identity.assignments {
        if !managed_sets.contains(l.permission_set_arn.as_str()) || recorded_assignments.contains(l)
        {
            continue;
        }
        let set_name = identity
            .permission_sets
            .get(&l.permission_set_arn)
            .map_or(l.permission_set_arn.as_str(), |s| s.name.as_str());
        let principal = match l.principal_type {
            PrincipalType::Group => match identity.group_name(&l.principal_id) {
                Some(name) => format!("group {name}"),
                None => format!("group {}", l.principal_id),
            },
            PrincipalType::User => {
                match identity.users.iter().find(|(_, id)| **id == l.principal_id) {
                    Some((name, _)) => format!("user {name}"),
                    None => format!("user {}", l.principal_id),
                }
            }
        };
        let account = live
            .accounts
            .get(&l.account_id)
            .map_or(l.account_id.clone(), |a| format!("{} ({})", a.name, a.id));
        let set_address = crate::address::Address::PermissionSet(set_name.to_string());
        out.push(Finding {
            class: DriftClass::Unmanaged,
            address: set_address,
            id: Some(super::attrs::assignment_id(
                &l.account_id,
                &l.permission_set_arn,
                l.principal_type,
                &l.principal_id,
            )),
            control_tower_drift_type: None,
            message: format!(
                "{principal} was given permission set {set_name} in account {account} outside Landfall"
            ),
            diffs: vec![],
        });
    }
    out
}
