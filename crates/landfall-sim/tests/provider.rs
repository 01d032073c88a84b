//! The sim through the `Provider` trait, as the executor sees it: every rule AWS
//! Organizations enforces, account-creation polling, fault injection and the world
//! file.

// The helpers below are test code too; clippy only exempts `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Instant;

use landfall_core::live::AccountStatus;
use landfall_core::model::{Quotas, SimSettings, Tags};
use landfall_core::provider::{CreateAccountRequest, CreateAccountStatus, ErrorKind, Provider};
use landfall_sim::world::FULL_AWS_ACCESS_ID;
use landfall_sim::{SimBackend, SimError};

fn sim() -> SimBackend {
    SimBackend::in_memory(SimSettings::default(), Quotas::default())
}

fn sim_with(settings: SimSettings, quotas: Quotas) -> SimBackend {
    SimBackend::in_memory(settings, quotas)
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn request(name: &str, email: &str) -> CreateAccountRequest {
    CreateAccountRequest {
        name: name.into(),
        email: email.into(),
        tags: Tags::new(),
        role_name: "OrganizationAccountAccessRole".into(),
    }
}

const DENY_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;

async fn root(p: &SimBackend) -> String {
    p.refresh().await.unwrap().root_id
}

/// Creates an account and polls it to completion; returns the final status.
async fn create_and_wait(p: &SimBackend, name: &str, email: &str) -> CreateAccountStatus {
    let id = p.create_account(&request(name, email)).await.unwrap();
    loop {
        match p.create_account_status(&id).await.unwrap() {
            CreateAccountStatus::InProgress => continue,
            done => return done,
        }
    }
}

async fn new_account(p: &SimBackend, name: &str) -> String {
    match create_and_wait(p, name, &format!("{name}@example.com")).await {
        CreateAccountStatus::Succeeded { account_id } => account_id,
        other => panic!("account creation failed: {other:?}"),
    }
}

// ---- the fresh world -----------------------------------------------------------

#[tokio::test]
async fn a_fresh_world_has_root_management_account_and_full_aws_access() {
    let p = sim();
    let live = p.refresh().await.unwrap();
    assert!(live.root_id.starts_with("r-") && live.root_id.len() == 6);
    let mgmt = &live.accounts[&live.management_account_id];
    assert_eq!(mgmt.name, "management");
    assert_eq!(mgmt.email, "management@sim.landfall.invalid");
    assert_eq!(mgmt.parent_id, live.root_id);
    assert_eq!(live.management_account_id.len(), 12);
    let fa = &live.policies[FULL_AWS_ACCESS_ID];
    assert_eq!(fa.name, "FullAWSAccess");
    assert!(fa.aws_managed);
    let doc: serde_json::Value = serde_json::from_str(&fa.content).unwrap();
    assert_eq!(doc["Statement"][0]["Effect"], "Allow");
    assert_eq!(doc["Statement"][0]["Action"], "*");
    assert!(
        live.attachments
            .contains(&(FULL_AWS_ACCESS_ID.into(), live.root_id.clone()))
    );
    assert!(live.attachments.contains(&(
        FULL_AWS_ACCESS_ID.into(),
        live.management_account_id.clone()
    )));
    assert!(live.ous.is_empty());
    let identity = p.identity().await.unwrap();
    assert_eq!(identity.backend, "sim");
    assert_eq!(identity.id, p.world_id());
    assert!(identity.id.starts_with("sim-") && identity.id.len() == 16);
}

#[tokio::test]
async fn identical_call_sequences_give_identical_ids() {
    async fn run() -> Vec<String> {
        let p = sim_with(
            SimSettings {
                seed: 3,
                ..SimSettings::default()
            },
            Quotas::default(),
        );
        let r = root(&p).await;
        let ou = p.create_ou(&r, "A", &Tags::new()).await.unwrap();
        let pol = p
            .create_policy("x", "", DENY_ALL, &Tags::new())
            .await
            .unwrap();
        let acct = new_account(&p, "a").await;
        vec![r, ou, pol, acct]
    }
    let a = run().await;
    assert_eq!(a, run().await);
    assert!(a[1].starts_with(&format!("ou-{}-", &a[0][2..])));
    assert!(a[2].starts_with("p-") && a[2].len() == 10);
}

// ---- OUs -------------------------------------------------------------------------

#[tokio::test]
async fn create_ou_checks_parent_duplicates_and_depth_and_attaches_full_aws_access() {
    let p = sim_with(
        SimSettings::default(),
        Quotas {
            ou_max_depth: 3,
            ..Quotas::default()
        },
    );
    let r = root(&p).await;
    let t = tags(&[("team", "platform")]);
    let a = p.create_ou(&r, "Workloads", &t).await.unwrap();
    let live = p.refresh().await.unwrap();
    assert_eq!(live.ous[&a].name, "Workloads");
    assert_eq!(live.ous[&a].parent_id, r);
    assert_eq!(live.ous[&a].tags, t);
    assert!(
        live.attachments
            .contains(&(FULL_AWS_ACCESS_ID.into(), a.clone()))
    );

    let err = p
        .create_ou(&r, "Workloads", &Tags::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::DuplicateOrganizationalUnit);
    assert_eq!(err.api, "CreateOrganizationalUnit");
    // Same name under another parent is fine.
    let b = p.create_ou(&a, "Workloads", &Tags::new()).await.unwrap();

    let err = p
        .create_ou("ou-zzzz-nothere1", "X", &Tags::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);

    let c = p.create_ou(&b, "Level3", &Tags::new()).await.unwrap();
    let err = p.create_ou(&c, "Level4", &Tags::new()).await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::ConstraintViolation("OU_DEPTH_LIMIT_EXCEEDED".into())
    );
}

