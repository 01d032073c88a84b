//! The organization family: the root, OUs, accounts, SCPs and their attachments, as
//! AWS Organizations keeps them. Their attributes; matching a desired resource to a
//! live one by the state's id or by natural key (an OU by parent and name, an account by
//! email, an SCP by name, an attachment by policy and target); planning (an OU moved to
//! a new parent is a replacement, removed accounts follow `account_removal`,
//! `prune_unmanaged`); ordering edges; drift; `apply --refresh-only`.
//!
//! One file per idea: `attrs` (declared and live attributes), `matching` (live ids and
//! references), `plan` (OUs, accounts, SCPs, attachments), `org_policies` (resource
//! control, tag and AI services opt-out policies, their attachments and the policy
//! types enabled on the root), `removal` (what is no longer
//! declared, `prune_unmanaged`), `review` (OU replacements, OU deletions AWS would
//! refuse), `edges` (ordering), `drift`.

mod attrs;
mod drift;
mod edges;
mod matching;
mod org_policies;
mod plan;
mod removal;
mod review;

use crate::address::Address;
use crate::attrs::Attrs;
use crate::drift_report::Finding;
use crate::live::{LiveIndex, LiveState};
use crate::model::DesiredState;
use crate::planner::{PlanFamily, Planner};
use crate::state::{ResourceRecord, StateFile};

pub use attrs::{accepted_live, account_attrs, declared_attrs, exists_live, ou_attrs, scp_attrs};
pub use drift::drift_findings;

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
        state: &StateFile,
    ) -> Option<Option<Attrs>> {
        accepted_live(live, index, address, rec, state)
    }

    fn plan(&self, p: &mut Planner<'_>) {
        p.match_existing();
        p.plan_root();
        p.plan_ous();
        p.plan_accounts();
        p.plan_policies();
        p.plan_attachments();
        p.match_org_policies();
        p.plan_policy_types();
        p.plan_org_policies();
        p.plan_org_policy_attachments();
        p.plan_removals();
    }

    fn prune(&self, p: &mut Planner<'_>) {
        p.plan_prune();
    }

    fn review(&self, p: &mut Planner<'_>) {
        p.mark_moved_ou_replacements();
        p.mark_ou_replacements();
        p.check_ou_deletions();
    }

    fn edges(&self, p: &Planner<'_>) -> Vec<(usize, usize)> {
        let mut edges = p.organization_edges();
        edges.extend(p.org_policy_edges());
        edges
    }

    fn drift(&self, live: &LiveState, state: &StateFile) -> Vec<Finding> {
        drift_findings(live, state)
    }
}
