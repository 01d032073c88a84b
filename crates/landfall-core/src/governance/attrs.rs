//! The governance layer's attributes — declared, recorded and live (`apply
//! --refresh-only`) — and its ids: how a recorded control, registration, portfolio or
//! share is found live.

use serde_json::{Value, json};

use crate::address::{Address, Target};
use crate::attrs::{Attrs, tags_value};
use crate::kind::GovernanceKind;
use crate::live::{
    LiveEnabledBaseline, LiveEnabledControl, LivePortfolio, LivePortfolioShare, LiveState,
    ShareTarget,
};
use crate::model::{ControlSpec, DesiredState, PortfolioSpec};
use crate::state::ResourceRecord;

use super::registration::registration_attrs;

/// The attributes recorded for a control.
pub fn control_attrs(spec: &ControlSpec) -> Attrs {
    Attrs::from([
        ("control".into(), json!(spec.arn)),
        ("ou".into(), json!(format!("ou.{}", spec.ou))),
        ("parameters".into(), json!(spec.parameters)),
    ])
}

pub(super) fn live_control_attrs(live: &LiveEnabledControl, ou: &str) -> Attrs {
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

pub(super) fn live_portfolio_attrs(live: &LivePortfolio) -> Attrs {
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
        GovernanceKind::Registration(ou) => desired
            .registered_ous()
            .any(|p| p == ou)
            .then(|| registration_attrs(ou)),
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

pub(super) fn find_share<'a>(live: &'a LiveState, id: &str) -> Option<&'a LivePortfolioShare> {
    let (p, key) = id.split_once('|')?;
    live.governance
        .portfolio_shares
        .iter()
        .find(|s| s.portfolio_id == p && s.target.key() == key)
}

/// The enabled baseline recorded under `arn`, when baselines were read and it is
/// there.
pub(super) fn find_registration<'a>(
    live: &'a LiveState,
    arn: &str,
) -> Option<&'a LiveEnabledBaseline> {
    live.governance
        .baselines
        .as_ref()?
        .enabled
        .iter()
        .find(|b| b.arn == arn)
}

/// Whether the resource recorded under `id` still exists live.
pub fn exists_live(live: &LiveState, address: &Address, id: &str) -> bool {
    let Some(kind) = address.governance_kind() else {
        return false;
    };
    match kind {
        GovernanceKind::Control(..) => live.governance.enabled_controls.iter().any(|c| c.arn == id),
        GovernanceKind::Registration(_) => find_registration(live, id).is_some(),
        GovernanceKind::Portfolio(_) => live.governance.portfolios.contains_key(id),
        GovernanceKind::PortfolioShare(..) => find_share(live, id).is_some(),
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
        GovernanceKind::Registration(ou) => {
            find_registration(live, &rec.id)?;
            Some(registration_attrs(ou))
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
