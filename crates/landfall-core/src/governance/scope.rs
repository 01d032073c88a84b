//! Whether and what a refresh reads of the governance layer: the OUs whose enabled
//! controls matter, OU registrations, portfolios, the Account Factory's accounts.

use std::collections::BTreeSet;

use crate::address::{Address, Target};
use crate::kind::GovernanceKind;
use crate::live::{GovernanceScope, LiveIndex, LiveState};
use crate::model::DesiredState;
use crate::state::StateFile;

/// True when the desired state or the state file has anything of the governance layer,
/// so the refresh must read it.
pub fn needs_governance(desired: &DesiredState, state: Option<&StateFile>) -> bool {
    let in_state = state.is_some_and(|s| {
        s.resources.keys().any(|a| {
            matches!(
                a,
                Address::Control(..)
                    | Address::Registration(_)
                    | Address::Portfolio(_)
                    | Address::PortfolioShare(..)
            )
        })
    });
    in_state
        || owned_by_control_tower(desired)
        || desired.landing_zone.control_tower.is_some()
        || !desired.controls.is_empty()
        || !desired.portfolios.is_empty()
        || desired.uses_account_factory()
}

/// The desired state declares what a Control Tower landing zone would own (the
/// organization trail, a Config aggregator): the refresh reads whether there is one,
/// so the plan leaves them to it instead of making a second (`security::as_planned`).
fn owned_by_control_tower(desired: &DesiredState) -> bool {
    !desired.trails.is_empty() || !desired.config_aggregators.is_empty()
}

/// What the refresh reads of the governance layer: the enabled controls of every OU a
/// declared or recorded control is on (by the OU ids `live` knows), portfolios when any
/// are declared or recorded, and the Account Factory's accounts in that mode.
pub fn governance_scope(
    desired: &DesiredState,
    state: Option<&StateFile>,
    live: &LiveState,
) -> GovernanceScope {
    let index = LiveIndex::new(live);
    let mut targets: BTreeSet<String> = desired
        .controls
        .iter()
        .filter_map(|c| index.ou_id(&c.ou).map(str::to_string))
        .collect();
    let mut portfolios = !desired.portfolios.is_empty();
    let mut baselines = desired.landing_zone.control_tower.is_some();
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
                GovernanceKind::Registration(_) => baselines = true,
                GovernanceKind::Portfolio(_) | GovernanceKind::PortfolioShare(..) => {
                    portfolios = true
                }
            }
        }
    }
    let preflight = !desired.landing_zone.skip_preflight;
    let organization_shares = desired.portfolios.values().any(|p| {
        p.shares
            .iter()
            .any(|t| matches!(t, Target::Root | Target::Ou(_)))
    });
    GovernanceScope {
        // Registering OUs reads the landing zone too (the baseline version follows its
        // version); without preflight, the version comes from registered OUs or
        // `baseline_version`.
        landing_zone: (preflight
            && (baselines || !desired.controls.is_empty() || desired.uses_account_factory()))
            || owned_by_control_tower(desired),
        organizations_access: preflight && organization_shares,
        control_targets: targets
            .into_iter()
            .filter(|id| live.ous.contains_key(id))
            .collect(),
        portfolios,
        baselines,
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
