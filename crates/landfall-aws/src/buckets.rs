//! S3 buckets Landfall creates for logs (the organization trail's): their creation
//! and configuration calls, and the read of one bucket's configuration.
//!
//! A bucket's read is `GetBucketVersioning` first — `NoSuchBucket` there means the
//! bucket does not exist, and nothing else is asked — then at once its encryption,
//! public access block, policy, Object Lock configuration, lifecycle and tags. Each
//! of those has its own "there is none" answer, read as none:
//! `ServerSideEncryptionConfigurationNotFoundError`,
//! `NoSuchPublicAccessBlockConfiguration`, `NoSuchBucketPolicy`,
//! `ObjectLockConfigurationNotFoundError`, `NoSuchLifecycleConfiguration`,
//! `NoSuchTagSet`.

use std::collections::BTreeMap;

use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, BucketVersioningStatus,
    CreateBucketConfiguration, DefaultRetention, ExpirationStatus, LifecycleExpiration,
    LifecycleRule, LifecycleRuleFilter, NoncurrentVersionExpiration, ObjectLockConfiguration,
    ObjectLockEnabled, ObjectLockRetentionMode, ObjectLockRule, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, Tag, Tagging, Transition, TransitionStorageClass,
    VersioningConfiguration,
};
use landfall_core::live::LiveBucket;
use landfall_core::model::{Lifecycle, ObjectLock, ObjectLockMode, Tags};
use landfall_engine::provider::{ErrorKind, ProviderError, ProviderResult, Reply};

use crate::AwsBackend;
use crate::security::{Scoped, Svc, days};

const S3: Svc = Svc::S3;

/// The id of the one lifecycle rule Landfall writes.
pub(crate) const LIFECYCLE_RULE_ID: &str = "landfall";

fn invalid(api: &'static str, e: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(ErrorKind::InvalidInput, api, e.to_string())
}

pub(crate) async fn create(
    aws: &AwsBackend,
    s: &Scoped,
    bucket: &str,
    object_lock: bool,
) -> ProviderResult<Reply> {
    let who = &s.who;
    // us-east-1 takes no location constraint (AWS refuses `us-east-1` as one).
    let region = who.scope.region.as_str();
    let location = (region != "us-east-1").then(|| {
        CreateBucketConfiguration::builder()
            .location_constraint(BucketLocationConstraint::from(region))
            .build()
    });
    aws.sec_write(
        who,
        S3,
        "CreateBucket",
        s.c.s3
            .create_bucket()
            .bucket(bucket)
            .set_create_bucket_configuration(location)
            // Object Lock can only be turned on at creation.
            .set_object_lock_enabled_for_bucket(object_lock.then_some(true))
            .send(),
    )
    .await?;
    Ok(Reply::from(Some(bucket.to_string())))
}

pub(crate) async fn put_versioning(
    aws: &AwsBackend,
    s: &Scoped,
    bucket: &str,
) -> ProviderResult<()> {
    aws.sec_write(
        &s.who,
        S3,
        "PutBucketVersioning",
        s.c.s3
            .put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send(),
    )
    .await?;
    Ok(())
}

pub(crate) async fn put_encryption(
    aws: &AwsBackend,
    s: &Scoped,
    bucket: &str,
    kms_key_arn: &str,
) -> ProviderResult<()> {
    let api = "PutBucketEncryption";
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::AwsKms)
        .kms_master_key_id(kms_key_arn)
        .build()
        .map_err(|e| invalid(api, e))?;
    // The bucket key cuts the KMS requests (and their cost) CloudTrail's writes make.
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(by_default)
        .bucket_key_enabled(true)
        .build();
    let configuration = ServerSideEncryptionConfiguration::builder()
        .rules(rule)
        .build()
        .map_err(|e| invalid(api, e))?;
    aws.sec_write(
        &s.who,
        S3,
        api,
        s.c.s3
            .put_bucket_encryption()
            .bucket(bucket)
            .server_side_encryption_configuration(configuration)
            .send(),
    )
    .await?;
    Ok(())
}

