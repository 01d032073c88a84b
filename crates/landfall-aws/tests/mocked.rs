//! The AWS backend against mocked SDK clients (aws-smithy-mocks): throttling and
//! concurrency errors retried to convergence, AWS error codes surfaced clearly.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

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
use landfall_core::provider::{ApiLimits, ErrorKind, Provider};
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
            },
        )]),
        policies: BTreeMap::new(),
        attachments: BTreeSet::new(),
        networks: BTreeMap::new(),
        kms_keys: BTreeMap::new(),
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
