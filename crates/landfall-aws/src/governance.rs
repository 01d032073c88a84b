//! Control Tower and Service Catalog live in the management account, in the landing
//! zone's home region: their clients are made once from the same SDK configuration as
//! the Organizations client (credentials, `AWS_ENDPOINT_URL`, retries off), with the
//! home region. Reads are counted, paced and retried like every other read; mutating
//! calls are counted and left to the executor's pacing and retries.

use std::error::Error as StdError;
use std::hash::{Hash, Hasher};

use aws_sdk_organizations::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::config::http::HttpResponse;
use landfall_engine::pacing::{ApiClass, PaceKey};
use landfall_engine::provider::{ErrorKind, GovernanceCall, ProviderError, ProviderResult};

use crate::errors::{Context, from_sdk_in};
use crate::{AwsBackend, baselines, catalog, controls};

/// The governance clients (management account, home region).
pub(crate) struct Governance {
    pub ct: aws_sdk_controltower::Client,
    pub sc: aws_sdk_servicecatalog::Client,
}

/// The IAM prefix of a governance call's actions (named in access-denied messages).
pub(crate) const CONTROLTOWER: &str = "controltower";
pub(crate) const SERVICECATALOG: &str = "servicecatalog";

/// The limiter a governance read waits on: Control Tower's or Service Catalog's.
fn read_key(service: &'static str) -> PaceKey {
    PaceKey::global(if service == CONTROLTOWER {
        ApiClass::ControlTowerReads
    } else {
        ApiClass::ServiceCatalogReads
    })
}

/// A value unique to this process and moment: idempotency tokens built from it are
/// stable across one run's retries and never collide with another run's.
pub(crate) fn nonce() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{:x}{:x}", nanos & 0xffff_ffff_ffff, std::process::id())
}

impl AwsBackend {
    /// The Control Tower and Service Catalog clients, made on first use.
    pub(crate) fn gov(&self, api: &'static str) -> ProviderResult<&Governance> {
        if let Some(g) = self.governance.get() {
            return Ok(g);
        }
        let base = self.base.as_ref().ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Other("NotConfigured".into()),
                api,
                "this backend has no SDK configuration to reach Control Tower and Service Catalog with",
            )
        })?;
        let mut ct = aws_sdk_controltower::config::Builder::from(base);
        let mut sc = aws_sdk_servicecatalog::config::Builder::from(base);
        if let Some(region) = &self.home_region {
            ct = ct.region(aws_sdk_controltower::config::Region::new(region.clone()));
            sc = sc.region(aws_sdk_servicecatalog::config::Region::new(region.clone()));
        }
        Ok(self.governance.get_or_init(|| Governance {
            ct: aws_sdk_controltower::Client::from_conf(ct.build()),
            sc: aws_sdk_servicecatalog::Client::from_conf(sc.build()),
        }))
    }

    pub(crate) fn gov_err<E>(
        &self,
        service: &'static str,
        api: &'static str,
        e: SdkError<E, HttpResponse>,
    ) -> ProviderError
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        from_sdk_in(
            &Context {
                service,
                principal: &self.principal(),
                scope: None,
            },
            api,
            e,
            |_| None,
        )
    }

    /// One Control Tower / Service Catalog read: counted, paced, bounded, retried when
    /// throttled (or on a retryable conflict).
    pub(crate) async fn gov_read<T, E, F, Fut>(
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
        self.paced(&read_key(service), api, || {
            let call = f();
            async move { call.await.map_err(|e| self.gov_err(service, api, e)) }
        })
        .await
    }

    /// Every page of a paginated governance read.
    pub(crate) async fn gov_pages<O, E, F, Fut>(
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
            let page = self.gov_read(service, api, || call(token.clone())).await?;
            let following = next(&page);
            out.push(page);
            match following {
                Some(t) if Some(&t) != token.as_ref() && !t.is_empty() => token = Some(t),
                _ => return Ok(out),
            }
        }
    }

    /// One governance mutating call: counted; pacing and retries are the executor's.
    pub(crate) async fn gov_write<T, E, Fut>(
        &self,
        service: &'static str,
        api: &'static str,
        call: Fut,
    ) -> ProviderResult<T>
    where
        Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + 'static,
    {
        self.wrote(api);
        call.await.map_err(|e| self.gov_err(service, api, e))
    }

    /// An idempotency token for a request (`[a-zA-Z0-9][a-zA-Z0-9_-]*`, at most 64
    /// characters): the same request in this run gets the same token, so a retry after
    /// a lost response (a timeout) does not create a second resource.
    pub(crate) fn idempotency_token(&self, what: &str, parts: &[&str]) -> String {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        parts.hash(&mut hasher);
        let mut token = format!("landfall-{what}-{}-{:016x}", self.nonce, hasher.finish());
        token.truncate(64);
        token
    }
}

/// A Control Tower or Service Catalog call in the management account's home region.
pub(crate) async fn execute(
    aws: &AwsBackend,
    call: GovernanceCall<'_>,
) -> ProviderResult<Option<String>> {
    use GovernanceCall as G;
    let none = |()| None;
    match call {
        G::EnableControl {
            control_arn,
            ou_id,
            parameters,
        } => controls::enable(aws, control_arn, ou_id, parameters)
            .await
            .map(Some),
        G::DisableControl { control_arn, ou_id } => {
            controls::disable(aws, control_arn, ou_id).await.map(Some)
        }
        G::UpdateEnabledControl {
            enabled_control_arn,
            parameters,
        } => (controls::update(aws, enabled_control_arn, parameters).await).map(Some),
        G::ResetEnabledControl {
            enabled_control_arn,
        } => controls::reset(aws, enabled_control_arn).await.map(Some),
        G::EnableBaseline {
            baseline_arn,
            version,
            ou_id,
            identity_center,
        } => baselines::enable(aws, baseline_arn, version, ou_id, identity_center)
            .await
            .map(Some),
        G::UpdateEnabledBaseline {
            enabled_baseline_arn,
            version,
            identity_center,
        } => baselines::update(aws, enabled_baseline_arn, version, identity_center)
            .await
            .map(Some),
        G::ResetEnabledBaseline {
            enabled_baseline_arn,
        } => baselines::reset(aws, enabled_baseline_arn).await.map(Some),
        G::DisableBaseline {
            enabled_baseline_arn,
        } => baselines::disable(aws, enabled_baseline_arn)
            .await
            .map(Some),
        G::ProvisionProduct(request) => catalog::provision_account(aws, request).await.map(Some),
        G::UpdateProvisionedProduct {
            provisioned_product_id,
            request,
        } => catalog::update_provisioned_account(aws, provisioned_product_id, request)
            .await
            .map(Some),
        G::CreatePortfolio {
            display_name,
            provider_name,
            description,
            tags,
        } => catalog::create_portfolio(aws, display_name, provider_name, description, tags)
            .await
            .map(Some),
        G::UpdatePortfolio {
            portfolio_id,
            update,
        } => (catalog::update_portfolio(aws, portfolio_id, update).await).map(none),
        G::DeletePortfolio { portfolio_id } => {
            (catalog::delete_portfolio(aws, portfolio_id).await).map(none)
        }
        G::CreatePortfolioShare {
            portfolio_id,
            target,
            share_tag_options,
        } => catalog::create_portfolio_share(aws, portfolio_id, target, share_tag_options).await,
        G::DeletePortfolioShare {
            portfolio_id,
            target,
        } => (catalog::delete_portfolio_share(aws, portfolio_id, target).await).map(none),
    }
}
