//! The boundary between the planner/executor and a backend (sim or AWS). Operations
//! mirror AWS Organizations API calls one to one, so retries, polling, adoption and
//! ordering live once in the executor and both backends behave the same.

use std::time::Duration;

use async_trait::async_trait;

use landfall_core::live::{GovernanceScope, LiveState, WorldIdentity};
use landfall_core::model::Tags;

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

/// How hard the executor may push this backend.
#[derive(Clone, Debug)]
pub struct ApiLimits {
    /// Concurrent `CreateAccount` requests in flight (AWS: 5).
    pub create_account_in_flight: usize,
    /// Mutating Organizations calls per second, `None` for unlimited. Organizations
    /// throttles per organization, so one limiter paces all of them.
    pub writes_per_second: Option<u32>,
    /// Mutating EC2 calls, and separately mutating KMS calls, per second in *each*
    /// member account and region, `None` for unlimited. Both services throttle per
    /// account and region (KMS allows 5 `CreateKey`/s; EC2 refills its mutating-call
    /// buckets at about 5/s), so writes to different accounts never wait on each other
    /// or on Organizations.
    pub member_writes_per_second: Option<u32>,
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
    /// `CreatePortfolioShare`/`DeletePortfolioShare` calls per second (the service
    /// manages about one), `None` for unlimited.
    pub share_writes_per_second: Option<u32>,
    /// Delay between polls of control operations, provisioning records and shares.
    pub operation_poll_interval: Duration,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            create_account_in_flight: 5,
            writes_per_second: Some(5),
            member_writes_per_second: Some(5),
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(20),
            max_retries: 10,
            poll_interval: Duration::from_secs(5),
            max_polls: 360,
            control_operations_in_flight: 10,
            account_factory_in_flight: 5,
            share_writes_per_second: Some(1),
            operation_poll_interval: Duration::from_secs(10),
        }
    }
}

/// A backend: reads the live organization and performs single API operations.
#[async_trait]
pub trait Provider: Send + Sync {
    /// Which world this is; a state file is refused against any other.
    async fn identity(&self) -> ProviderResult<WorldIdentity>;

    fn limits(&self) -> ApiLimits;

    /// Reads the whole organization layer.
    async fn refresh(&self) -> ProviderResult<LiveState>;

    async fn create_ou(&self, parent_id: &str, name: &str, tags: &Tags) -> ProviderResult<String>;
    async fn rename_ou(&self, ou_id: &str, name: &str) -> ProviderResult<()>;
    async fn delete_ou(&self, ou_id: &str) -> ProviderResult<()>;

    /// Starts an account creation; returns the request id to poll.
    async fn create_account(&self, request: &CreateAccountRequest) -> ProviderResult<String>;
    async fn create_account_status(&self, request_id: &str) -> ProviderResult<CreateAccountStatus>;
    async fn move_account(
        &self,
        account_id: &str,
        source_parent_id: &str,
        destination_parent_id: &str,
    ) -> ProviderResult<()>;
    async fn close_account(&self, account_id: &str) -> ProviderResult<()>;

    /// Adds or overwrites tags on an OU, account or policy.
    async fn tag_resource(&self, resource_id: &str, tags: &Tags) -> ProviderResult<()>;
    async fn untag_resource(&self, resource_id: &str, keys: &[String]) -> ProviderResult<()>;

    async fn create_policy(
        &self,
        name: &str,
        description: &str,
        content: &str,
        tags: &Tags,
    ) -> ProviderResult<String>;
    async fn update_policy(
        &self,
        policy_id: &str,
        description: Option<&str>,
        content: Option<&str>,
    ) -> ProviderResult<()>;
    async fn delete_policy(&self, policy_id: &str) -> ProviderResult<()>;
    async fn attach_policy(&self, policy_id: &str, target_id: &str) -> ProviderResult<()>;
    async fn detach_policy(&self, policy_id: &str, target_id: &str) -> ProviderResult<()>;

    /// Account creations still IN_PROGRESS, as (request id, account name): a rerun
    /// after a crash waits for these instead of creating the account twice.
    async fn in_progress_account_creations(&self) -> ProviderResult<Vec<(String, String)>> {
        Ok(Vec::new())
    }

