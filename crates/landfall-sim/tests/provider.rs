//! The sim through the `Provider` trait, as the executor sees it: every rule AWS
//! Organizations enforces, account-creation polling, fault injection and the world
//! file.

// The helpers below are test code too; clippy only exempts `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::panic)]

use landfall_core::live::AccountStatus;
use landfall_core::model::{Quotas, SimSettings, Tags};
use landfall_engine::TypedCalls;
use landfall_engine::provider::{
    Call, CreateAccountRequest, CreateAccountStatus, ErrorKind, OrganizationsCall, Provider,
};
use landfall_sim::world::FULL_AWS_ACCESS_ID;
use landfall_sim::{SimBackend, SimError};

#[path = "provider/identity.rs"]
mod identity;
#[path = "provider/org_policies.rs"]
mod org_policies;
#[path = "provider/security.rs"]
mod security;

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
    // The refresh reads customer-managed documents only (one `DescribePolicy` each);
    // AWS-managed ones are known by name.
    assert!(fa.content.is_empty());
    let doc: serde_json::Value =
        serde_json::from_str(&p.policy_content(FULL_AWS_ACCESS_ID).await.unwrap()).unwrap();
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

/// `CreateAccount`'s reply carries the creation's status only once it is final: AWS
/// answers IN_PROGRESS (a world that polls), a world finishing creations at once
/// answers with the outcome, as moto does.
#[tokio::test]
async fn create_account_replies_with_the_outcome_only_when_it_is_final() {
    async fn create(p: &SimBackend, name: &str, email: &str) -> landfall_engine::provider::Reply {
        let req = request(name, email);
        p.execute(&Call::Organizations(OrganizationsCall::CreateAccount(&req)))
            .await
            .unwrap()
    }
    let polling = sim_with(
        SimSettings {
            account_creation_polls: 2,
            ..SimSettings::default()
        },
        Quotas::default(),
    );
    let reply = create(&polling, "ml-dev", "ml-dev@example.com").await;
    assert!(reply.id.is_some_and(|id| id.starts_with("car-")));
    assert_eq!(reply.account_status, None);

    let at_once = sim_with(
        SimSettings {
            account_creation_polls: 0,
            ..SimSettings::default()
        },
        Quotas::default(),
    );
    let reply = create(&at_once, "ml-dev", "ml-dev@example.com").await;
    let live = at_once.refresh().await.unwrap();
    let acct = live
        .accounts
        .values()
        .find(|a| a.email == "ml-dev@example.com")
        .unwrap();
    assert_eq!(
        reply.account_status,
        Some(CreateAccountStatus::Succeeded {
            account_id: acct.id.clone()
        })
    );
    let reply = create(&at_once, "ml-dev-2", "ml-dev@example.com").await;
    assert_eq!(
        reply.account_status,
        Some(CreateAccountStatus::Failed {
            reason: "EMAIL_ALREADY_EXISTS".into()
        })
    );
}

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

    let err = p
        .update_policy(&pol, None, None, Some("nope"))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Other("MalformedPolicyDocumentException".into())
    );
    let err = p
        .update_policy(&pol, None, None, Some(&big))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::ConstraintViolation("POLICY_CONTENT_LIMIT_EXCEEDED".into())
    );
    p.update_policy(&pol, None, Some("new"), Some("{}"))
        .await
        .unwrap();
    let live = p.refresh().await.unwrap();
    assert_eq!(live.policies[&pol].content, "{}");
    assert_eq!(live.policies[&pol].description, "new");
    let err = p
        .update_policy("p-nothere1", None, None, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let err = p
        .update_policy(FULL_AWS_ACCESS_ID, None, Some("mine"), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
}

/// `UpdatePolicy` with a name renames the policy in place (same id, attachments
/// kept); a name another policy has — AWS's own `FullAWSAccess` included — is
/// `DuplicatePolicyException`, and an empty or over-long one `InvalidInputException`.
#[tokio::test]
async fn update_policy_renames_in_place_and_refuses_a_name_in_use() {
    let p = sim();
    let r = root(&p).await;
    let pol = p
        .create_policy("deny-x", "", DENY_ALL, &Tags::new())
        .await
        .unwrap();
    p.create_policy("deny-y", "", DENY_ALL, &Tags::new())
        .await
        .unwrap();
    p.attach_policy(&pol, &r).await.unwrap();
    for taken in ["deny-y", "FullAWSAccess"] {
        let err = p
            .update_policy(&pol, Some(taken), None, None)
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::DuplicatePolicy, "{taken}");
    }
    for bad in [String::new(), "x".repeat(129)] {
        let err = p
            .update_policy(&pol, Some(&bad), None, None)
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
    }
    assert_eq!(p.refresh().await.unwrap().policies[&pol].name, "deny-x");
    // Its own name again is no conflict.
    p.update_policy(&pol, Some("deny-x"), None, None)
        .await
        .unwrap();
    p.update_policy(&pol, Some("deny-z"), None, None)
        .await
        .unwrap();
    let live = p.refresh().await.unwrap();
    assert_eq!(live.policies[&pol].name, "deny-z");
    assert_eq!(live.policies[&pol].content, DENY_ALL);
    assert!(live.attachments.contains(&(pol.clone(), r)));
}

/// Account Management's `PutAccountName`: 1 to 50 characters of its pattern (no `<`
/// or `>`), else `ValidationException`; an account outside the organization, or
/// trusted access for Account Management turned off, is `AccessDeniedException`. The
/// management account can be renamed too.
#[tokio::test]
async fn put_account_name_renames_a_member_account_under_aws_rules() {
    let p = sim();
    let id = new_account(&p, "ml-dev").await;
    for bad in [
        String::new(),
        "x".repeat(51),
        "a<b".into(),
        "tab\there".into(),
    ] {
        let err = p.put_account_name(&id, &bad).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput, "{bad:?}");
        assert_eq!(err.api, "PutAccountName");
    }
    let err = p
        .put_account_name("999999999999", "ghost")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDenied);
    p.set_account_management_access(false).unwrap();
    let err = p.put_account_name(&id, "ml-development").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDenied);
    assert!(
        err.message.contains("account.amazonaws.com"),
        "{}",
        err.message
    );
    assert_eq!(p.refresh().await.unwrap().accounts[&id].name, "ml-dev");
    p.set_account_management_access(true).unwrap();
    p.put_account_name(&id, "ML development (fraud) 50 chars max ok")
        .await
        .unwrap();
    let live = p.refresh().await.unwrap();
    assert_eq!(
        live.accounts[&id].name,
        "ML development (fraud) 50 chars max ok"
    );
    let management = live.management_account_id.clone();
    p.put_account_name(&management, "Management").await.unwrap();
    assert_eq!(
        p.refresh().await.unwrap().accounts[&management].name,
        "Management"
    );
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
        match p.create_ou(&r, &format!("ou{i}"), &Tags::new()).await {
            Ok(_) => created += 1,
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::TooManyRequests);
                assert!(e.kind.is_retryable());
                throttled += 1;
            }
        }
        // Reads are throttled too, and retried by the backend's pacer: a refresh
        // still succeeds.
        if i % 100 == 0 {
            let live = p.refresh().await.unwrap();
            assert_eq!(live.ous.len(), created);
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
        let r = p.snapshot().root_id;
        let mut out = Vec::new();
        for i in 0..50 {
            out.push(
                p.create_ou(&r, &format!("ou{i}"), &Tags::new())
                    .await
                    .is_err(),
            );
        }
        out
    }
    let first = pattern().await;
    assert!(first.contains(&true) && first.contains(&false));
    assert_eq!(first, pattern().await);
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
    let r = landfall_engine::refresh::organization(p.as_ref())
        .await
        .unwrap()
        .root_id;
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
            landfall_engine::refresh::organization(p.as_ref()).await?;
            Ok::<_, landfall_engine::ProviderError>(ou)
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap().unwrap());
    }
    assert_eq!(ids.len(), 64);
    let live = landfall_engine::refresh::organization(p.as_ref())
        .await
        .unwrap();
    assert_eq!(live.ous.len(), 64);
    assert_eq!(live.accounts.len(), 65);
}

