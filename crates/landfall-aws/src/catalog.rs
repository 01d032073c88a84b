//! Service Catalog (management account, home region): the Control Tower Account
//! Factory (a product provisioned once per account) and portfolios with their shares.
//!
//! Account Factory: the product (a `prod-...` id as it is, else found by name with
//! `SearchProductsAsAdmin`, then `SearchProducts`), its active provisioning artifact
//! (`ListProvisioningArtifacts`: the active `DEFAULT` one, newest first) and its launch
//! path (`ListLaunchPaths`, the first) are resolved once per run and cached.
//! `ProvisionProduct` / `UpdateProvisionedProduct` return a record polled with
//! `DescribeRecord`; the account id is the record's `AccountId` output.
//!
//! Portfolios: `ListPortfolios`, then per portfolio `DescribePortfolio` (tags) and one
//! `DescribePortfolioShares` per share type (ACCOUNT, ORGANIZATION,
//! ORGANIZATIONAL_UNIT).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_servicecatalog::types::{
    AccessLevelFilter, AccessLevelFilterKey, DescribePortfolioShareType, OrganizationNode,
    OrganizationNodeType, ProductViewFilterBy, ProvisionedProductAttribute,
    ProvisionedProductStatus, ProvisionedProductViewFilterBy, ProvisioningArtifactGuidance,
    ProvisioningParameter, RecordStatus, Tag, UpdateProvisioningParameter,
};
use futures::stream::{self, StreamExt, TryStreamExt};
use landfall_core::live::{LivePortfolio, LivePortfolioShare, LiveProvisionedAccount, ShareTarget};
use landfall_core::model::Tags;
use landfall_engine::provider::{
    AccountFactoryRequest, ErrorKind, OperationStatus, PortfolioUpdate, ProviderError,
    ProviderResult,
};

use crate::AwsBackend;
use crate::errors::empty_response;
use crate::governance::SERVICECATALOG;

const SC: &str = SERVICECATALOG;

/// The Account Factory product, resolved once per run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ResolvedProduct {
    pub product_id: String,
    pub artifact_id: String,
    /// `None`: the product has no launch path the caller can see; Service Catalog
    /// picks the default one.
    pub path_id: Option<String>,
}

