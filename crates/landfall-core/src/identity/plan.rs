//! Planning the declared identity layer: permission sets (create with their policies;
//! update description, session duration, policies, boundary and tags in place, then
//! provision the set again to the accounts it is in), the groups Landfall creates, and
//! account assignments (created and deleted per account, polled to the end).

use crate::address::{Address, Principal};
use crate::attrs::{Attrs, diff_attrs, tag_changes};
use crate::live::{LiveAssignment, LivePermissionSet};
use crate::model::{IdentitySource, PermissionSetSpec};
use crate::plan::{Action, IdentityOp, Op, PrincipalRef, Record};
use crate::planner::Planner;

use super::attrs::{
    assignment_attrs, assignment_id, group_attrs, live_group_attrs, live_permission_set_attrs,
    permission_set_attrs,
};
use super::change;

/// The operations that set a new permission set's policies after `CreatePermissionSet`.
fn policy_ops(spec: &PermissionSetSpec) -> Vec<Op> {
    let mut ops: Vec<Op> = Vec::new();
    for arn in &spec.managed_policies {
        ops.push(
            IdentityOp::AttachManagedPolicy {
                policy_arn: arn.clone(),
            }
            .into(),
        );
    }
    for policy in &spec.customer_managed_policies {
        ops.push(
            IdentityOp::AttachCustomerManagedPolicy {
                policy: policy.clone(),
            }
            .into(),
        );
    }
    if let Some(document) = &spec.inline_policy {
        ops.push(
            IdentityOp::PutInlinePolicy {
                document: document.clone(),
            }
            .into(),
        );
    }
    if let Some(boundary) = &spec.permissions_boundary {
        ops.push(
            IdentityOp::PutPermissionsBoundary {
                boundary: boundary.clone(),
            }
            .into(),
        );
    }
    ops
}

/// The operations that bring a live permission set to `spec`, and whether its copies in
/// accounts must be provisioned again (AWS does not update the roles by itself).
fn update_ops(
    spec: &PermissionSetSpec,
    live: &LivePermissionSet,
    inline_differs: bool,
) -> (Vec<Op>, bool) {
    let mut ops: Vec<Op> = Vec::new();
    let mut reprovision = false;
    if spec.description != live.description || spec.session_duration != live.session_duration {
        ops.push(
            IdentityOp::UpdatePermissionSet {
                description: spec.description.clone(),
                session_duration: spec.session_duration.clone(),
            }
            .into(),
        );
        // The session duration is a property of the role in each account.
        reprovision |= spec.session_duration != live.session_duration;
    }
    for arn in spec.managed_policies.difference(&live.managed_policies) {
        ops.push(
            IdentityOp::AttachManagedPolicy {
                policy_arn: arn.clone(),
            }
            .into(),
        );
        reprovision = true;
    }
    for arn in live.managed_policies.difference(&spec.managed_policies) {
        ops.push(
            IdentityOp::DetachManagedPolicy {
                policy_arn: arn.clone(),
            }
            .into(),
        );
        reprovision = true;
    }
    for policy in spec
        .customer_managed_policies
        .difference(&live.customer_managed_policies)
    {
        ops.push(
            IdentityOp::AttachCustomerManagedPolicy {
                policy: policy.clone(),
            }
            .into(),
        );
        reprovision = true;
    }
    for policy in live
        .customer_managed_policies
        .difference(&spec.customer_managed_policies)
    {
        ops.push(
            IdentityOp::DetachCustomerManagedPolicy {
                policy: policy.clone(),
            }
            .into(),
        );
        reprovision = true;
    }
    if inline_differs {
        ops.push(match &spec.inline_policy {
            Some(document) => IdentityOp::PutInlinePolicy {
                document: document.clone(),
            }
            .into(),
            None => IdentityOp::DeleteInlinePolicy.into(),
        });
        reprovision = true;
    }
    if spec.permissions_boundary != live.permissions_boundary {
        ops.push(match &spec.permissions_boundary {
            Some(boundary) => IdentityOp::PutPermissionsBoundary {
                boundary: boundary.clone(),
            }
            .into(),
            None => IdentityOp::DeletePermissionsBoundary.into(),
        });
        reprovision = true;
    }
    (ops, reprovision)
}

