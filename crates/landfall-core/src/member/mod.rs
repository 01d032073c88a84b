//! Member-account resources — VPCs, subnets, the route table for gateway endpoints,
//! the security group for interface endpoints, VPC endpoints and KMS keys: their
//! attributes, how they are planned, and how they are checked for drift.
//!
//! Matching follows the organization layer: the state's physical id when it still
//! exists, else the id an `[[import]]` block gives (VPCs and keys), else the
//! `landfall:address` tag Landfall puts on everything it creates
//! (so a resource whose creation response was lost is found again). Update semantics
//! follow the AWS provider users know: endpoint policy, private DNS, subnets and
//! security groups change in place; a VPC CIDR, an endpoint's service or type change
//! means replace (a VPC only when Landfall created it and what is in it: replacing
//! deletes them); key rotation, policy, description and alias change in place;
//! deleting a key schedules its deletion, and only for keys Landfall created.
//!
//! One file per idea: `attrs` (declared and live attributes), `matching` (the member
//! account of a resource, its live id), `changes` (emitting a member change, the
//! operations that delete each kind), `network` and `keys` (planning what is declared),
//! `removal` (what is no longer declared, `prune_unmanaged`), `review` (endpoint
//! replacements), `edges` (deletion order), `drift`, `scope` (what a refresh reads).

mod attrs;
mod changes;
mod drift;
mod edges;
mod keys;
mod matching;
mod network;
mod removal;
mod review;
mod scope;

use crate::address::Address;
use crate::attrs::Attrs;
use crate::drift_report::Finding;
use crate::live::{LiveIndex, LiveState};
use crate::model::DesiredState;
use crate::planner::{PlanFamily, Planner};
use crate::state::{ResourceRecord, StateFile};

pub use attrs::{
    DEFAULT_ENDPOINT_POLICY, declared_attrs, declared_attrs_with, endpoint_subnets, exists_live,
    live_attrs, user_tags,
};
pub use drift::drift_findings;
pub use edges::member_edges;
pub use scope::members_to_read;

/// The member-account family's planner: networks and keys in each member account and
/// region.
pub(crate) struct MemberFamily;

impl PlanFamily for MemberFamily {
    fn declared_attrs(
        &self,
        desired: &DesiredState,
        address: &Address,
        account_id: Option<&str>,
    ) -> Option<Attrs> {
        declared_attrs_with(desired, address, account_id)
    }

    fn accepted_live(
        &self,
        live: &LiveState,
        _index: &LiveIndex<'_>,
        address: &Address,
        rec: &ResourceRecord,
        _state: &StateFile,
    ) -> Option<Option<Attrs>> {
        // The member was not read: leave the record alone.
        let member = rec.member.as_ref().and_then(|m| live.members.get(m))?;
        Some(live_attrs(member, address, &rec.id).map(|mut a| {
            // Keep what live cannot tell (e.g. a key's deletion window).
            for (k, v) in &rec.attributes {
                a.entry(k.clone()).or_insert_with(|| v.clone());
            }
            a
        }))
    }

    fn plan(&self, p: &mut Planner<'_>) {
        p.check_member_imports();
        p.plan_networks();
        p.plan_keys();
        p.plan_member_removals();
    }

    fn prune(&self, p: &mut Planner<'_>) {
        p.plan_member_prune();
    }

    fn review(&self, p: &mut Planner<'_>) {
        p.mark_endpoint_replacements();
    }

    fn edges(&self, p: &Planner<'_>) -> Vec<(usize, usize)> {
        member_edges(&p.changes)
    }

    fn drift(&self, live: &LiveState, state: &StateFile) -> Vec<Finding> {
        drift_findings(live, state)
    }
}
