//! Issue 17 on moto: the other organization policy types, trusted access and
//! delegated administrators, the log bucket's configuration, the organization trail,
//! the Config aggregator and its role, and GuardDuty's admin account — each made
//! through the backend's calls and read back through `refresh_security` (and, where
//! it says something the refresh does not, the testkit's plain SDK calls).

use std::collections::{BTreeMap, BTreeSet};

use landfall_core::PolicyType;
use landfall_core::live::{LiveSecurity, SecurityScope};
use landfall_core::model::{Lifecycle, ObjectLock, ObjectLockMode};
use landfall_engine::call::{AdminService, Call, OrganizationsCall, SecurityCall, TrailRequest};
use landfall_engine::provider::ProviderError;

use super::*;

async fn org(
    aws: &AwsBackend,
    call: OrganizationsCall<'_>,
) -> Result<Option<String>, ProviderError> {
    aws.execute(&Call::Organizations(call)).await.map(|r| r.id)
}

async fn sec(
    aws: &AwsBackend,
    scope: &MemberScope,
    call: SecurityCall<'_>,
) -> Result<Option<String>, ProviderError> {
    aws.execute(&Call::Security(scope, call))
        .await
        .map(|r| r.id)
}

async fn security(aws: &AwsBackend, scope: &SecurityScope) -> LiveSecurity {
    aws.refresh_security(scope).await.unwrap()
}

fn in_member(member: &str) -> MemberScope {
    MemberScope {
        account_id: member.to_string(),
        region: REGION.into(),
    }
}

const TAG_POLICY: &str = r#"{"tags":{"cost-center":{"tag_key":{"@@assign":"cost-center"},"tag_value":{"@@assign":["ml","platform"]}}}}"#;
const AI_OPT_OUT: &str = r#"{"services":{"default":{"opt_out_policy":{"@@assign":"optOut"}}}}"#;
const RCP: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"TLS","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"BoolIfExists":{"aws:SecureTransport":"false"}}}]}"#;

