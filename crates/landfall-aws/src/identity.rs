//! IAM Identity Center: permission sets and account assignments (SSO Admin, IAM prefix
//! `sso`), groups (Identity Store, prefix `identitystore`), and the documents of
//! AWS-managed policies (IAM `GetPolicy` / `GetPolicyVersion`).
//!
//! Both Identity Center clients call the instance's region (the identity scope's
//! region, else the landing zone's home region) with the management account's
//! credentials, made from the same SDK configuration as every other client. The
//! instance (`ListInstances`: its ARN and identity store id) is resolved once per run
//! and cached; without one the refresh reports Identity Center as not enabled and a
//! call fails saying so.
//!
//! Every SSO Admin and Identity Store call is counted; reads (and the status polls)
//! are paced on the one `identity_center` limiter — Identity Center documents a
//! collective 20 requests per second — and retried when throttled, like every other
//! read; changes are paced and retried by the executor on the same limiter.
//!
//! `ProvisionPermissionSet`, `CreateAccountAssignment` and `DeleteAccountAssignment`
//! start an asynchronous request and reply with the `RequestId` of their status
//! object, which the executor polls with the matching `Describe…Status` call. A status
//! object already `SUCCEEDED` in the response (moto answers so) replies with no id —
//! there is nothing to poll, as for a `CreateAccount` already terminal — and one
//! already `FAILED` is an error with its `FailureReason`.

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::sync::{Arc, Mutex};

use aws_sdk_organizations::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssoadmin::types::{
    CustomerManagedPolicyReference, PermissionsBoundary as SdkBoundary,
    PrincipalType as SdkPrincipalType, ProvisionTargetType, StatusValues, Tag, TargetType,
};
use aws_sdk_sts::config::http::HttpResponse;
use aws_smithy_types::Document;
use landfall_core::live::{LiveIdentityInstance, PrincipalType};
use landfall_core::model::{CustomerPolicyRef, PermissionsBoundary, Tags};
use landfall_engine::call::{IdentityCall, IdentityRequest};
use landfall_engine::pacing::{ApiClass, PaceKey};
use landfall_engine::provider::{ErrorKind, OperationStatus, ProviderError, ProviderResult, Reply};
use tokio::sync::OnceCell;

use crate::AwsBackend;
use crate::errors::{empty_response, unserved};

/// The IAM prefixes of the calls (named in access-denied messages).
pub(crate) const SSO: &str = "sso";
pub(crate) const IDENTITYSTORE: &str = "identitystore";
pub(crate) const IAM: &str = "iam";

/// The Identity Center clients of one region, and its instance once resolved.
pub(crate) struct IdentityCenter {
    pub sso: aws_sdk_ssoadmin::Client,
    pub store: aws_sdk_identitystore::Client,
    /// The region the clients call; `None` for clients given ready-made (tests), which
    /// serve any region.
    region: Option<String>,
    /// `ListInstances`, read once: `None` when Identity Center is not enabled.
    instance: OnceCell<Option<LiveIdentityInstance>>,
}

impl IdentityCenter {
    pub(crate) fn new(
        sso: aws_sdk_ssoadmin::Client,
        store: aws_sdk_identitystore::Client,
        region: Option<String>,
    ) -> Self {
        IdentityCenter {
            sso,
            store,
            region,
            instance: OnceCell::new(),
        }
    }
}

/// Where the Identity Center clients are: the clients made so far (one region at a
/// time) and the region the last refresh read, which later calls go to.
#[derive(Default)]
pub(crate) struct IdentityClients {
    current: Mutex<Option<Arc<IdentityCenter>>>,
    region: Mutex<Option<String>>,
}

impl IdentityClients {
    pub(crate) fn given(center: IdentityCenter) -> Self {
        IdentityClients {
            current: Mutex::new(Some(Arc::new(center))),
            region: Mutex::new(None),
        }
    }
}

