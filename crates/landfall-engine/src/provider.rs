//! The boundary between the executor and a backend (sim or AWS): the [`Provider`]
//! trait, the requests and statuses its calls carry, the errors a backend answers
//! with, and how hard the executor may push it ([`ApiLimits`]).

use std::time::Duration;

use async_trait::async_trait;

use landfall_core::live::{GovernanceScope, IdentityScope, LiveState, WorldIdentity};
use landfall_core::model::Tags;

pub use crate::call::{
    Call, GovernanceCall, IdentityCall, IdentityRequest, MemberCall, MemberService,
    OrganizationsCall,
};

/// Error kinds, named after the AWS exceptions they stand for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    TooManyRequests,
    Throttling,
    ConcurrentModification,
    FinalizingOrganization,
    ServiceUnavailable,
    AccessDenied,
    DuplicateOrganizationalUnit,
    DuplicatePolicy,
    DuplicatePolicyAttachment,
    PolicyNotAttached,
    OrganizationalUnitNotEmpty,
    PolicyInUse,
    /// `ConstraintViolationException` with its reason (e.g. `OU_DEPTH_LIMIT_EXCEEDED`).
    ConstraintViolation(String),
    /// A resource id that does not exist (`OrganizationalUnitNotFoundException`, ...).
    NotFound,
    AccountAlreadyClosed,
    InvalidInput,
    /// EC2 `DependencyViolation`: something still uses the resource (e.g. the ENIs of a
    /// just-deleted interface endpoint); deletes retry it for a while.
    DependencyViolation,
    /// A member account cannot be reached yet (assuming its role failed right after the
    /// account was created); retried.
    AccountNotReady,
    /// Control Tower `ConflictException`: another operation is running on the same
    /// target or on the landing zone; retried.
    Conflict,
    /// `ServiceQuotaExceededException`: too many Control Tower operations in flight;
    /// retried.
    ServiceQuotaExceeded,
    /// A fault injected by the simulator: not retryable.
    InjectedFault,
    /// A role or policy created moments ago is not yet visible to the service that
    /// must use it (IAM is eventually consistent; AWS Config answers
    /// `InvalidRoleException`); retried.
    NotYetPropagated,
    /// Anything else, with the service's own error code.
    Other(String),
}

impl ErrorKind {
    /// Whether the executor retries this error with backoff.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ErrorKind::TooManyRequests
                | ErrorKind::Throttling
                | ErrorKind::ConcurrentModification
                | ErrorKind::FinalizingOrganization
                | ErrorKind::ServiceUnavailable
                | ErrorKind::AccountNotReady
                | ErrorKind::Conflict
                | ErrorKind::ServiceQuotaExceeded
                | ErrorKind::NotYetPropagated
        )
    }

    /// The AWS error code this kind stands for.
    pub fn code(&self) -> String {
        match self {
            ErrorKind::TooManyRequests => "TooManyRequestsException".into(),
            ErrorKind::Throttling => "ThrottlingException".into(),
            ErrorKind::ConcurrentModification => "ConcurrentModificationException".into(),
            ErrorKind::FinalizingOrganization => "FinalizingOrganizationException".into(),
            ErrorKind::ServiceUnavailable => "ServiceException".into(),
            ErrorKind::AccessDenied => "AccessDeniedException".into(),
            ErrorKind::DuplicateOrganizationalUnit => "DuplicateOrganizationalUnitException".into(),
            ErrorKind::DuplicatePolicy => "DuplicatePolicyException".into(),
            ErrorKind::DuplicatePolicyAttachment => "DuplicatePolicyAttachmentException".into(),
            ErrorKind::PolicyNotAttached => "PolicyNotAttachedException".into(),
            ErrorKind::OrganizationalUnitNotEmpty => "OrganizationalUnitNotEmptyException".into(),
            ErrorKind::PolicyInUse => "PolicyInUseException".into(),
            ErrorKind::ConstraintViolation(r) => format!("ConstraintViolationException({r})"),
            ErrorKind::NotFound => "NotFoundException".into(),
            ErrorKind::AccountAlreadyClosed => "AccountAlreadyClosedException".into(),
            ErrorKind::InvalidInput => "InvalidInputException".into(),
            ErrorKind::DependencyViolation => "DependencyViolation".into(),
            ErrorKind::AccountNotReady => "AccountNotReady".into(),
            ErrorKind::Conflict => "ConflictException".into(),
            ErrorKind::ServiceQuotaExceeded => "ServiceQuotaExceededException".into(),
            ErrorKind::InjectedFault => "InjectedFault".into(),
            ErrorKind::NotYetPropagated => "NotYetPropagated".into(),
            ErrorKind::Other(code) => code.clone(),
        }
    }
}

