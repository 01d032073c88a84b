//! `landfall bench apply` on the sim's AWS model: the example converges (with and
//! without injected throttling) and the figures are shaped as documented. Figures are
//! virtual time; nothing here looks at the wall clock.

use crate::support::{repo_root, stderr, stdout};
use assert_cmd::Command;

fn bench_apply(extra: &[&str]) -> std::process::Output {
    let mut cmd = Command::cargo_bin("landfall").unwrap();
    cmd.current_dir(repo_root())
        .env("NO_COLOR", "1")
        .env_remove("LANDFALL_SIM_FAULTS")
        .args(["bench", "apply", "--zones", "example"])
        .args(extra);
    cmd.output().unwrap()
}

/// The example's row: (makespan, bound, ratio, calls, throttled %, bound term).
fn example_row(out: &str) -> (f64, f64, f64, usize, String) {
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("example"))
        .unwrap_or_else(|| panic!("no example row in:\n{out}"));
    let fields: Vec<&str> = line.split_whitespace().collect();
    let secs = |s: &str| s.trim_end_matches('s').parse::<f64>().unwrap();
    let (makespan, bound) = (secs(fields[2]), secs(fields[3]));
    let ratio: f64 = fields[4].parse().unwrap();
    let calls: usize = fields[5].parse().unwrap();
    let term = fields[10..].join(" ");
    (makespan, bound, ratio, calls, term)
}

#[test]
fn bench_apply_prints_the_makespan_against_its_bound() {
    let out = bench_apply(&["--seed", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("landfall bench apply:"), "{text}");
    assert!(
        text.lines().nth(1).is_some_and(|h| h.contains("makespan")
            && h.contains("bound")
            && h.contains("ratio")
            && h.contains("throttled")
            && h.contains("bound set by")),
        "{text}"
    );
    let (makespan, bound, ratio, calls, term) = example_row(&text);
    assert!(bound > 0.0 && makespan > 0.0, "{text}");
    // The example creates accounts, registers OUs and enables controls: the bound is
    // minutes of AWS time, and no schedule beats it.
    assert!(bound > 60.0, "{text}");
    assert!(ratio >= 1.0, "makespan below its lower bound:\n{text}");
    assert!((ratio - makespan / bound).abs() < 0.01, "{text}");
    assert!(calls > 100, "{text}");
    assert!(!term.is_empty(), "{text}");
    // Deterministic for a seed: virtual time does not depend on the machine.
    assert_eq!(stdout(&bench_apply(&["--seed", "3"])), text);
}

#[test]
fn bench_apply_converges_under_injected_throttling() {
    let out = bench_apply(&["--throttle-rate", "0.3", "--seed", "5"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("example"))
        .unwrap();
    let injected: usize = line.split_whitespace().nth(9).unwrap().parse().unwrap();
    assert!(injected > 0, "30 % of the calls are refused on top: {text}");
    let (_, _, ratio, _, _) = example_row(&text);
    assert!(ratio >= 1.0, "{text}");
}

#[test]
fn bench_apply_refuses_a_bad_zone_and_rate() {
    let out = bench_apply(&["--throttle-rate", "1.5"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("between 0 and 1"), "{}", stderr(&out));
    let mut cmd = Command::cargo_bin("landfall").unwrap();
    let out = cmd
        .current_dir(repo_root())
        .args(["bench", "apply", "--zones", "huge"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("`huge` is not a zone"),
        "{}",
        stderr(&out)
    );
}
