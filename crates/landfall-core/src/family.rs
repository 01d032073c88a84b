//! The dispatch from a [`Family`] to what it does in the planner: the one exhaustive
//! match a new family adds an arm to. Each family's [`PlanFamily`] implementation
//! lives in its own module.

use crate::address::Address;
use crate::attrs::Attrs;
use crate::governance::GovernanceFamily;
use crate::identity::IdentityFamily;
use crate::kind::Family;
use crate::member::MemberFamily;
use crate::model::DesiredState;
use crate::organization::OrganizationFamily;
use crate::security::SecurityFamily;

pub(crate) use crate::planner::PlanFamily;

/// The planner implementation of a family.
pub(crate) fn of(family: Family) -> &'static dyn PlanFamily {
    match family {
        Family::Organization => &OrganizationFamily,
        Family::Member => &MemberFamily,
        Family::Governance => &GovernanceFamily,
        Family::Identity => &IdentityFamily,
        Family::Security => &SecurityFamily,
    }
}

/// The attributes the desired state declares for `address`; `None` when it is not
/// declared. With the member account's id, member policies are recorded substituted.
pub fn declared_attrs(
    desired: &DesiredState,
    address: &Address,
    account_id: Option<&str>,
) -> Option<Attrs> {
    of(address.family()).declared_attrs(desired, address, account_id)
}
