//! The AWS model: what a call to AWS costs in time, and when AWS refuses it for rate.
//! Opt-in (`[sim] model = "aws"`, `LANDFALL_SIM_FAULTS=model=aws`,
//! [`crate::SimBackend::with_aws_model`]); without it the sim answers at once.
//!
//! With the model, every call the sim answers (reads, writes, member-account calls,
//! status polls):
//! - takes a latency drawn around its API's mean ([`mean_latency`]) with a ±50 %
//!   uniform spread, from an RNG seeded with the sim's seed, slept with
//!   `tokio::time::sleep` (virtual time under a paused tokio clock);
//! - takes one token from the token bucket of its throttling class and scope
//!   ([`throttle_class`]: burst capacity, refill rate); an empty bucket answers
//!   throttling (`TooManyRequestsException`, or the service's own kind) and changes
//!   nothing;
//!
//! and asynchronous operations (account creation, Control Tower control and baseline
//! operations, Account Factory provisioning, Identity Center's account assignments and
//! permission set provisioning, a policy type's enabling, a new IAM role reaching
//! AWS Config) finish after a duration drawn around
//! their mean ([`AsyncKind::mean_duration`], ±25 %) instead of after a number of polls.
//! The hard concurrency limits AWS documents stay: 5 `CreateAccount` in progress
//! ([`CREATE_ACCOUNT_IN_PROGRESS`]) here, Control Tower's operations in flight in
//! [`crate::governance`], Identity Center's 10 outstanding `CreateAccountAssignment`
//! requests in [`crate::identity`] (counted by time: [`AwsModel::in_progress`]).
//!
//! Every figure, its source, and which are estimates: `docs/sim-model.md`. The model
//! also logs every call (API, time, outcome, the tokio task that made it) so
//! benchmarks can attribute calls to the changes that made them and price them at
//! the model's means.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use landfall_engine::call::SecurityCall;
use landfall_engine::provider::{
    Call, ErrorKind, GovernanceCall, IdentityRequest, MemberScope, OrganizationsCall, ProviderError,
};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tokio::time::Instant;

/// `CreateAccount` requests AWS Organizations lets be in progress at once (documented
/// quota); one more is refused with `ConcurrentModificationException` (retryable).
pub const CREATE_ACCOUNT_IN_PROGRESS: usize = 5;

/// Account Factory provisionings Control Tower runs at once (estimate: Control Tower
/// announced concurrent provisioning of up to five accounts; not enforced by the sim,
/// used by the bound).
pub const ACCOUNT_FACTORY_IN_FLIGHT: usize = 5;

/// What a token bucket is shared by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// One bucket for the whole organization (Organizations is a global service in
    /// the management account).
    Organization,
    /// One bucket per member account and region (EC2, KMS).
    AccountRegion,
    /// One bucket in the management account's home region (Control Tower, Service
    /// Catalog).
    HomeRegion,
    /// One bucket for the organization's IAM Identity Center instance (its SSO Admin
    /// and Identity Store APIs together).
    Instance,
}

/// A throttling class: a token bucket's capacity (burst) and refill rate, and what
/// shares it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThrottleClass {
    /// The class's name; a per-API class is named after its API.
    pub name: &'static str,
    /// Tokens when full: calls that can go at once.
    pub capacity: f64,
    /// Tokens added per second.
    pub refill_per_second: f64,
    pub scope: Scope,
    /// Whether each API has its own bucket of this size (EC2, KMS) rather than the
    /// class sharing one.
    pub per_api: bool,
    /// Documented (with the page) or an estimate.
    pub source: &'static str,
    /// The error kind AWS answers when the bucket is empty.
    pub throttled: ThrottleError,
}

/// The error a throttled call gets, named after the service's exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThrottleError {
    /// Organizations' `TooManyRequestsException`.
    TooManyRequests,
    /// `ThrottlingException` (KMS, Control Tower, Service Catalog) and EC2's
    /// `RequestLimitExceeded`, which Landfall's AWS backend maps to throttling too.
    Throttling,
}

impl ThrottleError {
    fn kind(self) -> ErrorKind {
        match self {
            ThrottleError::TooManyRequests => ErrorKind::TooManyRequests,
            ThrottleError::Throttling => ErrorKind::Throttling,
        }
    }
}

const EC2_DOC: &str = "documented: Request throttling for the Amazon EC2 API (request token bucket per API, per account and Region)";
const KMS_DOC: &str =
    "documented: AWS KMS request quotas (requests per second, per account and Region)";
const ESTIMATE: &str = "estimate (not documented by AWS)";

/// A logging or security service's bucket: one second's `rate` at once, refilled at
/// `rate`, per account and region (estimates, see `docs/sim-model.md`).
const fn per_account(name: &'static str, rate: f64, source: &'static str) -> ThrottleClass {
    ThrottleClass {
        name,
        capacity: rate,
        refill_per_second: rate,
        scope: Scope::AccountRegion,
        per_api: false,
        source,
        throttled: ThrottleError::Throttling,
    }
}

