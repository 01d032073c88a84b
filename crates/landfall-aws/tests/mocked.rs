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
use landfall_core::diff::compute_plan;
use landfall_core::live::{LivePolicy, LiveState, WorldIdentity};
use landfall_core::model::{AccountSpec, DesiredState, LandingZone, OuSpec, PolicySpec, Quotas};
use landfall_core::plan::StateRef;
use landfall_core::state::StateFile;
use landfall_core::{Address, Attachment, OuPath, Target};
use landfall_engine::TypedCalls;
use landfall_engine::apply::{self, ApplyError, ApplyOptions, Silent};
use landfall_engine::provider::{ApiLimits, ErrorKind, MemberScope, Provider};
use landfall_engine::state_store::StateStore;

fn fast_limits() -> ApiLimits {
    ApiLimits {
        create_account_in_flight: 5,
        base_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        max_retries: 5,
        poll_interval: Duration::from_millis(1),
        max_polls: 10,
        operation_poll_interval: Duration::from_millis(10),
        ..ApiLimits::default()
    }
}

fn backend(org: aws_sdk_organizations::Client, sts: aws_sdk_sts::Client) -> Arc<AwsBackend> {
    let options = AwsOptions {
        pacing: landfall_engine::pacing::PacingSettings::unlimited(),
        ..AwsOptions::default()
    };
    Arc::new(AwsBackend::from_conf(org, sts, &options).with_limits(fast_limits()))
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
        s3_state: None,
        sim_world: None,
        quotas: Quotas::default(),
        prune_unmanaged: false,
        account_removal: Default::default(),
        access_role: "OrganizationAccountAccessRole".into(),
        sim: Default::default(),
        account_factory: Default::default(),
        control_tower: None,
        skip_preflight: false,
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
                aws_name: None,
                description: String::new(),
                content: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#.into(),
                tags: Default::default(),
                origin: Default::default(),
            },
        )]),
        // As validation declares it (full_aws_access on by default): FullAWSAccess is
        // AWS's own on the new OU, so only deny-x is attached.
        attachments: BTreeSet::from([
            Attachment {
                policy: "deny-x".into(),
                target: Target::Ou(sandbox.clone()),
            },
            Attachment {
                policy: "FullAWSAccess".into(),
                target: Target::Ou(sandbox.clone()),
            },
        ]),
        networks: BTreeMap::new(),
        kms_keys: BTreeMap::new(),
        drift_ignore: Vec::new(),
        controls: Vec::new(),
        portfolios: BTreeMap::new(),
        expectations: Vec::new(),
        moved: Vec::new(),
        imports: Vec::new(),
        identity_center: None,
        permission_sets: Default::default(),
        groups: Default::default(),
        assignments: Vec::new(),
        tag_expectations: Vec::new(),
        org_policies: Vec::new(),
        org_policy_attachments: BTreeSet::new(),
        service_access: BTreeMap::new(),
        delegated_admins: BTreeMap::new(),
        buckets: BTreeMap::new(),
        trails: BTreeMap::new(),
        config_aggregators: BTreeMap::new(),
        access_analyzers: BTreeMap::new(),
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

/// `[[moved]]` renames applied through the AWS backend (moto has no
/// `PutAccountName`, and no `DuplicatePolicyException` on `UpdatePolicy`): the
/// account is renamed by Account Management's `PutAccountName` with its id (retried
/// when throttled), the SCP by `UpdatePolicy` with its new name on the same id; nothing
/// else is called, and the state ends at the new addresses with the new names.
#[tokio::test]
async fn moved_renames_call_put_account_name_and_update_policy_with_the_name() {
    use aws_sdk_account::operation::put_account_name::{PutAccountNameError, PutAccountNameOutput};
    use aws_sdk_organizations::operation::update_policy::UpdatePolicyOutput;
    use landfall_core::live::{AccountStatus, LiveAccount};
    use landfall_core::model::Moved;
    use landfall_core::state::ResourceRecord;

    let rename = mock!(aws_sdk_account::Client::put_account_name)
        .match_requests(|r| {
            r.account_id() == Some("222222222222") && r.account_name() == Some("ml-development")
        })
        .sequence()
        .error(|| {
            PutAccountNameError::TooManyRequestsException(
                aws_sdk_account::types::error::TooManyRequestsException::builder()
                    .message("slow down")
                    .build()
                    .unwrap(),
            )
        })
        .output(|| PutAccountNameOutput::builder().build())
        .build();
    // Retries are Landfall's (the backend's own clients have the SDK's turned off).
    let account = mock_client!(aws_sdk_account, RuleMode::Sequential, [&rename], |c| {
        c.retry_config(aws_sdk_account::config::retry::RetryConfig::disabled())
    });
    let update = mock!(aws_sdk_organizations::Client::update_policy)
        .match_requests(|r| {
            r.policy_id() == Some("p-deny")
                && r.name() == Some("deny-y")
                && r.content().is_none()
                && r.description().is_none()
        })
        .then_output(|| UpdatePolicyOutput::builder().build());
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
        [&update, &describe]
    );
    let aws = Arc::new(
        AwsBackend::from_conf(org, no_sts(), &AwsOptions::default())
            .with_account_client(account)
            .with_limits(fast_limits()),
    );
    aws.identity().await.unwrap();

    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
    let desired = DesiredState {
        landing_zone: landing_zone(),
        ous: BTreeMap::new(),
        accounts: BTreeMap::from([(
            "ml-development".into(),
            AccountSpec {
                name: "ml-development".into(),
                aws_name: None,
                email: "aws+ml-dev@example.com".into(),
                ou: None,
                tags: Default::default(),
                allow_close: false,
                origin: Default::default(),
                project: None,
                sso_user: None,
            },
        )]),
        policies: BTreeMap::from([(
            "deny-y".into(),
            PolicySpec {
                name: "deny-y".into(),
                aws_name: None,
                description: String::new(),
                content: deny.into(),
                tags: Default::default(),
                origin: Default::default(),
            },
        )]),
        attachments: BTreeSet::from([Attachment {
            policy: "deny-y".into(),
            target: Target::Account("ml-development".into()),
        }]),
        networks: BTreeMap::new(),
        kms_keys: BTreeMap::new(),
        drift_ignore: Vec::new(),
        controls: Vec::new(),
        portfolios: BTreeMap::new(),
        expectations: Vec::new(),
        moved: vec![
            Moved {
                from: Address::Account("ml-dev".into()),
                to: Address::Account("ml-development".into()),
            },
            Moved {
                from: Address::Scp("deny-x".into()),
                to: Address::Scp("deny-y".into()),
            },
        ],
        imports: Vec::new(),
        identity_center: None,
        permission_sets: Default::default(),
        groups: Default::default(),
        assignments: Vec::new(),
        tag_expectations: Vec::new(),
        org_policies: Vec::new(),
        org_policy_attachments: BTreeSet::new(),
        service_access: BTreeMap::new(),
        delegated_admins: BTreeMap::new(),
        buckets: BTreeMap::new(),
        trails: BTreeMap::new(),
        config_aggregators: BTreeMap::new(),
        access_analyzers: BTreeMap::new(),
    };
    let mut live = live_root();
    live.accounts.insert(
        "222222222222".into(),
        LiveAccount {
            id: "222222222222".into(),
            name: "ml-dev".into(),
            email: "aws+ml-dev@example.com".into(),
            parent_id: "r-1".into(),
            tags: Default::default(),
            status: AccountStatus::Active,
        },
    );
    live.policies.insert(
        "p-deny".into(),
        LivePolicy {
            id: "p-deny".into(),
            name: "deny-x".into(),
            description: String::new(),
            content: deny.into(),
            tags: Default::default(),
            aws_managed: false,
        },
    );
    live.attachments
        .insert(("p-deny".into(), "222222222222".into()));
    let mut state = StateFile::new("lz", world());
    let record = |id: &str, attributes: serde_json::Value| ResourceRecord {
        id: id.into(),
        created: true,
        attributes: serde_json::from_value(attributes).unwrap(),
        member: None,
    };
    state.resources.insert(
        Address::Root,
        ResourceRecord {
            created: false,
            ..record("r-1", serde_json::json!({}))
        },
    );
    state.resources.insert(
        Address::Account("ml-dev".into()),
        record(
            "222222222222",
            serde_json::json!({"allow_close": false, "email": "aws+ml-dev@example.com",
                               "name": "ml-dev", "ou": "root", "tags": {}}),
        ),
    );
    state.resources.insert(
        Address::Scp("deny-x".into()),
        record(
            "p-deny",
            serde_json::json!({"name": "deny-x", "description": "",
                               "content": landfall_core::model::canonical_json(deny), "tags": {}}),
        ),
    );
    state.resources.insert(
        Address::attachment("deny-x", Target::Account("ml-dev".into())),
        record(
            "p-deny|222222222222",
            serde_json::json!({"policy": "deny-x", "target": "account.ml-dev"}),
        ),
    );
    let plan = compute_plan(
        &desired,
        &live,
        &state,
        StateRef {
            lineage: None,
            serial: 0,
        },
        &world(),
    )
    .unwrap();
    let list: Vec<_> = plan
        .changes
        .iter()
        .map(|c| (c.address.to_string(), c.action))
        .collect();
    assert_eq!(
        list,
        [
            (
                "account.ml-development".to_string(),
                landfall_core::plan::Action::Update
            ),
            (
                "scp.deny-y".to_string(),
                landfall_core::plan::Action::Update
            ),
        ],
        "{plan:#?}"
    );
    let store = Arc::new(StateStore::in_memory(state.with_moves(&plan.moved).0));
    let outcome = apply::apply(
        plan,
        aws.clone(),
        store.clone(),
        &ApplyOptions::default(),
        Arc::new(Silent),
    )
    .await;
    assert!(outcome.succeeded(), "{:?}", outcome.failures);
    assert_eq!(rename.num_calls(), 2);
    assert_eq!(update.num_calls(), 1);
    let calls = aws.call_counts();
    assert_eq!(calls.get("PutAccountName"), Some(&2));
    assert_eq!(calls.get("UpdatePolicy"), Some(&1));
    let state = store.snapshot();
    let account = &state.resources[&Address::Account("ml-development".into())];
    assert_eq!(
        (account.id.as_str(), &account.attributes["name"]),
        ("222222222222", &serde_json::json!("ml-development"))
    );
    assert_eq!(
        state.id_of(&Address::attachment(
            "deny-y",
            Target::Account("ml-development".into())
        )),
        Some("p-deny|222222222222")
    );
    assert!(
        !state
            .resources
            .contains_key(&Address::Account("ml-dev".into()))
    );
}

