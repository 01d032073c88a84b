//! Member-account access: networks and keys live in the member accounts, reached by
//! assuming the landing zone's access role (`arn:aws:iam::<account>:role/<role>`) —
//! except in the management account itself, which uses the base credentials.
//!
//! One `AssumeRoleProvider` per account (its credentials cached and refreshed by the
//! SDK's identity cache, shared by that account's EC2 and KMS clients in every
//! region, and by its logging and security clients, [`crate::security`]), and one
//! pair of clients per account and region.
//!
//! Right after an account is created its role cannot be assumed for a while
//! (`AccessDenied`): that is [`ErrorKind::AccountNotReady`], which the executor and the
//! reads retry with backoff.

use landfall_engine::pacing::{ApiClass, PaceKey};
use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::{Arc, Mutex};

use aws_config::sts::AssumeRoleProvider;
use aws_sdk_ec2::config::{Region, SharedCredentialsProvider};
use aws_sdk_organizations::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use landfall_engine::provider::{
    ErrorKind, MemberCall, MemberScope, ProviderError, ProviderResult,
};

use crate::AwsBackend;
use crate::errors::{Context, from_sdk_in};

/// The service a member-account call goes to (the IAM prefix of its actions).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Service {
    Ec2,
    Kms,
}

impl Service {
    fn prefix(self) -> &'static str {
        match self {
            Service::Ec2 => "ec2",
            Service::Kms => "kms",
        }
    }
}

/// The clients of one member account and region, and who they act as.
pub(crate) struct Member {
    pub scope: MemberScope,
    /// The role (or, in the management account, the caller) the calls are made as.
    pub principal: String,
    pub ec2: aws_sdk_ec2::Client,
    pub kms: aws_sdk_kms::Client,
}

impl Member {
    /// Converts an EC2 or KMS error of `api`; a refused `AssumeRole` behind it (the
    /// credentials could not be had) becomes [`ErrorKind::AccountNotReady`].
    pub fn err<E>(
        &self,
        service: Service,
        api: &'static str,
        e: SdkError<E, HttpResponse>,
    ) -> ProviderError
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        scoped_err(&self.principal, &self.scope, service.prefix(), api, e)
    }
}

/// Converts an error of a call made as `principal` in `scope` (`prefix`: the IAM
/// prefix of its actions); a refused `AssumeRole` behind it (the credentials could not
/// be had) becomes [`ErrorKind::AccountNotReady`].
pub(crate) fn scoped_err<E>(
    principal: &str,
    scope: &MemberScope,
    prefix: &'static str,
    api: &'static str,
    e: SdkError<E, HttpResponse>,
) -> ProviderError
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    if let Some(refused) = assume_role_refusal(&e) {
        return not_ready(principal, scope, api, refused);
    }
    from_sdk_in(
        &Context {
            service: prefix,
            principal,
            scope: Some(scope),
        },
        api,
        e,
        |_| None,
    )
}

/// Credentials per account and clients per (account, region).
#[derive(Default)]
pub(crate) struct Members {
    credentials: Mutex<HashMap<String, SharedCredentialsProvider>>,
    clients: Mutex<HashMap<MemberScope, Arc<Member>>>,
}

impl Members {
    pub fn insert(&self, member: Member) {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients.insert(member.scope.clone(), Arc::new(member));
    }

    fn get(&self, scope: &MemberScope) -> Option<Arc<Member>> {
        let clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients.get(scope).cloned()
    }
}

/// What STS said when it refused `AssumeRole`, if that is behind this error.
fn assume_role_refusal(e: &(dyn StdError + 'static)) -> Option<(String, String)> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(SdkError::ServiceError(service)) =
            err.downcast_ref::<SdkError<AssumeRoleError, HttpResponse>>()
        {
            let code = service.err().code().unwrap_or("Unknown").to_string();
            let message = service.err().message().unwrap_or("").to_string();
            return Some((code, message));
        }
        current = err.source();
    }
    None
}

fn not_ready(
    role_arn: &str,
    scope: &MemberScope,
    api: &'static str,
    (code, message): (String, String),
) -> ProviderError {
    let role = role_arn.rsplit('/').next().unwrap_or(role_arn);
    if matches!(code.as_str(), "AccessDenied" | "AccessDeniedException") {
        ProviderError::new(
            ErrorKind::AccountNotReady,
            api,
            format!(
                "cannot assume {role} in {} yet ({role_arn}: {message}); a new account's role can take a few minutes to become assumable — retrying",
                scope.account_id
            ),
        )
    } else {
        ProviderError::new(
            crate::errors::kind_of(&code, None),
            api,
            format!(
                "cannot assume {role_arn} to reach {}: {code}: {message}",
                scope
            ),
        )
    }
}

