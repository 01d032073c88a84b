//! The identity family: IAM Identity Center permission sets, the Identity Store groups
//! Landfall creates, and account assignments — planning, attributes and drift.
//!
//! Identities: a permission set is recorded by its ARN, a group by its Identity Store
//! id, an assignment by `ACCOUNT_ID|PERMISSION_SET_ARN|PRINCIPAL_TYPE|PRINCIPAL_ID`
//! ([`assignment_id`]). Pure, like the rest of the planner.
//!
//! One file per idea: `attrs` (declared and live attributes, ids), `scope` (what a
//! refresh reads), `plan` (sets, groups, assignments), `removal`, `edges`, `drift`,
//! `access` (who can act where once the plan is applied: the lockout checks for
//! people).

mod access;
mod attrs;
mod drift;
mod edges;
mod plan;
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

pub use access::{AccessAfter, LockoutRisk, is_admin_capable, lockout_risks};
pub use attrs::{
    assignment_attrs, assignment_id, declared_attrs, group_attrs, live_permission_set_attrs,
    parse_assignment_id, permission_set_attrs,
};
pub use drift::drift_findings;
pub use scope::{identity_scope, needs_identity};

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

/// The identity family's planner.
pub(crate) struct IdentityFamily;

impl PlanFamily for IdentityFamily {
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
        live.identity
            .read
            .then(|| attrs::live_attrs(&live.identity, address, rec))
    }

    fn plan(&self, p: &mut Planner<'_>) {
        p.plan_identity();
    }

    // `prune_unmanaged` never removes assignments made outside Landfall: break-glass
    // access and Control Tower's own assignments would be among them. Drift reports
    // them.
    fn prune(&self, _p: &mut Planner<'_>) {}

    fn review(&self, _p: &mut Planner<'_>) {}

    fn edges(&self, p: &Planner<'_>) -> Vec<(usize, usize)> {
        edges::identity_edges(&p.changes)
    }

    fn drift(&self, live: &LiveState, state: &StateFile) -> Vec<Finding> {
        drift_findings(live, state)
    }
}
