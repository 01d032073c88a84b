//! Logging and security services: the clients of each account and region, how their
//! calls are made (counted, paced, errors named after who was refused where), the
//! dispatch of [`SecurityCall`]s and the security refresh.
//!
//! S3, CloudTrail, IAM, AWS Config and IAM Access Analyzer are called in the scope's
//! account and region: with the base credentials in the management account, as the
//! access role elsewhere (the same credentials as the member's EC2 and KMS clients,
//! [`AwsBackend::credentials_for`]). GuardDuty's and Security Hub's organization admin
//! calls are the management account's, in the scope's region.
//!
//! Reads are paced on the same per-(account, region) classes as the executor paces
//! the changes ([`SecurityCall::pace_class`]): `s3`, `cloudtrail`, `iam`, `config`,
//! `access_analyzer`, `guardduty`, `securityhub`.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::{Arc, Mutex};

use aws_sdk_organizations::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::config::http::HttpResponse;
use futures::stream::{self, StreamExt, TryStreamExt};
use landfall_core::live::{LiveSecurity, SecurityScope};
use landfall_engine::call::SecurityCall;
use landfall_engine::pacing::{ApiClass, PaceKey};
use landfall_engine::provider::{ErrorKind, MemberScope, ProviderError, ProviderResult, Reply};

use crate::member::scoped_err;
use crate::{AwsBackend, admins, aggregators, analyzers, buckets, trails, trusted_access};

/// The services of this module, by the IAM prefix of their actions and the limiter
/// their calls wait on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Svc {
    S3,
    CloudTrail,
    Iam,
    Config,
    AccessAnalyzer,
    GuardDuty,
    SecurityHub,
}

impl Svc {
    fn prefix(self) -> &'static str {
        match self {
            Svc::S3 => "s3",
            Svc::CloudTrail => "cloudtrail",
            Svc::Iam => "iam",
            Svc::Config => "config",
            Svc::AccessAnalyzer => "access-analyzer",
            Svc::GuardDuty => "guardduty",
            Svc::SecurityHub => "securityhub",
        }
    }

    fn class(self) -> ApiClass {
        match self {
            Svc::S3 => ApiClass::S3,
            Svc::CloudTrail => ApiClass::CloudTrail,
            Svc::Iam => ApiClass::Iam,
            Svc::Config => ApiClass::Config,
            Svc::AccessAnalyzer => ApiClass::AccessAnalyzer,
            Svc::GuardDuty => ApiClass::GuardDuty,
            Svc::SecurityHub => ApiClass::SecurityHub,
        }
    }
}

/// Who makes a call, and where: named in errors, and the scope of its limiter.
#[derive(Clone, Debug)]
pub(crate) struct Who {
    pub scope: MemberScope,
    /// The access role's ARN, or the caller's in the management account.
    pub principal: String,
}

impl Who {
    fn key(&self, svc: Svc) -> PaceKey {
        PaceKey::member(svc.class(), &self.scope.account_id, &self.scope.region)
    }

    pub(crate) fn err<E>(
        &self,
        svc: Svc,
        api: &'static str,
        e: SdkError<E, HttpResponse>,
    ) -> ProviderError
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        scoped_err(&self.principal, &self.scope, svc.prefix(), api, e)
    }
}

/// The S3, CloudTrail, IAM, AWS Config and IAM Access Analyzer clients of one account
/// and region.
#[derive(Clone, Debug)]
pub struct SecurityClients {
    pub s3: aws_sdk_s3::Client,
    pub cloudtrail: aws_sdk_cloudtrail::Client,
    pub iam: aws_sdk_iam::Client,
    pub config: aws_sdk_config::Client,
    pub analyzer: aws_sdk_accessanalyzer::Client,
}

/// GuardDuty's and Security Hub's clients (management account, one region).
#[derive(Clone, Debug)]
pub struct AdminClients {
    pub guardduty: aws_sdk_guardduty::Client,
    pub securityhub: aws_sdk_securityhub::Client,
}

