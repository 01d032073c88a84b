//! AWS Organizations policy types on the root: which are enabled
//! (`EnablePolicyType`, `DisablePolicyType`), the AWS-managed policy AWS attaches
//! everywhere for a type (`FullAWSAccess` for SCPs, `RCPFullAWSAccess` for RCPs), and
//! each type's quotas. Pure and synchronous like [`crate::world`].
//!
//! A new world has SCPs enabled (as after `CreateOrganization` with all features);
//! resource control, tag and AI services opt-out policies are disabled until
//! `EnablePolicyType`. `CreatePolicy` and `AttachPolicy` of a type that is not enabled
//! are refused with `PolicyTypeNotEnabledException`.
//!
//! AWS enables a type asynchronously (the root lists it `PENDING_ENABLE`, then
//! `ENABLED`). Without the AWS model the sim enables it at once; under the model the
//! type stays pending for a drawn time ([`crate::model::AsyncKind::PolicyTypeEnable`]):
//! `ListRoots` does not list it and its policies are refused meanwhile. Disabling
//! takes effect at once (Landfall waits for the root either way).

use std::collections::BTreeSet;

use landfall_core::live::LivePolicy;
use landfall_core::model::{Quotas, Tags};
use landfall_core::policy_type::PolicyType;
use landfall_engine::provider::ErrorKind;

use crate::world::{Denied, FULL_AWS_ACCESS_ID, Rule, World};

/// The id the sim gives the AWS-managed `RCPFullAWSAccess` (AWS's is
/// `p-RCPFullAWSAccess` too).
pub const RCP_FULL_AWS_ACCESS_ID: &str = "p-RCPFullAWSAccess";
/// `RCPFullAWSAccess`'s document, minified.
pub const RCP_FULL_AWS_ACCESS_CONTENT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;

/// Document size quotas (AWS Organizations quotas, "Maximum size of a policy
/// document"): RCPs 5,120 characters, tag policies 10,000, AI services opt-out
/// policies 2,500. SCPs: [`Quotas::scp_max_chars`].
pub const RCP_MAX_CHARS: usize = 5_120;
pub const TAG_POLICY_MAX_CHARS: usize = 10_000;
pub const AI_OPT_OUT_MAX_CHARS: usize = 2_500;
/// Policies of a type attached directly to one root, OU or account (AWS
/// Organizations quotas): RCPs 5 (`RCPFullAWSAccess` counts), tag policies 10, AI
/// services opt-out policies 5. SCPs: [`Quotas::scps_per_target`].
pub const RCPS_PER_TARGET: usize = 5;
pub const TAG_POLICIES_PER_TARGET: usize = 10;
pub const AI_OPT_OUT_PER_TARGET: usize = 5;

/// The AWS-managed policy attached to every target while the type is enabled.
pub fn aws_managed_id(policy_type: PolicyType) -> Option<&'static str> {
    match policy_type {
        PolicyType::ServiceControlPolicy => Some(FULL_AWS_ACCESS_ID),
        PolicyType::ResourceControlPolicy => Some(RCP_FULL_AWS_ACCESS_ID),
        PolicyType::TagPolicy | PolicyType::AiservicesOptOutPolicy => None,
    }
}

/// The document size quota of a type.
pub fn max_chars(policy_type: PolicyType, quotas: &Quotas) -> usize {
    match policy_type {
        PolicyType::ServiceControlPolicy => quotas.scp_max_chars,
        PolicyType::ResourceControlPolicy => RCP_MAX_CHARS,
        PolicyType::TagPolicy => TAG_POLICY_MAX_CHARS,
        PolicyType::AiservicesOptOutPolicy => AI_OPT_OUT_MAX_CHARS,
    }
}

/// The per-target attachment quota of a type.
pub fn per_target(policy_type: PolicyType, quotas: &Quotas) -> usize {
    match policy_type {
        PolicyType::ServiceControlPolicy => quotas.scps_per_target,
        PolicyType::ResourceControlPolicy => RCPS_PER_TARGET,
        PolicyType::TagPolicy => TAG_POLICIES_PER_TARGET,
        PolicyType::AiservicesOptOutPolicy => AI_OPT_OUT_PER_TARGET,
    }
}

fn not_enabled(policy_type: PolicyType) -> Denied {
    Denied::new(
        ErrorKind::Other("PolicyTypeNotEnabledException".into()),
        format!(
            "PolicyTypeNotEnabledException: {} is not enabled on the root; call EnablePolicyType first",
            policy_type.aws_name()
        ),
    )
}

impl World {
    /// `PolicyTypeNotEnabledException` unless the type is enabled (and not still
    /// pending under the AWS model).
    pub(crate) fn require_type_enabled(
        &self,
        policy_type: PolicyType,
        pending: &BTreeSet<PolicyType>,
    ) -> Rule<()> {
        if self.enabled_policy_types.contains(&policy_type) && !pending.contains(&policy_type) {
            Ok(())
        } else {
            Err(not_enabled(policy_type))
        }
    }

    fn require_root(&self, root_id: &str) -> Rule<()> {
        if root_id == self.root_id {
            Ok(())
        } else {
            Err(Denied::new(
                ErrorKind::NotFound,
                format!("RootNotFoundException: no root {root_id}"),
            ))
        }
    }

