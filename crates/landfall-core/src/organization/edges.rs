//! Ordering edges of organization changes that the operations' references do not give.

use std::collections::HashMap;

use crate::address::Address;
use crate::kind::OrganizationKind;
use crate::plan::{Action, GovernanceOp, Op, OrganizationOp, Ref};
use crate::planner::Planner;

impl Planner<'_> {
    /// Ordering the references do not give: never leave a target without an SCP
    /// (attach before detach), a target's AWS-made FullAWSAccess detached before its
    /// other declared SCPs are attached, detach before a policy is deleted, an attachment removed
    /// with its target after the target, and an OU deleted after its accounts moved
    /// out and its child OUs are gone.
    pub(super) fn organization_edges(&self) -> Vec<(usize, usize)> {
        let mut attaches_on: HashMap<Address, Vec<usize>> = HashMap::new();
        // The change that detaches AWS's own FullAWSAccess from a target declared
        // without it (`full_aws_access = false`).
        let mut faa_detach_on: HashMap<Address, usize> = HashMap::new();
        let mut detaches_of: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut target_deletes: HashMap<Address, usize> = HashMap::new();
        let mut moves_from: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut ou_delete_by_id: HashMap<&str, usize> = HashMap::new();
        for (i, c) in self.changes.iter().enumerate() {
            if let Address::Attachment(att) = &c.address {
                if c.ops
                    .iter()
                    .any(|o| matches!(o, Op::Organization(OrganizationOp::Attach { .. })))
                {
                    attaches_on.entry(att.target.address()).or_default().push(i);
                }
                if c.action == Action::Delete {
                    detaches_of.entry(att.policy.as_str()).or_default().push(i);
                } else if c
                    .ops
                    .iter()
                    .any(|o| matches!(o, Op::Organization(OrganizationOp::Detach { .. })))
                {
                    faa_detach_on.insert(att.target.address(), i);
                }
            }
            if c.action == Action::Delete && matches!(c.address, Address::Ou(_)) {
                target_deletes.insert(c.address.clone(), i);
                if let Some(id) = &c.id {
                    ou_delete_by_id.insert(id.as_str(), i);
                }
            }
            for op in &c.ops {
                // Both ways an account leaves its OU: MoveAccount, or its Account
                // Factory product updated to another OU.
                if let Op::Organization(OrganizationOp::MoveAccount {
                    from: Ref::Id(from),
                    ..
                }) = op
                {
                    moves_from.entry(from.as_str()).or_default().push(i);
                } else if let Op::Governance(GovernanceOp::UpdateProvisionedAccount { .. }) = op
                    && let Some(a) = c.id.as_deref().and_then(|id| self.live.accounts.get(id))
                {
                    moves_from.entry(a.parent_id.as_str()).or_default().push(i);
                }
            }
        }
        let mut edges = Vec::new();
        // FullAWSAccess counts towards the SCPs a target may hold: the target's other
        // declared SCPs are attached once it is gone, so they never meet AWS's quota.
        for (target, &d) in &faa_detach_on {
            for &a in attaches_on.get(target).into_iter().flatten() {
                if a != d {
                    edges.push((d, a));
                }
            }
        }
        for (i, c) in self.changes.iter().enumerate() {
            if c.action != Action::Delete {
                continue;
            }
            let Some(kind) = c.address.organization_kind() else {
                continue;
            };
            match kind {
                OrganizationKind::Attachment(att) => {
                    let target = att.target.address();
                    if c.ops.is_empty() {
                        // Removed with its target: after the target's deletion.
                        if let Some(&d) = target_deletes.get(&target) {
                            edges.push((d, i));
                        }
                    } else {
                        // Never leave a target without an SCP: attach first.
                        for &a in attaches_on.get(&target).into_iter().flatten() {
                            edges.push((a, i));
                        }
                    }
                }
                OrganizationKind::Scp(name) => {
                    for &d in detaches_of.get(name).into_iter().flatten() {
                        edges.push((d, i));
                    }
                }
                OrganizationKind::Ou(_) => {
                    let Some(id) = &c.id else { continue };
                    for &m in moves_from.get(id.as_str()).into_iter().flatten() {
                        edges.push((m, i));
                    }
                    for child in self.live.ous.values().filter(|o| o.parent_id == *id) {
                        if let Some(&d) = ou_delete_by_id.get(child.id.as_str()) {
                            edges.push((d, i));
                        }
                    }
                }
                // Accounts close after nothing, the root is never deleted; the other
                // policy types are ordered by `org_policy_edges`.
                OrganizationKind::Account(_)
                | OrganizationKind::Root
                | OrganizationKind::OrgPolicy(..)
                | OrganizationKind::OrgPolicyAttachment(..)
                | OrganizationKind::PolicyType(_) => {}
            }
        }
        edges
    }
}
