//! Output into a pipe whose reader has gone (`landfall sim show | head`): the rest of
//! the output is dropped quietly — no panic, nothing on stderr about it, and the
//! command's own exit code — while a command about to change something changes nothing.

use std::process::{Command, Output, Stdio};

use crate::support::{Lz, stderr};

/// Runs `landfall ARGS` with stdout a pipe whose read end is closed before the command
/// starts, so every write to stdout fails with a broken pipe (no race with a reader).
fn run_into_closed_pipe(lz: &Lz, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Command::new(assert_cmd::cargo::cargo_bin("landfall"))
        .current_dir(lz.dir.path())
        .env("NO_COLOR", "1")
        .env_remove("LANDFALL_SIM_FAULTS")
        .env_remove("LANDFALL_LOG")
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn assert_no_panic(args: &[&str], out: &Output) {
    let err = stderr(out);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe") && !err.contains("os error"),
        "landfall {args:?} into a closed pipe:\n{err}"
    );
    assert_ne!(out.status.code(), Some(101), "landfall {args:?} panicked");
}

/// Each data command exits into a closed pipe as it does when its output is read.
fn assert_quiet_with_its_own_exit_code(lz: &Lz, args: &[&str]) {
    let expected = lz.run(args).status.code();
    assert!(
        matches!(expected, Some(0 | 2)),
        "landfall {args:?}: {expected:?}"
    );
    let out = run_into_closed_pipe(lz, args);
    assert_no_panic(args, &out);
    assert_eq!(
        out.status.code(),
        expected,
        "landfall {args:?}: {}",
        stderr(&out)
    );
}

#[test]
fn commands_writing_into_a_closed_pipe_exit_quietly_with_their_own_exit_code() {
    let lz = Lz::example();
    let before: &[&[&str]] = &[
        &["schema"],
        &["graph"],
        &["graph", "--format", "mermaid"],
        &["sim", "show"],
        &["plan"],
        &["plan", "--json"],
        &["plan", "--detailed-exitcode"],
        &[
            "explain",
            "--account",
            "ml-fraud-dev",
            "--action",
            "s3:GetObject",
        ],
    ];
    for args in before {
        assert_quiet_with_its_own_exit_code(&lz, args);
    }

    // apply shows the plan before it changes anything: nobody saw it, so nothing is
    // applied, and it says so.
    let args = ["apply", "--auto-approve"];
    let out = run_into_closed_pipe(&lz, &args);
    assert_no_panic(&args, &out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nothing was changed"),
        "{}",
        stderr(&out)
    );
    assert!(!lz.path("state/ml-platform.state.json").exists());

    lz.apply_ok();
    let after: &[&[&str]] = &[
        &["state", "list"],
        &["state", "show", "account.log-archive"],
        &["drift"],
        &["drift", "--markdown"],
        &["drift", "--json"],
        &["plan", "--detailed-exitcode"],
        // "No changes.": nothing to show, nothing to change.
        &["apply", "--auto-approve"],
    ];
    for args in after {
        assert_quiet_with_its_own_exit_code(&lz, args);
    }
}
