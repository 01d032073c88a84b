//! GuardDuty's and Security Hub's own delegation of their administration
//! (`EnableOrganizationAdminAccount`, `DisableOrganizationAdminAccount`,
//! `ListOrganizationAdminAccounts`): from the management account, in one region each
//! (both services are regional). Enabling also registers the account as the service's
//! delegated administrator in Organizations.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_organizations::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::config::http::HttpResponse;
use futures::stream::{self, StreamExt, TryStreamExt};
use landfall_engine::call::AdminService;
use landfall_engine::provider::{ErrorKind, ProviderError, ProviderResult, Reply};

use crate::AwsBackend;
use crate::errors::unrouted;
use crate::security::{Svc, Who};

fn svc(service: AdminService) -> Svc {
    match service {
        AdminService::GuardDuty => Svc::GuardDuty,
        AdminService::SecurityHub => Svc::SecurityHub,
    }
}

pub(crate) async fn enable(
    aws: &AwsBackend,
    region: &str,
    service: AdminService,
    account_id: &str,
) -> ProviderResult<Reply> {
    let (c, who) = aws.admin_clients(region).await?;
    let api = "EnableOrganizationAdminAccount";
    match service {
        AdminService::GuardDuty => {
            aws.sec_write(
                &who,
                svc(service),
                api,
                c.guardduty
                    .enable_organization_admin_account()
                    .admin_account_id(account_id)
                    .send(),
            )
            .await?;
        }
        AdminService::SecurityHub => {
            aws.sec_write(
                &who,
                svc(service),
                api,
                c.securityhub
                    .enable_organization_admin_account()
                    .admin_account_id(account_id)
                    .send(),
            )
            .await?;
        }
    }
    Ok(Reply::default())
}

pub(crate) async fn disable(
    aws: &AwsBackend,
    region: &str,
    service: AdminService,
    account_id: &str,
) -> ProviderResult<Reply> {
    let (c, who) = aws.admin_clients(region).await?;
    let api = "DisableOrganizationAdminAccount";
    match service {
        AdminService::GuardDuty => {
            aws.sec_write(
                &who,
                svc(service),
                api,
                c.guardduty
                    .disable_organization_admin_account()
                    .admin_account_id(account_id)
                    .send(),
            )
            .await?;
        }
        AdminService::SecurityHub => {
            aws.sec_write(
                &who,
                svc(service),
                api,
                c.securityhub
                    .disable_organization_admin_account()
                    .admin_account_id(account_id)
                    .send(),
            )
            .await?;
        }
    }
    Ok(Reply::default())
}

/// The admin accounts with status `ENABLED` of each (service principal, region) asked
/// for, by principal then region. A principal of neither service is an error (the
/// engine asks only for these two). An endpoint that does not serve the listing at
/// all (moto 5.2.5 has no Security Hub `ListOrganizationAdminAccounts`: an HTML 404)
/// leaves that (principal, region) out — not read, rather than read as none.
pub(crate) async fn read(
    aws: &AwsBackend,
    wanted: &BTreeSet<(String, String)>,
) -> ProviderResult<BTreeMap<String, BTreeMap<String, BTreeSet<String>>>> {
    let found: Vec<(String, String, Option<BTreeSet<String>>)> =
        stream::iter(wanted.iter().cloned())
            .map(|(principal, region)| async move {
                let service = AdminService::of(&principal).ok_or_else(|| {
                    ProviderError::new(
                        ErrorKind::InvalidInput,
                        "ListOrganizationAdminAccounts",
                        format!("{principal} has no organization admin account call"),
                    )
                })?;
                let accounts = Box::pin(admin_accounts(aws, &region, service)).await?;
                Ok::<_, ProviderError>((principal, region, accounts))
            })
            .buffer_unordered(crate::ALL_AT_ONCE)
            .try_collect()
            .await?;
    let mut out: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (principal, region, accounts) in found {
        match accounts {
            Some(accounts) => {
                out.entry(principal).or_default().insert(region, accounts);
            }
            None => tracing::info!(
                "ListOrganizationAdminAccounts ({principal}, {region}): the endpoint does not serve this API; not read"
            ),
        }
    }
    Ok(out)
}

/// One page of a listing, or `None` when the endpoint has no route for it.
async fn page<O, E, Fut>(
    aws: &AwsBackend,
    who: &Who,
    service: AdminService,
    call: impl Fn() -> Fut,
) -> ProviderResult<Option<O>>
where
    Fut: std::future::Future<Output = Result<O, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let api = "ListOrganizationAdminAccounts";
    aws.sec_paced(who, svc(service), api, || {
        let sent = call();
        async move {
            match sent.await {
                Ok(page) => Ok(Some(page)),
                Err(e) if unrouted(&e) => Ok(None),
                Err(e) => Err(who.err(svc(service), api, e)),
            }
        }
    })
    .await
}

/// The admin accounts `ENABLED` in a region (every page); `None` when not served.
async fn admin_accounts(
    aws: &AwsBackend,
    region: &str,
    service: AdminService,
) -> ProviderResult<Option<BTreeSet<String>>> {
    let (c, who) = aws.admin_clients(region).await?;
    let mut accounts = BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let next = match service {
            AdminService::GuardDuty => {
                let Some(p) = page(aws, &who, service, || {
                    c.guardduty
                        .list_organization_admin_accounts()
                        .set_next_token(token.clone())
                        .send()
                })
                .await?
                else {
                    return Ok(None);
                };
                accounts.extend(
                    p.admin_accounts()
                        .iter()
                        .filter(|a| {
                            a.admin_status()
                                == Some(&aws_sdk_guardduty::types::AdminStatus::Enabled)
                        })
                        .filter_map(|a| a.admin_account_id().map(str::to_string)),
                );
                p.next_token().map(str::to_string)
            }
            AdminService::SecurityHub => {
                let Some(p) = page(aws, &who, service, || {
                    c.securityhub
                        .list_organization_admin_accounts()
                        .set_next_token(token.clone())
                        .send()
                })
                .await?
                else {
                    return Ok(None);
                };
                accounts.extend(
                    p.admin_accounts()
                        .iter()
                        .filter(|a| {
                            a.status() == Some(&aws_sdk_securityhub::types::AdminStatus::Enabled)
                        })
                        .filter_map(|a| a.account_id().map(str::to_string)),
                );
                p.next_token().map(str::to_string)
            }
        };
        match next {
            Some(t) if !t.is_empty() && Some(&t) != token.as_ref() => token = Some(t),
            _ => return Ok(Some(accounts)),
        }
    }
}