const S3_CONFIG: ThrottleClass = per_account(
    "s3-bucket-configuration",
    20.0,
    "estimate (S3 documents object request rates per prefix, not bucket configuration calls)",
);
const CLOUDTRAIL: ThrottleClass = per_account(
    "cloudtrail",
    10.0,
    "estimate (CloudTrail quotas list per-API TPS for some APIs; not read back)",
);
const IAM: ThrottleClass = per_account("iam", 10.0, ESTIMATE);
const CONFIG: ThrottleClass = per_account("config", 5.0, ESTIMATE);
const ACCESS_ANALYZER: ThrottleClass = per_account("access-analyzer", 5.0, ESTIMATE);
const GUARDDUTY: ThrottleClass = per_account("guardduty", 5.0, ESTIMATE);
const SECURITY_HUB: ThrottleClass = per_account("securityhub", 5.0, ESTIMATE);

const ORG_READS: ThrottleClass = ThrottleClass {
    name: "organizations-reads",
    capacity: 20.0,
    refill_per_second: 10.0,
    scope: Scope::Organization,
    per_api: false,
    source: ESTIMATE,
    throttled: ThrottleError::TooManyRequests,
};
const ORG_WRITES: ThrottleClass = ThrottleClass {
    name: "organizations-writes",
    capacity: 10.0,
    refill_per_second: 5.0,
    scope: Scope::Organization,
    per_api: false,
    source: ESTIMATE,
    throttled: ThrottleError::TooManyRequests,
};
const EC2_NON_MUTATING: ThrottleClass = ThrottleClass {
    name: "ec2-non-mutating",
    capacity: 100.0,
    refill_per_second: 20.0,
    scope: Scope::AccountRegion,
    per_api: true,
    source: EC2_DOC,
    throttled: ThrottleError::Throttling,
};
const EC2_MUTATING: ThrottleClass = ThrottleClass {
    name: "ec2-mutating",
    capacity: 200.0,
    refill_per_second: 5.0,
    scope: Scope::AccountRegion,
    per_api: true,
    source: EC2_DOC,
    throttled: ThrottleError::Throttling,
};
const CONTROL_TOWER_READS: ThrottleClass = ThrottleClass {
    name: "controltower-reads",
    capacity: 20.0,
    refill_per_second: 10.0,
    scope: Scope::HomeRegion,
    per_api: false,
    source: ESTIMATE,
    throttled: ThrottleError::Throttling,
};
const CONTROL_TOWER_WRITES: ThrottleClass = ThrottleClass {
    name: "controltower-writes",
    capacity: 10.0,
    refill_per_second: 2.0,
    scope: Scope::HomeRegion,
    per_api: false,
    source: ESTIMATE,
    throttled: ThrottleError::Throttling,
};
const CATALOG_READS: ThrottleClass = ThrottleClass {
    name: "servicecatalog-reads",
    capacity: 20.0,
    refill_per_second: 10.0,
    scope: Scope::HomeRegion,
    per_api: false,
    source: ESTIMATE,
    throttled: ThrottleError::Throttling,
};
/// "IAM Identity Center APIs have a collective throttle maximum of 20 transactions
/// per second" (IAM Identity Center quotas, throttle limits): one bucket of one
/// second's rate, reads and writes together.
const IDENTITY_CENTER: ThrottleClass = ThrottleClass {
    name: "identity-center",
    capacity: 20.0,
    refill_per_second: 20.0,
    scope: Scope::Instance,
    per_api: false,
    source: "documented: IAM Identity Center quotas (collective throttle maximum of 20 TPS)",
    throttled: ThrottleError::Throttling,
};
const CATALOG_WRITES: ThrottleClass = ThrottleClass {
    name: "servicecatalog-writes",
    capacity: 10.0,
    refill_per_second: 5.0,
    scope: Scope::HomeRegion,
    per_api: false,
    source: ESTIMATE,
    throttled: ThrottleError::Throttling,
};

/// A KMS operation's quota: a bucket holding one second of its rate.
const fn kms(name: &'static str, per_second: f64) -> ThrottleClass {
    ThrottleClass {
        name,
        capacity: per_second,
        refill_per_second: per_second,
        scope: Scope::AccountRegion,
        per_api: true,
        source: KMS_DOC,
        throttled: ThrottleError::Throttling,
    }
}

/// The AWS service an API belongs to, as the model prices it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Organizations,
    Ec2,
    Kms,
    ControlTower,
    ServiceCatalog,
    /// IAM Identity Center: SSO Admin and the Identity Store.
    IdentityCenter,
    /// S3 bucket configuration calls (per account and region).
    S3,
    CloudTrail,
    /// IAM (roles), per account.
    Iam,
    /// AWS Config.
    Config,
    /// IAM Access Analyzer.
    AccessAnalyzer,
    /// GuardDuty's organization admin calls, from the management account.
    GuardDuty,
    /// Security Hub's organization admin calls, from the management account.
    SecurityHub,
}