    /// Every root, OU and account: what AWS attaches a type's managed policy to.
    fn all_targets(&self) -> Vec<String> {
        std::iter::once(self.root_id.clone())
            .chain(self.ous.keys().cloned())
            .chain(self.accounts.keys().cloned())
            .collect()
    }

    /// `EnablePolicyType`: `PolicyTypeAlreadyEnabledException` when it is enabled.
    /// Enabling RCPs attaches `RCPFullAWSAccess` to the root, every OU and every
    /// account (and [`World::attach_aws_managed`] to every new one).
    pub fn enable_policy_type(&mut self, root_id: &str, policy_type: PolicyType) -> Rule<()> {
        self.require_root(root_id)?;
        if self.enabled_policy_types.contains(&policy_type) {
            return Err(Denied::new(
                ErrorKind::Other("PolicyTypeAlreadyEnabledException".into()),
                format!(
                    "PolicyTypeAlreadyEnabledException: {} is already enabled on {root_id}",
                    policy_type.aws_name()
                ),
            ));
        }
        self.enabled_policy_types.insert(policy_type);
        if let Some(managed) = aws_managed_id(policy_type) {
            if policy_type == PolicyType::ResourceControlPolicy
                && !self.policies.contains_key(managed)
            {
                self.policies.insert(
                    managed.to_string(),
                    LivePolicy {
                        id: managed.to_string(),
                        name: landfall_core::policy_type::RCP_FULL_AWS_ACCESS.to_string(),
                        description: "Allows access to every resource".to_string(),
                        content: RCP_FULL_AWS_ACCESS_CONTENT.to_string(),
                        tags: Tags::new(),
                        aws_managed: true,
                    },
                );
                self.policy_types.insert(managed.to_string(), policy_type);
            }
            for target in self.all_targets() {
                self.attachments
                    .entry(target)
                    .or_default()
                    .insert(managed.to_string());
            }
        }
        Ok(())
    }

    /// `DisablePolicyType`: `PolicyTypeNotEnabledException` when it is not enabled;
    /// every policy of the type is detached from every target (its AWS-managed one
    /// included). The policies themselves stay.
    pub fn disable_policy_type(&mut self, root_id: &str, policy_type: PolicyType) -> Rule<()> {
        self.require_root(root_id)?;
        if !self.enabled_policy_types.contains(&policy_type) {
            return Err(not_enabled(policy_type));
        }
        self.enabled_policy_types.remove(&policy_type);
        let of_type: BTreeSet<String> = self
            .policies
            .keys()
            .filter(|id| self.type_of(id) == policy_type)
            .cloned()
            .collect();
        for on_target in self.attachments.values_mut() {
            on_target.retain(|p| !of_type.contains(p));
        }
        self.attachments.retain(|_, set| !set.is_empty());
        Ok(())
    }

    /// A policy of the type by name or id (out-of-band helpers, the CLI).
    pub fn policy_of_type(&self, policy_type: PolicyType, name_or_id: &str) -> Rule<String> {
        self.policies
            .values()
            .find(|p| {
                self.type_of(&p.id) == policy_type && (p.id == name_or_id || p.name == name_or_id)
            })
            .map(|p| p.id.clone())
            .ok_or_else(|| {
                Denied::new(
                    ErrorKind::NotFound,
                    format!(
                        "PolicyNotFoundException: no {} named {name_or_id}",
                        policy_type.aws_name()
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use landfall_engine::call::TrailRequest;
    use landfall_engine::provider::MemberScope;

    use super::*;

    #[test]
    fn refused_policy_type_and_security_calls_change_nothing() {
        let mut w = World::new(4, Quotas::default());
        let root = w.root_id.clone();
        let mgmt = MemberScope {
            account_id: w.management_account_id.clone(),
            region: "eu-west-1".into(),
        };
        w.enable_policy_type(&root, PolicyType::ResourceControlPolicy)
            .unwrap();
        let before = serde_json::to_string(&w).unwrap();
        let none = BTreeSet::new();
        let tags = Tags::new();
        assert!(
            w.enable_policy_type("r-none", PolicyType::TagPolicy)
                .is_err()
        );
        assert!(w.disable_policy_type(&root, PolicyType::TagPolicy).is_err());
        assert!(
            w.create_policy_of(PolicyType::TagPolicy, "t", "", "{}", &tags, &none)
                .is_err()
        );
        assert!(w.detach_policy(RCP_FULL_AWS_ACCESS_ID, &root).is_err());
        let mgmt_id = mgmt.account_id.clone();
        assert!(
            w.register_delegated_admin(&mgmt_id, "config.amazonaws.com")
                .is_err()
        );
        assert!(w.create_bucket(&mgmt, "Bad_Name", false).is_err());
        let request = TrailRequest {
            name: "trail",
            s3_bucket_name: "missing-bucket",
            s3_key_prefix: None,
            kms_key_arn: "arn:aws:kms:eu-west-1:1:key/x",
            multi_region: true,
            organization: true,
            log_file_validation: true,
            tags: &tags,
        };
        assert!(w.create_trail(&mgmt, &request).is_err());
        assert!(
            w.put_configuration_aggregator(&mgmt, "agg", "arn:aws:iam::1:role/x", &tags, false)
                .is_err()
        );
        assert!(w.create_analyzer(&mgmt, "an", &tags).is_err());
        assert_eq!(serde_json::to_string(&w).unwrap(), before);
        assert!(w.reindex().is_ok());
    }
}