pub(crate) async fn put_public_access_block(
    aws: &AwsBackend,
    s: &Scoped,
    bucket: &str,
) -> ProviderResult<()> {
    aws.sec_write(
        &s.who,
        S3,
        "PutPublicAccessBlock",
        s.c.s3
            .put_public_access_block()
            .bucket(bucket)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send(),
    )
    .await?;
    Ok(())
}

pub(crate) async fn put_policy(
    aws: &AwsBackend,
    s: &Scoped,
    bucket: &str,
    policy: &str,
) -> ProviderResult<()> {
    aws.sec_write(
        &s.who,
        S3,
        "PutBucketPolicy",
        s.c.s3
            .put_bucket_policy()
            .bucket(bucket)
            .policy(policy)
            .send(),
    )
    .await?;
    Ok(())
}

pub(crate) async fn put_object_lock(
    aws: &AwsBackend,
    s: &Scoped,
    bucket: &str,
    object_lock: &ObjectLock,
) -> ProviderResult<()> {
    let api = "PutObjectLockConfiguration";
    let mode = match object_lock.mode {
        ObjectLockMode::Governance => ObjectLockRetentionMode::Governance,
        ObjectLockMode::Compliance => ObjectLockRetentionMode::Compliance,
    };
    let configuration = ObjectLockConfiguration::builder()
        .object_lock_enabled(ObjectLockEnabled::Enabled)
        .rule(
            ObjectLockRule::builder()
                .default_retention(
                    DefaultRetention::builder()
                        .mode(mode)
                        .days(days(api, object_lock.days)?)
                        .build(),
                )
                .build(),
        )
        .build();
    aws.sec_write(
        &s.who,
        S3,
        api,
        s.c.s3
            .put_object_lock_configuration()
            .bucket(bucket)
            .object_lock_configuration(configuration)
            .send(),
    )
    .await?;
    Ok(())
}

pub(crate) async fn put_lifecycle(
    aws: &AwsBackend,
    s: &Scoped,
    bucket: &str,
    lifecycle: &Lifecycle,
) -> ProviderResult<()> {
    let api = "PutBucketLifecycleConfiguration";
    let configuration = BucketLifecycleConfiguration::builder()
        .rules(lifecycle_rule(api, lifecycle)?)
        .build()
        .map_err(|e| invalid(api, e))?;
    aws.sec_write(
        &s.who,
        S3,
        api,
        s.c.s3
            .put_bucket_lifecycle_configuration()
            .bucket(bucket)
            .lifecycle_configuration(configuration)
            .send(),
    )
    .await?;
    Ok(())
}

pub(crate) async fn delete_lifecycle(
    aws: &AwsBackend,
    s: &Scoped,
    bucket: &str,
) -> ProviderResult<()> {
    aws.sec_write(
        &s.who,
        S3,
        "DeleteBucketLifecycle",
        s.c.s3.delete_bucket_lifecycle().bucket(bucket).send(),
    )
    .await?;
    Ok(())
}

pub(crate) async fn put_tagging(
    aws: &AwsBackend,
    s: &Scoped,
    bucket: &str,
    tags: &Tags,
) -> ProviderResult<()> {
    let api = "PutBucketTagging";
    if tags.is_empty() {
        // S3 refuses an empty tag set: no tags is no tagging configuration.
        aws.sec_write(
            &s.who,
            S3,
            "DeleteBucketTagging",
            s.c.s3.delete_bucket_tagging().bucket(bucket).send(),
        )
        .await?;
        return Ok(());
    }
    let tagging = Tagging::builder()
        .set_tag_set(Some(s3_tags(api, tags)?))
        .build()
        .map_err(|e| invalid(api, e))?;
    aws.sec_write(
        &s.who,
        S3,
        api,
        s.c.s3
            .put_bucket_tagging()
            .bucket(bucket)
            .tagging(tagging)
            .send(),
    )
    .await?;
    Ok(())
}

