//! Faults, interrupts and locks: throttling retried, a hard failure halfway resumed, an
//! apply killed during account creation (sim and moto), a second apply refused while
//! the state is locked.

use serde_json::Value;

use crate::support::{Lz, On, assert_example_is_live, moto_env, moto_session, stderr, stdout};

#[test]
fn throttling_is_retried_until_converged() {
    let lz = Lz::example();
    let out = lz.run_with_faults("throttle_rate=0.3,seed=11", &["apply", "--auto-approve"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    let retried: usize = text
        .split(" change(s) in ")
        .nth(1)
        .and_then(|s| s.split('(').nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(retried > 0, "no call was retried: {text}");
    lz.assert_converged();
}

fn account_emails(world: &Value) -> Vec<String> {
    let accounts = world["accounts"].as_object().unwrap();
    let mut emails: Vec<String> = accounts
        .values()
        .map(|a| a["email"].as_str().unwrap().to_lowercase())
        .collect();
    emails.sort();
    emails
}

#[test]
fn hard_failure_halfway_resumes_without_duplicates() {
    for after_effect in [false, true] {
        let lz = Lz::example();
        let faults = format!("fail_at=20,fail_after_effect={after_effect}");
        let out = lz.run_with_faults(&faults, &["apply", "--auto-approve"]);
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains("injected failure"), "{err}");
        assert!(err.contains("rerun `landfall apply` to resume"), "{err}");
        // The state file is valid JSON with a recorded serial.
        assert!(lz.state()["serial"].as_u64().unwrap() > 0);

        let out = lz.run(&["apply", "--auto-approve"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}\n{}",
            stdout(&out),
            stderr(&out)
        );
        lz.assert_converged();
        let emails = account_emails(&lz.world());
        let mut unique = emails.clone();
        unique.dedup();
        assert_eq!(emails, unique, "duplicate accounts after resume");
        assert_eq!(
            emails.len(),
            12 + 1,
            "the 12 declared accounts plus the management account"
        );
    }
}

/// Starts `landfall apply` with `latency_ms` on every sim call and returns once it
/// holds the state lock (its holder line is in the lock file).
pub(crate) fn slow_apply_holding_the_lock(lz: &Lz, latency_ms: u32) -> std::process::Child {
    let slow = std::process::Command::new(assert_cmd::cargo::cargo_bin("landfall"))
        .current_dir(lz.dir.path())
        .env("LANDFALL_SIM_FAULTS", format!("latency_ms={latency_ms}"))
        .env("NO_COLOR", "1")
        .args(["apply", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock = lz.path("state/ml-platform.state.json.lock");
    for _ in 0..100 {
        if std::fs::read_to_string(&lock)
            .map(|s| s.contains("pid"))
            .unwrap_or(false)
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    slow
}

#[test]
fn a_second_apply_fails_fast_while_the_state_is_locked() {
    let lz = Lz::example();
    // Hold the lock from a slow apply (latency on every call).
    let mut slow = slow_apply_holding_the_lock(&lz, 200);
    let out = lz.run(&["apply", "--auto-approve"]);
    let _ = slow.kill();
    let _ = slow.wait();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("locked by another Landfall run (lock "),
        "{err}"
    );
    assert!(
        err.contains("`landfall apply`") && err.contains("(pid "),
        "{err}"
    );
}

/// `drift` while an apply holds the lock waits up to `--lock-timeout`, then fails
/// naming the apply instead of reporting its in-flight changes as drift; a finished
/// apply leaves no holder line behind.
#[test]
fn drift_waits_for_a_running_apply_then_names_it() {
    let lz = Lz::example();
    lz.apply_ok();
    let lock = lz.path("state/ml-platform.state.json.lock");
    assert_eq!(
        std::fs::read_to_string(&lock).unwrap(),
        "",
        "a released lock names no holder"
    );
    lz.edit(
        "landfall.toml",
        "owner = \"security-team\", managed-by",
        "owner = \"sec-ops\", managed-by",
    );
    let mut slow = slow_apply_holding_the_lock(&lz, 300);
    let started = std::time::Instant::now();
    let out = lz.run(&["drift", "--lock-timeout", "1s"]);
    let waited = started.elapsed();
    let _ = slow.kill();
    let _ = slow.wait();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("landfall apply") && err.contains("pid"),
        "{err}"
    );
    assert!(err.contains("still held after 1s"), "{err}");
    assert!(out.stdout.is_empty(), "no report while an apply runs");
    assert!(
        waited >= std::time::Duration::from_secs(1),
        "it waited: {waited:?}"
    );
}

/// Kills an apply once an account creation has started, reruns, and checks that every
/// declared email has exactly one account.
fn killed_during_account_creation(on: On, slow: (&str, &str)) {
    let lz = Lz::example_on(on);
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("landfall"));
    cmd.current_dir(lz.dir.path())
        .env("NO_COLOR", "1")
        .env(slow.0, slow.1);
    if on == On::Moto {
        for (k, v) in moto_env() {
            if k != slow.0 {
                cmd.env(k, v);
            }
        }
        cmd.args(["--backend", "aws"]);
    }
    let mut child = cmd
        .args(["apply", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let state = lz.path("state/ml-platform.state.json");
    let mut seen = false;
    for _ in 0..600 {
        if let Ok(text) = std::fs::read_to_string(&state)
            && let Ok(v) = serde_json::from_str::<Value>(&text)
            && v["pending_creates"].as_array().is_some_and(|p| {
                p.iter()
                    .any(|a| a.as_str().unwrap().starts_with("account."))
            })
        {
            seen = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(seen, "the apply never started an account creation");
    lz.apply_ok();
    lz.assert_converged();
    assert_example_is_live(&lz.view());
}

#[test]
fn killed_during_account_creation_on_sim() {
    killed_during_account_creation(On::Sim, ("LANDFALL_SIM_FAULTS", "latency_ms=30"));
}

#[test]
fn killed_during_account_creation_on_moto() {
    let _moto = moto_session();
    killed_during_account_creation(On::Moto, ("LANDFALL_AWS_RATE", "reads=1000,writes=4"));
}