fn sc_tags(api: &'static str, tags: &Tags) -> ProviderResult<Option<Vec<Tag>>> {
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

fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

// ---- Account Factory ----

impl AwsBackend {
    /// The product id of a name or id: an id (`prod-...`) as it is, else the product
    /// with exactly this name (cached for the run).
    async fn product_id(&self, product: &str) -> ProviderResult<String> {
        if product.starts_with("prod-") {
            return Ok(product.to_string());
        }
        {
            let cache = self.product_ids.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(id) = cache.get(product) {
                return Ok(id.clone());
            }
        }
        let id = self.find_product(product).await?;
        let mut cache = self.product_ids.lock().unwrap_or_else(|e| e.into_inner());
        Ok(cache.entry(product.to_string()).or_insert(id).clone())
    }

    async fn find_product(&self, product: &str) -> ProviderResult<String> {
        let sc = &self.gov("SearchProductsAsAdmin")?.sc;
        let filters = HashMap::from([(
            ProductViewFilterBy::FullTextSearch,
            vec![product.to_string()],
        )]);
        let admin = self
            .gov_pages(
                SC,
                "SearchProductsAsAdmin",
                |token| {
                    sc.search_products_as_admin()
                        .set_filters(Some(filters.clone()))
                        .set_page_token(token)
                        .send()
                },
                |page| page.next_page_token().map(str::to_string),
            )
            .await?;
        let found = admin
            .iter()
            .flat_map(|p| p.product_view_details())
            .filter_map(|d| d.product_view_summary())
            .find(|s| s.name() == Some(product))
            .and_then(|s| s.product_id())
            .map(str::to_string);
        if let Some(id) = found {
            return Ok(id);
        }
        // Not administered here: a product the caller may launch (portfolio access).
        let user = self
            .gov_pages(
                SC,
                "SearchProducts",
                |token| {
                    sc.search_products()
                        .set_filters(Some(filters.clone()))
                        .set_page_token(token)
                        .send()
                },
                |page| page.next_page_token().map(str::to_string),
            )
            .await?;
        user.iter()
            .flat_map(|p| p.product_view_summaries())
            .find(|s| s.name() == Some(product))
            .and_then(|s| s.product_id())
            .map(str::to_string)
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::NotFound,
                    "SearchProductsAsAdmin",
                    format!(
                        "no Service Catalog product named `{product}` in the home region (is Control Tower's Account Factory set up, and may {} use it?)",
                        self.principal()
                    ),
                )
            })
    }

    /// The product, its active artifact and launch path (cached for the run).
    pub(crate) async fn resolve_product(&self, product: &str) -> ProviderResult<ResolvedProduct> {
        {
            let cache = self.products.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(r) = cache.get(product) {
                return Ok(r.clone());
            }
        }
        let product_id = self.product_id(product).await?;
        let sc = &self.gov("ListProvisioningArtifacts")?.sc;
        let artifacts = self
            .gov_read(SC, "ListProvisioningArtifacts", || {
                sc.list_provisioning_artifacts()
                    .product_id(&product_id)
                    .send()
            })
            .await?;
        let mut usable: Vec<_> = artifacts
            .provisioning_artifact_details()
            .iter()
            .filter(|a| a.active() != Some(false))
            .filter(|a| a.guidance() != Some(&ProvisioningArtifactGuidance::Deprecated))
            .collect();
        // The DEFAULT (not deprecated) ones first, then the newest.
        usable.sort_by(|a, b| {
            let default = |x: &&aws_sdk_servicecatalog::types::ProvisioningArtifactDetail| {
                x.guidance() == Some(&ProvisioningArtifactGuidance::Default)
            };
            default(b).cmp(&default(a)).then_with(|| {
                b.created_time()
                    .map(|t| (t.secs(), t.subsec_nanos()))
                    .cmp(&a.created_time().map(|t| (t.secs(), t.subsec_nanos())))
            })
        });
        let artifact_id = usable
            .first()
            .and_then(|a| a.id())
            .map(str::to_string)
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::NotFound,
                    "ListProvisioningArtifacts",
                    format!("product {product_id} has no active provisioning artifact"),
                )
            })?;
        let paths = self
            .gov_pages(
                SC,
                "ListLaunchPaths",
                |token| {
                    sc.list_launch_paths()
                        .product_id(&product_id)
                        .set_page_token(token)
                        .send()
                },
                |page| page.next_page_token().map(str::to_string),
            )
            .await?;
        let path_id = paths
            .iter()
            .flat_map(|p| p.launch_path_summaries())
            .find_map(|p| p.id())
            .map(str::to_string);
        let resolved = ResolvedProduct {
            product_id,
            artifact_id,
            path_id,
        };
        let mut cache = self.products.lock().unwrap_or_else(|e| e.into_inner());
        Ok(cache.entry(product.to_string()).or_insert(resolved).clone())
    }

    /// The account id a provisioned product's outputs name (`AccountId`).
    async fn provisioned_account_id(
        &self,
        provisioned_product_id: &str,
    ) -> ProviderResult<Option<String>> {
        let sc = &self.gov("GetProvisionedProductOutputs")?.sc;
        let out = self
            .gov_read(SC, "GetProvisionedProductOutputs", || {
                sc.get_provisioned_product_outputs()
                    .provisioned_product_id(provisioned_product_id)
                    .output_keys("AccountId")
                    .send()
            })
            .await?;
        Ok(out
            .outputs()
            .iter()
            .find(|o| o.output_key() == Some("AccountId"))
            .and_then(|o| o.output_value())
            .filter(|v| !v.is_empty())
            .map(str::to_string))
    }

    /// Provisioned products (every user's, in this account) matching a search query.
    async fn search_provisioned(
        &self,
        query: String,
    ) -> ProviderResult<Vec<ProvisionedProductAttribute>> {
        let sc = &self.gov("SearchProvisionedProducts")?.sc;
        let filters = HashMap::from([(ProvisionedProductViewFilterBy::SearchQuery, vec![query])]);
        let pages = self
            .gov_pages(
                SC,
                "SearchProvisionedProducts",
                |token| {
                    sc.search_provisioned_products()
                        .access_level_filter(
                            AccessLevelFilter::builder()
                                .key(AccessLevelFilterKey::Account)
                                .value("self")
                                .build(),
                        )
                        .set_filters(Some(filters.clone()))
                        .page_size(100)
                        .set_page_token(token)
                        .send()
                },
                |page| page.next_page_token().map(str::to_string),
            )
            .await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.provisioned_products().iter().cloned())
            .collect())
    }

    /// A provisioned product as Landfall sees it; the account id is read from its
    /// outputs once it has some (available, or tainted by a failed update).
    async fn live_provisioned(
        &self,
        p: &ProvisionedProductAttribute,
    ) -> ProviderResult<LiveProvisionedAccount> {
        let id = p
            .id()
            .ok_or_else(|| empty_response("SearchProvisionedProducts", "provisioned product id"))?;
        let has_outputs = matches!(
            p.status(),
            Some(ProvisionedProductStatus::Available) | Some(ProvisionedProductStatus::Tainted)
        );
        let account_id = if has_outputs {
            self.provisioned_account_id(id).await?
        } else {
            None
        };
        Ok(LiveProvisionedAccount {
            provisioned_product_id: id.to_string(),
            name: p.name().unwrap_or_default().to_string(),
            status: p
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            account_id,
            last_record_id: p
                .last_record_id()
                .or(p.last_provisioning_record_id())
                .map(str::to_string),
        })
    }
}

