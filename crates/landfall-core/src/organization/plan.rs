//! Planning the declared organization: the root, OUs, accounts (through the Account
//! Factory when Control Tower provisions them), SCPs and their attachments — create,
//! adopt, update, move.

use std::collections::BTreeSet;

use serde_json::json;

use crate::address::{Address, FULL_AWS_ACCESS, Target};
use crate::attrs::{AttrDiff, Attrs, diff_attrs, tag_changes};
use crate::live::AccountStatus;
use crate::model::{ACCOUNT_FACTORY_PRODUCT, AccountSpec, PolicyType};
use crate::plan::{Action, Change, GovernanceOp, Op, OrganizationOp, Record, Ref};
use crate::planner::Planner;

use super::attrs::{account_attrs, declared_attrs, ou_attrs, scp_attrs};

impl Planner<'_> {
    pub(super) fn plan_root(&mut self) {
        let root_id = self.live.root_id.clone();
        if !self.in_state(&Address::Root, &root_id) {
            self.changes.push(Change {
                address: Address::Root,
                action: Action::Adopt,
                reason: format!("the organization root {root_id}"),
                diffs: vec![],
                id: Some(root_id),
                ops: vec![],
                record: Record::Upsert {
                    created: false,
                    attributes: Attrs::new(),
                },
                member: None,
                project: None,
                depends_on: vec![],
            });
        }
    }

    pub(super) fn plan_ous(&mut self) {
        for (path, spec) in &self.desired.ous {
            let address = Address::Ou(path.clone());
            let attributes = declared_attrs(self.desired, &address).unwrap_or_default();
            match self.existing.get(&address).cloned() {
                Some(id) => {
                    let Some(live) = self.live.ous.get(&id) else {
                        continue;
                    };
                    let diffs = diff_attrs(&ou_attrs(&live.name, &live.tags), &attributes, &[]);
                    let mut ops = Vec::new();
                    if live.name != path.name() {
                        ops.push(Op::Organization(OrganizationOp::RenameOu {
                            name: path.name().to_string(),
                        }));
                    }
                    push_tag_ops(&mut ops, &diffs);
                    self.existing_change(address, id, diffs, ops, false, attributes);
                }
                None => {
                    let parent = match path.parent() {
                        Some(p) => self.reference(Address::Ou(p)),
                        None => Ref::Id(self.live.root_id.clone()),
                    };
                    let reason = self.created_reason(&address);
                    self.changes.push(Change {
                        diffs: diff_attrs(&Attrs::new(), &attributes, &[]),
                        address,
                        action: Action::Create,
                        reason,
                        id: None,
                        ops: vec![Op::Organization(OrganizationOp::CreateOu {
                            parent,
                            name: path.name().to_string(),
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

    pub(super) fn plan_accounts(&mut self) {
        for (name, spec) in &self.desired.accounts {
            let address = Address::Account(name.clone());
            let parent = self.desired.account_parent(spec);
            let attributes = declared_attrs(self.desired, &address).unwrap_or_default();
            let parent_ref = self.reference(parent.address());
            match self.existing.get(&address).cloned() {
                Some(id) => {
                    let Some(live) = self.live.accounts.get(&id) else {
                        continue;
                    };
                    if live.status != AccountStatus::Active {
                        self.warnings.push(format!(
                            "{address} ({id}) is {} live; Landfall cannot reopen a closed account and leaves it as it is",
                            live.status
                        ));
                        continue;
                    }
                    if !live.email.eq_ignore_ascii_case(&spec.email) {
                        self.problem(
                            address,
                            format!(
                                "the root email of account {id} is {} live, but {} is declared; Landfall cannot change an account's root email",
                                live.email, spec.email
                            ),
                            Some("change the root email in the AWS console, or declare the live email"),
                        );
                        continue;
                    }
                    let live_parent = self
                        .index
                        .parent_target(&live.parent_id)
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| live.parent_id.clone());
                    let mut live_attrs =
                        account_attrs(&live.name, &spec.email, &parent, &live.tags);
                    live_attrs.insert("ou".into(), json!(live_parent));
                    // Compare parents by id: an OU renamed out-of-band changes the
                    // path an account appears under, not where it is.
                    let same_parent = matches!(&parent_ref, Ref::Id(id) if *id == live.parent_id);
                    if same_parent {
                        live_attrs.insert("ou".into(), json!(parent.to_string()));
                    }
                    let diffs = diff_attrs(&live_attrs, &attributes, &["ou", "tags"]);
                    let mut ops = Vec::new();
                    let moving = !same_parent;
                    if moving {
                        ops.push(self.move_op(&address, spec, &id, &live.parent_id, parent_ref));
                    }
                    // Renamed by a `[[moved]]` block, or outside Landfall: the
                    // Account Management API names it again, same account.
                    if live.name != spec.name_in_aws() {
                        ops.push(Op::Organization(OrganizationOp::RenameAccount {
                            name: spec.name_in_aws().to_string(),
                        }));
                    }
                    push_tag_ops(&mut ops, &diffs);
                    self.existing_change(address, id, diffs, ops, moving, attributes);
                }
                None => {
                    let reason = self.created_reason(&address);
                    let op = if self.desired.uses_account_factory() {
                        match self.account_factory_op(&address, spec, parent_ref) {
                            Some(op) => op,
                            None => continue,
                        }
                    } else {
                        Op::Organization(OrganizationOp::CreateAccount {
                            name: spec.name_in_aws().to_string(),
                            email: spec.email.clone(),
                            tags: spec.tags.clone(),
                            parent: parent_ref,
                            role_name: self.desired.landing_zone.access_role.clone(),
                        })
                    };
                    self.changes.push(Change {
                        diffs: diff_attrs(&Attrs::new(), &attributes, &["email", "ou", "tags"]),
                        address,
                        action: Action::Create,
                        reason,
                        id: None,
                        ops: vec![op],
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

    /// The Account Factory provisioning of a new account (it must go into an OU).
    fn account_factory_op(&mut self, address: &Address, spec: &AccountSpec, ou: Ref) -> Option<Op> {
        let Some(path) = spec.ou.clone() else {
            self.problem(
                address.clone(),
                "the Control Tower Account Factory cannot create an account directly under the root".into(),
                Some("declare the account in a registered OU (`ou = \"...\"`)"),
            );
            return None;
        };
        let Some(sso_user) = spec.sso_user.clone() else {
            self.problem(
                address.clone(),
                "an Account Factory account needs an IAM Identity Center user".into(),
                Some("set `sso_user` on the account or in `[control_tower]`"),
            );
            return None;
        };
        Some(Op::Governance(GovernanceOp::ProvisionAccount {
            product: self.account_factory_product(),
            name: spec.name_in_aws().to_string(),
            email: spec.email.clone(),
            ou_name: path.name().to_string(),
            ou,
            sso_user,
            tags: spec.tags.clone(),
        }))
    }

    fn account_factory_product(&self) -> String {
        self.desired
            .landing_zone
            .control_tower
            .as_ref()
            .map(|ct| ct.account_factory_product.clone())
            .unwrap_or_else(|| ACCOUNT_FACTORY_PRODUCT.to_string())
    }

    /// Moves an account: through its Account Factory provisioned product when it has
    /// one (so Control Tower keeps governing it), else with Organizations `MoveAccount`.
    fn move_op(
        &mut self,
        address: &Address,
        spec: &AccountSpec,
        account_id: &str,
        from: &str,
        to: Ref,
    ) -> Op {
        let provisioned = crate::governance::provisioned_account(self.live, account_id);
        match (
            self.desired.uses_account_factory(),
            provisioned,
            &spec.ou,
            &spec.sso_user,
        ) {
            (true, Some(pp), Some(ou), Some(sso_user)) => {
                Op::Governance(GovernanceOp::UpdateProvisionedAccount {
                    provisioned_product_id: pp.provisioned_product_id.clone(),
                    product: self.account_factory_product(),
                    name: spec.name_in_aws().to_string(),
                    email: spec.email.clone(),
                    ou_name: ou.name().to_string(),
                    ou: to,
                    sso_user: sso_user.clone(),
                })
            }
            (true, ..) => {
                self.warnings.push(format!(
                    "{address} was not provisioned by the Account Factory; it is moved with Organizations MoveAccount, and Control Tower may report it as drifted until it is enrolled"
                ));
                Op::Organization(OrganizationOp::MoveAccount {
                    from: Ref::Id(from.to_string()),
                    to,
                })
            }
            _ => Op::Organization(OrganizationOp::MoveAccount {
                from: Ref::Id(from.to_string()),
                to,
            }),
        }
    }

    pub(super) fn plan_policies(&mut self) {
        for (name, spec) in &self.desired.policies {
            let address = Address::Scp(name.clone());
            let attributes = declared_attrs(self.desired, &address).unwrap_or_default();
            match self.existing.get(&address).cloned() {
                Some(id) => {
                    let Some(live) = self.live.policies.get(&id) else {
                        continue;
                    };
                    let live_attrs =
                        scp_attrs(&live.name, &live.description, &live.content, &live.tags);
                    let diffs = diff_attrs(&live_attrs, &attributes, &[]);
                    let mut ops = Vec::new();
                    // A policy renamed (by a `[[moved]]` block, or outside Landfall)
                    // keeps its id: UpdatePolicy names it again.
                    let new_name =
                        (live.name != spec.name_in_aws()).then(|| spec.name_in_aws().to_string());
                    let description = diffs
                        .iter()
                        .any(|d| d.attribute == "description")
                        .then(|| spec.description.clone());
                    let content = diffs
                        .iter()
                        .any(|d| d.attribute == "content")
                        .then(|| spec.content.clone());
                    if new_name.is_some() || description.is_some() || content.is_some() {
                        ops.push(Op::Organization(OrganizationOp::UpdatePolicy {
                            name: new_name,
                            description,
                            content,
                        }));
                    }
                    push_tag_ops(&mut ops, &diffs);
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
                            policy_type: PolicyType::ServiceControlPolicy,
                            name: spec.name_in_aws().to_string(),
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

    pub(super) fn plan_attachments(&mut self) {
        if !self.desired.attachments.is_empty() && self.policy_id(FULL_AWS_ACCESS).is_none() {
            let uses_full = self
                .desired
                .attachments
                .iter()
                .any(|a| a.policy == FULL_AWS_ACCESS);
            if uses_full {
                self.problem(
                    Address::Root,
                    "the AWS-managed FullAWSAccess policy was not found; service control policies may not be enabled in this organization".into(),
                    Some("enable the SERVICE_CONTROL_POLICY policy type on the root, or set full_aws_access = false"),
                );
            }
        }
        // `full_aws_access = false` on a target that holds AWS's own FullAWSAccess:
        // the change of its first declared SCP detaches it once that SCP is attached
        // (AWS refuses to detach a target's last SCP).
        let mut detach_faa = self.faa_left_by_aws();
        for att in &self.desired.attachments {
            let address = Address::Attachment(att.clone());
            let attributes = declared_attrs(self.desired, &address).unwrap_or_default();
            let policy_id = self.policy_id(&att.policy);
            let target_id = self.existing.get(&att.target.address()).cloned();
            let faa_detach = match detach_faa.remove(&att.target) {
                true => self.policy_id(FULL_AWS_ACCESS).map(|faa| {
                    Op::Organization(OrganizationOp::Detach {
                        policy: Ref::Id(faa),
                        target: self.reference(att.target.address()),
                    })
                }),
                false => None,
            };
            if let (Some(p), Some(t)) = (&policy_id, &target_id)
                && self.live.attachments.contains(&(p.clone(), t.clone()))
            {
                let id = format!("{p}|{t}");
                if let Some(detach) = faa_detach {
                    // Attached by a run that stopped before it detached FullAWSAccess:
                    // Landfall attached it, to a target Landfall created.
                    self.changes.push(Change {
                        address,
                        action: Action::Update,
                        reason: format!(
                            "attached by an interrupted apply; recording it and detaching the FullAWSAccess AWS attached to {} when Landfall created it (full_aws_access = false)",
                            att.target
                        ),
                        diffs: vec![],
                        id: Some(id),
                        ops: vec![detach],
                        record: Record::Upsert {
                            created: true,
                            attributes,
                        },
                        member: None,
                        project: None,
                        depends_on: vec![],
                    });
                } else if !self.in_state(&address, &id) {
                    // AWS attaches FullAWSAccess itself to what Landfall creates.
                    let created = self.created_flag(&address)
                        || (att.policy == FULL_AWS_ACCESS
                            && self.created_flag(&att.target.address()));
                    let reason = if self.state.resources.contains_key(&address) {
                        "attached again; recording its new id".to_string()
                    } else {
                        "already attached; Landfall will manage it".to_string()
                    };
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
            // A target this plan creates gets FullAWSAccess from AWS on creation
            // (SCPs are enabled, or the policy would not exist): record it, send nothing.
            let by_aws = att.policy == FULL_AWS_ACCESS && target_id.is_none();
            let mut reason = match self.state.resources.get(&address) {
                _ if by_aws => {
                    "AWS attaches FullAWSAccess to new OUs and accounts; recorded, no call"
                        .to_string()
                }
                Some(_) => "detached outside Landfall; attaching again".to_string(),
                None => "declared; not attached yet".to_string(),
            };
            if faa_detach.is_some() {
                reason.push_str(&format!(
                    "; then detaches the FullAWSAccess AWS attaches to {} on creation (full_aws_access = false)",
                    att.target
                ));
            }
            let created = match self.state.resources.get(&address) {
                Some(r) => r.created,
                None => true,
            };
            let (policy, target) = (
                self.policy_ref(&att.policy),
                self.reference(att.target.address()),
            );
            let op = if by_aws {
                OrganizationOp::AttachedByAws { policy, target }
            } else {
                OrganizationOp::Attach { policy, target }
            };
            self.changes.push(Change {
                ops: std::iter::once(Op::Organization(op))
                    .chain(faa_detach)
                    .collect(),
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
}

impl Planner<'_> {
    /// The targets declared without FullAWSAccess (`full_aws_access = false`) that
    /// hold the FullAWSAccess attachment AWS makes itself when it creates an OU or an
    /// account, so the plan detaches it: those this plan creates, and those Landfall
    /// created (recorded `created`, or pending) that still have it unrecorded while
    /// none of their declared attachments is recorded yet — the run that created them
    /// stopped before the change that detaches it finished. Once a declared attachment
    /// is recorded, a FullAWSAccess attached again is someone else's: drift reports it
    /// and only `prune_unmanaged` removes it.
    pub(super) fn faa_left_by_aws(&self) -> BTreeSet<Target> {
        let Some(faa) = self.policy_id(FULL_AWS_ACCESS) else {
            return BTreeSet::new();
        };
        let with_faa: BTreeSet<&Target> = self
            .desired
            .attachments
            .iter()
            .filter(|a| a.policy == FULL_AWS_ACCESS)
            .map(|a| &a.target)
            .collect();
        let recorded_ids: BTreeSet<&str> = self
            .state
            .resources
            .values()
            .map(|r| r.id.as_str())
            .collect();
        let mut out = BTreeSet::new();
        for att in &self.desired.attachments {
            let target = &att.target;
            if with_faa.contains(target) || out.contains(target) {
                continue;
            }
            let address = target.address();
            let holds = match self.existing.get(&address) {
                None => true,
                Some(t) => {
                    let faa_id = format!("{faa}|{t}");
                    let declared_recorded = self
                        .desired
                        .attachments
                        .iter()
                        .filter(|a| a.target == *target)
                        .any(|a| {
                            self.policy_id(&a.policy).is_some_and(|p| {
                                self.in_state(&Address::Attachment(a.clone()), &format!("{p}|{t}"))
                            })
                        });
                    self.created_flag(&address)
                        && self.live.attachments.contains(&(faa.clone(), t.clone()))
                        && !recorded_ids.contains(faa_id.as_str())
                        && !declared_recorded
                }
            };
            if holds {
                out.insert(target.clone());
            }
        }
        out
    }
}

pub(super) fn push_tag_ops(ops: &mut Vec<Op>, diffs: &[AttrDiff]) {
    let (set, remove) = tag_changes(diffs);
    if !set.is_empty() {
        ops.push(Op::Organization(OrganizationOp::Tag { tags: set }));
    }
    if !remove.is_empty() {
        ops.push(Op::Organization(OrganizationOp::Untag { keys: remove }));
    }
}
