//! Logging and security services through the `Provider` trait: trusted access and
//! delegated administrators, GuardDuty's and Security Hub's admin accounts, S3
//! buckets, CloudTrail trails and `CreateTrail`'s checks, IAM roles, Config
//! aggregators, Access Analyzer analyzers (refusals included), `refresh_security`,
//! out-of-band changes, and IAM propagation under the AWS model.

use std::time::Duration;

use landfall_core::live::SecurityScope;
use landfall_core::model::{Lifecycle, ObjectLock, ObjectLockMode};
use landfall_engine::call::{AdminService, SecurityCall as S, TrailRequest};
use landfall_engine::provider::{MemberCall, MemberScope, ProviderError, ProviderResult};

use super::*;

const REGION: &str = "eu-west-1";
const TRAIL: &str = "org-trail";
const BUCKET: &str = "landfall-org-trail-logs";

fn at(account: &str, region: &str) -> MemberScope {
    MemberScope {
        account_id: account.into(),
        region: region.into(),
    }
}

fn code(e: ProviderError) -> String {
    e.kind.code()
}

async fn sec(p: &SimBackend, scope: &MemberScope, call: S<'_>) -> ProviderResult<Option<String>> {
    p.execute(&Call::Security(scope, call)).await.map(|r| r.id)
}

async fn org(p: &SimBackend, call: OrganizationsCall<'_>) -> ProviderResult<Option<String>> {
    p.execute(&Call::Organizations(call)).await.map(|r| r.id)
}

async fn trusted(p: &SimBackend, principal: &str) {
    org(
        p,
        OrganizationsCall::EnableAwsServiceAccess {
            service_principal: principal,
        },
    )
    .await
    .unwrap();
}

async fn register(
    p: &SimBackend,
    account: &str,
    principal: &str,
) -> ProviderResult<Option<String>> {
    org(
        p,
        OrganizationsCall::RegisterDelegatedAdministrator {
            account_id: account,
            service_principal: principal,
        },
    )
    .await
}

fn trail_arn(owner: &str) -> String {
    format!("arn:aws:cloudtrail:{REGION}:{owner}:trail/{TRAIL}")
}