#[tokio::test]
async fn default_quota_allows_five_levels_below_root() {
    let p = sim();
    let mut parent = root(&p).await;
    for level in 1..=5 {
        parent = p
            .create_ou(&parent, &format!("L{level}"), &Tags::new())
            .await
            .unwrap();
    }
    let err = p.create_ou(&parent, "L6", &Tags::new()).await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::ConstraintViolation("OU_DEPTH_LIMIT_EXCEEDED".into())
    );
}

#[tokio::test]
async fn rename_ou_checks_siblings() {
    let p = sim();
    let r = root(&p).await;
    let a = p.create_ou(&r, "A", &Tags::new()).await.unwrap();
    p.create_ou(&r, "B", &Tags::new()).await.unwrap();
    let err = p.rename_ou(&a, "B").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::DuplicateOrganizationalUnit);
    p.rename_ou(&a, "A").await.unwrap();
    p.rename_ou(&a, "C").await.unwrap();
    assert_eq!(p.refresh().await.unwrap().ous[&a].name, "C");
    let err = p.rename_ou("ou-zzzz-nothere1", "D").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn delete_ou_requires_empty_and_drops_attachments() {
    let p = sim();
    let r = root(&p).await;
    let parent = p.create_ou(&r, "Parent", &Tags::new()).await.unwrap();
    let child = p.create_ou(&parent, "Child", &Tags::new()).await.unwrap();
    let err = p.delete_ou(&parent).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::OrganizationalUnitNotEmpty);

    let acct = new_account(&p, "inside").await;
    p.move_account(&acct, &r, &child).await.unwrap();
    let err = p.delete_ou(&child).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::OrganizationalUnitNotEmpty);
    p.move_account(&acct, &child, &r).await.unwrap();

    let pol = p
        .create_policy("deny", "", DENY_ALL, &Tags::new())
        .await
        .unwrap();
    p.attach_policy(&pol, &child).await.unwrap();
    p.delete_ou(&child).await.unwrap();
    p.delete_ou(&parent).await.unwrap();
    let live = p.refresh().await.unwrap();
    assert!(live.ous.is_empty());
    assert!(
        live.attachments
            .iter()
            .all(|(_, t)| t != &child && t != &parent)
    );
    // The policy is attached nowhere now, so it can go.
    p.delete_policy(&pol).await.unwrap();
    let err = p.delete_ou(&child).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
}

