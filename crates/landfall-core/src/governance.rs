//! The governance layer: Control Tower controls on OUs and Service Catalog portfolios
//! with their shares — planning, attributes and drift. Account Factory accounts are
//! planned with the other accounts (`diff.rs`); this module only finds their
//! provisioned products.
//!
//! Identities: an enabled control is recorded by its enabled-control ARN, a portfolio
//! by its `port-...` id, a share by `PORTFOLIO_ID|TARGET` where the target is `org`, an
//! OU id or an account id. Pure, like the rest of the planner.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::address::{Address, Target};
use crate::attrs::{AttrDiff, Attrs, diff_attrs, tag_changes, tags_value};
use crate::drift_report::{DriftClass, Finding};
use crate::kind::GovernanceKind;
use crate::live::{
    ControlStatus, LiveEnabledControl, LivePortfolio, LivePortfolioShare, LiveProvisionedAccount,
    LiveState, ShareTarget,
};
use crate::live::{GovernanceScope, LiveIndex};
use crate::model::{ControlSpec, DesiredState, PortfolioSpec};
use crate::plan::{Action, Change, GovernanceOp, Op, Record, Ref, ShareRef};
use crate::planner::{PlanFamily, Planner};
use crate::state::{ResourceRecord, StateFile};

/// The attributes recorded for a control.
pub fn control_attrs(spec: &ControlSpec) -> Attrs {
    Attrs::from([
        ("control".into(), json!(spec.arn)),
        ("ou".into(), json!(format!("ou.{}", spec.ou))),
        ("parameters".into(), json!(spec.parameters)),
    ])
}

fn live_control_attrs(live: &LiveEnabledControl, ou: &str) -> Attrs {
    Attrs::from([
        ("control".into(), json!(live.control_arn)),
        ("ou".into(), json!(ou)),
        ("parameters".into(), json!(live.parameters)),
    ])
}

/// The attributes recorded for a portfolio (an existing one named by id records only
/// its id: Landfall never changes it).
pub fn portfolio_attrs(spec: &PortfolioSpec) -> Attrs {
    match &spec.existing_id {
        Some(id) => Attrs::from([("id".into(), json!(id))]),
        None => Attrs::from([
            ("display_name".into(), json!(spec.display_name)),
            ("provider".into(), json!(spec.provider)),
            ("description".into(), json!(spec.description)),
            ("tags".into(), tags_value(&spec.tags)),
        ]),
    }
}

fn live_portfolio_attrs(live: &LivePortfolio) -> Attrs {
    Attrs::from([
        ("display_name".into(), json!(live.display_name)),
        ("provider".into(), json!(live.provider)),
        ("description".into(), json!(live.description)),
        ("tags".into(), tags_value(&live.tags)),
    ])
}

pub fn share_attrs(portfolio: &str, target: &Target, share_tag_options: bool) -> Attrs {
    Attrs::from([
        ("portfolio".into(), json!(portfolio)),
        ("target".into(), json!(share_target_text(target))),
        ("share_tag_options".into(), json!(share_tag_options)),
    ])
}

fn share_target_text(target: &Target) -> String {
    match target {
        Target::Root => "organization".into(),
        other => other.to_string(),
    }
}

/// The declared attributes of a governance address, `None` when it is not declared.
pub fn declared_attrs(desired: &DesiredState, address: &Address) -> Option<Attrs> {
    match address.governance_kind()? {
        GovernanceKind::Control(..) => desired
            .controls
            .iter()
            .find(|c| c.address() == *address)
            .map(control_attrs),
        GovernanceKind::Portfolio(name) => desired.portfolios.get(name).map(portfolio_attrs),
        GovernanceKind::PortfolioShare(name, target) => {
            let p = desired.portfolios.get(name)?;
            p.shares
                .contains(target)
                .then(|| share_attrs(name, target, p.share_tag_options))
        }
    }
}

/// The state id of a share.
pub fn share_id(portfolio_id: &str, target: &ShareTarget) -> String {
    format!("{portfolio_id}|{}", target.key())
}

