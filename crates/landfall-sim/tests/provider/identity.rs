//! IAM Identity Center through the `Provider` trait: permission sets and their rules,
//! groups, assignments and provisioning with their asynchronous statuses (a failed
//! one included), the limit on outstanding assignment creations, `refresh_identity`,
//! out-of-band changes and the world file.

use std::collections::BTreeSet;

use landfall_core::live::{IdentityScope, LiveIdentity, PrincipalType};
use landfall_core::model::{CustomerPolicyRef, PermissionsBoundary};
use landfall_engine::provider::{
    IdentityCall as I, IdentityRequest, OperationStatus, ProviderResult,
};

use super::*;

const ALLOW_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

fn polling(polls: u32) -> SimBackend {
    sim_with(
        SimSettings {
            account_creation_polls: polls,
            ..SimSettings::default()
        },
        Quotas::default(),
    )
}

async fn call(p: &SimBackend, call: I<'_>) -> ProviderResult<Option<String>> {
    p.execute(&Call::Identity(call)).await.map(|r| r.id)
}

async fn create_set(p: &SimBackend, name: &str) -> String {
    call(
        p,
        I::CreatePermissionSet {
            name,
            description: Some("a set"),
            session_duration: "PT8H",
            tags: &tags(&[("team", "ml")]),
        },
    )
    .await
    .unwrap()
    .unwrap()
}

async fn new_set(p: &SimBackend, name: &str, duration: &str) -> ProviderResult<Option<String>> {
    call(
        p,
        I::CreatePermissionSet {
            name,
            description: None,
            session_duration: duration,
            tags: &Tags::new(),
        },
    )
    .await
}

async fn attach(p: &SimBackend, set: &str, policy_arn: &str) -> ProviderResult<Option<String>> {
    call(
        p,
        I::AttachManagedPolicyToPermissionSet {
            permission_set_arn: set,
            policy_arn,
        },
    )
    .await
}

async fn put_inline(p: &SimBackend, set: &str, document: &str) -> ProviderResult<Option<String>> {
    call(
        p,
        I::PutInlinePolicyToPermissionSet {
            permission_set_arn: set,
            document,
        },
    )
    .await
}

async fn group_error(p: &SimBackend, name: &str) -> ErrorKind {
    call(
        p,
        I::CreateGroup {
            display_name: name,
            description: None,
        },
    )
    .await
    .unwrap_err()
    .kind
}

async fn create_group(p: &SimBackend, name: &str) -> String {
    call(
        p,
        I::CreateGroup {
            display_name: name,
            description: None,
        },
    )
    .await
    .unwrap()
    .unwrap()
}

async fn assign(p: &SimBackend, set: &str, group: &str, account: &str) -> ProviderResult<String> {
    call(
        p,
        I::CreateAccountAssignment {
            permission_set_arn: set,
            principal_type: PrincipalType::Group,
            principal_id: group,
            account_id: account,
        },
    )
    .await
    .map(|id| id.unwrap())
}

async fn unassign(p: &SimBackend, set: &str, group: &str, account: &str) -> ProviderResult<String> {
    call(
        p,
        I::DeleteAccountAssignment {
            permission_set_arn: set,
            principal_type: PrincipalType::Group,
            principal_id: group,
            account_id: account,
        },
    )
    .await
    .map(|id| id.unwrap())
}

/// Polls a request to its end; returns the statuses seen.
async fn wait(p: &SimBackend, kind: IdentityRequest, id: &str) -> Vec<OperationStatus> {
    let mut seen = Vec::new();
    loop {
        let status = p.identity_request(kind, id).await.unwrap();
        let done = status != OperationStatus::InProgress;
        seen.push(status);
        if done {
            return seen;
        }
    }
}

fn succeeded() -> OperationStatus {
    OperationStatus::Succeeded { account_id: None }
}