fn sso_tags(api: &'static str, tags: &Tags) -> ProviderResult<Option<Vec<Tag>>> {
    if tags.is_empty() {
        return Ok(None);
    }
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| ProviderError::new(ErrorKind::InvalidInput, api, e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

pub(crate) fn customer_reference(
    api: &'static str,
    policy: &CustomerPolicyRef,
) -> ProviderResult<CustomerManagedPolicyReference> {
    CustomerManagedPolicyReference::builder()
        .name(&policy.name)
        .path(&policy.path)
        .build()
        .map_err(|e| ProviderError::new(ErrorKind::InvalidInput, api, e.to_string()))
}

/// A customer-managed policy reference as Landfall names it (`/` when AWS gives no path).
pub(crate) fn customer_ref_of(r: &CustomerManagedPolicyReference) -> CustomerPolicyRef {
    CustomerPolicyRef {
        name: r.name().to_string(),
        path: r
            .path()
            .filter(|p| !p.is_empty())
            .unwrap_or("/")
            .to_string(),
    }
}

/// A permissions boundary as Landfall models it: the managed policy ARN or the
/// customer-managed reference (`None`: the object names neither).
pub(crate) fn boundary_of(b: &SdkBoundary) -> Option<PermissionsBoundary> {
    match (
        b.managed_policy_arn(),
        b.customer_managed_policy_reference(),
    ) {
        (Some(arn), _) => Some(PermissionsBoundary::Managed(arn.to_string())),
        (None, Some(r)) => Some(PermissionsBoundary::Customer(customer_ref_of(r))),
        (None, None) => None,
    }
}

fn sdk_principal(p: PrincipalType) -> SdkPrincipalType {
    match p {
        PrincipalType::Group => SdkPrincipalType::Group,
        PrincipalType::User => SdkPrincipalType::User,
    }
}

/// An SDK principal type as Landfall's (`None`: one this version does not know).
pub(crate) fn principal_of(p: &SdkPrincipalType) -> Option<PrincipalType> {
    match p {
        SdkPrincipalType::Group => Some(PrincipalType::Group),
        SdkPrincipalType::User => Some(PrincipalType::User),
        _ => None,
    }
}

/// An asynchronous request's status as the executor polls it.
fn status_of(
    api: &'static str,
    status: Option<&StatusValues>,
    failure: Option<&str>,
) -> OperationStatus {
    match status {
        Some(StatusValues::Succeeded) => OperationStatus::Succeeded { account_id: None },
        Some(StatusValues::Failed) => OperationStatus::Failed {
            message: failure
                .filter(|f| !f.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| {
                    format!("{api}: the request failed and AWS gave no FailureReason")
                }),
        },
        // IN_PROGRESS, or a status this SDK does not know yet: ask again.
        _ => OperationStatus::InProgress,
    }
}

/// The reply to a call that starts an asynchronous request: its request id to poll,
/// or nothing when the status object is already `SUCCEEDED`.
fn started(
    api: &'static str,
    status: Option<&StatusValues>,
    request_id: Option<&str>,
    failure: Option<&str>,
) -> ProviderResult<Reply> {
    match status_of(api, status, failure) {
        OperationStatus::Succeeded { .. } => Ok(Reply::from(None)),
        OperationStatus::Failed { message } => Err(ProviderError::new(
            ErrorKind::Other("RequestFailed".into()),
            api,
            message,
        )),
        OperationStatus::InProgress => request_id
            .filter(|id| !id.is_empty())
            .map(|id| Reply::from(Some(id.to_string())))
            .ok_or_else(|| empty_response(api, "request id")),
    }
}

impl AwsBackend {
    /// The Identity Center clients for `region` (else the region the last refresh read,
    /// else the home region, else the SDK's), made on first use.
    pub(crate) fn identity_center(
        &self,
        region: Option<&str>,
        api: &'static str,
    ) -> ProviderResult<Arc<IdentityCenter>> {
        let wanted = match region {
            Some(r) => Some(r.to_string()),
            None => self
                .identity_clients
                .region
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .or_else(|| self.home_region.clone()),
        };
        let mut current = self
            .identity_clients
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(c) = current.as_ref()
            && (c.region.is_none() || wanted.is_none() || c.region == wanted)
        {
            return Ok(c.clone());
        }
        let base = self.base.as_ref().ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Other("NotConfigured".into()),
                api,
                "this backend has no SDK configuration to reach IAM Identity Center with",
            )
        })?;
        let mut sso = aws_sdk_ssoadmin::config::Builder::from(base);
        let mut store = aws_sdk_identitystore::config::Builder::from(base);
        if let Some(r) = &wanted {
            sso = sso.region(aws_sdk_ssoadmin::config::Region::new(r.clone()));
            store = store.region(aws_sdk_identitystore::config::Region::new(r.clone()));
        }
        let region = wanted.or_else(|| base.region().map(|r| r.to_string()));
        let center = Arc::new(IdentityCenter::new(
            aws_sdk_ssoadmin::Client::from_conf(sso.build()),
            aws_sdk_identitystore::Client::from_conf(store.build()),
            region,
        ));
        *current = Some(center.clone());
        Ok(center)
    }

    /// Later calls (and status polls) go to the region this refresh reads.
    pub(crate) fn remember_identity_region(&self, region: &str) {
        if region.is_empty() {
            return;
        }
        *self
            .identity_clients
            .region
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(region.to_string());
    }

    /// The instance of these clients' region (`ListInstances`, once): the first active
    /// one — an organization has at most one organization instance, in the management
    /// account.
    pub(crate) async fn identity_instance(
        &self,
        center: &IdentityCenter,
    ) -> ProviderResult<Option<LiveIdentityInstance>> {
        center
            .instance
            .get_or_try_init(|| async {
                let sso = &center.sso;
                let pages = self
                    .ic_pages(
                        SSO,
                        "ListInstances",
                        |token| sso.list_instances().set_next_token(token).send(),
                        |page| page.next_token().map(str::to_string),
                    )
                    .await?;
                Ok(pages
                    .iter()
                    .flat_map(|p| p.instances())
                    .filter(|i| {
                        // CREATE_IN_PROGRESS or DELETE_IN_PROGRESS: not one to use.
                        i.status()
                            .is_none_or(|s| *s == aws_sdk_ssoadmin::types::InstanceStatus::Active)
                    })
                    .find_map(|i| {
                        Some(LiveIdentityInstance {
                            arn: i.instance_arn()?.to_string(),
                            identity_store_id: i.identity_store_id()?.to_string(),
                        })
                    }))
            })
            .await
            .cloned()
    }

    /// The clients and the instance a call needs; without an instance, an error saying
    /// Identity Center is not enabled.
    async fn instance_for(
        &self,
        api: &'static str,
    ) -> ProviderResult<(Arc<IdentityCenter>, LiveIdentityInstance)> {
        let center = self.identity_center(None, api)?;
        match self.identity_instance(&center).await? {
            Some(instance) => Ok((center, instance)),
            None => Err(ProviderError::new(
                ErrorKind::Other("IdentityCenterNotEnabled".into()),
                api,
                format!(
                    "IAM Identity Center has no instance in {} for this account (ListInstances lists none): enable it in the management account (IAM Identity Center console, Enable), or set `[identity_center] region` to the region it is enabled in",
                    center.region.as_deref().unwrap_or("the configured region")
                ),
            )),
        }
    }

    /// One SSO Admin or Identity Store read (or status poll): counted, paced on the
    /// Identity Center limiter, retried when throttled.
    pub(crate) async fn ic_read<T, E, F, Fut>(
        &self,
        service: &'static str,
        api: &'static str,
        f: F,
    ) -> ProviderResult<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + 'static,
    {
        self.paced(&PaceKey::global(ApiClass::IdentityCenter), api, || {
            let call = f();
            async move { call.await.map_err(|e| self.gov_err(service, api, e)) }
        })
        .await
    }

    /// A read whose `ResourceNotFoundException` means "there is none".
    pub(crate) async fn ic_find<T, E, F, Fut>(
        &self,
        service: &'static str,
        api: &'static str,
        f: F,
    ) -> ProviderResult<Option<T>>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + 'static,
    {
        match self.ic_read(service, api, f).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A read the endpoint may not serve at all: `None` when it answers with an
    /// uncoded server error page instead of an AWS error (moto has no permissions
    /// boundaries and no permission set tags). AWS always answers with a coded
    /// error, so against AWS this is [`Self::ic_read`].
    pub(crate) async fn ic_read_if_served<T, E, F, Fut>(
        &self,
        service: &'static str,
        api: &'static str,
        f: F,
    ) -> ProviderResult<Option<T>>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + 'static,
    {
        self.paced(&PaceKey::global(ApiClass::IdentityCenter), api, || {
            let call = f();
            async move {
                match call.await {
                    Ok(v) => Ok(Some(v)),
                    // Logged at info (`-v`): at warn it would repeat for every set on
                    // every run against such an endpoint.
                    Err(e) if unserved(&e) => {
                        tracing::info!(
                            "{api}: the endpoint does not serve this API (an uncoded server error); read as none"
                        );
                        Ok(None)
                    }
                    Err(e) => Err(self.gov_err(service, api, e)),
                }
            }
        })
        .await
    }

    /// Every page of a paginated SSO Admin or Identity Store read, each page paced and
    /// retried on its own (a throttled page is asked for again at its token).
    pub(crate) async fn ic_pages<O, E, F, Fut>(
        &self,
        service: &'static str,
        api: &'static str,
        call: F,
        next: fn(&O) -> Option<String>,
    ) -> ProviderResult<Vec<O>>
    where
        F: Fn(Option<String>) -> Fut,
        Fut: std::future::Future<Output = Result<O, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + 'static,
    {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self.ic_read(service, api, || call(token.clone())).await?;
            let following = next(&page);
            out.push(page);
            match following {
                Some(t) if Some(&t) != token.as_ref() && !t.is_empty() => token = Some(t),
                _ => return Ok(out),
            }
        }
    }

    /// The IAM client (a global service), made on first use.
    fn iam(&self, api: &'static str) -> ProviderResult<&aws_sdk_iam::Client> {
        if let Some(c) = self.iam.get() {
            return Ok(c);
        }
        let base = self.base.as_ref().ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Other("NotConfigured".into()),
                api,
                "this backend has no SDK configuration to reach IAM with",
            )
        })?;
        Ok(self.iam.get_or_init(|| aws_sdk_iam::Client::new(base)))
    }

    /// One IAM read: counted, paced on the IAM reads limiter, retried when throttled;
    /// `NoSuchEntity` is `None`.
    async fn iam_find<T, E, F, Fut>(&self, api: &'static str, f: F) -> ProviderResult<Option<T>>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + 'static,
    {
        let read = self
            .paced(&PaceKey::global(ApiClass::IamReads), api, || {
                let call = f();
                async move { call.await.map_err(|e| self.gov_err(IAM, api, e)) }
            })
            .await;
        match read {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The default version's document of a managed policy, URL-decoded (IAM returns
/// policy documents percent-encoded, RFC 3986); `None` when there is no such policy.
pub(crate) async fn aws_managed_policy_document(
    aws: &AwsBackend,
    policy_arn: &str,
) -> ProviderResult<Option<String>> {
    let iam = aws.iam("GetPolicy")?;
    let Some(policy) = aws
        .iam_find("GetPolicy", || {
            iam.get_policy().policy_arn(policy_arn).send()
        })
        .await?
    else {
        return Ok(None);
    };
    let version = policy
        .policy()
        .and_then(|p| p.default_version_id())
        .ok_or_else(|| empty_response("GetPolicy", "default version id"))?;
    let Some(out) = aws
        .iam_find("GetPolicyVersion", || {
            iam.get_policy_version()
                .policy_arn(policy_arn)
                .version_id(version)
                .send()
        })
        .await?
    else {
        // The default version was replaced between the two reads: as good as none.
        return Ok(None);
    };
    let document = out
        .policy_version()
        .and_then(|v| v.document())
        .ok_or_else(|| empty_response("GetPolicyVersion", "policy document"))?;
    Ok(Some(url_decoded(document)))
}

/// `%7B%22Version%22…` → `{"Version"…`. `+` stays `+` (RFC 3986, not form encoding);
/// invalid UTF-8 after decoding is replaced, never a panic.
pub(crate) fn url_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The status of an asynchronous Identity Center request.
pub(crate) async fn request_status(
    aws: &AwsBackend,
    request: IdentityRequest,
    request_id: &str,
) -> ProviderResult<OperationStatus> {
    let api = request.api();
    let (center, instance) = aws.instance_for(api).await?;
    let sso = &center.sso;
    let inst = instance.arn.as_str();
    let (status, failure) = match request {
        IdentityRequest::AssignmentCreation => {
            let out = aws
                .ic_read(SSO, api, || {
                    sso.describe_account_assignment_creation_status()
                        .instance_arn(inst)
                        .account_assignment_creation_request_id(request_id)
                        .send()
                })
                .await?;
            let s = out
                .account_assignment_creation_status()
                .ok_or_else(|| empty_response(api, "AccountAssignmentCreationStatus"))?;
            (s.status().cloned(), s.failure_reason().map(str::to_string))
        }
        IdentityRequest::AssignmentDeletion => {
            let out = aws
                .ic_read(SSO, api, || {
                    sso.describe_account_assignment_deletion_status()
                        .instance_arn(inst)
                        .account_assignment_deletion_request_id(request_id)
                        .send()
                })
                .await?;
            let s = out
                .account_assignment_deletion_status()
                .ok_or_else(|| empty_response(api, "AccountAssignmentDeletionStatus"))?;
            (s.status().cloned(), s.failure_reason().map(str::to_string))
        }
        IdentityRequest::Provisioning => {
            let out = aws
                .ic_read(SSO, api, || {
                    sso.describe_permission_set_provisioning_status()
                        .instance_arn(inst)
                        .provision_permission_set_request_id(request_id)
                        .send()
                })
                .await?;
            let s = out
                .permission_set_provisioning_status()
                .ok_or_else(|| empty_response(api, "PermissionSetProvisioningStatus"))?;
            (s.status().cloned(), s.failure_reason().map(str::to_string))
        }
    };
    Ok(status_of(api, status.as_ref(), failure.as_deref()))
}

/// One Identity Center call, in the instance's region.
pub(crate) async fn execute(aws: &AwsBackend, call: IdentityCall<'_>) -> ProviderResult<Reply> {
    use IdentityCall as I;
    let api = call.api();
    let (center, instance) = aws.instance_for(api).await?;
    let sso = &center.sso;
    let store = &center.store;
    let inst = instance.arn.as_str();
    match call {
        I::CreatePermissionSet {
            name,
            description,
            session_duration,
            tags,
        } => {
            let out = aws
                .gov_write(
                    SSO,
                    api,
                    sso.create_permission_set()
                        .instance_arn(inst)
                        .name(name)
                        .set_description(description.map(str::to_string))
                        .session_duration(session_duration)
                        .set_tags(sso_tags(api, tags)?)
                        .send(),
                )
                .await?;
            let arn = out
                .permission_set()
                .and_then(|p| p.permission_set_arn())
                .ok_or_else(|| empty_response(api, "permission set ARN"))?;
            Ok(Reply::from(Some(arn.to_string())))
        }
        I::UpdatePermissionSet {
            permission_set_arn,
            description,
            session_duration,
        } => aws
            .gov_write(
                SSO,
                api,
                sso.update_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(permission_set_arn)
                    // AWS keeps the description when none is sent (it cannot be
                    // emptied: its minimum length is 1).
                    .set_description(description.map(str::to_string))
                    .session_duration(session_duration)
                    .send(),
            )
            .await
            .map(no_id),
        I::DeletePermissionSet { permission_set_arn } => aws
            .gov_write(
                SSO,
                api,
                sso.delete_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(permission_set_arn)
                    .send(),
            )
            .await
            .map(no_id),
        I::AttachManagedPolicyToPermissionSet {
            permission_set_arn,
            policy_arn,
        } => aws
            .gov_write(
                SSO,
                api,
                sso.attach_managed_policy_to_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(permission_set_arn)
                    .managed_policy_arn(policy_arn)
                    .send(),
            )
            .await
            .map(no_id),
        I::DetachManagedPolicyFromPermissionSet {
            permission_set_arn,
            policy_arn,
        } => aws
            .gov_write(
                SSO,
                api,
                sso.detach_managed_policy_from_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(permission_set_arn)
                    .managed_policy_arn(policy_arn)
                    .send(),
            )
            .await
            .map(no_id),
        I::AttachCustomerManagedPolicyReferenceToPermissionSet {
            permission_set_arn,
            policy,
        } => aws
            .gov_write(
                SSO,
                api,
                sso.attach_customer_managed_policy_reference_to_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(permission_set_arn)
                    .customer_managed_policy_reference(customer_reference(api, policy)?)
                    .send(),
            )
            .await
            .map(no_id),
        I::DetachCustomerManagedPolicyReferenceFromPermissionSet {
            permission_set_arn,
            policy,
        } => aws
            .gov_write(
                SSO,
                api,
                sso.detach_customer_managed_policy_reference_from_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(permission_set_arn)
                    .customer_managed_policy_reference(customer_reference(api, policy)?)
                    .send(),
            )
            .await
            .map(no_id),
        I::PutInlinePolicyToPermissionSet {
            permission_set_arn,
            document,
        } => aws
            .gov_write(
                SSO,
                api,
                sso.put_inline_policy_to_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(permission_set_arn)
                    .inline_policy(document)
                    .send(),
            )
            .await
            .map(no_id),
        I::DeleteInlinePolicyFromPermissionSet { permission_set_arn } => aws
            .gov_write(
                SSO,
                api,
                sso.delete_inline_policy_from_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(permission_set_arn)
                    .send(),
            )
            .await
            .map(no_id),
        I::PutPermissionsBoundaryToPermissionSet {
            permission_set_arn,
            boundary,
        } => {
            let boundary = match boundary {
                PermissionsBoundary::Managed(arn) => {
                    SdkBoundary::builder().managed_policy_arn(arn).build()
                }
                PermissionsBoundary::Customer(policy) => SdkBoundary::builder()
                    .customer_managed_policy_reference(customer_reference(api, policy)?)
                    .build(),
            };
            aws.gov_write(
                SSO,
                api,
                sso.put_permissions_boundary_to_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(permission_set_arn)
                    .permissions_boundary(boundary)
                    .send(),
            )
            .await
            .map(no_id)
        }
        I::DeletePermissionsBoundaryFromPermissionSet { permission_set_arn } => aws
            .gov_write(
                SSO,
                api,
                sso.delete_permissions_boundary_from_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(permission_set_arn)
                    .send(),
            )
            .await
            .map(no_id),
        I::TagPermissionSet {
            permission_set_arn,
            tags,
        } => aws
            .gov_write(
                SSO,
                api,
                sso.tag_resource()
                    .instance_arn(inst)
                    .resource_arn(permission_set_arn)
                    .set_tags(sso_tags(api, tags)?)
                    .send(),
            )
            .await
            .map(no_id),
        I::UntagPermissionSet {
            permission_set_arn,
            keys,
        } => aws
            .gov_write(
                SSO,
                api,
                sso.untag_resource()
                    .instance_arn(inst)
                    .resource_arn(permission_set_arn)
                    .set_tag_keys(Some(keys.to_vec()))
                    .send(),
            )
            .await
            .map(no_id),
        I::ProvisionPermissionSet { permission_set_arn } => {
            let out = aws
                .gov_write(
                    SSO,
                    api,
                    sso.provision_permission_set()
                        .instance_arn(inst)
                        .permission_set_arn(permission_set_arn)
                        .target_type(ProvisionTargetType::AllProvisionedAccounts)
                        .send(),
                )
                .await?;
            let s = out
                .permission_set_provisioning_status()
                .ok_or_else(|| empty_response(api, "PermissionSetProvisioningStatus"))?;
            started(api, s.status(), s.request_id(), s.failure_reason())
        }
        I::CreateAccountAssignment {
            permission_set_arn,
            principal_type,
            principal_id,
            account_id,
        } => {
            let out = aws
                .gov_write(
                    SSO,
                    api,
                    sso.create_account_assignment()
                        .instance_arn(inst)
                        .target_id(account_id)
                        .target_type(TargetType::AwsAccount)
                        .permission_set_arn(permission_set_arn)
                        .principal_type(sdk_principal(principal_type))
                        .principal_id(principal_id)
                        .send(),
                )
                .await?;
            let s = out
                .account_assignment_creation_status()
                .ok_or_else(|| empty_response(api, "AccountAssignmentCreationStatus"))?;
            started(api, s.status(), s.request_id(), s.failure_reason())
        }
        I::DeleteAccountAssignment {
            permission_set_arn,
            principal_type,
            principal_id,
            account_id,
        } => {
            let out = aws
                .gov_write(
                    SSO,
                    api,
                    sso.delete_account_assignment()
                        .instance_arn(inst)
                        .target_id(account_id)
                        .target_type(TargetType::AwsAccount)
                        .permission_set_arn(permission_set_arn)
                        .principal_type(sdk_principal(principal_type))
                        .principal_id(principal_id)
                        .send(),
                )
                .await?;
            let s = out
                .account_assignment_deletion_status()
                .ok_or_else(|| empty_response(api, "AccountAssignmentDeletionStatus"))?;
            started(api, s.status(), s.request_id(), s.failure_reason())
        }
        I::CreateGroup {
            display_name,
            description,
        } => {
            let out = aws
                .gov_write(
                    IDENTITYSTORE,
                    api,
                    store
                        .create_group()
                        .identity_store_id(&instance.identity_store_id)
                        .display_name(display_name)
                        .set_description(description.map(str::to_string))
                        .send(),
                )
                .await?;
            let id = out.group_id();
            if id.is_empty() {
                return Err(empty_response(api, "group id"));
            }
            Ok(Reply::from(Some(id.to_string())))
        }
        I::UpdateGroup {
            group_id,
            description,
        } => {
            // An operation without a value removes the attribute.
            let operation = aws_sdk_identitystore::types::AttributeOperation::builder()
                .attribute_path("description")
                .set_attribute_value(description.map(|d| Document::String(d.to_string())))
                .build()
                .map_err(|e| ProviderError::new(ErrorKind::InvalidInput, api, e.to_string()))?;
            aws.gov_write(
                IDENTITYSTORE,
                api,
                store
                    .update_group()
                    .identity_store_id(&instance.identity_store_id)
                    .group_id(group_id)
                    .operations(operation)
                    .send(),
            )
            .await
            .map(no_id)
        }
        I::DeleteGroup { group_id } => aws
            .gov_write(
                IDENTITYSTORE,
                api,
                store
                    .delete_group()
                    .identity_store_id(&instance.identity_store_id)
                    .group_id(group_id)
                    .send(),
            )
            .await
            .map(no_id),
    }
}

/// The reply of a call that returns no id.
fn no_id<T>(_: T) -> Reply {
    Reply::from(None)
}

/// Tags of SSO Admin as Landfall's.
pub(crate) fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect::<BTreeMap<_, _>>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_are_percent_decoded() {
        assert_eq!(
            url_decoded("%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D"),
            r#"{"Version":"2012-10-17","Statement":[]}"#
        );
        // RFC 3986: a `+` is a plus sign (a condition key's value may hold one).
        assert_eq!(url_decoded("a+b%20c"), "a+b c");
        // A stray `%` is kept, not a failure.
        assert_eq!(url_decoded("100%"), "100%");
    }

    #[test]
    fn a_terminal_status_in_the_response_spares_the_poll() {
        assert_eq!(
            started(
                "CreateAccountAssignment",
                Some(&StatusValues::InProgress),
                Some("r-1"),
                None
            )
            .unwrap()
            .id
            .as_deref(),
            Some("r-1")
        );
        assert_eq!(
            started(
                "CreateAccountAssignment",
                Some(&StatusValues::Succeeded),
                Some("r-1"),
                None
            )
            .unwrap()
            .id,
            None
        );
        let failed = started(
            "ProvisionPermissionSet",
            Some(&StatusValues::Failed),
            Some("r-1"),
            Some("the permission set has no policies"),
        )
        .unwrap_err();
        assert_eq!(failed.api, "ProvisionPermissionSet");
        assert!(failed.message.contains("has no policies"), "{failed}");
        let no_id = started(
            "CreateAccountAssignment",
            Some(&StatusValues::InProgress),
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(no_id.kind, ErrorKind::Other("EmptyResponse".into()));
    }
}
