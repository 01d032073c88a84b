//! The AWS backend against mocked SDK clients (aws-smithy-mocks): throttling and
//! concurrency errors retried to convergence, AWS error codes surfaced clearly —
//! Organizations', and EC2's and KMS's in member accounts (a refused AssumeRole is an
//! account that is not ready yet).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ec2::error::ErrorMetadata as Ec2ErrorMetadata;
use aws_sdk_ec2::operation::delete_vpc::DeleteVpcError;
use aws_sdk_ec2::operation::delete_vpc_endpoints::DeleteVpcEndpointsOutput;
use aws_sdk_ec2::types::{UnsuccessfulItem, UnsuccessfulItemError};
use aws_sdk_kms::error::ErrorMetadata as KmsErrorMetadata;
use aws_sdk_kms::operation::create_key::CreateKeyError;
use aws_sdk_organizations::operation::attach_policy::{AttachPolicyError, AttachPolicyOutput};
use aws_sdk_organizations::operation::create_account::CreateAccountOutput;
use aws_sdk_organizations::operation::create_organizational_unit::{
    CreateOrganizationalUnitError, CreateOrganizationalUnitOutput,
};
use aws_sdk_organizations::operation::create_policy::{CreatePolicyError, CreatePolicyOutput};
use aws_sdk_organizations::operation::describe_create_account_status::DescribeCreateAccountStatusOutput;
use aws_sdk_organizations::operation::describe_organization::DescribeOrganizationOutput;
use aws_sdk_organizations::types::error::{
    AccessDeniedException, ConcurrentModificationException, TooManyRequestsException,
};
use aws_sdk_organizations::types::{
    CreateAccountFailureReason, CreateAccountState, CreateAccountStatus as SdkStatus, Organization,
    OrganizationalUnit, Policy, PolicySummary,
};
use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use landfall_aws::{AwsBackend, AwsOptions};
use landfall_core::apply::{self, ApplyError, ApplyOptions, Silent};
use landfall_core::diff::compute_plan;
use landfall_core::live::{LivePolicy, LiveState, WorldIdentity};
use landfall_core::model::{AccountSpec, DesiredState, LandingZone, OuSpec, PolicySpec, Quotas};
use landfall_core::plan::StateRef;
use landfall_core::provider::{ApiLimits, ErrorKind, MemberScope, Provider};
use landfall_core::state::{StateFile, StateStore};
use landfall_core::{Address, Attachment, OuPath, Target};

fn fast_limits() -> ApiLimits {
    ApiLimits {
        create_account_in_flight: 5,
        writes_per_second: None,
        base_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        max_retries: 5,
        poll_interval: Duration::from_millis(1),
        max_polls: 10,
    }
}

fn backend(org: aws_sdk_organizations::Client, sts: aws_sdk_sts::Client) -> Arc<AwsBackend> {
    Arc::new(AwsBackend::from_conf(org, sts, &AwsOptions::default()).with_limits(fast_limits()))
}

fn no_sts() -> aws_sdk_sts::Client {
    let rule = mock!(aws_sdk_sts::Client::get_caller_identity).then_output(|| {
        GetCallerIdentityOutput::builder()
            .account("111111111111")
            .arn("arn:aws:iam::111111111111:user/platform")
            .build()
    });
    mock_client!(aws_sdk_sts, [&rule])
}

fn landing_zone() -> LandingZone {
    LandingZone {
        name: "lz".into(),
        home_region: "us-east-1".into(),
        governed_regions: vec!["us-east-1".into()],
        backend: Default::default(),
        state_path: None,
        quotas: Quotas::default(),
        prune_unmanaged: false,
        account_removal: Default::default(),
        access_role: "OrganizationAccountAccessRole".into(),
        sim: Default::default(),
    }
}

fn live_root() -> LiveState {
    LiveState {
        root_id: "r-1".into(),
        management_account_id: "111111111111".into(),
        policies: BTreeMap::from([(
            "p-FullAWSAccess".into(),
            LivePolicy {
                id: "p-FullAWSAccess".into(),
                name: "FullAWSAccess".into(),
                description: String::new(),
                content: String::new(),
                tags: Default::default(),
                aws_managed: true,
            },
        )]),
        attachments: BTreeSet::from([("p-FullAWSAccess".into(), "r-1".into())]),
        ..LiveState::default()
    }
}

fn world() -> WorldIdentity {
    WorldIdentity {
        backend: "aws".into(),
        id: "o-test".into(),
    }
}