fn scope(sets: &[&str], groups: &[&str]) -> IdentityScope {
    IdentityScope {
        region: "us-east-1".into(),
        permission_sets: sets.iter().map(|s| s.to_string()).collect(),
        groups: groups.iter().map(|s| s.to_string()).collect(),
        ..IdentityScope::default()
    }
}

async fn refresh(p: &SimBackend, scope: &IdentityScope) -> LiveIdentity {
    p.refresh_identity(scope).await.unwrap()
}

#[tokio::test]
async fn the_instance_is_there_and_permission_sets_follow_sso_admin_rules() {
    let p = sim();
    let live = refresh(&p, &IdentityScope::default()).await;
    let instance = live.instance.unwrap();
    assert!(instance.arn.starts_with("arn:aws:sso:::instance/ssoins-"));
    assert!(instance.identity_store_id.starts_with("d-"));

    let arn = create_set(&p, "DataScientist").await;
    let ins = instance.arn.rsplit('/').next().unwrap();
    let ps = arn
        .strip_prefix(&format!("arn:aws:sso:::permissionSet/{ins}/ps-"))
        .unwrap();
    assert_eq!(ps.len(), 16, "{arn}");

    let kind = |r: ProviderResult<Option<String>>| r.unwrap_err().kind;
    assert_eq!(
        kind(new_set(&p, "DataScientist", "PT1H").await),
        ErrorKind::Conflict
    );
    assert_eq!(
        kind(new_set(&p, "has space", "PT1H").await),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        kind(new_set(&p, "a-name-longer-than-thirty-two-chars", "PT1H").await),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        kind(new_set(&p, "Short", "PT30M").await),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        kind(new_set(&p, "Long", "PT13H").await),
        ErrorKind::InvalidInput
    );
    assert!(new_set(&p, "Half", "PT1H30M").await.is_ok());

    // Managed policies: an AWS managed policy ARN, each once, at most 20 with the
    // customer-managed ones.
    assert_eq!(
        kind(attach(&p, &arn, "ReadOnlyAccess").await),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        kind(attach(&p, &arn, "arn:aws:iam::123456789012:policy/Mine").await),
        ErrorKind::InvalidInput
    );
    let view_only = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess";
    attach(&p, &arn, view_only).await.unwrap();
    assert_eq!(kind(attach(&p, &arn, view_only).await), ErrorKind::Conflict);
    for n in 0..19 {
        let policy = CustomerPolicyRef {
            name: format!("p{n}"),
            path: "/".into(),
        };
        call(
            &p,
            I::AttachCustomerManagedPolicyReferenceToPermissionSet {
                permission_set_arn: &arn,
                policy: &policy,
            },
        )
        .await
        .unwrap();
    }
    assert_eq!(
        kind(attach(&p, &arn, "arn:aws:iam::aws:policy/ReadOnlyAccess").await),
        ErrorKind::ServiceQuotaExceeded
    );
    assert_eq!(
        kind(
            call(
                &p,
                I::DetachManagedPolicyFromPermissionSet {
                    permission_set_arn: &arn,
                    policy_arn: "arn:aws:iam::aws:policy/ReadOnlyAccess",
                },
            )
            .await
        ),
        ErrorKind::NotFound
    );

    // The inline policy: 32,768 bytes, 10,240 characters besides whitespace, JSON.
    put_inline(&p, &arn, ALLOW_S3).await.unwrap();
    let padded = format!("{}{}", ALLOW_S3, " ".repeat(32_768 - ALLOW_S3.len()));
    put_inline(&p, &arn, &padded).await.unwrap();
    let too_big = format!("{padded} ");
    assert_eq!(
        kind(put_inline(&p, &arn, &too_big).await),
        ErrorKind::InvalidInput
    );
    let dense = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{}","Effect":"Allow","Action":"s3:*","Resource":"*"}}]}}"#,
        "x".repeat(10_240)
    );
    assert_eq!(
        kind(put_inline(&p, &arn, &dense).await),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        kind(put_inline(&p, &arn, "{not json").await),
        ErrorKind::InvalidInput
    );

    let live = refresh(&p, &scope(&["DataScientist"], &[])).await;
    let set = live.permission_set("DataScientist").unwrap();
    assert!(set.detailed);
    assert_eq!(set.session_duration, "PT8H");
    assert_eq!(set.description.as_deref(), Some("a set"));
    assert_eq!(set.customer_managed_policies.len(), 19);
    assert_eq!(set.inline_policy.as_deref(), Some(padded.as_str()));
    assert_eq!(set.tags, tags(&[("team", "ml")]));
    let other = live.permission_set("Half").unwrap();
    assert!(!other.detailed && other.managed_policies.is_empty());
}

