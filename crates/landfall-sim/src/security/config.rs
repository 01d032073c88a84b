//! AWS Config organization aggregators (`PutConfigurationAggregator` with an
//! `OrganizationAggregationSource` over all regions). The role must exist
//! (`InvalidRoleException`; right after `CreateRole`, under the AWS model, IAM has not
//! propagated it yet: the same code, retried). From the management account Config
//! enables its own trusted access (`config.amazonaws.com`); from a member account, the
//! account must be Config's registered delegated administrator
//! (`OrganizationAccessDeniedException`). `PutConfigurationAggregator` is idempotent
//! and ignores tags on an update, as AWS documents.

use landfall_core::model::Tags;
use landfall_engine::provider::{ErrorKind, MemberScope};
use serde::{Deserialize, Serialize};

use super::other;
use crate::world::{Denied, Rule, World};

const CONFIG: &str = "config.amazonaws.com";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimAggregator {
    pub arn: String,
    pub name: String,
    pub account_id: String,
    pub region: String,
    pub role_arn: String,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

impl World {
    fn aggregator_named(&self, scope: &MemberScope, name: &str) -> Option<&SimAggregator> {
        self.security.aggregators.values().find(|a| {
            a.name == name && a.account_id == scope.account_id && a.region == scope.region
        })
    }

    /// `PutConfigurationAggregator`; replies with its ARN. `propagating`: the role was
    /// created moments ago and IAM has not propagated it (AWS model).
    pub fn put_configuration_aggregator(
        &mut self,
        scope: &MemberScope,
        name: &str,
        role_arn: &str,
        tags: &Tags,
        propagating: bool,
    ) -> Rule<String> {
        let valid = (1..=256).contains(&name.chars().count())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                format!(
                    "ValidationException: aggregator name {name:?} must be 1 to 256 of [A-Za-z0-9_-]"
                ),
            ));
        }
        let management = scope.account_id == self.management_account_id;
        if !management && !self.is_delegated_admin(CONFIG, &scope.account_id) {
            return Err(other(
                "OrganizationAccessDeniedException",
                format!(
                    "{} is not a registered delegated administrator for {CONFIG}",
                    scope.account_id
                ),
            ));
        }
        if propagating {
            return Err(Denied::new(
                ErrorKind::NotYetPropagated,
                format!("InvalidRoleException: Config cannot assume {role_arn} yet"),
            ));
        }
        if !self.role_exists(role_arn) {
            return Err(other(
                "InvalidRoleException",
                format!("the role {role_arn} does not exist or Config cannot assume it"),
            ));
        }
        if management {
            self.security.service_access.insert(CONFIG.to_string());
        }
        if let Some(existing) = self.aggregator_named(scope, name).map(|a| a.arn.clone()) {
            if let Some(a) = self.security.aggregators.get_mut(&existing) {
                a.role_arn = role_arn.to_string();
            }
            return Ok(existing);
        }
        let suffix = format!("{:08x}", self.ids.next_u64() as u32);
        let arn = format!(
            "arn:aws:config:{}:{}:config-aggregator/config-aggregator-{suffix}",
            scope.region, scope.account_id
        );
        self.security.aggregators.insert(
            arn.clone(),
            SimAggregator {
                arn: arn.clone(),
                name: name.to_string(),
                account_id: scope.account_id.clone(),
                region: scope.region.clone(),
                role_arn: role_arn.to_string(),
                tags: tags.clone(),
            },
        );
        Ok(arn)
    }

    /// `DeleteConfigurationAggregator`.
    pub fn delete_configuration_aggregator(&mut self, scope: &MemberScope, name: &str) -> Rule<()> {
        let Some(arn) = self.aggregator_named(scope, name).map(|a| a.arn.clone()) else {
            return Err(Denied::new(
                ErrorKind::NotFound,
                format!("NoSuchConfigurationAggregatorException: no aggregator {name}"),
            ));
        };
        self.security.aggregators.remove(&arn);
        Ok(())
    }
}