/// The management account cannot name itself by id (AWS: "it must call the operation
/// in standalone context by not including the AccountId parameter"): its rename is
/// sent without one. Refusals keep their meaning: `AccessDeniedException` names the
/// `account:PutAccountName` permission and the trusted access Account Management needs,
/// `ValidationException` is bad input; a duplicate SCP name is `DuplicatePolicy`.
#[tokio::test]
async fn put_account_name_for_the_management_account_has_no_id_and_refusals_are_clear() {
    use aws_sdk_account::operation::put_account_name::{PutAccountNameError, PutAccountNameOutput};
    use aws_sdk_organizations::operation::update_policy::UpdatePolicyError;
    use aws_sdk_organizations::types::error::DuplicatePolicyException;

    let own = mock!(aws_sdk_account::Client::put_account_name)
        .match_requests(|r| r.account_id().is_none() && r.account_name() == Some("Management"))
        .then_output(|| PutAccountNameOutput::builder().build());
    let denied = mock!(aws_sdk_account::Client::put_account_name)
        .match_requests(|r| r.account_id() == Some("222222222222"))
        .then_error(|| {
            PutAccountNameError::AccessDeniedException(
                aws_sdk_account::types::error::AccessDeniedException::builder()
                    .message("not authorized")
                    .build()
                    .unwrap(),
            )
        });
    let invalid = mock!(aws_sdk_account::Client::put_account_name)
        .match_requests(|r| r.account_id() == Some("333333333333"))
        .then_error(|| {
            PutAccountNameError::ValidationException(
                aws_sdk_account::types::error::ValidationException::builder()
                    .message("bad name")
                    .build()
                    .unwrap(),
            )
        });
    let account = mock_client!(
        aws_sdk_account,
        RuleMode::MatchAny,
        [&own, &denied, &invalid]
    );
    let duplicate = mock!(aws_sdk_organizations::Client::update_policy).then_error(|| {
        UpdatePolicyError::DuplicatePolicyException(
            DuplicatePolicyException::builder()
                .message("A policy with the same name already exists.")
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
        [&duplicate, &describe]
    );
    let aws = AwsBackend::from_conf(org, no_sts(), &AwsOptions::default())
        .with_account_client(account)
        .with_limits(fast_limits());
    aws.identity().await.unwrap();
    aws.put_account_name("111111111111", "Management")
        .await
        .unwrap();
    assert_eq!(own.num_calls(), 1);
    let err = aws
        .put_account_name("222222222222", "ml-development")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDenied);
    assert_eq!(err.api, "PutAccountName");
    for part in [
        "arn:aws:iam::111111111111:user/platform",
        "account:PutAccountName",
        "account.amazonaws.com",
    ] {
        assert!(err.message.contains(part), "{part}: {}", err.message);
    }
    let err = aws.put_account_name("333333333333", "x").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    let err = aws
        .update_policy("p-deny", Some("FullAWSAccess"), None, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::DuplicatePolicy);
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
    let (plan, state) = one_account_plan();
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

/// The plan of one new account, `account.ml-dev` under the root, against a fresh state.
fn one_account_plan() -> (landfall_core::plan::Plan, StateFile) {
    let desired = DesiredState {
        landing_zone: landing_zone(),
        ous: BTreeMap::new(),
        accounts: BTreeMap::from([(
            "ml-dev".into(),
            AccountSpec {
                name: "ml-dev".into(),
                aws_name: None,
                email: "aws+ml-dev@example.com".into(),
                ou: None,
                tags: Default::default(),
                allow_close: false,
                origin: Default::default(),
                project: None,
                sso_user: None,
            },
        )]),
        policies: BTreeMap::new(),
        attachments: BTreeSet::new(),
        networks: BTreeMap::new(),
        kms_keys: BTreeMap::new(),
        drift_ignore: Vec::new(),
        controls: Vec::new(),
        portfolios: BTreeMap::new(),
        expectations: Vec::new(),
        moved: Vec::new(),
        imports: Vec::new(),
        identity_center: None,
        permission_sets: Default::default(),
        groups: Default::default(),
        assignments: Vec::new(),
        tag_expectations: Vec::new(),
        org_policies: Vec::new(),
        org_policy_attachments: BTreeSet::new(),
        service_access: BTreeMap::new(),
        delegated_admins: BTreeMap::new(),
        buckets: BTreeMap::new(),
        trails: BTreeMap::new(),
        config_aggregators: BTreeMap::new(),
        access_analyzers: BTreeMap::new(),
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
    (plan, state)
}

/// `CreateAccount` answered with a terminal status: the creation's outcome is taken
/// from it, with no `DescribeCreateAccountStatus` poll.
async fn create_account_answering(
    status: SdkStatus,
) -> (apply::ApplyOutcome, Arc<StateStore>, aws_smithy_mocks::Rule) {
    let create = mock!(aws_sdk_organizations::Client::create_account).then_output(move || {
        CreateAccountOutput::builder()
            .create_account_status(status.clone())
            .build()
    });
    let poll = mock!(aws_sdk_organizations::Client::describe_create_account_status)
        .then_output(|| DescribeCreateAccountStatusOutput::builder().build());
    let org = mock_client!(aws_sdk_organizations, RuleMode::MatchAny, [&create, &poll]);
    let (plan, state) = one_account_plan();
    let store = Arc::new(StateStore::in_memory(state));
    let outcome = apply::apply(
        plan,
        backend(org, no_sts()),
        store.clone(),
        &ApplyOptions::default(),
        Arc::new(Silent),
    )
    .await;
    assert_eq!(create.num_calls(), 1);
    (outcome, store, poll)
}

#[tokio::test]
async fn a_create_account_reply_already_succeeded_is_not_polled() {
    let (outcome, store, poll) = create_account_answering(
        SdkStatus::builder()
            .id("car-1")
            .state(CreateAccountState::Succeeded)
            .account_id("222222222222")
            .build(),
    )
    .await;
    assert!(outcome.succeeded(), "{:?}", outcome.failures);
    assert_eq!(poll.num_calls(), 0);
    assert_eq!(
        store.snapshot().id_of(&Address::Account("ml-dev".into())),
        Some("222222222222")
    );
}

#[tokio::test]
async fn a_create_account_reply_already_failed_is_not_polled() {
    let (outcome, store, poll) = create_account_answering(
        SdkStatus::builder()
            .id("car-1")
            .state(CreateAccountState::Failed)
            .failure_reason(CreateAccountFailureReason::EmailAlreadyExists)
            .build(),
    )
    .await;
    assert_eq!(poll.num_calls(), 0);
    assert!(
        matches!(&outcome.failures[..], [ApplyError::AccountCreationFailed { reason, .. }] if reason == "EMAIL_ALREADY_EXISTS"),
        "{:?}",
        outcome.failures
    );
    assert!(
        store
            .snapshot()
            .id_of(&Address::Account("ml-dev".into()))
            .is_none()
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

// ---- Control Tower and Service Catalog (moto has no Control Tower) ----

mod governance {
    use super::*;
    use aws_sdk_controltower::operation::disable_baseline::DisableBaselineOutput;
    use aws_sdk_controltower::operation::enable_baseline::EnableBaselineOutput;
    use aws_sdk_controltower::operation::enable_control::{
        EnableControlError, EnableControlOutput,
    };
    use aws_sdk_controltower::operation::get_baseline_operation::GetBaselineOperationOutput;
    use aws_sdk_controltower::operation::get_control_operation::GetControlOperationOutput;
    use aws_sdk_controltower::operation::get_enabled_baseline::GetEnabledBaselineOutput;
    use aws_sdk_controltower::operation::get_enabled_control::GetEnabledControlOutput;
    use aws_sdk_controltower::operation::list_baselines::ListBaselinesOutput;
    use aws_sdk_controltower::operation::list_enabled_baselines::{
        ListEnabledBaselinesInput, ListEnabledBaselinesOutput,
    };
    use aws_sdk_controltower::operation::list_enabled_controls::ListEnabledControlsOutput;
    use aws_sdk_controltower::operation::reset_enabled_baseline::ResetEnabledBaselineOutput;
    use aws_sdk_controltower::operation::reset_enabled_control::ResetEnabledControlOutput;
    use aws_sdk_controltower::operation::update_enabled_baseline::UpdateEnabledBaselineOutput;
    use aws_sdk_controltower::types::error::{ConflictException, ServiceQuotaExceededException};
    use aws_sdk_controltower::types::{
        BaselineOperation, BaselineOperationStatus, BaselineSummary, ControlOperation,
        ControlOperationStatus, DriftStatus, DriftStatusSummary, EnabledBaselineDetails,
        EnabledBaselineDriftStatus, EnabledBaselineDriftStatusSummary, EnabledBaselineDriftTypes,
        EnabledBaselineInheritanceDrift, EnabledBaselineParameterSummary, EnabledBaselineSummary,
        EnabledControlDetails, EnabledControlParameterSummary, EnabledControlSummary,
        EnablementStatus, EnablementStatusSummary,
    };
    use aws_sdk_servicecatalog::operation::describe_portfolio::DescribePortfolioOutput;
    use aws_sdk_servicecatalog::operation::describe_portfolio_shares::DescribePortfolioSharesOutput;
    use aws_sdk_servicecatalog::operation::describe_record::DescribeRecordOutput;
    use aws_sdk_servicecatalog::operation::get_provisioned_product_outputs::GetProvisionedProductOutputsOutput;
    use aws_sdk_servicecatalog::operation::list_launch_paths::ListLaunchPathsOutput;
    use aws_sdk_servicecatalog::operation::list_portfolios::ListPortfoliosOutput;
    use aws_sdk_servicecatalog::operation::list_provisioning_artifacts::ListProvisioningArtifactsOutput;
    use aws_sdk_servicecatalog::operation::provision_product::ProvisionProductOutput;
    use aws_sdk_servicecatalog::operation::search_products_as_admin::SearchProductsAsAdminOutput;
    use aws_sdk_servicecatalog::operation::search_provisioned_products::SearchProvisionedProductsOutput;
    use aws_sdk_servicecatalog::types::{
        DescribePortfolioShareType, LaunchPathSummary, PortfolioDetail, PortfolioShareDetail,
        ProductViewDetail, ProductViewSummary, ProvisionedProductAttribute,
        ProvisionedProductStatus, ProvisioningArtifactDetail, ProvisioningArtifactGuidance,
        RecordDetail, RecordError, RecordOutput, RecordStatus, Tag as ScTag,
    };
    use aws_smithy_mocks::Rule;
    use aws_smithy_types::{DateTime, Document};
    use landfall_core::live::GovernanceScope;
    use landfall_core::live::{ControlStatus, LiveBaselines, LiveEnabledBaseline, ShareTarget};
    use landfall_core::model::SsoUser;
    use landfall_engine::TypedCalls;
    use landfall_engine::provider::{AccountFactoryRequest, OperationStatus};

    const OU: &str = "ou-ab12-34567890";
    const OU_ARN: &str = "arn:aws:organizations::111111111111:ou/o-test/ou-ab12-34567890";
    const CONTROL: &str = "arn:aws:controltower:us-east-1::control/AWS-GR_RESTRICT_ROOT_USER";
    const REGIONS_CONTROL: &str = "arn:aws:controltower:us-east-1::control/CT.MULTISERVICE.PV.1";
    const CT_BASELINE: &str = "arn:aws:controltower:us-east-1::baseline/17BSJV3IGJ2QSGA2";
    const IC_BASELINE: &str = "arn:aws:controltower:us-east-1::baseline/LN25R72TTG6IGPTQ";
    const IC_ENABLED: &str =
        "arn:aws:controltower:us-east-1:111111111111:enabledbaseline/XAHCR4CJTSI4W07MZ";

    /// `AWSControlTowerBaseline` enabled on `ou_id` at 4.0, in sync: the OU is
    /// registered (what a live read of a registered OU gives).
    fn registered(ou_id: &str) -> LiveBaselines {
        LiveBaselines {
            control_tower_baseline: Some(CT_BASELINE.into()),
            identity_center_enabled_baseline: None,
            enabled: vec![LiveEnabledBaseline {
                arn: format!(
                    "arn:aws:controltower:us-east-1:111111111111:enabledbaseline/EB-{ou_id}"
                ),
                baseline_arn: CT_BASELINE.into(),
                version: Some("4.0".into()),
                target_id: ou_id.into(),
                parent_arn: None,
                identity_center: None,
                status: ControlStatus::Succeeded,
                drifted: false,
            }],
        }
    }

    /// A backend over mocked Control Tower and Service Catalog clients. Their SDK
    /// retries are off, as `AwsBackend::connect` turns them off: every retry is
    /// Landfall's own, and counted.
    fn governed(ct: &[&Rule], sc: &[&Rule]) -> AwsBackend {
        use aws_config::retry::RetryConfig;
        let ct = mock_client!(
            aws_sdk_controltower,
            RuleMode::MatchAny,
            ct.iter().copied(),
            |c| c.retry_config(RetryConfig::disabled())
        );
        let sc = mock_client!(
            aws_sdk_servicecatalog,
            RuleMode::MatchAny,
            sc.iter().copied(),
            |c| c.retry_config(RetryConfig::disabled())
        );
        AwsBackend::from_conf(
            org_with_management_account(),
            no_sts(),
            &AwsOptions::default(),
        )
        .with_limits(fast_limits())
        .with_governance_clients(ct, sc)
    }

    fn operation(
        status: ControlOperationStatus,
        message: Option<&str>,
    ) -> GetControlOperationOutput {
        GetControlOperationOutput::builder()
            .control_operation(
                ControlOperation::builder()
                    .operation_identifier("op-1")
                    .status(status)
                    .set_status_message(message.map(str::to_string))
                    .build(),
            )
            .build()
    }

    async fn wait(aws: &AwsBackend, op: &str) -> OperationStatus {
        for _ in 0..20 {
            match aws.control_operation(op).await.unwrap() {
                OperationStatus::InProgress => {}
                done => return done,
            }
        }
        panic!("operation {op} never finished");
    }

    #[tokio::test]
    async fn enabling_a_control_targets_the_ou_arn_and_polls_until_it_succeeds() {
        let enable = mock!(aws_sdk_controltower::Client::enable_control)
            .match_requests(|r| {
                r.control_identifier() == Some(REGIONS_CONTROL)
                    && r.target_identifier() == Some(OU_ARN)
                    && r.parameters().len() == 1
                    && r.parameters()[0].key() == "AllowedRegions"
                    && *r.parameters()[0].value()
                        == Document::Array(vec![
                            Document::String("eu-west-1".into()),
                            Document::String("us-east-1".into()),
                        ])
            })
            .then_output(|| {
                EnableControlOutput::builder()
                    .operation_identifier("op-1")
                    .arn("arn:aws:controltower:us-east-1:111111111111:enabledcontrol/EC1")
                    .build()
                    .unwrap()
            });
        let poll = mock!(aws_sdk_controltower::Client::get_control_operation)
            .match_requests(|r| r.operation_identifier() == Some("op-1"))
            .sequence()
            .output(|| operation(ControlOperationStatus::InProgress, None))
            .times(2)
            .output(|| operation(ControlOperationStatus::Succeeded, None))
            .build();
        let aws = governed(&[&enable, &poll], &[]);

        let parameters = BTreeMap::from([(
            "AllowedRegions".to_string(),
            serde_json::json!(["eu-west-1", "us-east-1"]),
        )]);
        let op = aws
            .enable_control(REGIONS_CONTROL, OU, &parameters)
            .await
            .unwrap();
        assert_eq!(op, "op-1");
        assert_eq!(
            wait(&aws, &op).await,
            OperationStatus::Succeeded { account_id: None }
        );
        let calls = aws.call_counts();
        assert_eq!(calls.get("EnableControl"), Some(&1));
        assert_eq!(calls.get("GetControlOperation"), Some(&3));
    }

    #[tokio::test]
    async fn a_failed_control_operation_surfaces_its_message() {
        let poll = mock!(aws_sdk_controltower::Client::get_control_operation)
            .sequence()
            .output(|| operation(ControlOperationStatus::InProgress, None))
            .output(|| {
                operation(
                    ControlOperationStatus::Failed,
                    Some("AWS Control Tower cannot enable the control: the OU is not registered"),
                )
            })
            .build();
        let aws = governed(&[&poll], &[]);
        assert_eq!(
            wait(&aws, "op-1").await,
            OperationStatus::Failed {
                message: "AWS Control Tower cannot enable the control: the OU is not registered"
                    .into()
            }
        );
    }

    #[tokio::test]
    async fn conflicts_and_quota_errors_are_retryable_and_retried_to_success() {
        let enable = mock!(aws_sdk_controltower::Client::enable_control)
            .sequence()
            .error(|| {
                // As parsed from a response: the code and message in the metadata too.
                let message = "an operation is in progress on this control and target";
                EnableControlError::ConflictException(
                    ConflictException::builder()
                        .message(message)
                        .meta(
                            aws_sdk_controltower::error::ErrorMetadata::builder()
                                .code("ConflictException")
                                .message(message)
                                .build(),
                        )
                        .build()
                        .unwrap(),
                )
            })
            .error(|| {
                EnableControlError::ServiceQuotaExceededException(
                    ServiceQuotaExceededException::builder()
                        .message("too many control operations in flight")
                        .build()
                        .unwrap(),
                )
            })
            .output(|| {
                EnableControlOutput::builder()
                    .operation_identifier("op-2")
                    .build()
                    .unwrap()
            })
            .build();
        let aws = governed(&[&enable], &[]);
        let none = BTreeMap::new();

        let err = aws.enable_control(CONTROL, OU, &none).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Conflict, "{err}");
        assert!(err.kind.is_retryable());
        assert_eq!(err.api, "EnableControl");
        assert!(err.message.contains("in progress"), "{}", err.message);

        // What the executor does with a retryable error: back off and call again.
        let op = apply::retry_throttled(&fast_limits(), || aws.enable_control(CONTROL, OU, &none))
            .await
            .unwrap();
        assert_eq!(op, "op-2");
        assert_eq!(aws.call_counts().get("EnableControl"), Some(&3));
    }

    #[tokio::test]
    async fn reset_repairs_a_drifted_control() {
        let arn = "arn:aws:controltower:us-east-1:111111111111:enabledcontrol/EC1";
        let reset = mock!(aws_sdk_controltower::Client::reset_enabled_control)
            .match_requests(move |r| r.enabled_control_identifier() == Some(arn))
            .then_output(|| {
                ResetEnabledControlOutput::builder()
                    .operation_identifier("op-reset")
                    .build()
                    .unwrap()
            });
        let aws = governed(&[&reset], &[]);
        assert_eq!(aws.reset_enabled_control(arn).await.unwrap(), "op-reset");
        assert_eq!(aws.call_counts().get("ResetEnabledControl"), Some(&1));
    }

    fn summary(arn: &str, control: &str, drift: DriftStatus) -> EnabledControlSummary {
        EnabledControlSummary::builder()
            .arn(arn)
            .control_identifier(control)
            .target_identifier(OU_ARN)
            .status_summary(
                EnablementStatusSummary::builder()
                    .status(EnablementStatus::Succeeded)
                    .build(),
            )
            .drift_status_summary(DriftStatusSummary::builder().drift_status(drift).build())
            .build()
    }

    #[tokio::test]
    async fn refresh_reads_enabled_controls_with_parameters_and_drift() {
        let list = mock!(aws_sdk_controltower::Client::list_enabled_controls)
            .match_requests(|r| r.target_identifier() == Some(OU_ARN))
            .then_compute_output(|r| {
                if r.next_token().is_none() {
                    ListEnabledControlsOutput::builder()
                        .enabled_controls(summary("ec-root", CONTROL, DriftStatus::Drifted))
                        .next_token("page-2")
                        .build()
                        .unwrap()
                } else {
                    ListEnabledControlsOutput::builder()
                        .enabled_controls(summary(
                            "ec-regions",
                            REGIONS_CONTROL,
                            DriftStatus::InSync,
                        ))
                        .build()
                        .unwrap()
                }
            });
        let get =
            mock!(aws_sdk_controltower::Client::get_enabled_control).then_compute_output(|r| {
                let arn = r
                    .enabled_control_identifier()
                    .unwrap_or_default()
                    .to_string();
                let mut details = EnabledControlDetails::builder()
                    .arn(&arn)
                    .target_identifier(OU_ARN)
                    .status_summary(
                        EnablementStatusSummary::builder()
                            .status(EnablementStatus::Succeeded)
                            .build(),
                    )
                    .drift_status_summary(
                        DriftStatusSummary::builder()
                            .drift_status(if arn == "ec-root" {
                                DriftStatus::Drifted
                            } else {
                                DriftStatus::InSync
                            })
                            .build(),
                    );
                if arn == "ec-regions" {
                    details = details.parameters(
                        EnabledControlParameterSummary::builder()
                            .key("AllowedRegions")
                            .value(Document::Array(vec![Document::String("eu-west-1".into())]))
                            .build()
                            .unwrap(),
                    );
                }
                GetEnabledControlOutput::builder()
                    .enabled_control_details(details.build())
                    .build()
            });
        let aws = governed(&[&list, &get], &[]);

        let live = aws
            .refresh_governance(&GovernanceScope {
                control_targets: vec![OU.into()],
                ..GovernanceScope::default()
            })
            .await
            .unwrap();
        assert!(live.read);
        assert_eq!(live.enabled_controls.len(), 2);
        let root = &live.enabled_controls[0];
        assert_eq!(root.arn, "ec-root");
        assert_eq!(root.short_id(), "AWS-GR_RESTRICT_ROOT_USER");
        assert_eq!(root.target_id, OU);
        assert_eq!(root.status, ControlStatus::Succeeded);
        assert!(root.drifted);
        assert!(root.parameters.is_empty());
        let regions = &live.enabled_controls[1];
        assert_eq!(regions.control_arn, REGIONS_CONTROL);
        assert!(!regions.drifted);
        assert_eq!(
            regions.parameters,
            BTreeMap::from([(
                "AllowedRegions".to_string(),
                serde_json::json!(["eu-west-1"])
            )])
        );
        let calls = aws.call_counts();
        assert_eq!(calls.get("ListEnabledControls"), Some(&2)); // two pages
        assert_eq!(calls.get("GetEnabledControl"), Some(&2));
        assert_eq!(calls.get("ListPortfolios"), None);

        assert_eq!(
            aws.enabled_control_arn(REGIONS_CONTROL, OU).await.unwrap(),
            Some("ec-regions".to_string())
        );
        assert_eq!(
            aws.enabled_control_arn("arn:aws:controltower:us-east-1::control/AWS-GR_OTHER", OU)
                .await
                .unwrap(),
            None
        );
    }

    fn product_rules() -> Vec<Rule> {
        let search =
            mock!(aws_sdk_servicecatalog::Client::search_products_as_admin).then_output(|| {
                SearchProductsAsAdminOutput::builder()
                    .product_view_details(
                        ProductViewDetail::builder()
                            .product_view_summary(
                                ProductViewSummary::builder()
                                    .product_id("prod-other")
                                    .name("AWS Control Tower Account Factory (old)")
                                    .build(),
                            )
                            .build(),
                    )
                    .product_view_details(
                        ProductViewDetail::builder()
                            .product_view_summary(
                                ProductViewSummary::builder()
                                    .product_id("prod-af")
                                    .name("AWS Control Tower Account Factory")
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
            });
        let artifacts = mock!(aws_sdk_servicecatalog::Client::list_provisioning_artifacts)
            .match_requests(|r| r.product_id() == Some("prod-af"))
            .then_output(|| {
                let artifact = |id: &str, secs: i64, guidance, active| {
                    ProvisioningArtifactDetail::builder()
                        .id(id)
                        .created_time(DateTime::from_secs(secs))
                        .guidance(guidance)
                        .active(active)
                        .build()
                };
                ListProvisioningArtifactsOutput::builder()
                    .provisioning_artifact_details(artifact(
                        "pa-old",
                        1_000,
                        ProvisioningArtifactGuidance::Default,
                        true,
                    ))
                    .provisioning_artifact_details(artifact(
                        "pa-current",
                        2_000,
                        ProvisioningArtifactGuidance::Default,
                        true,
                    ))
                    .provisioning_artifact_details(artifact(
                        "pa-deprecated",
                        3_000,
                        ProvisioningArtifactGuidance::Deprecated,
                        true,
                    ))
                    .provisioning_artifact_details(artifact(
                        "pa-inactive",
                        4_000,
                        ProvisioningArtifactGuidance::Default,
                        false,
                    ))
                    .build()
            });
        let paths = mock!(aws_sdk_servicecatalog::Client::list_launch_paths).then_output(|| {
            ListLaunchPathsOutput::builder()
                .launch_path_summaries(LaunchPathSummary::builder().id("lpv2-af").build())
                .build()
        });
        vec![search, artifacts, paths]
    }

    fn request(name: &str) -> AccountFactoryRequest {
        AccountFactoryRequest {
            product: "AWS Control Tower Account Factory".into(),
            provisioned_product_name: name.into(),
            account_name: name.into(),
            account_email: format!("aws+{name}@example.com"),
            ou_name: "Workloads_Dev".into(),
            ou_id: OU.into(),
            sso_user: SsoUser {
                email: "platform@example.com".into(),
                first_name: "ML".into(),
                last_name: "Platform".into(),
            },
            tags: BTreeMap::from([("team".to_string(), "ml".to_string())]),
        }
    }

    fn record(id: &str, status: RecordStatus) -> RecordDetail {
        RecordDetail::builder().record_id(id).status(status).build()
    }

    #[tokio::test]
    async fn account_factory_provisions_and_reports_the_account_id_or_the_failure() {
        let provision = mock!(aws_sdk_servicecatalog::Client::provision_product)
            .match_requests(|r| {
                let params: BTreeMap<_, _> = r
                    .provisioning_parameters()
                    .iter()
                    .map(|p| (p.key().unwrap_or_default(), p.value().unwrap_or_default()))
                    .collect();
                r.product_id() == Some("prod-af")
                    && r.provisioning_artifact_id() == Some("pa-current")
                    && r.path_id() == Some("lpv2-af")
                    && r.provision_token()
                        .is_some_and(|t| t.starts_with("landfall-"))
                    && r.tags().len() == 1
                    && params.get("ManagedOrganizationalUnit")
                        == Some(&"Workloads_Dev (ou-ab12-34567890)")
                    && params.get("SSOUserEmail") == Some(&"platform@example.com")
                    && params.get("SSOUserFirstName") == Some(&"ML")
                    && params.get("SSOUserLastName") == Some(&"Platform")
                    && params.len() == 6
            })
            .then_compute_output(|r| {
                let name = r.provisioned_product_name().unwrap_or_default();
                let id = if name == "ml-dev" {
                    "rec-ok"
                } else {
                    "rec-bad"
                };
                ProvisionProductOutput::builder()
                    .record_detail(record(id, RecordStatus::Created))
                    .build()
            });
        let ok = mock!(aws_sdk_servicecatalog::Client::describe_record)
            .match_requests(|r| r.id() == Some("rec-ok"))
            .sequence()
            .output(|| {
                DescribeRecordOutput::builder()
                    .record_detail(record("rec-ok", RecordStatus::InProgress))
                    .build()
            })
            .output(|| {
                DescribeRecordOutput::builder()
                    .record_detail(record("rec-ok", RecordStatus::Succeeded))
                    .record_outputs(
                        RecordOutput::builder()
                            .output_key("AccountEmail")
                            .output_value("aws+ml-dev@example.com")
                            .build(),
                    )
                    .record_outputs(
                        RecordOutput::builder()
                            .output_key("AccountId")
                            .output_value("333333333333")
                            .build(),
                    )
                    .build()
            })
            .build();
        let bad = mock!(aws_sdk_servicecatalog::Client::describe_record)
            .match_requests(|r| r.id() == Some("rec-bad"))
            .then_output(|| {
                DescribeRecordOutput::builder()
                    .record_detail(
                        RecordDetail::builder()
                            .record_id("rec-bad")
                            .status(RecordStatus::Failed)
                            .record_errors(
                                RecordError::builder()
                                    .code("AccountFactoryFailure")
                                    .description(
                                        "The email address aws+ml-prod@example.com is already in use",
                                    )
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
            });
        let update = mock!(aws_sdk_servicecatalog::Client::update_provisioned_product)
            .match_requests(|r| {
                let params = r.provisioning_parameters();
                let ou = params
                    .iter()
                    .find(|p| p.key() == Some("ManagedOrganizationalUnit"));
                r.provisioned_product_id() == Some("pp-1")
                    && r.provisioning_artifact_id() == Some("pa-current")
                    && r.update_token().is_some()
                    && params.len() == 6
                    && ou.is_some_and(|p| {
                        p.value() == Some("Workloads_Prod (ou-ab12-prod0000)")
                            && !p.use_previous_value()
                    })
                    && params
                        .iter()
                        .filter(|p| p.key() != Some("ManagedOrganizationalUnit"))
                        .all(|p| p.use_previous_value() && p.value().is_none())
            })
            .then_output(|| {
                aws_sdk_servicecatalog::operation::update_provisioned_product::UpdateProvisionedProductOutput::builder()
                    .record_detail(record("rec-move", RecordStatus::Created))
                    .build()
            });
        let mut rules = product_rules();
        rules.extend([provision, ok, bad, update]);
        let aws = governed(&[], &rules.iter().collect::<Vec<_>>());

        let rec = aws.provision_account(&request("ml-dev")).await.unwrap();
        assert_eq!(rec, "rec-ok");
        assert_eq!(
            aws.provisioning_record(&rec).await.unwrap(),
            OperationStatus::InProgress
        );
        assert_eq!(
            aws.provisioning_record(&rec).await.unwrap(),
            OperationStatus::Succeeded {
                account_id: Some("333333333333".into())
            }
        );

        let rec = aws.provision_account(&request("ml-prod")).await.unwrap();
        assert_eq!(rec, "rec-bad");
        match aws.provisioning_record(&rec).await.unwrap() {
            OperationStatus::Failed { message } => {
                assert!(message.contains("is already in use"), "{message}");
                assert!(message.contains("AccountFactoryFailure"), "{message}");
            }
            other => panic!("expected a failure, got {other:?}"),
        }

        // Moving the account: only the OU changes.
        let mut moved = request("ml-dev");
        moved.ou_name = "Workloads_Prod".into();
        moved.ou_id = "ou-ab12-prod0000".into();
        assert_eq!(
            aws.update_provisioned_account("pp-1", &moved)
                .await
                .unwrap(),
            "rec-move"
        );

        // The product, its artifact and launch path were resolved once.
        let calls = aws.call_counts();
        assert_eq!(calls.get("SearchProductsAsAdmin"), Some(&1));
        assert_eq!(calls.get("ListProvisioningArtifacts"), Some(&1));
        assert_eq!(calls.get("ListLaunchPaths"), Some(&1));
        assert_eq!(calls.get("ProvisionProduct"), Some(&2));
        assert_eq!(calls.get("DescribeRecord"), Some(&3));
    }

    #[tokio::test]
    async fn provisioned_accounts_are_read_with_their_account_ids() {
        let attribute = |id: &str, name: &str, status| {
            ProvisionedProductAttribute::builder()
                .id(id)
                .name(name)
                .product_id("prod-af")
                .status(status)
                .last_record_id(format!("rec-{name}"))
                .build()
        };
        let search = mock!(aws_sdk_servicecatalog::Client::search_provisioned_products)
            .then_output(move || {
                SearchProvisionedProductsOutput::builder()
                    .provisioned_products(attribute(
                        "pp-2",
                        "ml-prod",
                        ProvisionedProductStatus::UnderChange,
                    ))
                    .provisioned_products(attribute(
                        "pp-1",
                        "ml-dev",
                        ProvisionedProductStatus::Available,
                    ))
                    .provisioned_products(attribute(
                        "pp-3",
                        "ml-dev-2",
                        ProvisionedProductStatus::Available,
                    ))
                    .build()
            });
        let outputs = mock!(aws_sdk_servicecatalog::Client::get_provisioned_product_outputs)
            .then_compute_output(|r| {
                let account = match r.provisioned_product_id() {
                    Some("pp-1") => "333333333333",
                    _ => "444444444444",
                };
                GetProvisionedProductOutputsOutput::builder()
                    .outputs(
                        RecordOutput::builder()
                            .output_key("AccountId")
                            .output_value(account)
                            .build(),
                    )
                    .build()
            });
        let mut rules = product_rules();
        rules.extend([search, outputs]);
        let aws = governed(&[], &rules.iter().collect::<Vec<_>>());

        let live = aws
            .refresh_governance(&GovernanceScope {
                account_factory: Some("prod-af".into()),
                ..GovernanceScope::default()
            })
            .await
            .unwrap();
        let seen: Vec<_> = live
            .provisioned_accounts
            .iter()
            .map(|a| (a.name.as_str(), a.status.as_str(), a.account_id.as_deref()))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("ml-dev", "AVAILABLE", Some("333333333333")),
                ("ml-dev-2", "AVAILABLE", Some("444444444444")),
                ("ml-prod", "UNDER_CHANGE", None),
            ]
        );
        assert_eq!(
            live.provisioned_accounts[2].last_record_id.as_deref(),
            Some("rec-ml-prod")
        );

        let one = aws
            .provisioned_account("prod-af", "ml-dev")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(one.provisioned_product_id, "pp-1");
        assert_eq!(one.account_id.as_deref(), Some("333333333333"));
        assert!(
            aws.provisioned_account("prod-af", "ml-test")
                .await
                .unwrap()
                .is_none()
        );
        let calls = aws.call_counts();
        // An id needs no search; one page each.
        assert_eq!(calls.get("SearchProductsAsAdmin"), None);
        assert_eq!(calls.get("SearchProvisionedProducts"), Some(&3));
        assert_eq!(calls.get("GetProvisionedProductOutputs"), Some(&3));
    }

    #[tokio::test]
    async fn portfolio_shares_of_every_type_are_read() {
        let list = mock!(aws_sdk_servicecatalog::Client::list_portfolios).then_output(|| {
            ListPortfoliosOutput::builder()
                .portfolio_details(
                    PortfolioDetail::builder()
                        .id("port-1")
                        .arn("arn:aws:catalog:us-east-1:111111111111:portfolio/port-1")
                        .display_name("ML products")
                        .provider_name("ML platform team")
                        .build(),
                )
                .portfolio_details(
                    // Imported from another account: its shares are not ours to read.
                    PortfolioDetail::builder()
                        .id("port-imported")
                        .arn("arn:aws:catalog:us-east-1:999999999999:portfolio/port-imported")
                        .display_name("Shared with us")
                        .provider_name("someone")
                        .build(),
                )
                .build()
        });
        let describe = mock!(aws_sdk_servicecatalog::Client::describe_portfolio)
            .match_requests(|r| r.id() == Some("port-1"))
            .then_output(|| {
                DescribePortfolioOutput::builder()
                    .portfolio_detail(
                        PortfolioDetail::builder()
                            .id("port-1")
                            .display_name("ML products")
                            .provider_name("ML platform team")
                            .description("Products for ML teams")
                            .build(),
                    )
                    .tags(ScTag::builder().key("team").value("ml").build().unwrap())
                    .build()
            });
        let shares = mock!(aws_sdk_servicecatalog::Client::describe_portfolio_shares)
            .match_requests(|r| r.portfolio_id() == Some("port-1"))
            .then_compute_output(|r| {
                let detail = |kind: DescribePortfolioShareType, principal: &str, accepted, tags| {
                    PortfolioShareDetail::builder()
                        .r#type(kind)
                        .principal_id(principal)
                        .accepted(accepted)
                        .share_tag_options(tags)
                        .build()
                };
                let out = DescribePortfolioSharesOutput::builder();
                match r.r#type() {
                    Some(DescribePortfolioShareType::Account) => {
                        out.portfolio_share_details(detail(
                            DescribePortfolioShareType::Account,
                            "222222222222",
                            false,
                            false,
                        ))
                    }
                    Some(DescribePortfolioShareType::Organization) => {
                        out.portfolio_share_details(detail(
                            DescribePortfolioShareType::Organization,
                            "o-test",
                            true,
                            true,
                        ))
                    }
                    Some(DescribePortfolioShareType::OrganizationalUnit) => out
                        .portfolio_share_details(detail(
                            DescribePortfolioShareType::OrganizationalUnit,
                            OU,
                            true,
                            false,
                        )),
                    _ => out,
                }
                .build()
            });
        let aws = governed(&[], &[&list, &describe, &shares]);

        let live = aws
            .refresh_governance(&GovernanceScope {
                portfolios: true,
                ..GovernanceScope::default()
            })
            .await
            .unwrap();
        assert_eq!(live.portfolios.len(), 1);
        let p = &live.portfolios["port-1"];
        assert_eq!(p.display_name, "ML products");
        assert_eq!(p.provider, "ML platform team");
        assert_eq!(p.description, "Products for ML teams");
        assert_eq!(p.tags, BTreeMap::from([("team".into(), "ml".into())]));
        let seen: Vec<_> = live
            .portfolio_shares
            .iter()
            .map(|s| {
                (
                    s.portfolio_id.as_str(),
                    s.target.clone(),
                    s.accepted,
                    s.share_tag_options,
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("port-1", ShareTarget::Organization, true, true),
                (
                    "port-1",
                    ShareTarget::OrganizationalUnit(OU.into()),
                    true,
                    false
                ),
                (
                    "port-1",
                    ShareTarget::Account("222222222222".into()),
                    false,
                    false
                ),
            ]
        );
        let calls = aws.call_counts();
        assert_eq!(calls.get("ListPortfolios"), Some(&1));
        assert_eq!(calls.get("DescribePortfolio"), Some(&1));
        assert_eq!(calls.get("DescribePortfolioShares"), Some(&3));
    }

    /// A miniature Control Tower behind the mocks: operations stay IN_PROGRESS for a
    /// few polls, more than the quota in flight is refused, and one control's first
    /// enable meets a conflict. The executor must keep within the quota it was given,
    /// retry the conflict, and record every enabled control.
    #[derive(Default)]
    struct MiniControlTower {
        in_flight: usize,
        max_in_flight: usize,
        quota_refusals: usize,
        conflicts_left: usize,
        polls_left: BTreeMap<String, u32>,
        enabled: BTreeMap<String, String>,
    }

    #[tokio::test]
    async fn thirty_controls_apply_within_the_control_operation_quota() {
        use aws_sdk_controltower::operation::get_control_operation::GetControlOperationError;
        use aws_smithy_mocks::MockResponse;
        use landfall_core::live::LiveOu;
        use landfall_core::model::{ControlSpec, ControlTowerSettings};
        use std::sync::Mutex;

        const QUOTA: usize = 4;
        let ct_state = Arc::new(Mutex::new(MiniControlTower {
            conflicts_left: 1,
            ..Default::default()
        }));
        let st = ct_state.clone();
        let enable =
            mock!(aws_sdk_controltower::Client::enable_control).then_compute_response(move |req| {
                let mut ct = st.lock().unwrap();
                let control = req.control_identifier().unwrap_or_default().to_string();
                if control.ends_with("_07") && ct.conflicts_left > 0 {
                    ct.conflicts_left -= 1;
                    return MockResponse::Error(EnableControlError::ConflictException(
                        ConflictException::builder()
                            .message("an operation is in progress on this target")
                            .meta(
                                aws_sdk_controltower::error::ErrorMetadata::builder()
                                    .code("ConflictException")
                                    .build(),
                            )
                            .build()
                            .unwrap(),
                    ));
                }
                if ct.in_flight >= QUOTA {
                    ct.quota_refusals += 1;
                    return MockResponse::Error(EnableControlError::ServiceQuotaExceededException(
                        ServiceQuotaExceededException::builder()
                            .message("too many control operations")
                            .meta(
                                aws_sdk_controltower::error::ErrorMetadata::builder()
                                    .code("ServiceQuotaExceededException")
                                    .build(),
                            )
                            .build()
                            .unwrap(),
                    ));
                }
                ct.in_flight += 1;
                ct.max_in_flight = ct.max_in_flight.max(ct.in_flight);
                let op = format!("op|{control}");
                ct.polls_left.insert(op.clone(), 3);
                MockResponse::Output(
                    EnableControlOutput::builder()
                        .operation_identifier(op)
                        .build()
                        .unwrap(),
                )
            });
        let st = ct_state.clone();
        let get_op = mock!(aws_sdk_controltower::Client::get_control_operation)
            .then_compute_response(move |req| {
                let mut ct = st.lock().unwrap();
                let op = req.operation_identifier().unwrap_or_default().to_string();
                let Some(left) = ct.polls_left.get_mut(&op) else {
                    return MockResponse::Error(GetControlOperationError::unhandled("unknown op"));
                };
                *left = left.saturating_sub(1);
                let status = if *left == 0 {
                    ct.polls_left.remove(&op);
                    ct.in_flight -= 1;
                    let control = op.trim_start_matches("op|").to_string();
                    let arn = format!(
                        "arn:aws:controltower:us-east-1:111111111111:enabledcontrol/E{}",
                        ct.enabled.len()
                    );
                    ct.enabled.insert(control, arn);
                    ControlOperationStatus::Succeeded
                } else {
                    ControlOperationStatus::InProgress
                };
                MockResponse::Output(operation(status, None))
            });
        let st = ct_state.clone();
        let list = mock!(aws_sdk_controltower::Client::list_enabled_controls)
            .then_compute_response(move |_req| {
                let ct = st.lock().unwrap();
                let summaries: Vec<EnabledControlSummary> = ct
                    .enabled
                    .iter()
                    .map(|(control, arn)| {
                        EnabledControlSummary::builder()
                            .arn(arn)
                            .control_identifier(control)
                            .target_identifier(OU_ARN)
                            .status_summary(
                                EnablementStatusSummary::builder()
                                    .status(EnablementStatus::Succeeded)
                                    .build(),
                            )
                            .build()
                    })
                    .collect();
                MockResponse::Output(
                    ListEnabledControlsOutput::builder()
                        .set_enabled_controls(Some(summaries))
                        .build()
                        .unwrap(),
                )
            });
        let aws = Arc::new(governed(&[&enable, &get_op, &list], &[]));

        let workloads = OuPath::new("Workloads");
        let controls: Vec<ControlSpec> = (0..30)
            .map(|i| ControlSpec {
                control: format!("AWS-GR_TEST_{i:02}"),
                arn: format!("arn:aws:controltower:us-east-1::control/AWS-GR_TEST_{i:02}"),
                ou: workloads.clone(),
                parameters: BTreeMap::new(),
                preset: None,
                origin: Default::default(),
            })
            .collect();
        let mut lz = landing_zone();
        lz.control_tower = Some(ControlTowerSettings::default());
        let desired = DesiredState {
            landing_zone: lz,
            ous: BTreeMap::from([(
                workloads.clone(),
                OuSpec {
                    path: workloads.clone(),
                    tags: Default::default(),
                    origin: Default::default(),
                },
            )]),
            accounts: BTreeMap::new(),
            policies: BTreeMap::new(),
            attachments: BTreeSet::new(),
            networks: BTreeMap::new(),
            kms_keys: BTreeMap::new(),
            drift_ignore: Vec::new(),
            controls,
            portfolios: BTreeMap::new(),
            expectations: Vec::new(),
            moved: Vec::new(),
            imports: Vec::new(),
            identity_center: None,
            permission_sets: Default::default(),
            groups: Default::default(),
            assignments: Vec::new(),
            tag_expectations: Vec::new(),
            org_policies: Vec::new(),
            org_policy_attachments: BTreeSet::new(),
            service_access: BTreeMap::new(),
            delegated_admins: BTreeMap::new(),
            buckets: BTreeMap::new(),
            trails: BTreeMap::new(),
            config_aggregators: BTreeMap::new(),
            access_analyzers: BTreeMap::new(),
        };
        let mut live = live_root();
        live.ous.insert(
            OU.into(),
            LiveOu {
                id: OU.into(),
                name: "Workloads".into(),
                parent_id: "r-1".into(),
                tags: Default::default(),
            },
        );
        live.governance.read = true;
        live.governance.baselines = Some(registered(OU));
        let state = StateFile::new("lz", world());
        let plan = compute_plan(
            &desired,
            &live,
            &state,
            StateRef {
                lineage: None,
                serial: 0,
            },
            &world(),
        )
        .unwrap();
        let enables = plan
            .changes
            .iter()
            .filter(|c| matches!(c.address, Address::Control(..)))
            .count();
        assert_eq!(enables, 30);
        let store = Arc::new(StateStore::in_memory(state));
        let options = ApplyOptions {
            parallelism: 30,
            control_operations_in_flight: Some(QUOTA),
            ..ApplyOptions::default()
        };
        let outcome = apply::apply(plan, aws, store.clone(), &options, Arc::new(Silent)).await;
        assert!(outcome.succeeded(), "{:?}", outcome.failures);
        let ct = ct_state.lock().unwrap();
        assert_eq!(ct.max_in_flight, QUOTA, "the quota was the bottleneck");
        assert_eq!(ct.quota_refusals, 0, "never more than the quota in flight");
        assert_eq!(ct.conflicts_left, 0);
        assert!(outcome.retries >= 1, "the conflict was retried");
        assert_eq!(ct.enabled.len(), 30);
        let state = store.snapshot();
        for i in 0..30 {
            let address = Address::Control(format!("AWS-GR_TEST_{i:02}"), workloads.clone());
            let control = format!("arn:aws:controltower:us-east-1::control/AWS-GR_TEST_{i:02}");
            assert_eq!(
                state.id_of(&address),
                ct.enabled.get(&control).map(String::as_str)
            );
        }
    }

    /// An answer the SDK cannot classify (a 404 HTML page, as from a wrong endpoint)
    /// still says what happened: the API, the HTTP status, the request id, the body's
    /// start and the endpoint — not `EnableControl: Unhandled: ` with nothing after it.
    #[tokio::test]
    async fn an_unmodelled_error_names_status_request_id_body_and_endpoint() {
        use aws_smithy_runtime_api::http::{Response, StatusCode};
        use aws_smithy_types::body::SdkBody;

        let not_found =
            mock!(aws_sdk_controltower::Client::enable_control).then_http_response(|| {
                let mut response = Response::new(
                    StatusCode::try_from(404).unwrap(),
                    SdkBody::from("<html><body><h1>Not Found</h1>\n  no such route</body></html>"),
                );
                response
                    .headers_mut()
                    .insert("x-amzn-requestid", "req-4711");
                response
            });
        let aws = governed(&[&not_found], &[]);
        let err = aws
            .enable_control(CONTROL, OU, &BTreeMap::new())
            .await
            .unwrap_err();
        let text = err.to_string();
        for part in [
            "EnableControl",
            "HTTP 404",
            "request id req-4711",
            "<h1>Not Found</h1> no such route",
            "controltower endpoint",
        ] {
            assert!(text.contains(part), "{part:?} missing from: {text}");
        }
        assert!(!err.kind.is_retryable());
    }

    /// Preflight on real AWS's answers: an organization without a Control Tower landing
    /// zone in the home region (ListLandingZones lists none) fails at plan, naming the
    /// prerequisite, with zero calls that change anything; a drifted one and Service
    /// Catalog's organizations access turned off are named too.
    #[tokio::test]
    async fn a_missing_landing_zone_fails_the_plan_before_any_change() {
        use aws_sdk_controltower::operation::get_landing_zone::GetLandingZoneOutput;
        use aws_sdk_controltower::operation::list_landing_zones::ListLandingZonesOutput;
        use aws_sdk_controltower::types::{
            LandingZoneDetail, LandingZoneDriftStatus, LandingZoneDriftStatusSummary,
            LandingZoneStatus, LandingZoneSummary,
        };
        use aws_sdk_servicecatalog::operation::get_aws_organizations_access_status::GetAwsOrganizationsAccessStatusOutput;
        use aws_sdk_servicecatalog::types::AccessStatus;
        use landfall_core::live::LiveOu;
        use landfall_core::model::{ControlSpec, ControlTowerSettings, PortfolioSpec};

        const LZ_ARN: &str = "arn:aws:controltower:us-east-1:111111111111:landingzone/LZ1";
        let workloads = OuPath::new("Workloads");
        let mut lz = landing_zone();
        lz.control_tower = Some(ControlTowerSettings::default());
        let desired = DesiredState {
            landing_zone: lz,
            ous: BTreeMap::from([(
                workloads.clone(),
                OuSpec {
                    path: workloads.clone(),
                    tags: Default::default(),
                    origin: Default::default(),
                },
            )]),
            accounts: BTreeMap::new(),
            policies: BTreeMap::new(),
            attachments: BTreeSet::new(),
            networks: BTreeMap::new(),
            kms_keys: BTreeMap::new(),
            drift_ignore: Vec::new(),
            controls: vec![ControlSpec {
                control: "AWS-GR_RESTRICT_ROOT_USER".into(),
                arn: CONTROL.into(),
                ou: workloads.clone(),
                parameters: BTreeMap::new(),
                preset: None,
                origin: Default::default(),
            }],
            portfolios: BTreeMap::from([(
                "ml".to_string(),
                PortfolioSpec {
                    name: "ml".into(),
                    existing_id: None,
                    display_name: "ML".into(),
                    provider: "Platform".into(),
                    description: String::new(),
                    tags: Default::default(),
                    share_tag_options: false,
                    shares: BTreeSet::from([Target::Root]),
                    origin: Default::default(),
                },
            )]),
            expectations: Vec::new(),
            moved: Vec::new(),
            imports: Vec::new(),
            identity_center: None,
            permission_sets: Default::default(),
            groups: Default::default(),
            assignments: Vec::new(),
            tag_expectations: Vec::new(),
            org_policies: Vec::new(),
            org_policy_attachments: BTreeSet::new(),
            service_access: BTreeMap::new(),
            delegated_admins: BTreeMap::new(),
            buckets: BTreeMap::new(),
            trails: BTreeMap::new(),
            config_aggregators: BTreeMap::new(),
            access_analyzers: BTreeMap::new(),
        };
        let mut live = live_root();
        live.ous.insert(
            OU.into(),
            LiveOu {
                id: OU.into(),
                name: "Workloads".into(),
                parent_id: "r-1".into(),
                tags: Default::default(),
            },
        );
        let state = StateFile::new("lz", world());
        let scope = landfall_core::governance::governance_scope(&desired, Some(&state), &live);
        assert!(
            scope.landing_zone && scope.organizations_access,
            "{scope:?}"
        );

        let no_landing_zone =
            mock!(aws_sdk_controltower::Client::list_landing_zones).then_output(|| {
                ListLandingZonesOutput::builder()
                    .set_landing_zones(Some(vec![]))
                    .build()
                    .unwrap()
            });
        let no_controls =
            mock!(aws_sdk_controltower::Client::list_enabled_controls).then_output(|| {
                ListEnabledControlsOutput::builder()
                    .set_enabled_controls(Some(vec![]))
                    .build()
                    .unwrap()
            });
        let access_off = mock!(aws_sdk_servicecatalog::Client::get_aws_organizations_access_status)
            .then_output(|| {
                GetAwsOrganizationsAccessStatusOutput::builder()
                    .access_status(AccessStatus::Disabled)
                    .build()
            });
        let no_portfolios = mock!(aws_sdk_servicecatalog::Client::list_portfolios)
            .then_output(|| ListPortfoliosOutput::builder().build());
        // `[control_tower]` registers Workloads: the baselines are read (none enabled).
        let offered = list_baselines();
        let none_enabled =
            mock!(aws_sdk_controltower::Client::list_enabled_baselines).then_output(|| {
                ListEnabledBaselinesOutput::builder()
                    .set_enabled_baselines(Some(vec![]))
                    .build()
                    .unwrap()
            });
        let aws = governed(
            &[&no_landing_zone, &no_controls, &offered, &none_enabled],
            &[&access_off, &no_portfolios],
        );
        let plan_problems = |live: &LiveState| {
            let err = compute_plan(
                &desired,
                live,
                &state,
                StateRef {
                    lineage: None,
                    serial: 0,
                },
                &world(),
            )
            .unwrap_err();
            let landfall_core::diff::PlanError::Problems(problems) = err else {
                panic!("not a problem: {err}");
            };
            problems
                .into_iter()
                .map(|p| format!("{}: {}", p.address, p.message))
                .collect::<Vec<_>>()
        };
        live.governance = aws.refresh_governance(&scope).await.unwrap();
        assert_eq!(live.governance.landing_zone, Some(None));
        assert_eq!(
            live.governance.organizations_access.as_deref(),
            Some("DISABLED")
        );
        let problems = plan_problems(&live);
        assert!(
            problems[0].starts_with("control.AWS-GR_RESTRICT_ROOT_USER")
                && problems[0].contains("no landing zone in us-east-1"),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("AWS Organizations access is DISABLED")),
            "{problems:?}"
        );
        let writes: Vec<String> = aws
            .call_counts()
            .into_keys()
            .filter(|api| {
                !api.starts_with("List") && !api.starts_with("Get") && !api.starts_with("Describe")
            })
            .collect();
        assert!(writes.is_empty(), "nothing was changed: {writes:?}");

        // A drifted landing zone is named with its ARN.
        let one = mock!(aws_sdk_controltower::Client::list_landing_zones).then_output(|| {
            ListLandingZonesOutput::builder()
                .landing_zones(LandingZoneSummary::builder().arn(LZ_ARN).build())
                .build()
                .unwrap()
        });
        let drifted = mock!(aws_sdk_controltower::Client::get_landing_zone)
            .match_requests(|r| r.landing_zone_identifier() == Some(LZ_ARN))
            .then_output(|| {
                GetLandingZoneOutput::builder()
                    .landing_zone(
                        LandingZoneDetail::builder()
                            .arn(LZ_ARN)
                            .version("3.3")
                            .manifest(Document::Object(Default::default()))
                            .status(LandingZoneStatus::Active)
                            .drift_status(
                                LandingZoneDriftStatusSummary::builder()
                                    .status(LandingZoneDriftStatus::Drifted)
                                    .build(),
                            )
                            .build()
                            .unwrap(),
                    )
                    .build()
            });
        let aws = governed(
            &[&one, &drifted, &no_controls, &offered, &none_enabled],
            &[&access_off, &no_portfolios],
        );
        live.governance = aws.refresh_governance(&scope).await.unwrap();
        let problems = plan_problems(&live);
        assert!(
            problems[0].contains("has drifted") && problems[0].contains(LZ_ARN),
            "{problems:?}"
        );
    }

    /// Through the executor: one Account Factory account provisions, the other's record
    /// fails; the failure carries Service Catalog's message and the state records only
    /// the account that exists (the failed one stays a pending intent for the rerun).
    #[tokio::test]
    async fn a_failed_provisioning_record_fails_the_apply_and_keeps_the_state_consistent() {
        use landfall_core::live::LiveOu;
        use landfall_core::model::{AccountFactory, ControlTowerSettings};

        let provision = mock!(aws_sdk_servicecatalog::Client::provision_product)
            .then_compute_output(|r| {
                let id = if r.provisioned_product_name() == Some("ml-dev") {
                    "rec-ok"
                } else {
                    "rec-bad"
                };
                ProvisionProductOutput::builder()
                    .record_detail(record(id, RecordStatus::Created))
                    .build()
            });
        let ok = mock!(aws_sdk_servicecatalog::Client::describe_record)
            .match_requests(|r| r.id() == Some("rec-ok"))
            .then_output(|| {
                DescribeRecordOutput::builder()
                    .record_detail(record("rec-ok", RecordStatus::Succeeded))
                    .record_outputs(
                        RecordOutput::builder()
                            .output_key("AccountId")
                            .output_value("333333333333")
                            .build(),
                    )
                    .build()
            });
        let bad = mock!(aws_sdk_servicecatalog::Client::describe_record)
            .match_requests(|r| r.id() == Some("rec-bad"))
            .then_output(|| {
                DescribeRecordOutput::builder()
                    .record_detail(
                        RecordDetail::builder()
                            .record_id("rec-bad")
                            .status(RecordStatus::Failed)
                            .record_errors(
                                RecordError::builder()
                                    .code("AccountFactoryFailure")
                                    .description("The email address is already in use")
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
            });
        let none_yet = mock!(aws_sdk_servicecatalog::Client::search_provisioned_products)
            .then_output(|| SearchProvisionedProductsOutput::builder().build());
        let mut rules = product_rules();
        rules.extend([provision, ok, bad, none_yet]);
        let aws = Arc::new(governed(&[], &rules.iter().collect::<Vec<_>>()));

        let dev_ou = OuPath::new("Workloads_Dev");
        let mut lz = landing_zone();
        lz.account_factory = AccountFactory::ControlTower;
        lz.control_tower = Some(ControlTowerSettings::default());
        let account = |name: &str| AccountSpec {
            name: name.into(),
            aws_name: None,
            email: format!("aws+{name}@example.com"),
            ou: Some(dev_ou.clone()),
            tags: BTreeMap::from([("team".to_string(), "ml".to_string())]),
            allow_close: false,
            origin: Default::default(),
            project: None,
            sso_user: Some(SsoUser {
                email: "platform@example.com".into(),
                first_name: "ML".into(),
                last_name: "Platform".into(),
            }),
        };
        let desired = DesiredState {
            landing_zone: lz,
            ous: BTreeMap::from([(
                dev_ou.clone(),
                OuSpec {
                    path: dev_ou.clone(),
                    tags: Default::default(),
                    origin: Default::default(),
                },
            )]),
            accounts: BTreeMap::from([
                ("ml-dev".to_string(), account("ml-dev")),
                ("ml-prod".to_string(), account("ml-prod")),
            ]),
            policies: BTreeMap::new(),
            attachments: BTreeSet::new(),
            networks: BTreeMap::new(),
            kms_keys: BTreeMap::new(),
            drift_ignore: Vec::new(),
            controls: Vec::new(),
            portfolios: BTreeMap::new(),
            expectations: Vec::new(),
            moved: Vec::new(),
            imports: Vec::new(),
            identity_center: None,
            permission_sets: Default::default(),
            groups: Default::default(),
            assignments: Vec::new(),
            tag_expectations: Vec::new(),
            org_policies: Vec::new(),
            org_policy_attachments: BTreeSet::new(),
            service_access: BTreeMap::new(),
            delegated_admins: BTreeMap::new(),
            buckets: BTreeMap::new(),
            trails: BTreeMap::new(),
            config_aggregators: BTreeMap::new(),
            access_analyzers: BTreeMap::new(),
        };
        let mut live = live_root();
        live.ous.insert(
            OU.into(),
            LiveOu {
                id: OU.into(),
                name: "Workloads_Dev".into(),
                parent_id: "r-1".into(),
                tags: Default::default(),
            },
        );
        live.governance.read = true;
        live.governance.baselines = Some(registered(OU));
        let state = StateFile::new("lz", world());
        let plan = compute_plan(
            &desired,
            &live,
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
        assert_eq!(outcome.failures.len(), 1, "{:?}", outcome.failures);
        match &outcome.failures[0] {
            ApplyError::OperationFailed {
                address,
                api,
                message,
            } => {
                assert_eq!(*address, Address::Account("ml-prod".into()));
                assert_eq!(*api, "ProvisionProduct");
                assert!(message.contains("already in use"), "{message}");
            }
            other => panic!("expected a failed provisioning, got {other:?}"),
        }
        assert!(outcome.failures[0].hint().is_some());
        let state = store.snapshot();
        assert_eq!(
            state.id_of(&Address::Account("ml-dev".into())),
            Some("333333333333")
        );
        assert_eq!(state.id_of(&Address::Account("ml-prod".into())), None);
        assert!(
            state
                .pending_creates
                .contains(&Address::Account("ml-prod".into()))
        );
        assert!(
            !state
                .pending_creates
                .contains(&Address::Account("ml-dev".into()))
        );
    }

    // ---- OU registration: AWSControlTowerBaseline ----

    const OU2: &str = "ou-cd34-56789012";
    const OU2_ARN: &str = "arn:aws:organizations::111111111111:ou/o-test/ou-cd34-56789012";
    const ACCOUNT_ARN: &str = "arn:aws:organizations::111111111111:account/o-test/222222222222";
    const EB_WORKLOADS: &str =
        "arn:aws:controltower:us-east-1:111111111111:enabledbaseline/XWORKLOADS00000";
    const EB_ACCOUNT: &str =
        "arn:aws:controltower:us-east-1:111111111111:enabledbaseline/XACCOUNT000000";
    const EB_SANDBOX: &str =
        "arn:aws:controltower:us-east-1:111111111111:enabledbaseline/XSANDBOX000000";

    fn baseline_summary(name: &str, arn: &str) -> BaselineSummary {
        BaselineSummary::builder()
            .name(name)
            .arn(arn)
            .build()
            .unwrap()
    }

    /// `ListBaselines` as Control Tower answers it for a 3.x landing zone.
    fn list_baselines() -> Rule {
        mock!(aws_sdk_controltower::Client::list_baselines).then_output(|| {
            ListBaselinesOutput::builder()
                .baselines(baseline_summary(
                    "AuditBaseline",
                    "arn:aws:controltower:us-east-1::baseline/2YQUVLIGNIS5OGUZ",
                ))
                .baselines(baseline_summary("AWSControlTowerBaseline", CT_BASELINE))
                .baselines(baseline_summary("IdentityCenterBaseline", IC_BASELINE))
                .build()
                .unwrap()
        })
    }

    fn inheritance(status: EnabledBaselineDriftStatus) -> EnabledBaselineDriftStatusSummary {
        EnabledBaselineDriftStatusSummary::builder()
            .types(
                EnabledBaselineDriftTypes::builder()
                    .inheritance(
                        EnabledBaselineInheritanceDrift::builder()
                            .status(status)
                            .build(),
                    )
                    .build(),
            )
            .build()
    }

    fn enabled_summary(
        arn: &str,
        target: &str,
        parent: Option<&str>,
        version: &str,
        status: EnablementStatus,
        drift: Option<EnabledBaselineDriftStatus>,
    ) -> EnabledBaselineSummary {
        EnabledBaselineSummary::builder()
            .arn(arn)
            .baseline_identifier(CT_BASELINE)
            .baseline_version(version)
            .target_identifier(target)
            .set_parent_identifier(parent.map(str::to_string))
            .status_summary(EnablementStatusSummary::builder().status(status).build())
            .set_drift_status_summary(drift.map(inheritance))
            .build()
            .unwrap()
    }

    fn filtered_on(r: &ListEnabledBaselinesInput, baseline: &str) -> bool {
        r.filter()
            .is_some_and(|f| f.baseline_identifiers() == [baseline])
    }

    #[tokio::test]
    async fn refresh_reads_registrations_with_enrolled_accounts_drift_and_identity_center() {
        let every = mock!(aws_sdk_controltower::Client::list_enabled_baselines)
            .match_requests(|r| {
                r.include_children() == Some(true)
                    && filtered_on(r, CT_BASELINE)
                    && r.filter()
                        .is_some_and(|f| f.target_identifiers().is_empty())
            })
            .then_compute_output(|r| {
                if r.next_token().is_none() {
                    ListEnabledBaselinesOutput::builder()
                        .enabled_baselines(enabled_summary(
                            EB_WORKLOADS,
                            OU_ARN,
                            None,
                            "4.0",
                            EnablementStatus::Succeeded,
                            Some(EnabledBaselineDriftStatus::InSync),
                        ))
                        // An enrolled account: a child of the OU's enabled baseline,
                        // no longer matching it.
                        .enabled_baselines(enabled_summary(
                            EB_ACCOUNT,
                            ACCOUNT_ARN,
                            Some(EB_WORKLOADS),
                            "4.0",
                            EnablementStatus::Succeeded,
                            Some(EnabledBaselineDriftStatus::Drifted),
                        ))
                        .next_token("page-2")
                        .build()
                        .unwrap()
                } else {
                    ListEnabledBaselinesOutput::builder()
                        .enabled_baselines(enabled_summary(
                            EB_SANDBOX,
                            OU2_ARN,
                            None,
                            "3.0",
                            EnablementStatus::Failed,
                            None,
                        ))
                        .build()
                        .unwrap()
                }
            });
        let identity_center = mock!(aws_sdk_controltower::Client::list_enabled_baselines)
            .match_requests(|r| filtered_on(r, IC_BASELINE) && r.include_children().is_none())
            .then_output(|| {
                ListEnabledBaselinesOutput::builder()
                    .enabled_baselines(
                        EnabledBaselineSummary::builder()
                            .arn(IC_ENABLED)
                            .baseline_identifier(IC_BASELINE)
                            .baseline_version("1.0")
                            .target_identifier(
                                "arn:aws:controltower:us-east-1:111111111111:landingzone/LZ1",
                            )
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap()
            });
        let on_ou = mock!(aws_sdk_controltower::Client::list_enabled_baselines)
            .match_requests(|r| {
                filtered_on(r, CT_BASELINE)
                    && r.include_children().is_none()
                    && r.filter()
                        .is_some_and(|f| f.target_identifiers().len() == 1)
            })
            .then_compute_output(|r| {
                let target = r
                    .filter()
                    .map(|f| f.target_identifiers()[0].clone())
                    .unwrap_or_default();
                let found = (target == OU_ARN).then(|| {
                    enabled_summary(
                        EB_WORKLOADS,
                        OU_ARN,
                        None,
                        "4.0",
                        EnablementStatus::Succeeded,
                        None,
                    )
                });
                ListEnabledBaselinesOutput::builder()
                    .set_enabled_baselines(Some(found.into_iter().collect()))
                    .build()
                    .unwrap()
            });
        let get =
            mock!(aws_sdk_controltower::Client::get_enabled_baseline).then_compute_output(|r| {
                let arn = r
                    .enabled_baseline_identifier()
                    .unwrap_or_default()
                    .to_string();
                let workloads = arn == EB_WORKLOADS;
                let mut details = EnabledBaselineDetails::builder()
                    .arn(&arn)
                    .baseline_identifier(CT_BASELINE)
                    .baseline_version(if workloads { "4.0" } else { "3.0" })
                    .target_identifier(if workloads { OU_ARN } else { OU2_ARN })
                    .status_summary(
                        EnablementStatusSummary::builder()
                            .status(if workloads {
                                EnablementStatus::Succeeded
                            } else {
                                EnablementStatus::Failed
                            })
                            .build(),
                    );
                if workloads {
                    details = details.parameters(
                        EnabledBaselineParameterSummary::builder()
                            .key("IdentityCenterEnabledBaselineArn")
                            .value(Document::String(IC_ENABLED.into()))
                            .build()
                            .unwrap(),
                    );
                }
                GetEnabledBaselineOutput::builder()
                    .enabled_baseline_details(details.build().unwrap())
                    .build()
            });
        let offered = list_baselines();
        let aws = governed(&[&offered, &every, &identity_center, &on_ou, &get], &[]);

        let live = aws
            .refresh_governance(&GovernanceScope {
                baselines: true,
                ..GovernanceScope::default()
            })
            .await
            .unwrap();
        let baselines = live.baselines.expect("baselines were read");
        assert_eq!(
            baselines,
            LiveBaselines {
                control_tower_baseline: Some(CT_BASELINE.into()),
                identity_center_enabled_baseline: Some(IC_ENABLED.into()),
                enabled: vec![
                    LiveEnabledBaseline {
                        arn: EB_ACCOUNT.into(),
                        baseline_arn: CT_BASELINE.into(),
                        version: Some("4.0".into()),
                        target_id: "222222222222".into(),
                        parent_arn: Some(EB_WORKLOADS.into()),
                        identity_center: None,
                        status: ControlStatus::Succeeded,
                        drifted: true,
                    },
                    LiveEnabledBaseline {
                        arn: EB_WORKLOADS.into(),
                        baseline_arn: CT_BASELINE.into(),
                        version: Some("4.0".into()),
                        target_id: OU.into(),
                        parent_arn: None,
                        identity_center: Some(IC_ENABLED.into()),
                        status: ControlStatus::Succeeded,
                        drifted: false,
                    },
                    LiveEnabledBaseline {
                        arn: EB_SANDBOX.into(),
                        baseline_arn: CT_BASELINE.into(),
                        version: Some("3.0".into()),
                        target_id: OU2.into(),
                        parent_arn: None,
                        identity_center: None,
                        status: ControlStatus::Failed,
                        drifted: false,
                    },
                ],
            }
        );
        assert_eq!(
            baselines.on_ou(OU).map(|b| b.arn.as_str()),
            Some(EB_WORKLOADS)
        );
        assert!(baselines.enrolled("222222222222"));
        let calls = aws.call_counts();
        assert_eq!(calls.get("ListBaselines"), Some(&1));
        // Two pages of every AWSControlTowerBaseline, one of IdentityCenterBaseline.
        assert_eq!(calls.get("ListEnabledBaselines"), Some(&3));
        // Only the OUs' enabled baselines carry parameters.
        assert_eq!(calls.get("GetEnabledBaseline"), Some(&2));
        assert_eq!(calls.get("ListEnabledControls"), None);

        // After an enable, the executor finds the OU's enabled baseline.
        assert_eq!(
            aws.enabled_baseline_arn(OU).await.unwrap().as_deref(),
            Some(EB_WORKLOADS)
        );
        assert_eq!(aws.enabled_baseline_arn(OU2).await.unwrap(), None);
        let calls = aws.call_counts();
        assert_eq!(calls.get("ListBaselines"), Some(&1), "read once per run");
        assert_eq!(calls.get("ListEnabledBaselines"), Some(&5));
    }

    #[tokio::test]
    async fn without_aws_control_tower_baseline_no_registration_is_read() {
        let offered = mock!(aws_sdk_controltower::Client::list_baselines).then_output(|| {
            ListBaselinesOutput::builder()
                .set_baselines(Some(vec![]))
                .build()
                .unwrap()
        });
        let aws = governed(&[&offered], &[]);
        let live = aws
            .refresh_governance(&GovernanceScope {
                baselines: true,
                ..GovernanceScope::default()
            })
            .await
            .unwrap();
        assert_eq!(live.baselines, Some(LiveBaselines::default()));
        assert_eq!(aws.enabled_baseline_arn(OU).await.unwrap(), None);
        let calls = aws.call_counts();
        assert_eq!(calls.get("ListBaselines"), Some(&1));
        assert_eq!(calls.get("ListEnabledBaselines"), None);
    }

    #[tokio::test]
    async fn a_failing_page_is_asked_for_again_from_its_token() {
        use aws_sdk_controltower::operation::list_enabled_baselines::ListEnabledBaselinesError;
        use aws_sdk_controltower::types::error::ThrottlingException;

        let first = mock!(aws_sdk_controltower::Client::list_enabled_baselines)
            .match_requests(|r| filtered_on(r, CT_BASELINE) && r.next_token().is_none())
            .then_output(|| {
                ListEnabledBaselinesOutput::builder()
                    .enabled_baselines(enabled_summary(
                        EB_WORKLOADS,
                        OU_ARN,
                        None,
                        "4.0",
                        EnablementStatus::Succeeded,
                        None,
                    ))
                    .next_token("page-2")
                    .build()
                    .unwrap()
            });
        // The second page is throttled once, then served.
        let second = mock!(aws_sdk_controltower::Client::list_enabled_baselines)
            .match_requests(|r| filtered_on(r, CT_BASELINE) && r.next_token() == Some("page-2"))
            .sequence()
            .error(|| {
                ListEnabledBaselinesError::ThrottlingException(
                    ThrottlingException::builder()
                        .message("Rate exceeded")
                        .build()
                        .unwrap(),
                )
            })
            .output(|| {
                ListEnabledBaselinesOutput::builder()
                    .enabled_baselines(enabled_summary(
                        EB_SANDBOX,
                        OU2_ARN,
                        None,
                        "4.0",
                        EnablementStatus::Succeeded,
                        None,
                    ))
                    .build()
                    .unwrap()
            })
            .build();
        let no_identity_center = mock!(aws_sdk_controltower::Client::list_enabled_baselines)
            .match_requests(|r| filtered_on(r, IC_BASELINE))
            .then_output(|| {
                ListEnabledBaselinesOutput::builder()
                    .set_enabled_baselines(Some(vec![]))
                    .build()
                    .unwrap()
            });
        let get =
            mock!(aws_sdk_controltower::Client::get_enabled_baseline).then_compute_output(|r| {
                GetEnabledBaselineOutput::builder()
                    .enabled_baseline_details(
                        EnabledBaselineDetails::builder()
                            .arn(r.enabled_baseline_identifier().unwrap_or_default())
                            .baseline_identifier(CT_BASELINE)
                            .target_identifier(OU_ARN)
                            .build()
                            .unwrap(),
                    )
                    .build()
            });
        let offered = list_baselines();
        let aws = governed(&[&offered, &first, &second, &no_identity_center, &get], &[]);
        let live = aws
            .refresh_governance(&GovernanceScope {
                baselines: true,
                ..GovernanceScope::default()
            })
            .await
            .unwrap();
        let arns: Vec<_> = live
            .baselines
            .unwrap()
            .enabled
            .into_iter()
            .map(|b| b.arn)
            .collect();
        assert_eq!(arns, vec![EB_WORKLOADS.to_string(), EB_SANDBOX.to_string()]);
        // Page 1 once, page 2 twice (throttled, then served), IdentityCenterBaseline
        // once: the retry resumed at page 2 instead of starting over.
        assert_eq!(aws.call_counts().get("ListEnabledBaselines"), Some(&4));
    }

    #[tokio::test]
    async fn enabling_a_baseline_sends_the_ou_arn_version_and_identity_center_parameter() {
        let with_identity_center = mock!(aws_sdk_controltower::Client::enable_baseline)
            .match_requests(|r| {
                r.baseline_identifier() == Some(CT_BASELINE)
                    && r.baseline_version() == Some("4.0")
                    && r.target_identifier() == Some(OU_ARN)
                    && r.parameters().len() == 1
                    && r.parameters()[0].key() == "IdentityCenterEnabledBaselineArn"
                    && *r.parameters()[0].value() == Document::String(IC_ENABLED.into())
            })
            .then_output(|| {
                EnableBaselineOutput::builder()
                    .operation_identifier("op-enable-1")
                    .arn(EB_WORKLOADS)
                    .build()
                    .unwrap()
            });
        let without = mock!(aws_sdk_controltower::Client::enable_baseline)
            .match_requests(|r| {
                r.baseline_identifier() == Some(CT_BASELINE)
                    && r.baseline_version() == Some("4.0")
                    && r.target_identifier() == Some(OU2_ARN)
                    && r.parameters.is_none()
            })
            .then_output(|| {
                EnableBaselineOutput::builder()
                    .operation_identifier("op-enable-2")
                    .arn(EB_SANDBOX)
                    .build()
                    .unwrap()
            });
        let update = mock!(aws_sdk_controltower::Client::update_enabled_baseline)
            .match_requests(|r| {
                r.enabled_baseline_identifier() == Some(EB_SANDBOX)
                    && r.baseline_version() == Some("5.0")
                    && r.parameters().len() == 1
                    && *r.parameters()[0].value() == Document::String(IC_ENABLED.into())
            })
            .then_output(|| {
                UpdateEnabledBaselineOutput::builder()
                    .operation_identifier("op-update")
                    .build()
                    .unwrap()
            });
        let reset = mock!(aws_sdk_controltower::Client::reset_enabled_baseline)
            .match_requests(|r| r.enabled_baseline_identifier() == Some(EB_WORKLOADS))
            .then_output(|| {
                ResetEnabledBaselineOutput::builder()
                    .operation_identifier("op-reset")
                    .build()
                    .unwrap()
            });
        // A response without its operation id (the SDK fills in an empty one).
        let reset_without_id = mock!(aws_sdk_controltower::Client::reset_enabled_baseline)
            .match_requests(|r| r.enabled_baseline_identifier() == Some(EB_SANDBOX))
            .then_output(|| {
                ResetEnabledBaselineOutput::builder()
                    .operation_identifier("")
                    .build()
                    .unwrap()
            });
        let aws = governed(
            &[
                &with_identity_center,
                &without,
                &update,
                &reset,
                &reset_without_id,
            ],
            &[],
        );

        let op = aws
            .enable_baseline(CT_BASELINE, "4.0", OU, Some(IC_ENABLED))
            .await
            .unwrap();
        assert_eq!(op, "op-enable-1");
        let op = aws
            .enable_baseline(CT_BASELINE, "4.0", OU2, None)
            .await
            .unwrap();
        assert_eq!(op, "op-enable-2");
        let op = aws
            .update_enabled_baseline(EB_SANDBOX, "5.0", Some(IC_ENABLED))
            .await
            .unwrap();
        assert_eq!(op, "op-update");
        assert_eq!(
            aws.reset_enabled_baseline(EB_WORKLOADS).await.unwrap(),
            "op-reset"
        );
        let err = aws.reset_enabled_baseline(EB_SANDBOX).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Other("EmptyResponse".into()), "{err}");
        assert_eq!(err.api, "ResetEnabledBaseline");
        let calls = aws.call_counts();
        assert_eq!(calls.get("EnableBaseline"), Some(&2));
        assert_eq!(calls.get("UpdateEnabledBaseline"), Some(&1));
        assert_eq!(calls.get("ResetEnabledBaseline"), Some(&2));
    }

    fn baseline_operation(
        status: BaselineOperationStatus,
        message: Option<&str>,
    ) -> GetBaselineOperationOutput {
        GetBaselineOperationOutput::builder()
            .baseline_operation(
                BaselineOperation::builder()
                    .operation_identifier("op")
                    .status(status)
                    .set_status_message(message.map(str::to_string))
                    .build(),
            )
            .build()
    }

    #[tokio::test]
    async fn baseline_operations_are_in_progress_then_succeeded_or_failed() {
        let enabling = mock!(aws_sdk_controltower::Client::get_baseline_operation)
            .match_requests(|r| r.operation_identifier() == Some("op-enable"))
            .sequence()
            .output(|| baseline_operation(BaselineOperationStatus::InProgress, None))
            .times(2)
            .output(|| baseline_operation(BaselineOperationStatus::Succeeded, None))
            .build();
        let failing = mock!(aws_sdk_controltower::Client::get_baseline_operation)
            .match_requests(|r| r.operation_identifier() == Some("op-fail"))
            .then_output(|| {
                baseline_operation(
                    BaselineOperationStatus::Failed,
                    Some("AWS Control Tower cannot register the OU: its parent is not registered"),
                )
            });
        let silent = mock!(aws_sdk_controltower::Client::get_baseline_operation)
            .match_requests(|r| r.operation_identifier() == Some("op-silent"))
            .then_output(|| baseline_operation(BaselineOperationStatus::Failed, Some("")));
        let aws = governed(&[&enabling, &failing, &silent], &[]);

        assert_eq!(
            aws.baseline_operation("op-enable").await.unwrap(),
            OperationStatus::InProgress
        );
        assert_eq!(
            aws.baseline_operation("op-enable").await.unwrap(),
            OperationStatus::InProgress
        );
        assert_eq!(
            aws.baseline_operation("op-enable").await.unwrap(),
            OperationStatus::Succeeded { account_id: None }
        );
        assert_eq!(
            aws.baseline_operation("op-fail").await.unwrap(),
            OperationStatus::Failed {
                message: "AWS Control Tower cannot register the OU: its parent is not registered"
                    .into()
            }
        );
        assert_eq!(
            aws.baseline_operation("op-silent").await.unwrap(),
            OperationStatus::Failed {
                message: "the baseline operation failed (no message)".into()
            }
        );
        assert_eq!(aws.call_counts().get("GetBaselineOperation"), Some(&5));
        assert_eq!(aws.call_counts().get("GetControlOperation"), None);
    }

    #[tokio::test]
    async fn disabling_a_baseline_that_is_gone_is_not_found_so_already_done() {
        use aws_sdk_controltower::operation::disable_baseline::DisableBaselineError;
        use aws_sdk_controltower::types::error::ResourceNotFoundException;
        use landfall_engine::provider::{Call, GovernanceCall};

        let gone = mock!(aws_sdk_controltower::Client::disable_baseline)
            .match_requests(|r| r.enabled_baseline_identifier() == Some(EB_SANDBOX))
            .then_error(|| {
                let message = "The enabled baseline was not found";
                DisableBaselineError::ResourceNotFoundException(
                    ResourceNotFoundException::builder()
                        .message(message)
                        .meta(
                            aws_sdk_controltower::error::ErrorMetadata::builder()
                                .code("ResourceNotFoundException")
                                .message(message)
                                .build(),
                        )
                        .build()
                        .unwrap(),
                )
            });
        let disable = mock!(aws_sdk_controltower::Client::disable_baseline)
            .match_requests(|r| r.enabled_baseline_identifier() == Some(EB_WORKLOADS))
            .then_output(|| {
                DisableBaselineOutput::builder()
                    .operation_identifier("op-disable")
                    .build()
                    .unwrap()
            });
        let aws = governed(&[&gone, &disable], &[]);

        assert_eq!(
            aws.disable_baseline(EB_WORKLOADS).await.unwrap().as_deref(),
            Some("op-disable")
        );
        let err = aws.disable_baseline(EB_SANDBOX).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
        assert_eq!(err.api, "DisableBaseline");
        assert!(err.message.contains("not found"), "{}", err.message);
        let call = Call::Governance(GovernanceCall::DisableBaseline {
            enabled_baseline_arn: EB_SANDBOX,
        });
        assert!(call.already_done(&err.kind), "the executor counts it done");
        assert_eq!(aws.call_counts().get("DisableBaseline"), Some(&2));
    }

    #[tokio::test]
    async fn the_landing_zone_manifest_names_the_security_ou() {
        use aws_sdk_controltower::operation::get_landing_zone::GetLandingZoneOutput;
        use aws_sdk_controltower::operation::list_landing_zones::ListLandingZonesOutput;
        use aws_sdk_controltower::types::{
            LandingZoneDetail, LandingZoneStatus, LandingZoneSummary,
        };

        const LZ_ARN: &str = "arn:aws:controltower:us-east-1:111111111111:landingzone/LZ1";
        let listed = mock!(aws_sdk_controltower::Client::list_landing_zones).then_output(|| {
            ListLandingZonesOutput::builder()
                .landing_zones(LandingZoneSummary::builder().arn(LZ_ARN).build())
                .build()
                .unwrap()
        });
        let manifest = |security: Option<&str>| {
            let mut structure = serde_json::json!({"sandbox": {"name": "Sandbox"}});
            if let Some(name) = security {
                structure["security"] = serde_json::json!({ "name": name });
            }
            let json = serde_json::json!({
                "governedRegions": ["us-east-1", "eu-west-1"],
                "organizationStructure": structure,
                "centralizedLogging": {"accountId": "333333333333", "enabled": true},
                "securityRoles": {"accountId": "444444444444"},
                "accessManagement": {"enabled": true}
            });
            to_document(&json)
        };
        let read = |security: Option<&'static str>| {
            let get = mock!(aws_sdk_controltower::Client::get_landing_zone)
                .match_requests(|r| r.landing_zone_identifier() == Some(LZ_ARN))
                .then_output(move || {
                    GetLandingZoneOutput::builder()
                        .landing_zone(
                            LandingZoneDetail::builder()
                                .arn(LZ_ARN)
                                .version("3.3")
                                .manifest(manifest(security))
                                .status(LandingZoneStatus::Active)
                                .build()
                                .unwrap(),
                        )
                        .build()
                });
            let aws = governed(&[&listed, &get], &[]);
            async move {
                aws.refresh_governance(&GovernanceScope {
                    landing_zone: true,
                    ..GovernanceScope::default()
                })
                .await
                .unwrap()
                .landing_zone
                .flatten()
                .expect("a landing zone")
            }
        };
        let lz = read(Some("Core")).await;
        assert_eq!(lz.security_ou.as_deref(), Some("Core"));
        assert_eq!(lz.version, "3.3");
        assert_eq!(lz.status, "ACTIVE");
        assert_eq!(read(None).await.security_ou, None);
    }

    /// A JSON value as a Smithy document (as the SDK parses a manifest).
    fn to_document(value: &serde_json::Value) -> Document {
        use serde_json::Value;
        match value {
            Value::Null => Document::Null,
            Value::Bool(b) => Document::Bool(*b),
            Value::Number(n) => Document::Number(aws_smithy_types::Number::Float(
                n.as_f64().unwrap_or_default(),
            )),
            Value::String(s) => Document::String(s.clone()),
            Value::Array(items) => Document::Array(items.iter().map(to_document).collect()),
            Value::Object(map) => Document::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), to_document(v)))
                    .collect(),
            ),
        }
    }

    /// Through the executor: `[control_tower]` registers a declared OU that is not yet
    /// registered — EnableBaseline with the landing zone's baseline version and its
    /// Identity Center enabled baseline, polled with GetBaselineOperation, and the
    /// enabled baseline found on the OU is what the state records.
    #[tokio::test]
    async fn registering_an_ou_through_the_executor_records_its_enabled_baseline() {
        use landfall_core::live::{LiveLandingZone, LiveOu};
        use landfall_core::model::ControlTowerSettings;
        use std::sync::Mutex;

        let registered_yet = Arc::new(Mutex::new(false));
        let enable = mock!(aws_sdk_controltower::Client::enable_baseline)
            .match_requests(|r| {
                r.baseline_identifier() == Some(CT_BASELINE)
                    && r.baseline_version() == Some("4.0")
                    && r.target_identifier() == Some(OU_ARN)
                    && r.parameters().len() == 1
                    && *r.parameters()[0].value() == Document::String(IC_ENABLED.into())
            })
            .then_output(|| {
                EnableBaselineOutput::builder()
                    .operation_identifier("op-register")
                    .arn(EB_WORKLOADS)
                    .build()
                    .unwrap()
            });
        let done = registered_yet.clone();
        let poll = mock!(aws_sdk_controltower::Client::get_baseline_operation)
            .match_requests(|r| r.operation_identifier() == Some("op-register"))
            .then_compute_output(move |_| {
                let mut done = done.lock().unwrap();
                let status = if *done {
                    BaselineOperationStatus::Succeeded
                } else {
                    *done = true;
                    BaselineOperationStatus::InProgress
                };
                baseline_operation(status, None)
            });
        let seen = registered_yet.clone();
        let on_ou = mock!(aws_sdk_controltower::Client::list_enabled_baselines)
            .match_requests(|r| {
                filtered_on(r, CT_BASELINE)
                    && r.filter()
                        .is_some_and(|f| f.target_identifiers() == [OU_ARN])
            })
            .then_compute_output(move |_| {
                let found = (*seen.lock().unwrap()).then(|| {
                    enabled_summary(
                        EB_WORKLOADS,
                        OU_ARN,
                        None,
                        "4.0",
                        EnablementStatus::Succeeded,
                        None,
                    )
                });
                ListEnabledBaselinesOutput::builder()
                    .set_enabled_baselines(Some(found.into_iter().collect()))
                    .build()
                    .unwrap()
            });
        let offered = list_baselines();
        let aws = Arc::new(governed(&[&offered, &enable, &poll, &on_ou], &[]));

        let workloads = OuPath::new("Workloads");
        let mut lz = landing_zone();
        lz.control_tower = Some(ControlTowerSettings::default());
        let desired = DesiredState {
            landing_zone: lz,
            ous: BTreeMap::from([(
                workloads.clone(),
                OuSpec {
                    path: workloads.clone(),
                    tags: Default::default(),
                    origin: Default::default(),
                },
            )]),
            accounts: BTreeMap::new(),
            policies: BTreeMap::new(),
            attachments: BTreeSet::new(),
            networks: BTreeMap::new(),
            kms_keys: BTreeMap::new(),
            drift_ignore: Vec::new(),
            controls: Vec::new(),
            portfolios: BTreeMap::new(),
            expectations: Vec::new(),
            moved: Vec::new(),
            imports: Vec::new(),
            identity_center: None,
            permission_sets: Default::default(),
            groups: Default::default(),
            assignments: Vec::new(),
            tag_expectations: Vec::new(),
            org_policies: Vec::new(),
            org_policy_attachments: BTreeSet::new(),
            service_access: BTreeMap::new(),
            delegated_admins: BTreeMap::new(),
            buckets: BTreeMap::new(),
            trails: BTreeMap::new(),
            config_aggregators: BTreeMap::new(),
            access_analyzers: BTreeMap::new(),
        };
        let mut live = live_root();
        live.ous.insert(
            OU.into(),
            LiveOu {
                id: OU.into(),
                name: "Workloads".into(),
                parent_id: "r-1".into(),
                tags: Default::default(),
            },
        );
        live.governance.read = true;
        live.governance.landing_zone = Some(Some(LiveLandingZone {
            arn: "arn:aws:controltower:us-east-1:111111111111:landingzone/LZ1".into(),
            status: "ACTIVE".into(),
            drift_status: Some("IN_SYNC".into()),
            version: "3.3".into(),
            security_ou: Some("Security".into()),
        }));
        live.governance.baselines = Some(LiveBaselines {
            control_tower_baseline: Some(CT_BASELINE.into()),
            identity_center_enabled_baseline: Some(IC_ENABLED.into()),
            enabled: Vec::new(),
        });
        let state = StateFile::new("lz", world());
        let plan = compute_plan(
            &desired,
            &live,
            &state,
            StateRef {
                lineage: None,
                serial: 0,
            },
            &world(),
        )
        .unwrap();
        let registration = Address::Registration(workloads.clone());
        assert!(
            plan.changes.iter().any(|c| c.address == registration),
            "{:?}",
            plan.changes
        );
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
        assert_eq!(store.snapshot().id_of(&registration), Some(EB_WORKLOADS));
        let calls = aws.call_counts();
        assert_eq!(calls.get("EnableBaseline"), Some(&1));
        assert_eq!(calls.get("GetBaselineOperation"), Some(&2));
        assert_eq!(calls.get("ListBaselines"), Some(&1));
        assert_eq!(calls.get("ListEnabledBaselines"), Some(&1));
    }
}

/// The S3 state backend's conditional writes and lock protocol, where moto cannot show
/// them: a PutObject whose success was lost and whose SDK retry is refused (412)
/// against the run's own lock, another run's lock, and a state write refused by
/// `If-Match`.
mod state_s3 {
    use std::time::Duration;

    use aws_sdk_s3::operation::delete_object::DeleteObjectOutput;
    use aws_sdk_s3::operation::get_object::GetObjectOutput;
    use aws_sdk_s3::operation::put_object::PutObjectOutput;
    use aws_sdk_s3::primitives::ByteStream;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use landfall_aws::state_s3::S3StateBackend;
    use landfall_core::model::S3State;
    use landfall_engine::state_backend::{Expect, LockInfo, LockMode, StateBackend};
    use landfall_engine::state_store::StateError;

    const PRECONDITION_FAILED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>";

    fn location() -> S3State {
        S3State {
            bucket: "state-bucket".into(),
            key: "lz.state.json".into(),
            region: Some("us-east-1".into()),
            kms_key_id: Some("arn:aws:kms:us-east-1:111111111111:key/k".into()),
            profile: None,
            role_arn: None,
        }
    }

    fn backend(rules: &[&aws_smithy_mocks::Rule]) -> S3StateBackend {
        let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, rules, |c| c.retry_config(
            aws_sdk_s3::config::retry::RetryConfig::standard().with_max_attempts(3)
        ));
        S3StateBackend::from_client(client, &location())
    }

    fn lock_body(info: &LockInfo) -> GetObjectOutput {
        GetObjectOutput::builder()
            .body(ByteStream::from(serde_json::to_vec(info).unwrap()))
            .e_tag("\"lock-etag\"")
            .build()
    }

    /// The first PutObject of the lock succeeds but its response is lost (a 500 the
    /// SDK retries); the retry finds the lock there (412). Reading the lock shows this
    /// run's id, so the lock is held — not reported as someone else's.
    #[tokio::test]
    async fn a_retried_lock_put_refused_against_its_own_lock_holds_the_lock() {
        let mine = LockInfo::new("landfall apply", "test");
        let put = mock!(aws_sdk_s3::Client::put_object)
            .match_requests(|r| {
                r.key() == Some("lz.state.json.lock") && r.if_none_match() == Some("*")
            })
            .sequence()
            .http_status(500, None)
            .http_status(412, Some(PRECONDITION_FAILED.into()))
            .build();
        let found = mine.clone();
        let get = mock!(aws_sdk_s3::Client::get_object)
            .match_requests(|r| r.key() == Some("lz.state.json.lock"))
            .then_output(move || lock_body(&found));
        let delete = mock!(aws_sdk_s3::Client::delete_object)
            .match_requests(|r| {
                r.key() == Some("lz.state.json.lock") && r.if_match() == Some("\"lock-etag\"")
            })
            .then_output(|| DeleteObjectOutput::builder().build());
        let s3 = backend(&[&put, &get, &delete]);
        let held = s3
            .lock(mine.clone(), LockMode::Exclusive, Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(held.info.id, mine.id);
        assert_eq!(held.revision.as_deref(), Some("\"lock-etag\""));
        assert_eq!(put.num_calls(), 2, "the SDK retried the lost PutObject");
        // Released with If-Match on the lock's own ETag.
        s3.unlock(held).await.unwrap();
        assert_eq!(delete.num_calls(), 1);
    }

    /// Another run's lock: 412, and the lock read names it; waiting ends in an error
    /// naming the holder and its id.
    #[tokio::test]
    async fn another_run_s_lock_is_reported_with_its_holder() {
        let theirs = LockInfo {
            host: "runner-7".into(),
            ..LockInfo::new("landfall apply", "test")
        };
        let put = mock!(aws_sdk_s3::Client::put_object)
            .sequence()
            .http_status(412, Some(PRECONDITION_FAILED.into()))
            .repeatedly()
            .build();
        let found = theirs.clone();
        let get = mock!(aws_sdk_s3::Client::get_object).then_output(move || lock_body(&found));
        let s3 = backend(&[&put, &get]);
        let err = s3
            .lock(
                LockInfo::new("landfall apply", "test"),
                LockMode::Exclusive,
                Duration::ZERO,
            )
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, StateError::Locked { .. }), "{text}");
        assert!(
            text.contains("runner-7") && text.contains(&theirs.id),
            "{text}"
        );
        // force-unlock with another id removes nothing.
        let refused = s3.force_unlock("not-the-id").await.unwrap_err();
        assert!(
            matches!(refused, StateError::NoSuchLock { .. }),
            "{refused}"
        );
    }

    /// A state write carries If-Match on the ETag last seen (If-None-Match for a new
    /// state) and SSE-KMS; a 412 is a conflict, never an overwrite.
    #[tokio::test]
    async fn state_writes_are_conditional_and_encrypted() {
        let first = mock!(aws_sdk_s3::Client::put_object)
            .match_requests(|r| {
                r.key() == Some("lz.state.json")
                    && r.if_none_match() == Some("*")
                    && r.if_match().is_none()
                    && r.server_side_encryption()
                        == Some(&aws_sdk_s3::types::ServerSideEncryption::AwsKms)
                    && r.ssekms_key_id() == Some("arn:aws:kms:us-east-1:111111111111:key/k")
            })
            .then_output(|| PutObjectOutput::builder().e_tag("\"v1\"").build());
        let next = mock!(aws_sdk_s3::Client::put_object)
            .match_requests(|r| r.if_match() == Some("\"v1\""))
            .then_output(|| PutObjectOutput::builder().e_tag("\"v2\"").build());
        let stale = mock!(aws_sdk_s3::Client::put_object)
            .match_requests(|r| r.if_match() == Some("\"v0\""))
            .sequence()
            .http_status(412, Some(PRECONDITION_FAILED.into()))
            .build();
        let s3 = backend(&[&first, &next, &stale]);
        let v1 = s3.write(b"{}", &Expect::Absent).await.unwrap();
        assert_eq!(v1.as_deref(), Some("\"v1\""));
        let v2 = s3
            .write(b"{}", &Expect::Revision("\"v1\"".into()))
            .await
            .unwrap();
        assert_eq!(v2.as_deref(), Some("\"v2\""));
        let err = s3
            .write(b"{}", &Expect::Revision("\"v0\"".into()))
            .await
            .unwrap_err();
        assert!(matches!(err, StateError::Conflict { .. }), "{err}");
        assert_eq!(s3.state_puts(), 3);
    }

    /// The previous state `state rm`/`mv` name: the version of the object at the ETag
    /// read (HeadObject with If-Match); an object that moved on since (412, which a
    /// HEAD answers with no body) is a conflict, not another run's version.
    #[tokio::test]
    async fn the_version_at_a_revision_is_asked_with_if_match() {
        let current = mock!(aws_sdk_s3::Client::head_object)
            .match_requests(|r| r.key() == Some("lz.state.json") && r.if_match() == Some("\"v1\""))
            .then_output(|| {
                aws_sdk_s3::operation::head_object::HeadObjectOutput::builder()
                    .e_tag("\"v1\"")
                    .version_id("3HL4kqtJlcpXroDTDmjVBH40Nrjfkd")
                    .build()
            });
        let moved_on = mock!(aws_sdk_s3::Client::head_object)
            .match_requests(|r| r.if_match() == Some("\"v0\""))
            .sequence()
            .http_status(412, None)
            .build();
        let s3 = backend(&[&current, &moved_on]);
        assert_eq!(
            s3.version_at("\"v1\"").await.unwrap().as_deref(),
            Some("3HL4kqtJlcpXroDTDmjVBH40Nrjfkd")
        );
        let err = s3.version_at("\"v0\"").await.unwrap_err();
        assert!(matches!(err, StateError::Conflict { .. }), "{err}");
        assert_eq!(
            moved_on.num_calls(),
            1,
            "a failed precondition is not retried"
        );
    }
}

/// IAM Identity Center against mocked SSO Admin and Identity Store clients: what moto
/// lacks (provisioning status polls, permissions boundaries, permission set tags,
/// `UpdateGroup`, an organization without an instance) and the error kinds.
mod identity {
    use super::*;
    use aws_sdk_identitystore::operation::describe_group::{
        DescribeGroupError, DescribeGroupOutput,
    };
    use aws_sdk_identitystore::operation::update_group::UpdateGroupOutput;
    use aws_sdk_ssoadmin::operation::create_account_assignment::{
        CreateAccountAssignmentError, CreateAccountAssignmentOutput,
    };
    use aws_sdk_ssoadmin::operation::create_permission_set::{
        CreatePermissionSetError, CreatePermissionSetOutput,
    };
    use aws_sdk_ssoadmin::operation::describe_permission_set::DescribePermissionSetOutput;
    use aws_sdk_ssoadmin::operation::describe_permission_set_provisioning_status::DescribePermissionSetProvisioningStatusOutput;
    use aws_sdk_ssoadmin::operation::get_inline_policy_for_permission_set::GetInlinePolicyForPermissionSetOutput;
    use aws_sdk_ssoadmin::operation::get_permissions_boundary_for_permission_set::{
        GetPermissionsBoundaryForPermissionSetError, GetPermissionsBoundaryForPermissionSetOutput,
    };
    use aws_sdk_ssoadmin::operation::list_account_assignments::ListAccountAssignmentsOutput;
    use aws_sdk_ssoadmin::operation::list_accounts_for_provisioned_permission_set::ListAccountsForProvisionedPermissionSetOutput;
    use aws_sdk_ssoadmin::operation::list_customer_managed_policy_references_in_permission_set::ListCustomerManagedPolicyReferencesInPermissionSetOutput;
    use aws_sdk_ssoadmin::operation::list_instances::ListInstancesOutput;
    use aws_sdk_ssoadmin::operation::list_managed_policies_in_permission_set::ListManagedPoliciesInPermissionSetOutput;
    use aws_sdk_ssoadmin::operation::list_permission_sets::{
        ListPermissionSetsError, ListPermissionSetsOutput,
    };
    use aws_sdk_ssoadmin::operation::list_tags_for_resource::ListTagsForResourceOutput;
    use aws_sdk_ssoadmin::operation::provision_permission_set::ProvisionPermissionSetOutput;
    use aws_sdk_ssoadmin::operation::put_permissions_boundary_to_permission_set::PutPermissionsBoundaryToPermissionSetOutput;
    use aws_sdk_ssoadmin::operation::tag_resource::TagResourceOutput;
    use aws_sdk_ssoadmin::types::error::{
        AccessDeniedException as SsoAccessDenied, ConflictException as SsoConflict,
        ResourceNotFoundException as SsoNotFound, ThrottlingException as SsoThrottling,
    };
    use aws_sdk_ssoadmin::types::{
        AccountAssignment, AccountAssignmentOperationStatus, AttachedManagedPolicy,
        CustomerManagedPolicyReference, InstanceMetadata, InstanceStatus, PermissionSet,
        PermissionSetProvisioningStatus, PermissionsBoundary as SdkBoundary,
        PrincipalType as SdkPrincipalType, ProvisionTargetType, ProvisioningStatus, StatusValues,
        Tag, TargetType,
    };
    use aws_smithy_mocks::Rule;
    use aws_smithy_types::Document;
    use landfall_core::live::{IdentityScope, LiveAssignment, PrincipalType};
    use landfall_core::model::{CustomerPolicyRef, PermissionsBoundary, Tags};
    use landfall_engine::call::{Call, IdentityCall as I, IdentityRequest};
    use landfall_engine::provider::{OperationStatus, Reply};

    const INSTANCE: &str = "arn:aws:sso:::instance/ssoins-1111222233334444";
    const STORE: &str = "d-1234567890";
    const SET: &str = "arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-aaaabbbbccccdddd";
    const OTHER_SET: &str =
        "arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-eeeeffff00001111";
    const GROUP: &str = "9067b8d2d1-11111111-2222-3333-4444-555555555555";
    const SCIM_GROUP: &str = "9067b8d2d1-66666666-7777-8888-9999-000000000000";

    fn instances() -> Rule {
        mock!(aws_sdk_ssoadmin::Client::list_instances).then_output(|| {
            ListInstancesOutput::builder()
                .instances(
                    InstanceMetadata::builder()
                        .instance_arn(INSTANCE)
                        .identity_store_id(STORE)
                        .status(InstanceStatus::Active)
                        .build(),
                )
                .build()
        })
    }

    /// A backend over mocked SSO Admin and Identity Store clients (SDK retries off,
    /// as `AwsBackend::connect` turns them off), with an instance unless `sso` lists
    /// its own `ListInstances`.
    fn identity(sso: &[&Rule], store: &[&Rule]) -> AwsBackend {
        use aws_config::retry::RetryConfig;
        let listed = instances();
        let mut sso: Vec<&Rule> = sso.to_vec();
        sso.push(&listed);
        let sso = mock_client!(
            aws_sdk_ssoadmin,
            RuleMode::MatchAny,
            sso.iter().copied(),
            |c| c.retry_config(RetryConfig::disabled())
        );
        let store = mock_client!(
            aws_sdk_identitystore,
            RuleMode::MatchAny,
            store.iter().copied(),
            |c| c.retry_config(RetryConfig::disabled())
        );
        AwsBackend::from_conf(
            org_with_management_account(),
            no_sts(),
            &AwsOptions {
                pacing: landfall_engine::pacing::PacingSettings::unlimited(),
                ..AwsOptions::default()
            },
        )
        .with_limits(fast_limits())
        .with_identity_clients(sso, store)
    }

    async fn call(aws: &AwsBackend, call: I<'_>) -> Result<Reply, ProviderError> {
        aws.execute(&Call::Identity(call)).await
    }

    use landfall_engine::provider::ProviderError;

    fn provisioning(
        status: StatusValues,
        failure: Option<&str>,
    ) -> PermissionSetProvisioningStatus {
        PermissionSetProvisioningStatus::builder()
            .request_id("req-provision")
            .permission_set_arn(SET)
            .status(status)
            .set_failure_reason(failure.map(str::to_string))
            .build()
    }

    async fn wait(aws: &AwsBackend, request: IdentityRequest, id: &str) -> OperationStatus {
        for _ in 0..20 {
            match aws.identity_request(request, id).await.unwrap() {
                OperationStatus::InProgress => {}
                done => return done,
            }
        }
        panic!("request {id} never finished");
    }

    #[tokio::test]
    async fn provisioning_is_polled_until_it_succeeds_or_fails_with_its_reason() {
        let provision = mock!(aws_sdk_ssoadmin::Client::provision_permission_set)
            .match_requests(|r| {
                r.instance_arn() == Some(INSTANCE)
                    && r.permission_set_arn() == Some(SET)
                    && r.target_type() == Some(&ProvisionTargetType::AllProvisionedAccounts)
                    && r.target_id().is_none()
            })
            .then_output(|| {
                ProvisionPermissionSetOutput::builder()
                    .permission_set_provisioning_status(provisioning(
                        StatusValues::InProgress,
                        None,
                    ))
                    .build()
            });
        let poll = mock!(aws_sdk_ssoadmin::Client::describe_permission_set_provisioning_status)
            .match_requests(|r| {
                r.instance_arn() == Some(INSTANCE)
                    && r.provision_permission_set_request_id() == Some("req-provision")
            })
            .sequence()
            .output(|| {
                DescribePermissionSetProvisioningStatusOutput::builder()
                    .permission_set_provisioning_status(provisioning(
                        StatusValues::InProgress,
                        None,
                    ))
                    .build()
            })
            .times(2)
            .output(|| {
                DescribePermissionSetProvisioningStatusOutput::builder()
                    .permission_set_provisioning_status(provisioning(
                        StatusValues::Succeeded,
                        None,
                    ))
                    .build()
            })
            .output(|| {
                DescribePermissionSetProvisioningStatusOutput::builder()
                    .permission_set_provisioning_status(provisioning(
                        StatusValues::Failed,
                        Some("Received a 404 status error: Not supported policy arn:aws:iam::aws:policy/NoSuchPolicy."),
                    ))
                    .build()
            })
            .build();
        let aws = identity(&[&provision, &poll], &[]);

        let reply = call(
            &aws,
            I::ProvisionPermissionSet {
                permission_set_arn: SET,
            },
        )
        .await
        .unwrap();
        assert_eq!(reply.id.as_deref(), Some("req-provision"));
        assert_eq!(
            wait(&aws, IdentityRequest::Provisioning, "req-provision").await,
            OperationStatus::Succeeded { account_id: None }
        );
        assert_eq!(
            wait(&aws, IdentityRequest::Provisioning, "req-provision").await,
            OperationStatus::Failed {
                message: "Received a 404 status error: Not supported policy arn:aws:iam::aws:policy/NoSuchPolicy.".into()
            }
        );
        let calls = aws.call_counts();
        assert_eq!(calls.get("ProvisionPermissionSet"), Some(&1));
        assert_eq!(
            calls.get("DescribePermissionSetProvisioningStatus"),
            Some(&4)
        );
        // The instance was read once for the run.
        assert_eq!(calls.get("ListInstances"), Some(&1));
    }

    #[tokio::test]
    async fn an_assignment_failed_at_once_is_an_error_with_its_reason() {
        let create = mock!(aws_sdk_ssoadmin::Client::create_account_assignment)
            .match_requests(|r| {
                r.target_type() == Some(&TargetType::AwsAccount)
                    && r.target_id() == Some("222222222222")
                    && r.principal_type() == Some(&SdkPrincipalType::Group)
                    && r.principal_id() == Some(GROUP)
                    && r.permission_set_arn() == Some(SET)
            })
            .then_output(|| {
                CreateAccountAssignmentOutput::builder()
                    .account_assignment_creation_status(
                        AccountAssignmentOperationStatus::builder()
                            .request_id("req-assign")
                            .status(StatusValues::Failed)
                            .failure_reason("Customer managed policy ml-data-access is missing in account 222222222222")
                            .build(),
                    )
                    .build()
            });
        let aws = identity(&[&create], &[]);
        let err = call(
            &aws,
            I::CreateAccountAssignment {
                permission_set_arn: SET,
                principal_type: PrincipalType::Group,
                principal_id: GROUP,
                account_id: "222222222222",
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.api, "CreateAccountAssignment");
        assert!(err.message.contains("ml-data-access is missing"), "{err}");
        assert!(!err.kind.is_retryable());
    }

    #[tokio::test]
    async fn boundaries_and_tags_are_sent_as_aws_names_them() {
        let managed = mock!(aws_sdk_ssoadmin::Client::put_permissions_boundary_to_permission_set)
            .match_requests(|r| {
                r.instance_arn() == Some(INSTANCE)
                    && r.permission_set_arn() == Some(SET)
                    && r.permissions_boundary()
                        .and_then(|b| b.managed_policy_arn())
                        == Some("arn:aws:iam::aws:policy/PowerUserAccess")
                    && r.permissions_boundary()
                        .and_then(|b| b.customer_managed_policy_reference())
                        .is_none()
            })
            .then_output(|| PutPermissionsBoundaryToPermissionSetOutput::builder().build());
        let customer = mock!(aws_sdk_ssoadmin::Client::put_permissions_boundary_to_permission_set)
            .match_requests(|r| {
                r.permissions_boundary()
                    .and_then(|b| b.managed_policy_arn())
                    .is_none()
                    && r.permissions_boundary()
                        .and_then(|b| b.customer_managed_policy_reference())
                        .is_some_and(|c| c.name() == "ml-boundary" && c.path() == Some("/ml/"))
            })
            .then_output(|| PutPermissionsBoundaryToPermissionSetOutput::builder().build());
        let tag = mock!(aws_sdk_ssoadmin::Client::tag_resource)
            .match_requests(|r| {
                r.instance_arn() == Some(INSTANCE)
                    && r.resource_arn() == Some(SET)
                    && r.tags().len() == 2
                    && r.tags()[0].key() == "cost-center"
                    && r.tags()[0].value() == "ml-42"
                    && r.tags()[1].key() == "team"
                    && r.tags()[1].value() == "ml"
            })
            .then_output(|| TagResourceOutput::builder().build());
        let describe_group = |value: Option<&'static str>| {
            mock!(aws_sdk_identitystore::Client::update_group)
                .match_requests(move |r| {
                    r.identity_store_id() == Some(STORE)
                        && r.group_id() == Some(GROUP)
                        && r.operations().len() == 1
                        && r.operations()[0].attribute_path() == "description"
                        // A value sets the description, none removes it.
                        && r.operations()[0].attribute_value()
                            == value.map(|v| Document::String(v.into())).as_ref()
                })
                .then_output(|| {
                    UpdateGroupOutput::builder()
                        .identity_store_id(STORE)
                        .group_id(GROUP)
                        .group_arn(format!("arn:aws:identitystore::111111111111:group/{GROUP}"))
                        .revision("2")
                        .build()
                        .unwrap()
                })
        };
        let set_description = describe_group(Some("Fraud team"));
        let remove_description = describe_group(None);
        let aws = identity(
            &[&managed, &customer, &tag],
            &[&set_description, &remove_description],
        );

        let managed_boundary =
            PermissionsBoundary::Managed("arn:aws:iam::aws:policy/PowerUserAccess".into());
        let reply = call(
            &aws,
            I::PutPermissionsBoundaryToPermissionSet {
                permission_set_arn: SET,
                boundary: &managed_boundary,
            },
        )
        .await
        .unwrap();
        assert_eq!(reply.id, None);
        let customer_boundary = PermissionsBoundary::Customer(CustomerPolicyRef {
            name: "ml-boundary".into(),
            path: "/ml/".into(),
        });
        call(
            &aws,
            I::PutPermissionsBoundaryToPermissionSet {
                permission_set_arn: SET,
                boundary: &customer_boundary,
            },
        )
        .await
        .unwrap();
        let tags = Tags::from([
            ("team".to_string(), "ml".to_string()),
            ("cost-center".to_string(), "ml-42".to_string()),
        ]);
        call(
            &aws,
            I::TagPermissionSet {
                permission_set_arn: SET,
                tags: &tags,
            },
        )
        .await
        .unwrap();
        for description in [Some("Fraud team"), None] {
            call(
                &aws,
                I::UpdateGroup {
                    group_id: GROUP,
                    description,
                },
            )
            .await
            .unwrap();
        }
        let calls = aws.call_counts();
        assert_eq!(calls.get("PutPermissionsBoundaryToPermissionSet"), Some(&2));
        assert_eq!(calls.get("TagResource"), Some(&1));
        assert_eq!(calls.get("UpdateGroup"), Some(&2));
        assert_eq!(managed.num_calls(), 1);
        assert_eq!(customer.num_calls(), 1);
        assert_eq!(set_description.num_calls(), 1);
        assert_eq!(remove_description.num_calls(), 1);
    }

    #[tokio::test]
    async fn without_an_instance_nothing_else_is_read_and_calls_say_why() {
        let none = mock!(aws_sdk_ssoadmin::Client::list_instances).then_output(|| {
            ListInstancesOutput::builder()
                .set_instances(Some(vec![]))
                .build()
        });
        let aws = identity(&[&none], &[]);
        let scope = IdentityScope {
            region: "eu-west-1".into(),
            permission_sets: ["DataScientist".to_string()].into(),
            groups: ["ml".to_string()].into(),
            ..IdentityScope::default()
        };
        let live = aws.refresh_identity(&scope).await.unwrap();
        assert!(live.read);
        assert_eq!(live.instance, None);
        assert!(live.permission_sets.is_empty() && live.groups.is_empty());
        let err = call(
            &aws,
            I::CreateGroup {
                display_name: "ml",
                description: None,
            },
        )
        .await
        .unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::Other("IdentityCenterNotEnabled".into())
        );
        assert_eq!(err.api, "CreateGroup");
        assert!(err.message.contains("enable it"), "{err}");
        // One ListInstances for the run; nothing else was asked.
        assert_eq!(
            aws.call_counts(),
            BTreeMap::from([("ListInstances".to_string(), 1)])
        );
    }

    #[tokio::test]
    async fn conflict_throttling_and_access_denied_map_to_their_kinds() {
        let create = mock!(aws_sdk_ssoadmin::Client::create_permission_set)
            .sequence()
            .error(|| {
                let message = "PermissionSet with name DataScientist already exists.";
                CreatePermissionSetError::ConflictException(
                    SsoConflict::builder()
                        .message(message)
                        .meta(
                            aws_sdk_ssoadmin::error::ErrorMetadata::builder()
                                .code("ConflictException")
                                .message(message)
                                .build(),
                        )
                        .build(),
                )
            })
            .error(|| {
                CreatePermissionSetError::ThrottlingException(
                    SsoThrottling::builder().message("Rate exceeded").build(),
                )
            })
            .error(|| {
                CreatePermissionSetError::AccessDeniedException(
                    SsoAccessDenied::builder()
                        .message("User is not authorized to perform: sso:CreatePermissionSet")
                        .build(),
                )
            })
            .output(|| {
                CreatePermissionSetOutput::builder()
                    .permission_set(PermissionSet::builder().permission_set_arn(SET).build())
                    .build()
            })
            .build();
        let aws = identity(&[&create], &[]);
        let no_tags = Tags::new();
        let create_set = || {
            call(
                &aws,
                I::CreatePermissionSet {
                    name: "DataScientist",
                    description: None,
                    session_duration: "PT8H",
                    tags: &no_tags,
                },
            )
        };
        let conflict = create_set().await.unwrap_err();
        assert_eq!(conflict.kind, ErrorKind::Conflict, "{conflict}");
        assert!(conflict.kind.is_retryable());
        assert!(conflict.message.contains("already exists"), "{conflict}");
        let throttled = create_set().await.unwrap_err();
        assert_eq!(throttled.kind, ErrorKind::Throttling, "{throttled}");
        let denied = create_set().await.unwrap_err();
        assert_eq!(denied.kind, ErrorKind::AccessDenied);
        assert!(
            denied
                .message
                .contains("not allowed to call sso:CreatePermissionSet"),
            "{denied}"
        );
        let reply = create_set().await.unwrap();
        assert_eq!(reply.id.as_deref(), Some(SET));
    }

    #[tokio::test]
    async fn a_throttled_read_is_retried_and_a_conflicting_assignment_is_retryable() {
        let sets = mock!(aws_sdk_ssoadmin::Client::list_permission_sets)
            .sequence()
            .error(|| {
                ListPermissionSetsError::ThrottlingException(
                    SsoThrottling::builder().message("Rate exceeded").build(),
                )
            })
            .output(|| ListPermissionSetsOutput::builder().build())
            .build();
        let assign = mock!(aws_sdk_ssoadmin::Client::create_account_assignment).then_error(|| {
            CreateAccountAssignmentError::ConflictException(
                SsoConflict::builder()
                    .message("An account assignment operation is in progress for this account")
                    .build(),
            )
        });
        let aws = identity(&[&sets, &assign], &[]);
        let live = aws
            .refresh_identity(&IdentityScope {
                region: "us-east-1".into(),
                ..IdentityScope::default()
            })
            .await
            .unwrap();
        assert!(live.permission_sets.is_empty());
        assert_eq!(aws.call_counts().get("ListPermissionSets"), Some(&2));
        let err = call(
            &aws,
            I::CreateAccountAssignment {
                permission_set_arn: SET,
                principal_type: PrincipalType::Group,
                principal_id: GROUP,
                account_id: "222222222222",
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Conflict);
        assert!(err.kind.is_retryable());
    }

    fn described(arn: &'static str, name: &'static str) -> Rule {
        mock!(aws_sdk_ssoadmin::Client::describe_permission_set)
            .match_requests(move |r| r.permission_set_arn() == Some(arn))
            .then_output(move || {
                DescribePermissionSetOutput::builder()
                    .permission_set(
                        PermissionSet::builder()
                            .permission_set_arn(arn)
                            .name(name)
                            .description("")
                            .session_duration("PT8H")
                            .build(),
                    )
                    .build()
            })
    }

    fn provisioned(status: Option<ProvisioningStatus>, accounts: &'static [&'static str]) -> Rule {
        mock!(aws_sdk_ssoadmin::Client::list_accounts_for_provisioned_permission_set)
            .match_requests(move |r| {
                r.permission_set_arn() == Some(SET) && r.provisioning_status() == status.as_ref()
            })
            .then_output(move || {
                ListAccountsForProvisionedPermissionSetOutput::builder()
                    .set_account_ids(Some(accounts.iter().map(|a| a.to_string()).collect()))
                    .build()
            })
    }

    #[tokio::test]
    async fn refresh_reads_boundary_tags_outdated_accounts_and_assignment_group_names() {
        let sets = mock!(aws_sdk_ssoadmin::Client::list_permission_sets)
            .match_requests(|r| r.instance_arn() == Some(INSTANCE))
            .then_output(|| {
                ListPermissionSetsOutput::builder()
                    .permission_sets(SET)
                    .permission_sets(OTHER_SET)
                    .build()
            });
        let describe = described(SET, "DataScientist");
        let describe_other = described(OTHER_SET, "AWSAdministratorAccess");
        let managed = mock!(aws_sdk_ssoadmin::Client::list_managed_policies_in_permission_set)
            .match_requests(|r| r.permission_set_arn() == Some(SET))
            .then_output(|| {
                ListManagedPoliciesInPermissionSetOutput::builder()
                    .attached_managed_policies(
                        AttachedManagedPolicy::builder()
                            .name("ViewOnlyAccess")
                            .arn("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess")
                            .build(),
                    )
                    .build()
            });
        let customer = mock!(
            aws_sdk_ssoadmin::Client::list_customer_managed_policy_references_in_permission_set
        )
        .then_output(|| {
            ListCustomerManagedPolicyReferencesInPermissionSetOutput::builder()
                .customer_managed_policy_references(
                    CustomerManagedPolicyReference::builder()
                        .name("ml-data-access")
                        .build()
                        .unwrap(),
                )
                .build()
        });
        let inline = mock!(aws_sdk_ssoadmin::Client::get_inline_policy_for_permission_set)
            .then_output(|| {
                GetInlinePolicyForPermissionSetOutput::builder()
                    .inline_policy("")
                    .build()
            });
        let boundary = mock!(aws_sdk_ssoadmin::Client::get_permissions_boundary_for_permission_set)
            .then_output(|| {
                GetPermissionsBoundaryForPermissionSetOutput::builder()
                    .permissions_boundary(
                        SdkBoundary::builder()
                            .managed_policy_arn("arn:aws:iam::aws:policy/PowerUserAccess")
                            .build(),
                    )
                    .build()
            });
        let tags = mock!(aws_sdk_ssoadmin::Client::list_tags_for_resource)
            .match_requests(|r| r.resource_arn() == Some(SET) && r.instance_arn() == Some(INSTANCE))
            .then_output(|| {
                ListTagsForResourceOutput::builder()
                    .tags(Tag::builder().key("team").value("ml").build().unwrap())
                    .build()
            });
        let all = provisioned(None, &["222222222222", "333333333333"]);
        let outdated = provisioned(
            Some(ProvisioningStatus::LatestPermissionSetNotProvisioned),
            &["333333333333"],
        );
        let assignments = mock!(aws_sdk_ssoadmin::Client::list_account_assignments)
            .then_compute_output(|r| {
                let account = r.account_id().unwrap_or_default().to_string();
                ListAccountAssignmentsOutput::builder()
                    .account_assignments(
                        AccountAssignment::builder()
                            .account_id(&account)
                            .permission_set_arn(SET)
                            .principal_type(SdkPrincipalType::Group)
                            .principal_id(if account == "222222222222" {
                                GROUP
                            } else {
                                SCIM_GROUP
                            })
                            .build(),
                    )
                    .build()
            });
        let describe_group = mock!(aws_sdk_identitystore::Client::describe_group)
            .match_requests(|r| {
                r.group_id() == Some(SCIM_GROUP) && r.identity_store_id() == Some(STORE)
            })
            .then_output(|| {
                DescribeGroupOutput::builder()
                    .group_id(SCIM_GROUP)
                    .display_name("okta-ml-admins")
                    .identity_store_id(STORE)
                    .group_arn(format!(
                        "arn:aws:identitystore::111111111111:group/{SCIM_GROUP}"
                    ))
                    .revision("1")
                    .build()
                    .unwrap()
            });
        let gone = mock!(aws_sdk_identitystore::Client::describe_group)
            .match_requests(|r| r.group_id() == Some(GROUP))
            .then_error(|| {
                DescribeGroupError::ResourceNotFoundException(
                    aws_sdk_identitystore::types::error::ResourceNotFoundException::builder()
                        .message("GROUP not found.")
                        .build(),
                )
            });
        let aws = identity(
            &[
                &sets,
                &describe,
                &describe_other,
                &managed,
                &customer,
                &inline,
                &boundary,
                &tags,
                &all,
                &outdated,
                &assignments,
            ],
            &[&describe_group, &gone],
        );
        let scope = IdentityScope {
            region: "us-east-1".into(),
            permission_sets: ["DataScientist".to_string()].into(),
            // A group recorded by id that is gone: absent, no error.
            group_ids: [GROUP.to_string()].into(),
            ..IdentityScope::default()
        };
        let live = aws.refresh_identity(&scope).await.unwrap();
        let set = &live.permission_sets[SET];
        assert!(set.detailed);
        assert_eq!(set.description, None);
        assert_eq!(
            set.managed_policies,
            ["arn:aws:iam::aws:policy/job-function/ViewOnlyAccess".to_string()].into()
        );
        assert_eq!(
            set.customer_managed_policies,
            [CustomerPolicyRef {
                name: "ml-data-access".into(),
                path: "/".into()
            }]
            .into()
        );
        assert_eq!(set.inline_policy, None);
        assert_eq!(
            set.permissions_boundary,
            Some(PermissionsBoundary::Managed(
                "arn:aws:iam::aws:policy/PowerUserAccess".into()
            ))
        );
        assert_eq!(
            set.tags,
            Tags::from([("team".to_string(), "ml".to_string())])
        );
        assert_eq!(
            set.provisioned_to,
            ["222222222222".to_string(), "333333333333".to_string()].into()
        );
        assert_eq!(set.outdated_in, ["333333333333".to_string()].into());
        let other = &live.permission_sets[OTHER_SET];
        assert!(!other.detailed);
        assert!(other.provisioned_to.is_empty());
        assert_eq!(
            live.assignments,
            [
                LiveAssignment {
                    permission_set_arn: SET.into(),
                    principal_type: PrincipalType::Group,
                    principal_id: GROUP.into(),
                    account_id: "222222222222".into(),
                },
                LiveAssignment {
                    permission_set_arn: SET.into(),
                    principal_type: PrincipalType::Group,
                    principal_id: SCIM_GROUP.into(),
                    account_id: "333333333333".into(),
                },
            ]
            .into()
        );
        // GROUP is gone from the Identity Store (DescribeGroup: not found): not among
        // the groups, and no name for it.
        assert!(live.groups.is_empty());
        assert_eq!(
            live.group_names,
            BTreeMap::from([(SCIM_GROUP.to_string(), "okta-ml-admins".to_string())])
        );
        let calls = aws.call_counts();
        // Seven detail reads for the one set in scope, none for the other.
        for api in [
            "ListManagedPoliciesInPermissionSet",
            "ListCustomerManagedPolicyReferencesInPermissionSet",
            "GetInlinePolicyForPermissionSet",
            "GetPermissionsBoundaryForPermissionSet",
            "ListTagsForResource",
        ] {
            assert_eq!(calls.get(api), Some(&1), "{api}");
        }
        assert_eq!(
            calls.get("ListAccountsForProvisionedPermissionSet"),
            Some(&2)
        );
        assert_eq!(calls.get("DescribePermissionSet"), Some(&2));
        assert_eq!(calls.get("ListAccountAssignments"), Some(&2));
        // GROUP asked for by id, then again as an unknown principal; SCIM_GROUP once.
        assert_eq!(calls.get("DescribeGroup"), Some(&3));
    }

    #[tokio::test]
    async fn aws_managed_documents_are_url_decoded_and_unknown_policies_are_none() {
        use aws_sdk_iam::operation::get_policy::{GetPolicyError, GetPolicyOutput};
        use aws_sdk_iam::operation::get_policy_version::GetPolicyVersionOutput;
        use aws_sdk_iam::types::error::NoSuchEntityException;
        use aws_sdk_iam::types::{Policy, PolicyVersion};
        const VIEW: &str = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess";
        let get = mock!(aws_sdk_iam::Client::get_policy)
            .match_requests(|r| r.policy_arn() == Some(VIEW))
            .then_output(|| {
                GetPolicyOutput::builder()
                    .policy(
                        Policy::builder()
                            .arn(VIEW)
                            .default_version_id("v42")
                            .build(),
                    )
                    .build()
            });
        let missing = mock!(aws_sdk_iam::Client::get_policy)
            .match_requests(|r| r.policy_arn() != Some(VIEW))
            .then_error(|| {
                GetPolicyError::NoSuchEntityException(
                    NoSuchEntityException::builder()
                        .message("Policy arn:aws:iam::aws:policy/Nope was not found.")
                        .build(),
                )
            });
        // As IAM returns it: percent-encoded (RFC 3986).
        let version = mock!(aws_sdk_iam::Client::get_policy_version)
            .match_requests(|r| r.policy_arn() == Some(VIEW) && r.version_id() == Some("v42"))
            .then_output(|| {
                GetPolicyVersionOutput::builder()
                    .policy_version(
                        PolicyVersion::builder()
                            .version_id("v42")
                            .is_default_version(true)
                            .document("%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%7B%22Effect%22%3A%20%22Allow%22%2C%20%22Action%22%3A%20%22s3%3AList%2A%22%2C%20%22Resource%22%3A%20%22%2A%22%7D%5D%7D")
                            .build(),
                    )
                    .build()
            });
        let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&get, &missing, &version]);
        let aws = identity(&[], &[]).with_iam_client(iam);
        let document = aws
            .aws_managed_policy_document(VIEW)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            document,
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:List*", "Resource": "*"}]}"#
        );
        assert_eq!(
            aws.aws_managed_policy_document("arn:aws:iam::aws:policy/Nope")
                .await
                .unwrap(),
            None
        );
        let calls = aws.call_counts();
        assert_eq!(calls.get("GetPolicy"), Some(&2));
        assert_eq!(calls.get("GetPolicyVersion"), Some(&1));
    }

    #[tokio::test]
    async fn no_boundary_is_resource_not_found() {
        let sets = mock!(aws_sdk_ssoadmin::Client::list_permission_sets).then_output(|| {
            ListPermissionSetsOutput::builder()
                .permission_sets(SET)
                .build()
        });
        let describe = described(SET, "DataScientist");
        let managed = mock!(aws_sdk_ssoadmin::Client::list_managed_policies_in_permission_set)
            .then_output(|| ListManagedPoliciesInPermissionSetOutput::builder().build());
        let customer = mock!(
            aws_sdk_ssoadmin::Client::list_customer_managed_policy_references_in_permission_set
        )
        .then_output(|| {
            ListCustomerManagedPolicyReferencesInPermissionSetOutput::builder().build()
        });
        let inline = mock!(aws_sdk_ssoadmin::Client::get_inline_policy_for_permission_set)
            .then_output(|| {
                GetInlinePolicyForPermissionSetOutput::builder()
                    .inline_policy(r#"{"Version":"2012-10-17","Statement":[]}"#)
                    .build()
            });
        let boundary = mock!(aws_sdk_ssoadmin::Client::get_permissions_boundary_for_permission_set)
            .then_error(|| {
                GetPermissionsBoundaryForPermissionSetError::ResourceNotFoundException(
                    SsoNotFound::builder()
                        .message("Could not find PermissionsBoundary for PermissionSet")
                        .build(),
                )
            });
        let tags = mock!(aws_sdk_ssoadmin::Client::list_tags_for_resource)
            .then_output(|| ListTagsForResourceOutput::builder().build());
        let all = provisioned(None, &[]);
        let outdated = provisioned(
            Some(ProvisioningStatus::LatestPermissionSetNotProvisioned),
            &[],
        );
        let aws = identity(
            &[
                &sets, &describe, &managed, &customer, &inline, &boundary, &tags, &all, &outdated,
            ],
            &[],
        );
        let live = aws
            .refresh_identity(&IdentityScope {
                region: "us-east-1".into(),
                permission_sets: ["DataScientist".to_string()].into(),
                ..IdentityScope::default()
            })
            .await
            .unwrap();
        let set = &live.permission_sets[SET];
        assert_eq!(set.permissions_boundary, None);
        assert_eq!(
            set.inline_policy.as_deref(),
            Some(r#"{"Version":"2012-10-17","Statement":[]}"#)
        );
        assert!(live.assignments.is_empty());
    }
}

// ---- Issue 17: logging and security services (what moto lacks) ----

#[path = "mocked/security.rs"]
mod security;
