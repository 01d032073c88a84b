//! The identity family: IAM Identity Center permission sets, the Identity Store groups
//! Landfall creates, and account assignments — planning, attributes and drift.
//!
//! Identities: a permission set is recorded by its ARN, a group by its Identity Store
//! id, an assignment by `ACCOUNT_ID|PERMISSION_SET_ARN|PRINCIPAL_TYPE|PRINCIPAL_ID`
//! ([`assignment_id`]). Pure, like the rest of the planner.

use crate::address::Address;
use crate::attrs::Attrs;
use crate::drift_report::Finding;
use crate::live::{LiveIndex, LiveState, PrincipalType};
use crate::model::DesiredState;
use crate::planner::{PlanFamily, Planner};
use crate::state::{ResourceRecord, StateFile};

/// The state id of an account assignment.
pub fn assignment_id(
    account_id: &str,
    permission_set_arn: &str,
    principal_type: PrincipalType,
    principal_id: &str,
) -> String {
    let t = match principal_type {
        PrincipalType::Group => "GROUP",
        PrincipalType::User => "USER",
    };
    format!("{account_id}|{permission_set_arn}|{t}|{principal_id}")
}

/// The identity family's planner.
pub(crate) struct IdentityFamily;

impl PlanFamily for IdentityFamily {
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
