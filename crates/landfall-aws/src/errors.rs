//! AWS SDK errors → Landfall's [`ProviderError`]: the AWS error code becomes an
//! [`ErrorKind`] (throttling and concurrency errors are retryable), the message is
//! kept, and `AccessDenied` names the principal that was refused.

use aws_sdk_organizations::config::http::HttpResponse;
use aws_sdk_organizations::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_organizations::operation::RequestId;
use landfall_engine::provider::{ErrorKind, ProviderError};

/// The `ConstraintViolationException` reason of an operation error, when it has one.
pub trait ConstraintReason {
    fn constraint_reason(&self) -> Option<String> {
        None
    }
}

macro_rules! constraint_reason {
    ($($t:path),* $(,)?) => {
        $(impl ConstraintReason for $t {
            fn constraint_reason(&self) -> Option<String> {
                match self {
                    Self::ConstraintViolationException(e) => e.reason().map(|r| r.as_str().to_string()),
                    _ => None,
                }
            }
        })*
    };
}

macro_rules! no_constraint_reason {
    ($($t:path),* $(,)?) => { $(impl ConstraintReason for $t {})* };
}

use aws_sdk_organizations::operation as op;
constraint_reason!(
    op::create_organizational_unit::CreateOrganizationalUnitError,
    op::create_account::CreateAccountError,
    op::close_account::CloseAccountError,
    op::tag_resource::TagResourceError,
    op::untag_resource::UntagResourceError,
    op::create_policy::CreatePolicyError,
    op::update_policy::UpdatePolicyError,
    op::attach_policy::AttachPolicyError,
    op::detach_policy::DetachPolicyError,
    op::create_organization::CreateOrganizationError,
    op::enable_policy_type::EnablePolicyTypeError,
    op::disable_policy_type::DisablePolicyTypeError,
    op::enable_aws_service_access::EnableAWSServiceAccessError,
    op::disable_aws_service_access::DisableAWSServiceAccessError,
    op::register_delegated_administrator::RegisterDelegatedAdministratorError,
    op::deregister_delegated_administrator::DeregisterDelegatedAdministratorError,
    op::list_aws_service_access_for_organization::ListAWSServiceAccessForOrganizationError,
    op::list_delegated_administrators::ListDelegatedAdministratorsError,
    op::list_delegated_services_for_account::ListDelegatedServicesForAccountError,
);
no_constraint_reason!(
    op::update_organizational_unit::UpdateOrganizationalUnitError,
    op::delete_organizational_unit::DeleteOrganizationalUnitError,
    op::move_account::MoveAccountError,
    op::delete_policy::DeletePolicyError,
    op::describe_create_account_status::DescribeCreateAccountStatusError,
    op::list_create_account_status::ListCreateAccountStatusError,
    op::describe_organization::DescribeOrganizationError,
    op::list_roots::ListRootsError,
    op::list_organizational_units_for_parent::ListOrganizationalUnitsForParentError,
    op::list_accounts_for_parent::ListAccountsForParentError,
    op::list_policies::ListPoliciesError,
    op::describe_policy::DescribePolicyError,
    op::list_targets_for_policy::ListTargetsForPolicyError,
    op::list_tags_for_resource::ListTagsForResourceError,
    aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError,
);