fn find_share<'a>(live: &'a LiveState, id: &str) -> Option<&'a LivePortfolioShare> {
    let (p, key) = id.split_once('|')?;
    live.governance
        .portfolio_shares
        .iter()
        .find(|s| s.portfolio_id == p && s.target.key() == key)
}

/// Whether the resource recorded under `id` still exists live.
pub fn exists_live(live: &LiveState, address: &Address, id: &str) -> bool {
    let Some(kind) = address.governance_kind() else {
        return false;
    };
    match kind {
        GovernanceKind::Control(..) => live.governance.enabled_controls.iter().any(|c| c.arn == id),
        GovernanceKind::Portfolio(_) => live.governance.portfolios.contains_key(id),
        GovernanceKind::PortfolioShare(..) => find_share(live, id).is_some(),
    }
}

/// True when the desired state or the state file has anything of the governance layer,
/// so the refresh must read it.
pub fn needs_governance(desired: &DesiredState, state: Option<&StateFile>) -> bool {
    let in_state = state.is_some_and(|s| {
        s.resources.keys().any(|a| {
            matches!(
                a,
                Address::Control(..) | Address::Portfolio(_) | Address::PortfolioShare(..)
            )
        })
    });
    in_state
        || !desired.controls.is_empty()
        || !desired.portfolios.is_empty()
        || desired.uses_account_factory()
}

/// What the refresh reads of the governance layer: the enabled controls of every OU a
/// declared or recorded control is on (by the OU ids `live` knows), portfolios when any
/// are declared or recorded, and the Account Factory's accounts in that mode.
pub fn governance_scope(
    desired: &DesiredState,
    state: Option<&StateFile>,
    live: &LiveState,
) -> GovernanceScope {
    let index = crate::live::LiveIndex::new(live);
    let mut targets: BTreeSet<String> = desired
        .controls
        .iter()
        .filter_map(|c| index.ou_id(&c.ou).map(str::to_string))
        .collect();
    let mut portfolios = !desired.portfolios.is_empty();
    if let Some(state) = state {
        for address in state.resources.keys() {
            let Some(kind) = address.governance_kind() else {
                continue;
            };
            match kind {
                GovernanceKind::Control(_, ou) => {
                    if let Some(id) = index.ou_id(ou) {
                        targets.insert(id.to_string());
                    }
                    // The OU may have been renamed: the recorded attributes keep its path
                    // only, so the id comes from the state's own OU record.
                    if let Some(ou_rec) = state.resources.get(&Address::Ou(ou.clone())) {
                        targets.insert(ou_rec.id.clone());
                    }
                }
                GovernanceKind::Portfolio(_) | GovernanceKind::PortfolioShare(..) => {
                    portfolios = true
                }
            }
        }
    }
    GovernanceScope {
        control_targets: targets
            .into_iter()
            .filter(|id| live.ous.contains_key(id))
            .collect(),
        portfolios,
        account_factory: desired
            .uses_account_factory()
            .then(|| {
                desired
                    .landing_zone
                    .control_tower
                    .as_ref()
                    .map(|ct| ct.account_factory_product.clone())
            })
            .flatten(),
    }
}

/// The Account Factory provisioned product of an account id, if any.
pub fn provisioned_account<'a>(
    live: &'a LiveState,
    account_id: &str,
) -> Option<&'a LiveProvisionedAccount> {
    live.governance
        .provisioned_accounts
        .iter()
        .find(|p| p.account_id.as_deref() == Some(account_id))
}

/// A live share's target as a reference to existing ids.
fn live_share_ref(target: &ShareTarget) -> ShareRef {
    match target {
        ShareTarget::Organization => ShareRef::Organization,
        ShareTarget::OrganizationalUnit(id) => ShareRef::OrganizationalUnit(Ref::Id(id.clone())),
        ShareTarget::Account(id) => ShareRef::Account(Ref::Id(id.clone())),
    }
}

