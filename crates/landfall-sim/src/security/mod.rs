//! Logging and security services: the organization's trusted access and delegated
//! administrators (Organizations), GuardDuty's and Security Hub's admin accounts, and
//! the resources Landfall's `[logging]` and `[security_services]` make — S3 buckets,
//! CloudTrail trails, IAM roles, AWS Config aggregators and IAM Access Analyzer
//! analyzers — with the rules those services enforce. Pure and synchronous like
//! [`crate::world`]; every rule validates before it changes anything.
//!
//! Calls run in an account and region ([`MemberScope`]): the account must be an
//! active account of the organization (the management account uses its own
//! credentials, members the access role), as for EC2 and KMS.
//!
//! Where to look:
//! - this file: what the world file holds ([`SecurityWorld`]), trusted access and
//!   delegated administrators (`EnableAWSServiceAccess`, `RegisterDelegatedAdministrator`,
//!   ...) and GuardDuty/Security Hub `EnableOrganizationAdminAccount`.
//! - `buckets`: S3 buckets (names, global uniqueness, Object Lock, encryption, policy,
//!   lifecycle, tags, objects a logging trail delivers).
//! - `policy_doc`: reading bucket and key policies for what CloudTrail needs.
//! - `trails`: CloudTrail trails and `CreateTrail`'s checks.
//! - `iam`: IAM roles (the Config aggregator's).
//! - `config`: AWS Config organization aggregators.
//! - `analyzers`: IAM Access Analyzer organization analyzers.
//! - `live`: what `refresh_security` reads.

mod analyzers;
mod buckets;
mod config;
mod iam;
mod live;
mod policy_doc;
mod trails;

use std::collections::{BTreeMap, BTreeSet};

use landfall_engine::call::AdminService;
use landfall_engine::provider::{ErrorKind, MemberScope};
use serde::{Deserialize, Serialize};

use crate::world::{Denied, Rule, World, account_not_found};

pub use analyzers::SimAnalyzer;
pub use buckets::{SimBucket, validate_bucket_name};
pub use config::SimAggregator;
pub use iam::SimRole;
pub use policy_doc::{grants_service, key_grants_service};
pub use trails::{MAX_TRAILS_PER_REGION, SimTrail};

/// Trusted access for AWS Account Management, kept apart in
/// [`World::account_management_access_disabled`] (on by default in the sim).
pub const ACCOUNT_MANAGEMENT: &str = "account.amazonaws.com";

/// Service principals AWS Organizations knows for trusted access
/// (`EnableAWSServiceAccess`); an unknown one is refused with
/// `InvalidInputException` (`UNRECOGNIZED_SERVICE_PRINCIPAL`). From the table of
/// *AWS services that you can use with AWS Organizations* (the ones a landing zone
/// meets; the sim's list, not AWS's whole one).
pub const TRUSTED_SERVICES: &[&str] = &[
    "access-analyzer.amazonaws.com",
    "account.amazonaws.com",
    "auditmanager.amazonaws.com",
    "backup.amazonaws.com",
    "cloudtrail.amazonaws.com",
    "compute-optimizer.amazonaws.com",
    "config.amazonaws.com",
    "config-multiaccountsetup.amazonaws.com",
    "controltower.amazonaws.com",
    "detective.amazonaws.com",
    "fms.amazonaws.com",
    "guardduty.amazonaws.com",
    "health.amazonaws.com",
    "inspector2.amazonaws.com",
    "ipam.amazonaws.com",
    "macie.amazonaws.com",
    "member.org.stacksets.cloudformation.amazonaws.com",
    "ram.amazonaws.com",
    "securityhub.amazonaws.com",
    "securitylake.amazonaws.com",
    "servicecatalog.amazonaws.com",
    "ssm.amazonaws.com",
    "sso.amazonaws.com",
    "storage-lens.s3.amazonaws.com",
    "tagpolicies.tag.amazonaws.com",
];

/// The services of [`TRUSTED_SERVICES`] that accept a delegated administrator
/// (the table's "Supports delegated administrator" column); the others are refused
/// with `InvalidInputException`.
pub const DELEGATED_ADMIN_SERVICES: &[&str] = &[
    "access-analyzer.amazonaws.com",
    "account.amazonaws.com",
    "auditmanager.amazonaws.com",
    "backup.amazonaws.com",
    "cloudtrail.amazonaws.com",
    "config.amazonaws.com",
    "config-multiaccountsetup.amazonaws.com",
    "detective.amazonaws.com",
    "fms.amazonaws.com",
    "guardduty.amazonaws.com",
    "inspector2.amazonaws.com",
    "ipam.amazonaws.com",
    "macie.amazonaws.com",
    "member.org.stacksets.cloudformation.amazonaws.com",
    "securityhub.amazonaws.com",
    "securitylake.amazonaws.com",
    "servicecatalog.amazonaws.com",
    "ssm.amazonaws.com",
    "sso.amazonaws.com",
    "storage-lens.s3.amazonaws.com",
];