/// Maps an AWS error code (Organizations, STS, EC2, KMS, Control Tower, Service
/// Catalog, IAM Identity Center, Identity Store, IAM, S3, CloudTrail, AWS Config,
/// GuardDuty, Security Hub or IAM Access Analyzer) to a kind.
pub fn kind_of(code: &str, reason: Option<String>) -> ErrorKind {
    match code {
        "TooManyRequestsException" => ErrorKind::TooManyRequests,
        // S3 says `SlowDown`.
        "ThrottlingException" | "Throttling" | "RequestLimitExceeded" | "SlowDown" => {
            ErrorKind::Throttling
        }
        "ConcurrentModificationException" => ErrorKind::ConcurrentModification,
        // Control Tower: another operation runs on the same control and target (or on
        // the landing zone); too many control operations in flight.
        "ConflictException" => ErrorKind::Conflict,
        "ServiceQuotaExceededException" => ErrorKind::ServiceQuotaExceeded,
        "FinalizingOrganizationException" => ErrorKind::FinalizingOrganization,
        "ServiceException"
        | "ServiceUnavailableException"
        | "InternalFailure"
        | "InternalError"
        | "ServiceUnavailable"
        | "InternalServerException"
        | "Unavailable"
        | "KMSInternalException"
        | "DependencyTimeoutException" => ErrorKind::ServiceUnavailable,
        "AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation" => {
            ErrorKind::AccessDenied
        }
        "DuplicateOrganizationalUnitException" => ErrorKind::DuplicateOrganizationalUnit,
        "DuplicatePolicyException" => ErrorKind::DuplicatePolicy,
        "DuplicatePolicyAttachmentException" => ErrorKind::DuplicatePolicyAttachment,
        "PolicyNotAttachedException" => ErrorKind::PolicyNotAttached,
        "OrganizationalUnitNotEmptyException" => ErrorKind::OrganizationalUnitNotEmpty,
        "PolicyInUseException" => ErrorKind::PolicyInUse,
        "ConstraintViolationException" => {
            ErrorKind::ConstraintViolation(reason.unwrap_or_else(|| "UNKNOWN".into()))
        }
        "AccountAlreadyClosedException" => ErrorKind::AccountAlreadyClosed,
        // EC2: something still uses the resource (ENIs of an endpoint, associations).
        "DependencyViolation" => ErrorKind::DependencyViolation,
        // KMS and EC2 quotas (`VpcLimitExceeded`, `SubnetLimitExceeded`, ...).
        c if c == "LimitExceededException" || c.ends_with("LimitExceeded") => {
            ErrorKind::ConstraintViolation(c.to_string())
        }
        "InvalidInputException"
        | "InvalidParametersException"
        | "MissingParameter"
        | "MalformedPolicyDocumentException"
        | "InvalidAliasNameException"
        | "InvalidArnException"
        | "TagException"
        | "ValidationException" => ErrorKind::InvalidInput,
        // IAM's code for a policy (or version) that does not exist.
        "NoSuchEntity" | "NoSuchEntityException" => ErrorKind::NotFound,
        // S3 and AWS Config: the bucket, the aggregator does not exist.
        "NoSuchBucket" | "NoSuchConfigurationAggregatorException" => ErrorKind::NotFound,
        c if c.ends_with("NotFoundException") || c.ends_with(".NotFound") => ErrorKind::NotFound,
        // EC2's `InvalidParameterValue`, `InvalidParameterCombination`,
        // `InvalidSubnet.Range`, `InvalidVpcEndpointId.Malformed`, ... — but not
        // `InvalidGroup.Duplicate` (a conflict) nor a state error.
        c if c.starts_with("InvalidParameter")
            || (c.starts_with("Invalid") && c.contains('.') && !c.ends_with(".Duplicate")) =>
        {
            ErrorKind::InvalidInput
        }
        other => ErrorKind::Other(other.to_string()),
    }
}

/// A response without the id or object the call must return.
pub(crate) fn empty_response(api: &'static str, what: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::Other("EmptyResponse".into()),
        api,
        format!("no {what} in the response"),
    )
}

/// Converts an SDK error of an Organizations or STS operation `api`. `principal` is
/// the caller's ARN, named in access-denied messages.
pub fn from_sdk<E>(
    api: &'static str,
    principal: &str,
    err: SdkError<E, HttpResponse>,
) -> ProviderError
where
    E: ProvideErrorMetadata + ConstraintReason + std::error::Error + std::fmt::Debug + 'static,
{
    from_sdk_in(
        &Context {
            service: "organizations",
            principal,
            scope: None,
        },
        api,
        err,
        ConstraintReason::constraint_reason,
    )
}