/// The managed-OU parameter and the rest of an Account Factory request.
fn provisioning_parameters(request: &AccountFactoryRequest) -> Vec<ProvisioningParameter> {
    [
        ("AccountEmail", request.account_email.clone()),
        ("AccountName", request.account_name.clone()),
        ("ManagedOrganizationalUnit", request.managed_ou()),
        ("SSOUserEmail", request.sso_user.email.clone()),
        ("SSOUserFirstName", request.sso_user.first_name.clone()),
        ("SSOUserLastName", request.sso_user.last_name.clone()),
    ]
    .into_iter()
    .map(|(k, v)| ProvisioningParameter::builder().key(k).value(v).build())
    .collect()
}

pub(crate) async fn provision_account(
    aws: &AwsBackend,
    request: &AccountFactoryRequest,
) -> ProviderResult<String> {
    let product = aws.resolve_product(&request.product).await?;
    let sc = &aws.gov("ProvisionProduct")?.sc;
    let token = aws.idempotency_token(
        "provision",
        &[&product.product_id, &request.provisioned_product_name],
    );
    let out = aws
        .gov_write(
            SC,
            "ProvisionProduct",
            sc.provision_product()
                .product_id(&product.product_id)
                .provisioning_artifact_id(&product.artifact_id)
                .set_path_id(product.path_id.clone())
                .provisioned_product_name(&request.provisioned_product_name)
                .set_provisioning_parameters(Some(provisioning_parameters(request)))
                .set_tags(sc_tags("ProvisionProduct", &request.tags)?)
                .provision_token(token)
                .send(),
        )
        .await?;
    out.record_detail()
        .and_then(|r| r.record_id())
        .map(str::to_string)
        .ok_or_else(|| empty_response("ProvisionProduct", "record id"))
}