impl Service {
    /// The service of a pacing class of the logging and security calls (the sim names
    /// their service itself: `AddTags`, `TagResource`, `CreateRole` say nothing of it).
    pub fn of_security_class(class: landfall_engine::pacing::ApiClass) -> Service {
        use landfall_engine::pacing::ApiClass as A;
        match class {
            A::S3 => Service::S3,
            A::CloudTrail => Service::CloudTrail,
            A::Iam | A::IamReads => Service::Iam,
            A::Config => Service::Config,
            A::AccessAnalyzer => Service::AccessAnalyzer,
            A::GuardDuty => Service::GuardDuty,
            A::SecurityHub => Service::SecurityHub,
            A::OrganizationsReads | A::OrganizationsWrites => Service::Organizations,
            A::IdentityCenter => Service::IdentityCenter,
            A::Ec2Reads | A::Ec2Writes => Service::Ec2,
            A::KmsReads | A::KmsWrites => Service::Kms,
            A::ControlTowerReads | A::ControlTowerWrites => Service::ControlTower,
            A::ServiceCatalogReads | A::ServiceCatalogWrites | A::PortfolioShares => {
                Service::ServiceCatalog
            }
            A::Sts => Service::Iam,
        }
    }
}

const KMS_APIS: &[&str] = &[
    "CreateKey",
    "EnableKeyRotation",
    "DisableKeyRotation",
    "PutKeyPolicy",
    "UpdateKeyDescription",
    "ScheduleKeyDeletion",
    "CancelKeyDeletion",
    "CreateAlias",
    "UpdateAlias",
    "DeleteAlias",
    "TagResource",
    "UntagResource",
    "EnableKey",
    "DisableKey",
    "ListKeys",
    "ListAliases",
    "DescribeKey",
    "GetKeyPolicy",
    "GetKeyRotationStatus",
    "ListResourceTags",
];

const CONTROL_TOWER_APIS: &[&str] = &[
    "EnableControl",
    "DisableControl",
    "UpdateEnabledControl",
    "ResetEnabledControl",
    "EnableBaseline",
    "UpdateEnabledBaseline",
    "ResetEnabledBaseline",
    "DisableBaseline",
    "GetControlOperation",
    "GetBaselineOperation",
    "ListEnabledControls",
    "ListEnabledBaselines",
    "GetEnabledBaseline",
    "GetEnabledControl",
    "ListLandingZones",
    "GetLandingZone",
    "ModifyControlResources",
    "ModifyBaselineResources",
];

const CATALOG_APIS: &[&str] = &[
    "ProvisionProduct",
    "UpdateProvisionedProduct",
    "DescribeRecord",
    "SearchProvisionedProducts",
    "CreatePortfolio",
    "UpdatePortfolio",
    "DeletePortfolio",
    "CreatePortfolioShare",
    "DeletePortfolioShare",
    "DescribePortfolioShareStatus",
    "ListPortfolios",
    "DescribePortfolio",
    "ListOrganizationPortfolioAccess",
    "GetAWSOrganizationsAccessStatus",
    "DescribeProduct",
];

/// IAM Identity Center's APIs the sim answers. Its `TagResource`, `UntagResource` and
/// `ListTagsForResource` share their names with Organizations': the sim names the
/// service of those calls itself ([`AwsModel::call_as`]).
pub const IDENTITY_CENTER_APIS: &[&str] = &[
    "ListInstances",
    "CreatePermissionSet",
    "UpdatePermissionSet",
    "DeletePermissionSet",
    "DescribePermissionSet",
    "ListPermissionSets",
    "AttachManagedPolicyToPermissionSet",
    "DetachManagedPolicyFromPermissionSet",
    "ListManagedPoliciesInPermissionSet",
    "AttachCustomerManagedPolicyReferenceToPermissionSet",
    "DetachCustomerManagedPolicyReferenceFromPermissionSet",
    "ListCustomerManagedPolicyReferencesInPermissionSet",
    "PutInlinePolicyToPermissionSet",
    "DeleteInlinePolicyFromPermissionSet",
    "GetInlinePolicyForPermissionSet",
    "PutPermissionsBoundaryToPermissionSet",
    "DeletePermissionsBoundaryFromPermissionSet",
    "GetPermissionsBoundaryForPermissionSet",
    "ProvisionPermissionSet",
    "DescribePermissionSetProvisioningStatus",
    "ListAccountsForProvisionedPermissionSet",
    "CreateAccountAssignment",
    "DeleteAccountAssignment",
    "DescribeAccountAssignmentCreationStatus",
    "DescribeAccountAssignmentDeletionStatus",
    "ListAccountAssignments",
    "CreateGroup",
    "UpdateGroup",
    "DeleteGroup",
    "DescribeGroup",
    "GetGroupId",
    "GetUserId",
];

/// The service of an API: member-account calls are EC2 or KMS, the others
/// Organizations, Control Tower or Service Catalog (`TagResource` is KMS's in a member
/// account and Organizations' otherwise).
pub fn service_of(api: &str, member: bool) -> Service {
    if member {
        if KMS_APIS.contains(&api) {
            Service::Kms
        } else {
            Service::Ec2
        }
    } else if CONTROL_TOWER_APIS.contains(&api) {
        Service::ControlTower
    } else if IDENTITY_CENTER_APIS.contains(&api) {
        Service::IdentityCenter
    } else if CATALOG_APIS.contains(&api) {
        Service::ServiceCatalog
    } else {
        Service::Organizations
    }
}

/// Whether an API only reads.
fn is_read(api: &str) -> bool {
    ["Describe", "List", "Get", "Search"]
        .iter()
        .any(|p| api.starts_with(p))
}

/// The throttling class of an API (see `docs/sim-model.md` for each figure's source).
pub fn throttle_class(api: &str, member: bool) -> ThrottleClass {
    throttle_class_of(api, service_of(api, member))
}

