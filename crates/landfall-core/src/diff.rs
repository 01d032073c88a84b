//! The diff: desired state + live state + Landfall's state file → an ordered [`Plan`].
//! Pure: no I/O, deterministic (same inputs, same plan).
//!
//! How a desired resource is matched to a live one: by the physical id the state file
//! records, when that id still exists; otherwise by its natural key (an OU by parent and
//! name, an account by email, an SCP by name, an attachment by policy and target), which
//! makes the resource *adopted*. Removals consult the state: only what Landfall created is
//! ever deleted; the rest is forgotten.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};

use crate::address::{Address, Attachment, FULL_AWS_ACCESS, OuPath, Target};
use crate::attrs::{
    Attrs, account_attrs, declared_attrs, diff_attrs, ou_attrs, scp_attrs, tag_changes,
};
use crate::graph::{self, CycleError};
use crate::live::{AccountStatus, LiveIndex, LiveState, WorldIdentity};
use crate::model::{AccountRemoval, DesiredState};
use crate::plan::{Action, Change, Op, PLAN_FORMAT_VERSION, Plan, Record, Ref, StateRef, Summary};
use crate::state::StateFile;

/// A reason the plan cannot be made, tied to the resource it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanProblem {
    pub address: Address,
    pub message: String,
    pub hint: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("the plan has {} problem(s)", .0.len())]
    Problems(Vec<PlanProblem>),
    #[error(transparent)]
    Cycle(#[from] CycleError),
}

/// Computes the plan. `state` is the current state file (a fresh one when none exists).
pub fn compute_plan(
    desired: &DesiredState,
    live: &LiveState,
    state: &StateFile,
    state_ref: StateRef,
    world: &WorldIdentity,
) -> Result<Plan, PlanError> {
    let mut planner = Planner::new(desired, live, state);
    planner.plan_root();
    planner.plan_ous();
    planner.plan_accounts();
    planner.plan_policies();
    planner.plan_attachments();
    planner.plan_removals();
    planner.plan_networks();
    planner.plan_keys();
    planner.plan_member_removals();
    planner.plan_governance();
    if desired.landing_zone.prune_unmanaged {
        planner.plan_prune();
        planner.plan_member_prune();
    }
    planner.mark_ou_replacements();
    planner.mark_endpoint_replacements();
    planner.check_ou_deletions();
    if !planner.problems.is_empty() {
        return Err(PlanError::Problems(planner.problems));
    }
    let edges = planner.edges();
    for change in &mut planner.changes {
        change.project = desired.project_of(&change.address).map(str::to_string);
    }
    let changes = graph::order(planner.changes, &edges)?;
    Ok(Plan {
        format_version: PLAN_FORMAT_VERSION,
        landing_zone: desired.landing_zone.name.clone(),
        world: world.clone(),
        state: state_ref,
        summary: Summary::of(&changes),
        changes,
        warnings: planner.warnings,
        refresh_calls: Default::default(),
        permission_changes: Vec::new(),
    })
}

pub(crate) struct Planner<'a> {
    pub(crate) desired: &'a DesiredState,
    pub(crate) live: &'a LiveState,
    pub(crate) index: LiveIndex<'a>,
    pub(crate) state: &'a StateFile,
    /// Physical id of every desired resource that exists live.
    pub(crate) existing: HashMap<Address, String>,
    pub(crate) changes: Vec<Change>,
    pub(crate) problems: Vec<PlanProblem>,
    pub(crate) warnings: Vec<String>,
}

impl<'a> Planner<'a> {
    fn new(desired: &'a DesiredState, live: &'a LiveState, state: &'a StateFile) -> Self {
        let mut p = Planner {
            desired,
            live,
            index: LiveIndex::new(live),
            state,
            existing: HashMap::new(),
            changes: Vec::new(),
            problems: Vec::new(),
            warnings: Vec::new(),
        };
        p.match_existing();
        p
    }

    /// The state's id for `address` if that id still exists live.
    fn state_id_live(&self, address: &Address) -> Option<String> {
        let id = self.state.id_of(address)?;
        let alive = match address {
            Address::Root => id == self.live.root_id,
            Address::Ou(_) => self.live.ous.contains_key(id),
            Address::Account(_) => self.live.accounts.contains_key(id),
            Address::Scp(_) => self.live.policies.contains_key(id),
            Address::Attachment(_) => id
                .split_once('|')
                .is_some_and(|(p, t)| self.live.attachments.contains(&(p.into(), t.into()))),
            Address::Control(..) | Address::Portfolio(_) | Address::PortfolioShare(..) => {
                crate::governance::exists_live(self.live, address, id)
            }
            _ => crate::member::exists_live(self.live, self.state.resources.get(address), address),
        };
        alive.then(|| id.to_string())
    }