pub(crate) async fn update_provisioned_account(
    aws: &AwsBackend,
    provisioned_product_id: &str,
    request: &AccountFactoryRequest,
) -> ProviderResult<String> {
    let product = aws.resolve_product(&request.product).await?;
    let sc = &aws.gov("UpdateProvisionedProduct")?.sc;
    // Only the OU changes; the email, name and SSO user stay as provisioned (Account
    // Factory does not change an account's email).
    let parameters = [
        "AccountEmail",
        "AccountName",
        "SSOUserEmail",
        "SSOUserFirstName",
        "SSOUserLastName",
    ]
    .into_iter()
    .map(|k| {
        UpdateProvisioningParameter::builder()
            .key(k)
            .use_previous_value(true)
            .build()
    })
    .chain(std::iter::once(
        UpdateProvisioningParameter::builder()
            .key("ManagedOrganizationalUnit")
            .value(request.managed_ou())
            .build(),
    ))
    .collect();
    let token = aws.idempotency_token("update", &[provisioned_product_id, &request.managed_ou()]);
    let out = aws
        .gov_write(
            SC,
            "UpdateProvisionedProduct",
            sc.update_provisioned_product()
                .provisioned_product_id(provisioned_product_id)
                .product_id(&product.product_id)
                .provisioning_artifact_id(&product.artifact_id)
                .set_path_id(product.path_id.clone())
                .set_provisioning_parameters(Some(parameters))
                .update_token(token)
                .send(),
        )
        .await?;
    out.record_detail()
        .and_then(|r| r.record_id())
        .map(str::to_string)
        .ok_or_else(|| empty_response("UpdateProvisionedProduct", "record id"))
}

pub(crate) async fn provisioning_record(
    aws: &AwsBackend,
    record_id: &str,
) -> ProviderResult<OperationStatus> {
    let sc = &aws.gov("DescribeRecord")?.sc;
    let out = aws
        .gov_read(SC, "DescribeRecord", || {
            sc.describe_record().id(record_id).send()
        })
        .await?;
    let Some(record) = out.record_detail() else {
        return Ok(OperationStatus::InProgress);
    };
    Ok(match record.status() {
        Some(RecordStatus::Succeeded) => OperationStatus::Succeeded {
            account_id: out
                .record_outputs()
                .iter()
                .find(|o| o.output_key() == Some("AccountId"))
                .and_then(|o| o.output_value())
                .filter(|v| !v.is_empty())
                .map(str::to_string),
        },
        Some(RecordStatus::Failed) => {
            let errors: Vec<String> = record
                .record_errors()
                .iter()
                .map(|e| match (e.code(), e.description()) {
                    (Some(code), Some(d)) if !code.is_empty() => format!("{code}: {d}"),
                    (_, Some(d)) => d.to_string(),
                    (Some(code), None) => code.to_string(),
                    (None, None) => String::new(),
                })
                .filter(|m| !m.is_empty())
                .collect();
            OperationStatus::Failed {
                message: if errors.is_empty() {
                    format!("provisioning record {record_id} failed (no error given)")
                } else {
                    errors.join("; ")
                },
            }
        }
        // CREATED, IN_PROGRESS, IN_PROGRESS_IN_ERROR (rolling back): not done yet.
        _ => OperationStatus::InProgress,
    })
}

/// `GetAWSOrganizationsAccessStatus`: `ENABLED`, `UNDER_CHANGE` or `DISABLED`.
pub(crate) async fn organizations_access(aws: &AwsBackend) -> ProviderResult<String> {
    let sc = &aws.gov("GetAWSOrganizationsAccessStatus")?.sc;
    let out = aws
        .gov_read(SC, "GetAWSOrganizationsAccessStatus", || {
            sc.get_aws_organizations_access_status().send()
        })
        .await?;
    Ok(out
        .access_status()
        .map_or_else(|| "UNKNOWN".to_string(), |s| s.as_str().to_string()))
}

pub(crate) async fn provisioned_account(
    aws: &AwsBackend,
    product: &str,
    name: &str,
) -> ProviderResult<Option<LiveProvisionedAccount>> {
    let product_id = aws.product_id(product).await?;
    // The search query matches words; the exact name and product are checked here.
    let found = aws.search_provisioned(format!("name:{name}")).await?;
    let Some(p) = found
        .iter()
        .find(|p| p.name() == Some(name) && p.product_id().is_none_or(|id| id == product_id))
    else {
        return Ok(None);
    };
    aws.live_provisioned(p).await.map(Some)
}