    // ---- Member accounts: networks (EC2) and keys (KMS), in one account and region ----

    /// Reads the VPCs (with subnets, route tables, security groups, endpoints) and the
    /// customer-managed keys of one member account and region.
    async fn refresh_member(
        &self,
        scope: &MemberScope,
    ) -> ProviderResult<landfall_core::live::LiveMember>;
    async fn create_vpc(
        &self,
        scope: &MemberScope,
        cidr: &str,
        tags: &Tags,
    ) -> ProviderResult<String>;
    async fn delete_vpc(&self, scope: &MemberScope, _vpc_id: &str) -> ProviderResult<()>;
    async fn create_subnet(
        &self,
        scope: &MemberScope,
        vpc_id: &str,
        az: &str,
        cidr: &str,
        tags: &Tags,
    ) -> ProviderResult<String>;
    async fn delete_subnet(&self, scope: &MemberScope, _subnet_id: &str) -> ProviderResult<()>;
    async fn create_route_table(
        &self,
        scope: &MemberScope,
        vpc_id: &str,
        tags: &Tags,
    ) -> ProviderResult<String>;
    async fn associate_route_table(
        &self,
        scope: &MemberScope,
        route_table_id: &str,
        subnet_id: &str,
    ) -> ProviderResult<()>;
    async fn delete_route_table(
        &self,
        scope: &MemberScope,
        route_table_id: &str,
    ) -> ProviderResult<()>;
    /// Creates a security group allowing TCP 443 in from `ingress_cidr`.
    async fn create_security_group(
        &self,
        scope: &MemberScope,
        vpc_id: &str,
        name: &str,
        description: &str,
        ingress_cidr: &str,
        tags: &Tags,
    ) -> ProviderResult<String>;
    /// Adds and removes TCP 443 ingress CIDRs.
    async fn set_security_group_ingress(
        &self,
        scope: &MemberScope,
        group_id: &str,
        add: &[String],
        remove: &[String],
    ) -> ProviderResult<()>;
    async fn delete_security_group(
        &self,
        scope: &MemberScope,
        group_id: &str,
    ) -> ProviderResult<()>;
    async fn create_endpoint(
        &self,
        scope: &MemberScope,
        request: &EndpointRequest,
    ) -> ProviderResult<String>;
    async fn modify_endpoint(
        &self,
        scope: &MemberScope,
        endpoint_id: &str,
        change: &EndpointModification,
    ) -> ProviderResult<()>;
    async fn delete_endpoint(&self, scope: &MemberScope, endpoint_id: &str) -> ProviderResult<()>;
    /// Adds or overwrites tags on an EC2 resource (VPC, subnet, route table, group, endpoint).
    async fn tag_ec2(
        &self,
        scope: &MemberScope,
        resource_id: &str,
        tags: &Tags,
    ) -> ProviderResult<()>;
    async fn untag_ec2(
        &self,
        scope: &MemberScope,
        resource_id: &str,
        keys: &[String],
    ) -> ProviderResult<()>;
    /// Creates a symmetric customer-managed key; returns its key id.
    async fn create_key(
        &self,
        scope: &MemberScope,
        description: &str,
        policy: &str,
        tags: &Tags,
    ) -> ProviderResult<String>;
    async fn set_key_rotation(
        &self,
        scope: &MemberScope,
        key_id: &str,
        enabled: bool,
    ) -> ProviderResult<()>;
    async fn put_key_policy(
        &self,
        scope: &MemberScope,
        key_id: &str,
        policy: &str,
    ) -> ProviderResult<()>;
    async fn update_key_description(
        &self,
        scope: &MemberScope,
        key_id: &str,
        description: &str,
    ) -> ProviderResult<()>;
    /// Schedules the key's deletion after `window_days` (7–30).
    async fn schedule_key_deletion(
        &self,
        scope: &MemberScope,
        key_id: &str,
        window_days: u32,
    ) -> ProviderResult<()>;
    /// Cancels a scheduled deletion and enables the key again.
    async fn restore_key(&self, scope: &MemberScope, _key_id: &str) -> ProviderResult<()>;
    /// Points `alias` (`alias/...`) at the key, creating or retargeting it.
    async fn put_alias(&self, scope: &MemberScope, alias: &str, key_id: &str)
    -> ProviderResult<()>;
    async fn delete_alias(&self, scope: &MemberScope, _alias: &str) -> ProviderResult<()>;
    async fn tag_key(&self, scope: &MemberScope, key_id: &str, tags: &Tags) -> ProviderResult<()>;
    async fn untag_key(
        &self,
        scope: &MemberScope,
        key_id: &str,
        keys: &[String],
    ) -> ProviderResult<()>;