// ---- accounts -------------------------------------------------------------------

#[tokio::test]
async fn account_creation_polls_then_succeeds_and_the_account_exists_at_once() {
    let p = sim_with(
        SimSettings {
            account_creation_polls: 2,
            ..SimSettings::default()
        },
        Quotas::default(),
    );
    let mut req = request("ml-dev", "ml-dev@example.com");
    req.tags = tags(&[("project", "ml")]);
    let id = p.create_account(&req).await.unwrap();
    assert!(id.starts_with("car-") && id.len() == 36);

    // Already in the world while the request is in progress (a crash keeps it).
    let live = p.refresh().await.unwrap();
    let acct = live
        .accounts
        .values()
        .find(|a| a.email == "ml-dev@example.com")
        .unwrap()
        .clone();
    assert_eq!(acct.parent_id, live.root_id);
    assert_eq!(acct.status, AccountStatus::Active);
    assert_eq!(acct.tags, req.tags);
    assert!(
        live.attachments
            .contains(&(FULL_AWS_ACCESS_ID.into(), acct.id.clone()))
    );

    assert_eq!(
        p.create_account_status(&id).await.unwrap(),
        CreateAccountStatus::InProgress
    );
    assert_eq!(
        p.create_account_status(&id).await.unwrap(),
        CreateAccountStatus::InProgress
    );
    let done = CreateAccountStatus::Succeeded {
        account_id: acct.id.clone(),
    };
    assert_eq!(p.create_account_status(&id).await.unwrap(), done);
    assert_eq!(p.create_account_status(&id).await.unwrap(), done);

    let err = p
        .create_account_status("car-00000000000000000000000000000000")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn duplicate_email_fails_the_request_case_insensitively() {
    let p = sim();
    new_account(&p, "first").await;
    let before = p.refresh().await.unwrap().accounts.len();
    let status = create_and_wait(&p, "second", "FIRST@Example.com").await;
    assert_eq!(
        status,
        CreateAccountStatus::Failed {
            reason: "EMAIL_ALREADY_EXISTS".into()
        }
    );
    assert_eq!(p.refresh().await.unwrap().accounts.len(), before);
    // The management account's address is taken too.
    let status = create_and_wait(&p, "third", "management@sim.landfall.invalid").await;
    assert!(matches!(status, CreateAccountStatus::Failed { .. }));
}

#[tokio::test]
async fn account_quota_fails_the_request() {
    let p = sim_with(
        SimSettings::default(),
        Quotas {
            max_accounts: 2,
            ..Quotas::default()
        },
    );
    new_account(&p, "one").await; // with the management account: 2
    let status = create_and_wait(&p, "two", "two@example.com").await;
    assert_eq!(
        status,
        CreateAccountStatus::Failed {
            reason: "ACCOUNT_LIMIT_EXCEEDED".into()
        }
    );
    assert_eq!(p.refresh().await.unwrap().accounts.len(), 2);
}

#[tokio::test]
async fn move_account_follows_aws_errors() {
    let p = sim();
    let r = root(&p).await;
    let a = p.create_ou(&r, "A", &Tags::new()).await.unwrap();
    let b = p.create_ou(&r, "B", &Tags::new()).await.unwrap();
    let acct = new_account(&p, "mover").await;

    let err = p.move_account("999999999999", &r, &a).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let err = p.move_account(&acct, &b, &a).await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Other("SourceParentNotFoundException".into())
    );
    let err = p
        .move_account(&acct, &r, "ou-zzzz-nothere1")
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Other("DestinationParentNotFoundException".into())
    );
    let err = p.move_account(&acct, &r, &r).await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Other("DuplicateAccountException".into())
    );

    p.move_account(&acct, &r, &a).await.unwrap();
    p.move_account(&acct, &a, &b).await.unwrap();
    assert_eq!(p.refresh().await.unwrap().accounts[&acct].parent_id, b);
}

