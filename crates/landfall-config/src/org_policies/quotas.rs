//! The Organizations quotas of each policy type Landfall checks offline ("Quotas for
//! AWS Organizations", AWS Organizations User Guide): the maximum size of a document
//! (counted on the minified document, as Landfall sends it) and the policies of the
//! type attached to one root, OU or account. AWS refuses the call otherwise
//! (ConstraintViolationException POLICY_CONTENT_LIMIT_EXCEEDED /
//! POLICY_NUMBER_LIMIT_EXCEEDED).

use landfall_core::model::OrgPolicyType;

/// "Maximum size of a policy document": RCP 5,120, tag policy 10,000, AI services
/// opt-out policy 2,500 characters.
pub(crate) fn max_chars(policy_type: OrgPolicyType) -> usize {
    match policy_type {
        OrgPolicyType::Rcp => landfall_policy::RCP_MAX_CHARS,
        OrgPolicyType::Tag => landfall_policy::TAG_POLICY_MAX_CHARS,
        OrgPolicyType::AiOptOut => landfall_policy::AI_OPT_OUT_MAX_CHARS,
    }
}

/// "Maximum number of policies attached to a root, OU or account" per type: RCP 5,
/// tag policy 10, AI services opt-out policy 5.
pub(crate) fn max_attached(policy_type: OrgPolicyType) -> usize {
    match policy_type {
        OrgPolicyType::Rcp => 5,
        OrgPolicyType::Tag => 10,
        OrgPolicyType::AiOptOut => 5,
    }
}

/// "Number of policies of each type in an organization": 1,000 resource control, tag
/// and AI services opt-out policies each (SCPs: 10,000).
pub(crate) fn max_in_organization(policy_type: OrgPolicyType) -> usize {
    match policy_type {
        OrgPolicyType::Rcp | OrgPolicyType::Tag | OrgPolicyType::AiOptOut => 1_000,
    }
}

/// How many declared policies of the type one target can take: the quota less the
/// AWS-managed policy AWS attaches everywhere (RCPFullAWSAccess counts against the
/// five RCPs and cannot be detached, so four are left).
pub(crate) fn max_declared(policy_type: OrgPolicyType) -> usize {
    max_attached(policy_type) - usize::from(policy_type.aws_managed_everywhere().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rcp_full_aws_access_takes_one_place() {
        assert_eq!(max_declared(OrgPolicyType::Rcp), 4);
        assert_eq!(max_declared(OrgPolicyType::Tag), 10);
        assert_eq!(max_declared(OrgPolicyType::AiOptOut), 5);
        assert_eq!(max_chars(OrgPolicyType::AiOptOut), 2_500);
        assert_eq!(max_chars(OrgPolicyType::Tag), 10_000);
        assert_eq!(max_chars(OrgPolicyType::Rcp), 5_120);
    }
}
