//! CloudTrail trails: their creation, update, logging, tags and deletion, and the
//! read of the trails of one account and region.
//!
//! A read costs `DescribeTrails` (`includeShadowTrails = false`: the trails whose home
//! is this account and region, not their copies elsewhere), then at once a
//! `GetTrailStatus` per trail and `ListTags` per 20 trails (its limit).

use std::collections::BTreeMap;

use aws_sdk_cloudtrail::types::Tag;
use futures::stream::{self, StreamExt, TryStreamExt};
use landfall_core::live::LiveTrail;
use landfall_core::model::Tags;
use landfall_engine::call::TrailRequest;
use landfall_engine::provider::{ErrorKind, ProviderError, ProviderResult, Reply};

use crate::AwsBackend;
use crate::security::{Scoped, Svc, created};

const CLOUDTRAIL: Svc = Svc::CloudTrail;

/// `ListTags` takes at most 20 trails.
const TAGS_PER_CALL: usize = 20;

fn trail_tags(api: &'static str, tags: &Tags) -> ProviderResult<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| ProviderError::new(ErrorKind::InvalidInput, api, e.to_string()))
        })
        .collect()
}

/// `CreateTrail`; replies with the trail's ARN. Global service events are always
/// included (a multi-region trail must include them; they are IAM's, STS's and
/// CloudFront's activity). A new trail is not logging until `StartLogging`.
pub(crate) async fn create(
    aws: &AwsBackend,
    s: &Scoped,
    r: &TrailRequest<'_>,
) -> ProviderResult<Reply> {
    let api = "CreateTrail";
    let tags = (!r.tags.is_empty())
        .then(|| trail_tags(api, r.tags))
        .transpose()?;
    let out = aws
        .sec_write(
            &s.who,
            CLOUDTRAIL,
            api,
            s.c.cloudtrail
                .create_trail()
                .name(r.name)
                .s3_bucket_name(r.s3_bucket_name)
                .set_s3_key_prefix(r.s3_key_prefix.map(str::to_string))
                .kms_key_id(r.kms_key_arn)
                .is_multi_region_trail(r.multi_region)
                .is_organization_trail(r.organization)
                .enable_log_file_validation(r.log_file_validation)
                .include_global_service_events(true)
                .set_tags_list(tags)
                .send(),
        )
        .await?;
    created(api, "trail ARN", out.trail_arn())
}

/// `UpdateTrail` with every setting Landfall manages (an empty `S3KeyPrefix` removes
/// the prefix).
pub(crate) async fn update(
    aws: &AwsBackend,
    s: &Scoped,
    r: &TrailRequest<'_>,
) -> ProviderResult<()> {
    aws.sec_write(
        &s.who,
        CLOUDTRAIL,
        "UpdateTrail",
        s.c.cloudtrail
            .update_trail()
            .name(r.name)
            .s3_bucket_name(r.s3_bucket_name)
            .s3_key_prefix(r.s3_key_prefix.unwrap_or(""))
            .kms_key_id(r.kms_key_arn)
            .is_multi_region_trail(r.multi_region)
            .is_organization_trail(r.organization)
            .enable_log_file_validation(r.log_file_validation)
            .include_global_service_events(true)
            .send(),
    )
    .await?;
    Ok(())
}

pub(crate) async fn start_logging(
    aws: &AwsBackend,
    s: &Scoped,
    trail_arn: &str,
) -> ProviderResult<()> {
    aws.sec_write(
        &s.who,
        CLOUDTRAIL,
        "StartLogging",
        s.c.cloudtrail.start_logging().name(trail_arn).send(),
    )
    .await?;
    Ok(())
}

pub(crate) async fn add_tags(
    aws: &AwsBackend,
    s: &Scoped,
    trail_arn: &str,
    tags: &Tags,
) -> ProviderResult<()> {
    let api = "AddTags";
    aws.sec_write(
        &s.who,
        CLOUDTRAIL,
        api,
        s.c.cloudtrail
            .add_tags()
            .resource_id(trail_arn)
            .set_tags_list(Some(trail_tags(api, tags)?))
            .send(),
    )
    .await?;
    Ok(())
}