#[tokio::test]
async fn close_account_suspends_once_and_never_the_management_account() {
    let p = sim();
    let acct = new_account(&p, "closing").await;
    p.close_account(&acct).await.unwrap();
    let live = p.refresh().await.unwrap();
    assert_eq!(live.accounts[&acct].status, AccountStatus::Suspended);
    let err = p.close_account(&acct).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccountAlreadyClosed);
    let err = p
        .close_account(&live.management_account_id)
        .await
        .unwrap_err();
    assert!(matches!(err.kind, ErrorKind::ConstraintViolation(_)));
    let err = p.close_account("999999999999").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    // A closed account's email stays taken.
    let status = create_and_wait(&p, "again", "closing@example.com").await;
    assert!(matches!(status, CreateAccountStatus::Failed { .. }));
}

// ---- tags ------------------------------------------------------------------------

#[tokio::test]
async fn tags_on_ous_accounts_and_policies() {
    let p = sim();
    let r = root(&p).await;
    let ou = p.create_ou(&r, "A", &Tags::new()).await.unwrap();
    let acct = new_account(&p, "tagged").await;
    let pol = p
        .create_policy("x", "", DENY_ALL, &Tags::new())
        .await
        .unwrap();
    for id in [&ou, &acct, &pol] {
        p.tag_resource(id, &tags(&[("a", "1"), ("b", "2")]))
            .await
            .unwrap();
        p.tag_resource(id, &tags(&[("a", "3")])).await.unwrap();
        p.untag_resource(id, &["b".to_string(), "absent".to_string()])
            .await
            .unwrap();
    }
    let live = p.refresh().await.unwrap();
    let want = tags(&[("a", "3")]);
    assert_eq!(live.ous[&ou].tags, want);
    assert_eq!(live.accounts[&acct].tags, want);
    assert_eq!(live.policies[&pol].tags, want);

    let err = p.tag_resource("ou-zzzz-nothere1", &want).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let err = p.untag_resource("p-nothere1", &[]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);

    let fifty: Tags = (0..50)
        .map(|i| (format!("k{i}"), "v".to_string()))
        .collect();
    let err = p.tag_resource(&ou, &fifty).await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::ConstraintViolation("MAX_TAG_LIMIT_EXCEEDED".into())
    );
    // Overwriting existing keys does not count against the limit.
    let mut fifty_with_a = fifty.clone();
    fifty_with_a.remove("k0");
    fifty_with_a.insert("a".into(), "4".into());
    p.tag_resource(&ou, &fifty_with_a).await.unwrap();
    assert_eq!(p.refresh().await.unwrap().ous[&ou].tags.len(), 50);
}

// ---- policies --------------------------------------------------------------------

#[tokio::test]
async fn create_and_update_policy_check_name_json_and_size() {
    let p = sim_with(
        SimSettings::default(),
        Quotas {
            scp_max_chars: 100,
            ..Quotas::default()
        },
    );
    let pol = p
        .create_policy("deny", "denies", DENY_ALL, &tags(&[("o", "x")]))
        .await
        .unwrap();
    let live = p.refresh().await.unwrap();
    assert_eq!(live.policies[&pol].content, DENY_ALL);
    assert_eq!(live.policies[&pol].description, "denies");
    assert!(!live.policies[&pol].aws_managed);

    let err = p
        .create_policy("deny", "", DENY_ALL, &Tags::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::DuplicatePolicy);
    let err = p
        .create_policy("FullAWSAccess", "", DENY_ALL, &Tags::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::DuplicatePolicy);
    let err = p
        .create_policy("bad", "", "{\"Version\":", &Tags::new())
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Other("MalformedPolicyDocumentException".into())
    );
    let big = format!("{{\"Sid\":\"{}\"}}", "x".repeat(100));
    let err = p
        .create_policy("big", "", &big, &Tags::new())
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::ConstraintViolation("POLICY_CONTENT_LIMIT_EXCEEDED".into())
    );

    let err = p.update_policy(&pol, None, Some("nope")).await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Other("MalformedPolicyDocumentException".into())
    );
    let err = p.update_policy(&pol, None, Some(&big)).await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::ConstraintViolation("POLICY_CONTENT_LIMIT_EXCEEDED".into())
    );
    p.update_policy(&pol, Some("new"), Some("{}"))
        .await
        .unwrap();
    let live = p.refresh().await.unwrap();
    assert_eq!(live.policies[&pol].content, "{}");
    assert_eq!(live.policies[&pol].description, "new");
    let err = p.update_policy("p-nothere1", None, None).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let err = p
        .update_policy(FULL_AWS_ACCESS_ID, Some("mine"), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
}