/// The clients of one account and region, and who they act as.
pub(crate) struct Scoped {
    pub who: Who,
    pub c: SecurityClients,
}

/// The security clients made so far: per (account, region), and the admin clients
/// per region (or one pair given for every region: tests).
#[derive(Default)]
pub(crate) struct SecurityAccess {
    scoped: Mutex<HashMap<MemberScope, Arc<Scoped>>>,
    admins: Mutex<HashMap<String, Arc<AdminClients>>>,
    given_admins: Option<Arc<AdminClients>>,
}

/// Whether S3 must be addressed path-style: behind an endpoint override (moto,
/// LocalStack), where bucket names are no DNS names.
fn path_style(base: &aws_config::SdkConfig) -> bool {
    base.endpoint_url().is_some_and(|u| !u.is_empty())
        || ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
            .iter()
            .any(|v| std::env::var(v).is_ok_and(|u| !u.is_empty()))
}

impl AwsBackend {
    /// Uses these clients for one account and region (tests: mocked clients) instead
    /// of making them from the SDK configuration.
    pub fn with_security_clients(self, scope: MemberScope, clients: SecurityClients) -> Self {
        let principal = format!(
            "arn:aws:iam::{}:role/{}",
            scope.account_id, self.access_role
        );
        let mut scoped = self
            .security
            .scoped
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        scoped.insert(
            scope.clone(),
            Arc::new(Scoped {
                who: Who { scope, principal },
                c: clients,
            }),
        );
        drop(scoped);
        self
    }

    /// Uses these GuardDuty and Security Hub clients in every region (tests: mocked
    /// clients).
    pub fn with_admin_clients(mut self, clients: AdminClients) -> Self {
        self.security.given_admins = Some(Arc::new(clients));
        self
    }

