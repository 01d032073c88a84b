//! Organization rules that need the whole plan: an OU that reappears under another
//! parent (or is `[[moved]]` there) is a replacement, and an OU is deleted only once
//! this plan empties it.

use std::collections::BTreeSet;

use crate::address::{Address, OuPath};
use crate::plan::{Action, GovernanceOp, Op, OrganizationOp};
use crate::planner::{PlanProblem, Planner};

/// Whether a change takes an account out of its OU (both ways there are).
fn moves_account(ops: &[Op]) -> bool {
    ops.iter().any(|o| {
        matches!(
            o,
            Op::Organization(OrganizationOp::MoveAccount { .. })
                | Op::Governance(GovernanceOp::UpdateProvisionedAccount { .. })
        )
    })
}

/// `ou.PATH`'s parent as a reader names it.
fn parent_text(path: &OuPath) -> String {
    match path.parent() {
        Some(p) => format!("ou.{p}"),
        None => "the root".into(),
    }
}

impl Planner<'_> {
    /// `[[moved]]` an OU under another parent: AWS cannot move an OU, so the state is
    /// not re-addressed ([`crate::state::Moves::replaced`]) and the plan replaces it —
    /// and each OU below it — with what is declared at the new path. Each replacement
    /// says so, naming the block, the accounts that move to it and what is made again
    /// on it (SCP attachments, controls, registration, shares); the old OU is deleted
    /// once empty (forgotten, left empty, when Landfall did not create it).
    pub(super) fn mark_moved_ou_replacements(&mut self) {
        for m in self.desired.moved.iter().filter(|m| m.replaces()) {
            let (Address::Ou(from), Address::Ou(to)) = (&m.from, &m.to) else {
                continue;
            };
            let recorded: Vec<OuPath> = self
                .state
                .resources
                .keys()
                .filter_map(|a| {
                    if let Address::Ou(p) = a {
                        Some(p)
                    } else {
                        None
                    }
                })
                .filter(|p| p.is_within(from))
                .cloned()
                .collect();
            for old in recorded {
                let Some(new) = old.rebased(from, to) else {
                    continue;
                };
                self.mark_moved_replacement(m, &old, &new);
            }
        }
    }

    fn mark_moved_replacement(&mut self, m: &crate::model::Moved, old: &OuPath, new: &OuPath) {
        let old_address = Address::Ou(old.clone());
        let new_address = Address::Ou(new.clone());
        let removal = self.changes.iter().position(|c| {
            c.address == old_address && matches!(c.action, Action::Delete | Action::Forget)
        });
        let created = self
            .changes
            .iter()
            .position(|c| c.address == new_address && c.action == Action::Create);
        let old_id = self.state.id_of(&old_address).map(str::to_string);
        let accounts: Vec<String> = self
            .changes
            .iter()
            .filter(|c| moves_account(&c.ops))
            .filter(|c| {
                let parent =
                    c.id.as_deref()
                        .and_then(|id| self.live.accounts.get(id))
                        .map(|a| a.parent_id.as_str());
                parent.is_some() && parent == old_id.as_deref()
            })
            .map(|c| c.address.to_string())
            .collect();
        let remade: Vec<String> = self
            .changes
            .iter()
            .filter(|c| c.action == Action::Create && !matches!(c.address, Address::Ou(_)))
            .filter(|c| c.address.ou() == Some(new))
            .map(|c| c.address.to_string())
            .collect();
        let block = if Address::Ou(old.clone()) == m.from {
            format!("[[moved]] from {}", m.from)
        } else {
            format!("[[moved]] from {}, above it", m.from)
        };
        let forgotten = removal.is_some_and(|i| self.changes[i].action == Action::Forget);
        let old_fate = if forgotten {
            format!(
                "{old_address}, which Landfall did not create, is forgotten and left in place, empty"
            )
        } else {
            format!("{old_address} is deleted once empty")
        };
        if let Some(i) = created {
            let mut reason = format!(
                "replaces {old_address} ({block}): AWS cannot move an OU to another parent, so it is created under {} and {old_fate}",
                parent_text(new)
            );
            if !accounts.is_empty() {
                reason.push_str(&format!("; accounts moving to it: {}", accounts.join(", ")));
            }
            if !remade.is_empty() {
                reason.push_str(&format!("; made again on it: {}", remade.join(", ")));
            }
            self.changes[i].action = Action::Replace;
            self.changes[i].reason = reason;
        }
        if let Some(i) = removal {
            self.changes[i].reason = if forgotten {
                format!(
                    "replaced by {new_address} ({block}); Landfall did not create it, so it is left in place, empty"
                )
            } else {
                format!("replaced by {new_address} ({block}); deleted once its accounts have moved")
            };
        }
        let moved = format!(
            "moves with its OU: {old_address} is replaced by {new_address} ({block}; AWS cannot move an OU)"
        );
        for c in self.changes.iter_mut().filter(|c| moves_account(&c.ops)) {
            let parent =
                c.id.as_deref()
                    .and_then(|id| self.live.accounts.get(id))
                    .map(|a| a.parent_id.as_str());
            if parent.is_some() && parent == old_id.as_deref() {
                c.reason = moved.clone();
            }
        }
    }

    /// AWS cannot move an OU: a declared OU whose name reappears under another parent
    /// is a replacement (create the new one, move the accounts, delete the old one).
    /// Those a `[[moved]]` block paired already are left as they are.
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
            let paired = self.desired.moved.iter().any(|m| {
                m.replaces() && matches!(&m.from, Address::Ou(from) if old.is_within(from))
            });
            if paired {
                continue;
            }
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
            .filter(|c| moves_account(&c.ops))
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