#[tokio::test]
async fn delete_policy_refuses_attached_and_aws_managed() {
    let p = sim();
    let r = root(&p).await;
    let pol = p
        .create_policy("deny", "", DENY_ALL, &Tags::new())
        .await
        .unwrap();
    p.attach_policy(&pol, &r).await.unwrap();
    let err = p.delete_policy(&pol).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::PolicyInUse);
    p.detach_policy(&pol, &r).await.unwrap();
    p.delete_policy(&pol).await.unwrap();
    assert!(!p.refresh().await.unwrap().policies.contains_key(&pol));
    let err = p.delete_policy(&pol).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let err = p.delete_policy(FULL_AWS_ACCESS_ID).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
}

#[tokio::test]
async fn attach_and_detach_enforce_existence_duplicates_and_quotas() {
    let p = sim_with(
        SimSettings::default(),
        Quotas {
            scps_per_target: 3,
            ..Quotas::default()
        },
    );
    let r = root(&p).await;
    let ou = p.create_ou(&r, "A", &Tags::new()).await.unwrap();
    let acct = new_account(&p, "target").await;
    let mut pols = Vec::new();
    for i in 0..3 {
        pols.push(
            p.create_policy(&format!("p{i}"), "", DENY_ALL, &Tags::new())
                .await
                .unwrap(),
        );
    }

    let err = p.attach_policy("p-nothere1", &ou).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let err = p
        .attach_policy(&pols[0], "ou-zzzz-nothere1")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);

    // FullAWSAccess + 2 = 3 = the quota.
    p.attach_policy(&pols[0], &ou).await.unwrap();
    let err = p.attach_policy(&pols[0], &ou).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::DuplicatePolicyAttachment);
    p.attach_policy(&pols[1], &ou).await.unwrap();
    let err = p.attach_policy(&pols[2], &ou).await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::ConstraintViolation("MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED".into())
    );
    // Accounts are targets too.
    p.attach_policy(&pols[2], &acct).await.unwrap();

    let err = p.detach_policy(&pols[2], &ou).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::PolicyNotAttached);
    p.detach_policy(FULL_AWS_ACCESS_ID, &acct).await.unwrap();
    // pols[2] is now the account's only SCP.
    let err = p.detach_policy(&pols[2], &acct).await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::ConstraintViolation("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED".into())
    );
    let err = p.detach_policy(FULL_AWS_ACCESS_ID, &r).await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::ConstraintViolation("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED".into())
    );

    let live = p.refresh().await.unwrap();
    assert!(live.attachments.contains(&(pols[0].clone(), ou.clone())));
    assert!(live.attachments.contains(&(pols[1].clone(), ou.clone())));
    assert!(live.attachments.contains(&(pols[2].clone(), acct.clone())));
    assert!(
        !live
            .attachments
            .contains(&(FULL_AWS_ACCESS_ID.into(), acct.clone()))
    );
}

// ---- fault injection -----------------------------------------------------------

