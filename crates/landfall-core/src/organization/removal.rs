//! Organization resources no longer declared — deleted when Landfall created them,
//! forgotten otherwise, accounts by the `account_removal` policy — and
//! `prune_unmanaged`, which removes what was made outside Landfall in the managed scope.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::address::{Address, Attachment, Target};
use crate::attrs::AttrDiff;
use crate::kind::OrganizationKind;
use crate::model::AccountRemoval;
use crate::plan::{Action, Change, Op, OrganizationOp, Record, Ref};
use crate::planner::Planner;
use crate::state::ResourceRecord;

impl Planner<'_> {
    pub(super) fn plan_removals(&mut self) {
        let declared = self.desired.addresses();
        let deleted_targets: BTreeSet<Address> = self
            .state
            .resources
            .iter()
            .filter(|(a, r)| {
                !declared.contains(a)
                    && matches!(a, Address::Ou(_))
                    && r.created
                    && self.state_id_live(a).is_some()
            })
            .map(|(a, _)| a.clone())
            .collect();
        for (address, rec) in &self.state.resources {
            // Member-account and governance records are planned by their families.
            let Some(kind) = address.organization_kind() else {
                continue;
            };
            if declared.contains(address) || kind == OrganizationKind::Root {
                continue;
            }
            let forget = |reason: &str| Change {
                address: address.clone(),
                action: Action::Forget,
                reason: reason.to_string(),
                diffs: vec![],
                id: Some(rec.id.clone()),
                ops: vec![],
                record: Record::Remove,
                member: None,
                project: None,
                depends_on: vec![],
            };
            if self.state_id_live(address).is_none() {
                self.changes
                    .push(forget("no longer declared, and already gone live"));
                continue;
            }
            let change = match kind {
                OrganizationKind::Root => continue,
                OrganizationKind::Ou(_) | OrganizationKind::Scp(_) if !rec.created => {
                    forget("no longer declared; Landfall did not create it, so it is left in place")
                }
                OrganizationKind::Ou(_) => Change {
                    ops: vec![Op::Organization(OrganizationOp::DeleteOu)],
                    action: Action::Delete,
                    reason: "no longer declared; Landfall created it".into(),
                    ..forget("")
                },
                OrganizationKind::Scp(name) => {
                    // Detach it from targets the state does not know (out-of-band
                    // attachments); recorded attachments get their own changes.
                    let recorded: BTreeSet<&str> = self
                        .state
                        .resources
                        .iter()
                        .filter(
                            |(a, _)| matches!(a, Address::Attachment(att) if att.policy == *name),
                        )
                        .filter_map(|(_, r)| r.id.split_once('|').map(|(_, t)| t))
                        .collect();
                    let mut ops: Vec<Op> = self
                        .live
                        .attachments
                        .iter()
                        .filter(|(p, t)| *p == rec.id && !recorded.contains(t.as_str()))
                        .map(|(p, t)| {
                            Op::Organization(OrganizationOp::Detach {
                                policy: Ref::Id(p.clone()),
                                target: Ref::Id(t.clone()),
                            })
                        })
                        .collect();
                    ops.push(Op::Organization(OrganizationOp::DeletePolicy));
                    Change {
                        ops,
                        action: Action::Delete,
                        reason: "no longer declared; Landfall created it".into(),
                        ..forget("")
                    }
                }
                OrganizationKind::Account(_) => self.account_removal(address, rec),
                OrganizationKind::OrgPolicy(..)
                | OrganizationKind::OrgPolicyAttachment(..)
                | OrganizationKind::PolicyType(_) => {
                    let target_deleted = address
                        .names()
                        .iter()
                        .any(|named| deleted_targets.contains(named));
                    let Some(change) = self.org_policy_removal(
                        kind,
                        rec.created,
                        &rec.id,
                        forget(""),
                        target_deleted,
                    ) else {
                        continue;
                    };
                    change
                }
                OrganizationKind::Attachment(att) => {
                    let target = att.target.address();
                    if deleted_targets.contains(&target) {
                        Change {
                            action: Action::Delete,
                            reason: format!("removed together with {target}"),
                            ..forget("")
                        }
                    } else if !declared.contains(&target) {
                        // The target itself is forgotten, closed or quarantined: its
                        // attachments stay with it (AWS requires at least one).
                        forget("its target is no longer managed")
                    } else if !rec.created {
                        forget("no longer declared; Landfall did not attach it, so it stays")
                    } else {
                        let Some((p, t)) = rec.id.split_once('|') else {
                            continue;
                        };
                        Change {
                            ops: vec![Op::Organization(OrganizationOp::Detach {
                                policy: Ref::Id(p.to_string()),
                                target: Ref::Id(t.to_string()),
                            })],
                            action: Action::Delete,
                            reason: "no longer declared".into(),
                            ..forget("")
                        }
                    }
                }
            };
            self.changes.push(change);
        }
    }

    fn account_removal(&self, address: &Address, rec: &ResourceRecord) -> Change {
        let allow_close = rec.attributes.get("allow_close") == Some(&Value::Bool(true));
        let base = Change {
            address: address.clone(),
            action: Action::Forget,
            reason: String::new(),
            diffs: vec![],
            id: Some(rec.id.clone()),
            ops: vec![],
            record: Record::Remove,
            member: None,
            project: None,
            depends_on: vec![],
        };
        if rec.created && allow_close {
            return Change {
                action: Action::Close,
                ops: vec![Op::Organization(OrganizationOp::CloseAccount)],
                reason: "no longer declared and its declaration allowed closing (apply needs --allow-close)".into(),
                ..base
            };
        }
        if let AccountRemoval::Quarantine { ou } = &self.desired.landing_zone.account_removal {
            let from = self
                .live
                .accounts
                .get(&rec.id)
                .map(|a| a.parent_id.clone())
                .unwrap_or_default();
            let to = self.reference(Address::Ou(ou.clone()));
            if to != Ref::Id(from.clone()) {
                return Change {
                    action: Action::Move,
                    ops: vec![Op::Organization(OrganizationOp::MoveAccount {
                        from: Ref::Id(from),
                        to,
                    })],
                    reason: format!(
                        "no longer declared; quarantined in ou.{ou}, then forgotten (accounts are never closed by default)"
                    ),
                    diffs: vec![AttrDiff {
                        attribute: "ou".into(),
                        before: rec.attributes.get("ou").cloned(),
                        after: Some(json!(format!("ou.{ou}"))),
                    }],
                    ..base
                };
            }
        }
        Change {
            reason: "no longer declared; forgotten, not closed (accounts are closed only when their declaration allowed it)".into(),
            ..base
        }
    }

    /// With `prune_unmanaged`: detach undeclared SCPs from managed targets and delete
    /// undeclared OUs below managed ones when nothing but OUs lives in them.
    pub(super) fn plan_prune(&mut self) {
        let known: BTreeSet<Address> = self
            .desired
            .addresses()
            .into_iter()
            .chain(self.state.resources.keys().cloned())
            .collect();
        let mut managed_targets: BTreeMap<String, Target> = BTreeMap::new();
        managed_targets.insert(self.live.root_id.clone(), Target::Root);
        for path in self.desired.ous.keys() {
            if let Some(id) = self.existing.get(&Address::Ou(path.clone())) {
                managed_targets.insert(id.clone(), Target::Ou(path.clone()));
            }
        }
        for name in self.desired.accounts.keys() {
            if let Some(id) = self.existing.get(&Address::Account(name.clone())) {
                managed_targets.insert(id.clone(), Target::Account(name.clone()));
            }
        }
        // A managed policy is named as declared, whatever it is called live (it may
        // be renamed by this plan); an attachment the state records is never pruned.
        let managed_policies: BTreeMap<&str, &str> = self
            .desired
            .policies
            .keys()
            .filter_map(|name| {
                let id = self.existing.get(&Address::Scp(name.clone()))?;
                Some((id.as_str(), name.as_str()))
            })
            .collect();
        let recorded: BTreeSet<&str> = self
            .state
            .resources
            .values()
            .map(|r| r.id.as_str())
            .collect();
        for (policy_id, target_id) in &self.live.attachments {
            let (Some(target), Some(policy)) = (
                managed_targets.get(target_id),
                self.live.policies.get(policy_id),
            ) else {
                continue;
            };
            let name = managed_policies
                .get(policy_id.as_str())
                .copied()
                .unwrap_or(policy.name.as_str());
            let address = Address::Attachment(Attachment {
                policy: name.to_string(),
                target: target.clone(),
            });
            if known.contains(&address)
                || recorded.contains(format!("{policy_id}|{target_id}").as_str())
                || self.detach_planned(policy_id, target_id)
            {
                continue;
            }
            self.changes.push(Change {
                address,
                action: Action::Delete,
                reason: "attached outside Landfall to a managed target (prune_unmanaged)".into(),
                diffs: vec![],
                id: Some(format!("{policy_id}|{target_id}")),
                ops: vec![Op::Organization(OrganizationOp::Detach {
                    policy: Ref::Id(policy_id.clone()),
                    target: Ref::Id(target_id.clone()),
                })],
                record: Record::Remove,
                member: None,
                project: None,
                depends_on: vec![],
            });
        }
        // Undeclared OUs whose parent is managed: prune whole subtrees without accounts.
        let managed_parents: BTreeSet<&String> = managed_targets
            .iter()
            .filter(|(_, t)| !matches!(t, Target::Account(_)))
            .map(|(id, _)| id)
            .collect();
        let mut roots = Vec::new();
        for ou in self.live.ous.values() {
            let Some(path) = self.index.ou_path(&ou.id) else {
                continue;
            };
            let address = Address::Ou(path.clone());
            if known.contains(&address) || self.existing.values().any(|id| *id == ou.id) {
                continue;
            }
            if managed_parents.contains(&ou.parent_id) {
                roots.push(ou.id.clone());
            }
        }
        for root in roots {
            let subtree = self.subtree(&root);
            let accounts: Vec<&str> = self
                .live
                .accounts
                .values()
                .filter(|a| subtree.contains(&a.parent_id))
                .map(|a| a.name.as_str())
                .collect();
            let path = self
                .index
                .ou_path(&root)
                .map(|p| p.to_string())
                .unwrap_or_default();
            if !accounts.is_empty() {
                self.warnings.push(format!(
                    "ou.{path} is not declared but holds accounts ({}); it is not pruned",
                    accounts.join(", ")
                ));
                continue;
            }
            for id in subtree {
                let Some(path) = self.index.ou_path(&id) else {
                    continue;
                };
                self.changes.push(Change {
                    address: Address::Ou(path.clone()),
                    action: Action::Delete,
                    reason: "created outside Landfall below a managed OU (prune_unmanaged)".into(),
                    diffs: vec![],
                    id: Some(id.clone()),
                    ops: vec![Op::Organization(OrganizationOp::DeleteOu)],
                    record: Record::Remove,
                    member: None,
                    project: None,
                    depends_on: vec![],
                });
            }
        }
    }

    /// Whether a change already detaches this policy from this target (the
    /// FullAWSAccess AWS attached to a target declared without it).
    fn detach_planned(&self, policy_id: &str, target_id: &str) -> bool {
        let (policy_id, target_id) = (Ref::Id(policy_id.into()), Ref::Id(target_id.into()));
        self.changes.iter().flat_map(|c| &c.ops).any(|o| {
            matches!(o, Op::Organization(OrganizationOp::Detach { policy, target })
                if *policy == policy_id && *target == target_id)
        })
    }

    fn subtree(&self, root: &str) -> Vec<String> {
        let mut out = vec![root.to_string()];
        let mut i = 0;
        while i < out.len() {
            let children: Vec<String> = self
                .live
                .ous
                .values()
                .filter(|o| o.parent_id == out[i])
                .map(|o| o.id.clone())
                .collect();
            out.extend(children);
            i += 1;
        }
        out
    }
}
