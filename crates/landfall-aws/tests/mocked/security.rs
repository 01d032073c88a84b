//! Issue 17 with `aws-smithy-mocks`, for what moto lacks or answers otherwise:
//! Security Hub's admin accounts (moto records the admin but cannot list it), GuardDuty's
//! `DisableOrganizationAdminAccount`, IAM Access Analyzer (not in moto), the request
//! shapes AWS requires, the error codes the executor tells apart, and the bucket
//! reads' "there is none" answers.

use aws_config::retry::RetryConfig;
use aws_sdk_accessanalyzer::operation::create_analyzer::CreateAnalyzerOutput;
use aws_sdk_accessanalyzer::operation::delete_analyzer::{
    DeleteAnalyzerError, DeleteAnalyzerOutput,
};
use aws_sdk_accessanalyzer::operation::list_analyzers::ListAnalyzersOutput;
use aws_sdk_accessanalyzer::types::{AnalyzerStatus, AnalyzerSummary, Type as AnalyzerType};
use aws_sdk_cloudtrail::operation::create_trail::{CreateTrailError, CreateTrailOutput};
use aws_sdk_cloudtrail::operation::delete_trail::DeleteTrailError;
use aws_sdk_config::operation::delete_configuration_aggregator::DeleteConfigurationAggregatorError;
use aws_sdk_config::operation::put_configuration_aggregator::{
    PutConfigurationAggregatorError, PutConfigurationAggregatorOutput,
};
use aws_sdk_config::types::ConfigurationAggregator;
use aws_sdk_guardduty::operation::disable_organization_admin_account::DisableOrganizationAdminAccountOutput;
use aws_sdk_guardduty::operation::list_organization_admin_accounts::ListOrganizationAdminAccountsOutput as GdList;
use aws_sdk_organizations::operation::create_policy::CreatePolicyError as OrgCreatePolicyError;
use aws_sdk_organizations::operation::list_aws_service_access_for_organization::ListAwsServiceAccessForOrganizationOutput;
use aws_sdk_organizations::operation::list_delegated_administrators::ListDelegatedAdministratorsOutput;
use aws_sdk_organizations::operation::register_delegated_administrator::RegisterDelegatedAdministratorError;
use aws_sdk_s3::operation::delete_bucket::DeleteBucketError;
use aws_sdk_s3::operation::get_bucket_encryption::GetBucketEncryptionError;
use aws_sdk_s3::operation::get_bucket_lifecycle_configuration::GetBucketLifecycleConfigurationError;
use aws_sdk_s3::operation::get_bucket_policy::GetBucketPolicyError;
use aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingError;
use aws_sdk_s3::operation::get_bucket_versioning::{
    GetBucketVersioningError, GetBucketVersioningOutput,
};
use aws_sdk_s3::operation::get_object_lock_configuration::GetObjectLockConfigurationError;
use aws_sdk_s3::operation::get_public_access_block::GetPublicAccessBlockError;
use aws_sdk_s3::operation::put_bucket_encryption::PutBucketEncryptionOutput;
use aws_sdk_s3::operation::put_bucket_lifecycle_configuration::{
    PutBucketLifecycleConfigurationError, PutBucketLifecycleConfigurationOutput,
};
use aws_sdk_securityhub::operation::disable_organization_admin_account::DisableOrganizationAdminAccountOutput as ShDisableOutput;
use aws_sdk_securityhub::operation::enable_organization_admin_account::EnableOrganizationAdminAccountOutput as ShEnableOutput;
use aws_sdk_securityhub::operation::list_organization_admin_accounts::ListOrganizationAdminAccountsOutput as ShList;
use aws_smithy_mocks::Rule;
use landfall_aws::{AdminClients, SecurityClients};
use landfall_core::PolicyType;
use landfall_core::live::SecurityScope;
use landfall_core::model::{Lifecycle, Tags};
use landfall_engine::call::{AdminService, Call, OrganizationsCall, SecurityCall, TrailRequest};

use super::*;

macro_rules! client {
    ($krate:ident, $rules:expr) => {
        mock_client!($krate, RuleMode::MatchAny, $rules.iter().copied(), |c| c
            .retry_config(RetryConfig::disabled()))
    };
}

