//! `[drift] ignore` patterns reach the desired state and are checked as globs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

const BASE: &str = "[landing_zone]\nname = \"lz\"\nhome_region = \"us-east-1\"\n";

#[test]
fn drift_ignore_patterns_are_merged_from_every_file() {
    let loaded = landfall_config::load_sources(
        vec![
            (
                "a.toml".into(),
                format!("{BASE}\n[drift]\nignore = [\"account.sandbox-*\"]\n"),
            ),
            (
                "b.toml".into(),
                "[drift]\nignore = [\"endpoint.*.kms\"]\n".into(),
            ),
        ],
        std::path::Path::new("."),
    )
    .unwrap_or_else(|d| panic!("{}", d.render(false)));
    assert_eq!(
        loaded.desired.drift_ignore,
        ["account.sandbox-*", "endpoint.*.kms"]
    );
}

#[test]
fn a_bad_glob_is_a_located_error() {
    let err = landfall_config::load_sources(
        vec![(
            "a.toml".into(),
            format!("{BASE}\n[drift]\nignore = [\"[oops\"]\n"),
        )],
        std::path::Path::new("."),
    )
    .err()
    .unwrap();
    let text = err.render(false);
    assert!(
        text.contains("LF212") && text.contains("a.toml:6:"),
        "{text}"
    );
}