#[tokio::test]
async fn throttled_and_conflicting_calls_are_retried_until_the_apply_converges() {
    let create_ou = mock!(aws_sdk_organizations::Client::create_organizational_unit)
        .sequence()
        .error(|| {
            CreateOrganizationalUnitError::TooManyRequestsException(
                TooManyRequestsException::builder()
                    .message("slow down")
                    .build(),
            )
        })
        .times(2)
        .output(|| {
            CreateOrganizationalUnitOutput::builder()
                .organizational_unit(
                    OrganizationalUnit::builder()
                        .id("ou-1-aaaa")
                        .name("Sandbox")
                        .build(),
                )
                .build()
        })
        .build();
    let create_policy = mock!(aws_sdk_organizations::Client::create_policy)
        .sequence()
        .error(|| {
            CreatePolicyError::ConcurrentModificationException(
                ConcurrentModificationException::builder()
                    .message("busy")
                    .build(),
            )
        })
        .output(|| {
            CreatePolicyOutput::builder()
                .policy(
                    Policy::builder()
                        .policy_summary(
                            PolicySummary::builder().id("p-deny").name("deny-x").build(),
                        )
                        .build(),
                )
                .build()
        })
        .build();
    let attach = mock!(aws_sdk_organizations::Client::attach_policy)
        .sequence()
        .error(|| {
            AttachPolicyError::TooManyRequestsException(
                TooManyRequestsException::builder()
                    .message("slow down")
                    .build(),
            )
        })
        .output(|| AttachPolicyOutput::builder().build())
        .build();
    let org = mock_client!(
        aws_sdk_organizations,
        RuleMode::MatchAny,
        [&create_ou, &create_policy, &attach]
    );
    let aws = backend(org, no_sts());

    let sandbox = OuPath::new("Sandbox");
    let desired = DesiredState {
        landing_zone: landing_zone(),
        ous: BTreeMap::from([(
            sandbox.clone(),
            OuSpec {
                path: sandbox.clone(),
                tags: Default::default(),
                origin: Default::default(),
            },
        )]),
        accounts: BTreeMap::new(),
        policies: BTreeMap::from([(
            "deny-x".into(),
            PolicySpec {
                name: "deny-x".into(),
                description: String::new(),
                content: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#.into(),
                tags: Default::default(),
                origin: Default::default(),
            },
        )]),
        attachments: BTreeSet::from([Attachment {
            policy: "deny-x".into(),
            target: Target::Ou(sandbox.clone()),
        }]),
        networks: BTreeMap::new(),
        kms_keys: BTreeMap::new(),
        drift_ignore: Vec::new(),
    };
    let state = StateFile::new("lz", world());
    let plan = compute_plan(
        &desired,
        &live_root(),
        &state,
        StateRef {
            lineage: None,
            serial: 0,
        },
        &world(),
    )
    .unwrap();
    let store = Arc::new(StateStore::in_memory(state));
    let outcome = apply::apply(
        plan,
        aws.clone(),
        store.clone(),
        &ApplyOptions::default(),
        Arc::new(Silent),
    )
    .await;
    assert!(outcome.succeeded(), "{:?}", outcome.failures);
    assert_eq!(outcome.retries, 4);
    assert_eq!(create_ou.num_calls(), 3);
    assert_eq!(create_policy.num_calls(), 2);
    assert_eq!(attach.num_calls(), 2);
    let state = store.snapshot();
    assert_eq!(
        state.id_of(&Address::Ou(sandbox.clone())),
        Some("ou-1-aaaa")
    );
    assert_eq!(
        state.id_of(&Address::attachment("deny-x", Target::Ou(sandbox))),
        Some("p-deny|ou-1-aaaa")
    );
    let calls = aws.call_counts();
    assert_eq!(calls.get("CreateOrganizationalUnit"), Some(&3));
}

