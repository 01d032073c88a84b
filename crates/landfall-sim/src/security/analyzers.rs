//! IAM Access Analyzer organization analyzers (`CreateAnalyzer`, type
//! `ORGANIZATION`): trusted access for `access-analyzer.amazonaws.com` first, from
//! the management account or Access Analyzer's delegated administrator; names unique
//! per account and region (`ConflictException`); one organization analyzer per
//! account and region (the sim's reading of the quotas, see docs/sim-model.md).

use landfall_core::model::Tags;
use landfall_engine::provider::{ErrorKind, MemberScope};
use serde::{Deserialize, Serialize};

use super::other;
use crate::world::{Denied, Rule, World};

const ACCESS_ANALYZER: &str = "access-analyzer.amazonaws.com";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimAnalyzer {
    pub arn: String,
    pub name: String,
    pub account_id: String,
    pub region: String,
    pub analyzer_type: String,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

impl World {
    /// `CreateAnalyzer` of type `ORGANIZATION`; replies with its ARN (`ACTIVE` at once).
    pub fn create_analyzer(
        &mut self,
        scope: &MemberScope,
        name: &str,
        tags: &Tags,
    ) -> Rule<String> {
        let mut chars = name.chars();
        let valid = (1..=255).contains(&name.chars().count())
            && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !valid {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                format!(
                    "ValidationException: analyzer name {name:?} must start with a letter, then letters, digits, _ . -"
                ),
            ));
        }
        if !self.has_service_access(ACCESS_ANALYZER) {
            return Err(other(
                "ValidationException",
                format!("trusted access for {ACCESS_ANALYZER} is not enabled in the organization"),
            ));
        }
        if scope.account_id != self.management_account_id
            && !self.is_delegated_admin(ACCESS_ANALYZER, &scope.account_id)
        {
            return Err(Denied::new(
                ErrorKind::AccessDenied,
                format!(
                    "AccessDeniedException: {} is neither the management account nor Access Analyzer's delegated administrator",
                    scope.account_id
                ),
            ));
        }
        let here = |a: &&SimAnalyzer| a.account_id == scope.account_id && a.region == scope.region;
        if self
            .security
            .analyzers
            .values()
            .filter(here)
            .any(|a| a.name == name)
        {
            return Err(other(
                "ConflictException",
                format!("an analyzer named {name} already exists"),
            ));
        }
        if self
            .security
            .analyzers
            .values()
            .filter(here)
            .any(|a| a.analyzer_type == "ORGANIZATION")
        {
            // Not ErrorKind::ServiceQuotaExceeded: that one is Control Tower's
            // retried in-flight quota; this one never clears by waiting.
            return Err(other(
                "ServiceQuotaExceededException",
                "an organization analyzer already exists in this account and region",
            ));
        }
        let arn = format!(
            "arn:aws:access-analyzer:{}:{}:analyzer/{name}",
            scope.region, scope.account_id
        );
        self.security.analyzers.insert(
            arn.clone(),
            SimAnalyzer {
                arn: arn.clone(),
                name: name.to_string(),
                account_id: scope.account_id.clone(),
                region: scope.region.clone(),
                analyzer_type: "ORGANIZATION".to_string(),
                tags: tags.clone(),
            },
        );
        Ok(arn)
    }

    /// `DeleteAnalyzer`.
    pub fn delete_analyzer(&mut self, scope: &MemberScope, name: &str) -> Rule<()> {
        let arn = format!(
            "arn:aws:access-analyzer:{}:{}:analyzer/{name}",
            scope.region, scope.account_id
        );
        if self.security.analyzers.remove(&arn).is_none() {
            return Err(Denied::new(
                ErrorKind::NotFound,
                format!("ResourceNotFoundException: no analyzer {name}"),
            ));
        }
        Ok(())
    }
}
