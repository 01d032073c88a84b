//! Ordering edges of governance changes that the generic reference edges do not give.

use std::collections::HashMap;

use crate::address::{Address, OuPath};
use crate::kind::GovernanceKind;
use crate::plan::{Action, Change, GovernanceOp, Op, Record};

use super::registration::arrivals;

/// Ordering the generic reference edges do not give: a control is disabled and a
/// share removed before the OU or account they concern goes (a control before the OU
/// is deregistered, a registration before its OU and its parent's registration go), and
/// a portfolio's shares are removed before the portfolio. Then [`registration_edges`].
pub(super) fn governance_edges(changes: &[Change]) -> Vec<(usize, usize)> {
    let mut edges = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        if c.action != Action::Delete {
            continue;
        }
        let Some(kind) = c.address.governance_kind() else {
            continue;
        };
        let before: Vec<Address> = match kind {
            GovernanceKind::Control(_, ou) => {
                vec![Address::Ou(ou.clone()), Address::Registration(ou.clone())]
            }
            GovernanceKind::Registration(ou) => {
                let mut before = vec![Address::Ou(ou.clone())];
                before.extend(ou.parent().map(Address::Registration));
                before
            }
            GovernanceKind::PortfolioShare(p, target) => {
                vec![Address::Portfolio(p.to_string()), target.address()]
            }
            // A portfolio's shares go before it (the edge above, from the share).
            GovernanceKind::Portfolio(_) => continue,
        };
        for (j, other) in changes.iter().enumerate() {
            let removes = matches!(other.action, Action::Delete | Action::Close);
            if j != i && removes && before.contains(&other.address) {
                edges.push((i, j));
            }
        }
    }
    edges
}

/// An OU is registered before its controls are enabled and before Account Factory
/// places accounts in it, after its parent is registered, and after the accounts that
/// come into it through AWS Organizations (registering or resetting it is what enrolls
/// them).
pub(super) fn registration_edges(
    changes: &[Change],
    existing: &HashMap<Address, String>,
) -> Vec<(usize, usize)> {
    let mut edges = Vec::new();
    let placed_in = |c: &Change, ou: &OuPath| match &c.record {
        Record::Upsert { attributes, .. } => {
            attributes.get("ou").and_then(|v| v.as_str()) == Some(format!("ou.{ou}").as_str())
        }
        Record::Remove => false,
    };
    for (i, c) in changes.iter().enumerate() {
        let Address::Registration(ou) = &c.address else {
            continue;
        };
        if c.action == Action::Delete || c.ops.is_empty() {
            continue;
        }
        let ou_id = existing.get(&Address::Ou(ou.clone())).map(String::as_str);
        let arriving = arrivals(changes, ou, ou_id);
        for (j, other) in changes.iter().enumerate() {
            if j == i || other.action == Action::Delete {
                continue;
            }
            let provisioned_here = matches!(other.address, Address::Account(_))
                && placed_in(other, ou)
                && other.ops.iter().any(|op| {
                    matches!(
                        op,
                        Op::Governance(
                            GovernanceOp::ProvisionAccount { .. }
                                | GovernanceOp::UpdateProvisionedAccount { .. }
                        )
                    )
                });
            let after_registration = provisioned_here
                || matches!(&other.address, Address::Control(_, on) if on == ou)
                || matches!(&other.address, Address::Registration(child) if child.parent().as_ref() == Some(ou));
            if after_registration {
                edges.push((i, j));
            } else if arriving.contains(&&other.address) {
                edges.push((j, i));
            }
        }
    }
    edges
}