fn change(address: Address, action: Action, reason: String) -> Change {
    Change {
        address,
        action,
        reason,
        diffs: vec![],
        id: None,
        member: None,
        project: None,
        ops: vec![],
        record: Record::Remove,
        depends_on: vec![],
    }
}

impl Planner<'_> {
    fn share_ref(&self, target: &Target) -> ShareRef {
        match target {
            Target::Root => ShareRef::Organization,
            Target::Ou(p) => ShareRef::OrganizationalUnit(self.reference(Address::Ou(p.clone()))),
            Target::Account(a) => ShareRef::Account(self.reference(Address::Account(a.clone()))),
        }
    }

    fn live_share_target(&self, target: &Target) -> Option<ShareTarget> {
        match target {
            Target::Root => Some(ShareTarget::Organization),
            Target::Ou(p) => self
                .existing
                .get(&Address::Ou(p.clone()))
                .map(|id| ShareTarget::OrganizationalUnit(id.clone())),
            Target::Account(a) => self
                .existing
                .get(&Address::Account(a.clone()))
                .map(|id| ShareTarget::Account(id.clone())),
        }
    }

    pub(crate) fn plan_governance(&mut self) {
        let needed = !self.desired.controls.is_empty()
            || !self.desired.portfolios.is_empty()
            || self.state.resources.keys().any(|a| {
                matches!(
                    a,
                    Address::Control(..) | Address::Portfolio(_) | Address::PortfolioShare(..)
                )
            });
        if !needed {
            return;
        }
        if !self.live.governance.read {
            self.problem(
                Address::Root,
                "the live Control Tower and Service Catalog state was not read".into(),
                Some("this is a bug in the backend wiring; please report it"),
            );
            return;
        }
        self.plan_controls();
        self.plan_portfolios();
        self.plan_shares();
        self.plan_governance_removals();
    }

    fn plan_controls(&mut self) {
        for spec in &self.desired.controls {
            let address = spec.address();
            let attributes = control_attrs(spec);
            let ou_address = Address::Ou(spec.ou.clone());
            let ou_id = self.existing.get(&ou_address).cloned();
            let live = ou_id.as_deref().and_then(|ou_id| {
                self.live.governance.enabled_controls.iter().find(|c| {
                    c.target_id == ou_id
                        && (c.control_arn == spec.arn || c.short_id() == spec.control)
                })
            });
            match live {
                Some(live) => {
                    let live_attrs = live_control_attrs(live, &format!("ou.{}", spec.ou));
                    // Compare the control by what it is, not how it was named.
                    let diffs = diff_attrs(&live_attrs, &attributes, &["parameters"]);
                    let repair = match (live.status, live.drifted) {
                        (ControlStatus::Failed, _) => {
                            Some("its last Control Tower operation failed; resetting it")
                        }
                        (_, true) => Some("Control Tower reports it drifted; resetting it"),
                        _ => None,
                    };
                    // Control Tower refuses to update a drifted control: reset first.
                    let mut ops = Vec::new();
                    if repair.is_some() {
                        ops.push(Op::Governance(GovernanceOp::ResetEnabledControl));
                    }
                    if !diffs.is_empty() {
                        ops.push(Op::Governance(GovernanceOp::UpdateEnabledControl {
                            parameters: spec.parameters.clone(),
                        }));
                    }
                    let id = live.arn.clone();
                    let known = self.in_state(&address, &id);
                    let n = self.changes.len();
                    self.existing_change(address, id, diffs, ops, false, attributes);
                    if let (Some(reason), true, Some(c)) = (repair, known, self.changes.get_mut(n))
                    {
                        c.reason = reason.to_string();
                    }
                }
                None => {
                    let reason = match self.state.resources.get(&address) {
                        Some(r) => format!(
                            "disabled outside Landfall (it was {}); enabling it again",
                            r.id
                        ),
                        None => "declared; not enabled yet".to_string(),
                    };
                    let mut c = change(address, Action::Create, reason);
                    c.diffs = diff_attrs(&Attrs::new(), &attributes, &[]);
                    c.ops = vec![Op::Governance(GovernanceOp::EnableControl {
                        control_arn: spec.arn.clone(),
                        ou: self.reference(ou_address),
                        parameters: spec.parameters.clone(),
                    })];
                    c.record = Record::Upsert {
                        created: true,
                        attributes,
                    };
                    self.changes.push(c);
                }
            }
        }
    }

    fn plan_portfolios(&mut self) {
        for (name, spec) in &self.desired.portfolios {
            let address = Address::Portfolio(name.clone());
            let attributes = portfolio_attrs(spec);
            let portfolios = &self.live.governance.portfolios;
            if let Some(id) = &spec.existing_id {
                if !portfolios.contains_key(id) {
                    self.problem(
                        address,
                        format!("portfolio {id} does not exist in the management account's home region"),
                        Some("check the id (Service Catalog → Portfolios), or declare the portfolio without `id` so Landfall creates it"),
                    );
                    continue;
                }
                self.existing.insert(address.clone(), id.clone());
                self.existing_change(address, id.clone(), vec![], vec![], false, attributes);
                continue;
            }
            let by_state = self
                .state
                .id_of(&address)
                .filter(|id| portfolios.contains_key(*id))
                .map(str::to_string);
            let by_name = || {
                portfolios
                    .values()
                    .find(|p| p.display_name == spec.display_name && p.provider == spec.provider)
                    .map(|p| p.id.clone())
            };
            match by_state.or_else(by_name) {
                Some(id) => {
                    self.existing.insert(address.clone(), id.clone());
                    let Some(live) = portfolios.get(&id) else {
                        continue;
                    };
                    let diffs = diff_attrs(&live_portfolio_attrs(live), &attributes, &[]);
                    let mut ops = Vec::new();
                    let changed = |attr: &str| diffs.iter().any(|d| d.attribute == attr);
                    let (add_tags, remove_tags) = tag_changes(&diffs);
                    if changed("display_name")
                        || changed("provider")
                        || changed("description")
                        || !add_tags.is_empty()
                        || !remove_tags.is_empty()
                    {
                        ops.push(Op::Governance(GovernanceOp::UpdatePortfolio {
                            display_name: changed("display_name")
                                .then(|| spec.display_name.clone()),
                            provider_name: changed("provider").then(|| spec.provider.clone()),
                            description: changed("description").then(|| spec.description.clone()),
                            add_tags,
                            remove_tags,
                        }));
                    }
                    self.existing_change(address, id, diffs, ops, false, attributes);
                }
                None => {
                    let reason = self.created_reason(&address);
                    let mut c = change(address, Action::Create, reason);
                    c.diffs = diff_attrs(&Attrs::new(), &attributes, &[]);
                    c.ops = vec![Op::Governance(GovernanceOp::CreatePortfolio {
                        display_name: spec.display_name.clone(),
                        provider_name: spec.provider.clone(),
                        description: spec.description.clone(),
                        tags: spec.tags.clone(),
                    })];
                    c.record = Record::Upsert {
                        created: true,
                        attributes,
                    };
                    self.changes.push(c);
                }
            }
        }
    }

    fn plan_shares(&mut self) {
        for (name, spec) in &self.desired.portfolios {
            let portfolio_address = Address::Portfolio(name.clone());
            let portfolio_id = self.existing.get(&portfolio_address).cloned();
            for target in &spec.shares {
                let address = Address::PortfolioShare(name.clone(), target.clone());
                let attributes = share_attrs(name, target, spec.share_tag_options);
                let live = portfolio_id.as_deref().and_then(|pid| {
                    let t = self.live_share_target(target)?;
                    self.live
                        .governance
                        .portfolio_shares
                        .iter()
                        .find(|s| s.portfolio_id == pid && s.target == t)
                });
                let share = Op::Governance(GovernanceOp::SharePortfolio {
                    portfolio: self.reference(portfolio_address.clone()),
                    target: self.share_ref(target),
                    share_tag_options: spec.share_tag_options,
                });
                match live {
                    Some(live) => {
                        let id = share_id(&live.portfolio_id, &live.target);
                        if !live.accepted {
                            self.warnings.push(format!(
                                "{address} is not accepted yet: the recipient account must accept (import) the portfolio before its users see it"
                            ));
                        }
                        let live_attrs = share_attrs(name, target, live.share_tag_options);
                        let diffs = diff_attrs(&live_attrs, &attributes, &[]);
                        let ops = if diffs.is_empty() {
                            vec![]
                        } else {
                            // TagOptions sharing is set when a share is made: share again.
                            vec![
                                Op::Governance(GovernanceOp::UnsharePortfolio {
                                    portfolio: Ref::Id(live.portfolio_id.clone()),
                                    target: self.share_ref(target),
                                }),
                                share,
                            ]
                        };
                        self.existing_change(address, id, diffs, ops, false, attributes);
                    }
                    None => {
                        let reason = match self.state.resources.get(&address) {
                            Some(_) => "unshared outside Landfall; sharing again".to_string(),
                            None => "declared; not shared yet".to_string(),
                        };
                        let created = self
                            .state
                            .resources
                            .get(&address)
                            .map(|r| r.created)
                            .unwrap_or(true);
                        let mut c = change(address, Action::Create, reason);
                        c.diffs = diff_attrs(&Attrs::new(), &attributes, &[]);
                        c.ops = vec![share];
                        c.record = Record::Upsert {
                            created,
                            attributes,
                        };
                        self.changes.push(c);
                    }
                }
            }
        }
    }

    fn plan_governance_removals(&mut self) {
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

/// The live attributes of a recorded governance resource, `None` when it is gone
/// (for `apply --refresh-only`).
pub fn live_attrs(live: &LiveState, address: &Address, rec: &ResourceRecord) -> Option<Attrs> {
    match address.governance_kind()? {
        GovernanceKind::Control(..) => {
            let c = live
                .governance
                .enabled_controls
                .iter()
                .find(|c| c.arn == rec.id)?;
            let ou = rec
                .attributes
                .get("ou")
                .and_then(Value::as_str)
                .unwrap_or_default();
            Some(live_control_attrs(c, ou))
        }
        GovernanceKind::Portfolio(_) => {
            let p = live.governance.portfolios.get(&rec.id)?;
            Some(if rec.attributes.contains_key("id") {
                rec.attributes.clone()
            } else {
                live_portfolio_attrs(p)
            })
        }
        GovernanceKind::PortfolioShare(..) => {
            let s = find_share(live, &rec.id)?;
            let mut attrs = rec.attributes.clone();
            attrs.insert("share_tag_options".into(), json!(s.share_tag_options));
            Some(attrs)
        }
    }
}

/// Ordering the generic reference edges do not give: a control is disabled and a
/// share removed before the OU or account they concern goes, and a portfolio's shares
/// are removed before the portfolio.
pub(crate) fn governance_edges(changes: &[Change]) -> Vec<(usize, usize)> {
    let mut edges = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        if c.action != Action::Delete {
            continue;
        }
        let Some(kind) = c.address.governance_kind() else {
            continue;
        };
        let before: Vec<Address> = match kind {
            GovernanceKind::Control(_, ou) => vec![Address::Ou(ou.clone())],
            GovernanceKind::PortfolioShare(p, target) => {
                vec![Address::Portfolio(p.to_string()), target.address()]
            }
            // A portfolio's shares go before it (the edge above, from the share).
            GovernanceKind::Portfolio(_) => continue,
        };
        for (j, other) in changes.iter().enumerate() {
            let removes = matches!(other.action, Action::Delete | Action::Close);
            if j != i && removes && before.contains(&other.address) {
                edges.push((i, j));
            }
        }
    }
    edges
}