#[tokio::test]
async fn access_denied_names_the_api_and_the_principal() {
    let denied =
        mock!(aws_sdk_organizations::Client::create_organizational_unit).then_error(|| {
            CreateOrganizationalUnitError::AccessDeniedException(
                AccessDeniedException::builder()
                    .message("not authorized")
                    .build(),
            )
        });
    let describe = mock!(aws_sdk_organizations::Client::describe_organization).then_output(|| {
        DescribeOrganizationOutput::builder()
            .organization(
                Organization::builder()
                    .id("o-test")
                    .master_account_id("111111111111")
                    .build(),
            )
            .build()
    });
    let org = mock_client!(
        aws_sdk_organizations,
        RuleMode::MatchAny,
        [&denied, &describe]
    );
    let aws = backend(org, no_sts());
    // identity() resolves the principal named in later errors.
    assert_eq!(aws.identity().await.unwrap().id, "o-test");
    let err = aws
        .create_ou("r-1", "Sandbox", &Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDenied);
    assert!(
        err.message
            .contains("arn:aws:iam::111111111111:user/platform"),
        "{}",
        err.message
    );
    assert!(
        err.message
            .contains("organizations:CreateOrganizationalUnit"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_caller_outside_the_management_account_is_refused() {
    let describe = mock!(aws_sdk_organizations::Client::describe_organization).then_output(|| {
        DescribeOrganizationOutput::builder()
            .organization(
                Organization::builder()
                    .id("o-test")
                    .master_account_id("999999999999")
                    .build(),
            )
            .build()
    });
    let org = mock_client!(aws_sdk_organizations, [&describe]);
    let err = backend(org, no_sts()).identity().await.unwrap_err();
    assert!(
        err.message
            .contains("not in the management account 999999999999"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_failed_account_creation_surfaces_its_reason() {
    let create = mock!(aws_sdk_organizations::Client::create_account).then_output(|| {
        CreateAccountOutput::builder()
            .create_account_status(
                SdkStatus::builder()
                    .id("car-1")
                    .state(CreateAccountState::InProgress)
                    .build(),
            )
            .build()
    });
    let status = mock!(aws_sdk_organizations::Client::describe_create_account_status)
        .sequence()
        .output(|| {
            DescribeCreateAccountStatusOutput::builder()
                .create_account_status(
                    SdkStatus::builder()
                        .id("car-1")
                        .state(CreateAccountState::InProgress)
                        .build(),
                )
                .build()
        })
        .output(|| {
            DescribeCreateAccountStatusOutput::builder()
                .create_account_status(
                    SdkStatus::builder()
                        .id("car-1")
                        .state(CreateAccountState::Failed)
                        .failure_reason(CreateAccountFailureReason::EmailAlreadyExists)
                        .build(),
                )
                .build()
        })
        .build();
    let org = mock_client!(
        aws_sdk_organizations,
        RuleMode::MatchAny,
        [&create, &status]
    );
    let aws = backend(org, no_sts());
    let desired = DesiredState {
        landing_zone: landing_zone(),
        ous: BTreeMap::new(),
        accounts: BTreeMap::from([(
            "ml-dev".into(),
            AccountSpec {
                name: "ml-dev".into(),
                email: "aws+ml-dev@example.com".into(),
                ou: None,
                tags: Default::default(),
                allow_close: false,
                origin: Default::default(),
                project: None,
            },
        )]),
        policies: BTreeMap::new(),
        attachments: BTreeSet::new(),
        networks: BTreeMap::new(),
        kms_keys: BTreeMap::new(),
        drift_ignore: Vec::new(),
    };
    let state = StateFile::new("lz", world());
    let plan = compute_plan(
        &desired,
        &live_root(),
        &state,
        StateRef {
            lineage: None,
            serial: 0,
        },
        &world(),
    )
    .unwrap();
    let store = Arc::new(StateStore::in_memory(state));
    let outcome = apply::apply(
        plan,
        aws,
        store.clone(),
        &ApplyOptions::default(),
        Arc::new(Silent),
    )
    .await;
    assert_eq!(outcome.failures.len(), 1);
    let failure = &outcome.failures[0];
    assert!(
        matches!(failure, ApplyError::AccountCreationFailed { reason, .. } if reason == "EMAIL_ALREADY_EXISTS")
    );
    assert!(failure.hint().unwrap().contains("root email"));
    // Nothing recorded for the account; the intent stays for a later adoption.
    let state = store.snapshot();
    assert!(state.id_of(&Address::Account("ml-dev".into())).is_none());
    assert!(
        state
            .pending_creates
            .contains(&Address::Account("ml-dev".into()))
    );
}

// ---- member accounts ----

/// A fake STS endpoint that refuses every `AssumeRole` as AWS does for a role that
/// does not exist yet (403 `AccessDenied`); returns its URL and a count of the
/// AssumeRole requests it saw.
fn refusing_sts() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            if String::from_utf8_lossy(&body).contains("Action=AssumeRole") {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            let xml = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::111111111111:user/platform is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/OrganizationAccountAccessRole</Message></Error><RequestId>req-1</RequestId></ErrorResponse>"#;
            let _ = write!(
                stream,
                "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
                xml.len()
            );
        }
    });
    (url, seen)
}

fn org_with_management_account() -> aws_sdk_organizations::Client {
    let describe = mock!(aws_sdk_organizations::Client::describe_organization).then_output(|| {
        DescribeOrganizationOutput::builder()
            .organization(
                Organization::builder()
                    .id("o-test")
                    .master_account_id("111111111111")
                    .build(),
            )
            .build()
    });
    mock_client!(aws_sdk_organizations, RuleMode::MatchAny, [&describe])
}

fn member_scope() -> MemberScope {
    MemberScope {
        account_id: "222222222222".into(),
        region: "eu-west-1".into(),
    }
}

#[tokio::test]
async fn a_refused_assume_role_means_the_account_is_not_ready_yet() {
    let (sts_url, assume_role_calls) = refusing_sts();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&sts_url)
        .credentials_provider(aws_sdk_organizations::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await;
    let aws = AwsBackend::from_conf(
        org_with_management_account(),
        no_sts(),
        &AwsOptions::default(),
    )
    .with_limits(fast_limits())
    .with_sdk_config(config);

    let err = aws
        .create_vpc(&member_scope(), "10.0.0.0/16", &Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccountNotReady, "{err}");
    assert!(err.kind.is_retryable());
    assert_eq!(err.api, "CreateVpc");
    assert!(
        err.message
            .contains("cannot assume OrganizationAccountAccessRole in 222222222222 yet"),
        "{}",
        err.message
    );
    assert_eq!(
        assume_role_calls.load(std::sync::atomic::Ordering::SeqCst),
        1
    );

    // Reads retry it (with backoff) before giving up.
    let err = aws.refresh_member(&member_scope()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccountNotReady, "{err}");
    assert!(assume_role_calls.load(std::sync::atomic::Ordering::SeqCst) > 2);
}

#[tokio::test]
async fn ec2_and_kms_errors_map_to_kinds() {
    let delete_vpc = mock!(aws_sdk_ec2::Client::delete_vpc).then_error(|| {
        DeleteVpcError::generic(
            Ec2ErrorMetadata::builder()
                .code("DependencyViolation")
                .message("The vpc 'vpc-1' has dependencies and cannot be deleted.")
                .build(),
        )
    });
    let delete_endpoints = mock!(aws_sdk_ec2::Client::delete_vpc_endpoints).then_output(|| {
        DeleteVpcEndpointsOutput::builder()
            .unsuccessful(
                UnsuccessfulItem::builder()
                    .resource_id("vpce-1")
                    .error(
                        UnsuccessfulItemError::builder()
                            .code("InvalidVpcEndpoint.NotFound")
                            .message("The VpcEndpoint Id 'vpce-1' does not exist")
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let create_key = mock!(aws_sdk_kms::Client::create_key).then_error(|| {
        CreateKeyError::generic(
            KmsErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("not authorized to perform kms:CreateKey")
                .build(),
        )
    });
    let ec2 = mock_client!(
        aws_sdk_ec2,
        RuleMode::MatchAny,
        [&delete_vpc, &delete_endpoints]
    );
    let kms = mock_client!(aws_sdk_kms, RuleMode::MatchAny, [&create_key]);
    let aws = AwsBackend::from_conf(
        org_with_management_account(),
        no_sts(),
        &AwsOptions::default(),
    )
    .with_limits(fast_limits())
    .with_member_clients(member_scope(), ec2, kms);

    let err = aws.delete_vpc(&member_scope(), "vpc-1").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::DependencyViolation, "{err}");
    assert!(!err.kind.is_retryable());
    assert!(err.message.contains("has dependencies"), "{}", err.message);

    let err = aws
        .delete_endpoint(&member_scope(), "vpce-1")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
    assert_eq!(err.api, "DeleteVpcEndpoints");

    let err = aws
        .create_key(&member_scope(), "k", "", &Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDenied, "{err}");
    assert!(
        err.message.contains(
            "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole is not allowed to call kms:CreateKey in 222222222222 in eu-west-1"
        ),
        "{}",
        err.message
    );
    assert_eq!(aws.call_counts().get("DeleteVpc"), Some(&1));
}
