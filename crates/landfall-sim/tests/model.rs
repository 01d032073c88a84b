//! The sim on its AWS model, through the `Provider` trait and under a paused tokio
//! clock: asynchronous operations finish by time, AWS's hard limit on account
//! creations holds, and a throttled call changes nothing.

// The helpers below are test code too; clippy only exempts `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use landfall_core::model::{Quotas, SimModel, SimSettings, Tags};
use landfall_engine::TypedCalls;
use landfall_engine::provider::{CreateAccountRequest, CreateAccountStatus, ErrorKind, Provider};
use landfall_sim::SimBackend;
use landfall_sim::model::{AsyncKind, CREATE_ACCOUNT_IN_PROGRESS, Outcome};

fn request(n: usize) -> CreateAccountRequest {
    CreateAccountRequest {
        name: format!("acct-{n}"),
        email: format!("aws+acct-{n}@example.com"),
        tags: Tags::new(),
        role_name: "OrganizationAccountAccessRole".into(),
    }
}

fn aws() -> SimBackend {
    SimBackend::in_memory_aws(SimSettings::default(), Quotas::default())
}

#[tokio::test(start_paused = true)]
async fn an_account_creation_finishes_by_time_not_by_polls() {
    let sim = aws();
    assert_eq!(sim.settings().model, SimModel::Aws);
    let started = tokio::time::Instant::now();
    let id = sim.create_account(&request(1)).await.unwrap();
    // However often it is polled, it is in progress for at least 75 % of the mean.
    for _ in 0..5 {
        assert_eq!(
            sim.create_account_status(&id).await.unwrap(),
            CreateAccountStatus::InProgress
        );
    }
    assert_eq!(sim.in_progress_account_creations().await.unwrap().len(), 1);
    tokio::time::sleep(AsyncKind::AccountCreation.mean_duration() * 2).await;
    assert!(matches!(
        sim.create_account_status(&id).await.unwrap(),
        CreateAccountStatus::Succeeded { .. }
    ));
    assert!(
        sim.in_progress_account_creations()
            .await
            .unwrap()
            .is_empty()
    );
    assert!(started.elapsed() >= AsyncKind::AccountCreation.mean_duration() * 3 / 4);
}

#[tokio::test(start_paused = true)]
async fn at_most_five_account_creations_are_in_progress() {
    let sim = aws();
    for n in 0..CREATE_ACCOUNT_IN_PROGRESS {
        sim.create_account(&request(n)).await.unwrap();
    }
    let err = sim.create_account(&request(99)).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::ConcurrentModification, "{err}");
    assert!(err.message.contains("5"), "{err}");
    // Refused: no account, no request for it.
    assert_eq!(sim.in_progress_account_creations().await.unwrap().len(), 5);
    tokio::time::sleep(AsyncKind::AccountCreation.mean_duration() * 2).await;
    sim.create_account(&request(99)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_throttled_write_changes_nothing() {
    let sim = aws();
    let root = sim.snapshot().root_id;
    // Organizations writes share one bucket: the burst, then throttling, all at the
    // same instant (every call decides when it arrives).
    let mut results = Vec::new();
    let calls: Vec<_> = (0..12)
        .map(|n| {
            let (sim, root) = (&sim, root.clone());
            async move {
                sim.create_ou(&root, &format!("Unit{n}"), &Tags::new())
                    .await
            }
        })
        .collect();
    for r in futures_join(calls).await {
        results.push(r);
    }
    let throttled = results.iter().filter(|r| r.is_err()).count();
    assert_eq!(throttled, 2, "{results:?}");
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| e.kind == ErrorKind::TooManyRequests)
    );
    assert_eq!(
        sim.snapshot().ous.len(),
        10,
        "throttled calls created nothing"
    );
    let log = sim.aws_model().unwrap().calls();
    assert_eq!(
        log.iter()
            .filter(|c| c.outcome == Outcome::Throttled)
            .count(),
        2
    );
    // A rested bucket serves again.
    tokio::time::sleep(Duration::from_secs(10)).await;
    sim.create_ou(&root, "Later", &Tags::new()).await.unwrap();
}