/// The governance family's planner: Control Tower controls, Service Catalog portfolios
/// and their shares.
pub(crate) struct GovernanceFamily;

impl PlanFamily for GovernanceFamily {
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
        _index: &LiveIndex<'_>,
        address: &Address,
        rec: &ResourceRecord,
    ) -> Option<Option<Attrs>> {
        // Not read by this refresh: leave the record alone.
        live.governance.read.then(|| live_attrs(live, address, rec))
    }

    fn plan(&self, p: &mut Planner<'_>) {
        p.plan_governance();
    }

    // `prune_unmanaged` never disables controls or unshares portfolios made outside
    // Landfall: Control Tower's mandatory controls would be among them.
    fn prune(&self, _p: &mut Planner<'_>) {}

    fn review(&self, _p: &mut Planner<'_>) {}

    fn edges(&self, p: &Planner<'_>) -> Vec<(usize, usize)> {
        governance_edges(&p.changes)
    }

    fn drift(&self, live: &LiveState, state: &StateFile) -> Vec<Finding> {
        drift_findings(live, state)
    }
}

/// Drift of the governance layer against the state file: controls disabled, drifted,
/// failed or with other parameters; portfolios deleted or edited; shares removed.
pub fn drift_findings(live: &LiveState, state: &StateFile) -> Vec<Finding> {
    let mut out = Vec::new();
    if !live.governance.read {
        return out;
    }
    for (address, rec) in &state.resources {
        let id = rec.id.as_str();
        let finding = |class, ct: Option<&str>, message: String, diffs: Vec<AttrDiff>| Finding {
            class,
            address: address.clone(),
            id: Some(id.to_string()),
            control_tower_drift_type: ct.map(str::to_string),
            message,
            diffs,
        };
        let Some(kind) = address.governance_kind() else {
            continue;
        };
        match kind {
            GovernanceKind::Control(short, ou) => {
                match live
                    .governance
                    .enabled_controls
                    .iter()
                    .find(|c| c.arn == id)
                {
                    None => out.push(finding(
                        DriftClass::Missing,
                        Some("CONTROL_DISABLED"),
                        format!("control {short} was disabled on ou.{ou} outside Landfall"),
                        vec![],
                    )),
                    Some(c) => {
                        let ou_text = rec
                            .attributes
                            .get("ou")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string();
                        let diffs = diff_attrs(
                            &rec.attributes,
                            &live_control_attrs(c, &ou_text),
                            &["parameters"],
                        );
                        if c.drifted {
                            out.push(finding(
                                DriftClass::Changed,
                                Some("CONTROL_DRIFTED"),
                                format!("Control Tower reports control {short} on ou.{ou} as drifted (its resources were changed outside Control Tower); `landfall apply` resets it"),
                                diffs,
                            ));
                        } else if c.status == ControlStatus::Failed {
                            out.push(finding(
                                DriftClass::Changed,
                                None,
                                format!("control {short} on ou.{ou} is in a FAILED state"),
                                diffs,
                            ));
                        } else if !diffs.is_empty() {
                            out.push(finding(
                                DriftClass::Changed,
                                None,
                                format!("the parameters of control {short} on ou.{ou} were changed outside Landfall"),
                                diffs,
                            ));
                        }
                    }
                }
            }
            GovernanceKind::Portfolio(_) => match live.governance.portfolios.get(id) {
                None => out.push(finding(
                    DriftClass::Missing,
                    None,
                    format!("portfolio {id} was deleted outside Landfall"),
                    vec![],
                )),
                Some(p) if !rec.attributes.contains_key("id") => {
                    let diffs = diff_attrs(&rec.attributes, &live_portfolio_attrs(p), &[]);
                    if !diffs.is_empty() {
                        out.push(finding(
                            DriftClass::Changed,
                            None,
                            format!("portfolio {id} was edited outside Landfall"),
                            diffs,
                        ));
                    }
                }
                Some(_) => {}
            },
            GovernanceKind::PortfolioShare(..) if find_share(live, id).is_none() => {
                out.push(finding(
                    DriftClass::Missing,
                    None,
                    "the portfolio share was removed outside Landfall".into(),
                    vec![],
                ));
            }
            GovernanceKind::PortfolioShare(..) => {}
        }
    }
    out
}