// ---- scale -----------------------------------------------------------------------

#[tokio::test]
async fn a_five_thousand_account_world_is_read_page_by_page() {
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
    // Every page of every listing is read: 5,000 accounts come 20 to a page, and
    // FullAWSAccess has 5,051 targets. (How fast is `landfall bench refresh`'s.)
    let live = p.refresh().await.unwrap();
    assert_eq!(live.accounts.len(), 5001);
    assert_eq!(live.attachments.len(), 1 + 50 + 5001 + 5000);
    assert!(
        live.accounts
            .values()
            .all(|a| a.tags.len() == 3 || a.name == "management")
    );
}

// ---- Control Tower, Account Factory, Service Catalog ------------------------------

mod governance {
    use std::collections::BTreeMap;

    use landfall_core::live::GovernanceScope;
    use landfall_core::live::{ControlStatus, LiveBaselines, ShareTarget};
    use landfall_core::model::{ACCOUNT_FACTORY_PRODUCT, Quotas, SimSettings, SsoUser, Tags};
    use landfall_engine::TypedCalls;
    use landfall_engine::provider::{
        AccountFactoryRequest, ErrorKind, OperationStatus, PortfolioUpdate, Provider,
    };
    use landfall_sim::governance::{ACCOUNT_FACTORY_PRODUCT_ID, BASELINE_VERSION};
    use landfall_sim::{SimBackend, parse_governance_faults};

    use super::{new_account, root, tags};

    fn ct(id: &str) -> String {
        format!("arn:aws:controltower:us-east-1::control/{id}")
    }

    /// Async work stays IN_PROGRESS for `polls` polls.
    fn sim_polls(polls: u32) -> SimBackend {
        SimBackend::in_memory(
            SimSettings {
                account_creation_polls: polls,
                ..SimSettings::default()
            },
            Quotas::default(),
        )
    }

    /// A new OU, registered with Control Tower (controls and Account Factory need
    /// that).
    async fn ou(p: &SimBackend, name: &str) -> String {
        let id = unregistered_ou(p, name).await;
        register(p, &id).await;
        id
    }

    async fn unregistered_ou(p: &SimBackend, name: &str) -> String {
        let r = root(p).await;
        p.create_ou(&r, name, &Tags::new()).await.unwrap()
    }

    async fn baselines(p: &SimBackend) -> LiveBaselines {
        let scope = GovernanceScope {
            baselines: true,
            ..Default::default()
        };
        p.refresh_governance(&scope)
            .await
            .unwrap()
            .baselines
            .unwrap()
    }

    /// Registers the OU as Landfall does: the landing zone's baseline version and its
    /// Identity Center enabled baseline; returns the enabled baseline's ARN.
    async fn register(p: &SimBackend, ou_id: &str) -> String {
        let b = baselines(p).await;
        let op = p
            .enable_baseline(
                b.control_tower_baseline.as_deref().unwrap(),
                BASELINE_VERSION,
                ou_id,
                b.identity_center_enabled_baseline.as_deref(),
            )
            .await
            .unwrap();
        assert_eq!(
            wait_baseline_op(p, &op).await,
            OperationStatus::Succeeded { account_id: None }
        );
        p.enabled_baseline_arn(ou_id).await.unwrap().unwrap()
    }

    async fn wait_baseline_op(p: &SimBackend, op: &str) -> OperationStatus {
        for _ in 0..100 {
            match p.baseline_operation(op).await.unwrap() {
                OperationStatus::InProgress => continue,
                done => return done,
            }
        }
        panic!("baseline operation {op} never finished");
    }

    fn scope(ous: &[&str]) -> GovernanceScope {
        GovernanceScope {
            control_targets: ous.iter().map(|s| s.to_string()).collect(),
            portfolios: false,
            account_factory: None,
            ..Default::default()
        }
    }

    async fn wait_op(p: &SimBackend, op: &str) -> OperationStatus {
        for _ in 0..100 {
            match p.control_operation(op).await.unwrap() {
                OperationStatus::InProgress => continue,
                done => return done,
            }
        }
        panic!("operation {op} never finished");
    }

    async fn wait_record(p: &SimBackend, record: &str) -> OperationStatus {
        for _ in 0..100 {
            match p.provisioning_record(record).await.unwrap() {
                OperationStatus::InProgress => continue,
                done => return done,
            }
        }
        panic!("record {record} never finished");
    }

    fn params(pairs: &[(&str, serde_json::Value)]) -> BTreeMap<String, serde_json::Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn af(name: &str, email: &str, ou_name: &str, ou_id: &str) -> AccountFactoryRequest {
        AccountFactoryRequest {
            product: ACCOUNT_FACTORY_PRODUCT.to_string(),
            provisioned_product_name: name.to_string(),
            account_name: name.to_string(),
            account_email: email.to_string(),
            ou_name: ou_name.to_string(),
            ou_id: ou_id.to_string(),
            sso_user: SsoUser {
                email: "platform@example.com".into(),
                first_name: "ML".into(),
                last_name: "Platform".into(),
            },
            tags: tags(&[("project", "ml")]),
        }
    }

    // ---- OU registration --------------------------------------------------------