#[tokio::test]
async fn policy_types_trusted_access_and_delegated_admins() {
    let _moto = MOTO.lock().await;
    let url = moto_url();
    reset_moto(&url);
    let aws = backend(&url).await;
    let member = organization_with_member(&aws).await;
    let management = aws.caller().await.unwrap().account.clone();

    // ---- policy types on the root ----
    let root = aws.organization_root().await.unwrap();
    assert_eq!(
        root.enabled_policy_types,
        BTreeSet::from([PolicyType::ServiceControlPolicy])
    );
    for policy_type in [
        PolicyType::TagPolicy,
        PolicyType::ResourceControlPolicy,
        PolicyType::AiservicesOptOutPolicy,
    ] {
        org(
            &aws,
            OrganizationsCall::EnablePolicyType {
                root_id: &root.root_id,
                policy_type,
            },
        )
        .await
        .unwrap();
    }
    assert_eq!(
        aws.organization_root().await.unwrap().enabled_policy_types,
        BTreeSet::from(PolicyType::ALL)
    );
    // Enabling again: the code the executor counts as already done.
    let err = org(
        &aws,
        OrganizationsCall::EnablePolicyType {
            root_id: &root.root_id,
            policy_type: PolicyType::TagPolicy,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.kind.code(),
        "PolicyTypeAlreadyEnabledException",
        "{err}"
    );

    // ---- policies of each type, with the type filter ----
    let mut ids = BTreeMap::new();
    for (policy_type, name, content) in [
        (PolicyType::TagPolicy, "cost-tags", TAG_POLICY),
        (PolicyType::ResourceControlPolicy, "data-perimeter", RCP),
        (PolicyType::AiservicesOptOutPolicy, "ai-opt-out", AI_OPT_OUT),
    ] {
        let id = org(
            &aws,
            OrganizationsCall::CreatePolicy {
                policy_type,
                name,
                description: "issue 17",
                content,
                tags: &tags(&format!("x.{name}")),
            },
        )
        .await
        .unwrap()
        .unwrap();
        org(
            &aws,
            OrganizationsCall::AttachPolicy {
                policy_id: &id,
                target_id: &root.root_id,
            },
        )
        .await
        .unwrap();
        ids.insert(policy_type, (id, name));
    }
    for policy_type in PolicyType::ALL {
        let page = aws.policies(policy_type, None).await.unwrap();
        // moto, like AWS, attaches the AWS-managed RCPFullAWSAccess once RCPs are on.
        let managed: BTreeSet<&str> = page
            .items
            .iter()
            .filter(|p| p.aws_managed)
            .map(|p| p.name.as_str())
            .collect();
        let names: BTreeSet<&str> = page
            .items
            .iter()
            .filter(|p| !p.aws_managed)
            .map(|p| p.name.as_str())
            .collect();
        match policy_type {
            PolicyType::ServiceControlPolicy => {
                assert_eq!(managed, BTreeSet::from(["FullAWSAccess"]))
            }
            PolicyType::ResourceControlPolicy => {
                assert_eq!(managed, BTreeSet::from(["RCPFullAWSAccess"]))
            }
            PolicyType::TagPolicy | PolicyType::AiservicesOptOutPolicy => {
                assert!(managed.is_empty(), "{managed:?}")
            }
        }
        match ids.get(&policy_type) {
            Some((id, name)) => {
                assert_eq!(names, BTreeSet::from([*name]), "{policy_type}");
                assert!(page.items.iter().any(|p| p.id == *id));
                assert_eq!(
                    aws.targets_for_policy(id, None).await.unwrap().items,
                    vec![root.root_id.clone()]
                );
            }
            // SCPs: none of the new types.
            None => assert!(names.is_empty(), "{policy_type}: {names:?}"),
        }
    }
    let (tag_id, _) = &ids[&PolicyType::TagPolicy];
    assert_eq!(aws.policy_content(tag_id).await.unwrap(), TAG_POLICY);
    // Out of band, as with boto3: the content edited, the attachment removed.
    let console = Console::connect(&url).await;
    console
        .update_org_policy_content("TAG_POLICY", "cost-tags", AI_OPT_OUT)
        .await
        .unwrap();
    assert_eq!(aws.policy_content(tag_id).await.unwrap(), AI_OPT_OUT);
    console
        .detach_org_policy("TAG_POLICY", "cost-tags", "root")
        .await
        .unwrap();
    assert!(
        aws.targets_for_policy(tag_id, None)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let (_, attachments) = console
        .org_policies("RESOURCE_CONTROL_POLICY")
        .await
        .unwrap();
    // RCPFullAWSAccess is on the root and every account (moto attaches it as AWS
    // does); the declared RCP on the root only.
    let on = |policy: &str| -> BTreeSet<String> {
        attachments
            .iter()
            .filter(|(p, _)| p == policy)
            .map(|(_, t)| t.clone())
            .collect()
    };
    assert_eq!(on("data-perimeter"), BTreeSet::from(["root".to_string()]));
    assert!(
        on("RCPFullAWSAccess")
            .is_superset(&BTreeSet::from(["root".to_string(), "ml-dev".to_string()]))
    );

    // Disabling a type, twice: the second is the code the executor counts as done.
    for expected in [None, Some("PolicyTypeNotEnabledException")] {
        let r = org(
            &aws,
            OrganizationsCall::DisablePolicyType {
                root_id: &root.root_id,
                policy_type: PolicyType::AiservicesOptOutPolicy,
            },
        )
        .await;
        assert_eq!(r.err().map(|e| e.kind.code()).as_deref(), expected);
    }
    console.disable_policy_type("TAG_POLICY").await.unwrap();
    assert_eq!(
        aws.organization_root().await.unwrap().enabled_policy_types,
        BTreeSet::from([
            PolicyType::ServiceControlPolicy,
            PolicyType::ResourceControlPolicy
        ])
    );

    // ---- trusted access and delegated administrators ----
    let principals = [
        "cloudtrail.amazonaws.com",
        "guardduty.amazonaws.com",
        "access-analyzer.amazonaws.com",
        "config-multiaccountsetup.amazonaws.com",
    ];
    for service_principal in principals {
        // Twice: enabling what is enabled succeeds.
        for _ in 0..2 {
            org(
                &aws,
                OrganizationsCall::EnableAwsServiceAccess { service_principal },
            )
            .await
            .unwrap();
        }
    }
    // moto accepts a delegated administrator for some services only.
    let delegated = [
        "guardduty.amazonaws.com",
        "access-analyzer.amazonaws.com",
        "config-multiaccountsetup.amazonaws.com",
    ];
    for service_principal in delegated {
        org(
            &aws,
            OrganizationsCall::RegisterDelegatedAdministrator {
                account_id: &member,
                service_principal,
            },
        )
        .await
        .unwrap();
    }
    let err = org(
        &aws,
        OrganizationsCall::RegisterDelegatedAdministrator {
            account_id: &member,
            service_principal: "guardduty.amazonaws.com",
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.kind.code(),
        "AccountAlreadyRegisteredException",
        "{err}"
    );
    let err = org(
        &aws,
        OrganizationsCall::RegisterDelegatedAdministrator {
            account_id: &management,
            service_principal: "guardduty.amazonaws.com",
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::ConstraintViolation(_)),
        "{err}"
    );
    let live = security(&aws, &SecurityScope::default()).await;
    assert!(live.read);
    assert_eq!(
        live.service_access,
        principals.iter().map(|p| p.to_string()).collect()
    );
    assert_eq!(
        live.delegated_admins,
        delegated
            .iter()
            .map(|p| (p.to_string(), BTreeSet::from([member.clone()])))
            .collect()
    );

    org(
        &aws,
        OrganizationsCall::DeregisterDelegatedAdministrator {
            account_id: &member,
            service_principal: "access-analyzer.amazonaws.com",
        },
    )
    .await
    .unwrap();
    org(
        &aws,
        OrganizationsCall::DisableAwsServiceAccess {
            service_principal: "cloudtrail.amazonaws.com",
        },
    )
    .await
    .unwrap();
    let live = security(&aws, &SecurityScope::default()).await;
    assert!(!live.service_access.contains("cloudtrail.amazonaws.com"));
    assert!(
        !live
            .delegated_admins
            .contains_key("access-analyzer.amazonaws.com")
    );
    assert_eq!(live.delegated_admins.len(), 2);
}

fn bucket_scope(account: &str, region: &str, buckets: &[&str]) -> SecurityScope {
    SecurityScope {
        buckets: buckets
            .iter()
            .map(|b| (account.to_string(), region.to_string(), b.to_string()))
            .collect(),
        ..SecurityScope::default()
    }
}

#[tokio::test]
async fn the_log_bucket_is_configured_and_read_back() {
    let _moto = MOTO.lock().await;
    let url = moto_url();
    reset_moto(&url);
    let aws = backend(&url).await;
    let member = organization_with_member(&aws).await;
    let scope = in_member(&member);
    let bucket = "landfall-org-trail-logs";
    let key = format!("arn:aws:kms:{REGION}:{member}:key/1234abcd-12ab-34cd-56ef-1234567890ab");
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "CloudTrailAclCheck",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:GetBucketAcl",
            "Resource": format!("arn:aws:s3:::{bucket}")
        }]
    })
    .to_string();
    let lifecycle = Lifecycle {
        glacier_after_days: Some(90),
        expire_after_days: Some(2555),
    };
    let lock = ObjectLock {
        mode: ObjectLockMode::Governance,
        days: 365,
    };
    let bucket_tags = tags("bucket.org-trail");

    let created = sec(
        &aws,
        &scope,
        SecurityCall::CreateBucket {
            bucket,
            object_lock: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(created.as_deref(), Some(bucket));
    // Created again by the same account: the code the executor counts as done.
    let err = sec(
        &aws,
        &scope,
        SecurityCall::CreateBucket {
            bucket,
            object_lock: true,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind.code(), "BucketAlreadyOwnedByYou", "{err}");

    // Just created: versioned (Object Lock turns it on), nothing else.
    let live = security(
        &aws,
        &bucket_scope(&member, REGION, &[bucket, "absent-bucket"]),
    )
    .await;
    assert!(!live.buckets.contains_key("absent-bucket"));
    let b = &live.buckets[bucket];
    assert_eq!(
        (b.account_id.as_str(), b.region.as_str()),
        (member.as_str(), REGION)
    );
    assert_eq!(b.policy, None);
    assert_eq!(b.lifecycle, None);
    assert_eq!(b.object_lock, None);
    assert!(b.object_lock_enabled);

    for call in [
        SecurityCall::PutBucketVersioning { bucket },
        SecurityCall::PutBucketEncryption {
            bucket,
            kms_key_arn: &key,
        },
        SecurityCall::PutPublicAccessBlock { bucket },
        SecurityCall::PutBucketPolicy {
            bucket,
            policy: &policy,
        },
        SecurityCall::PutObjectLockConfiguration {
            bucket,
            object_lock: &lock,
        },
        SecurityCall::PutBucketLifecycleConfiguration {
            bucket,
            lifecycle: &lifecycle,
        },
        SecurityCall::PutBucketTagging {
            bucket,
            tags: &bucket_tags,
        },
    ] {
        sec(&aws, &scope, call).await.unwrap();
    }
    let live = security(&aws, &bucket_scope(&member, REGION, &[bucket])).await;
    let b = &live.buckets[bucket];
    assert!(b.versioning);
    assert_eq!(b.kms_key.as_deref(), Some(key.as_str()));
    assert!(b.public_access_blocked);
    assert_eq!(json_of(b.policy.as_deref().unwrap()), json_of(&policy));
    assert_eq!(b.object_lock, Some(lock.clone()));
    assert_eq!(b.lifecycle, Some(lifecycle.clone()));
    assert_eq!(b.tags, bucket_tags);
    // The console sees the same configuration.
    let console = Console::connect(&url).await;
    assert_eq!(
        json_of(
            &Box::pin(console.bucket_policy(&member, REGION, bucket))
                .await
                .unwrap()
                .unwrap()
        ),
        json_of(&policy)
    );

    // A policy loosened out of band is read as it is now.
    let loose = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": format!("arn:aws:s3:::{bucket}/*")}]
    })
    .to_string();
    Box::pin(console.put_bucket_policy(&member, REGION, bucket, &loose))
        .await
        .unwrap();
    let live = security(&aws, &bucket_scope(&member, REGION, &[bucket])).await;
    assert_eq!(
        json_of(live.buckets[bucket].policy.as_deref().unwrap()),
        json_of(&loose)
    );

    // Lifecycle removed, tags emptied.
    sec(&aws, &scope, SecurityCall::DeleteBucketLifecycle { bucket })
        .await
        .unwrap();
    sec(
        &aws,
        &scope,
        SecurityCall::PutBucketTagging {
            bucket,
            tags: &Tags::new(),
        },
    )
    .await
    .unwrap();
    let live = security(&aws, &bucket_scope(&member, REGION, &[bucket])).await;
    assert_eq!(live.buckets[bucket].lifecycle, None);
    assert!(live.buckets[bucket].tags.is_empty());

    sec(&aws, &scope, SecurityCall::DeleteBucket { bucket })
        .await
        .unwrap();
    let live = security(&aws, &bucket_scope(&member, REGION, &[bucket])).await;
    assert!(live.buckets.is_empty());
    let err = sec(&aws, &scope, SecurityCall::DeleteBucket { bucket })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");

    // In us-east-1 (no location constraint), in the management account, without
    // Object Lock: read as not enabled, no encryption key, nothing blocked.
    let management = aws.caller().await.unwrap().account.clone();
    let home = MemberScope {
        account_id: management.clone(),
        region: "us-east-1".into(),
    };
    sec(
        &aws,
        &home,
        SecurityCall::CreateBucket {
            bucket: "landfall-plain",
            object_lock: false,
        },
    )
    .await
    .unwrap();
    let live = security(
        &aws,
        &bucket_scope(&management, "us-east-1", &["landfall-plain"]),
    )
    .await;
    let b = &live.buckets["landfall-plain"];
    assert!(!b.object_lock_enabled);
    assert_eq!(b.object_lock, None);
    assert!(!b.versioning);
    assert_eq!(b.kms_key, None);
    assert!(!b.public_access_blocked);
}

#[tokio::test]
async fn the_organization_trail_is_created_logged_stopped_and_deleted() {
    let _moto = MOTO.lock().await;
    let url = moto_url();
    reset_moto(&url);
    let aws = backend(&url).await;
    aws.create_organization().await.unwrap();
    aws.identity().await.unwrap();
    let management = aws.caller().await.unwrap().account.clone();
    let scope = MemberScope {
        account_id: management.clone(),
        region: REGION.into(),
    };
    let bucket = "landfall-org-trail-111";
    sec(
        &aws,
        &scope,
        SecurityCall::CreateBucket {
            bucket,
            object_lock: false,
        },
    )
    .await
    .unwrap();
    let key = format!("arn:aws:kms:{REGION}:{management}:key/abcd");
    let trail_tags = tags("trail.org-trail");
    let request = TrailRequest {
        name: "org-trail",
        s3_bucket_name: bucket,
        s3_key_prefix: Some("org"),
        kms_key_arn: &key,
        multi_region: true,
        organization: true,
        log_file_validation: true,
        tags: &trail_tags,
    };
    let arn = sec(&aws, &scope, SecurityCall::CreateTrail(&request))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        arn,
        format!("arn:aws:cloudtrail:{REGION}:{management}:trail/org-trail")
    );
    let trail_scope = SecurityScope {
        trails: BTreeSet::from([(management.clone(), REGION.to_string())]),
        ..SecurityScope::default()
    };
    let live = security(&aws, &trail_scope).await;
    let t = &live.trails[&arn];
    assert_eq!(t.name, "org-trail");
    assert_eq!(t.home_region, REGION);
    assert_eq!(t.s3_bucket_name, bucket);
    assert_eq!(t.s3_key_prefix.as_deref(), Some("org"));
    assert_eq!(t.kms_key_id.as_deref(), Some(key.as_str()));
    assert!(t.multi_region && t.organization && t.log_file_validation);
    // A new trail does not log until StartLogging.
    assert!(!t.logging);
    assert_eq!(t.tags, trail_tags);

    sec(&aws, &scope, SecurityCall::StartLogging { trail_arn: &arn })
        .await
        .unwrap();
    assert!(security(&aws, &trail_scope).await.trails[&arn].logging);
    // Stopped out of band: read as not logging.
    let console = Console::connect(&url).await;
    console
        .stop_logging(&management, REGION, "org-trail")
        .await
        .unwrap();
    assert!(!security(&aws, &trail_scope).await.trails[&arn].logging);
    assert!(!console.trails(&management, REGION).await.unwrap()["org-trail"].logging);

    let more = Tags::from([("cost-center".to_string(), "platform".to_string())]);
    sec(
        &aws,
        &scope,
        SecurityCall::AddTags {
            trail_arn: &arn,
            tags: &more,
        },
    )
    .await
    .unwrap();
    let update = TrailRequest {
        s3_key_prefix: None,
        log_file_validation: false,
        ..request
    };
    sec(&aws, &scope, SecurityCall::UpdateTrail(&update))
        .await
        .unwrap();
    let live = security(&aws, &trail_scope).await;
    let t = &live.trails[&arn];
    assert_eq!(t.s3_key_prefix, None);
    assert!(!t.log_file_validation);
    assert_eq!(t.tags["cost-center"], "platform");
    assert_eq!(t.tags[ADDRESS_TAG], "trail.org-trail");
    // Another region of the same account has no trail of its own (the multi-region
    // trail's copies there are shadows).
    let elsewhere = SecurityScope {
        trails: BTreeSet::from([(management.clone(), "us-east-1".to_string())]),
        ..SecurityScope::default()
    };
    assert!(security(&aws, &elsewhere).await.trails.is_empty());

    sec(&aws, &scope, SecurityCall::DeleteTrail { trail_arn: &arn })
        .await
        .unwrap();
    assert!(security(&aws, &trail_scope).await.trails.is_empty());
    assert!(
        console
            .trails(&management, REGION)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_config_aggregator_its_role_and_guardduty_admin() {
    let _moto = MOTO.lock().await;
    let url = moto_url();
    reset_moto(&url);
    let aws = backend(&url).await;
    let member = organization_with_member(&aws).await;
    let scope = in_member(&member);
    let role = "landfall-config-aggregator";
    // moto loads no AWS-managed policies by default: a customer-managed stand-in for
    // AWSConfigRoleForOrganizations.
    let managed = &Console::connect(&url)
        .await
        .create_iam_policy(
            &member,
            "config-organizations",
            &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Action": ["organizations:ListAccounts", "organizations:DescribeOrganization",
                           "organizations:ListAWSServiceAccessForOrganization"],
                "Resource": "*"}]})
            .to_string(),
        )
        .await
        .unwrap();

    let role_arn = sec(
        &aws,
        &scope,
        SecurityCall::CreateRole {
            role_name: role,
            trusted_service: "config.amazonaws.com",
        },
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(role_arn, format!("arn:aws:iam::{member}:role/{role}"));
    let err = sec(
        &aws,
        &scope,
        SecurityCall::CreateRole {
            role_name: role,
            trusted_service: "config.amazonaws.com",
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind.code(), "EntityAlreadyExists", "{err}");
    sec(
        &aws,
        &scope,
        SecurityCall::AttachRolePolicy {
            role_name: role,
            policy_arn: managed,
        },
    )
    .await
    .unwrap();
    let aggregator_tags = tags("config_aggregator.organization");
    let arn = sec(
        &aws,
        &scope,
        SecurityCall::PutConfigurationAggregator {
            name: "organization",
            role_arn: &role_arn,
            tags: &aggregator_tags,
        },
    )
    .await
    .unwrap()
    .unwrap();
    assert!(
        arn.starts_with(&format!(
            "arn:aws:config:{REGION}:{member}:config-aggregator/"
        )),
        "{arn}"
    );
    let aggregator_scope = SecurityScope {
        aggregators: BTreeSet::from([(member.clone(), REGION.to_string(), role.to_string())]),
        ..SecurityScope::default()
    };
    let live = security(&aws, &aggregator_scope).await;
    let a = &live.aggregators["organization"];
    assert_eq!(a.arn, arn);
    assert_eq!(a.organization_role_arn.as_deref(), Some(role_arn.as_str()));
    assert!(a.all_regions);
    assert!(a.role_exists);
    assert_eq!(
        (a.account_id.as_str(), a.region.as_str()),
        (member.as_str(), REGION)
    );

    sec(
        &aws,
        &scope,
        SecurityCall::DeleteConfigurationAggregator {
            name: "organization",
        },
    )
    .await
    .unwrap();
    sec(
        &aws,
        &scope,
        SecurityCall::DetachRolePolicy {
            role_name: role,
            policy_arn: managed,
        },
    )
    .await
    .unwrap();
    sec(&aws, &scope, SecurityCall::DeleteRole { role_name: role })
        .await
        .unwrap();
    let err = sec(&aws, &scope, SecurityCall::DeleteRole { role_name: role })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
    let live = security(&aws, &aggregator_scope).await;
    assert!(live.aggregators.is_empty());
    // The role is read on its own: gone.
    sec(
        &aws,
        &scope,
        SecurityCall::PutConfigurationAggregator {
            name: "organization",
            role_arn: &role_arn,
            tags: &Tags::new(),
        },
    )
    .await
    .unwrap();
    let live = security(&aws, &aggregator_scope).await;
    assert!(!live.aggregators["organization"].role_exists);

    // ---- GuardDuty's own admin call, from the management account ----
    let management = aws.caller().await.unwrap().account.clone();
    let home = MemberScope {
        account_id: management,
        region: REGION.into(),
    };
    sec(
        &aws,
        &home,
        SecurityCall::EnableOrganizationAdminAccount {
            service: AdminService::GuardDuty,
            account_id: &member,
        },
    )
    .await
    .unwrap();
    let admins_scope = SecurityScope {
        organization_admins: BTreeSet::from([(
            "guardduty.amazonaws.com".to_string(),
            REGION.to_string(),
        )]),
        ..SecurityScope::default()
    };
    let live = security(&aws, &admins_scope).await;
    assert_eq!(
        live.organization_admins["guardduty.amazonaws.com"][REGION],
        BTreeSet::from([member.clone()])
    );
    // Another region has its own (none).
    let other = SecurityScope {
        organization_admins: BTreeSet::from([(
            "guardduty.amazonaws.com".to_string(),
            "us-east-1".to_string(),
        )]),
        ..SecurityScope::default()
    };
    assert!(
        security(&aws, &other).await.organization_admins["guardduty.amazonaws.com"]["us-east-1"]
            .is_empty()
    );
    // Security Hub records its admin, but moto 5.2.5 has no route for its listing (an
    // HTML 404): that (principal, region) is left out, not read as none. The listing
    // itself is tested with mocks.
    sec(
        &aws,
        &home,
        SecurityCall::EnableOrganizationAdminAccount {
            service: AdminService::SecurityHub,
            account_id: &member,
        },
    )
    .await
    .unwrap();
    let hub = SecurityScope {
        organization_admins: BTreeSet::from([(
            "securityhub.amazonaws.com".to_string(),
            REGION.to_string(),
        )]),
        ..SecurityScope::default()
    };
    assert!(
        !security(&aws, &hub)
            .await
            .organization_admins
            .contains_key("securityhub.amazonaws.com")
    );
}
