//! The security family: trusted service access and delegated administrators in the
//! organization, the organization trail and its bucket in the log archive account,
//! the AWS Config organization aggregator and the IAM Access Analyzer organization
//! analyzer in the security tooling account — planning, attributes and drift.

use crate::address::Address;
use crate::attrs::Attrs;
use crate::drift_report::Finding;
use crate::live::{LiveIndex, LiveState};
use crate::model::DesiredState;
use crate::planner::{PlanFamily, Planner};
use crate::state::{ResourceRecord, StateFile};

/// The security family's planner.
pub(crate) struct SecurityFamily;

impl PlanFamily for SecurityFamily {
    fn declared_attrs(
        &self,
        _desired: &DesiredState,
        _address: &Address,
        _account_id: Option<&str>,
    ) -> Option<Attrs> {
        None
    }

    fn accepted_live(
        &self,
        _live: &LiveState,
        _index: &LiveIndex<'_>,
        _address: &Address,
        _rec: &ResourceRecord,
        _state: &StateFile,
    ) -> Option<Option<Attrs>> {
        None
    }

    fn plan(&self, _p: &mut Planner<'_>) {}

    fn prune(&self, _p: &mut Planner<'_>) {}

    fn review(&self, _p: &mut Planner<'_>) {}

    fn edges(&self, _p: &Planner<'_>) -> Vec<(usize, usize)> {
        vec![]
    }

    fn drift(&self, _live: &LiveState, _state: &StateFile) -> Vec<Finding> {
        vec![]
    }
}