/// What the logging and security services hold, as the world file stores it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityWorld {
    /// Service principals with trusted access (besides [`ACCOUNT_MANAGEMENT`]).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub service_access: BTreeSet<String>,
    /// Service principal → its delegated administrator accounts.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub delegated_admins: BTreeMap<String, BTreeSet<String>>,
    /// GuardDuty's and Security Hub's admin account, by service principal then
    /// region.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub organization_admins: BTreeMap<String, BTreeMap<String, String>>,
    /// S3 buckets by name (names are global).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub buckets: BTreeMap<String, SimBucket>,
    /// CloudTrail trails by ARN.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub trails: BTreeMap<String, SimTrail>,
    /// IAM roles by ARN.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<String, SimRole>,
    /// Config aggregators by ARN.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub aggregators: BTreeMap<String, SimAggregator>,
    /// Access Analyzer analyzers by ARN.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub analyzers: BTreeMap<String, SimAnalyzer>,
}

impl SecurityWorld {
    pub fn is_empty(&self) -> bool {
        *self == SecurityWorld::default()
    }

    /// Consistency checks for a loaded world file.
    pub fn check(&self) -> Result<(), String> {
        for (name, bucket) in &self.buckets {
            if *name != bucket.name {
                return Err(format!("bucket {name} is stored under another name"));
            }
        }
        for (arn, trail) in &self.trails {
            if *arn != trail.arn {
                return Err(format!("trail {arn} is stored under another ARN"));
            }
        }
        for (arn, role) in &self.roles {
            if *arn != role.arn {
                return Err(format!("role {arn} is stored under another ARN"));
            }
        }
        Ok(())
    }
}

pub(crate) fn other(code: &str, message: impl std::fmt::Display) -> Denied {
    Denied::new(
        ErrorKind::Other(code.to_string()),
        format!("{code}: {message}"),
    )
}

fn invalid_input(reason: &str, message: impl std::fmt::Display) -> Denied {
    Denied::new(
        ErrorKind::InvalidInput,
        format!("InvalidInputException ({reason}): {message}"),
    )
}

impl World {
    /// Whether a service principal has trusted access.
    pub fn has_service_access(&self, principal: &str) -> bool {
        if principal == ACCOUNT_MANAGEMENT {
            return !self.account_management_access_disabled;
        }
        self.security.service_access.contains(principal)
    }

    /// Every service principal with trusted access.
    pub fn service_access(&self) -> BTreeSet<String> {
        let mut all = self.security.service_access.clone();
        if !self.account_management_access_disabled {
            all.insert(ACCOUNT_MANAGEMENT.to_string());
        }
        all
    }

    /// Whether `account_id` is a delegated administrator for `principal`.
    pub fn is_delegated_admin(&self, principal: &str, account_id: &str) -> bool {
        self.security
            .delegated_admins
            .get(principal)
            .is_some_and(|accounts| accounts.contains(account_id))
    }

    fn recognized(principal: &str) -> Rule<()> {
        if TRUSTED_SERVICES.contains(&principal) {
            Ok(())
        } else {
            Err(invalid_input(
                "UNRECOGNIZED_SERVICE_PRINCIPAL",
                format!("you specified an unrecognized service principal: {principal}"),
            ))
        }
    }

    /// `EnableAWSServiceAccess`: idempotent, as in AWS.
    pub fn enable_service_access(&mut self, principal: &str) -> Rule<()> {
        Self::recognized(principal)?;
        if principal == ACCOUNT_MANAGEMENT {
            self.account_management_access_disabled = false;
        } else {
            self.security.service_access.insert(principal.to_string());
        }
        Ok(())
    }

    /// `DisableAWSServiceAccess`: idempotent; delegated administrators stay
    /// registered (AWS does not deregister them; the service stops working with the
    /// organization).
    pub fn disable_service_access(&mut self, principal: &str) -> Rule<()> {
        Self::recognized(principal)?;
        if principal == ACCOUNT_MANAGEMENT {
            self.account_management_access_disabled = true;
        } else {
            self.security.service_access.remove(principal);
        }
        Ok(())
    }

    /// `RegisterDelegatedAdministrator`: the service must accept delegated
    /// administrators and have trusted access; the account must be a member of the
    /// organization, not the management account, and not registered already.
    pub fn register_delegated_admin(&mut self, account_id: &str, principal: &str) -> Rule<()> {
        Self::recognized(principal)?;
        if !DELEGATED_ADMIN_SERVICES.contains(&principal) {
            return Err(invalid_input(
                "UNSUPPORTED_SERVICE_PRINCIPAL",
                format!("{principal} does not support a delegated administrator"),
            ));
        }
        if !self.accounts.contains_key(account_id) {
            return Err(account_not_found(account_id));
        }
        if account_id == self.management_account_id {
            return Err(Denied::new(
                ErrorKind::ConstraintViolation(
                    "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR".into(),
                ),
                format!(
                    "{account_id} is the management account; it cannot be a delegated administrator"
                ),
            ));
        }
        if !self.has_service_access(principal) {
            return Err(Denied::new(
                ErrorKind::ConstraintViolation("TRUSTED_ACCESS_NOT_ENABLED".into()),
                format!(
                    "trusted access for {principal} is not enabled; call EnableAWSServiceAccess first"
                ),
            ));
        }
        if self.is_delegated_admin(principal, account_id) {
            return Err(other(
                "AccountAlreadyRegisteredException",
                format!("{account_id} is already a delegated administrator for {principal}"),
            ));
        }
        self.security
            .delegated_admins
            .entry(principal.to_string())
            .or_default()
            .insert(account_id.to_string());
        Ok(())
    }

