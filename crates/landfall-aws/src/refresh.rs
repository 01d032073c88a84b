//! Reading the organization layer with as few calls as the data needs.
//!
//! AWS has no "list everything" call, so the cost is set by the shape of the org:
//! - `DescribeOrganization` + `ListRoots`: 2 calls (the first is cached from `identity`);
//! - the OU tree, breadth first: per parent (root and every OU) one
//!   `ListOrganizationalUnitsForParent` and one `ListAccountsForParent` (pages of 20);
//!   this gives every account *with* its parent, which `ListAccounts` would not
//!   (`ListParents` per account would cost one call per account instead);
//! - SCPs: `ListPolicies`, then per customer-managed policy one `DescribePolicy` (its
//!   content) and per policy `ListTargetsForPolicy` — targets per policy, because
//!   policies are far fewer than targets (`ListPoliciesForTarget` would cost one call
//!   per OU and account);
//! - tags: one `ListTagsForResource` per OU, account and customer policy (AWS offers no
//!   batch read of tags).
//!
//! Independent reads run concurrently, bounded by the backend's read concurrency and
//! rate limit.

use std::collections::{BTreeMap, BTreeSet};

use futures::stream::{self, StreamExt, TryStreamExt};
use landfall_core::live::{AccountStatus, LiveAccount, LiveOu, LivePolicy, LiveState};
use landfall_core::model::Tags;
use landfall_engine::provider::{ErrorKind, ProviderError, ProviderResult};

use crate::AwsBackend;

async fn children(
    aws: &AwsBackend,
    parent: String,
) -> ProviderResult<(Vec<LiveOu>, Vec<LiveAccount>)> {
    let mut ous = Vec::new();
    let mut token = None;
    loop {
        let page = aws
            .read("ListOrganizationalUnitsForParent", || {
                aws.org
                    .list_organizational_units_for_parent()
                    .parent_id(&parent)
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
        for ou in page.organizational_units() {
            ous.push(LiveOu {
                id: ou.id().unwrap_or_default().to_string(),
                name: ou.name().unwrap_or_default().to_string(),
                parent_id: parent.clone(),
                tags: Tags::new(),
            });
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let mut accounts = Vec::new();
    let mut token = None;
    loop {
        let page = aws
            .read("ListAccountsForParent", || {
                aws.org
                    .list_accounts_for_parent()
                    .parent_id(&parent)
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
        for a in page.accounts() {
            let state = a.state().map(|s| s.as_str().to_string());
            let status = a.status().map(|s| s.as_str().to_string());
            let status = match state.or(status).as_deref() {
                Some("SUSPENDED") | Some("CLOSED") => AccountStatus::Suspended,
                Some("PENDING_CLOSURE") => AccountStatus::PendingClosure,
                _ => AccountStatus::Active,
            };
            accounts.push(LiveAccount {
                id: a.id().unwrap_or_default().to_string(),
                name: a.name().unwrap_or_default().to_string(),
                email: a.email().unwrap_or_default().to_string(),
                parent_id: parent.clone(),
                tags: Tags::new(),
                status,
            });
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok((ous, accounts))
}

async fn tags_of(aws: &AwsBackend, id: String) -> ProviderResult<(String, Tags)> {
    let mut tags = Tags::new();
    let mut token = None;
    loop {
        let page = aws
            .read("ListTagsForResource", || {
                aws.org
                    .list_tags_for_resource()
                    .resource_id(&id)
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
        for t in page.tags() {
            tags.insert(t.key().to_string(), t.value().to_string());
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok((id, tags));
        }
    }
}

async fn targets_of(aws: &AwsBackend, policy: String) -> ProviderResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = aws
            .read("ListTargetsForPolicy", || {
                aws.org
                    .list_targets_for_policy()
                    .policy_id(&policy)
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
        for t in page.targets() {
            if let Some(target) = t.target_id() {
                out.push((policy.clone(), target.to_string()));
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}

async fn content_of(aws: &AwsBackend, policy: String) -> ProviderResult<(String, String)> {
    let out = aws
        .read("DescribePolicy", || {
            aws.org.describe_policy().policy_id(&policy).send()
        })
        .await?;
    let content = out
        .policy()
        .and_then(|p| p.content())
        .unwrap_or_default()
        .to_string();
    Ok((policy, content))
}

pub(crate) async fn refresh(aws: &AwsBackend) -> ProviderResult<LiveState> {
    let width = aws.reads.available_permits().max(1);
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

    let mut live = LiveState {
        root_id: root_id.clone(),
        management_account_id: me.management_account_id.clone(),
        ..LiveState::default()
    };
    // The OU tree, one level at a time.
    let mut frontier = vec![root_id];
    while !frontier.is_empty() {
        let level: Vec<(Vec<LiveOu>, Vec<LiveAccount>)> = stream::iter(frontier.drain(..))
            .map(|parent| children(aws, parent))
            .buffer_unordered(width)
            .try_collect()
            .await?;
        for (ous, accounts) in level {
            for ou in ous {
                frontier.push(ou.id.clone());
                live.ous.insert(ou.id.clone(), ou);
            }
            for a in accounts {
                live.accounts.insert(a.id.clone(), a);
            }
        }
    }

    // SCPs.
    let mut summaries = Vec::new();
    let mut token = None;
    loop {
        let page = aws
            .read("ListPolicies", || {
                aws.org
                    .list_policies()
                    .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
        summaries.extend(page.policies().iter().cloned());
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    for s in &summaries {
        let id = s.id().unwrap_or_default().to_string();
        live.policies.insert(
            id.clone(),
            LivePolicy {
                id,
                name: s.name().unwrap_or_default().to_string(),
                description: s.description().unwrap_or_default().to_string(),
                content: String::new(),
                tags: Tags::new(),
                aws_managed: s.aws_managed(),
            },
        );
    }
    let customer: Vec<String> = live
        .policies
        .values()
        .filter(|p| !p.aws_managed)
        .map(|p| p.id.clone())
        .collect();
    let contents: Vec<(String, String)> = stream::iter(customer.clone())
        .map(|p| content_of(aws, p))
        .buffer_unordered(width)
        .try_collect()
        .await?;
    for (id, content) in contents {
        if let Some(p) = live.policies.get_mut(&id) {
            p.content = content;
        }
    }
    let attachments: Vec<Vec<(String, String)>> =
        stream::iter(live.policies.keys().cloned().collect::<Vec<_>>())
            .map(|p| targets_of(aws, p))
            .buffer_unordered(width)
            .try_collect()
            .await?;
    live.attachments = attachments.into_iter().flatten().collect::<BTreeSet<_>>();

    // Tags of OUs, accounts and customer policies.
    let taggable: Vec<String> = live
        .ous
        .keys()
        .chain(live.accounts.keys())
        .cloned()
        .chain(customer)
        .collect();
    let tags: BTreeMap<String, Tags> = stream::iter(taggable)
        .map(|id| tags_of(aws, id))
        .buffer_unordered(width)
        .try_collect::<Vec<_>>()
        .await?
        .into_iter()
        .collect();
    for (id, t) in tags {
        if let Some(ou) = live.ous.get_mut(&id) {
            ou.tags = t;
        } else if let Some(a) = live.accounts.get_mut(&id) {
            a.tags = t;
        } else if let Some(p) = live.policies.get_mut(&id) {
            p.tags = t;
        }
    }
    Ok(live)
}
