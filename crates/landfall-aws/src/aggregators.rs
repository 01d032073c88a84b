//! AWS Config organization aggregators and the IAM role each one assumes to read the
//! organization: the role's creation (trusting `config.amazonaws.com`), its managed
//! policy, the aggregator (`OrganizationAggregationSource`, all regions), their
//! deletion, and the read of one account and region's aggregators with whether the
//! role exists.
//!
//! IAM is eventually consistent: an aggregator put right after its role was created
//! can be refused with `InvalidRoleException` until the role reaches AWS Config. That
//! is [`ErrorKind::NotYetPropagated`], which the executor retries with backoff.

use std::collections::BTreeMap;

use aws_sdk_config::types::{OrganizationAggregationSource, Tag};
use landfall_core::live::LiveAggregator;
use landfall_core::model::Tags;
use landfall_engine::provider::{ErrorKind, ProviderError, ProviderResult, Reply};

use crate::AwsBackend;
use crate::security::{Scoped, Svc, created};

/// The document letting `service` assume a role.
pub(crate) fn trust_policy(service: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

/// `CreateRole`; replies with the role's ARN.
pub(crate) async fn create_role(
    aws: &AwsBackend,
    s: &Scoped,
    role_name: &str,
    trusted_service: &str,
) -> ProviderResult<Reply> {
    let api = "CreateRole";
    let out = aws
        .sec_write(
            &s.who,
            Svc::Iam,
            api,
            s.c.iam
                .create_role()
                .role_name(role_name)
                .assume_role_policy_document(trust_policy(trusted_service))
                .description(format!("Assumed by {trusted_service}; managed by Landfall"))
                .send(),
        )
        .await?;
    created(api, "role ARN", out.role().map(|r| r.arn()))
}

pub(crate) async fn attach_role_policy(
    aws: &AwsBackend,
    s: &Scoped,
    role_name: &str,
    policy_arn: &str,
) -> ProviderResult<()> {
    aws.sec_write(
        &s.who,
        Svc::Iam,
        "AttachRolePolicy",
        s.c.iam
            .attach_role_policy()
            .role_name(role_name)
            .policy_arn(policy_arn)
            .send(),
    )
    .await?;
    Ok(())
}

pub(crate) async fn detach_role_policy(
    aws: &AwsBackend,
    s: &Scoped,
    role_name: &str,
    policy_arn: &str,
) -> ProviderResult<()> {
    aws.sec_write(
        &s.who,
        Svc::Iam,
        "DetachRolePolicy",
        s.c.iam
            .detach_role_policy()
            .role_name(role_name)
            .policy_arn(policy_arn)
            .send(),
    )
    .await?;
    Ok(())
}

pub(crate) async fn delete_role(
    aws: &AwsBackend,
    s: &Scoped,
    role_name: &str,
) -> ProviderResult<()> {
    aws.sec_write(
        &s.who,
        Svc::Iam,
        "DeleteRole",
        s.c.iam.delete_role().role_name(role_name).send(),
    )
    .await?;
    Ok(())
}

/// `PutConfigurationAggregator` with an organization source over all regions;
/// replies with the aggregator's ARN.
pub(crate) async fn put(
    aws: &AwsBackend,
    s: &Scoped,
    name: &str,
    role_arn: &str,
    tags: &Tags,
) -> ProviderResult<Reply> {
    let api = "PutConfigurationAggregator";
    let invalid =
        |e: &dyn std::fmt::Display| ProviderError::new(ErrorKind::InvalidInput, api, e.to_string());
    let source = OrganizationAggregationSource::builder()
        .role_arn(role_arn)
        .all_aws_regions(true)
        .build()
        .map_err(|e| invalid(&e))?;
    let tags = tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Vec<_>>();
    let out = aws
        .sec_write(
            &s.who,
            Svc::Config,
            api,
            s.c.config
                .put_configuration_aggregator()
                .configuration_aggregator_name(name)
                .organization_aggregation_source(source)
                .set_tags((!tags.is_empty()).then_some(tags))
                .send(),
        )
        .await
        .map_err(|e| not_yet_propagated(e, role_arn))?;
    created(
        api,
        "aggregator ARN",
        out.configuration_aggregator()
            .and_then(|a| a.configuration_aggregator_arn()),
    )
}

/// AWS Config's `InvalidRoleException`: the role does not exist *for Config yet*
/// (IAM propagates a new role within seconds) — retried; if it never appears the
/// retries run out with this message.
fn not_yet_propagated(e: ProviderError, role_arn: &str) -> ProviderError {
    if e.kind != ErrorKind::Other("InvalidRoleException".into()) {
        return e;
    }
    ProviderError::new(
        ErrorKind::NotYetPropagated,
        e.api,
        format!(
            "{} ({role_arn} may not have reached AWS Config yet — a new role takes a few seconds; it must exist, trust config.amazonaws.com and allow organizations:ListAccounts, organizations:DescribeOrganization and organizations:ListAWSServiceAccessForOrganization, e.g. with the AWSConfigRoleForOrganizations managed policy)",
            e.message
        ),
    )
}

pub(crate) async fn delete(aws: &AwsBackend, s: &Scoped, name: &str) -> ProviderResult<()> {
    aws.sec_write(
        &s.who,
        Svc::Config,
        "DeleteConfigurationAggregator",
        s.c.config
            .delete_configuration_aggregator()
            .configuration_aggregator_name(name)
            .send(),
    )
    .await?;
    Ok(())
}

/// The aggregators of the scope's account and region by name, each with whether
/// `role_name` exists in that account (IAM `GetRole`; `NoSuchEntity`: it does not).
pub(crate) async fn read(
    aws: &AwsBackend,
    s: &Scoped,
    role_name: &str,
) -> ProviderResult<BTreeMap<String, LiveAggregator>> {
    let config = &s.c.config;
    let iam = &s.c.iam;
    let who = &s.who;
    let (pages, role) = futures::try_join!(
        Box::pin(aws.sec_pages(
            who,
            Svc::Config,
            "DescribeConfigurationAggregators",
            |token| {
                config
                    .describe_configuration_aggregators()
                    .set_next_token(token)
                    .send()
            },
            |page| page.next_token().map(str::to_string),
        )),
        Box::pin(
            aws.sec_find(who, Svc::Iam, "GetRole", &["NoSuchEntity"], || {
                iam.get_role().role_name(role_name).send()
            })
        ),
    )?;
    let role_exists = role.is_some();
    Ok(pages
        .iter()
        .flat_map(|p| p.configuration_aggregators())
        .filter_map(|a| {
            let name = a.configuration_aggregator_name()?.to_string();
            let source = a.organization_aggregation_source();
            let aggregator = LiveAggregator {
                name: name.clone(),
                arn: a
                    .configuration_aggregator_arn()
                    .unwrap_or_default()
                    .to_string(),
                account_id: who.scope.account_id.clone(),
                region: who.scope.region.clone(),
                organization_role_arn: source.map(|o| o.role_arn().to_string()),
                all_regions: source.is_some_and(|o| o.all_aws_regions()),
                role_exists,
            };
            Some((name, aggregator))
        })
        .collect())
}
