//! Reading the world before a plan or a drift check: the backend's identity and the
//! organization, then the member accounts and the governance layer that the desired
//! state or the state file mention. Every read is retried on throttling; member
//! accounts are read concurrently.

use std::sync::Arc;

use landfall_core::live::{LiveMember, LiveState, WorldIdentity, member_key};
use landfall_core::model::DesiredState;
use landfall_core::state::StateFile;

use crate::apply::with_retries;
use crate::provider::{MemberScope, Provider, ProviderError, ProviderResult};

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
    with_retries(provider, || provider.refresh()).await
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

/// Reads the member accounts' networks and keys that the desired state or the state
/// file mention, concurrently, into `live.members` — and the governance layer (Control
/// Tower controls, Account Factory accounts, Service Catalog portfolios) into
/// `live.governance` when anything declared or recorded needs it.
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
    if landfall_core::governance::needs_governance(desired, state) {
        let scope = landfall_core::governance::governance_scope(desired, state, live);
        live.governance = with_retries(provider.as_ref(), || provider.refresh_governance(&scope))
            .await
            .map_err(|source| RefreshError {
                context: "cannot read the Control Tower and Service Catalog state".into(),
                source,
            })?;
    }
    Ok(())
}