/// Who made a call, where: named in access-denied messages.
pub struct Context<'a> {
    /// The IAM service prefix: `organizations`, `ec2`, `kms`.
    pub service: &'static str,
    pub principal: &'a str,
    /// The member account and region, for member-account calls.
    pub scope: Option<&'a landfall_engine::provider::MemberScope>,
}

/// Converts an SDK error of operation `api` of any service; `reason` extracts a
/// constraint-violation reason where the service has one.
///
/// Every message says what happened even when the service's answer is not one the SDK
/// models (an HTML error page, a 404 from a wrong endpoint): the HTTP status, the
/// request id, the response body's start when there is no message, and for a 404 or a
/// connection failure the endpoint that was called.
pub fn from_sdk_in<E>(
    cx: &Context<'_>,
    api: &'static str,
    err: SdkError<E, HttpResponse>,
    reason: impl Fn(&E) -> Option<String>,
) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + std::fmt::Debug + 'static,
{
    let unreadable = matches!(err, SdkError::ResponseError(_)).then(|| root_cause(&err));
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let raw = service.raw();
            // Responses carry the code in their metadata; errors built in code (as in
            // mocks) only in their variant name, which is the AWS code too.
            let code = match e.code() {
                Some(c) => c.to_string(),
                None => variant_name(e),
            };
            let mut message = match e.message() {
                Some(m) if !m.is_empty() => m.to_string(),
                _ => body_excerpt(raw),
            };
            message.push_str(&response_facts(cx, raw, e.meta().request_id()));
            let kind = kind_of(&code, reason(e));
            let message = if kind == ErrorKind::AccessDenied {
                let principal = cx.principal;
                let service = cx.service;
                match cx.scope {
                    Some(scope) => format!(
                        "{principal} is not allowed to call {service}:{api} in {scope}: {message}"
                    ),
                    None => {
                        format!("{principal} is not allowed to call {service}:{api}: {message}")
                    }
                }
            } else {
                message
            };
            ProviderError::new(kind, api, message)
        }
        SdkError::TimeoutError(_) => {
            ProviderError::new(ErrorKind::ServiceUnavailable, api, "the request timed out")
        }
        SdkError::DispatchFailure(d) => {
            let cause = d
                .as_connector_error()
                .map(|c| root_cause(c))
                .unwrap_or_else(|| "unknown cause".into());
            let endpoint = endpoint_of(cx.service);
            if d.is_io() || d.is_timeout() {
                ProviderError::new(
                    ErrorKind::ServiceUnavailable,
                    api,
                    format!("cannot reach {endpoint}: {cause}"),
                )
            } else {
                ProviderError::new(
                    ErrorKind::Other("DispatchFailure".into()),
                    api,
                    format!("the request to {endpoint} could not be sent: {cause}"),
                )
            }
        }
        SdkError::ResponseError(r) => {
            let raw = r.raw();
            let mut message = format!(
                "the response could not be read ({}); {}",
                unreadable.unwrap_or_default(),
                body_excerpt(raw)
            );
            message.push_str(&response_facts(cx, raw, None));
            ProviderError::new(ErrorKind::Other("ResponseError".into()), api, message)
        }
        SdkError::ConstructionFailure(c) => ProviderError::new(
            ErrorKind::Other("ConstructionFailure".into()),
            api,
            format!("{c:?}"),
        ),
        other => ProviderError::new(
            ErrorKind::Other("ResponseError".into()),
            api,
            format!("{other:?}"),
        ),
    }
}