#[tokio::test]
async fn groups_have_unique_display_names_and_reserved_ones_are_refused() {
    let p = sim();
    let g = create_group(&p, "ml-fraud-data-scientists").await;
    let store = p.identity_snapshot().instance.unwrap().identity_store_id;
    let (prefix, uuid) = g.split_at(11);
    assert_eq!(prefix, format!("{}-", &store[2..]));
    assert_eq!(uuid.len(), 36);
    assert_eq!(
        group_error(&p, "ml-fraud-data-scientists").await,
        ErrorKind::Conflict
    );
    assert_eq!(
        group_error(&p, "Administrator").await,
        ErrorKind::InvalidInput
    );
    assert_eq!(
        group_error(&p, "AWSAdministrators").await,
        ErrorKind::InvalidInput
    );
    assert_eq!(group_error(&p, "").await, ErrorKind::InvalidInput);
    call(
        &p,
        I::UpdateGroup {
            group_id: &g,
            description: Some("the fraud team"),
        },
    )
    .await
    .unwrap();
    let live = refresh(&p, &scope(&[], &["ml-fraud-data-scientists", "absent"])).await;
    assert_eq!(live.groups.len(), 1);
    let group = &live.groups["ml-fraud-data-scientists"];
    assert_eq!(
        (group.id.as_str(), group.description.as_deref()),
        (g.as_str(), Some("the fraud team"))
    );
}

#[tokio::test]
async fn an_assignment_is_in_progress_then_succeeds_and_provisions_the_set() {
    let p = polling(2);
    let account = new_account(&p, "ml-dev").await;
    let set = create_set(&p, "DataScientist").await;
    let group = create_group(&p, "scientists").await;
    let request = assign(&p, &set, &group, &account).await.unwrap();
    assert_eq!(
        wait(&p, IdentityRequest::AssignmentCreation, &request).await,
        vec![
            OperationStatus::InProgress,
            OperationStatus::InProgress,
            succeeded()
        ]
    );
    // Finished: the same answer again; the other status APIs do not know the id.
    assert_eq!(
        p.identity_request(IdentityRequest::AssignmentCreation, &request)
            .await
            .unwrap(),
        succeeded()
    );
    let err = p
        .identity_request(IdentityRequest::AssignmentDeletion, &request)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);

    let live = refresh(&p, &scope(&["DataScientist"], &[])).await;
    let ps = &live.permission_sets[&set];
    assert_eq!(ps.provisioned_to, BTreeSet::from([account.clone()]));
    assert!(ps.outdated_in.is_empty());
    assert_eq!(live.assignments.len(), 1);
    let a = live.assignments.iter().next().unwrap();
    assert_eq!(
        (a.principal_id.as_str(), a.account_id.as_str()),
        (group.as_str(), account.as_str())
    );
    // The group is not in scope: its name comes with the assignment.
    assert_eq!(live.group_names[&group], "scientists");

    // Creating it again succeeds and changes nothing.
    let again = assign(&p, &set, &group, &account).await.unwrap();
    assert_eq!(
        wait(&p, IdentityRequest::AssignmentCreation, &again)
            .await
            .last(),
        Some(&succeeded())
    );
    assert_eq!(p.identity_snapshot().assignments.len(), 1);
}