#[tokio::test]
async fn throttle_rate_is_roughly_honoured_and_has_no_effect() {
    let p = sim_with(
        SimSettings {
            throttle_rate: 0.3,
            seed: 42,
            ..SimSettings::default()
        },
        Quotas::default(),
    );
    let r = p.snapshot().root_id;
    let mut throttled = 0;
    let mut created = 0;
    for i in 0..1000 {
        let result = if i % 2 == 0 {
            p.refresh().await.map(|_| ())
        } else {
            p.create_ou(&r, &format!("ou{i}"), &Tags::new())
                .await
                .map(|_| created += 1)
        };
        match result {
            Ok(()) => {}
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::TooManyRequests);
                assert!(e.kind.is_retryable());
                throttled += 1;
            }
        }
    }
    assert!(
        (240..=360).contains(&throttled),
        "{throttled} of 1000 calls throttled at rate 0.3"
    );
    // Throttled creates did nothing.
    assert_eq!(p.snapshot().ous.len(), created);
}

#[tokio::test]
async fn throttling_is_reproducible_for_a_seed() {
    async fn pattern() -> Vec<bool> {
        let p = sim_with(
            SimSettings {
                throttle_rate: 0.5,
                seed: 7,
                ..SimSettings::default()
            },
            Quotas::default(),
        );
        let mut out = Vec::new();
        for _ in 0..50 {
            out.push(p.refresh().await.is_err());
        }
        out
    }
    assert_eq!(pattern().await, pattern().await);
}