/// Polls every future once before any completes, so all arrive at the same instant.
async fn futures_join<F: std::future::Future>(fs: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = fs.into_iter().map(Box::pin).map(Some).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, result) in pinned.iter_mut().zip(out.iter_mut()) {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        *result = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

// ---- IAM Identity Center ----------------------------------------------------------

mod identity {
    use landfall_core::live::{IdentityScope, PrincipalType};
    use landfall_engine::provider::{
        Call, IdentityCall as I, IdentityRequest, OperationStatus, Provider,
    };
    use landfall_sim::identity::ASSIGNMENT_CREATIONS_OUTSTANDING;

    use super::*;

    async fn set_group_accounts(
        sim: &SimBackend,
        accounts: usize,
    ) -> (String, String, Vec<String>) {
        let set = sim
            .execute(&Call::Identity(I::CreatePermissionSet {
                name: "S",
                description: None,
                session_duration: "PT1H",
                tags: &Tags::new(),
            }))
            .await
            .unwrap()
            .id
            .unwrap();
        let group = sim
            .execute(&Call::Identity(I::CreateGroup {
                display_name: "g",
                description: None,
            }))
            .await
            .unwrap()
            .id
            .unwrap();
        let mut ids = Vec::new();
        for n in 0..accounts {
            let id = sim.create_account(&request(n)).await.unwrap();
            ids.push(id);
            // Within AWS's limit of 5 creations in progress.
            tokio::time::sleep(AsyncKind::AccountCreation.mean_duration() / 4).await;
        }
        tokio::time::sleep(AsyncKind::AccountCreation.mean_duration() * 2).await;
        let mut accounts = Vec::new();
        for id in ids {
            match sim.create_account_status(&id).await.unwrap() {
                CreateAccountStatus::Succeeded { account_id } => accounts.push(account_id),
                other => panic!("{other:?}"),
            }
        }
        (set, group, accounts)
    }

    fn assignment<'a>(set: &'a str, group: &'a str, account: &'a str) -> Call<'a> {
        Call::Identity(I::CreateAccountAssignment {
            permission_set_arn: set,
            principal_type: PrincipalType::Group,
            principal_id: group,
            account_id: account,
        })
    }

    #[tokio::test(start_paused = true)]
    async fn an_assignment_finishes_in_seconds_and_at_most_ten_are_outstanding() {
        let sim = aws();
        let (set, group, accounts) = set_group_accounts(&sim, 11).await;
        let started = tokio::time::Instant::now();
        let mut requests = Vec::new();
        for account in &accounts[..ASSIGNMENT_CREATIONS_OUTSTANDING] {
            let reply = sim
                .execute(&assignment(&set, &group, account))
                .await
                .unwrap();
            requests.push(reply.id.unwrap());
        }
        let err = sim
            .execute(&assignment(&set, &group, &accounts[10]))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Throttling, "{err}");
        assert_eq!(
            sim.identity_request(IdentityRequest::AssignmentCreation, &requests[0])
                .await
                .unwrap(),
            OperationStatus::InProgress
        );
        let mean = AsyncKind::AssignmentCreation.mean_duration();
        tokio::time::sleep(mean * 2).await;
        for id in &requests {
            assert_eq!(
                sim.identity_request(IdentityRequest::AssignmentCreation, id)
                    .await
                    .unwrap(),
                OperationStatus::Succeeded { account_id: None }
            );
        }
        assert!(started.elapsed() >= mean * 3 / 4);
        // Finished by time: the 11th goes through.
        sim.execute(&assignment(&set, &group, &accounts[10]))
            .await
            .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn identity_calls_draw_from_one_identity_center_bucket() {
        let sim = aws();
        let (set, _, _) = set_group_accounts(&sim, 0).await;
        sim.execute(&Call::Identity(I::TagPermissionSet {
            permission_set_arn: &set,
            tags: &Tags::from([("a".to_string(), "b".to_string())]),
        }))
        .await
        .unwrap();
        sim.refresh_identity(&IdentityScope {
            permission_sets: ["S".to_string()].into(),
            ..IdentityScope::default()
        })
        .await
        .unwrap();
        let calls = sim.aws_model().unwrap().calls();
        let identity: Vec<_> = calls
            .iter()
            .filter(|c| c.bucket.0 == "identity-center")
            .map(|c| c.api)
            .collect();
        // Identity Center's TagResource and ListTagsForResource are not Organizations'.
        for api in [
            "CreatePermissionSet",
            "CreateGroup",
            "TagResource",
            "ListInstances",
            "ListPermissionSets",
            "DescribePermissionSet",
            "ListManagedPoliciesInPermissionSet",
            "GetInlinePolicyForPermissionSet",
            "ListTagsForResource",
            "ListAccountsForProvisionedPermissionSet",
        ] {
            assert!(identity.contains(&api), "{api} not in {identity:?}");
        }
        assert!(
            calls
                .iter()
                .filter(|c| c.bucket.0 == "identity-center")
                .all(|c| c.class.refill_per_second == 20.0 && c.outcome == Outcome::Served)
        );
        assert_eq!(
            identity
                .iter()
                .filter(|a| **a == "ListAccountsForProvisionedPermissionSet")
                .count(),
            2,
            "all accounts, then the outdated ones"
        );
    }
}