/// The bucket policy AWS documents for an organization trail (`aws:SourceArn` names
/// the trail), with TLS required.
fn bucket_policy(bucket: &str, mgmt: &str, source_arn: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[
{{"Sid":"AclCheck","Effect":"Allow","Principal":{{"Service":"cloudtrail.amazonaws.com"}},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::{bucket}","Condition":{{"StringEquals":{{"aws:SourceArn":"{source_arn}"}}}}}},
{{"Sid":"Write","Effect":"Allow","Principal":{{"Service":"cloudtrail.amazonaws.com"}},"Action":"s3:PutObject","Resource":["arn:aws:s3:::{bucket}/AWSLogs/{mgmt}/*","arn:aws:s3:::{bucket}/AWSLogs/o-example/*"],"Condition":{{"StringEquals":{{"s3:x-amz-acl":"bucket-owner-full-control","aws:SourceArn":"{source_arn}"}}}}}},
{{"Sid":"Tls","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::{bucket}","arn:aws:s3:::{bucket}/*"],"Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}]}}"#
    )
}

fn key_policy(owner: &str, mgmt: &str, cloudtrail: bool) -> String {
    let trail = if cloudtrail {
        format!(
            r#",{{"Sid":"CloudTrail","Effect":"Allow","Principal":{{"Service":"cloudtrail.amazonaws.com"}},"Action":"kms:GenerateDataKey*","Resource":"*","Condition":{{"StringLike":{{"kms:EncryptionContext:aws:cloudtrail:arn":"arn:aws:cloudtrail:*:{mgmt}:trail/*"}}}}}}"#
        )
    } else {
        String::new()
    };
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Root","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{owner}:root"}},"Action":"kms:*","Resource":"*"}}{trail}]}}"#
    )
}

/// An organization with a log archive and a security tooling account.
struct Org {
    p: SimBackend,
    mgmt: String,
    log: String,
    tooling: String,
}

async fn org_world() -> Org {
    let p = sim();
    let mgmt = p.snapshot().management_account_id;
    let log = new_account(&p, "log-archive").await;
    let tooling = new_account(&p, "security-tooling").await;
    Org {
        p,
        mgmt,
        log,
        tooling,
    }
}

async fn key(p: &SimBackend, owner: &str, policy: &str) -> String {
    let scope = at(owner, REGION);
    let id = p
        .execute(&Call::Member(
            &scope,
            MemberCall::CreateKey {
                description: "trail",
                policy,
                tags: &Tags::new(),
            },
        ))
        .await
        .unwrap()
        .id
        .unwrap();
    format!("arn:aws:kms:{REGION}:{owner}:key/{id}")
}

/// The log archive's bucket, with a policy for `source_arn`.
async fn bucket(o: &Org, source_arn: &str) {
    let log = at(&o.log, REGION);
    sec(
        &o.p,
        &log,
        S::CreateBucket {
            bucket: BUCKET,
            object_lock: false,
        },
    )
    .await
    .unwrap();
    sec(
        &o.p,
        &log,
        S::PutBucketPolicy {
            bucket: BUCKET,
            policy: &bucket_policy(BUCKET, &o.mgmt, source_arn),
        },
    )
    .await
    .unwrap();
}

fn request<'a>(key: &'a str, tags: &'a Tags) -> TrailRequest<'a> {
    TrailRequest {
        name: TRAIL,
        s3_bucket_name: BUCKET,
        s3_key_prefix: None,
        kms_key_arn: key,
        multi_region: true,
        organization: true,
        log_file_validation: true,
        tags,
    }
}

#[tokio::test]
async fn delegated_administrators_follow_organizations_rules() {
    let o = org_world().await;
    let p = &o.p;
    let unknown = org(
        p,
        OrganizationsCall::EnableAwsServiceAccess {
            service_principal: "nothing.amazonaws.com",
        },
    )
    .await
    .unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::InvalidInput);

    let before_access = register(p, &o.tooling, "guardduty.amazonaws.com")
        .await
        .unwrap_err();
    assert_eq!(
        before_access.kind,
        ErrorKind::ConstraintViolation("TRUSTED_ACCESS_NOT_ENABLED".into())
    );
    trusted(p, "guardduty.amazonaws.com").await;
    trusted(p, "guardduty.amazonaws.com").await; // idempotent
    let mgmt = register(p, &o.mgmt, "guardduty.amazonaws.com")
        .await
        .unwrap_err();
    assert_eq!(
        mgmt.kind,
        ErrorKind::ConstraintViolation("CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR".into())
    );
    let nobody = register(p, "000000000000", "guardduty.amazonaws.com")
        .await
        .unwrap_err();
    assert_eq!(nobody.kind, ErrorKind::NotFound);
    assert!(nobody.message.contains("AccountNotFoundException"));
    trusted(p, "ram.amazonaws.com").await;
    let unsupported = register(p, &o.tooling, "ram.amazonaws.com")
        .await
        .unwrap_err();
    assert_eq!(unsupported.kind, ErrorKind::InvalidInput);

    register(p, &o.tooling, "guardduty.amazonaws.com")
        .await
        .unwrap();
    let again = register(p, &o.tooling, "guardduty.amazonaws.com")
        .await
        .unwrap_err();
    assert_eq!(code(again), "AccountAlreadyRegisteredException");
    let security = p.security_snapshot();
    assert_eq!(
        security.delegated_admins["guardduty.amazonaws.com"],
        [o.tooling.clone()].into()
    );
    assert!(security.service_access.contains("guardduty.amazonaws.com"));
    assert!(security.service_access.contains("account.amazonaws.com"));

    org(
        p,
        OrganizationsCall::DeregisterDelegatedAdministrator {
            account_id: &o.tooling,
            service_principal: "guardduty.amazonaws.com",
        },
    )
    .await
    .unwrap();
    let not_registered = org(
        p,
        OrganizationsCall::DeregisterDelegatedAdministrator {
            account_id: &o.tooling,
            service_principal: "guardduty.amazonaws.com",
        },
    )
    .await
    .unwrap_err();
    assert_eq!(code(not_registered), "AccountNotRegisteredException");

    // Trusted access for AWS Account Management is the same switch PutAccountName
    // obeys.
    org(
        p,
        OrganizationsCall::DisableAwsServiceAccess {
            service_principal: "account.amazonaws.com",
        },
    )
    .await
    .unwrap();
    assert!(
        !p.security_snapshot()
            .service_access
            .contains("account.amazonaws.com")
    );
    let rename = org(
        p,
        OrganizationsCall::PutAccountName {
            account_id: &o.log,
            name: "logs",
        },
    )
    .await
    .unwrap_err();
    assert_eq!(rename.kind, ErrorKind::AccessDenied);
}

#[tokio::test]
async fn guardduty_and_security_hub_admins_come_from_the_management_account() {
    let o = org_world().await;
    let p = &o.p;
    for service in [AdminService::GuardDuty, AdminService::SecurityHub] {
        let principal = service.service_principal();
        let from_member = sec(
            p,
            &at(&o.tooling, REGION),
            S::EnableOrganizationAdminAccount {
                service,
                account_id: &o.tooling,
            },
        )
        .await
        .unwrap_err();
        assert!(
            matches!(from_member.kind, ErrorKind::Other(_)),
            "{from_member}"
        );
        let mgmt = at(&o.mgmt, REGION);
        sec(
            p,
            &mgmt,
            S::EnableOrganizationAdminAccount {
                service,
                account_id: &o.tooling,
            },
        )
        .await
        .unwrap();
        // Again, same account: accepted; another account: refused.
        sec(
            p,
            &mgmt,
            S::EnableOrganizationAdminAccount {
                service,
                account_id: &o.tooling,
            },
        )
        .await
        .unwrap();
        sec(
            p,
            &mgmt,
            S::EnableOrganizationAdminAccount {
                service,
                account_id: &o.log,
            },
        )
        .await
        .unwrap_err();
        let security = p.security_snapshot();
        assert!(security.service_access.contains(principal), "{principal}");
        assert_eq!(
            security.delegated_admins[principal],
            [o.tooling.clone()].into()
        );
        assert_eq!(
            security.organization_admins[principal][REGION],
            [o.tooling.clone()].into()
        );
        sec(
            p,
            &mgmt,
            S::DisableOrganizationAdminAccount {
                service,
                account_id: &o.tooling,
            },
        )
        .await
        .unwrap();
        let security = p.security_snapshot();
        assert!(!security.delegated_admins.contains_key(principal));
        assert!(!security.organization_admins.contains_key(principal));
    }
}

#[tokio::test]
async fn buckets_have_global_names_and_s3s_rules() {
    let o = org_world().await;
    let p = &o.p;
    let log = at(&o.log, REGION);
    for bad in [
        "ab",
        "Upper-case",
        "-leading",
        "trailing-",
        "two..dots",
        "192.168.5.4",
        "xn--punycode",
        "name-s3alias",
        "under_score",
    ] {
        let err = sec(
            p,
            &log,
            S::CreateBucket {
                bucket: bad,
                object_lock: false,
            },
        )
        .await
        .unwrap_err();
        assert_eq!(code(err), "InvalidBucketName", "{bad}");
    }
    sec(
        p,
        &log,
        S::CreateBucket {
            bucket: "logs-a",
            object_lock: false,
        },
    )
    .await
    .unwrap();
    let mine = sec(
        p,
        &log,
        S::CreateBucket {
            bucket: "logs-a",
            object_lock: false,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(code(mine), "BucketAlreadyOwnedByYou");
    let other = sec(
        p,
        &at(&o.tooling, REGION),
        S::CreateBucket {
            bucket: "logs-a",
            object_lock: false,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(code(other), "BucketAlreadyExists");
    // us-east-1 answers 200 to its owner, for legacy compatibility.
    let east = at(&o.log, "us-east-1");
    sec(
        p,
        &east,
        S::CreateBucket {
            bucket: "logs-east",
            object_lock: false,
        },
    )
    .await
    .unwrap();
    sec(
        p,
        &east,
        S::CreateBucket {
            bucket: "logs-east",
            object_lock: false,
        },
    )
    .await
    .unwrap();
    // Another account's bucket cannot be configured.
    let denied = sec(
        p,
        &at(&o.tooling, REGION),
        S::PutBucketVersioning { bucket: "logs-a" },
    )
    .await
    .unwrap_err();
    assert_eq!(denied.kind, ErrorKind::AccessDenied);
    let missing = sec(
        p,
        &log,
        S::PutBucketVersioning {
            bucket: "nope-nope",
        },
    )
    .await
    .unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound);

    // Object Lock needs versioning; a bucket created with it has versioning on.
    let lock = ObjectLock {
        mode: ObjectLockMode::Governance,
        days: 365,
    };
    let err = sec(
        p,
        &log,
        S::PutObjectLockConfiguration {
            bucket: "logs-a",
            object_lock: &lock,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(code(err), "InvalidBucketState");
    sec(
        p,
        &log,
        S::CreateBucket {
            bucket: "logs-locked",
            object_lock: true,
        },
    )
    .await
    .unwrap();
    sec(
        p,
        &log,
        S::PutObjectLockConfiguration {
            bucket: "logs-locked",
            object_lock: &lock,
        },
    )
    .await
    .unwrap();

    // Lifecycle: expiration after the transition.
    let backwards = Lifecycle {
        glacier_after_days: Some(90),
        expire_after_days: Some(30),
    };
    let err = sec(
        p,
        &log,
        S::PutBucketLifecycleConfiguration {
            bucket: "logs-a",
            lifecycle: &backwards,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(code(err), "InvalidArgument");
    let good = Lifecycle {
        glacier_after_days: Some(90),
        expire_after_days: Some(2555),
    };
    sec(
        p,
        &log,
        S::PutBucketLifecycleConfiguration {
            bucket: "logs-a",
            lifecycle: &good,
        },
    )
    .await
    .unwrap();
    let bad_policy = sec(
        p,
        &log,
        S::PutBucketPolicy {
            bucket: "logs-a",
            policy: "{",
        },
    )
    .await
    .unwrap_err();
    assert_eq!(code(bad_policy), "MalformedPolicy");
    let aws_tag = tags(&[("aws:x", "y")]);
    let err = sec(
        p,
        &log,
        S::PutBucketTagging {
            bucket: "logs-a",
            tags: &aws_tag,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(code(err), "InvalidTag");

    let live = p.security_snapshot();
    assert!(live.buckets["logs-locked"].versioning);
    assert_eq!(live.buckets["logs-locked"].object_lock, Some(lock));
    assert_eq!(live.buckets["logs-a"].lifecycle, Some(good));
    sec(p, &log, S::DeleteBucket { bucket: "logs-a" })
        .await
        .unwrap();
    let gone = sec(p, &log, S::DeleteBucket { bucket: "logs-a" })
        .await
        .unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn create_trail_checks_bucket_policy_key_access_and_caller() {
    let o = org_world().await;
    let p = &o.p;
    let mgmt = at(&o.mgmt, REGION);
    let arn = trail_arn(&o.mgmt);
    let good_key = key(p, &o.log, &key_policy(&o.log, &o.mgmt, true)).await;
    let bad_key = key(p, &o.log, &key_policy(&o.log, &o.mgmt, false)).await;
    let no_tags = Tags::new();

    let err = sec(p, &mgmt, S::CreateTrail(&request(&good_key, &no_tags)))
        .await
        .unwrap_err();
    assert_eq!(code(err), "CloudTrailAccessNotEnabledException");
    trusted(p, "cloudtrail.amazonaws.com").await;
    let err = sec(p, &mgmt, S::CreateTrail(&request(&good_key, &no_tags)))
        .await
        .unwrap_err();
    assert_eq!(code(err), "S3BucketDoesNotExistException");

    // A policy for another trail is not enough.
    bucket(&o, &trail_arn("111111111111")).await;
    let err = sec(p, &mgmt, S::CreateTrail(&request(&good_key, &no_tags)))
        .await
        .unwrap_err();
    assert_eq!(code(err), "InsufficientS3BucketPolicyException");
    sec(
        p,
        &at(&o.log, REGION),
        S::PutBucketPolicy {
            bucket: BUCKET,
            policy: &bucket_policy(BUCKET, &o.mgmt, &arn),
        },
    )
    .await
    .unwrap();
    let err = sec(p, &mgmt, S::CreateTrail(&request(&bad_key, &no_tags)))
        .await
        .unwrap_err();
    assert_eq!(code(err), "InsufficientEncryptionPolicyException");
    let missing_key = format!("arn:aws:kms:{REGION}:{}:key/none", o.log);
    let err = sec(p, &mgmt, S::CreateTrail(&request(&missing_key, &no_tags)))
        .await
        .unwrap_err();
    assert_eq!(code(err), "KmsKeyNotFoundException");

    // A member that is not CloudTrail's delegated administrator cannot make it.
    let tooling = at(&o.tooling, REGION);
    let err = sec(p, &tooling, S::CreateTrail(&request(&good_key, &no_tags)))
        .await
        .unwrap_err();
    assert_eq!(code(err), "NotOrganizationManagementAccountException");
    register(p, &o.tooling, "cloudtrail.amazonaws.com")
        .await
        .unwrap();
    let t = tags(&[("owner", "platform")]);
    let made = sec(p, &tooling, S::CreateTrail(&request(&good_key, &t)))
        .await
        .unwrap();
    assert_eq!(
        made.as_deref(),
        Some(arn.as_str()),
        "the management account's ARN"
    );
    let dup = sec(p, &mgmt, S::CreateTrail(&request(&good_key, &t)))
        .await
        .unwrap_err();
    assert_eq!(code(dup), "TrailAlreadyExistsException");

    let live = p.security_snapshot();
    let trail = &live.trails[&arn];
    assert!(!trail.logging, "a new trail does not log");
    assert!(trail.organization && trail.multi_region && trail.log_file_validation);
    assert_eq!(trail.tags, t);

    // Logging delivers into the bucket, which then cannot be deleted.
    let elsewhere = sec(
        p,
        &at(&o.tooling, "us-east-1"),
        S::StartLogging { trail_arn: &arn },
    )
    .await
    .unwrap_err();
    assert_eq!(code(elsewhere), "InvalidHomeRegionException");
    sec(p, &tooling, S::StartLogging { trail_arn: &arn })
        .await
        .unwrap();
    assert!(p.security_snapshot().trails[&arn].logging);
    let err = sec(p, &at(&o.log, REGION), S::DeleteBucket { bucket: BUCKET })
        .await
        .unwrap_err();
    assert_eq!(code(err), "BucketNotEmpty");

    // Another account sees nothing to manage.
    let err = sec(p, &at(&o.log, REGION), S::DeleteTrail { trail_arn: &arn })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    sec(
        p,
        &mgmt,
        S::AddTags {
            trail_arn: &arn,
            tags: &tags(&[("a", "b")]),
        },
    )
    .await
    .unwrap();
    let mut update = request(&good_key, &no_tags);
    update.log_file_validation = false;
    sec(p, &mgmt, S::UpdateTrail(&update)).await.unwrap();
    let live = p.security_snapshot();
    assert!(!live.trails[&arn].log_file_validation);
    assert_eq!(live.trails[&arn].tags.len(), 2, "UpdateTrail keeps tags");
    sec(p, &mgmt, S::DeleteTrail { trail_arn: &arn })
        .await
        .unwrap();
    let gone = sec(p, &mgmt, S::DeleteTrail { trail_arn: &arn })
        .await
        .unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn five_trails_per_region() {
    let o = org_world().await;
    let p = &o.p;
    let log = at(&o.log, REGION);
    let k = key(p, &o.log, &key_policy(&o.log, &o.log, true)).await;
    sec(
        p,
        &log,
        S::CreateBucket {
            bucket: BUCKET,
            object_lock: false,
        },
    )
    .await
    .unwrap();
    // One policy admitting any trail of the log archive.
    let policy = bucket_policy(
        BUCKET,
        &o.log,
        &format!("arn:aws:cloudtrail:{REGION}:{}:trail/trail-*", o.log),
    )
    .replace("StringEquals", "StringLike");
    sec(
        p,
        &log,
        S::PutBucketPolicy {
            bucket: BUCKET,
            policy: &policy,
        },
    )
    .await
    .unwrap();
    let no_tags = Tags::new();
    let names = [
        "trail-1", "trail-2", "trail-3", "trail-4", "trail-5", "trail-6",
    ];
    for (i, name) in names.iter().enumerate() {
        let r = TrailRequest {
            name,
            organization: false,
            multi_region: false,
            ..request(&k, &no_tags)
        };
        let result = sec(p, &log, S::CreateTrail(&r)).await;
        if i < 5 {
            result.unwrap();
        } else {
            assert_eq!(
                code(result.unwrap_err()),
                "MaximumNumberOfTrailsExceededException"
            );
        }
    }
    let bad_name = TrailRequest {
        name: "bad..name",
        organization: false,
        ..request(&k, &no_tags)
    };
    let err = sec(p, &log, S::CreateTrail(&bad_name)).await.unwrap_err();
    assert_eq!(code(err), "InvalidTrailNameException");
}

async fn put_aggregator(
    p: &SimBackend,
    scope: &MemberScope,
    role_arn: &str,
) -> ProviderResult<Option<String>> {
    let no_tags = Tags::new();
    sec(
        p,
        scope,
        S::PutConfigurationAggregator {
            name: "organization",
            role_arn,
            tags: &no_tags,
        },
    )
    .await
}

#[tokio::test]
async fn config_aggregators_need_their_role_and_a_delegated_admin() {
    let o = org_world().await;
    let p = &o.p;
    let tooling = at(&o.tooling, REGION);
    let role_arn = format!("arn:aws:iam::{}:role/landfall-config-aggregator", o.tooling);
    let err = put_aggregator(p, &tooling, &role_arn).await.unwrap_err();
    assert_eq!(code(err), "OrganizationAccessDeniedException");
    trusted(p, "config.amazonaws.com").await;
    register(p, &o.tooling, "config.amazonaws.com")
        .await
        .unwrap();
    let err = put_aggregator(p, &tooling, &role_arn).await.unwrap_err();
    assert_eq!(code(err), "InvalidRoleException");

    let made = sec(
        p,
        &tooling,
        S::CreateRole {
            role_name: "landfall-config-aggregator",
            trusted_service: "config.amazonaws.com",
        },
    )
    .await
    .unwrap();
    assert_eq!(made.as_deref(), Some(role_arn.as_str()));
    let dup = sec(
        p,
        &tooling,
        S::CreateRole {
            role_name: "landfall-config-aggregator",
            trusted_service: "config.amazonaws.com",
        },
    )
    .await
    .unwrap_err();
    assert_eq!(code(dup), "EntityAlreadyExists");
    let policy = "arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations";
    sec(
        p,
        &tooling,
        S::AttachRolePolicy {
            role_name: "landfall-config-aggregator",
            policy_arn: policy,
        },
    )
    .await
    .unwrap();
    let arn = put_aggregator(p, &tooling, &role_arn)
        .await
        .unwrap()
        .unwrap();
    assert!(arn.starts_with(&format!(
        "arn:aws:config:{REGION}:{}:config-aggregator/",
        o.tooling
    )));
    assert_eq!(
        put_aggregator(p, &tooling, &role_arn)
            .await
            .unwrap()
            .unwrap(),
        arn,
        "idempotent"
    );

    let scope = SecurityScope {
        aggregators: [(
            o.tooling.clone(),
            REGION.to_string(),
            "landfall-config-aggregator".to_string(),
        )]
        .into(),
        ..SecurityScope::default()
    };
    let live = p.refresh_security(&scope).await.unwrap();
    let a = &live.aggregators["organization"];
    assert!(a.role_exists && a.all_regions);
    assert_eq!(a.organization_role_arn.as_deref(), Some(role_arn.as_str()));

    let conflict = sec(
        p,
        &tooling,
        S::DeleteRole {
            role_name: "landfall-config-aggregator",
        },
    )
    .await
    .unwrap_err();
    assert_eq!(code(conflict), "DeleteConflict");
    sec(
        p,
        &tooling,
        S::DetachRolePolicy {
            role_name: "landfall-config-aggregator",
            policy_arn: policy,
        },
    )
    .await
    .unwrap();
    sec(
        p,
        &tooling,
        S::DeleteRole {
            role_name: "landfall-config-aggregator",
        },
    )
    .await
    .unwrap();
    let live = p.refresh_security(&scope).await.unwrap();
    assert!(!live.aggregators["organization"].role_exists);
    sec(
        p,
        &tooling,
        S::DeleteConfigurationAggregator {
            name: "organization",
        },
    )
    .await
    .unwrap();
    let gone = sec(
        p,
        &tooling,
        S::DeleteConfigurationAggregator {
            name: "organization",
        },
    )
    .await
    .unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn organization_analyzers_need_trusted_access_and_the_right_account() {
    let o = org_world().await;
    let p = &o.p;
    let tooling = at(&o.tooling, REGION);
    let create = |scope: MemberScope, name: &'static str| async move {
        sec(
            p,
            &scope,
            S::CreateAnalyzer {
                name,
                tags: &Tags::new(),
            },
        )
        .await
    };
    let err = create(tooling.clone(), "organization").await.unwrap_err();
    assert_eq!(code(err), "ValidationException");
    trusted(p, "access-analyzer.amazonaws.com").await;
    let err = create(tooling.clone(), "organization").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDenied);
    register(p, &o.tooling, "access-analyzer.amazonaws.com")
        .await
        .unwrap();
    let arn = create(tooling.clone(), "organization")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        arn,
        format!(
            "arn:aws:access-analyzer:{REGION}:{}:analyzer/organization",
            o.tooling
        )
    );
    let dup = create(tooling.clone(), "organization").await.unwrap_err();
    assert_eq!(code(dup), "ConflictException");
    // The management account may make one too, in its own account.
    create(at(&o.mgmt, REGION), "org-mgmt").await.unwrap();
    let live = p
        .refresh_security(&SecurityScope {
            analyzers: [(o.tooling.clone(), REGION.to_string())].into(),
            ..SecurityScope::default()
        })
        .await
        .unwrap();
    assert_eq!(live.analyzers.len(), 1);
    assert_eq!(live.analyzers["organization"].analyzer_type, "ORGANIZATION");
    assert_eq!(live.analyzers["organization"].status, "ACTIVE");
    sec(
        p,
        &tooling,
        S::DeleteAnalyzer {
            name: "organization",
        },
    )
    .await
    .unwrap();
    let gone = sec(
        p,
        &tooling,
        S::DeleteAnalyzer {
            name: "organization",
        },
    )
    .await
    .unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn refresh_security_reads_what_the_scope_names_and_sees_out_of_band_changes() {
    let o = org_world().await;
    let p = &o.p;
    let arn = trail_arn(&o.mgmt);
    let k = key(p, &o.log, &key_policy(&o.log, &o.mgmt, true)).await;
    trusted(p, "cloudtrail.amazonaws.com").await;
    bucket(&o, &arn).await;
    let log = at(&o.log, REGION);
    sec(p, &log, S::PutBucketVersioning { bucket: BUCKET })
        .await
        .unwrap();
    sec(
        p,
        &log,
        S::PutBucketEncryption {
            bucket: BUCKET,
            kms_key_arn: &k,
        },
    )
    .await
    .unwrap();
    sec(p, &log, S::PutPublicAccessBlock { bucket: BUCKET })
        .await
        .unwrap();
    sec(
        p,
        &log,
        S::PutBucketTagging {
            bucket: BUCKET,
            tags: &tags(&[("purpose", "logs")]),
        },
    )
    .await
    .unwrap();
    let mgmt = at(&o.mgmt, REGION);
    let no_tags = Tags::new();
    sec(p, &mgmt, S::CreateTrail(&request(&k, &no_tags)))
        .await
        .unwrap();
    sec(p, &mgmt, S::StartLogging { trail_arn: &arn })
        .await
        .unwrap();
    sec(
        p,
        &mgmt,
        S::EnableOrganizationAdminAccount {
            service: AdminService::GuardDuty,
            account_id: &o.tooling,
        },
    )
    .await
    .unwrap();

    let scope = SecurityScope {
        organization_admins: [
            ("guardduty.amazonaws.com".to_string(), REGION.to_string()),
            ("securityhub.amazonaws.com".to_string(), REGION.to_string()),
        ]
        .into(),
        trails: [
            (o.mgmt.clone(), REGION.to_string()),
            (o.log.clone(), REGION.to_string()),
        ]
        .into(),
        buckets: [
            (o.log.clone(), REGION.to_string(), BUCKET.to_string()),
            (
                o.log.clone(),
                REGION.to_string(),
                "not-made-yet".to_string(),
            ),
        ]
        .into(),
        ..SecurityScope::default()
    };
    let live = p.refresh_security(&scope).await.unwrap();
    assert!(live.read);
    assert!(live.service_access.contains("cloudtrail.amazonaws.com"));
    assert!(live.service_access.contains("guardduty.amazonaws.com"));
    assert_eq!(
        live.delegated_admins["guardduty.amazonaws.com"],
        [o.tooling.clone()].into()
    );
    assert_eq!(
        live.organization_admins["guardduty.amazonaws.com"][REGION],
        [o.tooling.clone()].into()
    );
    assert!(live.organization_admins["securityhub.amazonaws.com"][REGION].is_empty());
    assert_eq!(live.trails.len(), 1, "the log archive manages no trail");
    let trail = &live.trails[&arn];
    assert!(trail.logging);
    assert_eq!(trail.kms_key_id.as_deref(), Some(k.as_str()));
    assert_eq!(trail.s3_bucket_name, BUCKET);
    let b = &live.buckets[BUCKET];
    assert!(b.versioning && b.public_access_blocked && !b.object_lock_enabled);
    assert_eq!(b.kms_key.as_deref(), Some(k.as_str()));
    assert_eq!(b.policy, Some(bucket_policy(BUCKET, &o.mgmt, &arn)));
    assert_eq!(b.tags, tags(&[("purpose", "logs")]));
    assert!(!live.buckets.contains_key("not-made-yet"));
    assert_eq!(
        live,
        p.refresh_security(&scope).await.unwrap(),
        "reads are stable"
    );

    // Out of band: logging stopped, the policy loosened, the trail deleted.
    assert_eq!(p.stop_logging(TRAIL).await.unwrap(), arn);
    let loose = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#;
    p.replace_bucket_policy(BUCKET, Some(loose)).await.unwrap();
    let live = p.refresh_security(&scope).await.unwrap();
    assert!(!live.trails[&arn].logging);
    assert_eq!(live.buckets[BUCKET].policy.as_deref(), Some(loose));
    p.remove_trail(&arn).await.unwrap();
    assert!(p.refresh_security(&scope).await.unwrap().trails.is_empty());
    p.replace_bucket_policy(BUCKET, None).await.unwrap();
    assert_eq!(
        p.refresh_security(&scope).await.unwrap().buckets[BUCKET].policy,
        None
    );

    // A closed account cannot be read (its role cannot be assumed).
    p.close_account(&o.log).await.unwrap();
    let err = p.refresh_security(&scope).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDenied);
    let err = sec(p, &log, S::PutBucketVersioning { bucket: BUCKET })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDenied);
}

#[tokio::test]
async fn a_world_file_keeps_the_security_services() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("world.json");
    let log_id;
    {
        let p = SimBackend::open(&path, SimSettings::default(), Quotas::default()).unwrap();
        log_id = new_account(&p, "log-archive").await;
        trusted(&p, "config.amazonaws.com").await;
        sec(
            &p,
            &at(&log_id, REGION),
            S::CreateBucket {
                bucket: BUCKET,
                object_lock: true,
            },
        )
        .await
        .unwrap();
    }
    let p = SimBackend::open(&path, SimSettings::default(), Quotas::default()).unwrap();
    let live = p.security_snapshot();
    assert!(live.service_access.contains("config.amazonaws.com"));
    assert!(live.buckets[BUCKET].object_lock_enabled);
    assert_eq!(live.buckets[BUCKET].account_id, log_id);
}

#[tokio::test(start_paused = true)]
async fn under_the_aws_model_config_waits_for_a_new_role() {
    let p = SimBackend::in_memory_aws(SimSettings::default(), Quotas::default());
    let mgmt = p.snapshot().management_account_id;
    let scope = at(&mgmt, REGION);
    let role_arn = sec(
        &p,
        &scope,
        S::CreateRole {
            role_name: "aggregator",
            trusted_service: "config.amazonaws.com",
        },
    )
    .await
    .unwrap()
    .unwrap();
    let err = put_aggregator(&p, &scope, &role_arn).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotYetPropagated);
    assert!(err.kind.is_retryable());
    tokio::time::sleep(Duration::from_secs(30)).await;
    put_aggregator(&p, &scope, &role_arn).await.unwrap();
    // From the management account, Config enables its own trusted access.
    assert!(
        p.security_snapshot()
            .service_access
            .contains("config.amazonaws.com")
    );
}
