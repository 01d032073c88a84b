//! The AWS backend: Landfall's [`Provider`] over AWS Organizations and STS, and over
//! EC2 and KMS inside member accounts (through the access role each account has),
//! through the AWS SDK for Rust; Control Tower, Service Catalog, IAM Identity Center
//! and IAM from the management account; S3, CloudTrail, IAM, AWS Config and IAM
//! Access Analyzer in the account each logging or security resource lives in, and
//! GuardDuty's and Security Hub's admin delegation from the management account. The
//! only crate that links the SDK.
//!
//! Connection follows the standard credential chain (environment, shared profiles,
//! SSO); `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>` are honoured by the SDK,
//! so moto and LocalStack work unchanged. Retries are Landfall's own (the SDK's are
//! turned off) so one policy — backoff with jitter under a per-API limiter — governs
//! every call and retries never multiply.

// Library code reports through return values and `tracing`; only the binary prints.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod admins;
mod aggregators;
mod analyzers;
mod baselines;
mod buckets;
mod catalog;
mod controls;
mod errors;
mod governance;
mod identity;
mod identity_refresh;
mod keys;
mod member;
mod network;
mod organizations;
mod refresh;
mod security;
pub mod state_s3;
#[cfg(feature = "testkit")]
pub mod testkit;
mod trails;
mod trusted_access;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_organizations::Client as OrgClient;
use aws_sdk_organizations::config::ProvideCredentials;
use aws_sdk_organizations::types::{OrganizationFeatureSet, PolicyType, Tag};
use landfall_core::live::GovernanceScope;
use landfall_core::live::{
    LiveAccount, LiveGovernance, LiveMember, LiveOu, LivePolicy, LiveProvisionedAccount,
    WorldIdentity,
};
use landfall_core::model::Tags;
use landfall_engine::pacing::{ApiClass, PaceKey, Pacer, PacingSettings};
use landfall_engine::provider::{
    ApiLimits, Call, CreateAccountStatus, ErrorKind, MemberScope, OperationStatus,
    OrganizationRoot, Page, Provider, ProviderError, ProviderResult, Reply,
};
use tokio::sync::OnceCell;

pub use errors::kind_of;
use errors::{ConstraintReason, from_sdk};
pub use security::{AdminClients, SecurityClients};

/// How many independent reads a read starts at once: all of them — the limiters
/// ([`Pacer`]) decide how fast they go, not a fixed number in flight.
pub(crate) const ALL_AT_ONCE: usize = usize::MAX;

/// How to connect and how hard to push.
#[derive(Clone, Debug)]
pub struct AwsOptions {
    pub profile: Option<String>,
    /// Region for the SDK; Organizations is a global service served from us-east-1.
    pub region: Option<String>,
    /// How every call is paced: adaptive limiters per API class and scope, with the
    /// caps of `LANDFALL_AWS_RATE` ([`PacingSettings::aws`] by default).
    pub pacing: PacingSettings,
    /// The role assumed in member accounts (`arn:aws:iam::<account>:role/<access_role>`)
    /// for their networks and keys; the management account uses the base credentials.
    pub access_role: String,
    /// The landing zone's home region, where Control Tower and Service Catalog are
    /// called (`None`: the SDK region), and IAM Identity Center when no identity
    /// refresh named its region.
    pub home_region: Option<String>,
}

impl Default for AwsOptions {
    fn default() -> Self {
        AwsOptions {
            profile: None,
            region: None,
            pacing: PacingSettings::aws(),
            access_role: "OrganizationAccountAccessRole".into(),
            home_region: None,
        }
    }
}

/// Who is calling and in which organization (read once per run).
#[derive(Clone, Debug)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub organization_id: String,
    pub management_account_id: String,
}

/// Counts API calls by operation name, for `-v` and `plan --json`.
#[derive(Default)]
struct CallLog(Mutex<BTreeMap<&'static str, u64>>);

impl CallLog {
    fn count(&self, api: &'static str) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(api).or_insert(0) += 1;
    }

    fn snapshot(&self) -> BTreeMap<String, u64> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }
}