    /// The clients of an account and region, made on first use.
    pub(crate) async fn scoped(&self, scope: &MemberScope) -> ProviderResult<Arc<Scoped>> {
        if let Some(s) = self
            .security
            .scoped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(scope)
        {
            return Ok(s.clone());
        }
        let (base, credentials, principal) = self.credentials_for(&scope.account_id).await?;
        let region = aws_sdk_s3::config::Region::new(scope.region.clone());
        macro_rules! client {
            ($krate:ident) => {
                $krate::Client::from_conf(
                    $krate::config::Builder::from(base)
                        .region(region.clone())
                        .credentials_provider(credentials.clone())
                        .build(),
                )
            };
        }
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(base)
                .region(region.clone())
                .credentials_provider(credentials.clone())
                .force_path_style(path_style(base))
                .build(),
        );
        let scoped = Arc::new(Scoped {
            who: Who {
                scope: scope.clone(),
                principal,
            },
            c: SecurityClients {
                s3,
                cloudtrail: client!(aws_sdk_cloudtrail),
                iam: client!(aws_sdk_iam),
                config: client!(aws_sdk_config),
                analyzer: client!(aws_sdk_accessanalyzer),
            },
        });
        let mut all = self
            .security
            .scoped
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        Ok(all.entry(scope.clone()).or_insert(scoped).clone())
    }

    /// GuardDuty's and Security Hub's clients in a region (management account), and
    /// who calls them.
    pub(crate) async fn admin_clients(
        &self,
        region: &str,
    ) -> ProviderResult<(Arc<AdminClients>, Who)> {
        let me = self.caller().await?;
        let who = Who {
            scope: MemberScope {
                account_id: me.management_account_id.clone(),
                region: region.to_string(),
            },
            principal: me.arn.clone(),
        };
        if let Some(given) = &self.security.given_admins {
            return Ok((given.clone(), who));
        }
        if let Some(c) = self
            .security
            .admins
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(region)
        {
            return Ok((c.clone(), who));
        }
        let base = self.base.as_ref().ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Other("NotConfigured".into()),
                "EnableOrganizationAdminAccount",
                "this backend has no SDK configuration to reach GuardDuty and Security Hub with",
            )
        })?;
        let r = aws_sdk_guardduty::config::Region::new(region.to_string());
        let clients = Arc::new(AdminClients {
            guardduty: aws_sdk_guardduty::Client::from_conf(
                aws_sdk_guardduty::config::Builder::from(base)
                    .region(r.clone())
                    .build(),
            ),
            securityhub: aws_sdk_securityhub::Client::from_conf(
                aws_sdk_securityhub::config::Builder::from(base)
                    .region(r)
                    .build(),
            ),
        });
        let mut all = self
            .security
            .admins
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        Ok((
            all.entry(region.to_string()).or_insert(clients).clone(),
            who,
        ))
    }

    /// One read: counted, paced on the service's limiter in the caller's account and
    /// region, retried when throttled (or while the account is not ready).
    pub(crate) async fn sec_read<T, E, F, Fut>(
        &self,
        who: &Who,
        svc: Svc,
        api: &'static str,
        f: F,
    ) -> ProviderResult<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + 'static,
    {
        self.paced(&who.key(svc), api, || {
            let call = f();
            async move { call.await.map_err(|e| who.err(svc, api, e)) }
        })
        .await
    }

    /// One read attempt whose errors the closure converts itself, paced like
    /// [`Self::sec_read`].
    pub(crate) async fn sec_paced<T, F, Fut>(
        &self,
        who: &Who,
        svc: Svc,
        api: &'static str,
        f: F,
    ) -> ProviderResult<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = ProviderResult<T>>,
    {
        self.paced(&who.key(svc), api, f).await
    }

    /// A read whose answer may be "there is none": `None` when the service answers
    /// one of the `absent` codes (or, for a code-less 404, when `absent` names
    /// `NotFound`: S3's `HeadBucket`-style answers).
    pub(crate) async fn sec_find<T, E, F, Fut>(
        &self,
        who: &Who,
        svc: Svc,
        api: &'static str,
        absent: &[&str],
        f: F,
    ) -> ProviderResult<Option<T>>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + 'static,
    {
        self.paced(&who.key(svc), api, || {
            let call = f();
            async move {
                match call.await {
                    Ok(v) => Ok(Some(v)),
                    Err(e) if is_absent(&e, absent) => Ok(None),
                    Err(e) => Err(who.err(svc, api, e)),
                }
            }
        })
        .await
    }

    /// Every page of a paginated read, each page paced and retried on its own.
    pub(crate) async fn sec_pages<O, E, F, Fut>(
        &self,
        who: &Who,
        svc: Svc,
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
            let page = self.sec_read(who, svc, api, || call(token.clone())).await?;
            let following = next(&page);
            out.push(page);
            match following {
                Some(t) if Some(&t) != token.as_ref() && !t.is_empty() => token = Some(t),
                _ => return Ok(out),
            }
        }
    }

    /// One mutating call: counted; pacing and retries are the executor's.
    pub(crate) async fn sec_write<T, E, Fut>(
        &self,
        who: &Who,
        svc: Svc,
        api: &'static str,
        call: Fut,
    ) -> ProviderResult<T>
    where
        Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + 'static,
    {
        self.wrote(api);
        call.await.map_err(|e| who.err(svc, api, e))
    }
}

/// Whether an error is one of the `absent` codes (a code-less 404 counts as
/// `NotFound`).
fn is_absent<E>(e: &SdkError<E, HttpResponse>, absent: &[&str]) -> bool
where
    E: ProvideErrorMetadata,
{
    let Some(service) = e.as_service_error() else {
        return false;
    };
    match service.code() {
        Some(code) => absent.contains(&code),
        None => {
            absent.contains(&"NotFound")
                && e.raw_response().is_some_and(|r| r.status().as_u16() == 404)
        }
    }
}

/// The reply of a creation: the id the response must carry.
pub(crate) fn created(api: &'static str, what: &str, id: Option<&str>) -> ProviderResult<Reply> {
    id.filter(|id| !id.is_empty())
        .map(|id| Reply::from(Some(id.to_string())))
        .ok_or_else(|| crate::errors::empty_response(api, what))
}

