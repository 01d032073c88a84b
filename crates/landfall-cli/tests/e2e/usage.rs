//! What scripts and cron jobs depend on besides the output: usage errors exit 1 (never
//! 2, which means "changes pending" or "drift found"), the state belongs to the
//! configuration rather than to the working directory, and `drift` without a state is
//! an error.

use crate::support::{Lz, stderr};

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    let lz = Lz::example();
    for args in [
        &["plan", "--no-such-flag"][..],
        &["no-such-command"],
        &["drift", "--json", "--markdown"],
        &[],
    ] {
        let out = lz.run(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "landfall {args:?}: {}",
            stderr(&out)
        );
        assert!(!stderr(&out).is_empty(), "landfall {args:?} said nothing");
    }
    for args in [&["--help"][..], &["drift", "--help"], &["--version"]] {
        let out = lz.run(args);
        assert_eq!(out.status.code(), Some(0), "landfall {args:?}");
        assert!(!out.stdout.is_empty(), "landfall {args:?} printed nothing");
    }
}

#[test]
fn the_state_is_found_relative_to_the_configuration_not_the_working_directory() {
    let lz = Lz::example();
    lz.apply_ok();
    let elsewhere = tempfile::tempdir().unwrap();
    let config = lz.path("landfall.toml");
    let config = config.to_str().unwrap();
    for args in [
        &["plan", "-c", config, "--detailed-exitcode"][..],
        &["drift", "-c", config],
    ] {
        let out = lz
            .cmd()
            .current_dir(elsewhere.path())
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "landfall {args:?} from another directory: {}",
            stderr(&out)
        );
    }
    // A directory given to -c is its own base too.
    let out = lz
        .cmd()
        .current_dir(elsewhere.path())
        .args(["plan", "--detailed-exitcode", "-c"])
        .arg(lz.dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        std::fs::read_dir(elsewhere.path())
            .unwrap()
            .next()
            .is_none(),
        "nothing is written where the command ran"
    );
}

#[test]
fn drift_without_a_state_is_an_error_naming_the_path() {
    let lz = Lz::example();
    let out = lz.run(&["drift"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("no state at"), "{err}");
    assert!(err.contains("ml-platform.state.json"), "{err}");
    assert!(out.stdout.is_empty(), "no report on stdout");
}