    /// Control Tower refuses controls on an OU it does not govern; registering the OU
    /// is an asynchronous baseline operation, after which the control is accepted.
    #[tokio::test]
    async fn controls_need_a_registered_ou_and_registration_polls() {
        let p = sim_polls(2);
        let dev = unregistered_ou(&p, "Dev").await;
        let refused = p
            .enable_control(&ct("AWS-GR_RESTRICT_ROOT_USER"), &dev, &BTreeMap::new())
            .await
            .unwrap_err();
        assert_eq!(refused.kind, ErrorKind::InvalidInput);
        assert!(
            refused.message.contains("not registered"),
            "{}",
            refused.message
        );

        let b = baselines(&p).await;
        let op = p
            .enable_baseline(
                b.control_tower_baseline.as_deref().unwrap(),
                BASELINE_VERSION,
                &dev,
                b.identity_center_enabled_baseline.as_deref(),
            )
            .await
            .unwrap();
        // Under change: listed, not yet governing the OU.
        let during = baselines(&p).await;
        assert_eq!(
            during.on_ou(&dev).unwrap().status,
            ControlStatus::UnderChange
        );
        assert!(
            p.enable_control(&ct("AWS-GR_RESTRICT_ROOT_USER"), &dev, &BTreeMap::new())
                .await
                .is_err()
        );
        assert_eq!(
            p.baseline_operation(&op).await.unwrap(),
            OperationStatus::InProgress
        );
        assert_eq!(
            p.baseline_operation(&op).await.unwrap(),
            OperationStatus::InProgress
        );
        assert_eq!(
            p.baseline_operation(&op).await.unwrap(),
            OperationStatus::Succeeded { account_id: None }
        );
        let after = baselines(&p).await;
        let registration = after.on_ou(&dev).unwrap();
        assert_eq!(registration.status, ControlStatus::Succeeded);
        assert_eq!(registration.version.as_deref(), Some(BASELINE_VERSION));
        assert_eq!(
            registration.identity_center,
            after.identity_center_enabled_baseline
        );
        p.enable_control(&ct("AWS-GR_RESTRICT_ROOT_USER"), &dev, &BTreeMap::new())
            .await
            .unwrap();
    }

    /// What Control Tower refuses when registering: another baseline version than the
    /// landing zone's, a missing Identity Center parameter, a child under an
    /// unregistered parent, the landing zone's Security OU, a second registration.
    /// Nothing refused changes the world.
    #[tokio::test]
    async fn registration_rules() {
        let p = sim_polls(0);
        let b = baselines(&p).await;
        let baseline = b.control_tower_baseline.clone().unwrap();
        let ic = b.identity_center_enabled_baseline.clone();
        let parent = unregistered_ou(&p, "Workloads").await;
        let child = p.create_ou(&parent, "Dev", &Tags::new()).await.unwrap();
        let security = unregistered_ou(&p, "Security").await;
        let before = (p.snapshot(), baselines(&p).await);
        let refusals = [
            (
                p.enable_baseline(&baseline, "3.0", &parent, ic.as_deref())
                    .await,
                "not compatible",
            ),
            (
                p.enable_baseline(&baseline, BASELINE_VERSION, &parent, None)
                    .await,
                "IdentityCenterEnabledBaselineArn",
            ),
            (
                p.enable_baseline(&baseline, BASELINE_VERSION, &child, ic.as_deref())
                    .await,
                "parent",
            ),
            (
                p.enable_baseline(&baseline, BASELINE_VERSION, &security, ic.as_deref())
                    .await,
                "Security OU",
            ),
            (
                p.enable_baseline(
                    "arn:aws:controltower:us-east-1::baseline/NOPE",
                    BASELINE_VERSION,
                    &parent,
                    ic.as_deref(),
                )
                .await,
                "no baseline",
            ),
        ];
        for (result, says) in refusals {
            let err = result.unwrap_err();
            assert!(err.message.contains(says), "{says}: {}", err.message);
        }
        assert_eq!((p.snapshot(), baselines(&p).await), before);

        let parent_arn = register(&p, &parent).await;
        register(&p, &child).await;
        let again = p
            .enable_baseline(&baseline, BASELINE_VERSION, &parent, ic.as_deref())
            .await
            .unwrap_err();
        assert!(again.message.contains("already"), "{}", again.message);
        // The parent goes only after its child.
        let refused = p.disable_baseline(&parent_arn).await.unwrap_err();
        assert!(refused.message.contains("child"), "{}", refused.message);
        // Controls on the landing zone's Security OU are accepted: the landing zone
        // governs it.
        p.enable_control(
            &ct("AWS-GR_RESTRICT_ROOT_USER"),
            &security,
            &BTreeMap::new(),
        )
        .await
        .unwrap();
    }

    /// Accounts created or moved into a registered OU through Organizations are not
    /// enrolled until the OU's baseline is reset; Account Factory's are; deregistering
    /// removes the registration and its enrollments.
    #[tokio::test]
    async fn enrollment_follows_reset_and_deregistration_ends_it() {
        let p = sim_polls(0);
        let workloads = ou(&p, "Workloads").await;
        let arn = p.enabled_baseline_arn(&workloads).await.unwrap().unwrap();
        let account = new_account(&p, "ml-dev").await;
        p.move_account(&account, &root(&p).await, &workloads)
            .await
            .unwrap();
        assert!(!baselines(&p).await.enrolled(&account));

        let op = p.reset_enabled_baseline(&arn).await.unwrap();
        wait_baseline_op(&p, &op).await;
        let after = baselines(&p).await;
        assert!(after.enrolled(&account));
        assert_eq!(
            after
                .enabled
                .iter()
                .find(|b| b.target_id == account)
                .unwrap()
                .parent_arn
                .as_deref(),
            Some(arn.as_str())
        );

        let factory = p
            .provision_account(&af(
                "ml-prod",
                "ml-prod@example.com",
                "Workloads",
                &workloads,
            ))
            .await
            .unwrap();
        let OperationStatus::Succeeded {
            account_id: Some(id),
        } = wait_record(&p, &factory).await
        else {
            panic!("provisioning failed");
        };
        assert!(baselines(&p).await.enrolled(&id));

        // Moved out: no longer enrolled through this OU.
        p.move_account(&account, &workloads, &root(&p).await)
            .await
            .unwrap();
        assert!(!baselines(&p).await.enrolled(&account));

        let op = p.disable_baseline(&arn).await.unwrap().unwrap();
        wait_baseline_op(&p, &op).await;
        let gone = baselines(&p).await;
        assert!(gone.on_ou(&workloads).is_none());
        assert!(!gone.enrolled(&id));
        assert_eq!(
            p.disable_baseline(&arn).await.unwrap_err().kind,
            ErrorKind::NotFound
        );
    }

