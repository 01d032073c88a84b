//! The organization's trusted access and delegated administrators, read for the
//! security refresh on the Organizations read limiter:
//! `ListAWSServiceAccessForOrganization` (every page), and
//! `ListDelegatedAdministrators` (every page) then, for each administrator at once,
//! `ListDelegatedServicesForAccount` (every page).

use std::collections::{BTreeMap, BTreeSet};

use futures::stream::{self, StreamExt, TryStreamExt};
use landfall_engine::provider::{ProviderError, ProviderResult};

use crate::AwsBackend;

/// The service principals with trusted access.
pub(crate) async fn service_access(aws: &AwsBackend) -> ProviderResult<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut token = None;
    loop {
        let page = aws
            .read("ListAWSServiceAccessForOrganization", || {
                aws.org
                    .list_aws_service_access_for_organization()
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
        out.extend(
            page.enabled_service_principals()
                .iter()
                .filter_map(|p| p.service_principal().map(str::to_string)),
        );
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// Delegated administrator account ids by service principal.
pub(crate) async fn delegated_admins(
    aws: &AwsBackend,
) -> ProviderResult<BTreeMap<String, BTreeSet<String>>> {
    let mut admins = Vec::new();
    let mut token = None;
    loop {
        let page = aws
            .read("ListDelegatedAdministrators", || {
                aws.org
                    .list_delegated_administrators()
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
        admins.extend(
            page.delegated_administrators()
                .iter()
                .filter_map(|a| a.id().map(str::to_string)),
        );
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let services: Vec<(String, Vec<String>)> = stream::iter(admins)
        .map(|account| async move {
            let services = services_of(aws, &account).await?;
            Ok::<_, ProviderError>((account, services))
        })
        .buffer_unordered(crate::ALL_AT_ONCE)
        .try_collect()
        .await?;
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (account, principals) in services {
        for principal in principals {
            out.entry(principal).or_default().insert(account.clone());
        }
    }
    Ok(out)
}

async fn services_of(aws: &AwsBackend, account: &str) -> ProviderResult<Vec<String>> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = aws
            .read("ListDelegatedServicesForAccount", || {
                aws.org
                    .list_delegated_services_for_account()
                    .account_id(account)
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
        out.extend(
            page.delegated_services()
                .iter()
                .filter_map(|s| s.service_principal().map(str::to_string)),
        );
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}
