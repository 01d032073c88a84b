//! Deletion order within a network: endpoints first, the VPC last.

use std::collections::BTreeMap;

use crate::address::Address;
use crate::kind::MemberKind;
use crate::plan::{Action, Change};

/// Rank of a network resource in deletion order: endpoints go first, the VPC last.
fn delete_rank(address: &Address) -> Option<u8> {
    match address.member_kind()? {
        MemberKind::Endpoint(..) => Some(0),
        MemberKind::Subnet(..) | MemberKind::SecurityGroup(_) | MemberKind::RouteTable(_) => {
            Some(1)
        }
        MemberKind::Vpc(_) => Some(2),
        // Keys belong to no network.
        MemberKind::KmsKey(_) => None,
    }
}

/// Ordering edges among member changes that references do not express: within one
/// network, a delete (or replace) runs after every non-create change of a lower rank
/// (endpoints let go of subnets and groups before those are deleted, and everything
/// is gone before its VPC).
pub fn member_edges(changes: &[Change]) -> Vec<(usize, usize)> {
    let mut by_network: BTreeMap<&str, Vec<(usize, u8)>> = BTreeMap::new();
    for (i, c) in changes.iter().enumerate() {
        if let (Some(n), Some(r)) = (c.address.network(), delete_rank(&c.address)) {
            by_network.entry(n).or_default().push((i, r));
        }
    }
    let mut edges = Vec::new();
    for list in by_network.values() {
        for &(i, ri) in list {
            let c = &changes[i];
            if !matches!(c.action, Action::Delete | Action::Replace) {
                continue;
            }
            for &(j, rj) in list {
                let other = &changes[j];
                if rj < ri && !matches!(other.action, Action::Create | Action::Adopt) {
                    edges.push((j, i));
                }
            }
        }
    }
    edges
}
