//! IAM roles, as far as Landfall makes them: a role a service may assume (the Config
//! aggregator's), its managed policies. Names are unique per account
//! (`EntityAlreadyExists`); a role with policies attached cannot be deleted
//! (`DeleteConflict`).

use std::collections::BTreeSet;

use landfall_engine::provider::{ErrorKind, MemberScope};
use serde::{Deserialize, Serialize};

use super::other;
use crate::world::{Denied, Rule, World};

/// Managed policies attached to one role (IAM quotas: 10 by default).
pub const MAX_ROLE_POLICIES: usize = 10;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimRole {
    pub arn: String,
    pub name: String,
    pub account_id: String,
    /// The service principal its trust policy names.
    pub trusted_service: String,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub policies: BTreeSet<String>,
}

pub fn role_arn(account_id: &str, name: &str) -> String {
    format!("arn:aws:iam::{account_id}:role/{name}")
}

fn no_such_entity(what: &str) -> Denied {
    Denied::new(
        ErrorKind::NotFound,
        format!("NoSuchEntity: the role {what} cannot be found"),
    )
}

impl World {
    fn role_mut(&mut self, scope: &MemberScope, name: &str) -> Rule<&mut SimRole> {
        self.security
            .roles
            .get_mut(&role_arn(&scope.account_id, name))
            .ok_or_else(|| no_such_entity(name))
    }

    /// Whether a role exists (by ARN).
    pub fn role_exists(&self, arn: &str) -> bool {
        self.security.roles.contains_key(arn)
    }

    /// `CreateRole` with a trust policy for `trusted_service`; replies with its ARN.
    /// Names: 1–64 of `[\w+=,.@-]`.
    pub fn create_role(
        &mut self,
        scope: &MemberScope,
        name: &str,
        trusted_service: &str,
    ) -> Rule<String> {
        let valid = (1..=64).contains(&name.chars().count())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
        if !valid {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                format!(
                    "ValidationError: role name {name:?} must be 1 to 64 of [A-Za-z0-9_+=,.@-]"
                ),
            ));
        }
        let arn = role_arn(&scope.account_id, name);
        // IAM compares role names case-insensitively.
        if self
            .security
            .roles
            .values()
            .any(|r| r.account_id == scope.account_id && r.name.eq_ignore_ascii_case(name))
        {
            return Err(other(
                "EntityAlreadyExists",
                format!("a role named {name} already exists"),
            ));
        }
        self.security.roles.insert(
            arn.clone(),
            SimRole {
                arn: arn.clone(),
                name: name.to_string(),
                account_id: scope.account_id.clone(),
                trusted_service: trusted_service.to_string(),
                policies: BTreeSet::new(),
            },
        );
        Ok(arn)
    }

    /// `AttachRolePolicy` (idempotent, as IAM's).
    pub fn attach_role_policy(
        &mut self,
        scope: &MemberScope,
        name: &str,
        policy: &str,
    ) -> Rule<()> {
        if !policy.starts_with("arn:aws:iam::") || !policy.contains(":policy/") {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                format!("InvalidInput: {policy:?} is not an IAM policy ARN"),
            ));
        }
        let role = self.role_mut(scope, name)?;
        if !role.policies.contains(policy) && role.policies.len() >= MAX_ROLE_POLICIES {
            return Err(other(
                "LimitExceeded",
                format!("role {name} already has {MAX_ROLE_POLICIES} managed policies"),
            ));
        }
        role.policies.insert(policy.to_string());
        Ok(())
    }

    /// `DetachRolePolicy`: `NoSuchEntity` when it is not attached.
    pub fn detach_role_policy(
        &mut self,
        scope: &MemberScope,
        name: &str,
        policy: &str,
    ) -> Rule<()> {
        let role = self.role_mut(scope, name)?;
        if !role.policies.remove(policy) {
            return Err(Denied::new(
                ErrorKind::NotFound,
                format!("NoSuchEntity: policy {policy} is not attached to role {name}"),
            ));
        }
        Ok(())
    }

    /// `DeleteRole`: its managed policies must be detached first (`DeleteConflict`).
    pub fn delete_role(&mut self, scope: &MemberScope, name: &str) -> Rule<()> {
        let role = self.role_mut(scope, name)?;
        if !role.policies.is_empty() {
            return Err(other(
                "DeleteConflict",
                format!("role {name} still has managed policies attached; detach them first"),
            ));
        }
        self.security
            .roles
            .remove(&role_arn(&scope.account_id, name));
        Ok(())
    }
}