#[tokio::test]
async fn fail_at_hits_exactly_the_nth_mutating_call_once_without_effect() {
    let p = sim_with(
        SimSettings {
            fail_at: Some(3),
            ..SimSettings::default()
        },
        Quotas::default(),
    );
    let r = p.snapshot().root_id;
    p.create_ou(&r, "one", &Tags::new()).await.unwrap();
    // Reads do not count.
    p.refresh().await.unwrap();
    // A refused mutating call counts.
    p.create_ou(&r, "one", &Tags::new()).await.unwrap_err();
    let err = p.create_ou(&r, "three", &Tags::new()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InjectedFault);
    assert!(!err.kind.is_retryable());
    assert_eq!(err.message, "injected failure on mutating call 3");
    assert_eq!(err.api, "CreateOrganizationalUnit");
    let names: Vec<_> = p.snapshot().ous.values().map(|o| o.name.clone()).collect();
    assert_eq!(names, vec!["one".to_string()]);
    // Only once: the retry and everything after succeed.
    p.create_ou(&r, "three", &Tags::new()).await.unwrap();
    for i in 0..10 {
        p.create_ou(&r, &format!("more{i}"), &Tags::new())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn throttled_calls_do_not_count_towards_fail_at() {
    let p = sim_with(
        SimSettings {
            throttle_rate: 0.5,
            seed: 5,
            fail_at: Some(4),
            ..SimSettings::default()
        },
        Quotas::default(),
    );
    let r = p.snapshot().root_id;
    let mut accepted = 0;
    let mut injected_at = None;
    for i in 0..40 {
        match p.create_ou(&r, &format!("ou{i}"), &Tags::new()).await {
            Ok(_) => accepted += 1,
            Err(e) if e.kind == ErrorKind::InjectedFault => {
                assert!(injected_at.is_none(), "injected twice");
                injected_at = Some(accepted + 1);
            }
            Err(e) => assert_eq!(e.kind, ErrorKind::TooManyRequests),
        }
    }
    assert_eq!(injected_at, Some(4));
}

#[tokio::test]
async fn fail_after_effect_applies_and_persists_the_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/world.json");
    let settings = SimSettings {
        fail_at: Some(2),
        fail_after_effect: true,
        ..SimSettings::default()
    };
    let p = SimBackend::open(&path, settings, Quotas::default()).unwrap();
    let r = p.snapshot().root_id;
    p.create_ou(&r, "first", &Tags::new()).await.unwrap();
    let err = p.create_ou(&r, "lost", &Tags::new()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InjectedFault);
    assert!(
        err.message
            .starts_with("injected failure on mutating call 2")
    );
    assert!(p.snapshot().ous.values().any(|o| o.name == "lost"));
    // Persisted before the error: a new process sees it.
    let reopened = SimBackend::open(&path, SimSettings::default(), Quotas::default()).unwrap();
    assert!(reopened.snapshot().ous.values().any(|o| o.name == "lost"));
    // A retry of the lost call meets the change it made.
    let err = p.create_ou(&r, "lost", &Tags::new()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::DuplicateOrganizationalUnit);
}

#[tokio::test(start_paused = true)]
async fn latency_delays_every_call() {
    let p = sim_with(
        SimSettings {
            latency_ms: 50,
            ..SimSettings::default()
        },
        Quotas::default(),
    );
    let start = tokio::time::Instant::now();
    let r = p.refresh().await.unwrap().root_id;
    p.create_ou(&r, "A", &Tags::new()).await.unwrap();
    p.identity().await.unwrap();
    assert!(start.elapsed() >= std::time::Duration::from_millis(150));
}

// ---- persistence ---------------------------------------------------------------

#[tokio::test]
async fn a_world_file_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/sim.world.json");
    let p = SimBackend::open(
        &path,
        SimSettings {
            account_creation_polls: 3,
            ..SimSettings::default()
        },
        Quotas::default(),
    )
    .unwrap();
    assert!(path.exists(), "a new world is written at once");
    let world_id = p.world_id();
    let r = p.snapshot().root_id;
    let ou = p
        .create_ou(&r, "Security", &tags(&[("a", "b")]))
        .await
        .unwrap();
    let pol = p
        .create_policy("deny", "", DENY_ALL, &Tags::new())
        .await
        .unwrap();
    p.attach_policy(&pol, &ou).await.unwrap();
    let req = p
        .create_account(&request("log", "log@example.com"))
        .await
        .unwrap();
    assert_eq!(
        p.create_account_status(&req).await.unwrap(),
        CreateAccountStatus::InProgress
    );
    let before = p.snapshot();
    drop(p);

    let q = SimBackend::open(
        &path,
        SimSettings {
            account_creation_polls: 3,
            ..SimSettings::default()
        },
        Quotas::default(),
    )
    .unwrap();
    assert_eq!(q.world_id(), world_id);
    assert_eq!(q.snapshot(), before);
    // The request and its countdown survived: 2 polls left.
    assert_eq!(
        q.create_account_status(&req).await.unwrap(),
        CreateAccountStatus::InProgress
    );
    assert_eq!(
        q.create_account_status(&req).await.unwrap(),
        CreateAccountStatus::InProgress
    );
    assert!(matches!(
        q.create_account_status(&req).await.unwrap(),
        CreateAccountStatus::Succeeded { .. }
    ));
    // Ids keep advancing after a reopen: no reuse.
    let ou2 = q.create_ou(&r, "Other", &Tags::new()).await.unwrap();
    assert_ne!(ou2, ou);
    // No temp files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[tokio::test]
async fn open_enforces_the_quotas_passed_in() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("world.json");
    let p = SimBackend::open(&path, SimSettings::default(), Quotas::default()).unwrap();
    let r = p.snapshot().root_id;
    let a = p.create_ou(&r, "A", &Tags::new()).await.unwrap();
    drop(p);
    let q = SimBackend::open(
        &path,
        SimSettings::default(),
        Quotas {
            ou_max_depth: 1,
            ..Quotas::default()
        },
    )
    .unwrap();
    let err = q.create_ou(&a, "B", &Tags::new()).await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::ConstraintViolation("OU_DEPTH_LIMIT_EXCEEDED".into())
    );
}

