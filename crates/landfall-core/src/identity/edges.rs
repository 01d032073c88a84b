//! Ordering the identity family's changes beyond what references give: an
//! assignment's deletion before the deletion of its permission set or group (AWS
//! refuses to delete a set still provisioned), and any change that works on an
//! existing permission set (an update, or an adoption that finishes what an
//! interrupted apply started) before the new assignments of that set: an assignment
//! provisions the set's version of that moment, and Identity Center updates one role
//! per account at a time, so the two would conflict.

use crate::address::Address;
use crate::plan::{Action, Change};

pub(super) fn identity_edges(changes: &[Change]) -> Vec<(usize, usize)> {
    let mut edges = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        let Address::Assignment(a) = &c.address else {
            continue;
        };
        for (j, other) in changes.iter().enumerate() {
            let same_set = other.address == Address::PermissionSet(a.permission_set.clone());
            let same_group = matches!(&a.principal, crate::address::Principal::Group(g)
                if other.address == Address::Group(g.clone()));
            match (c.action, other.action) {
                // The assignment goes before what it names is deleted.
                (Action::Delete, Action::Delete) if same_set || same_group => edges.push((i, j)),
                // A set's policies in place before its new assignments provision it.
                (Action::Create, Action::Update | Action::Adopt)
                    if same_set && !other.ops.is_empty() =>
                {
                    edges.push((j, i))
                }
                _ => {}
            }
        }
    }
    edges
}