/// An error from a backend call: the kind, the API that failed and the service's message.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{api}: {}: {message}", kind.code())]
pub struct ProviderError {
    pub kind: ErrorKind,
    pub api: &'static str,
    pub message: String,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, api: &'static str, message: impl Into<String>) -> Self {
        ProviderError {
            kind,
            api,
            message: message.into(),
        }
    }
}

pub type ProviderResult<T> = Result<T, ProviderError>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CreateAccountStatus {
    InProgress,
    Succeeded {
        account_id: String,
    },
    /// `FailureReason` as AWS reports it, e.g. `EMAIL_ALREADY_EXISTS`.
    Failed {
        reason: String,
    },
}

/// What a call answers: the id it returns — a new resource's id, the id of an
/// asynchronous operation it started, a share token — and, for `CreateAccount`, the
/// request's status when its response already carries a terminal one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    pub id: Option<String>,
    /// `CreateAccount`: the `CreateAccountStatus` of its response when it is already
    /// SUCCEEDED or FAILED (moto answers so; AWS answers IN_PROGRESS), so the executor
    /// does not ask `DescribeCreateAccountStatus` for what it knows. `None` while in
    /// progress, and for every other call.
    pub account_status: Option<CreateAccountStatus>,
}

impl From<Option<String>> for Reply {
    fn from(id: Option<String>) -> Self {
        Reply {
            id,
            account_status: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct CreateAccountRequest {
    pub name: String,
    pub email: String,
    pub tags: Tags,
    /// The role AWS creates in the new account for the management account.
    pub role_name: String,
}

/// A member account and region, where network and key operations run.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberScope {
    pub account_id: String,
    pub region: String,
}

impl std::fmt::Display for MemberScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} in {}", self.account_id, self.region)
    }
}

/// A VPC endpoint to create.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointRequest {
    pub vpc_id: String,
    pub service_name: String,
    pub kind: landfall_core::model::EndpointKind,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub route_table_ids: Vec<String>,
    pub private_dns: bool,
    pub policy: Option<String>,
    pub tags: Tags,
}

/// An in-place change to a VPC endpoint (`ModifyVpcEndpoint`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EndpointModification {
    pub add_subnet_ids: Vec<String>,
    pub remove_subnet_ids: Vec<String>,
    pub add_security_group_ids: Vec<String>,
    pub remove_security_group_ids: Vec<String>,
    pub add_route_table_ids: Vec<String>,
    pub remove_route_table_ids: Vec<String>,
    /// `Some(None)` resets to AWS's default full-access policy.
    pub policy: Option<Option<String>>,
    pub private_dns: Option<bool>,
}

/// Where an asynchronous operation stands: a Control Tower control operation
/// (`GetControlOperation`) or a Service Catalog provisioning record (`DescribeRecord`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperationStatus {
    InProgress,
    /// Done; for a provisioning record, the account id it produced when it has one.
    Succeeded {
        account_id: Option<String>,
    },
    /// Failed, with the service's message.
    Failed {
        message: String,
    },
}

/// An Account Factory provisioning (or update) request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountFactoryRequest {
    /// The Account Factory product: a name or a `prod-...` id.
    pub product: String,
    /// The provisioned product's name (Landfall uses the account name).
    pub provisioned_product_name: String,
    pub account_name: String,
    pub account_email: String,
    /// The OU's own name and its id; Control Tower wants `Name (ou-id)`.
    pub ou_name: String,
    pub ou_id: String,
    pub sso_user: landfall_core::model::SsoUser,
    pub tags: Tags,
}

impl AccountFactoryRequest {
    /// The `ManagedOrganizationalUnit` parameter: `Workloads_Dev (ou-abcd-12345678)`.
    pub fn managed_ou(&self) -> String {
        format!("{} ({})", self.ou_name, self.ou_id)
    }
}

