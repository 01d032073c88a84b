//! The governance layer: Control Tower controls on OUs, OU registrations, and Service
//! Catalog portfolios with their shares — planning, attributes and drift. Account Factory accounts are
//! planned with the other accounts (`organization`); this module only finds their
//! provisioned products.
//!
//! Identities: an enabled control is recorded by its enabled-control ARN, a
//! registration by its enabled-baseline ARN, a portfolio
//! by its `port-...` id, a share by `PORTFOLIO_ID|TARGET` where the target is `org`, an
//! OU id or an account id. Pure, like the rest of the planner.
//!
//! One file per idea: `attrs` (declared and live attributes, ids), `scope` (what a
//! refresh reads), `prerequisites` (an active landing zone, Service Catalog's
//! organizations access), `account_factory` (an account's provisioned product),
//! `registration` (OUs registered with Control Tower, the baseline version, enrolling
//! accounts), `plan` (controls, portfolios, shares), `removal`, `edges`, `drift`.

mod account_factory;
mod attrs;
mod drift;
mod edges;
mod plan;
mod prerequisites;
mod registration;
mod removal;
mod scope;

use crate::address::Address;
use crate::attrs::Attrs;
use crate::drift_report::Finding;
use crate::live::{LiveIndex, LiveState};
use crate::model::DesiredState;
use crate::plan::{Action, Change, Record};
use crate::planner::{PlanFamily, Planner};
use crate::state::{ResourceRecord, StateFile};

use edges::{governance_edges, registration_edges};

pub use account_factory::provisioned_account;
pub use attrs::{
    control_attrs, declared_attrs, exists_live, live_attrs, portfolio_attrs, share_attrs, share_id,
};
pub use drift::drift_findings;
pub use registration::{
    CONTROL_TOWER_BASELINE, NEWEST_KNOWN_LANDING_ZONE, baseline_version, registration_attrs,
};
pub use scope::{governance_scope, needs_governance};

/// A change with no id, diffs or operations yet, removing its record.
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

/// The governance family's planner: Control Tower controls and OU registrations,
/// Service Catalog portfolios and their shares.
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
        _state: &StateFile,
    ) -> Option<Option<Attrs>> {
        // Not read by this refresh: leave the record alone.
        live.governance.read.then(|| live_attrs(live, address, rec))
    }

    fn plan(&self, p: &mut Planner<'_>) {
        p.check_prerequisites();
        p.plan_governance();
    }

    // `prune_unmanaged` never disables controls or unshares portfolios made outside
    // Landfall: Control Tower's mandatory controls would be among them.
    fn prune(&self, _p: &mut Planner<'_>) {}

    fn review(&self, _p: &mut Planner<'_>) {}

    fn edges(&self, p: &Planner<'_>) -> Vec<(usize, usize)> {
        let mut edges = governance_edges(&p.changes);
        edges.extend(registration_edges(&p.changes, &p.existing));
        edges
    }

    fn drift(&self, live: &LiveState, state: &StateFile) -> Vec<Finding> {
        drift_findings(live, state)
    }
}