/// Clients of the member scope: each service with its rules (none: any call fails).
#[derive(Default)]
struct Rules<'a> {
    s3: Vec<&'a Rule>,
    cloudtrail: Vec<&'a Rule>,
    iam: Vec<&'a Rule>,
    config: Vec<&'a Rule>,
    analyzer: Vec<&'a Rule>,
    guardduty: Vec<&'a Rule>,
    securityhub: Vec<&'a Rule>,
    org: Vec<&'a Rule>,
}

/// The organization's own reads of a security refresh: nothing enabled, nobody
/// delegated; and the management account for the caller.
fn org_reads() -> [Rule; 3] {
    [
        mock!(aws_sdk_organizations::Client::describe_organization).then_output(|| {
            DescribeOrganizationOutput::builder()
                .organization(
                    Organization::builder()
                        .id("o-test")
                        .master_account_id("111111111111")
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_organizations::Client::list_aws_service_access_for_organization)
            .then_output(|| ListAwsServiceAccessForOrganizationOutput::builder().build()),
        mock!(aws_sdk_organizations::Client::list_delegated_administrators)
            .then_output(|| ListDelegatedAdministratorsOutput::builder().build()),
    ]
}

fn backend_with(rules: &Rules<'_>) -> AwsBackend {
    let reads = org_reads();
    let mut org: Vec<&Rule> = rules.org.clone();
    org.extend(reads.iter());
    AwsBackend::from_conf(
        client!(aws_sdk_organizations, org),
        no_sts(),
        &AwsOptions {
            pacing: landfall_engine::pacing::PacingSettings::unlimited(),
            ..AwsOptions::default()
        },
    )
    .with_limits(fast_limits())
    .with_security_clients(
        member_scope(),
        SecurityClients {
            s3: client!(aws_sdk_s3, rules.s3),
            cloudtrail: client!(aws_sdk_cloudtrail, rules.cloudtrail),
            iam: client!(aws_sdk_iam, rules.iam),
            config: client!(aws_sdk_config, rules.config),
            analyzer: client!(aws_sdk_accessanalyzer, rules.analyzer),
        },
    )
    .with_admin_clients(AdminClients {
        guardduty: client!(aws_sdk_guardduty, rules.guardduty),
        securityhub: client!(aws_sdk_securityhub, rules.securityhub),
    })
}

async fn sec(
    aws: &AwsBackend,
    call: SecurityCall<'_>,
) -> Result<Option<String>, landfall_engine::provider::ProviderError> {
    aws.execute(&Call::Security(&member_scope(), call))
        .await
        .map(|r| r.id)
}

#[tokio::test]
async fn security_hub_and_guardduty_admin_accounts() {
    let sh_enable = mock!(aws_sdk_securityhub::Client::enable_organization_admin_account)
        .match_requests(|r| r.admin_account_id() == Some("222222222222"))
        .then_output(|| ShEnableOutput::builder().build());
    let sh_disable = mock!(aws_sdk_securityhub::Client::disable_organization_admin_account)
        .match_requests(|r| r.admin_account_id() == Some("222222222222"))
        .then_output(|| ShDisableOutput::builder().build());
    // Two pages; an admin being disabled is not an admin.
    let sh_list_1 = mock!(aws_sdk_securityhub::Client::list_organization_admin_accounts)
        .match_requests(|r| r.next_token().is_none())
        .then_output(|| {
            ShList::builder()
                .admin_accounts(
                    aws_sdk_securityhub::types::AdminAccount::builder()
                        .account_id("222222222222")
                        .status(aws_sdk_securityhub::types::AdminStatus::Enabled)
                        .build(),
                )
                .next_token("page-2")
                .build()
        });
    let sh_list_2 = mock!(aws_sdk_securityhub::Client::list_organization_admin_accounts)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| {
            ShList::builder()
                .admin_accounts(
                    aws_sdk_securityhub::types::AdminAccount::builder()
                        .account_id("333333333333")
                        .status(aws_sdk_securityhub::types::AdminStatus::DisableInProgress)
                        .build(),
                )
                .build()
        });
    let gd_disable = mock!(aws_sdk_guardduty::Client::disable_organization_admin_account)
        .match_requests(|r| r.admin_account_id() == Some("222222222222"))
        .then_output(|| DisableOrganizationAdminAccountOutput::builder().build());
    let gd_list =
        mock!(aws_sdk_guardduty::Client::list_organization_admin_accounts).then_output(|| {
            GdList::builder()
                .admin_accounts(
                    aws_sdk_guardduty::types::AdminAccount::builder()
                        .admin_account_id("222222222222")
                        .admin_status(aws_sdk_guardduty::types::AdminStatus::Enabled)
                        .build(),
                )
                .admin_accounts(
                    aws_sdk_guardduty::types::AdminAccount::builder()
                        .admin_account_id("444444444444")
                        .admin_status(aws_sdk_guardduty::types::AdminStatus::DisableInProgress)
                        .build(),
                )
                .build()
        });
    let aws = backend_with(&Rules {
        securityhub: vec![&sh_enable, &sh_disable, &sh_list_1, &sh_list_2],
        guardduty: vec![&gd_disable, &gd_list],
        ..Rules::default()
    });
    for service in AdminService::ALL {
        sec(
            &aws,
            SecurityCall::DisableOrganizationAdminAccount {
                service,
                account_id: "222222222222",
            },
        )
        .await
        .unwrap();
    }
    sec(
        &aws,
        SecurityCall::EnableOrganizationAdminAccount {
            service: AdminService::SecurityHub,
            account_id: "222222222222",
        },
    )
    .await
    .unwrap();
    assert_eq!(sh_enable.num_calls(), 1);
    assert_eq!(sh_disable.num_calls(), 1);
    assert_eq!(gd_disable.num_calls(), 1);

    let live = aws
        .refresh_security(&SecurityScope {
            organization_admins: BTreeSet::from([
                (
                    "securityhub.amazonaws.com".to_string(),
                    "eu-west-1".to_string(),
                ),
                (
                    "guardduty.amazonaws.com".to_string(),
                    "eu-west-1".to_string(),
                ),
            ]),
            ..SecurityScope::default()
        })
        .await
        .unwrap();
    let only = BTreeSet::from(["222222222222".to_string()]);
    assert_eq!(
        live.organization_admins["securityhub.amazonaws.com"]["eu-west-1"],
        only
    );
    assert_eq!(
        live.organization_admins["guardduty.amazonaws.com"]["eu-west-1"],
        only
    );
    assert_eq!(sh_list_2.num_calls(), 1);
}

#[tokio::test]
async fn organization_analyzers() {
    let create = mock!(aws_sdk_accessanalyzer::Client::create_analyzer)
        .match_requests(|r| {
            r.analyzer_name() == Some("organization")
                && r.r#type() == Some(&AnalyzerType::Organization)
                && r.tags()
                    .and_then(|t| t.get("landfall:address"))
                    .map(String::as_str)
                    == Some("access_analyzer.organization")
        })
        .then_output(|| {
            CreateAnalyzerOutput::builder()
                .arn("arn:aws:access-analyzer:eu-west-1:222222222222:analyzer/organization")
                .build()
        });
    let list = mock!(aws_sdk_accessanalyzer::Client::list_analyzers).then_output(|| {
        ListAnalyzersOutput::builder()
            .analyzers(
                AnalyzerSummary::builder()
                    .arn("arn:aws:access-analyzer:eu-west-1:222222222222:analyzer/organization")
                    .name("organization")
                    .r#type(AnalyzerType::Organization)
                    .status(AnalyzerStatus::Active)
                    .created_at(aws_smithy_types::DateTime::from_secs(0))
                    .tags("landfall:address", "access_analyzer.organization")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    });
    let delete = mock!(aws_sdk_accessanalyzer::Client::delete_analyzer)
        .sequence()
        .output(|| DeleteAnalyzerOutput::builder().build())
        .error(|| {
            DeleteAnalyzerError::generic(
                aws_sdk_accessanalyzer::error::ErrorMetadata::builder()
                    .code("ResourceNotFoundException")
                    .message("Analyzer organization not found")
                    .build(),
            )
        })
        .build();
    let aws = backend_with(&Rules {
        analyzer: vec![&create, &list, &delete],
        ..Rules::default()
    });
    let tags = Tags::from([(
        "landfall:address".to_string(),
        "access_analyzer.organization".to_string(),
    )]);
    let arn = sec(
        &aws,
        SecurityCall::CreateAnalyzer {
            name: "organization",
            tags: &tags,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        arn.as_deref(),
        Some("arn:aws:access-analyzer:eu-west-1:222222222222:analyzer/organization")
    );
    let live = aws
        .refresh_security(&SecurityScope {
            analyzers: BTreeSet::from([("222222222222".to_string(), "eu-west-1".to_string())]),
            ..SecurityScope::default()
        })
        .await
        .unwrap();
    let a = &live.analyzers["organization"];
    assert_eq!(a.analyzer_type, "ORGANIZATION");
    assert_eq!(a.status, "ACTIVE");
    assert_eq!(a.tags, tags);
    assert_eq!(
        (a.account_id.as_str(), a.region.as_str()),
        ("222222222222", "eu-west-1")
    );
    sec(
        &aws,
        SecurityCall::DeleteAnalyzer {
            name: "organization",
        },
    )
    .await
    .unwrap();
    // Deleted already: NotFound, which the executor counts as done.
    let err = sec(
        &aws,
        SecurityCall::DeleteAnalyzer {
            name: "organization",
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
}

#[tokio::test]
async fn requests_have_the_shapes_aws_requires() {
    // Lifecycle: one rule "landfall" over the whole bucket.
    let lifecycle = mock!(aws_sdk_s3::Client::put_bucket_lifecycle_configuration)
        .match_requests(|r| {
            let Some([rule]) = r.lifecycle_configuration().map(|c| c.rules()) else {
                return false;
            };
            rule.id() == Some("landfall")
                && rule.status() == &aws_sdk_s3::types::ExpirationStatus::Enabled
                && rule.filter().and_then(|f| f.prefix()) == Some("")
                && matches!(rule.transitions(), [t] if t.days() == Some(90)
                    && t.storage_class() == Some(&aws_sdk_s3::types::TransitionStorageClass::Glacier))
                && rule.expiration().and_then(|e| e.days()) == Some(2555)
                && rule.noncurrent_version_expiration().and_then(|e| e.noncurrent_days())
                    == Some(2555)
        })
        .then_output(|| PutBucketLifecycleConfigurationOutput::builder().build());
    // Encryption: SSE-KMS with the key, bucket key on.
    let encryption = mock!(aws_sdk_s3::Client::put_bucket_encryption)
        .match_requests(|r| {
            let Some([rule]) = r.server_side_encryption_configuration().map(|c| c.rules()) else {
                return false;
            };
            let by_default = rule.apply_server_side_encryption_by_default();
            by_default.map(|d| d.sse_algorithm())
                == Some(&aws_sdk_s3::types::ServerSideEncryption::AwsKms)
                && by_default.and_then(|d| d.kms_master_key_id()) == Some("arn:aws:kms:k")
                && rule.bucket_key_enabled() == Some(true)
        })
        .then_output(|| PutBucketEncryptionOutput::builder().build());
    // The trail: global service events included, an organization trail.
    let create_trail = mock!(aws_sdk_cloudtrail::Client::create_trail)
        .match_requests(|r| {
            r.include_global_service_events() == Some(true)
                && r.is_organization_trail() == Some(true)
                && r.is_multi_region_trail() == Some(true)
                && r.enable_log_file_validation() == Some(true)
                && r.kms_key_id() == Some("arn:aws:kms:k")
                && r.s3_key_prefix().is_none()
        })
        .then_output(|| {
            CreateTrailOutput::builder()
                .trail_arn("arn:aws:cloudtrail:eu-west-1:222222222222:trail/org")
                .build()
        });
    // The aggregator: the organization over all regions.
    let aggregator = mock!(aws_sdk_config::Client::put_configuration_aggregator)
        .match_requests(|r| {
            r.organization_aggregation_source().is_some_and(|s| {
                s.role_arn() == "arn:aws:iam::222222222222:role/agg" && s.all_aws_regions()
            }) && r.account_aggregation_sources().is_empty()
        })
        .then_output(|| {
            PutConfigurationAggregatorOutput::builder()
                .configuration_aggregator(
                    ConfigurationAggregator::builder()
                        .configuration_aggregator_arn("arn:aws:config:eu-west-1:222222222222:config-aggregator/config-aggregator-1")
                        .build(),
                )
                .build()
        });
    let aws = backend_with(&Rules {
        s3: vec![&lifecycle, &encryption],
        cloudtrail: vec![&create_trail],
        config: vec![&aggregator],
        ..Rules::default()
    });
    sec(
        &aws,
        SecurityCall::PutBucketLifecycleConfiguration {
            bucket: "b",
            lifecycle: &Lifecycle {
                glacier_after_days: Some(90),
                expire_after_days: Some(2555),
            },
        },
    )
    .await
    .unwrap();
    sec(
        &aws,
        SecurityCall::PutBucketEncryption {
            bucket: "b",
            kms_key_arn: "arn:aws:kms:k",
        },
    )
    .await
    .unwrap();
    let request = TrailRequest {
        name: "org",
        s3_bucket_name: "b",
        s3_key_prefix: None,
        kms_key_arn: "arn:aws:kms:k",
        multi_region: true,
        organization: true,
        log_file_validation: true,
        tags: &Tags::new(),
    };
    assert_eq!(
        sec(&aws, SecurityCall::CreateTrail(&request))
            .await
            .unwrap()
            .as_deref(),
        Some("arn:aws:cloudtrail:eu-west-1:222222222222:trail/org")
    );
    assert!(
        sec(
            &aws,
            SecurityCall::PutConfigurationAggregator {
                name: "organization",
                role_arn: "arn:aws:iam::222222222222:role/agg",
                tags: &Tags::new(),
            },
        )
        .await
        .unwrap()
        .is_some()
    );
    for rule in [&lifecycle, &encryption, &create_trail, &aggregator] {
        assert_eq!(rule.num_calls(), 1);
    }
}

#[tokio::test]
async fn error_codes_map_to_what_the_executor_expects() {
    fn s3_error(code: &'static str) -> aws_sdk_s3::error::ErrorMetadata {
        aws_sdk_s3::error::ErrorMetadata::builder()
            .code(code)
            .message(code)
            .build()
    }
    let trail_policy = mock!(aws_sdk_cloudtrail::Client::create_trail).then_error(|| {
        CreateTrailError::generic(
            aws_sdk_cloudtrail::error::ErrorMetadata::builder()
                .code("InsufficientS3BucketPolicyException")
                .message("Incorrect S3 bucket policy is detected for bucket: b")
                .build(),
        )
    });
    let trail_gone = mock!(aws_sdk_cloudtrail::Client::delete_trail).then_error(|| {
        DeleteTrailError::generic(
            aws_sdk_cloudtrail::error::ErrorMetadata::builder()
                .code("TrailNotFoundException")
                .build(),
        )
    });
    let invalid_role =
        mock!(aws_sdk_config::Client::put_configuration_aggregator).then_error(|| {
            PutConfigurationAggregatorError::generic(
                aws_sdk_config::error::ErrorMetadata::builder()
                    .code("InvalidRoleException")
                    .message("The role is not valid")
                    .build(),
            )
        });
    let no_aggregator =
        mock!(aws_sdk_config::Client::delete_configuration_aggregator).then_error(|| {
            DeleteConfigurationAggregatorError::generic(
                aws_sdk_config::error::ErrorMetadata::builder()
                    .code("NoSuchConfigurationAggregatorException")
                    .build(),
            )
        });
    let no_bucket = mock!(aws_sdk_s3::Client::delete_bucket)
        .then_error(|| DeleteBucketError::generic(s3_error("NoSuchBucket")));
    let slow_down = mock!(aws_sdk_s3::Client::put_bucket_lifecycle_configuration)
        .then_error(|| PutBucketLifecycleConfigurationError::generic(s3_error("SlowDown")));
    let registered = mock!(aws_sdk_organizations::Client::register_delegated_administrator)
        .then_error(|| {
            RegisterDelegatedAdministratorError::generic(
                aws_sdk_organizations::error::ErrorMetadata::builder()
                    .code("AccountAlreadyRegisteredException")
                    .build(),
            )
        });
    let not_enabled = mock!(aws_sdk_organizations::Client::create_policy).then_error(|| {
        OrgCreatePolicyError::generic(
            aws_sdk_organizations::error::ErrorMetadata::builder()
                .code("PolicyTypeNotEnabledException")
                .message("This operation can be performed only for enabled policy types.")
                .build(),
        )
    });
    let aws = backend_with(&Rules {
        s3: vec![&no_bucket, &slow_down],
        cloudtrail: vec![&trail_policy, &trail_gone],
        config: vec![&invalid_role, &no_aggregator],
        org: vec![&registered, &not_enabled],
        ..Rules::default()
    });
    let request = TrailRequest {
        name: "org",
        s3_bucket_name: "b",
        s3_key_prefix: Some("p"),
        kms_key_arn: "k",
        multi_region: true,
        organization: true,
        log_file_validation: true,
        tags: &Tags::new(),
    };
    let call = SecurityCall::CreateTrail(&request);
    let err = sec(&aws, call).await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Other("InsufficientS3BucketPolicyException".into())
    );
    assert!(!err.kind.is_retryable());
    assert!(
        err.message.contains("Incorrect S3 bucket policy"),
        "{}",
        err.message
    );

    // A new role not yet visible to AWS Config: retried by the executor.
    let call = SecurityCall::PutConfigurationAggregator {
        name: "organization",
        role_arn: "arn:aws:iam::222222222222:role/agg",
        tags: &Tags::new(),
    };
    let err = sec(&aws, call).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotYetPropagated, "{err}");
    assert!(err.kind.is_retryable());
    assert!(err.message.contains("role/agg"), "{}", err.message);

    // Gone already: NotFound, which the executor counts as done.
    for call in [
        SecurityCall::DeleteTrail {
            trail_arn: "arn:aws:cloudtrail:eu-west-1:222222222222:trail/org",
        },
        SecurityCall::DeleteConfigurationAggregator {
            name: "organization",
        },
        SecurityCall::DeleteBucket { bucket: "b" },
    ] {
        let err = sec(&aws, call).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
        assert!(Call::Security(&member_scope(), call).already_done(&err.kind));
    }
    let err = sec(
        &aws,
        SecurityCall::PutBucketLifecycleConfiguration {
            bucket: "b",
            lifecycle: &Lifecycle {
                glacier_after_days: None,
                expire_after_days: Some(1),
            },
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Throttling, "{err}");

    let register = OrganizationsCall::RegisterDelegatedAdministrator {
        account_id: "222222222222",
        service_principal: "guardduty.amazonaws.com",
    };
    let err = aws
        .execute(&Call::Organizations(register))
        .await
        .unwrap_err();
    assert_eq!(err.kind.code(), "AccountAlreadyRegisteredException");
    assert!(Call::Organizations(register).already_done(&err.kind));
    let create = OrganizationsCall::CreatePolicy {
        policy_type: PolicyType::TagPolicy,
        name: "cost-tags",
        description: "",
        content: "{}",
        tags: &Tags::new(),
    };
    let err = aws.execute(&Call::Organizations(create)).await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Other("PolicyTypeNotEnabledException".into())
    );
    assert!(!Call::Organizations(create).already_done(&err.kind));
}

#[tokio::test]
async fn bucket_reads_take_none_for_an_answer() {
    fn s3_error(code: &'static str) -> aws_sdk_s3::error::ErrorMetadata {
        aws_sdk_s3::error::ErrorMetadata::builder()
            .code(code)
            .message(code)
            .build()
    }
    let gone = mock!(aws_sdk_s3::Client::get_bucket_versioning)
        .match_requests(|r| r.bucket() == Some("gone"))
        .then_error(|| GetBucketVersioningError::generic(s3_error("NoSuchBucket")));
    let versioning = mock!(aws_sdk_s3::Client::get_bucket_versioning)
        .match_requests(|r| r.bucket() == Some("bare"))
        .then_output(|| GetBucketVersioningOutput::builder().build());
    let encryption = mock!(aws_sdk_s3::Client::get_bucket_encryption).then_error(|| {
        GetBucketEncryptionError::generic(s3_error(
            "ServerSideEncryptionConfigurationNotFoundError",
        ))
    });
    let block = mock!(aws_sdk_s3::Client::get_public_access_block).then_error(|| {
        GetPublicAccessBlockError::generic(s3_error("NoSuchPublicAccessBlockConfiguration"))
    });
    let policy = mock!(aws_sdk_s3::Client::get_bucket_policy)
        .then_error(|| GetBucketPolicyError::generic(s3_error("NoSuchBucketPolicy")));
    let lock = mock!(aws_sdk_s3::Client::get_object_lock_configuration).then_error(|| {
        GetObjectLockConfigurationError::generic(s3_error("ObjectLockConfigurationNotFoundError"))
    });
    let lifecycle =
        mock!(aws_sdk_s3::Client::get_bucket_lifecycle_configuration).then_error(|| {
            GetBucketLifecycleConfigurationError::generic(s3_error("NoSuchLifecycleConfiguration"))
        });
    let tags = mock!(aws_sdk_s3::Client::get_bucket_tagging)
        .then_error(|| GetBucketTaggingError::generic(s3_error("NoSuchTagSet")));
    let aws = backend_with(&Rules {
        s3: vec![
            &gone,
            &versioning,
            &encryption,
            &block,
            &policy,
            &lock,
            &lifecycle,
            &tags,
        ],
        ..Rules::default()
    });
    let scope = member_scope();
    let live = aws
        .refresh_security(&SecurityScope {
            buckets: ["gone", "bare"]
                .iter()
                .map(|b| {
                    (
                        scope.account_id.clone(),
                        scope.region.clone(),
                        b.to_string(),
                    )
                })
                .collect(),
            ..SecurityScope::default()
        })
        .await
        .unwrap();
    assert!(!live.buckets.contains_key("gone"));
    let b = &live.buckets["bare"];
    assert!(!b.versioning);
    assert_eq!(b.kms_key, None);
    assert!(!b.public_access_blocked);
    assert_eq!(b.policy, None);
    assert_eq!(b.object_lock, None);
    assert!(!b.object_lock_enabled);
    assert_eq!(b.lifecycle, None);
    assert!(b.tags.is_empty());
    // Nothing else was asked about the bucket that does not exist.
    assert_eq!(encryption.num_calls(), 1);
    assert_eq!(aws.call_counts().get("GetBucketVersioning"), Some(&2));

    // Any other error is an error, naming who was refused where.
    let denied = mock!(aws_sdk_s3::Client::get_bucket_versioning)
        .then_error(|| GetBucketVersioningError::generic(s3_error("AccessDenied")));
    let aws = backend_with(&Rules {
        s3: vec![&denied],
        ..Rules::default()
    });
    let err = aws
        .refresh_security(&SecurityScope {
            buckets: BTreeSet::from([(
                scope.account_id.clone(),
                scope.region.clone(),
                "b".to_string(),
            )]),
            ..SecurityScope::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDenied, "{err}");
    assert!(
        err.message.contains(
            "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole is not allowed to call s3:GetBucketVersioning in 222222222222 in eu-west-1"
        ),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_refused_assume_role_makes_security_calls_and_reads_wait() {
    let (sts_url, assume_role_calls) = refusing_sts();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&sts_url)
        .credentials_provider(aws_sdk_organizations::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    let reads = org_reads();
    let org: Vec<&Rule> = reads.iter().collect();
    let aws = AwsBackend::from_conf(
        client!(aws_sdk_organizations, org),
        no_sts(),
        &AwsOptions::default(),
    )
    .with_limits(fast_limits())
    .with_sdk_config(config);
    let err = sec(
        &aws,
        SecurityCall::CreateBucket {
            bucket: "logs",
            object_lock: false,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccountNotReady, "{err}");
    assert_eq!(err.api, "CreateBucket");
    assert_eq!(
        assume_role_calls.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    // The trails' read retries it before giving up.
    let scope = member_scope();
    let err = aws
        .refresh_security(&SecurityScope {
            trails: BTreeSet::from([(scope.account_id.clone(), scope.region.clone())]),
            ..SecurityScope::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccountNotReady, "{err}");
    assert!(assume_role_calls.load(std::sync::atomic::Ordering::SeqCst) > 2);
}