/// Whether an error is an endpoint saying it does not serve the API at all: a server
/// error with no AWS error code whose body is not an AWS error document (moto's HTML
/// "500 Internal Server Error" page for an action it does not implement). AWS answers
/// every error, its own faults included, with a coded JSON or XML error.
pub(crate) fn unserved<E>(err: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata,
{
    let SdkError::ServiceError(service) = err else {
        return false;
    };
    let raw = service.raw();
    let status = raw.status().as_u16();
    if service.err().code().is_some() || !(status == 500 || status == 501) {
        return false;
    }
    let body = raw
        .body()
        .bytes()
        .map(|b| String::from_utf8_lossy(b).trim_start().to_ascii_lowercase())
        .unwrap_or_default();
    body.starts_with("<!doctype html") || body.starts_with("<html")
}

/// Whether an error is an endpoint with no route for the API at all: an uncoded 404
/// whose body is an HTML page (moto's web server for a REST API it does not implement,
/// such as Security Hub's `ListOrganizationAdminAccounts`). AWS answers a missing
/// resource with a coded JSON or XML error, never with a web page.
pub(crate) fn unrouted<E>(err: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata,
{
    let SdkError::ServiceError(service) = err else {
        return false;
    };
    let raw = service.raw();
    if service.err().code().is_some() || raw.status().as_u16() != 404 {
        return false;
    }
    let body = raw
        .body()
        .bytes()
        .map(|b| String::from_utf8_lossy(b).trim_start().to_ascii_lowercase())
        .unwrap_or_default();
    body.starts_with("<!doctype html") || body.starts_with("<html")
}

/// ` (HTTP 404 Not Found, request id …, endpoint …)`: what the response itself says,
/// for a person reading an error the SDK could not classify.
fn response_facts(cx: &Context<'_>, raw: &HttpResponse, request_id: Option<&str>) -> String {
    let status = raw.status();
    let mut facts = Vec::new();
    // Mocked responses carry no status of their own (200); real errors are 4xx/5xx.
    if status.is_client_error() || status.is_server_error() {
        facts.push(format!("HTTP {}", status.as_u16()));
    }
    if let Some(id) = request_id.or_else(|| raw.headers().request_id()) {
        facts.push(format!("request id {id}"));
    }
    if status.as_u16() == 404 {
        facts.push(format!("endpoint {}", endpoint_of(cx.service)));
    }
    if facts.is_empty() {
        String::new()
    } else {
        format!(" ({})", facts.join(", "))
    }
}

/// The start of a response body with no error message in it (whitespace folded).
fn body_excerpt(raw: &HttpResponse) -> String {
    let text = raw
        .body()
        .bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.is_empty() {
        return "the response had no error message and an empty body".into();
    }
    let excerpt: String = folded.chars().take(200).collect();
    let more = if folded.chars().count() > 200 {
        "…"
    } else {
        ""
    };
    format!("the response had no error message; its body begins: {excerpt}{more}")
}

/// The endpoint a service's calls go to: an `AWS_ENDPOINT_URL_<SERVICE>` or
/// `AWS_ENDPOINT_URL` override (which the SDK honours), else AWS's own.
fn endpoint_of(service: &str) -> String {
    let suffix = match service {
        "servicecatalog" => "SERVICE_CATALOG".to_string(),
        // The IAM prefix of SSO Admin is `sso`; its endpoint variable is the service's.
        "sso" => "SSO_ADMIN".to_string(),
        // AWS Config's and IAM Access Analyzer's endpoint variables are not their prefixes.
        "config" => "CONFIG_SERVICE".to_string(),
        "access-analyzer" => "ACCESSANALYZER".to_string(),
        other => other.to_ascii_uppercase(),
    };
    let specific = format!("AWS_ENDPOINT_URL_{suffix}");
    for var in [specific.as_str(), "AWS_ENDPOINT_URL"] {
        if let Ok(url) = std::env::var(var)
            && !url.is_empty()
        {
            return format!("{url} (from {var})");
        }
    }
    format!("AWS's {service} endpoint for the configured region")
}

fn variant_name(e: &impl std::fmt::Debug) -> String {
    let debug = format!("{e:?}");
    let name: String = debug
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if name.is_empty() {
        "UnknownError".into()
    } else {
        name
    }
}

/// The innermost message of an error chain (the part a person can act on).
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_concurrency_codes_are_retryable() {
        for code in [
            "TooManyRequestsException",
            "ThrottlingException",
            "ConcurrentModificationException",
            "FinalizingOrganizationException",
        ] {
            assert!(kind_of(code, None).is_retryable(), "{code}");
        }
        assert!(!kind_of("AccessDeniedException", None).is_retryable());
        assert_eq!(
            kind_of("AccountNotFoundException", None),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind_of(
                "ConstraintViolationException",
                Some("OU_DEPTH_LIMIT_EXCEEDED".into())
            ),
            ErrorKind::ConstraintViolation("OU_DEPTH_LIMIT_EXCEEDED".into())
        );
    }

    #[test]
    fn control_tower_and_service_catalog_codes() {
        assert_eq!(kind_of("ConflictException", None), ErrorKind::Conflict);
        assert_eq!(
            kind_of("ServiceQuotaExceededException", None),
            ErrorKind::ServiceQuotaExceeded
        );
        for code in [
            "ConflictException",
            "ServiceQuotaExceededException",
            "ThrottlingException",
            "InternalServerException",
        ] {
            assert!(kind_of(code, None).is_retryable(), "{code}");
        }
        assert_eq!(
            kind_of("InternalServerException", None),
            ErrorKind::ServiceUnavailable
        );
        assert_eq!(
            kind_of("ValidationException", None),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind_of("InvalidParametersException", None),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind_of("ResourceNotFoundException", None),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind_of("AccessDeniedException", None),
            ErrorKind::AccessDenied
        );
        assert_eq!(kind_of("NoSuchEntity", None), ErrorKind::NotFound);
        assert_eq!(
            kind_of("ResourceInUseException", None),
            ErrorKind::Other("ResourceInUseException".into())
        );
    }

    #[test]
    fn ec2_and_kms_codes() {
        assert_eq!(
            kind_of("DependencyViolation", None),
            ErrorKind::DependencyViolation
        );
        for code in [
            "InvalidVpcID.NotFound",
            "InvalidSubnetID.NotFound",
            "InvalidVpcEndpointId.NotFound",
            "InvalidGroup.NotFound",
            "NotFoundException",
        ] {
            assert_eq!(kind_of(code, None), ErrorKind::NotFound, "{code}");
        }
        for code in [
            "InvalidParameterValue",
            "InvalidParameterCombination",
            "InvalidSubnet.Range",
            "InvalidVpcEndpointId.Malformed",
            "MalformedPolicyDocumentException",
        ] {
            assert_eq!(kind_of(code, None), ErrorKind::InvalidInput, "{code}");
        }
        assert_eq!(kind_of("RequestLimitExceeded", None), ErrorKind::Throttling);
        assert_eq!(
            kind_of("LimitExceededException", None),
            ErrorKind::ConstraintViolation("LimitExceededException".into())
        );
        assert_eq!(
            kind_of("VpcLimitExceeded", None),
            ErrorKind::ConstraintViolation("VpcLimitExceeded".into())
        );
        assert_eq!(
            kind_of("KMSInvalidStateException", None),
            ErrorKind::Other("KMSInvalidStateException".into())
        );
        assert_eq!(
            kind_of("InvalidGroup.Duplicate", None),
            ErrorKind::Other("InvalidGroup.Duplicate".into())
        );
        assert_eq!(
            kind_of("UnauthorizedOperation", None),
            ErrorKind::AccessDenied
        );
    }

    #[test]
    fn logging_and_security_service_codes() {
        for code in [
            "NoSuchBucket",
            "TrailNotFoundException",
            "NoSuchEntity",
            "NoSuchConfigurationAggregatorException",
            "ResourceNotFoundException",
        ] {
            assert_eq!(kind_of(code, None), ErrorKind::NotFound, "{code}");
        }
        assert_eq!(kind_of("SlowDown", None), ErrorKind::Throttling);
        // The codes the executor compares to tell a change already made.
        for code in [
            "PolicyTypeAlreadyEnabledException",
            "PolicyTypeNotEnabledException",
            "AccountAlreadyRegisteredException",
            "AccountNotRegisteredException",
            "BucketAlreadyOwnedByYou",
            "EntityAlreadyExists",
            "InsufficientS3BucketPolicyException",
        ] {
            assert_eq!(kind_of(code, None), ErrorKind::Other(code.into()), "{code}");
        }
    }
}