pub(crate) async fn delete(aws: &AwsBackend, s: &Scoped, bucket: &str) -> ProviderResult<()> {
    aws.sec_write(
        &s.who,
        S3,
        "DeleteBucket",
        s.c.s3.delete_bucket().bucket(bucket).send(),
    )
    .await?;
    Ok(())
}

fn s3_tags(api: &'static str, tags: &Tags) -> ProviderResult<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| invalid(api, e))
        })
        .collect()
}

/// The one rule Landfall writes: over the whole bucket (the empty prefix), objects to
/// Glacier Flexible Retrieval after `glacier_after_days`, expired after
/// `expire_after_days`, and their noncurrent versions (the bucket is versioned)
/// expired as many days after they stop being current.
fn lifecycle_rule(api: &'static str, lifecycle: &Lifecycle) -> ProviderResult<LifecycleRule> {
    let mut rule = LifecycleRule::builder()
        .id(LIFECYCLE_RULE_ID)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build());
    if let Some(n) = lifecycle.glacier_after_days {
        rule = rule.transitions(
            Transition::builder()
                .days(days(api, n)?)
                .storage_class(TransitionStorageClass::Glacier)
                .build(),
        );
    }
    if let Some(n) = lifecycle.expire_after_days {
        rule = rule
            .expiration(LifecycleExpiration::builder().days(days(api, n)?).build())
            .noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(days(api, n)?)
                    .build(),
            );
    }
    if lifecycle.glacier_after_days.is_none() && lifecycle.expire_after_days.is_none() {
        return Err(ProviderError::new(
            ErrorKind::InvalidInput,
            api,
            "a lifecycle rule needs glacier_after_days or expire_after_days",
        ));
    }
    rule.build().map_err(|e| invalid(api, e))
}

/// The lifecycle as Landfall models it: the values of its one rule when the
/// configuration is exactly that rule; a configuration of another shape (other
/// rules, a prefix, noncurrent days of their own) reads as a lifecycle with neither
/// value, which differs from any declared one — so a plan puts Landfall's rule back.
fn lifecycle_of(rules: &[LifecycleRule]) -> Lifecycle {
    let other = Lifecycle {
        glacier_after_days: None,
        expire_after_days: None,
    };
    let [rule] = rules else {
        return other;
    };
    let whole_bucket = rule.filter().is_none_or(|f| {
        f.prefix().is_none_or(str::is_empty) && f.tag().is_none() && f.and().is_none()
    });
    #[allow(deprecated)]
    let legacy_prefix = rule.prefix().is_some_and(|p| !p.is_empty());
    if rule.status() != &ExpirationStatus::Enabled || !whole_bucket || legacy_prefix {
        return other;
    }
    let glacier = match rule.transitions() {
        [] => None,
        [t] if t.storage_class() == Some(&TransitionStorageClass::Glacier)
            && t.date().is_none() =>
        {
            t.days().and_then(|d| u32::try_from(d).ok())
        }
        _ => return other,
    };
    let expire = rule
        .expiration()
        .and_then(|e| e.days())
        .and_then(|d| u32::try_from(d).ok());
    let noncurrent = rule
        .noncurrent_version_expiration()
        .and_then(|e| e.noncurrent_days())
        .and_then(|d| u32::try_from(d).ok());
    if expire != noncurrent || !rule.noncurrent_version_transitions().is_empty() {
        return other;
    }
    Lifecycle {
        glacier_after_days: glacier,
        expire_after_days: expire,
    }
}

