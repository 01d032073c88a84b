//! `landfall validate` over the invalid corpus: every file fails with a located
//! diagnostic, and the directory run reports them all.

use std::path::PathBuf;

use assert_cmd::Command;

use crate::support::{repo_root, stderr};

/// True when the text has a `path.toml:LINE:COL` or `path.json:LINE:COL` location.
fn has_location(text: &str) -> bool {
    [".toml:", ".json:"].iter().any(|ext| {
        text.match_indices(ext).any(|(i, m)| {
            let rest = &text[i + m.len()..];
            let mut parts = rest.splitn(3, ':');
            let line = parts.next().unwrap_or("");
            let col: String = parts
                .next()
                .unwrap_or("")
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            !line.is_empty() && line.chars().all(|c| c.is_ascii_digit()) && !col.is_empty()
        })
    })
}

#[test]
fn invalid_corpus_each_file_fails_located_and_the_directory_reports_all() {
    let corpus = repo_root().join("tests/corpus/invalid");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "corpus has only {} files", files.len());
    let dir_out = Command::cargo_bin("landfall")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["validate", "-c"])
        .arg(&corpus)
        .output()
        .unwrap();
    assert_eq!(dir_out.status.code(), Some(1));
    let dir_err = stderr(&dir_out);
    for file in files {
        let out = Command::cargo_bin("landfall")
            .unwrap()
            .env("NO_COLOR", "1")
            .args(["validate", "-c"])
            .arg(&file)
            .output()
            .unwrap();
        let err = stderr(&out);
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(
            has_location(&err),
            "{name}: no file:line:col location in\n{err}"
        );
        assert!(
            dir_err.contains(&name),
            "the directory run does not report {name}"
        );
    }
}

/// Machine-readable diagnostics: `validate --format json|sarif` and `plan --json` on an
/// invalid configuration put one document on stdout and exit 1.
#[test]
fn diagnostics_as_json_and_sarif() {
    let case = repo_root().join("tests/corpus/invalid/96-scp-grammar-and-lint.toml");
    let case = case.to_str().unwrap();
    let run = |args: &[&str]| {
        Command::cargo_bin("landfall")
            .unwrap()
            .env("NO_COLOR", "1")
            .args(args)
            .output()
            .unwrap()
    };

    let out = run(&["validate", "-c", case, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["valid"], false);
    assert_eq!(doc["errors"], 6);
    let first = &doc["diagnostics"][0];
    assert_eq!(first["code"], "LF405");
    assert_eq!(first["severity"], "error");
    assert!(
        first["file"]
            .as_str()
            .unwrap()
            .ends_with("96-scp-grammar-and-lint.toml")
    );
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(16), Some(39))
    );
    assert_eq!(
        (first["end_line"].as_u64(), first["end_column"].as_u64()),
        (Some(16), Some(46))
    );
    assert!(first["help"].as_str().unwrap().contains("Deny"));

    let out = run(&["validate", "-c", case, "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    assert_eq!(results[0]["ruleId"], "LF405");
    assert_eq!(results[0]["level"], "error");
    let region = &results[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 16);
    assert!(
        sarif["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "LF414")
    );

    let out = run(&["plan", "-c", case, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["valid"], false);

    // A valid configuration: the document says so, with its warnings.
    let example = repo_root().join("examples/ml-platform.toml");
    let out = run(&[
        "validate",
        "-c",
        example.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["valid"], true);
}