/// The throttling class of an API of `service`.
pub fn throttle_class_of(api: &str, service: Service) -> ThrottleClass {
    let read = is_read(api);
    match service {
        Service::Organizations if read => ORG_READS,
        Service::Organizations => ORG_WRITES,
        Service::Ec2 if read => EC2_NON_MUTATING,
        Service::Ec2 => EC2_MUTATING,
        Service::Kms => match api {
            "DescribeKey" => kms("DescribeKey", 2000.0),
            "GetKeyPolicy" => kms("GetKeyPolicy", 1000.0),
            "GetKeyRotationStatus" => kms("GetKeyRotationStatus", 1000.0),
            "ListKeys" => kms("ListKeys", 100.0),
            "ListAliases" => kms("ListAliases", 100.0),
            "ListResourceTags" => kms("ListResourceTags", 50.0),
            "TagResource" => kms("TagResource", 10.0),
            "UntagResource" => kms("UntagResource", 10.0),
            // CreateKey (5/s per account and Region) and the other key-management
            // writes share the documented 5/s.
            "CreateKey" => kms("CreateKey", 5.0),
            "EnableKeyRotation" => kms("EnableKeyRotation", 5.0),
            "DisableKeyRotation" => kms("DisableKeyRotation", 5.0),
            "PutKeyPolicy" => kms("PutKeyPolicy", 5.0),
            "UpdateKeyDescription" => kms("UpdateKeyDescription", 5.0),
            "ScheduleKeyDeletion" => kms("ScheduleKeyDeletion", 5.0),
            "CancelKeyDeletion" => kms("CancelKeyDeletion", 5.0),
            "CreateAlias" => kms("CreateAlias", 5.0),
            "UpdateAlias" => kms("UpdateAlias", 5.0),
            "DeleteAlias" => kms("DeleteAlias", 5.0),
            "EnableKey" => kms("EnableKey", 5.0),
            "DisableKey" => kms("DisableKey", 5.0),
            other => kms_unknown(other),
        },
        Service::ControlTower if read => CONTROL_TOWER_READS,
        Service::ControlTower => CONTROL_TOWER_WRITES,
        Service::ServiceCatalog if read => CATALOG_READS,
        Service::ServiceCatalog => CATALOG_WRITES,
        Service::IdentityCenter => IDENTITY_CENTER,
        Service::S3 => S3_CONFIG,
        Service::CloudTrail => CLOUDTRAIL,
        Service::Iam => IAM,
        Service::Config => CONFIG,
        Service::AccessAnalyzer => ACCESS_ANALYZER,
        Service::GuardDuty => GUARDDUTY,
        Service::SecurityHub => SECURITY_HUB,
    }
}

/// A KMS API outside the table (none today: `KMS_APIS` lists what the table prices):
/// the key-management 5/s.
fn kms_unknown(_api: &str) -> ThrottleClass {
    kms("kms-key-management", 5.0)
}

/// The mean latency of one call of `api` (all estimates: AWS documents no latencies;
/// see `docs/sim-model.md`).
pub fn mean_latency(api: &str, member: bool) -> Duration {
    mean_latency_of(api, service_of(api, member))
}

/// The mean latency of one call of `api` of `service` (estimates).
pub fn mean_latency_of(api: &str, service: Service) -> Duration {
    let ms = match (service, is_read(api)) {
        (Service::Organizations, true) => 120,
        (Service::Organizations, false) => match api {
            "CreateAccount" => 400,
            _ => 250,
        },
        (Service::Ec2, true) => 150,
        (Service::Ec2, false) => match api {
            "CreateVpcEndpoint" | "DeleteVpcEndpoints" | "ModifyVpcEndpoint" => 500,
            _ => 250,
        },
        (Service::Kms, true) => 60,
        (Service::Kms, false) => match api {
            "CreateKey" => 300,
            _ => 120,
        },
        (Service::ControlTower, true) => 150,
        (Service::ControlTower, false) => 300,
        (Service::ServiceCatalog, true) => 150,
        (Service::ServiceCatalog, false) => match api {
            "ProvisionProduct" | "UpdateProvisionedProduct" => 800,
            _ => 300,
        },
        (Service::IdentityCenter, true) => 100,
        (Service::IdentityCenter, false) => 200,
        (Service::S3, true) => 60,
        (Service::S3, false) => match api {
            "CreateBucket" => 400,
            _ => 150,
        },
        (Service::CloudTrail, true) => 100,
        (Service::CloudTrail, false) => match api {
            "CreateTrail" | "UpdateTrail" => 600,
            _ => 200,
        },
        (Service::Iam, true) => 80,
        (Service::Iam, false) => 200,
        (Service::Config, true) => 120,
        (Service::Config, false) => 300,
        (Service::AccessAnalyzer, true) => 100,
        (Service::AccessAnalyzer, false) => 300,
        (Service::GuardDuty | Service::SecurityHub, true) => 100,
        (Service::GuardDuty | Service::SecurityHub, false) => 400,
    };
    Duration::from_millis(ms)
}