    /// A failed registration (an injected fault) leaves the OU unregistered; a failed
    /// reset leaves the registration FAILED; an update needs the landing zone's version.
    #[tokio::test]
    async fn failed_registrations_and_updates() {
        let faults = parse_governance_faults("fail_registration=Sandbox").unwrap();
        let p = sim_polls(0).with_governance_faults(faults);
        let b = baselines(&p).await;
        let sandbox = unregistered_ou(&p, "Sandbox").await;
        let op = p
            .enable_baseline(
                b.control_tower_baseline.as_deref().unwrap(),
                BASELINE_VERSION,
                &sandbox,
                b.identity_center_enabled_baseline.as_deref(),
            )
            .await
            .unwrap();
        let OperationStatus::Failed { message } = wait_baseline_op(&p, &op).await else {
            panic!("the registration should fail");
        };
        assert!(message.contains("fail_registration=Sandbox"), "{message}");
        assert!(baselines(&p).await.on_ou(&sandbox).is_none());

        let workloads = ou(&p, "Workloads").await;
        let arn = p.enabled_baseline_arn(&workloads).await.unwrap().unwrap();
        let refused = p
            .update_enabled_baseline(&arn, "5.0", b.identity_center_enabled_baseline.as_deref())
            .await
            .unwrap_err();
        assert!(
            refused.message.contains("not compatible"),
            "{}",
            refused.message
        );
        let op = p
            .update_enabled_baseline(
                &arn,
                BASELINE_VERSION,
                b.identity_center_enabled_baseline.as_deref(),
            )
            .await
            .unwrap();
        assert_eq!(
            wait_baseline_op(&p, &op).await,
            OperationStatus::Succeeded { account_id: None }
        );
    }

    // ---- controls --------------------------------------------------------------

    #[tokio::test]
    async fn enabling_a_control_polls_in_progress_then_succeeds() {
        let p = sim_polls(2);
        let dev = ou(&p, "Dev").await;
        let other = ou(&p, "Other").await;
        let parameters = params(&[("AllowedRegions", serde_json::json!(["us-east-1"]))]);
        let op = p
            .enable_control(&ct("AWS-GR_RESTRICT_ROOT_USER"), &dev, &parameters)
            .await
            .unwrap();

        let live = p.refresh_governance(&scope(&[&dev])).await.unwrap();
        assert!(live.read);
        assert_eq!(live.enabled_controls.len(), 1);
        let control = &live.enabled_controls[0];
        assert_eq!(control.status, ControlStatus::UnderChange);
        assert_eq!(control.short_id(), "AWS-GR_RESTRICT_ROOT_USER");
        assert_eq!(control.target_id, dev);
        assert_eq!(control.parameters, parameters);
        assert!(!control.drifted);
        let mgmt = p.snapshot().management_account_id;
        let prefix = format!("arn:aws:controltower:us-east-1:{mgmt}:enabledcontrol/");
        let suffix = control.arn.strip_prefix(&prefix).unwrap();
        assert_eq!(suffix.len(), 16);
        assert!(
            suffix
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        assert_eq!(
            p.enabled_control_arn(&ct("AWS-GR_RESTRICT_ROOT_USER"), &dev)
                .await
                .unwrap(),
            Some(control.arn.clone())
        );

        assert_eq!(
            p.control_operation(&op).await.unwrap(),
            OperationStatus::InProgress
        );
        assert_eq!(
            p.control_operation(&op).await.unwrap(),
            OperationStatus::InProgress
        );
        assert_eq!(
            p.control_operation(&op).await.unwrap(),
            OperationStatus::Succeeded { account_id: None }
        );
        // Finished operations keep answering.
        assert_eq!(
            p.control_operation(&op).await.unwrap(),
            OperationStatus::Succeeded { account_id: None }
        );
        let live = p.refresh_governance(&scope(&[&dev])).await.unwrap();
        assert_eq!(live.enabled_controls[0].status, ControlStatus::Succeeded);

        // Only the OUs in scope are read.
        let live = p.refresh_governance(&scope(&[&other])).await.unwrap();
        assert!(live.read && live.enabled_controls.is_empty());
        assert!(live.portfolios.is_empty() && live.provisioned_accounts.is_empty());
        assert_eq!(
            p.control_operation("not-an-operation")
                .await
                .unwrap_err()
                .kind,
            ErrorKind::NotFound
        );
    }

    #[tokio::test]
    async fn control_rules() {
        let p = sim_polls(1);
        let dev = ou(&p, "Dev").await;
        let none = BTreeMap::new();
        let kind = |r: Result<String, landfall_engine::ProviderError>| r.unwrap_err().kind;

        // Identifier shape.
        for bad in [
            "AWS-GR_X",
            "arn:aws:controltower:us-east-1:123456789012:control/AWS-GR_X",
            "arn:aws:controlcatalog::control/x",
        ] {
            assert_eq!(
                kind(p.enable_control(bad, &dev, &none).await),
                ErrorKind::InvalidInput,
                "{bad}"
            );
        }
        // Targets are existing OUs.
        assert_eq!(
            kind(
                p.enable_control(&ct("AWS-GR_X"), "ou-zzzz-00000000", &none)
                    .await
            ),
            ErrorKind::NotFound
        );
        let r = root(&p).await;
        assert_eq!(
            kind(p.enable_control(&ct("AWS-GR_X"), &r, &none).await),
            ErrorKind::NotFound
        );

        // A second operation on the same (control, OU) while one runs: Conflict.
        let op = p
            .enable_control(&ct("AWS-GR_X"), &dev, &none)
            .await
            .unwrap();
        let err = p
            .enable_control(&ct("AWS-GR_X"), &dev, &none)
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Conflict);
        assert!(err.kind.is_retryable());
        assert!(err.message.contains(&op), "{}", err.message);
        assert_eq!(
            kind(p.disable_control(&ct("AWS-GR_X"), &dev).await),
            ErrorKind::Conflict
        );
        let arn = p
            .enabled_control_arn(&ct("AWS-GR_X"), &dev)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            kind(p.update_enabled_control(&arn, &none).await),
            ErrorKind::Conflict
        );
        assert_eq!(
            kind(p.reset_enabled_control(&arn).await),
            ErrorKind::Conflict
        );
        assert_eq!(
            wait_op(&p, &op).await,
            OperationStatus::Succeeded { account_id: None }
        );

        // Already enabled (by short id, whatever the ARN form): InvalidInput.
        let err = p
            .enable_control(&ct("AWS-GR_X"), &dev, &none)
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(err.message.contains("already enabled"), "{}", err.message);

        // Disabling what is not enabled: NotFound; unknown enabled-control ARNs too.
        assert_eq!(
            kind(p.disable_control(&ct("AWS-GR_Y"), &dev).await),
            ErrorKind::NotFound
        );
        let unknown = format!("{}ZZZZ", &arn[..arn.len() - 4]);
        assert_eq!(
            kind(p.update_enabled_control(&unknown, &none).await),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(p.reset_enabled_control(&unknown).await),
            ErrorKind::NotFound
        );

