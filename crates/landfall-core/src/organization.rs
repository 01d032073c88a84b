//! The organization family: the root, OUs, accounts, SCPs and their attachments, as
//! AWS Organizations keeps them. Their attributes; matching a desired resource to a
//! live one by the state's id or by natural key (an OU by parent and name, an account by
//! email, an SCP by name, an attachment by policy and target); planning (an OU moved to
//! a new parent is a replacement, removed accounts follow `account_removal`,
//! `prune_unmanaged`); ordering edges; drift; `apply --refresh-only`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};

use crate::address::{Address, Attachment, FULL_AWS_ACCESS, OuPath, Target};
use crate::attrs::{AttrDiff, Attrs, diff_attrs, tag_changes, tags_value};
use crate::drift_report::{DriftClass, Finding};
use crate::kind::OrganizationKind;
use crate::live::{AccountStatus, LiveIndex, LiveState};
use crate::model::{AccountRemoval, DesiredState, Tags, minify_json};
use crate::plan::{Action, Change, GovernanceOp, Op, OrganizationOp, Record, Ref};
use crate::planner::{PlanFamily, PlanProblem, Planner};
use crate::state::{ResourceRecord, StateFile};

pub fn ou_attrs(name: &str, tags: &Tags) -> Attrs {
    Attrs::from([
        ("name".into(), json!(name)),
        ("tags".into(), tags_value(tags)),
    ])
}

pub fn account_attrs(name: &str, email: &str, parent: &Target, tags: &Tags) -> Attrs {
    Attrs::from([
        ("name".into(), json!(name)),
        ("email".into(), json!(email)),
        ("ou".into(), json!(parent.to_string())),
        ("tags".into(), tags_value(tags)),
    ])
}

pub fn scp_attrs(description: &str, content: &str, tags: &Tags) -> Attrs {
    let content = minify_json(content).unwrap_or_else(|_| content.to_string());
    Attrs::from([
        ("description".into(), json!(description)),
        ("content".into(), json!(content)),
        ("tags".into(), tags_value(tags)),
    ])
}

/// The declared attributes of an organization resource, `None` when it is not declared.
pub fn declared_attrs(desired: &DesiredState, address: &Address) -> Option<Attrs> {
    match address.organization_kind()? {
        OrganizationKind::Root => Some(Attrs::new()),
        OrganizationKind::Ou(path) => desired
            .ous
            .get(path)
            .map(|spec| ou_attrs(path.name(), &spec.tags)),
        OrganizationKind::Account(name) => desired.accounts.get(name).map(|spec| {
            let mut a = account_attrs(name, &spec.email, &desired.account_parent(spec), &spec.tags);
            a.insert("allow_close".into(), json!(spec.allow_close));
            a
        }),
        OrganizationKind::Scp(name) => desired
            .policies
            .get(name)
            .map(|spec| scp_attrs(&spec.description, &spec.content, &spec.tags)),
        OrganizationKind::Attachment(att) => desired.attachments.contains(att).then(|| {
            Attrs::from([
                ("policy".into(), json!(att.policy)),
                ("target".into(), json!(att.target.to_string())),
            ])
        }),
    }
}

/// Whether the organization resource recorded under `id` still exists live.
pub fn exists_live(live: &LiveState, address: &Address, id: &str) -> bool {
    let Some(kind) = address.organization_kind() else {
        return false;
    };
    match kind {
        OrganizationKind::Root => id == live.root_id,
        OrganizationKind::Ou(_) => live.ous.contains_key(id),
        OrganizationKind::Account(_) => live.accounts.contains_key(id),
        OrganizationKind::Scp(_) => live.policies.contains_key(id),
        OrganizationKind::Attachment(_) => id
            .split_once('|')
            .is_some_and(|(p, t)| live.attachments.contains(&(p.into(), t.into()))),
    }
}