/// An asynchronous AWS operation that finishes in time, not in polls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AsyncKind {
    /// `CreateAccount` until `DescribeCreateAccountStatus` says `SUCCEEDED`.
    AccountCreation,
    /// A Control Tower control operation (enable, disable, update, reset).
    ControlOperation,
    /// A Control Tower baseline operation (OU registration and its updates).
    BaselineOperation,
    /// An Account Factory provisioning (or update) record.
    Provisioning,
    /// IAM Identity Center `CreateAccountAssignment`.
    AssignmentCreation,
    /// IAM Identity Center `DeleteAccountAssignment`.
    AssignmentDeletion,
    /// IAM Identity Center `ProvisionPermissionSet`.
    PermissionSetProvisioning,
    /// `EnablePolicyType`: the root lists the type `PENDING_ENABLE` meanwhile.
    PolicyTypeEnable,
    /// A role `CreateRole` made reaching the services that assume it (IAM is
    /// eventually consistent): AWS Config answers `InvalidRoleException` meanwhile.
    RolePropagation,
}

impl AsyncKind {
    pub const ALL: [AsyncKind; 9] = [
        AsyncKind::AccountCreation,
        AsyncKind::ControlOperation,
        AsyncKind::BaselineOperation,
        AsyncKind::Provisioning,
        AsyncKind::AssignmentCreation,
        AsyncKind::AssignmentDeletion,
        AsyncKind::PermissionSetProvisioning,
        AsyncKind::PolicyTypeEnable,
        AsyncKind::RolePropagation,
    ];

    /// The operation a call starts, if it starts one.
    pub fn of(call: &Call<'_>) -> Option<AsyncKind> {
        match *call {
            Call::Organizations(c) => match c {
                OrganizationsCall::CreateAccount(_) => Some(AsyncKind::AccountCreation),
                OrganizationsCall::EnablePolicyType { .. } => Some(AsyncKind::PolicyTypeEnable),
                OrganizationsCall::CreateOrganizationalUnit { .. }
                | OrganizationsCall::UpdateOrganizationalUnit { .. }
                | OrganizationsCall::DeleteOrganizationalUnit { .. }
                | OrganizationsCall::MoveAccount { .. }
                | OrganizationsCall::PutAccountName { .. }
                | OrganizationsCall::CloseAccount { .. }
                | OrganizationsCall::TagResource { .. }
                | OrganizationsCall::UntagResource { .. }
                | OrganizationsCall::CreatePolicy { .. }
                | OrganizationsCall::UpdatePolicy { .. }
                | OrganizationsCall::DeletePolicy { .. }
                | OrganizationsCall::AttachPolicy { .. }
                | OrganizationsCall::DetachPolicy { .. }
                | OrganizationsCall::DisablePolicyType { .. }
                | OrganizationsCall::EnableAwsServiceAccess { .. }
                | OrganizationsCall::DisableAwsServiceAccess { .. }
                | OrganizationsCall::RegisterDelegatedAdministrator { .. }
                | OrganizationsCall::DeregisterDelegatedAdministrator { .. } => None,
            },
            Call::Security(_, SecurityCall::CreateRole { .. }) => Some(AsyncKind::RolePropagation),
            Call::Member(..) | Call::Security(..) => None,
            Call::Identity(c) => match c.request()? {
                IdentityRequest::AssignmentCreation => Some(AsyncKind::AssignmentCreation),
                IdentityRequest::AssignmentDeletion => Some(AsyncKind::AssignmentDeletion),
                IdentityRequest::Provisioning => Some(AsyncKind::PermissionSetProvisioning),
            },
            Call::Governance(c) => match c {
                GovernanceCall::EnableControl { .. }
                | GovernanceCall::DisableControl { .. }
                | GovernanceCall::UpdateEnabledControl { .. }
                | GovernanceCall::ResetEnabledControl { .. } => Some(AsyncKind::ControlOperation),
                GovernanceCall::EnableBaseline { .. }
                | GovernanceCall::UpdateEnabledBaseline { .. }
                | GovernanceCall::ResetEnabledBaseline { .. }
                | GovernanceCall::DisableBaseline { .. } => Some(AsyncKind::BaselineOperation),
                GovernanceCall::ProvisionProduct(_)
                | GovernanceCall::UpdateProvisionedProduct { .. } => Some(AsyncKind::Provisioning),
                GovernanceCall::CreatePortfolio { .. }
                | GovernanceCall::UpdatePortfolio { .. }
                | GovernanceCall::DeletePortfolio { .. }
                | GovernanceCall::CreatePortfolioShare { .. }
                | GovernanceCall::DeletePortfolioShare { .. } => None,
            },
        }
    }

    /// The mean duration (all estimates; see `docs/sim-model.md`).
    pub fn mean_duration(self) -> Duration {
        Duration::from_secs(match self {
            AsyncKind::AccountCreation => 60,
            AsyncKind::ControlOperation => 90,
            AsyncKind::BaselineOperation => 300,
            AsyncKind::Provisioning => 1200,
            // Identity Center creates, updates or deletes one IAM role in the account:
            // a few seconds.
            AsyncKind::AssignmentCreation
            | AsyncKind::AssignmentDeletion
            | AsyncKind::PermissionSetProvisioning => 4,
            // AWS documents neither; seconds, as observed.
            AsyncKind::PolicyTypeEnable => 5,
            AsyncKind::RolePropagation => 8,
        })
    }