    fn match_existing(&mut self) {
        let root = self.live.root_id.clone();
        self.existing.insert(Address::Root, root);
        let mut ou_by_parent_and_name: HashMap<(&str, &str), &str> = HashMap::new();
        for ou in self.live.ous.values() {
            ou_by_parent_and_name.insert((ou.parent_id.as_str(), ou.name.as_str()), &ou.id);
        }
        // BTreeMap order visits parents before children.
        for path in self.desired.ous.keys() {
            let addr = Address::Ou(path.clone());
            let id = self.state_id_live(&addr).or_else(|| {
                let parent = self.parent_id_of_path(path)?;
                ou_by_parent_and_name
                    .get(&(parent.as_str(), path.name()))
                    .map(|s| s.to_string())
            });
            if let Some(id) = id {
                self.existing.insert(addr, id);
            }
        }
        for (name, spec) in &self.desired.accounts {
            let addr = Address::Account(name.clone());
            let id = self.state_id_live(&addr).or_else(|| {
                self.index
                    .account_by_email(&spec.email)
                    .map(|a| a.id.clone())
            });
            if let Some(id) = id {
                self.existing.insert(addr, id);
            }
        }
        for name in self.desired.policies.keys() {
            let addr = Address::Scp(name.clone());
            let id = self.state_id_live(&addr).or_else(|| {
                self.index
                    .policy_by_name(name)
                    .filter(|p| !p.aws_managed)
                    .map(|p| p.id.clone())
            });
            if let Some(id) = id {
                self.existing.insert(addr, id);
            }
        }
    }

    fn parent_id_of_path(&self, path: &OuPath) -> Option<String> {
        match path.parent() {
            None => Some(self.live.root_id.clone()),
            Some(p) => self.existing.get(&Address::Ou(p)).cloned(),
        }
    }

    pub(crate) fn reference(&self, address: Address) -> Ref {
        match self.existing.get(&address) {
            Some(id) => Ref::Id(id.clone()),
            None => Ref::Address(address),
        }
    }

    fn policy_id(&self, name: &str) -> Option<String> {
        if DesiredState::is_aws_managed_policy(name) {
            self.index
                .policy_by_name(name)
                .filter(|p| p.aws_managed)
                .map(|p| p.id.clone())
        } else {
            self.existing.get(&Address::Scp(name.to_string())).cloned()
        }
    }

    fn policy_ref(&self, name: &str) -> Ref {
        match self.policy_id(name) {
            Some(id) => Ref::Id(id),
            None => Ref::Address(Address::Scp(name.to_string())),
        }
    }

    pub(crate) fn in_state(&self, address: &Address, id: &str) -> bool {
        self.state.id_of(address) == Some(id)
    }

    pub(crate) fn created_flag(&self, address: &Address) -> bool {
        match self.state.resources.get(address) {
            Some(r) => r.created,
            None => self.state.pending_creates.contains(address),
        }
    }

    pub(crate) fn problem(&mut self, address: Address, message: String, hint: Option<&str>) {
        self.problems.push(PlanProblem {
            address,
            message,
            hint: hint.map(str::to_string),
        });
    }

    /// Emits the change for an existing desired resource: adopt when the state does not
    /// know it yet, update when `ops` is not empty, nothing otherwise.
    pub(crate) fn existing_change(
        &mut self,
        address: Address,
        id: String,
        diffs: Vec<crate::attrs::AttrDiff>,
        ops: Vec<Op>,
        moving: bool,
        attributes: Attrs,
    ) {
        let known = self.in_state(&address, &id);
        let state_attrs = self.state.resources.get(&address).map(|r| &r.attributes);
        let (action, reason) = if !known {
            let reason = if self.state.pending_creates.contains(&address) {
                "created by an interrupted apply; recording it".to_string()
            } else {
                format!("exists live as {id}; Landfall will manage it")
            };
            (Action::Adopt, reason)
        } else if ops.is_empty() {
            if state_attrs == Some(&attributes) {
                return;
            }
            (Action::Update, "record the current attributes".to_string())
        } else {
            let changed_here = state_attrs.is_some_and(|s| *s != attributes);
            let action = if moving { Action::Move } else { Action::Update };
            let reason = if changed_here {
                "the declaration changed".to_string()
            } else {
                "changed outside Landfall; restoring the declared value".to_string()
            };
            (action, reason)
        };
        let created = self.created_flag(&address);
        self.changes.push(Change {
            address,
            action,
            reason,
            diffs,
            id: Some(id),
            ops,
            record: Record::Upsert {
                created,
                attributes,
            },
            member: None,
            project: None,
            depends_on: vec![],
        });
    }

