//! Governance resources no longer declared: controls disabled, OUs deregistered,
//! portfolios unshared then deleted, shares removed when Landfall created them; forgotten otherwise.

use std::collections::BTreeSet;

use crate::address::Address;
use crate::kind::GovernanceKind;
use crate::live::ShareTarget;
use crate::plan::{Action, GovernanceOp, Op, Ref, ShareRef};
use crate::planner::Planner;
use crate::state::ResourceRecord;

use super::attrs::{exists_live, find_share, share_id};
use super::change;

/// A live share's target as a reference to existing ids.
fn live_share_ref(target: &ShareTarget) -> ShareRef {
    match target {
        ShareTarget::Organization => ShareRef::Organization,
        ShareTarget::OrganizationalUnit(id) => ShareRef::OrganizationalUnit(Ref::Id(id.clone())),
        ShareTarget::Account(id) => ShareRef::Account(Ref::Id(id.clone())),
    }
}

impl Planner<'_> {
    pub(super) fn plan_governance_removals(&mut self) {
        let declared = self.desired.addresses();
        let records: Vec<(Address, ResourceRecord)> = self
            .state
            .resources
            .iter()
            .filter(|(a, _)| !declared.contains(*a) && a.governance_kind().is_some())
            .map(|(a, r)| (a.clone(), r.clone()))
            .collect();
        for (address, rec) in records {
            let mut c = change(address.clone(), Action::Forget, String::new());
            c.id = Some(rec.id.clone());
            if !exists_live(self.live, &address, &rec.id) {
                c.reason = "no longer declared, and already gone live".into();
                self.changes.push(c);
                continue;
            }
            if !rec.created {
                c.reason =
                    "no longer declared; Landfall did not create it, so it is left in place".into();
                self.changes.push(c);
                continue;
            }
            c.action = Action::Delete;
            c.reason = "no longer declared; Landfall created it".into();
            let Some(kind) = address.governance_kind() else {
                continue;
            };
            match kind {
                GovernanceKind::Control(..) => {
                    let Some(live) = self
                        .live
                        .governance
                        .enabled_controls
                        .iter()
                        .find(|l| l.arn == rec.id)
                    else {
                        continue;
                    };
                    c.ops = vec![Op::Governance(GovernanceOp::DisableControl {
                        control_arn: live.control_arn.clone(),
                        ou: Ref::Id(live.target_id.clone()),
                    })];
                }
                GovernanceKind::Registration(_) => {
                    c.ops = vec![Op::Governance(GovernanceOp::DisableBaseline)];
                }
                GovernanceKind::Portfolio(_) => {
                    // AWS refuses to delete a shared portfolio: unshare what the state
                    // does not know first (recorded shares get their own changes).
                    let recorded: BTreeSet<&str> = self
                        .state
                        .resources
                        .iter()
                        .filter(|(a, _)| matches!(a, Address::PortfolioShare(..)))
                        .map(|(_, r)| r.id.as_str())
                        .collect();
                    let mut ops: Vec<Op> = self
                        .live
                        .governance
                        .portfolio_shares
                        .iter()
                        .filter(|s| s.portfolio_id == rec.id)
                        .filter(|s| {
                            !recorded.contains(share_id(&s.portfolio_id, &s.target).as_str())
                        })
                        .map(|s| {
                            Op::Governance(GovernanceOp::UnsharePortfolio {
                                portfolio: Ref::Id(s.portfolio_id.clone()),
                                target: live_share_ref(&s.target),
                            })
                        })
                        .collect();
                    ops.push(Op::Governance(GovernanceOp::DeletePortfolio));
                    c.ops = ops;
                }
                GovernanceKind::PortfolioShare(..) => {
                    let Some(live) = find_share(self.live, &rec.id) else {
                        continue;
                    };
                    c.ops = vec![Op::Governance(GovernanceOp::UnsharePortfolio {
                        portfolio: Ref::Id(live.portfolio_id.clone()),
                        target: live_share_ref(&live.target),
                    })];
                }
            }
            self.changes.push(c);
        }
    }
}