impl AwsBackend {
    /// The clients for a member account and region, made on first use.
    pub(crate) async fn member(&self, scope: &MemberScope) -> ProviderResult<Arc<Member>> {
        if let Some(m) = self.members.get(scope) {
            return Ok(m);
        }
        let (base, credentials, principal) = self.credentials_for(&scope.account_id).await?;
        let region = Region::new(scope.region.clone());
        let ec2 = aws_sdk_ec2::Client::from_conf(
            aws_sdk_ec2::config::Builder::from(base)
                .region(region.clone())
                .credentials_provider(credentials.clone())
                .build(),
        );
        let kms = aws_sdk_kms::Client::from_conf(
            aws_sdk_kms::config::Builder::from(base)
                .region(region)
                .credentials_provider(credentials)
                .build(),
        );
        let member = Arc::new(Member {
            scope: scope.clone(),
            principal,
            ec2,
            kms,
        });
        let mut clients = self
            .members
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        Ok(clients.entry(scope.clone()).or_insert(member).clone())
    }

    /// The base configuration and the credentials to act in an account with: the
    /// base credentials in the caller's own account, the access role's elsewhere; and
    /// who that is (named in errors).
    pub(crate) async fn credentials_for(
        &self,
        account_id: &str,
    ) -> ProviderResult<(&aws_config::SdkConfig, SharedCredentialsProvider, String)> {
        let base = self.base.as_ref().ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Other("NotConfigured".into()),
                "AssumeRole",
                "this backend has no SDK configuration to reach member accounts with",
            )
        })?;
        let me = self.caller().await?;
        let (credentials, principal) = if account_id == me.account {
            let credentials = base.credentials_provider().ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::Other("NoCredentials".into()),
                    "AssumeRole",
                    "no credentials provider is configured",
                )
            })?;
            (credentials, me.arn.clone())
        } else {
            let role_arn = format!("arn:aws:iam::{}:role/{}", account_id, self.access_role);
            (self.assumed(base, account_id, &role_arn).await?, role_arn)
        };
        Ok((base, credentials, principal))
    }

    /// The assumed-role credentials of an account (one provider per account).
    async fn assumed(
        &self,
        base: &aws_config::SdkConfig,
        account_id: &str,
        role_arn: &str,
    ) -> ProviderResult<SharedCredentialsProvider> {
        {
            let cache = self
                .members
                .credentials
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if let Some(p) = cache.get(account_id) {
                return Ok(p.clone());
            }
        }
        if base.time_source().is_none() {
            return Err(ProviderError::new(
                ErrorKind::Other("NotConfigured".into()),
                "AssumeRole",
                "the SDK configuration has no time source",
            ));
        }
        let provider = AssumeRoleProvider::builder(role_arn)
            .session_name("landfall")
            .configure(base)
            .build()
            .await;
        let provider = SharedCredentialsProvider::new(provider);
        let mut cache = self
            .members
            .credentials
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        Ok(cache
            .entry(account_id.to_string())
            .or_insert(provider)
            .clone())
    }

    /// One member-account read: counted, paced, bounded, retried when throttled or
    /// while the account is not ready.
    pub(crate) async fn member_read<T, E, F, Fut>(
        &self,
        m: &Member,
        service: Service,
        api: &'static str,
        f: F,
    ) -> ProviderResult<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + 'static,
    {
        let class = match service {
            Service::Ec2 => ApiClass::Ec2Reads,
            Service::Kms => ApiClass::KmsReads,
        };
        let key = PaceKey::member(class, &m.scope.account_id, &m.scope.region);
        self.paced(&key, api, || {
            let call = f();
            async move { call.await.map_err(|e| m.err(service, api, e)) }
        })
        .await
    }

    /// One member-account mutating call: counted; pacing and retries are the executor's.
    pub(crate) async fn member_write<T, E, Fut>(
        &self,
        m: &Member,
        service: Service,
        api: &'static str,
        call: Fut,
    ) -> ProviderResult<T>
    where
        Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + 'static,
    {
        self.wrote(api);
        call.await.map_err(|e| m.err(service, api, e))
    }
}

impl AwsBackend {
    /// A mutating call retried here when throttled (steps after a create, which the
    /// executor must not retry as a whole).
    pub(crate) async fn member_write_retried<T, E, F, Fut>(
        &self,
        m: &Member,
        service: Service,
        api: &'static str,
        f: F,
    ) -> ProviderResult<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + 'static,
    {
        landfall_engine::apply::retry_throttled(&self.limits, || {
            self.member_write(m, service, api, f())
        })
        .await
    }
}