/// The live attributes of a recorded organization resource for `apply --refresh-only`:
/// `None` when there is nothing to accept (the root), `Some(None)` when it is gone.
pub fn accepted_live(
    live: &LiveState,
    index: &LiveIndex<'_>,
    address: &Address,
    rec: &ResourceRecord,
) -> Option<Option<Attrs>> {
    Some(match address.organization_kind()? {
        OrganizationKind::Root => return None,
        OrganizationKind::Ou(_) => live.ous.get(&rec.id).map(|ou| ou_attrs(&ou.name, &ou.tags)),
        OrganizationKind::Account(_) => live.accounts.get(&rec.id).map(|a| {
            let mut attrs = rec.attributes.clone();
            let parent = index
                .parent_target(&a.parent_id)
                .map(|t| t.to_string())
                .unwrap_or_else(|| a.parent_id.clone());
            attrs.insert("ou".into(), Value::from(parent));
            attrs.insert("tags".into(), serde_json::json!(a.tags));
            attrs
        }),
        OrganizationKind::Scp(_) => live
            .policies
            .get(&rec.id)
            .map(|p| scp_attrs(&p.description, &p.content, &p.tags)),
        OrganizationKind::Attachment(_) => {
            let attached = rec
                .id
                .split_once('|')
                .is_some_and(|(p, t)| live.attachments.contains(&(p.into(), t.into())));
            attached.then(|| rec.attributes.clone())
        }
    })
}