/// The provisioned products of the Account Factory product, sorted by name.
pub(crate) async fn provisioned_accounts(
    aws: &AwsBackend,
    product: &str,
) -> ProviderResult<Vec<LiveProvisionedAccount>> {
    let product_id = aws.product_id(product).await?;
    let found = aws
        .search_provisioned(format!("productId:{product_id}"))
        .await?;
    let ours: Vec<_> = found
        .into_iter()
        .filter(|p| p.product_id().is_none_or(|id| id == product_id))
        .collect();
    let mut out: Vec<LiveProvisionedAccount> = stream::iter(ours)
        .map(|p| async move { aws.live_provisioned(&p).await })
        .buffer_unordered(crate::ALL_AT_ONCE)
        .try_collect()
        .await?;
    out.sort_by(|a, b| {
        (&a.name, &a.provisioned_product_id).cmp(&(&b.name, &b.provisioned_product_id))
    });
    Ok(out)
}

// ---- portfolios ----

pub(crate) async fn create_portfolio(
    aws: &AwsBackend,
    display_name: &str,
    provider_name: &str,
    description: &str,
    tags: &Tags,
) -> ProviderResult<String> {
    let sc = &aws.gov("CreatePortfolio")?.sc;
    let tag_parts: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut parts = vec![display_name, provider_name, description];
    parts.extend(tag_parts.iter().map(String::as_str));
    let token = aws.idempotency_token("portfolio", &parts);
    let out = aws
        .gov_write(
            SC,
            "CreatePortfolio",
            sc.create_portfolio()
                .display_name(display_name)
                .provider_name(provider_name)
                .set_description((!description.is_empty()).then(|| description.to_string()))
                .set_tags(sc_tags("CreatePortfolio", tags)?)
                .idempotency_token(token)
                .send(),
        )
        .await?;
    out.portfolio_detail()
        .and_then(|p| p.id())
        .map(str::to_string)
        .ok_or_else(|| empty_response("CreatePortfolio", "portfolio id"))
}

pub(crate) async fn update_portfolio(
    aws: &AwsBackend,
    portfolio_id: &str,
    update: &PortfolioUpdate,
) -> ProviderResult<()> {
    let sc = &aws.gov("UpdatePortfolio")?.sc;
    aws.gov_write(
        SC,
        "UpdatePortfolio",
        sc.update_portfolio()
            .id(portfolio_id)
            .set_display_name(update.display_name.clone())
            .set_provider_name(update.provider.clone())
            .set_description(update.description.clone())
            .set_add_tags(sc_tags("UpdatePortfolio", &update.add_tags)?)
            .set_remove_tags((!update.remove_tags.is_empty()).then(|| update.remove_tags.clone()))
            .send(),
    )
    .await?;
    Ok(())
}

pub(crate) async fn delete_portfolio(aws: &AwsBackend, portfolio_id: &str) -> ProviderResult<()> {
    let sc = &aws.gov("DeletePortfolio")?.sc;
    aws.gov_write(
        SC,
        "DeletePortfolio",
        sc.delete_portfolio().id(portfolio_id).send(),
    )
    .await?;
    Ok(())
}

/// The `AccountId` or `OrganizationNode` a share is made with.
async fn share_principal(
    aws: &AwsBackend,
    target: &ShareTarget,
) -> ProviderResult<(Option<String>, Option<OrganizationNode>)> {
    Ok(match target {
        ShareTarget::Account(id) => (Some(id.clone()), None),
        ShareTarget::Organization => {
            let org = aws.caller().await?.organization_id.clone();
            (
                None,
                Some(
                    OrganizationNode::builder()
                        .r#type(OrganizationNodeType::Organization)
                        .value(org)
                        .build(),
                ),
            )
        }
        ShareTarget::OrganizationalUnit(ou) => (
            None,
            Some(
                OrganizationNode::builder()
                    .r#type(OrganizationNodeType::OrganizationalUnit)
                    .value(ou)
                    .build(),
            ),
        ),
    })
}

