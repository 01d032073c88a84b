//! The organization read's pages: one SDK call each, counted and paced on the
//! Organizations read limiter. Which pages to read, and how many at once, is the
//! engine's ([`landfall_engine::refresh::read_organization`]): the OU tree per parent
//! (`ListOrganizationalUnitsForParent`, `ListAccountsForParent`), SCPs (`ListPolicies`,
//! `DescribePolicy`, `ListTargetsForPolicy`) and tags (`ListTagsForResource`).

use landfall_core::PolicyType;
use landfall_core::live::{AccountStatus, LiveAccount, LiveOu, LivePolicy};
use landfall_core::model::Tags;
use landfall_engine::provider::{ErrorKind, OrganizationRoot, Page, ProviderError, ProviderResult};

use crate::AwsBackend;

/// The root (`ListRoots`) and the management account (from `DescribeOrganization`,
/// read once with the caller's identity).
pub(crate) async fn organization_root(aws: &AwsBackend) -> ProviderResult<OrganizationRoot> {
    let me = aws.caller().await?.clone();
    let roots = aws.list_roots().await?;
    let root_id = roots
        .first()
        .and_then(|r| r.id())
        .map(str::to_string)
        .ok_or_else(|| {
            ProviderError::new(
                ErrorKind::NotFound,
                "ListRoots",
                "the organization has no root",
            )
        })?;
    Ok(OrganizationRoot {
        root_id,
        management_account_id: me.management_account_id,
        enabled_policy_types: roots
            .first()
            .map(|r| enabled_policy_types(r.policy_types()))
            .unwrap_or_default(),
    })
}

/// The policy types a root lists as `ENABLED` (not `PENDING_ENABLE` nor
/// `PENDING_DISABLE`), those Landfall knows.
fn enabled_policy_types(
    types: &[aws_sdk_organizations::types::PolicyTypeSummary],
) -> std::collections::BTreeSet<PolicyType> {
    types
        .iter()
        .filter(|t| t.status() == Some(&aws_sdk_organizations::types::PolicyTypeStatus::Enabled))
        .filter_map(|t| t.r#type())
        .filter_map(|t| PolicyType::from_aws_name(t.as_str()))
        .collect()
}

pub(crate) async fn ous_for_parent(
    aws: &AwsBackend,
    parent: &str,
    token: Option<String>,
) -> ProviderResult<Page<LiveOu>> {
    let page = aws
        .read("ListOrganizationalUnitsForParent", || {
            aws.org
                .list_organizational_units_for_parent()
                .parent_id(parent)
                .set_next_token(token.clone())
                .send()
        })
        .await?;
    Ok(Page {
        items: page
            .organizational_units()
            .iter()
            .map(|ou| LiveOu {
                id: ou.id().unwrap_or_default().to_string(),
                name: ou.name().unwrap_or_default().to_string(),
                parent_id: parent.to_string(),
                tags: Tags::new(),
            })
            .collect(),
        next_token: page.next_token().map(str::to_string),
    })
}

pub(crate) async fn accounts_for_parent(
    aws: &AwsBackend,
    parent: &str,
    token: Option<String>,
) -> ProviderResult<Page<LiveAccount>> {
    let page = aws
        .read("ListAccountsForParent", || {
            aws.org
                .list_accounts_for_parent()
                .parent_id(parent)
                .set_next_token(token.clone())
                .send()
        })
        .await?;
    let items = page
        .accounts()
        .iter()
        .map(|a| {
            let state = a.state().map(|s| s.as_str().to_string());
            let status = a.status().map(|s| s.as_str().to_string());
            let status = match state.or(status).as_deref() {
                Some("SUSPENDED") | Some("CLOSED") => AccountStatus::Suspended,
                Some("PENDING_CLOSURE") => AccountStatus::PendingClosure,
                _ => AccountStatus::Active,
            };
            LiveAccount {
                id: a.id().unwrap_or_default().to_string(),
                name: a.name().unwrap_or_default().to_string(),
                email: a.email().unwrap_or_default().to_string(),
                parent_id: parent.to_string(),
                tags: Tags::new(),
                status,
            }
        })
        .collect();
    Ok(Page {
        items,
        next_token: page.next_token().map(str::to_string),
    })
}

pub(crate) async fn policies(
    aws: &AwsBackend,
    policy_type: PolicyType,
    token: Option<String>,
) -> ProviderResult<Page<LivePolicy>> {
    let page = aws
        .read("ListPolicies", || {
            aws.org
                .list_policies()
                .filter(aws_sdk_organizations::types::PolicyType::from(
                    policy_type.aws_name(),
                ))
                .set_next_token(token.clone())
                .send()
        })
        .await?;
    Ok(Page {
        items: page
            .policies()
            .iter()
            .map(|s| LivePolicy {
                id: s.id().unwrap_or_default().to_string(),
                name: s.name().unwrap_or_default().to_string(),
                description: s.description().unwrap_or_default().to_string(),
                content: String::new(),
                tags: Tags::new(),
                aws_managed: s.aws_managed(),
            })
            .collect(),
        next_token: page.next_token().map(str::to_string),
    })
}

pub(crate) async fn policy_content(aws: &AwsBackend, policy: &str) -> ProviderResult<String> {
    let out = aws
        .read("DescribePolicy", || {
            aws.org.describe_policy().policy_id(policy).send()
        })
        .await?;
    Ok(out
        .policy()
        .and_then(|p| p.content())
        .unwrap_or_default()
        .to_string())
}

pub(crate) async fn targets_for_policy(
    aws: &AwsBackend,
    policy: &str,
    token: Option<String>,
) -> ProviderResult<Page<String>> {
    let page = aws
        .read("ListTargetsForPolicy", || {
            aws.org
                .list_targets_for_policy()
                .policy_id(policy)
                .set_next_token(token.clone())
                .send()
        })
        .await?;
    Ok(Page {
        items: page
            .targets()
            .iter()
            .filter_map(|t| t.target_id().map(str::to_string))
            .collect(),
        next_token: page.next_token().map(str::to_string),
    })
}

pub(crate) async fn tags_for_resource(
    aws: &AwsBackend,
    id: &str,
    token: Option<String>,
) -> ProviderResult<Page<(String, String)>> {
    let page = aws
        .read("ListTagsForResource", || {
            aws.org
                .list_tags_for_resource()
                .resource_id(id)
                .set_next_token(token.clone())
                .send()
        })
        .await?;
    Ok(Page {
        items: page
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
        next_token: page.next_token().map(str::to_string),
    })
}
