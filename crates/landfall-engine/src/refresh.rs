//! Reading the world before a plan or a drift check: the backend's identity and the
//! organization, then the member accounts and the governance layer that the desired
//! state or the state file mention. Every read is retried on throttling; member
//! accounts are read concurrently.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::stream::{FuturesUnordered, StreamExt};
use landfall_core::live::{
    LiveAccount, LiveMember, LiveOrgPolicy, LiveOu, LivePolicy, LiveState, WorldIdentity,
    member_key,
};
use landfall_core::model::{DesiredState, PolicyType, Tags};
use landfall_core::state::StateFile;

use crate::apply::with_retries;
use crate::provider::{MemberScope, Page, Provider, ProviderError, ProviderResult};

/// A read that failed, with what was being read.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
pub struct RefreshError {
    /// What was being read, e.g. `cannot read account 123456789012 in us-east-1`.
    pub context: String,
    pub source: ProviderError,
}

/// Which world the backend is connected to.
pub async fn identity(provider: &dyn Provider) -> ProviderResult<WorldIdentity> {
    with_retries(provider, || provider.identity()).await
}

/// The organization layer: root, OUs, accounts, policies, attachments.
pub async fn organization(provider: &dyn Provider) -> ProviderResult<LiveState> {
    read_organization(provider).await
}

/// One item [`read_organization`] has read.
enum Read {
    Ous(String, Page<LiveOu>),
    Accounts(String, Page<LiveAccount>),
    Policies(PolicyType, Page<LivePolicy>),
    Content(String, String),
    Targets(String, Page<String>),
    Tags(String, Page<(String, String)>),
}

type Reading<'a> = Pin<Box<dyn Future<Output = ProviderResult<Read>> + Send + 'a>>;