/// Drift of the organization: recorded resources changed, moved or gone, and what was
/// created or attached outside Landfall inside the managed scope.
pub fn drift_findings(live: &LiveState, state: &StateFile) -> Vec<Finding> {
    let index = LiveIndex::new(live);
    let mut findings = Vec::new();
    let mut push =
        |class, address: &Address, id: Option<&str>, ct: Option<String>, message: String, diffs| {
            findings.push(Finding {
                class,
                address: address.clone(),
                id: id.map(str::to_string),
                control_tower_drift_type: ct,
                message,
                diffs,
            });
        };

    // What the last apply recorded, checked against live.
    for (address, rec) in &state.resources {
        let id = rec.id.as_str();
        let compare = |live_attrs: Attrs| {
            diff_attrs(&rec.attributes, &live_attrs, &[])
                .into_iter()
                .filter(|d| d.attribute != "allow_close")
                .collect::<Vec<_>>()
        };
        let Some(kind) = address.organization_kind() else {
            continue;
        };
        match kind {
            OrganizationKind::Root => {}
            OrganizationKind::Ou(_) => match live.ous.get(id) {
                None => push(
                    DriftClass::Missing,
                    address,
                    Some(id),
                    Some("OU_DELETED".into()),
                    "deleted outside Landfall".into(),
                    vec![],
                ),
                Some(ou) => {
                    let diffs = compare(ou_attrs(&ou.name, &ou.tags));
                    if !diffs.is_empty() {
                        let ct = diffs
                            .iter()
                            .any(|d| d.attribute == "name")
                            .then(|| "OU_RENAMED".to_string());
                        push(
                            DriftClass::Changed,
                            address,
                            Some(id),
                            ct,
                            "changed outside Landfall".into(),
                            diffs,
                        );
                    }
                }
            },
            OrganizationKind::Account(_) => match live.accounts.get(id) {
                None => push(
                    DriftClass::Missing,
                    address,
                    Some(id),
                    Some("ACCOUNT_REMOVED_FROM_ORGANIZATION".into()),
                    "no longer in the organization".into(),
                    vec![],
                ),
                Some(acct) => {
                    let parent = index
                        .parent_target(&acct.parent_id)
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| acct.parent_id.clone());
                    let recorded_parent = rec
                        .attributes
                        .get("ou")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    // Compare by id: a renamed OU changes the path, not the parent.
                    let recorded_parent_id = match recorded_parent.parse::<Address>() {
                        Ok(Address::Root) => Some(live.root_id.as_str()),
                        Ok(a) => state.id_of(&a),
                        Err(_) => None,
                    };
                    if recorded_parent_id != Some(acct.parent_id.as_str()) {
                        push(
                            DriftClass::Moved,
                            address,
                            Some(id),
                            Some("ACCOUNT_MOVED_BETWEEN_OUS".into()),
                            format!("moved from {recorded_parent} to {parent} outside Landfall"),
                            vec![AttrDiff {
                                attribute: "ou".into(),
                                before: Some(Value::from(recorded_parent)),
                                after: Some(Value::from(parent)),
                            }],
                        );
                    }
                    let mut live_attrs = rec.attributes.clone();
                    live_attrs.insert("tags".into(), serde_json::json!(acct.tags));
                    let diffs: Vec<_> = compare(live_attrs)
                        .into_iter()
                        .filter(|d| d.attribute != "ou")
                        .collect();
                    if !diffs.is_empty() {
                        push(
                            DriftClass::Changed,
                            address,
                            Some(id),
                            None,
                            "tags changed outside Landfall".into(),
                            diffs,
                        );
                    }
                    if acct.status != AccountStatus::Active {
                        push(
                            DriftClass::Changed,
                            address,
                            Some(id),
                            None,
                            format!("the account is {:?} (closed outside Landfall)", acct.status),
                            vec![],
                        );
                    }
                }
            },
            OrganizationKind::Scp(_) => match live.policies.get(id) {
                None => push(
                    DriftClass::Missing,
                    address,
                    Some(id),
                    Some("SCP_DELETED".into()),
                    "deleted outside Landfall".into(),
                    vec![],
                ),
                Some(p) => {
                    let diffs = compare(scp_attrs(&p.description, &p.content, &p.tags));
                    if !diffs.is_empty() {
                        push(
                            DriftClass::Changed,
                            address,
                            Some(id),
                            Some("SCP_UPDATED".into()),
                            "changed outside Landfall".into(),
                            diffs,
                        );
                    }
                }
            },
            OrganizationKind::Attachment(att) => {
                let attached = id
                    .split_once('|')
                    .is_some_and(|(p, t)| live.attachments.contains(&(p.into(), t.into())));
                if !attached {
                    push(
                        DriftClass::Missing,
                        address,
                        Some(id),
                        Some(format!("SCP_DETACHED_FROM_{}", target_kind(&att.target))),
                        format!(
                            "{} was detached from {} outside Landfall",
                            att.policy, att.target
                        ),
                        vec![],
                    );
                }
            }
        }
    }

    // Unmanaged: live resources inside the managed scope that the state does not know.
    let known_ids: BTreeSet<&str> = state.resources.values().map(|r| r.id.as_str()).collect();
    if state.resources.contains_key(&Address::Root) {
        let mut scope: BTreeMap<&str, Target> = BTreeMap::new();
        scope.insert(live.root_id.as_str(), Target::Root);
        for (address, rec) in &state.resources {
            match address.organization_kind() {
                Some(OrganizationKind::Ou(p)) => {
                    if live.ous.contains_key(&rec.id) {
                        scope.insert(rec.id.as_str(), Target::Ou(p.clone()));
                    }
                }
                Some(OrganizationKind::Account(a)) => {
                    if live.accounts.contains_key(&rec.id) {
                        scope.insert(rec.id.as_str(), Target::Account(a.to_string()));
                    }
                }
                Some(
                    OrganizationKind::Root
                    | OrganizationKind::Scp(_)
                    | OrganizationKind::Attachment(_),
                )
                | None => {}
            }
        }
        for (policy_id, target_id) in &live.attachments {
            let Some(target) = scope.get(target_id.as_str()) else {
                continue;
            };
            if known_ids.contains(format!("{policy_id}|{target_id}").as_str()) {
                continue;
            }
            let name = live
                .policies
                .get(policy_id)
                .map(|p| p.name.clone())
                .unwrap_or_else(|| policy_id.clone());
            let address = Address::attachment(&name, target.clone());
            push(
                DriftClass::Unmanaged,
                &address,
                Some(&format!("{policy_id}|{target_id}")),
                Some(format!("SCP_ATTACHED_TO_{}", target_kind(target))),
                format!("{name} was attached to {target} outside Landfall"),
                vec![],
            );
        }
        for ou in live.ous.values() {
            if known_ids.contains(ou.id.as_str())
                || matches!(
                    scope.get(ou.parent_id.as_str()),
                    None | Some(Target::Account(_))
                )
            {
                continue;
            }
            let path = index
                .ou_path(&ou.id)
                .map(|p| p.to_string())
                .unwrap_or_else(|| ou.name.clone());
            let address: Address = Address::Ou(crate::address::OuPath::new(path));
            push(
                DriftClass::Unmanaged,
                &address,
                Some(&ou.id),
                None,
                "created outside Landfall in a managed OU".into(),
                vec![],
            );
        }
        for acct in live.accounts.values() {
            if acct.id == live.management_account_id || known_ids.contains(acct.id.as_str()) {
                continue;
            }
            if matches!(
                scope.get(acct.parent_id.as_str()),
                None | Some(Target::Account(_))
            ) {
                continue;
            }
            push(
                DriftClass::Unmanaged,
                &Address::Account(acct.name.clone()),
                Some(&acct.id),
                None,
                format!(
                    "account {} ({}) is in a managed OU but not declared",
                    acct.name, acct.email
                ),
                vec![],
            );
        }
    }
    findings
}