    pub(crate) fn created_reason(&self, address: &Address) -> String {
        match self.state.resources.get(address) {
            Some(r) => format!("was deleted outside Landfall (it was {})", r.id),
            None => "declared; does not exist yet".to_string(),
        }
    }

    fn plan_root(&mut self) {
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

    fn plan_ous(&mut self) {
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
                        ops.push(Op::RenameOu {
                            name: path.name().to_string(),
                        });
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
                        ops: vec![Op::CreateOu {
                            parent,
                            name: path.name().to_string(),
                            tags: spec.tags.clone(),
                        }],
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

    fn plan_accounts(&mut self) {
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
                            "{address} ({id}) is {:?} live; Landfall cannot reopen a closed account and leaves it as it is",
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
                    if live.name != *name {
                        self.warnings.push(format!(
                            "{address} ({id}) is named `{}` live; Landfall does not rename accounts",
                            live.name
                        ));
                    }
                    let live_parent = self
                        .index
                        .parent_target(&live.parent_id)
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| live.parent_id.clone());
                    let mut live_attrs = account_attrs(name, &spec.email, &parent, &live.tags);
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
                        Op::CreateAccount {
                            name: name.clone(),
                            email: spec.email.clone(),
                            tags: spec.tags.clone(),
                            parent: parent_ref,
                            role_name: self.desired.landing_zone.access_role.clone(),
                        }
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
    fn account_factory_op(
        &mut self,
        address: &Address,
        spec: &crate::model::AccountSpec,
        ou: Ref,
    ) -> Option<Op> {
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
        Some(Op::ProvisionAccount {
            product: self.account_factory_product(),
            name: spec.name.clone(),
            email: spec.email.clone(),
            ou_name: path.name().to_string(),
            ou,
            sso_user,
            tags: spec.tags.clone(),
        })
    }

    fn account_factory_product(&self) -> String {
        self.desired
            .landing_zone
            .control_tower
            .as_ref()
            .map(|ct| ct.account_factory_product.clone())
            .unwrap_or_else(|| crate::model::ACCOUNT_FACTORY_PRODUCT.to_string())
    }

    /// Moves an account: through its Account Factory provisioned product when it has
    /// one (so Control Tower keeps governing it), else with Organizations `MoveAccount`.
    fn move_op(
        &mut self,
        address: &Address,
        spec: &crate::model::AccountSpec,
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
            (true, Some(pp), Some(ou), Some(sso_user)) => Op::UpdateProvisionedAccount {
                provisioned_product_id: pp.provisioned_product_id.clone(),
                product: self.account_factory_product(),
                name: spec.name.clone(),
                email: spec.email.clone(),
                ou_name: ou.name().to_string(),
                ou: to,
                sso_user: sso_user.clone(),
            },
            (true, ..) => {
                self.warnings.push(format!(
                    "{address} was not provisioned by the Account Factory; it is moved with Organizations MoveAccount, and Control Tower may report it as drifted until it is enrolled"
                ));
                Op::MoveAccount {
                    from: Ref::Id(from.to_string()),
                    to,
                }
            }
            _ => Op::MoveAccount {
                from: Ref::Id(from.to_string()),
                to,
            },
        }
    }

    fn plan_policies(&mut self) {
        for (name, spec) in &self.desired.policies {
            let address = Address::Scp(name.clone());
            let attributes = declared_attrs(self.desired, &address).unwrap_or_default();
            match self.existing.get(&address).cloned() {
                Some(id) => {
                    let Some(live) = self.live.policies.get(&id) else {
                        continue;
                    };
                    let live_attrs = scp_attrs(&live.description, &live.content, &live.tags);
                    let diffs = diff_attrs(&live_attrs, &attributes, &[]);
                    let mut ops = Vec::new();
                    let description = diffs
                        .iter()
                        .any(|d| d.attribute == "description")
                        .then(|| spec.description.clone());
                    let content = diffs
                        .iter()
                        .any(|d| d.attribute == "content")
                        .then(|| spec.content.clone());
                    if description.is_some() || content.is_some() {
                        ops.push(Op::UpdatePolicy {
                            description,
                            content,
                        });
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
                        ops: vec![Op::CreatePolicy {
                            name: name.clone(),
                            description: spec.description.clone(),
                            content: spec.content.clone(),
                            tags: spec.tags.clone(),
                        }],
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

    fn plan_attachments(&mut self) {
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
        for att in &self.desired.attachments {
            let address = Address::Attachment(att.clone());
            let attributes = declared_attrs(self.desired, &address).unwrap_or_default();
            let policy_id = self.policy_id(&att.policy);
            let target_id = self.existing.get(&att.target.address()).cloned();
            if let (Some(p), Some(t)) = (&policy_id, &target_id)
                && self.live.attachments.contains(&(p.clone(), t.clone()))
            {
                let id = format!("{p}|{t}");
                if !self.in_state(&address, &id) {
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
            let reason = match self.state.resources.get(&address) {
                Some(_) => "detached outside Landfall; attaching again".to_string(),
                None => "declared; not attached yet".to_string(),
            };
            let created = match self.state.resources.get(&address) {
                Some(r) => r.created,
                None => true,
            };
            self.changes.push(Change {
                ops: vec![Op::Attach {
                    policy: self.policy_ref(&att.policy),
                    target: self.reference(att.target.address()),
                }],
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

    fn plan_removals(&mut self) {
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
            if declared.contains(address) || *address == Address::Root {
                continue;
            }
            if matches!(
                address,
                Address::Control(..) | Address::Portfolio(_) | Address::PortfolioShare(..)
            ) {
                continue; // planned by `governance`
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
            let change = match address {
                Address::Root => continue,
                Address::Ou(_) | Address::Scp(_) if !rec.created => {
                    forget("no longer declared; Landfall did not create it, so it is left in place")
                }
                Address::Ou(_) => Change {
                    ops: vec![Op::DeleteOu],
                    action: Action::Delete,
                    reason: "no longer declared; Landfall created it".into(),
                    ..forget("")
                },
                Address::Scp(name) => {
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
                        .map(|(p, t)| Op::Detach {
                            policy: Ref::Id(p.clone()),
                            target: Ref::Id(t.clone()),
                        })
                        .collect();
                    ops.push(Op::DeletePolicy);
                    Change {
                        ops,
                        action: Action::Delete,
                        reason: "no longer declared; Landfall created it".into(),
                        ..forget("")
                    }
                }
                Address::Account(_) => self.account_removal(address, rec),
                Address::Attachment(att) => {
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
                            ops: vec![Op::Detach {
                                policy: Ref::Id(p.to_string()),
                                target: Ref::Id(t.to_string()),
                            }],
                            action: Action::Delete,
                            reason: "no longer declared".into(),
                            ..forget("")
                        }
                    }
                }
                // Member-account resources are planned by `member`.
                _ => continue,
            };
            self.changes.push(change);
        }
    }

    fn account_removal(&self, address: &Address, rec: &crate::state::ResourceRecord) -> Change {
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
                ops: vec![Op::CloseAccount],
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
                    ops: vec![Op::MoveAccount {
                        from: Ref::Id(from),
                        to,
                    }],
                    reason: format!(
                        "no longer declared; quarantined in ou.{ou}, then forgotten (accounts are never closed by default)"
                    ),
                    diffs: vec![crate::attrs::AttrDiff {
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
    fn plan_prune(&mut self) {
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
        for (policy_id, target_id) in &self.live.attachments {
            let (Some(target), Some(policy)) = (
                managed_targets.get(target_id),
                self.live.policies.get(policy_id),
            ) else {
                continue;
            };
            let address = Address::Attachment(Attachment {
                policy: policy.name.clone(),
                target: target.clone(),
            });
            if known.contains(&address) {
                continue;
            }
            self.changes.push(Change {
                address,
                action: Action::Delete,
                reason: "attached outside Landfall to a managed target (prune_unmanaged)".into(),
                diffs: vec![],
                id: Some(format!("{policy_id}|{target_id}")),
                ops: vec![Op::Detach {
                    policy: Ref::Id(policy_id.clone()),
                    target: Ref::Id(target_id.clone()),
                }],
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
                    ops: vec![Op::DeleteOu],
                    record: Record::Remove,
                    member: None,
                    project: None,
                    depends_on: vec![],
                });
            }
        }
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

    /// AWS cannot move an OU: a declared OU whose name reappears under another parent
    /// is a replacement (create the new one, move the accounts, delete the old one).
    fn mark_ou_replacements(&mut self) {
        let deleted: Vec<(usize, OuPath)> = self
            .changes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.action == Action::Delete && c.ops.contains(&Op::DeleteOu))
            .filter_map(|(i, c)| match &c.address {
                Address::Ou(p) if self.state.resources.contains_key(&c.address) => {
                    Some((i, p.clone()))
                }
                _ => None,
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
    fn check_ou_deletions(&mut self) {
        let deleting: BTreeSet<String> = self
            .changes
            .iter()
            .filter(|c| c.ops.contains(&Op::DeleteOu))
            .filter_map(|c| c.id.clone())
            .collect();
        let moved_out: BTreeSet<String> = self
            .changes
            .iter()
            .filter(|c| {
                c.ops.iter().any(|o| {
                    matches!(
                        o,
                        Op::MoveAccount { .. } | Op::UpdateProvisionedAccount { .. }
                    )
                })
            })
            .filter_map(|c| c.id.clone())
            .collect();
        let mut problems = Vec::new();
        for change in self
            .changes
            .iter()
            .filter(|c| c.ops.contains(&Op::DeleteOu))
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

    /// Dependency edges `(before, after)` between changes.
    pub(crate) fn edges(&self) -> Vec<(usize, usize)> {
        let mut producers: HashMap<&Address, usize> = HashMap::new();
        let mut attaches_on: HashMap<Address, Vec<usize>> = HashMap::new();
        let mut detaches_of: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut target_deletes: HashMap<Address, usize> = HashMap::new();
        let mut moves_from: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut ou_delete_by_id: HashMap<&str, usize> = HashMap::new();
        for (i, c) in self.changes.iter().enumerate() {
            if matches!(c.action, Action::Create | Action::Adopt | Action::Replace) {
                producers.insert(&c.address, i);
            }
            if let Address::Attachment(att) = &c.address {
                if c.ops.iter().any(|o| matches!(o, Op::Attach { .. })) {
                    attaches_on.entry(att.target.address()).or_default().push(i);
                }
                if c.action == Action::Delete {
                    detaches_of.entry(att.policy.as_str()).or_default().push(i);
                }
            }
            if c.action == Action::Delete && matches!(c.address, Address::Ou(_)) {
                target_deletes.insert(c.address.clone(), i);
                if let Some(id) = &c.id {
                    ou_delete_by_id.insert(id.as_str(), i);
                }
            }
            for op in &c.ops {
                match op {
                    Op::MoveAccount {
                        from: Ref::Id(from),
                        ..
                    } => moves_from.entry(from.as_str()).or_default().push(i),
                    Op::UpdateProvisionedAccount { .. } => {
                        if let Some(a) = c.id.as_deref().and_then(|id| self.live.accounts.get(id)) {
                            moves_from.entry(a.parent_id.as_str()).or_default().push(i);
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut edges = crate::member::member_edges(&self.changes);
        edges.extend(crate::governance::governance_edges(&self.changes));
        for (i, c) in self.changes.iter().enumerate() {
            if let Some(crate::plan::MemberRef {
                account: Ref::Address(a),
                ..
            }) = &c.member
                && let Some(&p) = producers.get(a)
            {
                edges.push((p, i));
            }
            for op in &c.ops {
                for r in op.refs() {
                    if let Ref::Address(a) = r
                        && let Some(&p) = producers.get(a)
                        && p != i
                    {
                        edges.push((p, i));
                    }
                }
            }
            match (&c.address, c.action) {
                (Address::Attachment(att), Action::Delete) => {
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
                (Address::Scp(name), Action::Delete) => {
                    for &d in detaches_of.get(name.as_str()).into_iter().flatten() {
                        edges.push((d, i));
                    }
                }
                (Address::Ou(_), Action::Delete) => {
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
                _ => {}
            }
        }
        edges.sort_unstable();
        edges.dedup();
        edges
    }
}

fn push_tag_ops(ops: &mut Vec<Op>, diffs: &[crate::attrs::AttrDiff]) {
    let (set, remove) = tag_changes(diffs);
    if !set.is_empty() {
        ops.push(Op::Tag { tags: set });
    }
    if !remove.is_empty() {
        ops.push(Op::Untag { keys: remove });
    }
}
