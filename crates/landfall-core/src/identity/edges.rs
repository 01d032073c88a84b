//! Ordering the identity family's changes beyond what references give: an
//! assignment's deletion before the deletion of its permission set or group (AWS
//! refuses to delete a set still provisioned), and a permission set's update before
//! the assignments of that set (Identity Center updates one role per account at a
//! time: the two would conflict).

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
                // A set's update (its provisioning) before its new assignments.
                (Action::Create, Action::Update) if same_set => edges.push((j, i)),
                _ => {}
            }
        }
    }
    edges
}
