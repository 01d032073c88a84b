//! The security family: trusted service access and delegated administrators in the
//! organization, the organization trail and its bucket in the log archive account,
//! the AWS Config organization aggregator and the IAM Access Analyzer organization
//! analyzer in the security tooling account — planning, attributes and drift.
//!
//! Identities: trusted access by its service principal, a delegated administrator by
//! `PRINCIPAL|ACCOUNT_ID`, a bucket by its name, a trail, aggregator or analyzer by
//! its ARN. Pure, like the rest of the planner.
//!
//! One file per idea: `attrs` (declared and live attributes), `scope` (what a refresh
//! reads), `plan`, `edges`, `drift`, `control_tower` (what Control Tower owns when it
//! governs the organization).

mod attrs;
mod control_tower;
mod drift;
mod edges;
mod plan;
mod scope;

use crate::address::Address;
use crate::attrs::Attrs;
use crate::drift_report::Finding;
use crate::kind::SecurityKind;
use crate::live::{LiveIndex, LiveState};
use crate::model::DesiredState;
use crate::planner::{PlanFamily, Planner};
use crate::state::{ResourceRecord, StateFile};

pub use attrs::{declared_attrs, live_attrs};
pub use control_tower::{as_planned, defer_to_control_tower};
pub use drift::drift_findings;
pub use scope::{needs_security, security_scope};

pub const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";
pub const CONFIG: &str = "config.amazonaws.com";
pub const ACCESS_ANALYZER: &str = "access-analyzer.amazonaws.com";

/// The services delegated with their own `EnableOrganizationAdminAccount` (from the
/// management account, per region) rather than Organizations'
/// `RegisterDelegatedAdministrator`.
pub const DELEGATED_BY_OWN_CALL: [&str; 2] =
    ["guardduty.amazonaws.com", "securityhub.amazonaws.com"];

pub fn delegated_by_own_call(service_principal: &str) -> bool {
    DELEGATED_BY_OWN_CALL.contains(&service_principal)
}

/// The bucket recorded in `state` whose logs are encrypted with the key recorded at
/// `key`: Landfall never deletes a log bucket (it only forgets it), so that key must
/// outlive its declaration too — deleting it would make the logs kept unreadable.
pub fn bucket_encrypted_with<'s>(state: &'s StateFile, key: &Address) -> Option<&'s Address> {
    let key = key.to_string();
    state.resources.iter().find_map(|(address, record)| {
        let is_bucket = matches!(address.security_kind(), Some(SecurityKind::Bucket(_)));
        let encrypts = record.attributes.get("kms_key").and_then(|v| v.as_str()) == Some(&key);
        (is_bucket && encrypts).then_some(address)
    })
}

/// The security family's planner.
pub(crate) struct SecurityFamily;

impl PlanFamily for SecurityFamily {
    fn declared_attrs(
        &self,
        desired: &DesiredState,
        address: &Address,
        account_id: Option<&str>,
    ) -> Option<Attrs> {
        declared_attrs(desired, address, account_id)
    }

    fn accepted_live(
        &self,
        live: &LiveState,
        _index: &LiveIndex<'_>,
        address: &Address,
        rec: &ResourceRecord,
        state: &StateFile,
    ) -> Option<Option<Attrs>> {
        // Not read by this refresh: leave the record alone.
        live.security
            .read
            .then(|| live_attrs(&live.security, address, rec, state))
    }

    fn plan(&self, p: &mut Planner<'_>) {
        p.plan_security();
    }

    // Nothing made outside Landfall is removed: another trail or analyzer in the
    // account is someone's, not an undeclared copy of Landfall's.
    fn prune(&self, _p: &mut Planner<'_>) {}

    fn review(&self, _p: &mut Planner<'_>) {}

    fn edges(&self, p: &Planner<'_>) -> Vec<(usize, usize)> {
        edges::security_edges(p.desired, &p.changes)
    }

    fn drift(&self, live: &LiveState, state: &StateFile) -> Vec<Finding> {
        drift_findings(live, state)
    }
}