        // Update: new parameters, UNDER_CHANGE until it finishes.
        let new_params = params(&[("ExemptedPrincipalArns", serde_json::json!(["arn:x"]))]);
        let op = p.update_enabled_control(&arn, &new_params).await.unwrap();
        let live = p.refresh_governance(&scope(&[&dev])).await.unwrap();
        assert_eq!(live.enabled_controls[0].status, ControlStatus::UnderChange);
        assert_eq!(live.enabled_controls[0].parameters, new_params);
        assert_eq!(
            wait_op(&p, &op).await,
            OperationStatus::Succeeded { account_id: None }
        );
        assert_eq!(
            p.refresh_governance(&scope(&[&dev]))
                .await
                .unwrap()
                .enabled_controls[0]
                .status,
            ControlStatus::Succeeded
        );

        // Disable: listed UNDER_CHANGE until the operation finishes, then gone.
        let op = p.disable_control(&ct("AWS-GR_X"), &dev).await.unwrap();
        let live = p.refresh_governance(&scope(&[&dev])).await.unwrap();
        assert_eq!(live.enabled_controls[0].status, ControlStatus::UnderChange);
        assert_eq!(
            wait_op(&p, &op).await,
            OperationStatus::Succeeded { account_id: None }
        );
        assert!(
            p.refresh_governance(&scope(&[&dev]))
                .await
                .unwrap()
                .enabled_controls
                .is_empty()
        );
        assert_eq!(
            p.enabled_control_arn(&ct("AWS-GR_X"), &dev).await.unwrap(),
            None
        );
        assert_eq!(
            p.enabled_control_arn(&ct("AWS-GR_X"), "ou-zzzz-00000000")
                .await
                .unwrap_err()
                .kind,
            ErrorKind::NotFound
        );