/// moto 5.2.5 answers `GetBucketVersioning` with a root element the SDK refuses
/// (`GetBucketVersioningResponse`; S3 says `VersioningConfiguration`): a 200 whose
/// body is still read for its `Status`. Anything else stays an error.
fn versioning_from_raw<E: aws_sdk_s3::error::ProvideErrorMetadata>(
    e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> Option<bool> {
    // A success the SDK could not read (moto's is taken for an error without a
    // code), never an error S3 answered with its code.
    let uncoded = match e {
        aws_sdk_s3::error::SdkError::ResponseError(_) => true,
        aws_sdk_s3::error::SdkError::ServiceError(s) => s.err().code().is_none(),
        _ => false,
    };
    if !uncoded {
        return None;
    }
    e.raw_response()
        .filter(|r| r.status().as_u16() == 200)
        .and_then(|r| r.body().bytes())
        .map(|b| String::from_utf8_lossy(b).contains("<Status>Enabled</Status>"))
}

/// One bucket of the scope's account and region; `None` when it does not exist.
pub(crate) async fn read(
    aws: &AwsBackend,
    s: &Scoped,
    bucket: &str,
) -> ProviderResult<Option<(String, LiveBucket)>> {
    let s3 = &s.c.s3;
    let who = &s.who;
    let api = "GetBucketVersioning";
    let versioning = aws
        .sec_paced(who, S3, api, || async move {
            match s3.get_bucket_versioning().bucket(bucket).send().await {
                Ok(out) => Ok(Some(out.status() == Some(&BucketVersioningStatus::Enabled))),
                Err(e) => {
                    if e.as_service_error()
                        .and_then(|s| aws_sdk_s3::error::ProvideErrorMetadata::code(s))
                        == Some("NoSuchBucket")
                    {
                        return Ok(None);
                    }
                    match versioning_from_raw(&e) {
                        Some(enabled) => Ok(Some(enabled)),
                        None => Err(who.err(S3, api, e)),
                    }
                }
            }
        })
        .await?;
    let Some(versioning) = versioning else {
        return Ok(None);
    };
    // Boxed: six SDK requests polled inline would fill a thread's stack.
    let (encryption, block, policy, lock, lifecycle, tags) = futures::try_join!(
        Box::pin(aws.sec_find(
            who,
            S3,
            "GetBucketEncryption",
            &["ServerSideEncryptionConfigurationNotFoundError"],
            || s3.get_bucket_encryption().bucket(bucket).send(),
        )),
        Box::pin(aws.sec_find(
            who,
            S3,
            "GetPublicAccessBlock",
            &["NoSuchPublicAccessBlockConfiguration"],
            || s3.get_public_access_block().bucket(bucket).send(),
        )),
        Box::pin(
            aws.sec_find(who, S3, "GetBucketPolicy", &["NoSuchBucketPolicy"], || {
                s3.get_bucket_policy().bucket(bucket).send()
            })
        ),
        Box::pin(aws.sec_find(
            who,
            S3,
            "GetObjectLockConfiguration",
            &["ObjectLockConfigurationNotFoundError"],
            || s3.get_object_lock_configuration().bucket(bucket).send(),
        )),
        Box::pin(aws.sec_find(
            who,
            S3,
            "GetBucketLifecycleConfiguration",
            &["NoSuchLifecycleConfiguration"],
            || {
                s3.get_bucket_lifecycle_configuration()
                    .bucket(bucket)
                    .send()
            },
        )),
        Box::pin(
            aws.sec_find(who, S3, "GetBucketTagging", &["NoSuchTagSet"], || {
                s3.get_bucket_tagging().bucket(bucket).send()
            })
        ),
    )?;
    let kms_key = encryption
        .as_ref()
        .and_then(|e| e.server_side_encryption_configuration())
        .and_then(|c| c.rules().first())
        .and_then(|r| r.apply_server_side_encryption_by_default())
        .filter(|d| d.sse_algorithm() == &ServerSideEncryption::AwsKms)
        .and_then(|d| d.kms_master_key_id())
        .map(str::to_string);
    let public_access_blocked = block
        .as_ref()
        .and_then(|b| b.public_access_block_configuration())
        .is_some_and(|c| {
            c.block_public_acls() == Some(true)
                && c.ignore_public_acls() == Some(true)
                && c.block_public_policy() == Some(true)
                && c.restrict_public_buckets() == Some(true)
        });
    let lock = lock.as_ref().and_then(|l| l.object_lock_configuration());
    let object_lock_enabled =
        lock.is_some_and(|l| l.object_lock_enabled() == Some(&ObjectLockEnabled::Enabled));
    let object_lock = lock
        .filter(|_| object_lock_enabled)
        .and_then(|l| l.rule())
        .and_then(|r| r.default_retention())
        .and_then(retention_of);
    let lifecycle = lifecycle.map(|l| lifecycle_of(l.rules()));
    let tags: Tags = tags
        .as_ref()
        .map(|t| {
            t.tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect::<BTreeMap<_, _>>()
        })
        .unwrap_or_default();
    Ok(Some((
        bucket.to_string(),
        LiveBucket {
            name: bucket.to_string(),
            account_id: who.scope.account_id.clone(),
            region: who.scope.region.clone(),
            versioning,
            kms_key,
            public_access_blocked,
            policy: policy.and_then(|p| p.policy().map(str::to_string)),
            object_lock,
            object_lock_enabled,
            lifecycle,
            tags,
        },
    )))
}

/// A default retention as Landfall models it, in days (one set in years, which
/// Landfall never writes, counts 365 days a year).
fn retention_of(r: &DefaultRetention) -> Option<ObjectLock> {
    let mode = match r.mode()? {
        ObjectLockRetentionMode::Governance => ObjectLockMode::Governance,
        ObjectLockRetentionMode::Compliance => ObjectLockMode::Compliance,
        _ => return None,
    };
    let days = match (r.days(), r.years()) {
        (Some(d), _) => u32::try_from(d).ok()?,
        (None, Some(y)) => u32::try_from(y).ok()?.checked_mul(365)?,
        (None, None) => return None,
    };
    Some(ObjectLock { mode, days })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn rule(lifecycle: &Lifecycle) -> LifecycleRule {
        lifecycle_rule("PutBucketLifecycleConfiguration", lifecycle).unwrap()
    }

    #[test]
    fn the_rule_landfall_writes_reads_back_as_its_values() {
        for lifecycle in [
            Lifecycle {
                glacier_after_days: Some(90),
                expire_after_days: Some(2555),
            },
            Lifecycle {
                glacier_after_days: None,
                expire_after_days: Some(30),
            },
            Lifecycle {
                glacier_after_days: Some(1),
                expire_after_days: None,
            },
        ] {
            assert_eq!(lifecycle_of(&[rule(&lifecycle)]), lifecycle);
        }
    }

    #[test]
    fn a_lifecycle_of_another_shape_reads_as_neither_value() {
        let landfall = rule(&Lifecycle {
            glacier_after_days: Some(90),
            expire_after_days: Some(365),
        });
        let neither = Lifecycle {
            glacier_after_days: None,
            expire_after_days: None,
        };
        // Two rules.
        assert_eq!(lifecycle_of(&[landfall.clone(), landfall.clone()]), neither);
        // A prefix.
        let prefixed = LifecycleRule::builder()
            .id("logs")
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("AWSLogs/").build())
            .expiration(LifecycleExpiration::builder().days(365).build())
            .noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(365)
                    .build(),
            )
            .build()
            .unwrap();
        assert_eq!(lifecycle_of(&[prefixed]), neither);
        // Disabled.
        let disabled = LifecycleRule::builder()
            .id(LIFECYCLE_RULE_ID)
            .status(ExpirationStatus::Disabled)
            .filter(LifecycleRuleFilter::builder().prefix("").build())
            .expiration(LifecycleExpiration::builder().days(365).build())
            .build()
            .unwrap();
        assert_eq!(lifecycle_of(&[disabled]), neither);
        // No rule at all.
        assert_eq!(lifecycle_of(&[]), neither);
    }

    #[test]
    fn an_empty_lifecycle_is_refused() {
        let err = lifecycle_rule(
            "PutBucketLifecycleConfiguration",
            &Lifecycle {
                glacier_after_days: None,
                expire_after_days: None,
            },
        )
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
    }
}
