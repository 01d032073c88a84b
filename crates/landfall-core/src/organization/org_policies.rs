//! Resource control, tag and AI services opt-out policies: the policy types enabled on
//! the root, the policies and their attachments — planned like SCPs, without SCPs'
//! implicit `FullAWSAccess` (the AWS-managed `RCPFullAWSAccess` AWS keeps on every
//! target is never declared, recorded or detached).
//!
//! A policy type is enabled before the first policy of it is created; Landfall never
//! disables a type it no longer uses (AWS would detach every policy of the type,
//! Landfall's or not): the record is forgotten.

use crate::address::{Address, Attachment};
use crate::attrs::{Attrs, diff_attrs};
use crate::family::declared_attrs;
use crate::kind::OrganizationKind;
use crate::model::OrgPolicyType;
use crate::plan::{Action, Change, Op, OrganizationOp, Record, Ref};
use crate::planner::Planner;

use super::attrs::scp_attrs;

impl Planner<'_> {
    /// The physical id recorded for a policy type: the root and the type.
    pub(super) fn policy_type_id(&self, t: OrgPolicyType) -> String {
        format!("{}|{}", self.live.root_id, t.policy_type().aws_name())
    }

    /// Matches declared policies to live ones: by the state's id while it exists, else
    /// by type and name (never an AWS-managed one).
    pub(super) fn match_org_policies(&mut self) {
        for t in self.desired.policy_types_used() {
            if self.live.enabled_policy_types.contains(&t.policy_type()) {
                self.existing
                    .insert(Address::PolicyType(t), self.policy_type_id(t));
            }
        }
        for spec in &self.desired.org_policies {
            let address = Address::OrgPolicy(spec.policy_type, spec.name.clone());
            let id = self.state_id_live(&address).or_else(|| {
                self.live
                    .org_policies
                    .values()
                    .find(|p| {
                        !p.aws_managed && p.policy_type == spec.policy_type && p.name == spec.name
                    })
                    .map(|p| p.id.clone())
            });
            if let Some(id) = id {
                self.existing.insert(address, id);
            }
        }
    }

    pub(super) fn plan_policy_types(&mut self) {
        for t in self.desired.policy_types_used() {
            let address = Address::PolicyType(t);
            let attributes = declared_attrs(self.desired, &address, None).unwrap_or_default();
            match self.existing.get(&address).cloned() {
                Some(id) => self.existing_change(address, id, vec![], vec![], false, attributes),
                None => {
                    let reason = match self.state.resources.get(&address) {
                        Some(_) => format!(
                            "disabled on the root outside Landfall; enabling {} again",
                            t.policy_type().aws_name()
                        ),
                        None => format!(
                            "{} is not enabled on the root; enabled before its first policy",
                            t.policy_type().aws_name()
                        ),
                    };
                    let created = match self.state.resources.get(&address) {
                        Some(r) => r.created,
                        None => true,
                    };
                    self.changes.push(Change {
                        diffs: diff_attrs(&Attrs::new(), &attributes, &[]),
                        address,
                        action: Action::Create,
                        reason,
                        id: None,
                        ops: vec![Op::Organization(OrganizationOp::EnablePolicyType {
                            policy_type: t.policy_type(),
                        })],
                        record: Record::Upsert {
                            created,
                            attributes,
                        },
                        member: None,
                        project: None,
                        depends_on: vec![],
                    });
                }
            }
        }
    }

    pub(super) fn plan_org_policies(&mut self) {
        for spec in &self.desired.org_policies {
            let address = Address::OrgPolicy(spec.policy_type, spec.name.clone());
            let attributes = declared_attrs(self.desired, &address, None).unwrap_or_default();
            match self.existing.get(&address).cloned() {
                Some(id) => {
                    let Some(live) = self.live.org_policies.get(&id) else {
                        continue;
                    };
                    let live_attrs =
                        scp_attrs(&live.name, &live.description, &live.content, &live.tags);
                    let diffs = diff_attrs(&live_attrs, &attributes, &[]);
                    let changed = |name: &str| diffs.iter().any(|d| d.attribute == name);
                    let mut ops = Vec::new();
                    let name = changed("name").then(|| spec.name.clone());
                    let description = changed("description").then(|| spec.description.clone());
                    let content = changed("content").then(|| spec.content.clone());
                    if name.is_some() || description.is_some() || content.is_some() {
                        ops.push(Op::Organization(OrganizationOp::UpdatePolicy {
                            name,
                            description,
                            content,
                        }));
                    }
                    super::plan::push_tag_ops(&mut ops, &diffs);
                    self.existing_change(address, id, diffs, ops, false, attributes);
                }
                None => {
                    let reason = self.created_reason(&address);
                    self.changes.push(Change {
                        diffs: diff_attrs(&Attrs::new(), &attributes, &[]),
                        address,
                        action: Action::Create,
                        reason,
                        id: None,
                        ops: vec![Op::Organization(OrganizationOp::CreatePolicy {
                            policy_type: spec.policy_type.policy_type(),
                            name: spec.name.clone(),
                            description: spec.description.clone(),
                            content: spec.content.clone(),
                            tags: spec.tags.clone(),
                        })],
                        record: Record::Upsert {
                            created: true,
                            attributes,
                        },
                        member: None,
                        project: None,
                        depends_on: vec![],
                    });
                }
            }
        }
    }

    pub(super) fn plan_org_policy_attachments(&mut self) {
        for declared in &self.desired.org_policy_attachments {
            let address = declared.address();
            let att = &declared.attachment;
            let attributes = declared_attrs(self.desired, &address, None).unwrap_or_default();
            let policy_address = Address::OrgPolicy(declared.policy_type, att.policy.clone());
            let policy_id = self.existing.get(&policy_address).cloned();
            let target_id = self.existing.get(&att.target.address()).cloned();
            if let (Some(p), Some(t)) = (&policy_id, &target_id)
                && self
                    .live
                    .org_policy_attachments
                    .contains(&(p.clone(), t.clone()))
            {
                let id = format!("{p}|{t}");
                if !self.in_state(&address, &id) {
                    let reason = if self.state.resources.contains_key(&address) {
                        "attached again; recording its new id".to_string()
                    } else {
                        "already attached; Landfall will manage it".to_string()
                    };
                    let created = self.created_flag(&address);
                    self.changes.push(Change {
                        address,
                        action: Action::Adopt,
                        reason,
                        diffs: vec![],
                        id: Some(id),
                        ops: vec![],
                        record: Record::Upsert {
                            created,
                            attributes,
                        },
                        member: None,
                        project: None,
                        depends_on: vec![],
                    });
                } else if self.state.resources.get(&address).map(|r| &r.attributes)
                    != Some(&attributes)
                {
                    self.existing_change(address, id, vec![], vec![], false, attributes);
                }
                continue;
            }
            let reason = match self.state.resources.get(&address) {
                Some(_) => "detached outside Landfall; attaching again".to_string(),
                None => "declared; not attached yet".to_string(),
            };
            let created = match self.state.resources.get(&address) {
                Some(r) => r.created,
                None => true,
            };
            let policy = policy_id.map_or(Ref::Address(policy_address), Ref::Id);
            let target = self.reference(att.target.address());
            self.changes.push(Change {
                ops: vec![Op::Organization(OrganizationOp::Attach { policy, target })],
                address,
                action: Action::Create,
                reason,
                diffs: vec![],
                id: None,
                record: Record::Upsert {
                    created,
                    attributes,
                },
                member: None,
                project: None,
                depends_on: vec![],
            });
        }
    }

    /// Ordering the operation references do not give: a policy type is enabled before
    /// any policy of it is created or attached; a policy is deleted after its
    /// attachments are detached.
    pub(super) fn org_policy_edges(&self) -> Vec<(usize, usize)> {
        let mut edges = Vec::new();
        for (e, enable) in self.changes.iter().enumerate() {
            let Some(OrganizationKind::PolicyType(t)) = enable.address.organization_kind() else {
                continue;
            };
            if enable.ops.is_empty() {
                continue;
            }
            for (i, c) in self.changes.iter().enumerate() {
                let of_type = match c.address.organization_kind() {
                    Some(
                        OrganizationKind::OrgPolicy(ct, _)
                        | OrganizationKind::OrgPolicyAttachment(ct, _),
                    ) => ct == t && !matches!(c.action, Action::Delete | Action::Forget),
                    Some(
                        OrganizationKind::Root
                        | OrganizationKind::Ou(_)
                        | OrganizationKind::Account(_)
                        | OrganizationKind::Scp(_)
                        | OrganizationKind::Attachment(_)
                        | OrganizationKind::PolicyType(_),
                    )
                    | None => false,
                };
                if of_type {
                    edges.push((e, i));
                }
            }
        }
        for (d, delete) in self.changes.iter().enumerate() {
            let (Some(OrganizationKind::OrgPolicy(t, name)), Action::Delete) =
                (delete.address.organization_kind(), delete.action)
            else {
                continue;
            };
            for (i, c) in self.changes.iter().enumerate() {
                if let Some(OrganizationKind::OrgPolicyAttachment(ct, att)) =
                    c.address.organization_kind()
                    && ct == t
                    && att.policy == name
                    && c.action == Action::Delete
                {
                    edges.push((i, d));
                }
            }
        }
        edges
    }

    /// A recorded policy, attachment or type no longer declared: a policy Landfall
    /// created is detached from the targets the state does not know and deleted, an
    /// attachment Landfall made is detached (unless its target goes with it), a type is
    /// left enabled and forgotten.
    pub(super) fn org_policy_removal(
        &self,
        kind: OrganizationKind<'_>,
        created: bool,
        id: &str,
        forget: Change,
        target_deleted: bool,
    ) -> Option<Change> {
        Some(match kind {
            OrganizationKind::PolicyType(t) => Change {
                reason: format!(
                    "no longer used; {} stays enabled on the root (disabling it would detach every policy of the type)",
                    t.policy_type().aws_name()
                ),
                ..forget
            },
            OrganizationKind::OrgPolicy(..) if !created => Change {
                reason: "no longer declared; Landfall did not create it, so it is left in place"
                    .into(),
                ..forget
            },
            OrganizationKind::OrgPolicy(t, name) => {
                let recorded: Vec<&str> = self
                    .state
                    .resources
                    .iter()
                    .filter(|(a, _)| {
                        matches!(a, Address::OrgPolicyAttachment(at, Attachment { policy, .. }) if *at == t && policy == name)
                    })
                    .filter_map(|(_, r)| r.id.split_once('|').map(|(_, t)| t))
                    .collect();
                let mut ops: Vec<Op> = self
                    .live
                    .org_policy_attachments
                    .iter()
                    .filter(|(p, t)| p == id && !recorded.contains(&t.as_str()))
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
                    ..forget
                }
            }
            OrganizationKind::OrgPolicyAttachment(_, att) => {
                if target_deleted {
                    Change {
                        action: Action::Delete,
                        reason: format!("removed together with {}", att.target),
                        ..forget
                    }
                } else if !created {
                    Change {
                        reason: "no longer declared; Landfall did not attach it, so it stays"
                            .into(),
                        ..forget
                    }
                } else {
                    let (p, t) = id.split_once('|')?;
                    Change {
                        ops: vec![Op::Organization(OrganizationOp::Detach {
                            policy: Ref::Id(p.to_string()),
                            target: Ref::Id(t.to_string()),
                        })],
                        action: Action::Delete,
                        reason: "no longer declared".into(),
                        ..forget
                    }
                }
            }
            OrganizationKind::Root
            | OrganizationKind::Ou(_)
            | OrganizationKind::Account(_)
            | OrganizationKind::Scp(_)
            | OrganizationKind::Attachment(_) => return None,
        })
    }
}
