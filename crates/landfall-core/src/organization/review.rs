//! Organization rules that need the whole plan: an OU that reappears under another
//! parent is a replacement, and an OU is deleted only once this plan empties it.

use std::collections::BTreeSet;

use crate::address::{Address, OuPath};
use crate::plan::{Action, GovernanceOp, Op, OrganizationOp};
use crate::planner::{PlanProblem, Planner};

impl Planner<'_> {
    /// AWS cannot move an OU: a declared OU whose name reappears under another parent
    /// is a replacement (create the new one, move the accounts, delete the old one).
    pub(super) fn mark_ou_replacements(&mut self) {
        let deleted: Vec<(usize, OuPath)> = self
            .changes
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.action == Action::Delete
                    && c.ops.contains(&Op::Organization(OrganizationOp::DeleteOu))
            })
            .filter_map(|(i, c)| {
                if let Address::Ou(p) = &c.address
                    && self.state.resources.contains_key(&c.address)
                {
                    Some((i, p.clone()))
                } else {
                    None
                }
            })
            .collect();
        for (del, old) in deleted {
            let created = self.changes.iter().position(|c| {
                c.action == Action::Create
                    && matches!(&c.address, Address::Ou(p) if p.name() == old.name() && p.parent() != old.parent())
            });
            let Some(new_index) = created else { continue };
            let new = self.changes[new_index].address.clone();
            self.changes[new_index].action = Action::Replace;
            self.changes[new_index].reason = format!(
                "replaces ou.{old}: AWS cannot move an OU to a new parent, so it is created here and the old one deleted once empty"
            );
            self.changes[del].reason =
                format!("replaced by {new}; deleted once its accounts have moved");
        }
    }

    /// An OU can only be deleted once empty: every account in it must be moved out by
    /// this plan and every child OU deleted by it.
    pub(super) fn check_ou_deletions(&mut self) {
        let deleting: BTreeSet<String> = self
            .changes
            .iter()
            .filter(|c| c.ops.contains(&Op::Organization(OrganizationOp::DeleteOu)))
            .filter_map(|c| c.id.clone())
            .collect();
        let moved_out: BTreeSet<String> = self
            .changes
            .iter()
            .filter(|c| {
                c.ops.iter().any(|o| {
                    matches!(
                        o,
                        Op::Organization(OrganizationOp::MoveAccount { .. })
                            | Op::Governance(GovernanceOp::UpdateProvisionedAccount { .. })
                    )
                })
            })
            .filter_map(|c| c.id.clone())
            .collect();
        let mut problems = Vec::new();
        for change in self
            .changes
            .iter()
            .filter(|c| c.ops.contains(&Op::Organization(OrganizationOp::DeleteOu)))
        {
            let Some(id) = &change.id else { continue };
            for account in self.live.accounts.values().filter(|a| a.parent_id == *id) {
                if !moved_out.contains(&account.id) {
                    problems.push(PlanProblem {
                        address: change.address.clone(),
                        message: format!(
                            "cannot delete {}: account `{}` ({}) is still in it and the desired state does not move it out",
                            change.address, account.name, account.id
                        ),
                        hint: Some("declare the account in another OU, or keep the OU".into()),
                    });
                }
            }
            for child in self.live.ous.values().filter(|o| o.parent_id == *id) {
                if !deleting.contains(&child.id) {
                    problems.push(PlanProblem {
                        address: change.address.clone(),
                        message: format!(
                            "cannot delete {}: its child OU `{}` ({}) is not being deleted",
                            change.address, child.name, child.id
                        ),
                        hint: Some("remove the child OU from the file too, or keep the OU".into()),
                    });
                }
            }
        }
        self.problems.extend(problems);
    }
}