/// An in-place change to a portfolio (`UpdatePortfolio`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortfolioUpdate {
    pub display_name: Option<String>,
    pub provider: Option<String>,
    pub description: Option<String>,
    pub add_tags: Tags,
    pub remove_tags: Vec<String>,
}

/// One page of a paginated read, and the token of the next one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

impl<T> Page<T> {
    /// The last page.
    pub fn last(items: Vec<T>) -> Self {
        Page {
            items,
            next_token: None,
        }
    }
}

/// The organization's root and management account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganizationRoot {
    pub root_id: String,
    pub management_account_id: String,
    /// The policy types the root lists with status `ENABLED` (`PENDING_ENABLE` and
    /// `PENDING_DISABLE` are not).
    pub enabled_policy_types: std::collections::BTreeSet<landfall_core::PolicyType>,
}

/// How hard the executor may push this backend.
#[derive(Clone, Debug)]
pub struct ApiLimits {
    /// Concurrent `CreateAccount` requests in flight (AWS: 5).
    pub create_account_in_flight: usize,
    /// First retry delay; doubles with jitter up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    pub max_retries: usize,
    /// Delay between `DescribeCreateAccountStatus` polls.
    pub poll_interval: Duration,
    /// Give up on an account creation after this many polls.
    pub max_polls: u32,
    /// Control Tower control operations in flight (its quota; `[control_tower]`
    /// overrides it).
    pub control_operations_in_flight: usize,
    /// Account Factory provisioning operations in flight.
    pub account_factory_in_flight: usize,
    /// Delay between polls of control operations, provisioning records and shares.
    pub operation_poll_interval: Duration,
    /// Asynchronous IAM Identity Center requests in flight (account assignment
    /// creations and deletions, permission set provisioning): Identity Center allows
    /// 10 outstanding `CreateAccountAssignment` calls.
    pub identity_requests_in_flight: usize,
    /// Delay between polls of Identity Center requests (they take seconds).
    pub identity_poll_interval: Duration,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            create_account_in_flight: 5,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(20),
            max_retries: 10,
            poll_interval: Duration::from_secs(5),
            max_polls: 360,
            control_operations_in_flight: 10,
            account_factory_in_flight: 5,
            operation_poll_interval: Duration::from_secs(5),
            identity_requests_in_flight: 10,
            identity_poll_interval: Duration::from_secs(1),
        }
    }
}

/// A backend: reads the live state, and executes single API calls.
///
/// The reads are the refreshes and the few lookups the executor polls with; every
/// change goes through [`Provider::execute`], one resolved [`Call`] at a time, so
/// pacing, retries, tolerance and polling live once in the executor and both backends
/// behave the same. [`TypedCalls`](crate::typed_calls::TypedCalls) gives tests and
/// scripted changes one typed method per call on top.
#[async_trait]
pub trait Provider: Send + Sync {
    /// Which world this is; a state file is refused against any other.
    async fn identity(&self) -> ProviderResult<WorldIdentity>;

    fn limits(&self) -> ApiLimits;

    /// The limiters every call this backend makes waits on: the executor's writes
    /// (by [`Call::pace_key`]) and the backend's own reads.
    fn pacer(&self) -> &crate::pacing::Pacer;

    /// Reads the whole organization layer: [`crate::refresh::read_organization`]
    /// over the page reads below, concurrently.
    async fn refresh(&self) -> ProviderResult<LiveState>
    where
        Self: Sized,
    {
        crate::refresh::read_organization(self).await
    }

    /// The organization's root id (`ListRoots`) and management account.
    async fn organization_root(&self) -> ProviderResult<OrganizationRoot>;

    /// One page of `ListOrganizationalUnitsForParent` (tags left empty).
    async fn ous_for_parent(
        &self,
        parent_id: &str,
        token: Option<String>,
    ) -> ProviderResult<Page<landfall_core::live::LiveOu>>;

    /// One page of `ListAccountsForParent` (tags left empty).
    async fn accounts_for_parent(
        &self,
        parent_id: &str,
        token: Option<String>,
    ) -> ProviderResult<Page<landfall_core::live::LiveAccount>>;

    /// One page of `ListPolicies` with this type filter (content and tags left
    /// empty).
    async fn policies(
        &self,
        policy_type: landfall_core::PolicyType,
        token: Option<String>,
    ) -> ProviderResult<Page<landfall_core::live::LivePolicy>>;

