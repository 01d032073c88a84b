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
