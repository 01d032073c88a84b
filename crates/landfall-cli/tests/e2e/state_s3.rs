//! Shared state in S3 (issue 13), on moto's S3: a state bucket made by `state
//! bootstrap`, the example's organization applied from one working directory and
//! planned from another with nothing local, lock contention and recovery, the
//! conditional-write guard, object versions and `state pull`/`push`/`migrate`.

use serde_json::Value;

use std::time::Duration;

use landfall_aws::testkit::Console;
use landfall_core::model::S3State;
use landfall_engine::state_backend::{Expect, LockInfo, LockMode, StateBackend};
use landfall_engine::state_store::{StateError, load_state};

use crate::support::{Lz, On, moto_session, moto_url, ok, runtime, stderr, stdout};

const BUCKET: &str = "acme-landfall-state";
const KEY: &str = "landing-zones/ml-platform.state.json";

fn s3_table() -> String {
    format!(
        "\n[state]\nbackend = \"s3\"\nbucket = \"{BUCKET}\"\nkey = \"{KEY}\"\nregion = \"us-east-1\"\n"
    )
}

/// A second checkout of the same configuration: the TOML and policies, no state.
fn checkout_of(lz: &Lz) -> Lz {
    let other = Lz::example_on(On::Moto);
    std::fs::copy(lz.path("landfall.toml"), other.path("landfall.toml")).unwrap();
    other
}

fn console() -> Console {
    runtime().block_on(Console::connect(&moto_url()))
}

fn put_lock(console: &Console, body: &Value) {
    runtime()
        .block_on(console.put_object(BUCKET, &format!("{KEY}.lock"), &body.to_string()))
        .unwrap();
}

fn lock_exists(console: &Console) -> bool {
    runtime().block_on(console.object_exists(BUCKET, &format!("{KEY}.lock")))
}

