//! The invalid-input corpus (`tests/corpus/invalid/`): every case fails with located
//! errors whose rendering is snapshotted, and loading the whole directory at once
//! still reports every case's own errors.
//!
//! Update snapshots with `INSTA_UPDATE=always cargo test -p landfall-config`, then
//! review the `.snap` files.

// Helpers are test code too; clippy only exempts `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use landfall_config::{Diagnostics, Severity, load};

/// Relative to this crate (the working directory of its tests), so the paths shown
/// in diagnostics, and so the snapshots, do not depend on where the repo lives.
const CORPUS: &str = "../../tests/corpus/invalid";

/// Cases whose errors are about something *no* file declares (a `[control_tower]`), or
/// that depend on the first `[landing_zone]`'s `account_factory` or on being the
/// `[blueprint]` in force: in the directory load other cases declare and decide those,
/// so their own errors do not appear there.
const ABSENCE_CASES: &[&str] = &[
    "72-controls-without-control-tower",
    "73-account-factory-without-control-tower",
    "74-account-factory-account",
    "99-blueprint-personas",
];

/// Cases about `[logging]` or `[security_services]`, declared at most once: in the
/// directory load only the first file's declaration is read (the others are LF933),
/// so their own errors appear only when they are loaded alone.
const SINGLETON_CASES: &[&str] = &[
    "127-logging-archive-management",
    "128-logging-missing-account",
    "129-logging-bucket-name",
    "130-logging-object-lock",
    "131-logging-lifecycle",
    "132-security-admin-management",
    "133-security-unknown-service",
];

/// A case is a `*.toml` file or a directory of them (`policies/` holds JSON only).
fn cases() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(CORPUS)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if p.is_dir() {
                name != "policies"
            } else {
                name.ends_with(".toml")
            }
        })
        .collect();
    out.sort();
    out
}

fn case_name(path: &Path) -> String {
    path.file_name()
        .unwrap()
        .to_string_lossy()
        .trim_end_matches(".toml")
        .to_string()
}

fn must_fail(path: &Path) -> Diagnostics {
    match load(path) {
        Ok(_) => panic!("{} loaded without errors", path.display()),
        Err(d) => d,
    }
}

/// (code, file, line, column) of every error.
fn error_places(diags: &Diagnostics) -> BTreeSet<(String, String, u32, u32)> {
    diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            (
                d.code.to_string(),
                d.file.clone().unwrap_or_default(),
                d.line,
                d.column,
            )
        })
        .collect()
}

#[test]
fn corpus_is_large_enough() {
    assert!(cases().len() >= 35, "only {} cases", cases().len());
}

#[test]
fn every_case_fails_with_located_errors() {
    for case in cases() {
        let diags = must_fail(&case);
        assert!(diags.error_count() >= 1, "{}: no error", case.display());
        for d in diags.iter() {
            assert!(
                d.file.is_some() && d.line > 0 && d.column > 0 && !d.labels.is_empty(),
                "{}: diagnostic without a place: {d}",
                case.display()
            );
            assert!(d.code.starts_with("LF"), "{d}");
        }
    }
}

#[test]
fn every_case_renders_stably() {
    for case in cases() {
        let rendered = must_fail(&case).render(false);
        assert!(rendered.is_ascii(), "{}: non-ASCII output", case.display());
        assert!(!rendered.contains('\u{1b}'), "escape codes without color");
        insta::assert_snapshot!(case_name(&case), rendered);
    }
}

#[test]
fn the_whole_corpus_as_one_directory_reports_every_case() {
    let all = error_places(&must_fail(Path::new(CORPUS)));
    let mut expected = BTreeSet::new();
    for case in cases() {
        let own = error_places(&must_fail(&case));
        if ABSENCE_CASES.contains(&case_name(&case).as_str()) {
            continue;
        }
        if SINGLETON_CASES.contains(&case_name(&case).as_str()) {
            // Whichever of them comes first is read; none is required.
            expected.extend(own);
            continue;
        }
        for place in &own {
            assert!(
                all.contains(place),
                "{}: {place:?} is missing from the directory load",
                case.display()
            );
        }
        expected.extend(own);
    }
    // The only new errors are the singletons declared in several files (`[landing_zone]`,
    // `[sim]`, `[control_tower]`, `[blueprint]`, `[logging]`, `[security_services]`), and the groups of other cases under
    // case 100's external identity source (`LF884`).
    for (code, file, line, col) in all.difference(&expected) {
        assert!(
            ["LF201", "LF202", "LF820", "LF801", "LF884", "LF933"].contains(&code.as_str()),
            "unexpected {code} at {file}:{line}:{col} in the directory load"
        );
    }
}