/// A `u32` count of days as the SDKs take it.
pub(crate) fn days(api: &'static str, n: u32) -> ProviderResult<i32> {
    i32::try_from(n).map_err(|_| {
        ProviderError::new(
            ErrorKind::InvalidInput,
            api,
            format!("{n} days is more than the API accepts"),
        )
    })
}

/// A logging or security service call in its scope's account and region.
pub(crate) async fn execute(
    aws: &AwsBackend,
    scope: &MemberScope,
    call: SecurityCall<'_>,
) -> ProviderResult<Reply> {
    use SecurityCall as S;
    // Each call's future boxed: S3's and CloudTrail's request futures are large, and
    // moved through the stack by every enclosing poll (debug builds) they would fill
    // a 2 MiB thread stack.
    let done = |()| Reply::default();
    // Every call but the admin ones acts in the scope's account, made on first use.
    let s = || aws.scoped(scope);
    match call {
        S::EnableOrganizationAdminAccount {
            service,
            account_id,
        } => Box::pin(admins::enable(aws, &scope.region, service, account_id)).await,
        S::DisableOrganizationAdminAccount {
            service,
            account_id,
        } => Box::pin(admins::disable(aws, &scope.region, service, account_id)).await,
        S::CreateBucket {
            bucket,
            object_lock,
        } => Box::pin(buckets::create(aws, &*s().await?, bucket, object_lock)).await,
        S::PutBucketVersioning { bucket } => {
            Box::pin(buckets::put_versioning(aws, &*s().await?, bucket))
                .await
                .map(done)
        }
        S::PutBucketEncryption {
            bucket,
            kms_key_arn,
        } => Box::pin(buckets::put_encryption(
            aws,
            &*s().await?,
            bucket,
            kms_key_arn,
        ))
        .await
        .map(done),
        S::PutPublicAccessBlock { bucket } => {
            Box::pin(buckets::put_public_access_block(aws, &*s().await?, bucket))
                .await
                .map(done)
        }
        S::PutBucketPolicy { bucket, policy } => {
            Box::pin(buckets::put_policy(aws, &*s().await?, bucket, policy))
                .await
                .map(done)
        }
        S::PutObjectLockConfiguration {
            bucket,
            object_lock,
        } => Box::pin(buckets::put_object_lock(
            aws,
            &*s().await?,
            bucket,
            object_lock,
        ))
        .await
        .map(done),
        S::PutBucketLifecycleConfiguration { bucket, lifecycle } => {
            Box::pin(buckets::put_lifecycle(aws, &*s().await?, bucket, lifecycle))
                .await
                .map(done)
        }
        S::DeleteBucketLifecycle { bucket } => {
            Box::pin(buckets::delete_lifecycle(aws, &*s().await?, bucket))
                .await
                .map(done)
        }
        S::PutBucketTagging { bucket, tags } => {
            Box::pin(buckets::put_tagging(aws, &*s().await?, bucket, tags))
                .await
                .map(done)
        }
        S::DeleteBucket { bucket } => Box::pin(buckets::delete(aws, &*s().await?, bucket))
            .await
            .map(done),
        S::CreateTrail(request) => Box::pin(trails::create(aws, &*s().await?, request)).await,
        S::UpdateTrail(request) => Box::pin(trails::update(aws, &*s().await?, request))
            .await
            .map(done),
        S::StartLogging { trail_arn } => {
            Box::pin(trails::start_logging(aws, &*s().await?, trail_arn))
                .await
                .map(done)
        }
        S::AddTags { trail_arn, tags } => {
            Box::pin(trails::add_tags(aws, &*s().await?, trail_arn, tags))
                .await
                .map(done)
        }
        S::DeleteTrail { trail_arn } => Box::pin(trails::delete(aws, &*s().await?, trail_arn))
            .await
            .map(done),
        S::CreateRole {
            role_name,
            trusted_service,
        } => {
            Box::pin(aggregators::create_role(
                aws,
                &*s().await?,
                role_name,
                trusted_service,
            ))
            .await
        }
        S::AttachRolePolicy {
            role_name,
            policy_arn,
        } => Box::pin(aggregators::attach_role_policy(
            aws,
            &*s().await?,
            role_name,
            policy_arn,
        ))
        .await
        .map(done),
        S::DetachRolePolicy {
            role_name,
            policy_arn,
        } => Box::pin(aggregators::detach_role_policy(
            aws,
            &*s().await?,
            role_name,
            policy_arn,
        ))
        .await
        .map(done),
        S::DeleteRole { role_name } => {
            Box::pin(aggregators::delete_role(aws, &*s().await?, role_name))
                .await
                .map(done)
        }
        S::PutConfigurationAggregator {
            name,
            role_arn,
            tags,
        } => Box::pin(aggregators::put(aws, &*s().await?, name, role_arn, tags)).await,
        S::DeleteConfigurationAggregator { name } => {
            Box::pin(aggregators::delete(aws, &*s().await?, name))
                .await
                .map(done)
        }
        S::CreateAnalyzer { name, tags } => {
            Box::pin(analyzers::create(aws, &*s().await?, name, tags)).await
        }
        S::DeleteAnalyzer { name } => Box::pin(analyzers::delete(aws, &*s().await?, name))
            .await
            .map(done),
    }
}

