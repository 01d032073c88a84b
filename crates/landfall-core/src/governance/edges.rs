//! Ordering edges of governance changes that the generic reference edges do not give.

use crate::address::Address;
use crate::kind::GovernanceKind;
use crate::plan::{Action, Change};

/// Ordering the generic reference edges do not give: a control is disabled and a
/// share removed before the OU or account they concern goes, and a portfolio's shares
/// are removed before the portfolio.
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
            GovernanceKind::Control(_, ou) => vec![Address::Ou(ou.clone())],
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