    /// The status read that polls it.
    pub fn poll_api(self) -> &'static str {
        match self {
            AsyncKind::AccountCreation => "DescribeCreateAccountStatus",
            AsyncKind::ControlOperation => "GetControlOperation",
            AsyncKind::BaselineOperation => "GetBaselineOperation",
            AsyncKind::Provisioning => "DescribeRecord",
            AsyncKind::AssignmentCreation => "DescribeAccountAssignmentCreationStatus",
            AsyncKind::AssignmentDeletion => "DescribeAccountAssignmentDeletionStatus",
            AsyncKind::PermissionSetProvisioning => "DescribePermissionSetProvisioningStatus",
            AsyncKind::PolicyTypeEnable => "ListRoots",
            // Landfall waits by retrying the call Config refused.
            AsyncKind::RolePropagation => "PutConfigurationAggregator",
        }
    }

    /// How many AWS runs at once, when it documents a hard limit (control and baseline
    /// operations share Control Tower's quota, given by the caller).
    pub fn name(self) -> &'static str {
        match self {
            AsyncKind::AccountCreation => "account creation",
            AsyncKind::ControlOperation => "control operation",
            AsyncKind::BaselineOperation => "baseline operation",
            AsyncKind::Provisioning => "Account Factory provisioning",
            AsyncKind::AssignmentCreation => "account assignment creation",
            AsyncKind::AssignmentDeletion => "account assignment deletion",
            AsyncKind::PermissionSetProvisioning => "permission set provisioning",
            AsyncKind::PolicyTypeEnable => "policy type enabling",
            AsyncKind::RolePropagation => "IAM role propagation",
        }
    }
}

/// How a call went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Answered (whatever the rule then said).
    Served,
    /// Refused by the model's token bucket.
    Throttled,
    /// Refused by the injected `throttle_rate`.
    Injected,
}