/// A step after a resource was created (tagging, a first rule): retried here when
/// throttled, and never reported as retryable — the executor would create the resource
/// a second time. The resource carries its address tag, so the next refresh finds it.
pub(crate) fn after_create(created: &str, result: ProviderResult<()>) -> ProviderResult<()> {
    result.map_err(|e| {
        let kind = if e.kind.is_retryable() {
            ErrorKind::Other(e.kind.code())
        } else {
            e.kind
        };
        ProviderError::new(
            kind,
            e.api,
            format!(
                "{created} was created, but a following step failed: {}; the next apply finds it by its landfall:address tag",
                e.message
            ),
        )
    })
}

/// An EC2 or KMS call in a member account and region, as the account's access role.
pub(crate) async fn execute(
    aws: &AwsBackend,
    scope: &MemberScope,
    call: MemberCall<'_>,
) -> ProviderResult<Option<String>> {
    use MemberCall as M;
    let none = |()| None;
    match call {
        M::CreateVpc { cidr, tags } => aws.ec2_create_vpc(scope, cidr, tags).await.map(Some),
        M::DeleteVpc { vpc_id } => aws.ec2_delete_vpc(scope, vpc_id).await.map(none),
        M::CreateSubnet {
            vpc_id,
            az,
            cidr,
            tags,
        } => (aws.ec2_create_subnet(scope, vpc_id, az, cidr, tags).await).map(Some),
        M::DeleteSubnet { subnet_id } => aws.ec2_delete_subnet(scope, subnet_id).await.map(none),
        M::CreateRouteTable { vpc_id, tags } => {
            (aws.ec2_create_route_table(scope, vpc_id, tags).await).map(Some)
        }
        M::AssociateRouteTable {
            route_table_id,
            subnet_id,
        } => (aws
            .ec2_associate_route_table(scope, route_table_id, subnet_id)
            .await)
            .map(none),
        M::DeleteRouteTable { route_table_id } => {
            (aws.ec2_delete_route_table(scope, route_table_id).await).map(none)
        }
        M::CreateSecurityGroup {
            vpc_id,
            name,
            description,
            ingress_cidr,
            tags,
        } => aws
            .ec2_create_security_group(scope, vpc_id, name, description, ingress_cidr, tags)
            .await
            .map(Some),
        M::SetSecurityGroupIngress {
            group_id,
            add,
            remove,
        } => (aws
            .ec2_set_security_group_ingress(scope, group_id, add, remove)
            .await)
            .map(none),
        M::DeleteSecurityGroup { group_id } => {
            (aws.ec2_delete_security_group(scope, group_id).await).map(none)
        }
        M::CreateVpcEndpoint(request) => aws.ec2_create_endpoint(scope, request).await.map(Some),
        M::ModifyVpcEndpoint {
            endpoint_id,
            change,
        } => (aws.ec2_modify_endpoint(scope, endpoint_id, change).await).map(none),
        M::DeleteVpcEndpoint { endpoint_id } => {
            (aws.ec2_delete_endpoint(scope, endpoint_id).await).map(none)
        }
        M::CreateTags { resource_id, tags } => {
            (aws.ec2_tag(scope, resource_id, tags).await).map(none)
        }
        M::DeleteTags { resource_id, keys } => {
            (aws.ec2_untag(scope, resource_id, keys).await).map(none)
        }
        M::CreateKey {
            description,
            policy,
            tags,
        } => (aws.kms_create_key(scope, description, policy, tags).await).map(Some),
        M::SetKeyRotation { key_id, enabled } => {
            (aws.kms_set_key_rotation(scope, key_id, enabled).await).map(none)
        }
        M::PutKeyPolicy { key_id, policy } => {
            (aws.kms_put_key_policy(scope, key_id, policy).await).map(none)
        }
        M::UpdateKeyDescription {
            key_id,
            description,
        } => (aws
            .kms_update_key_description(scope, key_id, description)
            .await)
            .map(none),
        M::ScheduleKeyDeletion {
            key_id,
            window_days,
        } => (aws
            .kms_schedule_key_deletion(scope, key_id, window_days)
            .await)
            .map(none),
        M::CancelKeyDeletion { key_id } => aws.kms_restore_key(scope, key_id).await.map(none),
        M::PutAlias { alias, key_id } => aws.kms_put_alias(scope, alias, key_id).await.map(none),
        M::DeleteAlias { alias } => aws.kms_delete_alias(scope, alias).await.map(none),
        M::TagKey { key_id, tags } => aws.kms_tag_key(scope, key_id, tags).await.map(none),
        M::UntagKey { key_id, keys } => aws.kms_untag_key(scope, key_id, keys).await.map(none),
    }
}
