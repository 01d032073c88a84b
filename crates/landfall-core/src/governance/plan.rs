//! Planning the declared governance layer: Control Tower controls on OUs (enable,
//! parameters in place, reset when drifted or failed), Service Catalog portfolios
//! (create, adopt, update; an existing one by id is only recorded) and their shares.

use crate::address::{Address, Target};
use crate::attrs::{Attrs, diff_attrs, tag_changes};
use crate::live::{ControlStatus, ShareTarget};
use crate::plan::{Action, GovernanceOp, Op, Record, Ref, ShareRef};
use crate::planner::Planner;

use super::attrs::{
    control_attrs, live_control_attrs, live_portfolio_attrs, portfolio_attrs, share_attrs, share_id,
};
use super::change;

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

    pub(super) fn plan_governance(&mut self) {
        let needed = !self.desired.controls.is_empty()
            || !self.desired.portfolios.is_empty()
            || self.desired.landing_zone.control_tower.is_some()
            || self
                .state
                .resources
                .keys()
                .any(|a| a.governance_kind().is_some());
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
        self.plan_registrations();
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
}