    /// A policy's document (`DescribePolicy`).
    async fn policy_content(&self, policy_id: &str) -> ProviderResult<String>;

    /// One page of `ListTargetsForPolicy`: the target ids.
    async fn targets_for_policy(
        &self,
        policy_id: &str,
        token: Option<String>,
    ) -> ProviderResult<Page<String>>;

    /// One page of `ListTagsForResource` (an OU, account or policy).
    async fn tags_for_resource(
        &self,
        resource_id: &str,
        token: Option<String>,
    ) -> ProviderResult<Page<(String, String)>>;

    /// Reads the VPCs (with subnets, route tables, security groups, endpoints) and the
    /// customer-managed keys of one member account and region.
    async fn refresh_member(
        &self,
        scope: &MemberScope,
    ) -> ProviderResult<landfall_core::live::LiveMember>;

    /// Reads enabled controls, Account Factory provisioned products and portfolios
    /// with their shares, as far as `scope` asks.
    async fn refresh_governance(
        &self,
        scope: &GovernanceScope,
    ) -> ProviderResult<landfall_core::live::LiveGovernance>;

    /// Reads IAM Identity Center as far as `scope` asks: the instance, every permission
    /// set (the policies, tags and provisioned accounts of those in scope), the groups
    /// and users by name, and the assignments of the permission sets in scope.
    async fn refresh_identity(
        &self,
        scope: &IdentityScope,
    ) -> ProviderResult<landfall_core::live::LiveIdentity>;

    /// Reads trusted access and delegated administrators of the organization, and
    /// the trails, buckets, aggregators and analyzers `scope` names.
    async fn refresh_security(
        &self,
        scope: &landfall_core::live::SecurityScope,
    ) -> ProviderResult<landfall_core::live::LiveSecurity>;

    /// The status of an asynchronous Identity Center request (an account assignment's
    /// creation or deletion, a permission set's provisioning), with its
    /// `FailureReason` when it failed.
    async fn identity_request(
        &self,
        request: IdentityRequest,
        request_id: &str,
    ) -> ProviderResult<OperationStatus>;

    /// The default version's document of an AWS-managed IAM policy (IAM `GetPolicy`
    /// and `GetPolicyVersion`), `None` when there is no such policy.
    async fn aws_managed_policy_document(&self, policy_arn: &str)
    -> ProviderResult<Option<String>>;

    /// Makes one call. Replies with the id the call returns — a new resource's id,
    /// the id of an asynchronous operation it started, a share token — or none, and
    /// with a `CreateAccount`'s terminal status when its response carries one.
    async fn execute(&self, call: &Call<'_>) -> ProviderResult<Reply>;

    /// `DescribeCreateAccountStatus`.
    async fn create_account_status(&self, request_id: &str) -> ProviderResult<CreateAccountStatus>;

    /// Account creations still IN_PROGRESS, as (request id, account name): a rerun
    /// after a crash waits for these instead of creating the account twice.
    async fn in_progress_account_creations(&self) -> ProviderResult<Vec<(String, String)>>;

    /// `GetControlOperation`.
    async fn control_operation(&self, operation_id: &str) -> ProviderResult<OperationStatus>;

    /// The enabled control's ARN, once enabled (`ListEnabledControls` on the OU).
    async fn enabled_control_arn(
        &self,
        control_arn: &str,
        ou_id: &str,
    ) -> ProviderResult<Option<String>>;

    /// `GetBaselineOperation`.
    async fn baseline_operation(&self, operation_id: &str) -> ProviderResult<OperationStatus>;

    /// The ARN of the `AWSControlTowerBaseline` enabled on the OU, once enabled
    /// (`ListEnabledBaselines` filtered on the OU).
    async fn enabled_baseline_arn(&self, ou_id: &str) -> ProviderResult<Option<String>>;

    /// `DescribeRecord`: a provisioning record's status (and the account id it made).
    async fn provisioning_record(&self, record_id: &str) -> ProviderResult<OperationStatus>;

    /// The Account Factory provisioned product with this name, if any.
    async fn provisioned_account(
        &self,
        product: &str,
        name: &str,
    ) -> ProviderResult<Option<landfall_core::live::LiveProvisionedAccount>>;

    /// API calls made so far, by API name (backends that count them).
    fn call_counts(&self) -> std::collections::BTreeMap<String, u64> {
        std::collections::BTreeMap::new()
    }
}