/// Reads the organization layer with as few calls as its shape needs, all of them
/// concurrently — bounded only by the backend's limiters ([`Provider::pacer`]), not
/// by a fixed number in flight:
///
/// - the OU tree breadth first: per parent (the root and every OU) the pages of
///   `ListOrganizationalUnitsForParent` and `ListAccountsForParent` — every account
///   with its parent, which `ListAccounts` would not give (`ListParents` would cost a
///   call per account); a parent's children are read as soon as it is listed, not
///   level by level;
/// - policies of every type, while the tree is read: the pages of `ListPolicies`, then per
///   customer-managed policy `DescribePolicy` (its document), and per policy
///   `ListTargetsForPolicy` (targets per policy: policies are far fewer than targets);
/// - tags: `ListTagsForResource` per OU, account and customer-managed policy, as soon
///   as each is listed (AWS has no batch read of tags).
///
/// Each read is retried on throttling by the backend; the first error that is not
/// ends the refresh.
pub async fn read_organization(provider: &dyn Provider) -> ProviderResult<LiveState> {
    let root = provider.organization_root().await?;
    let mut live = LiveState {
        root_id: root.root_id.clone(),
        management_account_id: root.management_account_id,
        enabled_policy_types: root.enabled_policy_types.clone(),
        ..LiveState::default()
    };
    let ous = |parent: String, token: Option<String>| -> Reading<'_> {
        Box::pin(async move {
            let page = provider.ous_for_parent(&parent, token).await?;
            Ok(Read::Ous(parent, page))
        })
    };
    let accounts = |parent: String, token: Option<String>| -> Reading<'_> {
        Box::pin(async move {
            let page = provider.accounts_for_parent(&parent, token).await?;
            Ok(Read::Accounts(parent, page))
        })
    };
    let policies = |policy_type: PolicyType, token: Option<String>| -> Reading<'_> {
        Box::pin(async move {
            let page = provider.policies(policy_type, token).await?;
            Ok(Read::Policies(policy_type, page))
        })
    };
    let content = |id: String| -> Reading<'_> {
        Box::pin(async move {
            let document = provider.policy_content(&id).await?;
            Ok(Read::Content(id, document))
        })
    };
    let targets = |id: String, token: Option<String>| -> Reading<'_> {
        Box::pin(async move {
            let page = provider.targets_for_policy(&id, token).await?;
            Ok(Read::Targets(id, page))
        })
    };
    let tags = |id: String, token: Option<String>| -> Reading<'_> {
        Box::pin(async move {
            let page = provider.tags_for_resource(&id, token).await?;
            Ok(Read::Tags(id, page))
        })
    };
    let mut reading = FuturesUnordered::new();
    reading.push(ous(root.root_id.clone(), None));
    reading.push(accounts(root.root_id, None));
    // Every type: a policy outlives its type's disabling (AWS detaches it, keeps it),
    // and the plan that enables the type again must find it rather than create a
    // second of the same name.
    for policy_type in PolicyType::ALL {
        reading.push(policies(policy_type, None));
    }
    let mut tags_read: BTreeMap<String, Tags> = BTreeMap::new();
    while let Some(read) = reading.next().await {
        match read? {
            Read::Ous(parent, page) => {
                if let Some(token) = page.next_token {
                    reading.push(ous(parent, Some(token)));
                }
                for ou in page.items {
                    reading.push(ous(ou.id.clone(), None));
                    reading.push(accounts(ou.id.clone(), None));
                    reading.push(tags(ou.id.clone(), None));
                    live.ous.insert(ou.id.clone(), ou);
                }
            }
            Read::Accounts(parent, page) => {
                if let Some(token) = page.next_token {
                    reading.push(accounts(parent, Some(token)));
                }
                for account in page.items {
                    reading.push(tags(account.id.clone(), None));
                    live.accounts.insert(account.id.clone(), account);
                }
            }
            Read::Policies(policy_type, page) => {
                if let Some(token) = page.next_token {
                    reading.push(policies(policy_type, Some(token)));
                }
                for policy in page.items {
                    if !policy.aws_managed {
                        reading.push(content(policy.id.clone()));
                        reading.push(tags(policy.id.clone(), None));
                    }
                    match policy_type.org_policy_type() {
                        None => {
                            reading.push(targets(policy.id.clone(), None));
                            live.policies.insert(policy.id.clone(), policy);
                        }
                        Some(org_type) => {
                            // RCPFullAWSAccess is on every target: its targets say
                            // nothing and would cost a page per hundred targets.
                            if !policy.aws_managed {
                                reading.push(targets(policy.id.clone(), None));
                            }
                            live.org_policies.insert(
                                policy.id.clone(),
                                LiveOrgPolicy {
                                    id: policy.id,
                                    policy_type: org_type,
                                    name: policy.name,
                                    description: policy.description,
                                    content: policy.content,
                                    tags: policy.tags,
                                    aws_managed: policy.aws_managed,
                                },
                            );
                        }
                    }
                }
            }
            Read::Content(id, document) => {
                if let Some(policy) = live.policies.get_mut(&id) {
                    policy.content = document;
                } else if let Some(policy) = live.org_policies.get_mut(&id) {
                    policy.content = document;
                }
            }
            Read::Targets(policy, page) => {
                if let Some(token) = page.next_token {
                    reading.push(targets(policy.clone(), Some(token)));
                }
                let attachments = if live.org_policies.contains_key(&policy) {
                    &mut live.org_policy_attachments
                } else {
                    &mut live.attachments
                };
                for target in page.items {
                    attachments.insert((policy.clone(), target));
                }
            }
            Read::Tags(id, page) => {
                if let Some(token) = page.next_token {
                    reading.push(tags(id.clone(), Some(token)));
                }
                tags_read.entry(id).or_default().extend(page.items);
            }
        }
    }
    for (id, t) in tags_read {
        if let Some(ou) = live.ous.get_mut(&id) {
            ou.tags = t;
        } else if let Some(account) = live.accounts.get_mut(&id) {
            account.tags = t;
        } else if let Some(policy) = live.policies.get_mut(&id) {
            policy.tags = t;
        } else if let Some(policy) = live.org_policies.get_mut(&id) {
            policy.tags = t;
        }
    }
    Ok(live)
}