/// `DeleteTrail`, naming the trail by its name when it lives in the caller's own
/// account and region (unambiguous there), by its ARN otherwise — an organization
/// trail a delegated administrator manages is the management account's. AWS takes
/// either; moto 5.2.5 deletes by name only (an ARN deletes nothing, silently).
pub(crate) async fn delete(aws: &AwsBackend, s: &Scoped, trail_arn: &str) -> ProviderResult<()> {
    let scope = &s.who.scope;
    let own = format!(":cloudtrail:{}:{}:trail/", scope.region, scope.account_id);
    let name = match trail_arn.split_once(&own) {
        Some((_, name)) if !name.is_empty() => name,
        _ => trail_arn,
    };
    aws.sec_write(
        &s.who,
        CLOUDTRAIL,
        "DeleteTrail",
        s.c.cloudtrail.delete_trail().name(name).send(),
    )
    .await?;
    Ok(())
}

/// The trails whose home is the scope's account and region, by ARN.
pub(crate) async fn read(
    aws: &AwsBackend,
    s: &Scoped,
) -> ProviderResult<BTreeMap<String, LiveTrail>> {
    let ct = &s.c.cloudtrail;
    let who = &s.who;
    let described = aws
        .sec_read(who, CLOUDTRAIL, "DescribeTrails", || {
            ct.describe_trails().include_shadow_trails(false).send()
        })
        .await?;
    let trails: Vec<_> = described
        .trail_list()
        .iter()
        .filter(|t| t.trail_arn().is_some())
        .collect();
    let arns: Vec<String> = trails
        .iter()
        .filter_map(|t| t.trail_arn().map(str::to_string))
        .collect();
    let statuses = stream::iter(arns.iter().cloned())
        .map(|arn| async move {
            let status = aws
                .sec_read(who, CLOUDTRAIL, "GetTrailStatus", || {
                    ct.get_trail_status().name(&arn).send()
                })
                .await?;
            Ok::<_, ProviderError>((arn, status.is_logging().unwrap_or(false)))
        })
        .buffer_unordered(crate::ALL_AT_ONCE)
        .try_collect::<BTreeMap<_, _>>();
    let tags = stream::iter(arns.chunks(TAGS_PER_CALL).map(<[String]>::to_vec))
        .map(|chunk| tags_of(aws, s, chunk))
        .buffer_unordered(crate::ALL_AT_ONCE)
        .try_collect::<Vec<_>>();
    let (logging, tags) = futures::try_join!(Box::pin(statuses), Box::pin(tags))?;
    let mut tags: BTreeMap<String, Tags> = tags.into_iter().flatten().collect();
    Ok(trails
        .into_iter()
        .filter_map(|t| {
            let arn = t.trail_arn()?.to_string();
            let trail = LiveTrail {
                arn: arn.clone(),
                name: t.name().unwrap_or_default().to_string(),
                home_region: t
                    .home_region()
                    .unwrap_or(who.scope.region.as_str())
                    .to_string(),
                s3_bucket_name: t.s3_bucket_name().unwrap_or_default().to_string(),
                s3_key_prefix: t
                    .s3_key_prefix()
                    .filter(|p| !p.is_empty())
                    .map(str::to_string),
                kms_key_id: t.kms_key_id().filter(|k| !k.is_empty()).map(str::to_string),
                multi_region: t.is_multi_region_trail().unwrap_or(false),
                organization: t.is_organization_trail().unwrap_or(false),
                log_file_validation: t.log_file_validation_enabled().unwrap_or(false),
                logging: logging.get(&arn).copied().unwrap_or(false),
                tags: tags.remove(&arn).unwrap_or_default(),
            };
            Some((arn, trail))
        })
        .collect())
}

/// The tags of up to 20 trails, every page.
async fn tags_of(
    aws: &AwsBackend,
    s: &Scoped,
    arns: Vec<String>,
) -> ProviderResult<Vec<(String, Tags)>> {
    let ct = &s.c.cloudtrail;
    let pages = aws
        .sec_pages(
            &s.who,
            CLOUDTRAIL,
            "ListTags",
            |token| {
                ct.list_tags()
                    .set_resource_id_list(Some(arns.clone()))
                    .set_next_token(token)
                    .send()
            },
            |page| page.next_token().map(str::to_string),
        )
        .await?;
    let mut out: BTreeMap<String, Tags> = BTreeMap::new();
    for page in &pages {
        for resource in page.resource_tag_list() {
            let Some(id) = resource.resource_id() else {
                continue;
            };
            out.entry(id.to_string())
                .or_default()
                .extend(resource.tags_list().iter().map(|t| {
                    (
                        t.key().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    )
                }));
        }
    }
    Ok(out.into_iter().collect())
}
