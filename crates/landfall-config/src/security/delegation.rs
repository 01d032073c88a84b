//! Which AWS services accept a delegated administrator in an organization: the
//! "Supports delegated administrator" column of "AWS services that you can use with
//! AWS Organizations" (AWS Organizations User Guide), by service principal.
//! `RegisterDelegatedAdministrator` refuses any other principal, and the management
//! account is never one (CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR).

/// Service principals that accept a delegated administrator.
pub(crate) const DELEGATED_ADMIN_PRINCIPALS: &[&str] = &[
    "access-analyzer.amazonaws.com",
    "account.amazonaws.com",
    "auditmanager.amazonaws.com",
    "backup.amazonaws.com",
    "cloudtrail.amazonaws.com",
    "compute-optimizer.amazonaws.com",
    "config.amazonaws.com",
    "config-multiaccountsetup.amazonaws.com",
    "detective.amazonaws.com",
    "devops-guru.amazonaws.com",
    "fms.amazonaws.com",
    "guardduty.amazonaws.com",
    "health.amazonaws.com",
    "inspector2.amazonaws.com",
    "ipam.amazonaws.com",
    "license-manager.amazonaws.com",
    "macie.amazonaws.com",
    "member.org.stacksets.cloudformation.amazonaws.com",
    "reachabilityanalyzer.networkinsights.amazonaws.com",
    "securityhub.amazonaws.com",
    "securitylake.amazonaws.com",
    "servicecatalog.amazonaws.com",
    "ssm.amazonaws.com",
    "sso.amazonaws.com",
    "storage-lens.s3.amazonaws.com",
];

pub(crate) fn accepts_delegated_admin(principal: &str) -> bool {
    DELEGATED_ADMIN_PRINCIPALS.contains(&principal)
}

/// Account names that mean the management account, which cannot be a delegated
/// administrator, hold the log archive or be named as a member account: the
/// management account is never declared as `[account.NAME]`, so these are refused
/// with their own message rather than "not declared".
pub(crate) const MANAGEMENT_NAMES: &[&str] = &["management", "management-account", "master"];

pub(crate) fn means_management(name: &str) -> bool {
    MANAGEMENT_NAMES.contains(&name.to_ascii_lowercase().as_str())
}