pub(crate) async fn create_portfolio_share(
    aws: &AwsBackend,
    portfolio_id: &str,
    target: &ShareTarget,
    share_tag_options: bool,
) -> ProviderResult<Option<String>> {
    let sc = &aws.gov("CreatePortfolioShare")?.sc;
    let (account_id, node) = share_principal(aws, target).await?;
    let out = aws
        .gov_write(
            SC,
            "CreatePortfolioShare",
            sc.create_portfolio_share()
                .portfolio_id(portfolio_id)
                .set_account_id(account_id)
                .set_organization_node(node)
                .share_tag_options(share_tag_options)
                .send(),
        )
        .await?;
    Ok(out.portfolio_share_token().map(str::to_string))
}

pub(crate) async fn delete_portfolio_share(
    aws: &AwsBackend,
    portfolio_id: &str,
    target: &ShareTarget,
) -> ProviderResult<()> {
    let sc = &aws.gov("DeletePortfolioShare")?.sc;
    let (account_id, node) = share_principal(aws, target).await?;
    aws.gov_write(
        SC,
        "DeletePortfolioShare",
        sc.delete_portfolio_share()
            .portfolio_id(portfolio_id)
            .set_account_id(account_id)
            .set_organization_node(node)
            .send(),
    )
    .await?;
    Ok(())
}

/// The share types read per portfolio, and what each target is.
const SHARE_TYPES: [DescribePortfolioShareType; 3] = [
    DescribePortfolioShareType::Account,
    DescribePortfolioShareType::Organization,
    DescribePortfolioShareType::OrganizationalUnit,
];

fn share_target(kind: &DescribePortfolioShareType, principal: &str) -> Option<ShareTarget> {
    match kind {
        DescribePortfolioShareType::Account => Some(ShareTarget::Account(principal.to_string())),
        DescribePortfolioShareType::Organization => Some(ShareTarget::Organization),
        DescribePortfolioShareType::OrganizationalUnit => {
            Some(ShareTarget::OrganizationalUnit(principal.to_string()))
        }
        _ => None,
    }
}

