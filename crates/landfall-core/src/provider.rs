//! The boundary between the planner/executor and a backend (sim or AWS). Operations
//! mirror AWS Organizations API calls one to one, so retries, polling, adoption and
//! ordering live once in the executor and both backends behave the same.

use std::time::Duration;

use async_trait::async_trait;

use crate::live::{LiveState, WorldIdentity};
use crate::model::Tags;

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

/// How hard the executor may push this backend.
#[derive(Clone, Debug)]
pub struct ApiLimits {
    /// Concurrent `CreateAccount` requests in flight (AWS: 5).
    pub create_account_in_flight: usize,
    /// Mutating Organizations calls per second, `None` for unlimited.
    pub writes_per_second: Option<u32>,
    /// First retry delay; doubles with jitter up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    pub max_retries: usize,
    /// Delay between `DescribeCreateAccountStatus` polls.
    pub poll_interval: Duration,
    /// Give up on an account creation after this many polls.
    pub max_polls: u32,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            create_account_in_flight: 5,
            writes_per_second: Some(5),
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(20),
            max_retries: 10,
            poll_interval: Duration::from_secs(5),
            max_polls: 360,
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

    /// API calls made so far, by API name (backends that count them).
    fn call_counts(&self) -> std::collections::BTreeMap<String, u64> {
        std::collections::BTreeMap::new()
    }
}