/// Reads these member accounts and regions concurrently (bounded by the backend's
/// pacing), each read retried on throttling; each with its own result, so a caller
/// can tell which account could not be read (`landfall import` goes on without it).
pub async fn members(
    provider: &Arc<dyn Provider>,
    scopes: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<(MemberScope, ProviderResult<LiveMember>)>, RefreshError> {
    let mut reads = tokio::task::JoinSet::new();
    for (account_id, region) in scopes {
        let provider = provider.clone();
        reads.spawn(async move {
            let scope = MemberScope { account_id, region };
            let result = with_retries(provider.as_ref(), || provider.refresh_member(&scope)).await;
            (scope, result)
        });
    }
    let mut out = Vec::new();
    while let Some(joined) = reads.join_next().await {
        out.push(joined.map_err(|e| RefreshError {
            context: "a member read stopped unexpectedly".into(),
            source: ProviderError::new(
                crate::provider::ErrorKind::Other("TaskFailed".into()),
                "RefreshMember",
                e.to_string(),
            ),
        })?);
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The governance layer as `scope` says, for a command with no desired state to
/// derive the scope from (`landfall import` reads every OU's controls).
pub async fn governance(
    provider: &dyn Provider,
    scope: &landfall_core::live::GovernanceScope,
) -> ProviderResult<landfall_core::live::LiveGovernance> {
    with_retries(provider, || provider.refresh_governance(scope)).await
}

/// The security family as `scope` says, for a command with no desired state to derive
/// the scope from (`landfall import` reads trusted access and delegated
/// administrators with an empty scope).
pub async fn security(
    provider: &dyn Provider,
    scope: &landfall_core::live::SecurityScope,
) -> ProviderResult<landfall_core::live::LiveSecurity> {
    with_retries(provider, || provider.refresh_security(scope)).await
}

/// Reads the member accounts' networks and keys that the desired state or the state
/// file mention, concurrently, into `live.members` — and, at once, the governance
/// layer (Control Tower controls, Account Factory accounts, Service Catalog
/// portfolios) into `live.governance`, IAM Identity Center into `live.identity` and
/// the security family into `live.security`, each when anything declared or recorded
/// needs it.
pub async fn members_and_governance(
    provider: &Arc<dyn Provider>,
    desired: &DesiredState,
    live: &mut LiveState,
    state: Option<&StateFile>,
) -> Result<(), RefreshError> {
    let scopes = landfall_core::member::members_to_read(desired, live, state);
    for (scope, result) in members(provider, scopes).await? {
        let member = result.map_err(|source| RefreshError {
            context: format!("cannot read account {scope}"),
            source,
        })?;
        live.members
            .insert(member_key(&scope.account_id, &scope.region), member);
    }
    // Control Tower and Service Catalog, and IAM Identity Center: independent reads,
    // made at once.
    let governance = async {
        if !landfall_core::governance::needs_governance(desired, state) {
            return Ok(None);
        }
        let scope = landfall_core::governance::governance_scope(desired, state, live);
        with_retries(provider.as_ref(), || provider.refresh_governance(&scope))
            .await
            .map(Some)
            .map_err(|source| RefreshError {
                context: "cannot read the Control Tower and Service Catalog state".into(),
                source,
            })
    };
    let identity = async {
        if !landfall_core::identity::needs_identity(desired, state) {
            return Ok(None);
        }
        let scope = landfall_core::identity::identity_scope(desired, state);
        with_retries(provider.as_ref(), || provider.refresh_identity(&scope))
            .await
            .map(Some)
            .map_err(|source| RefreshError {
                context: format!("cannot read IAM Identity Center (region {})", scope.region),
                source,
            })
    };
    let security = async {
        if !landfall_core::security::needs_security(desired, state) {
            return Ok(None);
        }
        let scope = landfall_core::security::security_scope(desired, state, live);
        with_retries(provider.as_ref(), || provider.refresh_security(&scope))
            .await
            .map(Some)
            .map_err(|source| RefreshError {
                context: "cannot read trusted access, delegated administrators and the logging and security resources".into(),
                source,
            })
    };
    let (governance, identity, security) = futures::join!(governance, identity, security);
    if let Some(governance) = governance? {
        live.governance = governance;
    }
    if let Some(identity) = identity? {
        live.identity = identity;
    }
    if let Some(security) = security? {
        live.security = security;
    }
    Ok(())
}