/// One portfolio's shares of one type.
async fn shares_of(
    aws: &AwsBackend,
    portfolio_id: &str,
    kind: DescribePortfolioShareType,
) -> ProviderResult<Vec<LivePortfolioShare>> {
    let sc = &aws.gov("DescribePortfolioShares")?.sc;
    let pages = aws
        .gov_pages(
            SC,
            "DescribePortfolioShares",
            |token| {
                sc.describe_portfolio_shares()
                    .portfolio_id(portfolio_id)
                    .r#type(kind.clone())
                    .set_page_token(token)
                    .send()
            },
            |page| page.next_page_token().map(str::to_string),
        )
        .await?;
    Ok(pages
        .iter()
        .flat_map(|p| p.portfolio_share_details())
        .filter_map(|d| {
            let target = share_target(d.r#type().unwrap_or(&kind), d.principal_id()?)?;
            Some(LivePortfolioShare {
                portfolio_id: portfolio_id.to_string(),
                target,
                accepted: d.accepted(),
                share_tag_options: d.share_tag_options(),
            })
        })
        .collect())
}

/// One portfolio with its tags, and all its shares.
async fn portfolio(
    aws: &AwsBackend,
    id: String,
    fallback: LivePortfolio,
) -> ProviderResult<(LivePortfolio, Vec<LivePortfolioShare>)> {
    let sc = &aws.gov("DescribePortfolio")?.sc;
    let described = aws
        .gov_read(SC, "DescribePortfolio", || {
            sc.describe_portfolio().id(&id).send()
        })
        .await?;
    let detail = described.portfolio_detail();
    let live = LivePortfolio {
        id: id.clone(),
        display_name: detail
            .and_then(|d| d.display_name())
            .map(str::to_string)
            .unwrap_or(fallback.display_name),
        provider: detail
            .and_then(|d| d.provider_name())
            .map(str::to_string)
            .unwrap_or(fallback.provider),
        description: detail
            .and_then(|d| d.description())
            .map(str::to_string)
            .unwrap_or(fallback.description),
        tags: tags_of(described.tags()),
    };
    let per_type = futures::future::try_join_all(
        SHARE_TYPES
            .iter()
            .map(|kind| shares_of(aws, &id, kind.clone())),
    )
    .await?;
    Ok((live, per_type.into_iter().flatten().collect()))
}

/// The portfolios of the management account (not the ones imported from others),
/// with their shares sorted by portfolio and target.
pub(crate) async fn portfolios(
    aws: &AwsBackend,
) -> ProviderResult<(BTreeMap<String, LivePortfolio>, Vec<LivePortfolioShare>)> {
    let sc = &aws.gov("ListPortfolios")?.sc;
    let me = aws.caller().await?.account.clone();
    let pages = aws
        .gov_pages(
            SC,
            "ListPortfolios",
            |token| sc.list_portfolios().set_page_token(token).send(),
            |page| page.next_page_token().map(str::to_string),
        )
        .await?;
    let listed: Vec<(String, LivePortfolio)> = pages
        .iter()
        .flat_map(|p| p.portfolio_details())
        .filter(|d| {
            // `arn:aws:catalog:<region>:<owner>:portfolio/<id>`: an imported portfolio's
            // shares are its owner's to read.
            let owner = d.arn().and_then(|a| a.split(':').nth(4));
            owner.is_none_or(|o| o.is_empty() || me.is_empty() || o == me)
        })
        .filter_map(|d| {
            let id = d.id()?.to_string();
            Some((
                id.clone(),
                LivePortfolio {
                    id,
                    display_name: d.display_name().unwrap_or_default().to_string(),
                    provider: d.provider_name().unwrap_or_default().to_string(),
                    description: d.description().unwrap_or_default().to_string(),
                    tags: Tags::new(),
                },
            ))
        })
        .collect();
    let read: Vec<(LivePortfolio, Vec<LivePortfolioShare>)> = stream::iter(listed)
        .map(|(id, fallback)| portfolio(aws, id, fallback))
        .buffer_unordered(crate::ALL_AT_ONCE)
        .try_collect()
        .await?;
    let mut portfolios = BTreeMap::new();
    let mut shares = Vec::new();
    for (p, s) in read {
        shares.extend(s);
        portfolios.insert(p.id.clone(), p);
    }
    shares.sort_by(|a, b| (&a.portfolio_id, &a.target).cmp(&(&b.portfolio_id, &b.target)));
    shares.dedup_by(|a, b| a.portfolio_id == b.portfolio_id && a.target == b.target);
    Ok((portfolios, shares))
}

#[cfg(test)]
mod tests {
    use super::*;
    use landfall_core::model::SsoUser;

    #[test]
    fn account_factory_parameters_name_the_managed_ou() {
        let request = AccountFactoryRequest {
            product: "AWS Control Tower Account Factory".into(),
            provisioned_product_name: "ml-dev".into(),
            account_name: "ml-dev".into(),
            account_email: "aws+ml-dev@example.com".into(),
            ou_name: "Workloads_Dev".into(),
            ou_id: "ou-ab12-34567890".into(),
            sso_user: SsoUser {
                email: "platform@example.com".into(),
                first_name: "ML".into(),
                last_name: "Platform".into(),
            },
            tags: Tags::new(),
        };
        let params: BTreeMap<String, String> = provisioning_parameters(&request)
            .iter()
            .map(|p| {
                (
                    p.key().unwrap_or_default().to_string(),
                    p.value().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert_eq!(
            params["ManagedOrganizationalUnit"],
            "Workloads_Dev (ou-ab12-34567890)"
        );
        assert_eq!(params["AccountEmail"], "aws+ml-dev@example.com");
        assert_eq!(params["SSOUserLastName"], "Platform");
        assert_eq!(params.len(), 6);
    }
}