pub struct AwsBackend {
    org: OrgClient,
    sts: aws_sdk_sts::Client,
    /// The base SDK configuration (credentials, endpoint overrides, retry policy) from
    /// which member-account clients are made; `None` for backends built from clients.
    base: Option<SdkConfig>,
    access_role: String,
    /// Member-account access: credentials per account, clients per account and region.
    members: member::Members,
    /// S3, CloudTrail, IAM, AWS Config and Access Analyzer clients per account and
    /// region (on the members' credentials), GuardDuty and Security Hub per region.
    security: security::SecurityAccess,
    identity: OnceCell<CallerIdentity>,
    /// Control Tower and Service Catalog clients (management account, home region),
    /// made on first use from `base`, or given by [`Self::with_governance_clients`].
    governance: std::sync::OnceLock<governance::Governance>,
    /// The Account Management client (`PutAccountName`), made on first use from
    /// `base`, or given by [`Self::with_account_client`].
    account: std::sync::OnceLock<aws_sdk_account::Client>,
    /// IAM Identity Center clients (management account, the instance's region) and
    /// the instance, made and read on first use, or given by
    /// [`Self::with_identity_clients`].
    identity_clients: identity::IdentityClients,
    /// The IAM client (AWS-managed policy documents), made on first use or given by
    /// [`Self::with_iam_client`].
    iam: std::sync::OnceLock<aws_sdk_iam::Client>,
    home_region: Option<String>,
    /// The baselines Control Tower offers (`ListBaselines`), read once.
    baseline_arns: OnceCell<baselines::BaselineArns>,
    /// Account Factory products resolved so far (by the name or id asked for).
    products: Mutex<BTreeMap<String, catalog::ResolvedProduct>>,
    /// Product ids found by name so far (reads need no more than the id).
    product_ids: Mutex<BTreeMap<String, String>>,
    /// Makes this run's idempotency tokens unique to it, stable across its retries.
    nonce: String,
    calls: CallLog,
    pacer: Pacer,
    limits: ApiLimits,
}

