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