/// The security refresh: the organization's trusted access and delegated
/// administrators, GuardDuty's and Security Hub's admin accounts per region, and the
/// trails, buckets, aggregators and analyzers of each account and region the scope
/// names — all at once, each read paced on its own limiter.
pub(crate) async fn refresh(
    aws: &AwsBackend,
    scope: &SecurityScope,
) -> ProviderResult<LiveSecurity> {
    // Boxed: the reads' futures are large, and polled inline they would fill a
    // thread's stack.
    let (
        service_access,
        delegated_admins,
        organization_admins,
        trails,
        buckets,
        aggregators,
        analyzers,
    ) = futures::try_join!(
        Box::pin(trusted_access::service_access(aws)),
        Box::pin(trusted_access::delegated_admins(aws)),
        Box::pin(admins::read(aws, &scope.organization_admins)),
        Box::pin(each(&scope.trails, |(account, region)| async move {
            let s = aws.scoped(&member(&account, &region)).await?;
            trails::read(aws, &s).await
        })),
        Box::pin(each(
            &scope.buckets,
            |(account, region, bucket)| async move {
                let s = aws.scoped(&member(&account, &region)).await?;
                Ok(buckets::read(aws, &s, &bucket).await?.into_iter().collect())
            }
        )),
        Box::pin(each(
            &scope.aggregators,
            |(account, region, role)| async move {
                let s = aws.scoped(&member(&account, &region)).await?;
                aggregators::read(aws, &s, &role).await
            }
        )),
        Box::pin(each(&scope.analyzers, |(account, region)| async move {
            let s = aws.scoped(&member(&account, &region)).await?;
            analyzers::read(aws, &s).await
        })),
    )?;
    Ok(LiveSecurity {
        read: true,
        service_access,
        delegated_admins,
        organization_admins,
        trails,
        buckets,
        aggregators,
        analyzers,
    })
}

fn member(account: &str, region: &str) -> MemberScope {
    MemberScope {
        account_id: account.to_string(),
        region: region.to_string(),
    }
}

/// Runs `read` for every item at once and merges the maps they return.
/// (Items are cloned: a closure over borrowed items would not be `Send` for every
/// lifetime, as `async_trait` needs.)
async fn each<I, V, F, Fut>(
    items: &std::collections::BTreeSet<I>,
    read: F,
) -> ProviderResult<std::collections::BTreeMap<String, V>>
where
    I: Ord + Clone,
    F: Fn(I) -> Fut,
    Fut: std::future::Future<Output = ProviderResult<std::collections::BTreeMap<String, V>>>,
{
    let maps: Vec<_> = stream::iter(items.iter().cloned().map(|i| Box::pin(read(i))))
        .buffer_unordered(crate::ALL_AT_ONCE)
        .try_collect()
        .await?;
    Ok(maps.into_iter().flatten().collect())
}