#[tokio::test]
async fn save_to_writes_an_in_memory_world() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap/world.json");
    let p = sim();
    let r = p.snapshot().root_id;
    p.create_ou(&r, "A", &Tags::new()).await.unwrap();
    p.save_to(&path).unwrap();
    let q = SimBackend::open(&path, SimSettings::default(), Quotas::default()).unwrap();
    assert_eq!(q.snapshot(), p.snapshot());
    assert_eq!(q.world_id(), p.world_id());
}

#[test]
fn a_corrupt_world_file_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in [
        ("garbage.json", b"{ this is not json".as_slice()),
        ("empty.json", b"".as_slice()),
        (
            "other.json",
            br#"{"version": 1, "lineage": "x"}"#.as_slice(),
        ),
        ("binary.json", &[0xff, 0xfe, 0x00, 0x41]),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let err = match SimBackend::open(&path, SimSettings::default(), Quotas::default()) {
            Err(e) => e,
            Ok(_) => panic!("{name} opened"),
        };
        assert!(matches!(err, SimError::Corrupt { .. }), "{name}: {err:?}");
        let msg = err.to_string();
        assert!(msg.contains(name), "{msg}");
        assert!(msg.contains("delete it"), "{msg}");
    }
}

#[test]
fn an_unreadable_world_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should be.
    let err = match SimBackend::open(dir.path(), SimSettings::default(), Quotas::default()) {
        Err(e) => e,
        Ok(_) => panic!("a directory opened as a world"),
    };
    assert!(err.to_string().contains(&dir.path().display().to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_from_many_tasks_are_serialized_safely() {
    let p: std::sync::Arc<dyn Provider> = std::sync::Arc::new(sim());
    let r = p.refresh().await.unwrap().root_id;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let p = p.clone();
        let r = r.clone();
        tasks.push(tokio::spawn(async move {
            let ou = p.create_ou(&r, &format!("ou{i}"), &Tags::new()).await?;
            let id = p
                .create_account(&request(&format!("a{i}"), &format!("a{i}@example.com")))
                .await?;
            p.create_account_status(&id).await?;
            p.refresh().await?;
            Ok::<_, landfall_core::ProviderError>(ou)
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap().unwrap());
    }
    assert_eq!(ids.len(), 64);
    let live = p.refresh().await.unwrap();
    assert_eq!(live.ous.len(), 64);
    assert_eq!(live.accounts.len(), 65);
}

// ---- scale -----------------------------------------------------------------------

#[tokio::test]
async fn a_five_thousand_account_world_refreshes_fast() {
    let p = sim();
    let r = p.snapshot().root_id;
    let mut ous = Vec::new();
    for i in 0..50 {
        ous.push(
            p.create_ou(&r, &format!("ou{i}"), &Tags::new())
                .await
                .unwrap(),
        );
    }
    let pol = p
        .create_policy("deny", "", DENY_ALL, &Tags::new())
        .await
        .unwrap();
    for i in 0..5000 {
        let mut req = request(&format!("acct{i}"), &format!("acct{i}@example.com"));
        req.tags = tags(&[
            ("project", "ml"),
            ("environment", "dev"),
            ("cost-centre", "42"),
        ]);
        let id = p.create_account(&req).await.unwrap();
        let CreateAccountStatus::Succeeded { account_id } =
            p.create_account_status(&id).await.unwrap()
        else {
            panic!("account {i} failed");
        };
        p.move_account(&account_id, &r, &ous[i % ous.len()])
            .await
            .unwrap();
        p.attach_policy(&pol, &account_id).await.unwrap();
    }
    let start = Instant::now();
    let live = p.refresh().await.unwrap();
    let took = start.elapsed();
    assert_eq!(live.accounts.len(), 5001);
    assert_eq!(live.attachments.len(), 1 + 50 + 5001 + 5000);
    // Debug builds are several times slower than release; the 100 ms target is for
    // release, where this takes a few milliseconds.
    let budget = if cfg!(debug_assertions) { 500 } else { 100 };
    assert!(
        took.as_millis() < budget,
        "refresh of 5,000 accounts took {took:?}"
    );
}