#[test]
fn s3_state_is_shared_locked_versioned_and_guarded_on_moto() {
    let _moto = moto_session();
    let a = Lz::example_on(On::Moto);
    // A state bucket as it should be; a bucket without versioning is refused.
    let out = a.run(&[
        "state",
        "bootstrap",
        "--bucket",
        "bootstrapped-state",
        "--region",
        "us-east-1",
    ]);
    ok(&out, "bootstrap");
    assert!(
        stdout(&out).contains("versioning enabled"),
        "{}",
        stdout(&out)
    );
    let out = a.run(&["--state", "s3://unversioned-bucket/x.json", "plan"]);
    assert_eq!(out.status.code(), Some(1));
    let client = console();
    let (versioning, encryption, blocked, policy) = runtime()
        .block_on(client.bucket_settings("bootstrapped-state"))
        .unwrap();
    assert_eq!(versioning.as_deref(), Some("Enabled"));
    assert_eq!(encryption.as_deref(), Some("AES256"));
    assert!(blocked);
    assert!(
        policy.is_some_and(|p| p.contains("aws:SecureTransport")),
        "TLS-only policy"
    );
    // moto enforces that policy, and its endpoint is plain HTTP: the scenario below
    // uses a versioned bucket without it.
    runtime()
        .block_on(client.create_versioned_bucket(BUCKET))
        .unwrap();
    runtime()
        .block_on(client.create_bucket("unversioned-bucket"))
        .unwrap();
    let out = a.run(&["--state", "s3://unversioned-bucket/x.json", "plan"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("does not have versioning enabled"),
        "{}",
        stderr(&out)
    );

    // Apply from A with the state in S3: nothing is written locally.
    a.append("landfall.toml", &s3_table());
    let out = a.run(&["apply", "--auto-approve"]);
    ok(&out, "apply from A");
    let applied = stdout(&out);
    assert!(
        applied.contains(&format!("s3://{BUCKET}/{KEY}")),
        "{applied}"
    );
    assert!(!a.path("state/ml-platform.state.json").exists());
    assert!(
        !lock_exists(&client),
        "the lock is released after the apply"
    );

    // B: the same configuration, another (empty) working directory.
    let b = checkout_of(&a);
    let out = b.run(&["plan", "--detailed-exitcode"]);
    ok(&out, "plan from B");
    assert!(stdout(&out).contains("No changes."), "{}", stdout(&out));

    // One object version per state write: the apply's writes, coalesced.
    let writes: usize = applied
        .split(" write(s))")
        .next()
        .and_then(|s| s.rsplit('(').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no write count in {applied}"));
    let out = b.run(&["state", "pull", "--versions"]);
    ok(&out, "state pull --versions");
    let versions: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(versions.len(), writes, "{versions:?}");
    let changes = applied
        .split("Apply complete: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap();
    assert!(
        writes < 2 * changes,
        "{writes} writes for {changes} changes"
    );

    // An older version pulled and pushed back is refused: it would forget changes.
    let oldest = versions
        .last()
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_string();
    let out = b.run(&["state", "pull", "--version-id", &oldest]);
    ok(&out, "pull an old version");
    std::fs::write(b.path("old.json"), stdout(&out)).unwrap();
    let out = b.run(&["state", "push", "old.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("older"), "{}", stderr(&out));
    // The current state pushed back is accepted, at the next serial.
    let out = b.run(&["state", "pull"]);
    ok(&out, "pull");
    let current: Value = serde_json::from_str(&stdout(&out)).unwrap();
    std::fs::write(b.path("current.json"), stdout(&out)).unwrap();
    let out = b.run(&["state", "push", "current.json"]);
    ok(&out, "push current");
    let serial = current["serial"].as_u64().unwrap();
    assert!(
        stdout(&out).contains(&format!("serial {}", serial + 1)),
        "{}",
        stdout(&out)
    );

    // A lock left by a run that died (kill -9): apply and drift from A wait their
    // --lock-timeout, then fail naming it; force-unlock refuses another id, then
    // clears it.
    let dead = serde_json::json!({
        "id": "9f1c2d3e-0000-4000-8000-00000000dead",
        "operation": "landfall apply",
        "who": "ci",
        "host": "runner-7",
        "pid": 4242,
        "created": "2026-12-04T10:00:00Z",
        "version": "0.1.0"
    });
    put_lock(&client, &dead);
    let started = std::time::Instant::now();
    let out = a.run(&["apply", "--auto-approve", "--lock-timeout", "1s"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("runner-7") && err.contains("9f1c2d3e"),
        "{err}"
    );
    assert!(err.contains("force-unlock"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let out = b.run(&["drift", "--lock-timeout", "1s"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("runner-7"), "{}", stderr(&out));
    let out = a.run(&["force-unlock", "00000000-0000-4000-8000-000000000000"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("runner-7"), "{}", stderr(&out));
    assert!(lock_exists(&client));
    let out = a.run(&["force-unlock", "9f1c2d3e-0000-4000-8000-00000000dead"]);
    ok(&out, "force-unlock");
    assert!(!lock_exists(&client));
    let out = b.run(&["drift"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // Back to a local file and out again: migrate refuses a location holding a state.
    let out = b.run(&["state", "migrate", "--to", "local.state.json"]);
    ok(&out, "migrate to a file");
    assert!(b.path("local.state.json").exists());
    let out = b.run(&["state", "migrate", "--to", "local.state.json"]);
    assert_eq!(out.status.code(), Some(1));
    let out = b.run(&["--state", "local.state.json", "plan", "--detailed-exitcode"]);
    ok(&out, "plan on the migrated file");

    // The If-Match guard, directly: run 1 holds the lock and read the state; its lock
    // is force-removed and run 2 takes it and writes; run 1's write is then refused,
    // and its unlock leaves run 2's lock alone.
    let s3 = S3State {
        bucket: BUCKET.into(),
        key: KEY.into(),
        region: Some("us-east-1".into()),
        kms_key_id: None,
        profile: None,
        role_arn: None,
    };
    let rt = runtime();
    let (run1, run2) = (client.state_backend(&s3), client.state_backend(&s3));
    rt.block_on(async {
        let held1 = run1
            .lock(
                LockInfo::new("run 1", "test"),
                LockMode::Exclusive,
                Duration::ZERO,
            )
            .await
            .unwrap();
        let (state, read_at) = load_state(&run1).await.unwrap().unwrap();
        let bytes = serde_json::to_vec_pretty(&state).unwrap();
        let expect1 = Expect::after(read_at.as_deref(), true);
        assert!(matches!(expect1, Expect::Revision(_)));
        run2.force_unlock(&held1.info.id).await.unwrap();
        let held2 = run2
            .lock(
                LockInfo::new("run 2", "test"),
                LockMode::Exclusive,
                Duration::ZERO,
            )
            .await
            .unwrap();
        // Run 2 records a change (another serial: other bytes, another ETag).
        let mut newer = state.clone();
        newer.serial += 1;
        run2.write(&serde_json::to_vec_pretty(&newer).unwrap(), &expect1)
            .await
            .unwrap();
        let refused = run1.write(&bytes, &expect1).await.unwrap_err();
        assert!(matches!(refused, StateError::Conflict { .. }), "{refused}");
        run1.unlock(held1).await.unwrap();
        assert_eq!(
            run2.holder().await.unwrap().map(|h| h.id),
            Some(held2.info.id.clone())
        );
        run2.unlock(held2).await.unwrap();
        assert_eq!(run2.holder().await.unwrap(), None);
    });
}