    /// `DeregisterDelegatedAdministrator`.
    pub fn deregister_delegated_admin(&mut self, account_id: &str, principal: &str) -> Rule<()> {
        Self::recognized(principal)?;
        if !self.accounts.contains_key(account_id) {
            return Err(account_not_found(account_id));
        }
        if !self.is_delegated_admin(principal, account_id) {
            return Err(other(
                "AccountNotRegisteredException",
                format!("{account_id} is not a delegated administrator for {principal}"),
            ));
        }
        if let Some(accounts) = self.security.delegated_admins.get_mut(principal) {
            accounts.remove(account_id);
            if accounts.is_empty() {
                self.security.delegated_admins.remove(principal);
            }
        }
        Ok(())
    }

    /// GuardDuty's / Security Hub's `EnableOrganizationAdminAccount`, from the
    /// management account in the scope's region. Like AWS, it enables the service's
    /// trusted access and registers the account as its Organizations delegated
    /// administrator. One admin account per service in the organization: another one
    /// is refused; the same one again succeeds.
    pub fn enable_organization_admin(
        &mut self,
        scope: &MemberScope,
        service: AdminService,
        account_id: &str,
    ) -> Rule<()> {
        let code = admin_error_code(service);
        let principal = service.service_principal();
        if scope.account_id != self.management_account_id {
            return Err(other(
                code,
                format!(
                    "only the organization's management account can designate the {principal} administrator; {} is not it",
                    scope.account_id
                ),
            ));
        }
        match self.accounts.get(account_id) {
            Some(a) if a.status == landfall_core::live::AccountStatus::Active => {}
            _ => {
                return Err(other(
                    code,
                    format!("{account_id} is not an active account of the organization"),
                ));
            }
        }
        if account_id == self.management_account_id {
            return Err(other(
                code,
                format!(
                    "the management account cannot be the {principal} administrator (AWS Organizations refuses it as a delegated administrator)"
                ),
            ));
        }
        let regions = self.security.organization_admins.get(principal);
        if let Some(current) = regions
            .into_iter()
            .flat_map(|r| r.values())
            .find(|a| *a != account_id)
        {
            return Err(other(
                code,
                format!(
                    "{current} is already the organization's {principal} administrator; disable it first"
                ),
            ));
        }
        self.security.service_access.insert(principal.to_string());
        self.security
            .delegated_admins
            .entry(principal.to_string())
            .or_default()
            .insert(account_id.to_string());
        self.security
            .organization_admins
            .entry(principal.to_string())
            .or_default()
            .insert(scope.region.clone(), account_id.to_string());
        Ok(())
    }

    /// `DisableOrganizationAdminAccount` in the scope's region; once no region has
    /// it, the Organizations delegated administrator goes too.
    pub fn disable_organization_admin(
        &mut self,
        scope: &MemberScope,
        service: AdminService,
        account_id: &str,
    ) -> Rule<()> {
        let code = admin_error_code(service);
        let principal = service.service_principal();
        if scope.account_id != self.management_account_id {
            return Err(other(
                code,
                "only the organization's management account can remove the administrator",
            ));
        }
        let Some(regions) = self.security.organization_admins.get_mut(principal) else {
            return Err(other(
                code,
                format!("{account_id} is not the {principal} administrator"),
            ));
        };
        if regions.get(&scope.region).map(String::as_str) != Some(account_id) {
            return Err(other(
                code,
                format!(
                    "{account_id} is not the {principal} administrator in {}",
                    scope.region
                ),
            ));
        }
        regions.remove(&scope.region);
        if regions.is_empty() {
            self.security.organization_admins.remove(principal);
            if let Some(accounts) = self.security.delegated_admins.get_mut(principal) {
                accounts.remove(account_id);
                if accounts.is_empty() {
                    self.security.delegated_admins.remove(principal);
                }
            }
        }
        Ok(())
    }
}

/// GuardDuty answers `BadRequestException`, Security Hub `InvalidInputException`
/// (its own, not Organizations').
fn admin_error_code(service: AdminService) -> &'static str {
    match service {
        AdminService::GuardDuty => "BadRequestException",
        AdminService::SecurityHub => "InvalidInputException",
    }
}