fn to_sdk_tags(tags: &Tags) -> ProviderResult<Option<Vec<Tag>>> {
    if tags.is_empty() {
        return Ok(None);
    }
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| ProviderError::new(ErrorKind::InvalidInput, "Tag", e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

impl AwsBackend {
    /// Loads the SDK configuration (credential chain, profile, region, endpoint
    /// overrides from the environment).
    pub async fn connect(options: &AwsOptions) -> ProviderResult<Self> {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).retry_config(RetryConfig::disabled());
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        let region = options.region.clone().or_else(|| {
            std::env::var("AWS_REGION")
                .ok()
                .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        });
        loader = loader.region(aws_config::Region::new(
            region.unwrap_or_else(|| "us-east-1".into()),
        ));
        let config = loader.load().await;
        let credentials = match config.credentials_provider() {
            Some(provider) => provider
                .provide_credentials()
                .await
                .map(|_| ())
                .map_err(|e| errors::root_cause(&e)),
            None => Err("no credentials provider is configured".to_string()),
        };
        let backend = Self::from_sdk_config(config, options);
        match credentials {
            Ok(()) => Ok(backend),
            Err(cause) => Err(ProviderError::new(
                ErrorKind::Other("NoCredentials".into()),
                "GetCallerIdentity",
                format!(
                    "no usable AWS credentials ({cause}); set AWS_PROFILE (or --profile), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login`"
                ),
            )),
        }
    }

    /// Builds a backend from a loaded SDK configuration (tests: one pointing at moto).
    /// Landfall retries on its own: give it a configuration with retries disabled.
    pub fn from_sdk_config(config: SdkConfig, options: &AwsOptions) -> Self {
        let mut backend = Self::from_conf(
            OrgClient::new(&config),
            aws_sdk_sts::Client::new(&config),
            options,
        );
        backend.base = Some(config);
        backend
    }

    /// Builds a backend from ready clients (tests use mocked clients). Member-account
    /// operations need [`Self::with_sdk_config`] or [`Self::with_member_clients`].
    pub fn from_conf(org: OrgClient, sts: aws_sdk_sts::Client, options: &AwsOptions) -> Self {
        AwsBackend {
            org,
            sts,
            base: None,
            access_role: options.access_role.clone(),
            members: member::Members::default(),
            security: security::SecurityAccess::default(),
            identity: OnceCell::new(),
            governance: std::sync::OnceLock::new(),
            account: std::sync::OnceLock::new(),
            identity_clients: identity::IdentityClients::default(),
            iam: std::sync::OnceLock::new(),
            home_region: options.home_region.clone(),
            baseline_arns: OnceCell::new(),
            products: Mutex::new(BTreeMap::new()),
            product_ids: Mutex::new(BTreeMap::new()),
            nonce: governance::nonce(),
            calls: CallLog::default(),
            pacer: Pacer::new(options.pacing.clone()),
            limits: ApiLimits {
                create_account_in_flight: 5,
                base_backoff: Duration::from_millis(200),
                max_backoff: Duration::from_secs(20),
                max_retries: 10,
                poll_interval: Duration::from_secs(5),
                max_polls: 360,
                ..ApiLimits::default()
            },
        }
    }

    /// The SDK configuration member-account credentials and clients are derived from
    /// (its credentials assume the access role; its endpoint and retry settings carry over).
    pub fn with_sdk_config(mut self, config: SdkConfig) -> Self {
        self.base = Some(config);
        self
    }

    /// Uses these clients for one member account and region instead of assuming the
    /// access role (tests: mocked clients).
    pub fn with_member_clients(
        self,
        scope: MemberScope,
        ec2: aws_sdk_ec2::Client,
        kms: aws_sdk_kms::Client,
    ) -> Self {
        let principal = format!(
            "arn:aws:iam::{}:role/{}",
            scope.account_id, self.access_role
        );
        self.members.insert(member::Member {
            scope,
            principal,
            ec2,
            kms,
        });
        self
    }

    /// Uses these Control Tower and Service Catalog clients (tests: mocked clients)
    /// instead of making them from the SDK configuration.
    pub fn with_governance_clients(
        self,
        controltower: aws_sdk_controltower::Client,
        servicecatalog: aws_sdk_servicecatalog::Client,
    ) -> Self {
        // A fresh backend has none yet; a second call keeps the first clients.
        let _ = self.governance.set(governance::Governance {
            ct: controltower,
            sc: servicecatalog,
        });
        self
    }

    /// Uses this Account Management client (tests: a mocked client) instead of making
    /// one from the SDK configuration.
    pub fn with_account_client(self, account: aws_sdk_account::Client) -> Self {
        // A fresh backend has none yet; a second call keeps the first client.
        let _ = self.account.set(account);
        self
    }

    /// Uses these SSO Admin and Identity Store clients (tests: mocked clients) instead
    /// of making them from the SDK configuration; they serve every region.
    pub fn with_identity_clients(
        mut self,
        sso: aws_sdk_ssoadmin::Client,
        store: aws_sdk_identitystore::Client,
    ) -> Self {
        self.identity_clients =
            identity::IdentityClients::given(identity::IdentityCenter::new(sso, store, None));
        self
    }

    /// Uses this IAM client (tests: a mocked client) instead of making one from the
    /// SDK configuration.
    pub fn with_iam_client(self, iam: aws_sdk_iam::Client) -> Self {
        // A fresh backend has none yet; a second call keeps the first client.
        let _ = self.iam.set(iam);
        self
    }

    /// Overrides the retry/poll timings (tests: fast backoff).
    pub fn with_limits(mut self, limits: ApiLimits) -> Self {
        self.limits = limits;
        self
    }

    fn principal(&self) -> String {
        self.identity
            .get()
            .map(|i| i.arn.clone())
            .unwrap_or_else(|| "the caller".into())
    }

    fn err<E>(
        &self,
        api: &'static str,
        e: aws_sdk_organizations::error::SdkError<
            E,
            aws_sdk_organizations::config::http::HttpResponse,
        >,
    ) -> ProviderError
    where
        E: aws_sdk_organizations::error::ProvideErrorMetadata
            + ConstraintReason
            + std::error::Error
            + 'static,
    {
        from_sdk(api, &self.principal(), e)
    }

    /// Who is calling, and the organization. Fails clearly without credentials, without
    /// an organization (`AWSOrganizationsNotInUseException`), or outside the
    /// management account.
    pub async fn caller(&self) -> ProviderResult<&CallerIdentity> {
        self.identity
            .get_or_try_init(|| async {
                self.calls.count("GetCallerIdentity");
                let me = self
                    .pacer
                    .attempt(&PaceKey::global(ApiClass::Sts), async {
                        self.sts
                            .get_caller_identity()
                            .send()
                            .await
                            .map_err(|e| from_sdk("GetCallerIdentity", "the caller", e))
                    })
                    .await?;
                let arn = me.arn().unwrap_or_default().to_string();
                let account = me.account().unwrap_or_default().to_string();
                self.calls.count("DescribeOrganization");
                let org = self
                    .org
                    .describe_organization()
                    .send()
                    .await
                    .map_err(|e| from_sdk("DescribeOrganization", &arn, e))?;
                let org = org.organization().ok_or_else(|| {
                    ProviderError::new(
                        ErrorKind::Other("AWSOrganizationsNotInUseException".into()),
                        "DescribeOrganization",
                        "the response has no organization",
                    )
                })?;
                Ok(CallerIdentity {
                    account,
                    arn,
                    organization_id: org.id().unwrap_or_default().to_string(),
                    management_account_id: org.master_account_id().unwrap_or_default().to_string(),
                })
            })
            .await
    }

    /// Creates the organization (feature set ALL) and enables SCPs on its root.
    pub async fn create_organization(&self) -> ProviderResult<()> {
        self.calls.count("CreateOrganization");
        self.org
            .create_organization()
            .feature_set(OrganizationFeatureSet::All)
            .send()
            .await
            .map_err(|e| self.err("CreateOrganization", e))?;
        let roots = self.list_roots().await?;
        for root in roots {
            let enabled = root.policy_types().iter().any(|p| {
                p.r#type() == Some(&PolicyType::ServiceControlPolicy)
                    && p.status().map(|s| s.as_str()) == Some("ENABLED")
            });
            if enabled {
                continue;
            }
            self.calls.count("EnablePolicyType");
            let r = self
                .org
                .enable_policy_type()
                .root_id(root.id().unwrap_or_default())
                .policy_type(PolicyType::ServiceControlPolicy)
                .send()
                .await
                .map_err(|e| self.err("EnablePolicyType", e));
            match r {
                Ok(_) => {}
                Err(e)
                    if e.kind == ErrorKind::Other("PolicyTypeAlreadyEnabledException".into()) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn list_roots(&self) -> ProviderResult<Vec<aws_sdk_organizations::types::Root>> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .read("ListRoots", || {
                    self.org.list_roots().set_next_token(token.clone()).send()
                })
                .await?;
            out.extend(page.roots().iter().cloned());
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// One read call: counted, paced, bounded in concurrency, retried when throttled.
    async fn read<T, E, F, Fut>(&self, api: &'static str, f: F) -> ProviderResult<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<
                Output = Result<
                    T,
                    aws_sdk_organizations::error::SdkError<
                        E,
                        aws_sdk_organizations::config::http::HttpResponse,
                    >,
                >,
            >,
        E: aws_sdk_organizations::error::ProvideErrorMetadata
            + ConstraintReason
            + std::error::Error
            + 'static,
    {
        self.paced(&PaceKey::global(ApiClass::OrganizationsReads), api, || {
            let call = f();
            async move { call.await.map_err(|e| self.err(api, e)) }
        })
        .await
    }

    /// Counts and paces one read attempt (on `key`'s limiter); retries it when
    /// throttled (or while a new member account is not ready).
    async fn paced<T, F, Fut>(&self, key: &PaceKey, api: &'static str, f: F) -> ProviderResult<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = ProviderResult<T>>,
    {
        self.pacer
            .read(key, &self.limits, || async {
                self.calls.count(api);
                f().await
            })
            .await
    }

    /// One mutating call: counted; pacing and retries are the executor's.
    fn wrote(&self, api: &'static str) {
        self.calls.count(api);
    }
}

#[async_trait]
impl Provider for AwsBackend {
    async fn identity(&self) -> ProviderResult<WorldIdentity> {
        let me = self.caller().await?;
        if me.account != me.management_account_id {
            return Err(ProviderError::new(
                ErrorKind::AccessDenied,
                "DescribeOrganization",
                format!(
                    "{} is in account {}, not in the management account {} of organization {}; Landfall needs the management account's credentials",
                    me.arn, me.account, me.management_account_id, me.organization_id
                ),
            ));
        }
        Ok(WorldIdentity {
            backend: "aws".into(),
            id: me.organization_id.clone(),
        })
    }

    fn limits(&self) -> ApiLimits {
        self.limits.clone()
    }

    fn pacer(&self) -> &Pacer {
        &self.pacer
    }

    async fn organization_root(&self) -> ProviderResult<OrganizationRoot> {
        refresh::organization_root(self).await
    }

    async fn ous_for_parent(
        &self,
        parent_id: &str,
        token: Option<String>,
    ) -> ProviderResult<Page<LiveOu>> {
        refresh::ous_for_parent(self, parent_id, token).await
    }

    async fn accounts_for_parent(
        &self,
        parent_id: &str,
        token: Option<String>,
    ) -> ProviderResult<Page<LiveAccount>> {
        refresh::accounts_for_parent(self, parent_id, token).await
    }

    async fn policies(
        &self,
        policy_type: landfall_core::PolicyType,
        token: Option<String>,
    ) -> ProviderResult<Page<LivePolicy>> {
        refresh::policies(self, policy_type, token).await
    }

    async fn refresh_security(
        &self,
        scope: &landfall_core::live::SecurityScope,
    ) -> ProviderResult<landfall_core::live::LiveSecurity> {
        security::refresh(self, scope).await
    }

    async fn policy_content(&self, policy_id: &str) -> ProviderResult<String> {
        refresh::policy_content(self, policy_id).await
    }

    async fn targets_for_policy(
        &self,
        policy_id: &str,
        token: Option<String>,
    ) -> ProviderResult<Page<String>> {
        refresh::targets_for_policy(self, policy_id, token).await
    }

    async fn tags_for_resource(
        &self,
        resource_id: &str,
        token: Option<String>,
    ) -> ProviderResult<Page<(String, String)>> {
        refresh::tags_for_resource(self, resource_id, token).await
    }

    async fn refresh_member(&self, scope: &MemberScope) -> ProviderResult<LiveMember> {
        let m = self.member(scope).await?;
        let (vpcs, subnets, route_tables, security_groups, endpoints, keys) = futures::try_join!(
            network::vpcs(self, &m),
            network::subnets(self, &m),
            network::route_tables(self, &m),
            network::security_groups(self, &m),
            network::endpoints(self, &m),
            keys::keys(self, &m),
        )?;
        Ok(LiveMember {
            vpcs,
            subnets,
            route_tables,
            security_groups,
            endpoints,
            keys,
        })
    }

    async fn refresh_governance(&self, scope: &GovernanceScope) -> ProviderResult<LiveGovernance> {
        let (
            enabled_controls,
            (portfolios, portfolio_shares),
            provisioned_accounts,
            landing_zone,
            baselines,
            organizations_access,
        ) = futures::try_join!(
            controls::enabled_controls(self, &scope.control_targets),
            async {
                if scope.portfolios {
                    catalog::portfolios(self).await
                } else {
                    Ok(Default::default())
                }
            },
            async {
                match &scope.account_factory {
                    Some(product) => catalog::provisioned_accounts(self, product).await,
                    None => Ok(Vec::new()),
                }
            },
            async {
                match scope.landing_zone {
                    true => controls::landing_zone(self).await.map(Some),
                    false => Ok(None),
                }
            },
            async {
                match scope.baselines {
                    true => baselines::read(self).await.map(Some),
                    false => Ok(None),
                }
            },
            async {
                match scope.organizations_access {
                    true => catalog::organizations_access(self).await.map(Some),
                    false => Ok(None),
                }
            },
        )?;
        Ok(LiveGovernance {
            read: true,
            enabled_controls,
            portfolios,
            portfolio_shares,
            provisioned_accounts,
            landing_zone,
            baselines,
            organizations_access,
        })
    }

    async fn execute(&self, call: &Call<'_>) -> ProviderResult<Reply> {
        match *call {
            Call::Organizations(call) => organizations::execute(self, call).await,
            Call::Member(scope, call) => member::execute(self, scope, call).await.map(Reply::from),
            Call::Governance(call) => governance::execute(self, call).await.map(Reply::from),
            Call::Identity(call) => identity::execute(self, call).await,
            Call::Security(scope, call) => security::execute(self, scope, call).await,
        }
    }

    async fn refresh_identity(
        &self,
        scope: &landfall_core::live::IdentityScope,
    ) -> ProviderResult<landfall_core::live::LiveIdentity> {
        identity_refresh::refresh(self, scope).await
    }

    async fn identity_request(
        &self,
        request: landfall_engine::provider::IdentityRequest,
        request_id: &str,
    ) -> ProviderResult<OperationStatus> {
        identity::request_status(self, request, request_id).await
    }

    async fn aws_managed_policy_document(
        &self,
        policy_arn: &str,
    ) -> ProviderResult<Option<String>> {
        identity::aws_managed_policy_document(self, policy_arn).await
    }

    async fn create_account_status(&self, request_id: &str) -> ProviderResult<CreateAccountStatus> {
        organizations::create_account_status(self, request_id).await
    }

    async fn in_progress_account_creations(&self) -> ProviderResult<Vec<(String, String)>> {
        organizations::in_progress_account_creations(self).await
    }

    async fn control_operation(&self, operation_id: &str) -> ProviderResult<OperationStatus> {
        controls::operation(self, operation_id).await
    }

    async fn enabled_control_arn(
        &self,
        control_arn: &str,
        ou_id: &str,
    ) -> ProviderResult<Option<String>> {
        controls::enabled_control_arn(self, control_arn, ou_id).await
    }

    async fn baseline_operation(&self, operation_id: &str) -> ProviderResult<OperationStatus> {
        baselines::operation(self, operation_id).await
    }

    async fn enabled_baseline_arn(&self, ou_id: &str) -> ProviderResult<Option<String>> {
        baselines::enabled_baseline_arn(self, ou_id).await
    }

    async fn provisioning_record(&self, record_id: &str) -> ProviderResult<OperationStatus> {
        catalog::provisioning_record(self, record_id).await
    }

    async fn provisioned_account(
        &self,
        product: &str,
        name: &str,
    ) -> ProviderResult<Option<LiveProvisionedAccount>> {
        catalog::provisioned_account(self, product, name).await
    }

    fn call_counts(&self) -> BTreeMap<String, u64> {
        self.calls.snapshot()
    }
}