/// One call as the model saw it.
#[derive(Clone, Debug)]
pub struct CallRecord {
    pub api: &'static str,
    /// Made in a member account (EC2, KMS).
    pub member: bool,
    /// When it arrived.
    pub at: Instant,
    pub outcome: Outcome,
    /// The tokio task that made it (each executor change runs in its own task).
    pub task: Option<tokio::task::Id>,
    /// The bucket it drew from: class name and scope key.
    pub bucket: (&'static str, String),
    /// Its throttling class (the service named it: Identity Center's `TagResource` is
    /// not Organizations').
    pub class: ThrottleClass,
    /// The round trip drawn for it.
    pub latency: Duration,
}

/// One asynchronous operation started.
#[derive(Clone, Debug)]
pub struct OperationRecord {
    pub kind: AsyncKind,
    pub id: String,
    pub started: Instant,
    pub ready_at: Instant,
    pub task: Option<tokio::task::Id>,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

struct State {
    rng: StdRng,
    buckets: HashMap<(&'static str, String), Bucket>,
    operations: HashMap<String, OperationRecord>,
    log: Vec<CallRecord>,
}

/// The model in force for one backend: its RNG, buckets, running operations and log.
pub struct AwsModel {
    state: Mutex<State>,
}

/// Takes a token from a bucket (refilled for the time since its last use); false
/// when it is empty.
fn take(bucket: &mut Bucket, now: Instant, class: &ThrottleClass) -> bool {
    let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
    bucket.tokens = (bucket.tokens + elapsed * class.refill_per_second).min(class.capacity);
    bucket.last = now;
    if bucket.tokens >= 1.0 {
        bucket.tokens -= 1.0;
        true
    } else {
        false
    }
}

impl AwsModel {
    /// A model whose draws come from `seed` (offset from the id and fault streams).
    pub fn new(seed: u64) -> Self {
        AwsModel {
            state: Mutex::new(State {
                rng: StdRng::seed_from_u64(seed ^ 0xA75_30DE1),
                buckets: HashMap::new(),
                operations: HashMap::new(),
                log: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One call arriving: its bucket decides whether it is served (a token taken) or
    /// throttled — unless `injected` throttling refuses it first —, then it takes its
    /// latency either way (a refusal is a round trip too).
    pub async fn call(
        &self,
        api: &'static str,
        scope: Option<&MemberScope>,
        injected: bool,
    ) -> Result<(), ProviderError> {
        self.call_as(api, scope, None, injected).await
    }

    /// [`Self::call`] of an API of `service` when the caller knows it (`None`: from
    /// the API's name, [`service_of`]).
    pub async fn call_as(
        &self,
        api: &'static str,
        scope: Option<&MemberScope>,
        service: Option<Service>,
        injected: bool,
    ) -> Result<(), ProviderError> {
        let service = service.unwrap_or_else(|| service_of(api, scope.is_some()));
        let class = throttle_class_of(api, service);
        let mean = mean_latency_of(api, service);
        let key = bucket_key(api, scope, &class);
        let now = Instant::now();
        let (outcome, latency) = {
            let mut state = self.lock();
            let outcome = if injected {
                Outcome::Injected
            } else {
                let bucket = state.buckets.entry(key.clone()).or_insert(Bucket {
                    tokens: class.capacity,
                    last: now,
                });
                if take(bucket, now, &class) {
                    Outcome::Served
                } else {
                    Outcome::Throttled
                }
            };
            let latency = mean.mul_f64(state.rng.random_range(0.5..1.5));
            state.log.push(CallRecord {
                api,
                member: scope.is_some(),
                at: now,
                outcome,
                task: tokio::task::try_id(),
                bucket: key,
                class,
                latency,
            });
            (outcome, latency)
        };
        tokio::time::sleep(latency).await;
        match outcome {
            Outcome::Served => Ok(()),
            Outcome::Throttled => Err(ProviderError::new(
                class.throttled.kind(),
                api,
                format!(
                    "Rate exceeded ({}: {} tokens, {}/s, per {}; the sim's AWS model)",
                    class.name,
                    class.capacity,
                    class.refill_per_second,
                    scope_text(class.scope)
                ),
            )),
            Outcome::Injected => Err(ProviderError::new(
                ErrorKind::TooManyRequests,
                api,
                "Rate exceeded (injected by the sim on top of its AWS model)",
            )),
        }
    }

    /// Starts the clock of an asynchronous operation the world just accepted.
    pub fn start(&self, kind: AsyncKind, id: &str) {
        let now = Instant::now();
        let mut state = self.lock();
        let duration = kind
            .mean_duration()
            .mul_f64(state.rng.random_range(0.75..1.25));
        state.operations.insert(
            id.to_string(),
            OperationRecord {
                kind,
                id: id.to_string(),
                started: now,
                ready_at: now + duration,
                task: tokio::task::try_id(),
            },
        );
    }

    /// Whether an operation this model started is still running (an id it never
    /// started — an earlier process's — is not).
    pub fn running(&self, id: &str) -> bool {
        self.lock()
            .operations
            .get(id)
            .is_some_and(|op| op.ready_at > Instant::now())
    }

    /// Account creations still running.
    pub fn account_creations_in_progress(&self) -> usize {
        let now = Instant::now();
        self.lock()
            .operations
            .values()
            .filter(|op| op.kind == AsyncKind::AccountCreation && op.ready_at > now)
            .count()
    }

    /// Operations of `kind` still running.
    pub fn in_progress(&self, kind: AsyncKind) -> usize {
        let now = Instant::now();
        self.lock()
            .operations
            .values()
            .filter(|op| op.kind == kind && op.ready_at > now)
            .count()
    }

    /// Every call so far, in arrival order.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.lock().log.clone()
    }

    /// Every asynchronous operation started so far.
    pub fn operations(&self) -> Vec<OperationRecord> {
        let mut ops: Vec<_> = self.lock().operations.values().cloned().collect();
        ops.sort_by(|a, b| a.started.cmp(&b.started).then(a.id.cmp(&b.id)));
        ops
    }

    /// Forgets the log and the operations (buckets and RNG keep going): a benchmark
    /// measures one phase at a time.
    pub fn clear_log(&self) {
        let mut state = self.lock();
        state.log.clear();
        state.operations.clear();
    }
}

fn scope_text(scope: Scope) -> &'static str {
    match scope {
        Scope::Organization => "organization",
        Scope::AccountRegion => "account and Region",
        Scope::HomeRegion => "home Region",
        Scope::Instance => "IAM Identity Center instance",
    }
}

/// The bucket a call draws from: its class (or its API, for per-API classes) and the
/// account and region when the class is scoped to them.
pub fn bucket_key(
    api: &'static str,
    scope: Option<&MemberScope>,
    class: &ThrottleClass,
) -> (&'static str, String) {
    let name = if class.per_api { api } else { class.name };
    let where_ = match (class.scope, scope) {
        (Scope::AccountRegion, Some(s)) => format!("{}/{}", s.account_id, s.region),
        (Scope::AccountRegion, None)
        | (Scope::Organization, _)
        | (Scope::HomeRegion, _)
        | (Scope::Instance, _) => String::new(),
    };
    (name, where_)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(account: &str) -> MemberScope {
        MemberScope {
            account_id: account.into(),
            region: "us-east-1".into(),
        }
    }

    /// Whether a call of `api` arriving now gets a token.
    fn admit(model: &AwsModel, api: &'static str, scope: Option<&MemberScope>) -> bool {
        let class = throttle_class(api, scope.is_some());
        let now = Instant::now();
        let mut state = model.lock();
        let bucket = state
            .buckets
            .entry(bucket_key(api, scope, &class))
            .or_insert(Bucket {
                tokens: class.capacity,
                last: now,
            });
        take(bucket, now, &class)
    }

    #[tokio::test(start_paused = true)]
    async fn a_bucket_serves_its_burst_then_its_refill_rate() {
        let model = AwsModel::new(1);
        // Organizations writes: 10 at once, then 5/s, one bucket for every write.
        let burst = (0..15)
            .filter(|_| admit(&model, "CreatePolicy", None))
            .count();
        assert_eq!(burst, 10, "the burst is the capacity");
        tokio::time::advance(Duration::from_secs(1)).await;
        let refilled = (0..7)
            .filter(|_| admit(&model, "AttachPolicy", None))
            .count();
        assert_eq!(
            refilled, 5,
            "one second refills 5 tokens, shared by every write"
        );
        tokio::time::advance(Duration::from_secs(60)).await;
        let full = (0..15)
            .filter(|_| admit(&model, "MoveAccount", None))
            .count();
        assert_eq!(full, 10, "a bucket never holds more than its capacity");
    }

    #[tokio::test(start_paused = true)]
    async fn throttled_calls_say_which_bucket_and_are_logged() {
        let model = std::sync::Arc::new(AwsModel::new(1));
        let s = scope("111111111111");
        // KMS CreateKey: 5 per second per account and region; six arrive at once.
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..6 {
            let (model, s) = (model.clone(), s.clone());
            set.spawn(async move { model.call("CreateKey", Some(&s), false).await });
        }
        let results = set.join_all().await;
        let throttled: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(throttled.len(), 1, "{results:?}");
        assert_eq!(throttled[0].kind, ErrorKind::Throttling);
        assert!(
            throttled[0].message.contains("CreateKey"),
            "{}",
            throttled[0]
        );
        // Another account has its own bucket; injected throttling takes no token.
        let other = scope("222222222222");
        assert!(model.call("CreateKey", Some(&other), false).await.is_ok());
        let injected = model.call("CreateKey", Some(&other), true).await;
        assert_eq!(
            injected.map_err(|e| e.kind),
            Err(ErrorKind::TooManyRequests)
        );
        let log = model.calls();
        assert_eq!(log.len(), 8);
        let count = |o: Outcome| log.iter().filter(|c| c.outcome == o).count();
        assert_eq!(
            (
                count(Outcome::Served),
                count(Outcome::Throttled),
                count(Outcome::Injected)
            ),
            (6, 1, 1)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn latency_is_deterministic_for_a_seed_and_spread_around_the_mean() {
        async fn latencies(seed: u64) -> Vec<Duration> {
            let model = AwsModel::new(seed);
            let mut out = Vec::new();
            for _ in 0..20 {
                let t = Instant::now();
                model.call("ListRoots", None, false).await.ok();
                out.push(t.elapsed());
                // Keep the read bucket from running dry.
                tokio::time::advance(Duration::from_secs(1)).await;
            }
            out
        }
        let a = latencies(7).await;
        assert_eq!(a, latencies(7).await, "same seed, same latencies");
        assert_ne!(a, latencies(8).await, "another seed, other latencies");
        let mean = mean_latency("ListRoots", false);
        assert!(
            a.iter().all(|d| *d >= mean / 2 && *d <= mean * 3 / 2),
            "{a:?}"
        );
        assert!(a.iter().any(|d| *d != a[0]), "latencies spread: {a:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn operations_finish_by_time_not_by_polls() {
        let model = AwsModel::new(3);
        model.start(AsyncKind::AccountCreation, "car-1");
        assert!(model.running("car-1"));
        assert_eq!(model.account_creations_in_progress(), 1);
        let mean = AsyncKind::AccountCreation.mean_duration();
        tokio::time::advance(mean * 3 / 4 - Duration::from_millis(1)).await;
        assert!(model.running("car-1"), "not before 75 % of the mean");
        tokio::time::advance(mean / 2 + Duration::from_millis(2)).await;
        assert!(!model.running("car-1"), "done by 125 % of the mean");
        assert_eq!(model.account_creations_in_progress(), 0);
        assert!(!model.running("never-started"));
    }

    #[test]
    fn security_services_are_throttled_per_account_and_region() {
        use landfall_engine::pacing::ApiClass;
        for class in [
            ApiClass::S3,
            ApiClass::CloudTrail,
            ApiClass::Iam,
            ApiClass::Config,
            ApiClass::AccessAnalyzer,
            ApiClass::GuardDuty,
            ApiClass::SecurityHub,
        ] {
            let service = Service::of_security_class(class);
            let throttle = throttle_class_of("CreateTrail", service);
            assert_eq!(throttle.scope, Scope::AccountRegion, "{class:?}");
            assert_eq!(throttle.throttled, ThrottleError::Throttling);
        }
        let s = scope("1");
        let a = throttle_class_of("AddTags", Service::CloudTrail);
        assert_eq!(
            bucket_key("AddTags", Some(&s), &a),
            ("cloudtrail", "1/us-east-1".to_string())
        );
        assert_ne!(
            throttle_class_of("TagResource", Service::S3).name,
            throttle_class("TagResource", false).name,
            "the service, not the API's name, decides"
        );
    }

    #[test]
    fn classes_follow_the_service_and_the_scope() {
        assert_eq!(throttle_class("CreateVpc", true).name, "ec2-mutating");
        assert_eq!(
            throttle_class("DescribeVpcs", true).name,
            "ec2-non-mutating"
        );
        assert_eq!(throttle_class("TagResource", true).refill_per_second, 10.0);
        assert_eq!(
            throttle_class("TagResource", false).name,
            "organizations-writes"
        );
        assert_eq!(throttle_class("CreateKey", true).refill_per_second, 5.0);
        assert_eq!(
            throttle_class("EnableControl", false).scope,
            Scope::HomeRegion
        );
        assert_eq!(
            throttle_class("ListAccountsForParent", false).name,
            "organizations-reads"
        );
        let s = scope("1");
        let class = throttle_class("CreateSubnet", true);
        assert_eq!(
            bucket_key("CreateSubnet", Some(&s), &class),
            ("CreateSubnet", "1/us-east-1".to_string())
        );
    }
}