#[tokio::test]
async fn assignments_need_the_set_the_principal_and_an_account_id() {
    let p = sim();
    let account = new_account(&p, "a").await;
    let set = create_set(&p, "S").await;
    let group = create_group(&p, "g").await;
    let user = p.add_identity_user("jane@example.com").unwrap();
    let gone_set = format!("{}0", &set[..set.len() - 1]);
    assert_eq!(
        assign(&p, &gone_set, &group, &account)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    let ghost = format!("{}0", &group[..group.len() - 1]);
    assert_eq!(
        assign(&p, &set, &ghost, &account).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        assign(&p, &set, &group, "12345").await.unwrap_err().kind,
        ErrorKind::InvalidInput
    );
    // A group id named as a user is not a user.
    let as_user = call(
        &p,
        I::CreateAccountAssignment {
            permission_set_arn: &set,
            principal_type: PrincipalType::User,
            principal_id: &group,
            account_id: &account,
        },
    )
    .await;
    assert_eq!(as_user.unwrap_err().kind, ErrorKind::NotFound);
    let to_user = call(
        &p,
        I::CreateAccountAssignment {
            permission_set_arn: &set,
            principal_type: PrincipalType::User,
            principal_id: &user,
            account_id: &account,
        },
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        wait(&p, IdentityRequest::AssignmentCreation, &to_user).await,
        vec![succeeded()]
    );
    let live = p
        .refresh_identity(&IdentityScope {
            users: BTreeSet::from([
                "jane@example.com".to_string(),
                "nobody@example.com".to_string(),
            ]),
            ..scope(&["S"], &[])
        })
        .await
        .unwrap();
    assert_eq!(live.users.len(), 1);
    assert_eq!(live.users["jane@example.com"], user);
    assert_eq!(
        live.assignments.iter().next().unwrap().principal_type,
        PrincipalType::User
    );
}

#[tokio::test]
async fn an_assignment_fails_in_an_account_that_is_not_active_or_lacks_a_customer_policy() {
    let p = polling(1);
    let account = new_account(&p, "ml-dev").await;
    let closed = new_account(&p, "closed").await;
    p.close_account(&closed).await.unwrap();
    let set = create_set(&p, "DataScientist").await;
    let group = create_group(&p, "scientists").await;
    let policy = CustomerPolicyRef {
        name: "ml-data-access".into(),
        path: "/ml/".into(),
    };
    call(
        &p,
        I::AttachCustomerManagedPolicyReferenceToPermissionSet {
            permission_set_arn: &set,
            policy: &policy,
        },
    )
    .await
    .unwrap();

    let failed = |statuses: Vec<OperationStatus>| match statuses.as_slice() {
        [
            OperationStatus::InProgress,
            OperationStatus::Failed { message },
        ] => message.clone(),
        other => panic!("expected IN_PROGRESS then FAILED, got {other:?}"),
    };
    let request = assign(&p, &set, &group, &account).await.unwrap();
    let reason = failed(wait(&p, IdentityRequest::AssignmentCreation, &request).await);
    assert!(
        reason.contains(&format!("arn:aws:iam::{account}:policy/ml/ml-data-access")),
        "{reason}"
    );
    for gone in [closed.as_str(), "999999999999"] {
        let request = assign(&p, &set, &group, gone).await.unwrap();
        let reason = failed(wait(&p, IdentityRequest::AssignmentCreation, &request).await);
        assert!(reason.contains("not an active member"), "{reason}");
    }
    // Nothing assigned, nothing provisioned.
    let snapshot = p.identity_snapshot();
    assert!(snapshot.assignments.is_empty());
    assert!(snapshot.permission_sets[&set].provisioned_to.is_empty());

    // Once the policy exists in the account, the same assignment succeeds.
    p.add_customer_managed_policy(&account, policy.clone())
        .unwrap();
    let request = assign(&p, &set, &group, &account).await.unwrap();
    assert_eq!(
        wait(&p, IdentityRequest::AssignmentCreation, &request)
            .await
            .last(),
        Some(&succeeded())
    );
    assert_eq!(p.identity_snapshot().assignments.len(), 1);

    // A customer-managed boundary is looked up the same way when provisioning.
    let boundary = PermissionsBoundary::Customer(CustomerPolicyRef {
        name: "boundary".into(),
        path: "/".into(),
    });
    call(
        &p,
        I::PutPermissionsBoundaryToPermissionSet {
            permission_set_arn: &set,
            boundary: &boundary,
        },
    )
    .await
    .unwrap();
    let request = call(
        &p,
        I::ProvisionPermissionSet {
            permission_set_arn: &set,
        },
    )
    .await
    .unwrap()
    .unwrap();
    let reason = failed(wait(&p, IdentityRequest::Provisioning, &request).await);
    assert!(reason.contains("policy/boundary"), "{reason}");
    let live = refresh(&p, &scope(&["DataScientist"], &[])).await;
    assert_eq!(
        live.permission_sets[&set].outdated_in,
        BTreeSet::from([account])
    );
}

#[tokio::test]
async fn a_policy_change_outdates_the_accounts_until_provisioned() {
    let p = sim();
    let a = new_account(&p, "a").await;
    let b = new_account(&p, "b").await;
    let set = create_set(&p, "Auditor").await;
    let group = create_group(&p, "auditors").await;
    for account in [&a, &b] {
        let r = assign(&p, &set, &group, account).await.unwrap();
        wait(&p, IdentityRequest::AssignmentCreation, &r).await;
    }
    let outdated = |p: &SimBackend| {
        p.identity_snapshot().permission_sets[&set]
            .outdated_in
            .clone()
    };
    assert!(outdated(&p).is_empty());
    // Tags and the description do not reach the role; policies and the session do.
    call(
        &p,
        I::TagPermissionSet {
            permission_set_arn: &set,
            tags: &tags(&[("x", "y")]),
        },
    )
    .await
    .unwrap();
    call(
        &p,
        I::UpdatePermissionSet {
            permission_set_arn: &set,
            description: Some("other"),
            session_duration: "PT8H",
        },
    )
    .await
    .unwrap();
    assert!(outdated(&p).is_empty());
    call(
        &p,
        I::AttachManagedPolicyToPermissionSet {
            permission_set_arn: &set,
            policy_arn: "arn:aws:iam::aws:policy/SecurityAudit",
        },
    )
    .await
    .unwrap();
    assert_eq!(outdated(&p), BTreeSet::from([a.clone(), b.clone()]));
    let live = refresh(&p, &scope(&["Auditor"], &[])).await;
    assert_eq!(live.permission_sets[&set].outdated_in.len(), 2);

    let r = call(
        &p,
        I::ProvisionPermissionSet {
            permission_set_arn: &set,
        },
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        wait(&p, IdentityRequest::Provisioning, &r).await,
        vec![succeeded()]
    );
    assert!(outdated(&p).is_empty());

    // Out of band: an inline policy edited in the console outdates them again.
    p.edit_inline_policy("Auditor", Some(ALLOW_S3))
        .await
        .unwrap();
    assert_eq!(outdated(&p).len(), 2);
    let live = refresh(&p, &scope(&["Auditor"], &[])).await;
    assert_eq!(
        live.permission_sets[&set].inline_policy.as_deref(),
        Some(ALLOW_S3)
    );
}

#[tokio::test]
async fn a_set_is_deleted_only_once_no_account_has_it() {
    let p = polling(1);
    let account = new_account(&p, "a").await;
    let set = create_set(&p, "Admin").await;
    let group = create_group(&p, "admins").await;
    let r = assign(&p, &set, &group, &account).await.unwrap();
    wait(&p, IdentityRequest::AssignmentCreation, &r).await;
    let delete = I::DeletePermissionSet {
        permission_set_arn: &set,
    };
    let err = call(&p, delete).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict, "{err}");
    assert!(err.message.contains("ApplicationProfile"), "{err}");

    let r = unassign(&p, &set, &group, &account).await.unwrap();
    // Still running: the account may still hold the role.
    assert_eq!(
        call(&p, delete).await.unwrap_err().kind,
        ErrorKind::Conflict
    );
    assert_eq!(
        wait(&p, IdentityRequest::AssignmentDeletion, &r).await,
        vec![OperationStatus::InProgress, succeeded()]
    );
    // The last assignment took the set out of the account.
    assert!(
        p.identity_snapshot().permission_sets[&set]
            .provisioned_to
            .is_empty()
    );
    call(&p, delete).await.unwrap();
    assert!(p.identity_snapshot().permission_sets.is_empty());
    // Gone: a second delete and a deletion of the assignment say so.
    assert_eq!(
        call(&p, delete).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        unassign(&p, &set, &group, &account).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn deleting_a_group_leaves_its_assignments() {
    let p = sim();
    let account = new_account(&p, "a").await;
    let set = create_set(&p, "S").await;
    let group = create_group(&p, "temp").await;
    let r = assign(&p, &set, &group, &account).await.unwrap();
    wait(&p, IdentityRequest::AssignmentCreation, &r).await;
    call(&p, I::DeleteGroup { group_id: &group }).await.unwrap();
    assert_eq!(
        call(&p, I::DeleteGroup { group_id: &group })
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    let live = p
        .refresh_identity(&IdentityScope {
            group_ids: BTreeSet::from([group.clone()]),
            ..scope(&["S"], &["temp"])
        })
        .await
        .unwrap();
    assert_eq!(live.assignments.len(), 1, "the assignment stays");
    assert!(live.groups.is_empty() && live.group_names.is_empty());
    // It can still be deleted, naming the group that is gone.
    let r = unassign(&p, &set, &group, &account).await.unwrap();
    assert_eq!(
        wait(&p, IdentityRequest::AssignmentDeletion, &r).await,
        vec![succeeded()]
    );
}

#[tokio::test]
async fn the_eleventh_outstanding_assignment_creation_is_refused() {
    let p = polling(3);
    let set = create_set(&p, "S").await;
    let mut accounts = Vec::new();
    for n in 0..11 {
        accounts.push(new_account(&p, &format!("acct-{n}")).await);
    }
    let group = create_group(&p, "g").await;
    let mut requests = Vec::new();
    for account in &accounts[..10] {
        requests.push(assign(&p, &set, &group, account).await.unwrap());
    }
    let err = assign(&p, &set, &group, &accounts[10]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Throttling, "{err}");
    assert!(
        err.message.contains("too many requests processing"),
        "{err}"
    );
    assert_eq!(
        p.identity_snapshot().assignments.len(),
        10,
        "the refusal changed nothing"
    );
    // Deletions and provisioning do not count; a finished creation frees a slot.
    let d = unassign(&p, &set, &group, &accounts[0]).await.unwrap();
    call(
        &p,
        I::ProvisionPermissionSet {
            permission_set_arn: &set,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        assign(&p, &set, &group, &accounts[10])
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Throttling
    );
    wait(&p, IdentityRequest::AssignmentDeletion, &d).await;
    wait(&p, IdentityRequest::AssignmentCreation, &requests[1]).await;
    let r = assign(&p, &set, &group, &accounts[10]).await.unwrap();
    assert_eq!(
        wait(&p, IdentityRequest::AssignmentCreation, &r)
            .await
            .last(),
        Some(&succeeded())
    );
}

#[tokio::test]
async fn refresh_reads_every_set_and_details_those_in_scope() {
    let p = sim();
    let account = new_account(&p, "a").await;
    let detailed = create_set(&p, "InScope").await;
    let plain = create_set(&p, "Other").await;
    let group = create_group(&p, "g").await;
    for set in [&detailed, &plain] {
        call(
            &p,
            I::AttachManagedPolicyToPermissionSet {
                permission_set_arn: set,
                policy_arn: "arn:aws:iam::aws:policy/ReadOnlyAccess",
            },
        )
        .await
        .unwrap();
        let r = assign(&p, set, &group, &account).await.unwrap();
        wait(&p, IdentityRequest::AssignmentCreation, &r).await;
    }
    let live = refresh(&p, &scope(&["InScope"], &[])).await;
    assert!(live.read);
    assert_eq!(live.permission_sets.len(), 2);
    let d = &live.permission_sets[&detailed];
    assert!(d.detailed && d.managed_policies.len() == 1 && d.provisioned_to.len() == 1);
    let o = &live.permission_sets[&plain];
    assert!(!o.detailed && o.managed_policies.is_empty() && o.provisioned_to.is_empty());
    // Only the detailed set's assignments are read.
    assert_eq!(live.assignments.len(), 1);
    assert_eq!(
        live.assignments.iter().next().unwrap().permission_set_arn,
        detailed
    );

    // Identity Center off: no instance, nothing else; calls are refused.
    p.set_identity_center(false).unwrap();
    let live = refresh(&p, &scope(&["InScope"], &["g"])).await;
    assert!(live.read && live.instance.is_none() && live.permission_sets.is_empty());
    assert_eq!(
        call(
            &p,
            I::CreateGroup {
                display_name: "x",
                description: None
            }
        )
        .await
        .unwrap_err()
        .kind,
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn permission_sets_are_listed_page_by_page() {
    let p = sim();
    for n in 0..205 {
        create_set(&p, &format!("set-{n}")).await;
    }
    let live = refresh(&p, &IdentityScope::default()).await;
    assert_eq!(live.permission_sets.len(), 205);
}

#[tokio::test]
async fn a_console_user_removes_an_assignment() {
    let p = sim();
    let account = new_account(&p, "a").await;
    let set = create_set(&p, "S").await;
    let group = create_group(&p, "g").await;
    let r = assign(&p, &set, &group, &account).await.unwrap();
    wait(&p, IdentityRequest::AssignmentCreation, &r).await;
    p.remove_account_assignment(&set, PrincipalType::Group, &group, &account)
        .await
        .unwrap();
    let snapshot = p.identity_snapshot();
    assert!(snapshot.assignments.is_empty());
    assert!(snapshot.permission_sets[&set].provisioned_to.is_empty());
    let err = p
        .remove_account_assignment(&set, PrincipalType::Group, &group, &account)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn identity_center_survives_the_world_file_and_old_files_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sim.world.json");
    let settings = SimSettings {
        account_creation_polls: 3,
        ..SimSettings::default()
    };
    let p = SimBackend::open(&path, settings.clone(), Quotas::default()).unwrap();
    // A world file without Identity Center (as older Landfalls wrote) loads enabled.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("\"identity\""),
        "an empty Identity Center is not written"
    );
    let instance = p.identity_snapshot().instance.unwrap();

    let account = new_account(&p, "a").await;
    let set = create_set(&p, "S").await;
    let group = create_group(&p, "g").await;
    p.add_identity_user("jane@example.com").unwrap();
    p.add_customer_managed_policy(
        &account,
        CustomerPolicyRef {
            name: "x".into(),
            path: "/".into(),
        },
    )
    .unwrap();
    let r = assign(&p, &set, &group, &account).await.unwrap();
    assert_eq!(
        p.identity_request(IdentityRequest::AssignmentCreation, &r)
            .await
            .unwrap(),
        OperationStatus::InProgress
    );
    let before = p.identity_snapshot();
    drop(p);

    let q = SimBackend::open(&path, settings, Quotas::default()).unwrap();
    assert_eq!(q.identity_snapshot(), before);
    assert_eq!(q.identity_snapshot().instance.unwrap(), instance);
    // What the earlier process left running is finished on open.
    assert_eq!(
        q.identity_request(IdentityRequest::AssignmentCreation, &r)
            .await
            .unwrap(),
        succeeded()
    );
    // Ids keep advancing: no reuse.
    assert_ne!(create_group(&q, "h").await, group);
}