/// The organization family's planner: see the module documentation.
pub(crate) struct OrganizationFamily;

impl PlanFamily for OrganizationFamily {
    fn declared_attrs(
        &self,
        desired: &DesiredState,
        address: &Address,
        _account_id: Option<&str>,
    ) -> Option<Attrs> {
        declared_attrs(desired, address)
    }

    fn accepted_live(
        &self,
        live: &LiveState,
        index: &LiveIndex<'_>,
        address: &Address,
        rec: &ResourceRecord,
    ) -> Option<Option<Attrs>> {
        accepted_live(live, index, address, rec)
    }

    fn plan(&self, p: &mut Planner<'_>) {
        p.match_existing();
        p.plan_root();
        p.plan_ous();
        p.plan_accounts();
        p.plan_policies();
        p.plan_attachments();
        p.plan_removals();
    }

    fn prune(&self, p: &mut Planner<'_>) {
        p.plan_prune();
    }

    fn review(&self, p: &mut Planner<'_>) {
        p.mark_ou_replacements();
        p.check_ou_deletions();
    }

    fn edges(&self, p: &Planner<'_>) -> Vec<(usize, usize)> {
        p.organization_edges()
    }

    fn drift(&self, live: &LiveState, state: &StateFile) -> Vec<Finding> {
        drift_findings(live, state)
    }
}

fn target_kind(target: &Target) -> &'static str {
    match target {
        Target::Root => "ROOT",
        Target::Ou(_) => "OU",
        Target::Account(_) => "ACCOUNT",
    }
}

impl Planner<'_> {
    /// The state's id for `address` if that id still exists live.
    /// The state's id for an organization resource if that id still exists live.
    fn state_id_live(&self, address: &Address) -> Option<String> {
        let id = self.state.id_of(address)?;
        exists_live(self.live, address, id).then(|| id.to_string())
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
                        Op::Organization(OrganizationOp::CreateAccount {
                            name: name.clone(),
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
        Some(Op::Governance(GovernanceOp::ProvisionAccount {
            product: self.account_factory_product(),
            name: spec.name.clone(),
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
            (true, Some(pp), Some(ou), Some(sso_user)) => {
                Op::Governance(GovernanceOp::UpdateProvisionedAccount {
                    provisioned_product_id: pp.provisioned_product_id.clone(),
                    product: self.account_factory_product(),
                    name: spec.name.clone(),
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
                        ops.push(Op::Organization(OrganizationOp::UpdatePolicy {
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
                            name: name.clone(),
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
                ops: vec![Op::Organization(OrganizationOp::Attach {
                    policy: self.policy_ref(&att.policy),
                    target: self.reference(att.target.address()),
                })],
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
    fn check_ou_deletions(&mut self) {
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

    /// Ordering the references do not give: never leave a target without an SCP
    /// (attach before detach), detach before a policy is deleted, an attachment removed
    /// with its target after the target, and an OU deleted after its accounts moved
    /// out and its child OUs are gone.
    pub(crate) fn organization_edges(&self) -> Vec<(usize, usize)> {
        let mut attaches_on: HashMap<Address, Vec<usize>> = HashMap::new();
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
                // Accounts close after nothing, the root is never deleted.
                OrganizationKind::Account(_) | OrganizationKind::Root => {}
            }
        }
        edges
    }
}

fn push_tag_ops(ops: &mut Vec<Op>, diffs: &[crate::attrs::AttrDiff]) {
    let (set, remove) = tag_changes(diffs);
    if !set.is_empty() {
        ops.push(Op::Organization(OrganizationOp::Tag { tags: set }));
    }
    if !remove.is_empty() {
        ops.push(Op::Organization(OrganizationOp::Untag { keys: remove }));
    }
}