        // Control Catalog identifiers work; their enabled controls name the home region.
        let catalog = "arn:aws:controlcatalog:::control/2cal1p2ryudqdmrcdkf4n1icv";
        let op = p.enable_control(catalog, &dev, &none).await.unwrap();
        wait_op(&p, &op).await;
        let arn = p.enabled_control_arn(catalog, &dev).await.unwrap().unwrap();
        assert!(arn.starts_with("arn:aws:controltower:us-east-1:"), "{arn}");
    }

    #[tokio::test]
    async fn control_operations_in_flight_are_limited_by_the_quota() {
        let p = sim_polls(1).with_control_operations_in_flight(2);
        assert_eq!(p.limits().control_operations_in_flight, 2);
        let none = BTreeMap::new();
        let a = ou(&p, "A").await;
        let b = ou(&p, "B").await;
        let c = ou(&p, "C").await;
        let op_a = p.enable_control(&ct("AWS-GR_X"), &a, &none).await.unwrap();
        let _op_b = p.enable_control(&ct("AWS-GR_X"), &b, &none).await.unwrap();
        let err = p
            .enable_control(&ct("AWS-GR_X"), &c, &none)
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::ServiceQuotaExceeded);
        assert!(err.kind.is_retryable());
        assert!(err.message.contains("quota is 2"), "{}", err.message);
        // Nothing was enabled on C by the refused call.
        assert!(
            p.refresh_governance(&scope(&[&c]))
                .await
                .unwrap()
                .enabled_controls
                .is_empty()
        );
        // Still in flight after its IN_PROGRESS poll; done after the next one.
        assert_eq!(
            p.control_operation(&op_a).await.unwrap(),
            OperationStatus::InProgress
        );
        assert_eq!(
            p.enable_control(&ct("AWS-GR_X"), &c, &none)
                .await
                .unwrap_err()
                .kind,
            ErrorKind::ServiceQuotaExceeded
        );
        wait_op(&p, &op_a).await;
        p.enable_control(&ct("AWS-GR_X"), &c, &none).await.unwrap();
        // The default quota is Control Tower's 10.
        assert_eq!(sim_polls(0).limits().control_operations_in_flight, 10);
    }

    #[tokio::test]
    async fn drift_is_reported_and_cleared_by_a_reset() {
        let p = sim_polls(1);
        let dev = ou(&p, "Dev").await;
        let none = BTreeMap::new();
        let op = p
            .enable_control(&ct("AWS-GR_X"), &dev, &none)
            .await
            .unwrap();
        wait_op(&p, &op).await;
        let arn = p.mark_control_drifted("AWS-GR_X", &dev).await.unwrap();
        let live = p.refresh_governance(&scope(&[&dev])).await.unwrap();
        assert!(live.enabled_controls[0].drifted);
        assert_eq!(live.enabled_controls[0].arn, arn);
        // Control Tower refuses parameter updates on a drifted control.
        let err = p.update_enabled_control(&arn, &none).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(err.message.contains("reset"), "{}", err.message);
        let op = p.reset_enabled_control(&arn).await.unwrap();
        assert!(
            p.refresh_governance(&scope(&[&dev]))
                .await
                .unwrap()
                .enabled_controls[0]
                .drifted,
            "drift is cleared when the reset finishes"
        );
        assert_eq!(
            wait_op(&p, &op).await,
            OperationStatus::Succeeded { account_id: None }
        );
        let live = p.refresh_governance(&scope(&[&dev])).await.unwrap();
        assert!(!live.enabled_controls[0].drifted);
        assert_eq!(live.enabled_controls[0].status, ControlStatus::Succeeded);
        assert_eq!(
            p.mark_control_drifted("AWS-GR_Y", &dev)
                .await
                .unwrap_err()
                .kind,
            ErrorKind::NotFound
        );
    }

    #[tokio::test]
    async fn out_of_band_disable_removes_the_control_at_once() {
        let p = sim_polls(0);
        let dev = ou(&p, "Dev").await;
        let op = p
            .enable_control(&ct("AWS-GR_X"), &dev, &BTreeMap::new())
            .await
            .unwrap();
        wait_op(&p, &op).await;
        let arn = p.remove_control("AWS-GR_X", &dev).await.unwrap();
        assert!(arn.contains(":enabledcontrol/"));
        assert!(p.governance_snapshot().enabled_controls.is_empty());
        assert_eq!(
            p.remove_control("AWS-GR_X", &dev).await.unwrap_err().kind,
            ErrorKind::NotFound
        );
        // It can be enabled again.
        p.enable_control(&ct("AWS-GR_X"), &dev, &BTreeMap::new())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn injected_control_failures_fail_the_operation_and_undo_it() {
        let faults =
            parse_governance_faults("fail_control=AWS-GR_BAD,control_operation_polls=1").unwrap();
        let p = sim_polls(0).with_governance_faults(faults);
        assert_eq!(p.governance_settings().control_operation_polls, 1);
        let dev = ou(&p, "Dev").await;
        let none = BTreeMap::new();
        let op = p
            .enable_control(&ct("AWS-GR_BAD"), &dev, &none)
            .await
            .unwrap();
        assert_eq!(
            p.control_operation(&op).await.unwrap(),
            OperationStatus::InProgress
        );
        let OperationStatus::Failed { message } = p.control_operation(&op).await.unwrap() else {
            panic!("the operation should fail");
        };
        assert!(
            message.contains("AWS-GR_BAD")
                && message.contains("injected")
                && message.contains(&dev),
            "{message}"
        );
        // A failed enable leaves nothing enabled, and no longer counts as in flight.
        assert!(
            p.refresh_governance(&scope(&[&dev]))
                .await
                .unwrap()
                .enabled_controls
                .is_empty()
        );
        // Other controls are unaffected.
        let op = p
            .enable_control(&ct("AWS-GR_OK"), &dev, &none)
            .await
            .unwrap();
        assert_eq!(
            wait_op(&p, &op).await,
            OperationStatus::Succeeded { account_id: None }
        );
    }

    #[tokio::test]
    async fn a_failed_update_restores_the_control_as_failed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.json");
        let dev;
        let arn;
        let original = params(&[("A", serde_json::json!(1))]);
        {
            let p = SimBackend::open(&path, SimSettings::default(), Quotas::default()).unwrap();
            dev = ou(&p, "Dev").await;
            let op = p
                .enable_control(&ct("AWS-GR_BAD"), &dev, &original)
                .await
                .unwrap();
            wait_op(&p, &op).await;
            arn = p
                .enabled_control_arn(&ct("AWS-GR_BAD"), &dev)
                .await
                .unwrap()
                .unwrap();
        }
        let p = SimBackend::open(&path, SimSettings::default(), Quotas::default())
            .unwrap()
            .with_governance_faults(parse_governance_faults("fail_control=AWS-GR_BAD").unwrap());
        let op = p
            .update_enabled_control(&arn, &params(&[("A", serde_json::json!(2))]))
            .await
            .unwrap();
        assert!(matches!(
            wait_op(&p, &op).await,
            OperationStatus::Failed { .. }
        ));
        let live = p.refresh_governance(&scope(&[&dev])).await.unwrap();
        assert_eq!(live.enabled_controls.len(), 1);
        assert_eq!(live.enabled_controls[0].parameters, original);
        assert_eq!(live.enabled_controls[0].status, ControlStatus::Failed);
    }

    // ---- Account Factory -----------------------------------------------------------

    #[tokio::test]
    async fn account_factory_provisions_into_the_ou_after_polls() {
        let p = sim_polls(2);
        let dev = ou(&p, "Dev").await;
        let prod = ou(&p, "Prod").await;
        let record = p
            .provision_account(&af("ml-dev", "ml-dev@example.com", "Dev", &dev))
            .await
            .unwrap();
        assert!(record.starts_with("rec-"), "{record}");

        // The account exists at once, in its OU, with its tags.
        let live = p.snapshot();
        let account = live
            .accounts
            .values()
            .find(|a| a.email == "ml-dev@example.com")
            .unwrap()
            .clone();
        assert_eq!(account.name, "ml-dev");
        assert_eq!(account.parent_id, dev);
        assert_eq!(account.tags, tags(&[("project", "ml")]));
        let pp = p
            .provisioned_account(ACCOUNT_FACTORY_PRODUCT, "ml-dev")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(pp.status, "UNDER_CHANGE");
        assert_eq!(pp.account_id, None);
        assert_eq!(pp.last_record_id.as_deref(), Some(record.as_str()));
        assert!(pp.provisioned_product_id.starts_with("pp-"));

        assert_eq!(
            p.provisioning_record(&record).await.unwrap(),
            OperationStatus::InProgress
        );
        assert_eq!(
            p.provisioning_record(&record).await.unwrap(),
            OperationStatus::InProgress
        );
        assert_eq!(
            p.provisioning_record(&record).await.unwrap(),
            OperationStatus::Succeeded {
                account_id: Some(account.id.clone())
            }
        );
        let pp = p
            .provisioned_account(ACCOUNT_FACTORY_PRODUCT_ID, "ml-dev")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(pp.status, "AVAILABLE");
        assert_eq!(pp.account_id.as_deref(), Some(account.id.as_str()));
        assert_eq!(
            p.provisioned_account(ACCOUNT_FACTORY_PRODUCT, "nobody")
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            p.provisioned_account("Some other product", "ml-dev")
                .await
                .unwrap_err()
                .kind,
            ErrorKind::NotFound
        );

        // A second provisioned product with the same name is refused.
        let err = p
            .provision_account(&af("ml-dev", "other@example.com", "Dev", &dev))
            .await
            .unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::Other("DuplicateResourceException".into())
        );

        // Update: moves the account, with a new record.
        let update = p
            .update_provisioned_account(
                &pp.provisioned_product_id,
                &af("ml-dev", "ml-dev@example.com", "Prod", &prod),
            )
            .await
            .unwrap();
        assert_ne!(update, record);
        assert_eq!(p.snapshot().accounts[&account.id].parent_id, prod);
        // Another update while this one runs is refused.
        let err = p
            .update_provisioned_account(
                &pp.provisioned_product_id,
                &af("ml-dev", "ml-dev@example.com", "Dev", &dev),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Other("InvalidStateException".into()));
        assert_eq!(
            wait_record(&p, &update).await,
            OperationStatus::Succeeded {
                account_id: Some(account.id.clone())
            }
        );
        let pp = p
            .provisioned_account(ACCOUNT_FACTORY_PRODUCT, "ml-dev")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(pp.last_record_id.as_deref(), Some(update.as_str()));
        assert_eq!(pp.status, "AVAILABLE");

        // An update to an OU that does not exist fails; the account stays.
        let bad = p
            .update_provisioned_account(
                &pp.provisioned_product_id,
                &af("ml-dev", "ml-dev@example.com", "Gone", "ou-zzzz-00000000"),
            )
            .await
            .unwrap();
        assert!(matches!(
            wait_record(&p, &bad).await,
            OperationStatus::Failed { .. }
        ));
        assert_eq!(p.snapshot().accounts[&account.id].parent_id, prod);
        assert_eq!(
            p.provisioned_account(ACCOUNT_FACTORY_PRODUCT, "ml-dev")
                .await
                .unwrap()
                .unwrap()
                .status,
            "TAINTED"
        );
        assert_eq!(
            p.update_provisioned_account(
                "pp-doesnotexist1",
                &af("x", "x@example.com", "Dev", &dev)
            )
            .await
            .unwrap_err()
            .kind,
            ErrorKind::NotFound
        );

        // refresh_governance lists the products of the Account Factory product.
        let live = p
            .refresh_governance(&GovernanceScope {
                account_factory: Some(ACCOUNT_FACTORY_PRODUCT.into()),
                ..GovernanceScope::default()
            })
            .await
            .unwrap();
        assert_eq!(live.provisioned_accounts.len(), 1);
        assert_eq!(live.provisioned_accounts[0].name, "ml-dev");
        assert_eq!(
            p.refresh_governance(&GovernanceScope {
                account_factory: Some("prod-unknown".into()),
                ..GovernanceScope::default()
            })
            .await
            .unwrap_err()
            .kind,
            ErrorKind::NotFound
        );
        assert!(
            p.refresh_governance(&GovernanceScope::default())
                .await
                .unwrap()
                .provisioned_accounts
                .is_empty()
        );
    }

    #[tokio::test]
    async fn account_factory_failures_fail_the_record_and_create_no_account() {
        let p = sim_polls(1);
        let dev = ou(&p, "Dev").await;
        new_account(&p, "taken").await;
        let accounts = p.snapshot().accounts.len();
        let cases = [
            (af("dup", "TAKEN@example.com", "Dev", &dev), "already used"),
            (
                af("no-ou", "no-ou@example.com", "Dev", "ou-zzzz-00000000"),
                "no OU ou-zzzz-00000000",
            ),
            (
                af("wrong-name", "wrong@example.com", "Prod", &dev),
                "is named \"Dev\", not \"Prod\"",
            ),
            (af("bad-email", "not-an-email", "Dev", &dev), "not a valid"),
        ];
        for (request, expected) in cases {
            let record = p.provision_account(&request).await.unwrap();
            assert_eq!(
                p.provisioning_record(&record).await.unwrap(),
                OperationStatus::InProgress
            );
            let OperationStatus::Failed { message } = wait_record(&p, &record).await else {
                panic!("{} should fail", request.account_name);
            };
            assert!(
                message.contains(expected) && message.contains(&request.account_name),
                "{message}"
            );
            assert_eq!(p.snapshot().accounts.len(), accounts, "{message}");
            let pp = p
                .provisioned_account(ACCOUNT_FACTORY_PRODUCT, &request.provisioned_product_name)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(pp.status, "ERROR");
            assert_eq!(pp.account_id, None);
        }

        // Fixed and updated, a failed product is provisioned.
        let pp = p
            .provisioned_account(ACCOUNT_FACTORY_PRODUCT, "wrong-name")
            .await
            .unwrap()
            .unwrap();
        let record = p
            .update_provisioned_account(
                &pp.provisioned_product_id,
                &af("wrong-name", "wrong@example.com", "Dev", &dev),
            )
            .await
            .unwrap();
        let OperationStatus::Succeeded {
            account_id: Some(account_id),
        } = wait_record(&p, &record).await
        else {
            panic!("the update should provision the account");
        };
        assert_eq!(p.snapshot().accounts[&account_id].parent_id, dev);

        // Unknown products are refused by the call itself.
        let mut request = af("x", "x@example.com", "Dev", &dev);
        request.product = "prod-unknown".into();
        assert_eq!(
            p.provision_account(&request).await.unwrap_err().kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            p.provisioning_record("rec-unknown").await.unwrap_err().kind,
            ErrorKind::NotFound
        );
    }

    #[tokio::test]
    async fn account_factory_respects_the_account_quota() {
        let p = SimBackend::in_memory(
            SimSettings::default(),
            Quotas {
                max_accounts: 1,
                ..Quotas::default()
            },
        );
        let dev = ou(&p, "Dev").await;
        let record = p
            .provision_account(&af("one", "one@example.com", "Dev", &dev))
            .await
            .unwrap();
        let OperationStatus::Failed { message } = wait_record(&p, &record).await else {
            panic!("over the quota");
        };
        assert!(message.contains("ACCOUNT_LIMIT_EXCEEDED"), "{message}");
        assert_eq!(p.snapshot().accounts.len(), 1);
    }

    // ---- Service Catalog ----------------------------------------------------------

    #[tokio::test]
    async fn portfolios_and_shares() {
        let p = sim_polls(0);
        let dev = ou(&p, "Dev").await;
        let account = new_account(&p, "ml-dev").await;
        let id = p
            .create_portfolio(
                "ML products",
                "Platform",
                "for ML",
                &tags(&[("team", "ml")]),
            )
            .await
            .unwrap();
        assert!(id.starts_with("port-") && id.len() == 18, "{id}");
        assert_eq!(
            p.create_portfolio("", "Platform", "", &Tags::new())
                .await
                .unwrap_err()
                .kind,
            ErrorKind::InvalidInput
        );

        p.update_portfolio(
            &id,
            &PortfolioUpdate {
                display_name: Some("ML products v2".into()),
                description: Some("new".into()),
                add_tags: tags(&[("owner", "me")]),
                remove_tags: vec!["team".into()],
                ..PortfolioUpdate::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            p.update_portfolio("port-unknown12345", &PortfolioUpdate::default())
                .await
                .unwrap_err()
                .kind,
            ErrorKind::NotFound
        );

        // Shares: organization and OU shares get a token and are accepted; account
        // shares are not, until the account accepts (never, in the sim).
        let org_token = p
            .create_portfolio_share(&id, &ShareTarget::Organization, false)
            .await
            .unwrap();
        assert!(org_token.as_deref().unwrap().starts_with("share-"));
        let ou_token = p
            .create_portfolio_share(&id, &ShareTarget::OrganizationalUnit(dev.clone()), true)
            .await
            .unwrap();
        assert!(ou_token.is_some() && ou_token != org_token);
        assert_eq!(
            p.create_portfolio_share(&id, &ShareTarget::Account(account.clone()), false)
                .await
                .unwrap(),
            None
        );
        // Idempotent.
        assert_eq!(
            p.create_portfolio_share(&id, &ShareTarget::Organization, false)
                .await
                .unwrap(),
            org_token
        );
        // Unknown targets and portfolios.
        let not_found = [
            (
                id.clone(),
                ShareTarget::OrganizationalUnit("ou-zzzz-00000000".into()),
            ),
            (id.clone(), ShareTarget::Account("000000000000".into())),
            ("port-unknown12345".to_string(), ShareTarget::Organization),
        ];
        for (portfolio, target) in not_found {
            assert_eq!(
                p.create_portfolio_share(&portfolio, &target, false)
                    .await
                    .unwrap_err()
                    .kind,
                ErrorKind::NotFound,
                "{target:?}"
            );
        }

        let full = GovernanceScope {
            portfolios: true,
            ..GovernanceScope::default()
        };
        let live = p.refresh_governance(&full).await.unwrap();
        let portfolio = &live.portfolios[&id];
        assert_eq!(portfolio.display_name, "ML products v2");
        assert_eq!(portfolio.provider, "Platform");
        assert_eq!(portfolio.description, "new");
        assert_eq!(portfolio.tags, tags(&[("owner", "me")]));
        assert_eq!(live.portfolio_shares.len(), 3);
        let share = |target: &ShareTarget| {
            live.portfolio_shares
                .iter()
                .find(|s| &s.target == target)
                .unwrap()
                .clone()
        };
        assert!(share(&ShareTarget::Organization).accepted);
        let ou_share = share(&ShareTarget::OrganizationalUnit(dev.clone()));
        assert!(ou_share.accepted && ou_share.share_tag_options);
        assert!(!share(&ShareTarget::Account(account.clone())).accepted);
        assert!(live.portfolio_shares.iter().all(|s| s.portfolio_id == id));
        // Not read unless asked for.
        let live = p
            .refresh_governance(&GovernanceScope::default())
            .await
            .unwrap();
        assert!(live.portfolios.is_empty() && live.portfolio_shares.is_empty());

        // A shared portfolio cannot be deleted.
        let err = p.delete_portfolio(&id).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Other("ResourceInUseException".into()));
        for target in [
            ShareTarget::Organization,
            ShareTarget::OrganizationalUnit(dev.clone()),
            ShareTarget::Account(account.clone()),
        ] {
            p.delete_portfolio_share(&id, &target).await.unwrap();
            assert_eq!(
                p.delete_portfolio_share(&id, &target)
                    .await
                    .unwrap_err()
                    .kind,
                ErrorKind::NotFound
            );
        }
        p.delete_portfolio(&id).await.unwrap();
        assert_eq!(
            p.delete_portfolio(&id).await.unwrap_err().kind,
            ErrorKind::NotFound
        );
        assert!(
            p.refresh_governance(&full)
                .await
                .unwrap()
                .portfolios
                .is_empty()
        );
    }

    #[tokio::test]
    async fn out_of_band_portfolio_deletion_takes_its_shares() {
        let p = sim_polls(0);
        let id = p
            .create_portfolio("P", "Platform", "", &Tags::new())
            .await
            .unwrap();
        p.create_portfolio_share(&id, &ShareTarget::Organization, false)
            .await
            .unwrap();
        p.delete_portfolio_and_shares(&id).await.unwrap();
        let live = p.governance_snapshot();
        assert!(live.portfolios.is_empty() && live.portfolio_shares.is_empty());
        assert_eq!(
            p.delete_portfolio_and_shares(&id).await.unwrap_err().kind,
            ErrorKind::NotFound
        );
    }

    // ---- faults and persistence -----------------------------------------------------

    #[tokio::test]
    async fn governance_calls_count_for_fail_at_and_are_throttled() {
        let p = SimBackend::in_memory(
            SimSettings {
                fail_at: Some(1),
                ..SimSettings::default()
            },
            Quotas::default(),
        );
        let err = p
            .create_portfolio("P", "Platform", "", &Tags::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InjectedFault);
        assert_eq!(err.api, "CreatePortfolio");
        assert!(p.governance_snapshot().portfolios.is_empty());

        let throttled = SimBackend::in_memory(
            SimSettings {
                throttle_rate: 1.0,
                ..SimSettings::default()
            },
            Quotas::default(),
        );
        assert_eq!(
            throttled
                .refresh_governance(&GovernanceScope::default())
                .await
                .unwrap_err()
                .kind,
            ErrorKind::TooManyRequests
        );
        assert_eq!(
            throttled.control_operation("x").await.unwrap_err().kind,
            ErrorKind::TooManyRequests
        );
    }

    #[tokio::test]
    async fn governance_survives_a_reopen_and_running_work_finishes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.json");
        let settings = SimSettings {
            account_creation_polls: 5,
            ..SimSettings::default()
        };
        // A world file from before governance existed has no governance key and loads.
        {
            let _p = SimBackend::open(&path, settings.clone(), Quotas::default()).unwrap();
        }
        assert!(
            !std::fs::read_to_string(&path)
                .unwrap()
                .contains("governance")
        );

        let (dev, op, record, done_op);
        let before;
        {
            let p = SimBackend::open(&path, settings.clone(), Quotas::default()).unwrap();
            dev = ou(&p, "Dev").await;
            done_op = p
                .enable_control(
                    &ct("AWS-GR_A"),
                    &dev,
                    &params(&[("k", serde_json::json!("v"))]),
                )
                .await
                .unwrap();
            wait_op(&p, &done_op).await;
            op = p
                .enable_control(&ct("AWS-GR_B"), &dev, &BTreeMap::new())
                .await
                .unwrap();
            assert_eq!(
                p.control_operation(&op).await.unwrap(),
                OperationStatus::InProgress
            );
            record = p
                .provision_account(&af("ml-dev", "ml-dev@example.com", "Dev", &dev))
                .await
                .unwrap();
            let port = p
                .create_portfolio("P", "Platform", "d", &tags(&[("a", "b")]))
                .await
                .unwrap();
            p.create_portfolio_share(&port, &ShareTarget::OrganizationalUnit(dev.clone()), true)
                .await
                .unwrap();
            p.mark_control_drifted("AWS-GR_A", &dev).await.unwrap();
            before = p.governance_snapshot();
        }
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("governance")
        );

        // Reopened: everything is there; what was running has finished meanwhile.
        let p = SimBackend::open(&path, settings, Quotas::default()).unwrap();
        let after = p.governance_snapshot();
        assert_eq!(after.portfolios, before.portfolios);
        assert_eq!(after.portfolio_shares, before.portfolio_shares);
        assert_eq!(after.enabled_controls.len(), 2);
        for (a, b) in after.enabled_controls.iter().zip(&before.enabled_controls) {
            assert_eq!(
                (&a.arn, &a.parameters, a.drifted),
                (&b.arn, &b.parameters, b.drifted)
            );
            assert_eq!(a.status, ControlStatus::Succeeded);
        }
        assert_eq!(
            p.control_operation(&op).await.unwrap(),
            OperationStatus::Succeeded { account_id: None }
        );
        assert_eq!(
            p.control_operation(&done_op).await.unwrap(),
            OperationStatus::Succeeded { account_id: None }
        );
        let OperationStatus::Succeeded {
            account_id: Some(account_id),
        } = p.provisioning_record(&record).await.unwrap()
        else {
            panic!("the record should have finished");
        };
        let pp = p
            .provisioned_account(ACCOUNT_FACTORY_PRODUCT, "ml-dev")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(pp.status, "AVAILABLE");
        assert_eq!(pp.account_id, Some(account_id.clone()));
        assert_eq!(p.snapshot().accounts[&account_id].parent_id, dev);
        // Nothing runs any more: no Conflict, the control is simply enabled.
        assert_eq!(
            p.enable_control(&ct("AWS-GR_B"), &dev, &BTreeMap::new())
                .await
                .unwrap_err()
                .kind,
            ErrorKind::InvalidInput
        );
    }
}
