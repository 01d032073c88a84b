//! AWS Organizations policy types: the `Type` of `CreatePolicy`, `ListPolicies` and
//! `EnablePolicyType`, and the ones Landfall manages besides service control policies
//! as resource kinds of their own.

use serde::{Deserialize, Serialize};

/// An Organizations policy type, as the API names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PolicyType {
    ServiceControlPolicy,
    ResourceControlPolicy,
    TagPolicy,
    AiservicesOptOutPolicy,
}

impl PolicyType {
    pub const ALL: [PolicyType; 4] = [
        PolicyType::ServiceControlPolicy,
        PolicyType::ResourceControlPolicy,
        PolicyType::TagPolicy,
        PolicyType::AiservicesOptOutPolicy,
    ];

    /// The API's name: `SERVICE_CONTROL_POLICY`, `RESOURCE_CONTROL_POLICY`,
    /// `TAG_POLICY`, `AISERVICES_OPT_OUT_POLICY`.
    pub fn aws_name(self) -> &'static str {
        match self {
            PolicyType::ServiceControlPolicy => "SERVICE_CONTROL_POLICY",
            PolicyType::ResourceControlPolicy => "RESOURCE_CONTROL_POLICY",
            PolicyType::TagPolicy => "TAG_POLICY",
            PolicyType::AiservicesOptOutPolicy => "AISERVICES_OPT_OUT_POLICY",
        }
    }

    pub fn from_aws_name(name: &str) -> Option<PolicyType> {
        PolicyType::ALL.into_iter().find(|t| t.aws_name() == name)
    }

    /// The organization policy kind Landfall manages for this type; `None` for SCPs,
    /// which keep their own kinds (`scp.NAME`, `attachment.NAME:TARGET`).
    pub fn org_policy_type(self) -> Option<OrgPolicyType> {
        match self {
            PolicyType::ServiceControlPolicy => None,
            PolicyType::ResourceControlPolicy => Some(OrgPolicyType::Rcp),
            PolicyType::TagPolicy => Some(OrgPolicyType::Tag),
            PolicyType::AiservicesOptOutPolicy => Some(OrgPolicyType::AiOptOut),
        }
    }
}

impl std::fmt::Display for PolicyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.aws_name())
    }
}

/// The organization policy types Landfall manages besides SCPs, each a resource kind
/// with its own syntax and quotas: resource control policies, tag policies and AI
/// services opt-out policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgPolicyType {
    Rcp,
    Tag,
    AiOptOut,
}

impl OrgPolicyType {
    pub const ALL: [OrgPolicyType; 3] = [
        OrgPolicyType::Rcp,
        OrgPolicyType::Tag,
        OrgPolicyType::AiOptOut,
    ];

    pub fn policy_type(self) -> PolicyType {
        match self {
            OrgPolicyType::Rcp => PolicyType::ResourceControlPolicy,
            OrgPolicyType::Tag => PolicyType::TagPolicy,
            OrgPolicyType::AiOptOut => PolicyType::AiservicesOptOutPolicy,
        }
    }

    /// The policy's address kind and configuration section: `rcp`, `tag_policy`,
    /// `ai_opt_out_policy`.
    pub fn key(self) -> &'static str {
        match self {
            OrgPolicyType::Rcp => "rcp",
            OrgPolicyType::Tag => "tag_policy",
            OrgPolicyType::AiOptOut => "ai_opt_out_policy",
        }
    }

    /// The address kind of its attachments: `rcp_attachment`, `tag_policy_attachment`,
    /// `ai_opt_out_policy_attachment`.
    pub fn attachment_key(self) -> &'static str {
        match self {
            OrgPolicyType::Rcp => "rcp_attachment",
            OrgPolicyType::Tag => "tag_policy_attachment",
            OrgPolicyType::AiOptOut => "ai_opt_out_policy_attachment",
        }
    }

    pub fn from_key(key: &str) -> Option<OrgPolicyType> {
        OrgPolicyType::ALL.into_iter().find(|t| t.key() == key)
    }

    pub fn from_attachment_key(key: &str) -> Option<OrgPolicyType> {
        OrgPolicyType::ALL
            .into_iter()
            .find(|t| t.attachment_key() == key)
    }

    /// The AWS-managed policy of this type AWS attaches to the root, every OU and every
    /// account once the type is enabled, and that cannot be detached:
    /// `RCPFullAWSAccess` for RCPs. Landfall never declares, records or reports it.
    pub fn aws_managed_everywhere(self) -> Option<&'static str> {
        match self {
            OrgPolicyType::Rcp => Some(RCP_FULL_AWS_ACCESS),
            OrgPolicyType::Tag | OrgPolicyType::AiOptOut => None,
        }
    }

    /// Words for messages: "resource control policy", "tag policy", "AI services
    /// opt-out policy".
    pub fn noun(self) -> &'static str {
        match self {
            OrgPolicyType::Rcp => "resource control policy",
            OrgPolicyType::Tag => "tag policy",
            OrgPolicyType::AiOptOut => "AI services opt-out policy",
        }
    }
}

impl std::fmt::Display for OrgPolicyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// The AWS-managed RCP on every root, OU and account once RCPs are enabled.
pub const RCP_FULL_AWS_ACCESS: &str = "RCPFullAWSAccess";