    // ---- Control Tower and Service Catalog (management account, home region) ----

    /// Reads enabled controls, Account Factory provisioned products and portfolios
    /// with their shares, as far as `scope` asks.
    async fn refresh_governance(
        &self,
        scope: &GovernanceScope,
    ) -> ProviderResult<landfall_core::live::LiveGovernance>;
    /// Starts enabling a control on an OU; returns the operation id to poll.
    async fn enable_control(
        &self,
        control_arn: &str,
        ou_id: &str,
        parameters: &std::collections::BTreeMap<String, serde_json::Value>,
    ) -> ProviderResult<String>;
    /// Starts disabling a control on an OU; returns the operation id.
    async fn disable_control(&self, control_arn: &str, _ou_id: &str) -> ProviderResult<String>;
    /// Starts changing an enabled control's parameters; returns the operation id.
    async fn update_enabled_control(
        &self,
        enabled_control_arn: &str,
        parameters: &std::collections::BTreeMap<String, serde_json::Value>,
    ) -> ProviderResult<String>;
    /// Starts repairing a drifted control; returns the operation id.
    async fn reset_enabled_control(&self, enabled_control_arn: &str) -> ProviderResult<String>;
    /// `GetControlOperation`.
    async fn control_operation(&self, operation_id: &str) -> ProviderResult<OperationStatus>;
    /// The enabled control's ARN, once enabled (`ListEnabledControls` on the OU).
    async fn enabled_control_arn(
        &self,
        control_arn: &str,
        ou_id: &str,
    ) -> ProviderResult<Option<String>>;
    /// Starts an Account Factory provisioning; returns the record id to poll.
    async fn provision_account(&self, request: &AccountFactoryRequest) -> ProviderResult<String>;
    /// Updates an Account Factory account (a new OU); returns the record id.
    async fn update_provisioned_account(
        &self,
        provisioned_product_id: &str,
        request: &AccountFactoryRequest,
    ) -> ProviderResult<String>;
    /// `DescribeRecord`: a provisioning record's status (and the account id it made).
    async fn provisioning_record(&self, record_id: &str) -> ProviderResult<OperationStatus>;
    /// The Account Factory provisioned product with this name, if any.
    async fn provisioned_account(
        &self,
        product: &str,
        name: &str,
    ) -> ProviderResult<Option<landfall_core::live::LiveProvisionedAccount>>;
    async fn create_portfolio(
        &self,
        display_name: &str,
        provider_name: &str,
        description: &str,
        tags: &Tags,
    ) -> ProviderResult<String>;
    async fn update_portfolio(
        &self,
        portfolio_id: &str,
        update: &PortfolioUpdate,
    ) -> ProviderResult<()>;
    async fn delete_portfolio(&self, portfolio_id: &str) -> ProviderResult<()>;
    /// Shares a portfolio; returns the share token of an organization-node share,
    /// `None` for an account share. Landfall does not wait for an organization share
    /// to propagate; refreshes report whether each share is accepted.
    async fn create_portfolio_share(
        &self,
        portfolio_id: &str,
        target: &landfall_core::live::ShareTarget,
        share_tag_options: bool,
    ) -> ProviderResult<Option<String>>;
    async fn delete_portfolio_share(
        &self,
        portfolio_id: &str,
        target: &landfall_core::live::ShareTarget,
    ) -> ProviderResult<()>;

    /// API calls made so far, by API name (backends that count them).
    fn call_counts(&self) -> std::collections::BTreeMap<String, u64> {
        std::collections::BTreeMap::new()
    }
}