impl Planner<'_> {
    pub(super) fn plan_identity(&mut self) {
        let needed = self.desired.declares_identity()
            || self
                .state
                .resources
                .keys()
                .any(|a| a.identity_kind().is_some());
        if !needed {
            return;
        }
        if !self.live.identity.read {
            self.problem(
                Address::Root,
                "the live IAM Identity Center state was not read".into(),
                Some("this is a bug in the backend wiring; please report it"),
            );
            return;
        }
        if self.live.identity.instance.is_none() && self.desired.declares_identity() {
            self.problem(
                Address::Root,
                "IAM Identity Center is not enabled for this organization (ListInstances found no instance)".into(),
                Some("enable IAM Identity Center in the management account (console: IAM Identity Center → Enable), in the region `[identity_center] region` names, then plan again"),
            );
            return;
        }
        self.plan_permission_sets();
        self.plan_groups();
        self.plan_assignments();
        self.plan_identity_removals();
    }

    fn plan_permission_sets(&mut self) {
        for (name, spec) in &self.desired.permission_sets {
            let address = Address::PermissionSet(name.clone());
            let attributes = permission_set_attrs(spec);
            let sets = &self.live.identity.permission_sets;
            let by_state = self
                .state
                .id_of(&address)
                .filter(|arn| sets.contains_key(*arn))
                .map(str::to_string);
            let found = by_state.or_else(|| {
                self.live
                    .identity
                    .permission_set(&spec.name)
                    .map(|s| s.arn.clone())
            });
            let Some(live) = found.and_then(|arn| sets.get(&arn)) else {
                let reason = self.created_reason(&address);
                let mut c = change(address, Action::Create, reason);
                c.diffs = diff_attrs(&Attrs::new(), &attributes, &[]);
                c.ops = vec![
                    IdentityOp::CreatePermissionSet {
                        name: spec.name.clone(),
                        description: spec.description.clone(),
                        session_duration: spec.session_duration.clone(),
                        tags: spec.tags.clone(),
                    }
                    .into(),
                ];
                c.ops.extend(policy_ops(spec));
                c.record = Record::Upsert {
                    created: true,
                    attributes,
                };
                self.changes.push(c);
                continue;
            };
            self.existing.insert(address.clone(), live.arn.clone());
            let live_attrs = live_permission_set_attrs(live);
            let diffs = diff_attrs(&live_attrs, &attributes, &[]);
            // Compared canonical (as the attributes hold it), not as AWS returned it.
            let inline_differs = diffs.iter().any(|d| d.attribute == "inline_policy");
            let (mut ops, mut reprovision) = update_ops(spec, live, inline_differs);
            let (add_tags, remove_tags) = tag_changes(&diffs);
            if !add_tags.is_empty() {
                ops.push(IdentityOp::TagPermissionSet { tags: add_tags }.into());
            }
            if !remove_tags.is_empty() {
                ops.push(IdentityOp::UntagPermissionSet { keys: remove_tags }.into());
            }
            // Changed outside Landfall without being provisioned: the accounts still
            // have the old role.
            let outdated = !live.outdated_in.is_empty();
            reprovision |= outdated;
            if reprovision && !live.provisioned_to.is_empty() {
                ops.push(IdentityOp::ProvisionPermissionSet.into());
            }
            let n = self.changes.len();
            self.existing_change(address, live.arn.clone(), diffs, ops, false, attributes);
            if let (true, Some(c)) = (outdated, self.changes.get_mut(n))
                && c.action == Action::Update
                && c.diffs.is_empty()
            {
                c.reason = format!(
                    "its latest version is not provisioned to {} account(s); provisioning it",
                    live.outdated_in.len()
                );
            }
        }
    }

    fn plan_groups(&mut self) {
        let external = self
            .desired
            .identity_center
            .as_ref()
            .is_some_and(|ic| ic.identity_source == IdentitySource::External);
        for (name, spec) in &self.desired.groups {
            let address = Address::Group(name.clone());
            let attributes = group_attrs(spec);
            let groups = &self.live.identity.groups;
            let by_state = self
                .state
                .id_of(&address)
                .and_then(|id| groups.values().find(|g| g.id == id));
            match by_state.or_else(|| groups.get(name)) {
                Some(live) => {
                    self.existing.insert(address.clone(), live.id.clone());
                    let diffs = diff_attrs(&live_group_attrs(live), &attributes, &[]);
                    let mut ops: Vec<Op> = Vec::new();
                    if diffs.iter().any(|d| d.attribute == "description") {
                        ops.push(
                            IdentityOp::UpdateGroupDescription {
                                description: spec.description.clone(),
                            }
                            .into(),
                        );
                    }
                    if diffs.iter().any(|d| d.attribute == "display_name") {
                        self.problem(
                            address.clone(),
                            format!(
                                "group {} was renamed to `{}` outside Landfall",
                                live.id, live.display_name
                            ),
                            Some("rename it back in the Identity Store, or declare it under its new name with a [[moved]] block"),
                        );
                        continue;
                    }
                    self.existing_change(address, live.id.clone(), diffs, ops, false, attributes);
                }
                None if external => self.problem(
                    address,
                    format!("group `{name}` does not exist, and the identity source is external"),
                    Some("groups come from your IdP through SCIM: create it there, or set `[identity_center] identity_source = \"identity_center\"`"),
                ),
                None => {
                    let reason = self.created_reason(&address);
                    let mut c = change(address, Action::Create, reason);
                    c.diffs = diff_attrs(&Attrs::new(), &attributes, &[]);
                    c.ops = vec![
                        IdentityOp::CreateGroup {
                            display_name: spec.name.clone(),
                            description: spec.description.clone(),
                        }
                        .into(),
                    ];
                    c.record = Record::Upsert {
                        created: true,
                        attributes,
                    };
                    self.changes.push(c);
                }
            }
        }
    }

    /// The principal of an assignment as the change will name it: a declared group by
    /// reference, an existing group or a user by the id the refresh found.
    fn principal_ref(&mut self, address: &Address, principal: &Principal) -> Option<PrincipalRef> {
        match principal {
            Principal::Group(name) if self.desired.groups.contains_key(name) => Some(
                PrincipalRef::Group(self.reference(Address::Group(name.clone()))),
            ),
            Principal::Group(name) => match self.live.identity.groups.get(name) {
                Some(g) => Some(PrincipalRef::Group(crate::plan::Ref::Id(g.id.clone()))),
                None => {
                    self.problem(
                        address.clone(),
                        format!("group `{name}` does not exist in the Identity Store"),
                        Some("check the display name (it must match exactly), wait for your IdP to provision it through SCIM, or declare `[group.NAME]` so Landfall creates it"),
                    );
                    None
                }
            },
            Principal::User(name) => match self.live.identity.users.get(name) {
                Some(id) => Some(PrincipalRef::User(id.clone())),
                None => {
                    self.problem(
                        address.clone(),
                        format!("user `{name}` does not exist in the Identity Store"),
                        Some("check the user name (the sign-in name, often the email), or assign a group instead"),
                    );
                    None
                }
            },
        }
    }

    fn plan_assignments(&mut self) {
        for spec in &self.desired.assignments {
            let a = &spec.assignment;
            let address = spec.address();
            let attributes = assignment_attrs(a);
            let Some(principal) = self.principal_ref(&address, &a.principal) else {
                continue;
            };
            let set_address = Address::PermissionSet(a.permission_set.clone());
            let account_address = Address::Account(a.account.clone());
            let ids = (
                self.existing.get(&set_address).cloned(),
                self.principal_id(&principal),
                self.existing.get(&account_address).cloned(),
            );
            let live_id = match ids {
                (Some(arn), Some(principal_id), Some(account_id)) => {
                    let id =
                        assignment_id(&account_id, &arn, principal.principal_type(), &principal_id);
                    // A lookup in the set, not a scan: thousands of assignments in a
                    // large organization.
                    let present = self.live.identity.assignments.contains(&LiveAssignment {
                        permission_set_arn: arn,
                        principal_type: principal.principal_type(),
                        principal_id,
                        account_id,
                    });
                    present.then_some(id)
                }
                _ => None,
            };
            if let Some(id) = live_id {
                self.existing.insert(address.clone(), id.clone());
                self.existing_change(address, id, vec![], vec![], false, attributes);
                continue;
            }
            let reason = match self.state.resources.get(&address) {
                Some(_) => "removed outside Landfall; assigning again".to_string(),
                None => match &spec.declared_target {
                    crate::address::Target::Ou(ou) => {
                        format!("declared for ou.{ou}; not assigned in this account yet")
                    }
                    crate::address::Target::Root | crate::address::Target::Account(_) => {
                        "declared; not assigned yet".to_string()
                    }
                },
            };
            let created = self
                .state
                .resources
                .get(&address)
                .map(|r| r.created)
                .unwrap_or(true);
            let mut c = change(address, Action::Create, reason);
            c.diffs = diff_attrs(&Attrs::new(), &attributes, &[]);
            c.project = spec.project.clone();
            c.ops = vec![
                IdentityOp::CreateAccountAssignment {
                    permission_set: self.reference(set_address),
                    principal,
                    account: self.reference(account_address),
                }
                .into(),
            ];
            c.record = Record::Upsert {
                created,
                attributes,
            };
            self.changes.push(c);
        }
    }

    /// The principal's id when it is known now (a group Landfall has not created yet
    /// has none).
    fn principal_id(&self, principal: &PrincipalRef) -> Option<String> {
        match principal {
            PrincipalRef::Group(crate::plan::Ref::Id(id)) | PrincipalRef::User(id) => {
                Some(id.clone())
            }
            PrincipalRef::Group(crate::plan::Ref::Address(_)) => None,
        }
    }
}
