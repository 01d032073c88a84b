//! Landfall's configuration loader: TOML files → a validated
//! [`DesiredState`], or every problem found, each with
//! its place (file:line:col), a snippet and a hint.
//!
//! Loading runs in two stages, like ripgrep's config or cargo's manifest handling:
//!
//! 1. `parse`: each file is parsed and each of its tables deserialized into the
//!    `raw` serde types (unknown keys, wrong types and syntax errors are caught
//!    here, with "did you mean" suggestions);
//! 2. `validate`: all files' declarations are merged and checked against each
//!    other and against AWS's rules and quotas (`rules`, `scp`), then turned
//!    into the typed desired state.
//!
//! Both stages keep going after a problem, so one run reports them all. The file
//! format is documented in `docs/configuration.md`, with every diagnostic code.

// Library code reports through return values and `tracing`; only the binary prints.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod controls;
mod diagnostics;
mod endpoints;
mod expect;
mod governance;
mod identity;
pub mod import;
mod key_policy;
mod kms;
pub mod managed_documents;
mod network;
mod org_policies;
mod parse;
mod policy_doc;
mod project;
mod raw;
mod rules;
mod scp;
mod sections;
mod security;
mod sources;
pub mod suggest;
mod toml_string;
mod validate;
mod validator;

use std::path::{Path, PathBuf};

use landfall_core::DesiredState;

pub use diagnostics::{Diagnostic, Diagnostics, Label, Severity};
pub use project::{Blueprint, Stage, allocate_cidrs, project_name_problem};
pub use rules::landing_zone_name_problem;
pub use validate::landing_zone::DEFAULT_ACCESS_ROLE;

use diagnostics::Sink;
use sources::SourceMap;

/// A successfully loaded desired state.
#[derive(Debug)]
pub struct Loaded {
    pub desired: DesiredState,
    /// Problems that do not stop Landfall (e.g. an SCP attached nowhere).
    pub warnings: Diagnostics,
    /// The files read from disk: the TOML files, then the policy files they name.
    pub files: Vec<PathBuf>,
    /// The `[blueprint]` in force (the defaults when there is none).
    pub blueprint: Blueprint,
    /// The declared `[project.NAME]`s, in declaration order.
    pub projects: Vec<DeclaredProject>,
}

/// A `[project.NAME]` of the files, and where it is declared (`file:line:col`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredProject {
    pub name: String,
    pub declared_at: String,
}

/// Loads a TOML file, or every `*.toml` file below a directory (recursively, hidden
/// entries skipped, sorted by path), merges them and validates the result.
///
/// Paths in diagnostics are shown as `path` was given (a relative `path` gives
/// relative names). On failure, returns every problem found, warnings included.
pub fn load(path: &Path) -> Result<Loaded, Diagnostics> {
    load_with_overlay(path, Vec::new())
}

/// Loads as [`load`] would, with some files' texts replaced by (or, for files that do
/// not exist yet, added as) the given ones: what the desired state would be after
/// writing them. Overlay paths are compared as written, so give them as `path`
/// would show them (`path` joined with the file's relative name).
pub fn load_with_overlay(
    path: &Path,
    overlay: Vec<(PathBuf, String)>,
) -> Result<Loaded, Diagnostics> {
    let mut sink = Sink::default();
    let shown = path.display().to_string();
    let found = match sources::discover(path) {
        Ok(found) => found,
        Err(e) => {
            let d = if e.kind() == std::io::ErrorKind::NotFound {
                Diagnostic::error("LF001", "no such file or directory").help(
                    "pass `-c PATH` with a TOML file or a directory of TOML files \
                     (the default is ./landfall.toml)",
                )
            } else {
                Diagnostic::error("LF001", format!("cannot read: {e}"))
            };
            sink.push(d.in_file(shown));
            return Err(sink.finish(SourceMap::default()));
        }
    };
    let mut found = found;
    for (extra, _) in &overlay {
        if !found.contains(extra) {
            found.push(extra.clone());
        }
    }
    if path.is_dir() {
        found.sort();
    }
    if found.is_empty() {
        sink.push(
            Diagnostic::error("LF002", "the directory contains no *.toml file")
                .in_file(shown)
                .help(
                    "Landfall reads every *.toml file below the directory (hidden entries skipped)",
                ),
        );
        return Err(sink.finish(SourceMap::default()));
    }
    let mut texts = Vec::new();
    let mut files = Vec::new();
    for file in found {
        let shown = file.display().to_string();
        if let Some((_, text)) = overlay.iter().find(|(p, _)| p == &file) {
            texts.push((shown, text.clone()));
            files.push(file);
            continue;
        }
        match std::fs::read_to_string(&file) {
            Ok(text) => {
                texts.push((shown, text));
                files.push(file);
            }
            Err(e) => {
                let reason = if e.kind() == std::io::ErrorKind::InvalidData {
                    "the file is not UTF-8 text".to_string()
                } else {
                    format!("cannot read: {e}")
                };
                sink.push(Diagnostic::error("LF001", reason).in_file(shown));
            }
        }
    }
    // Relative names stay relative: policy paths resolve against them as given.
    load_texts(texts, Path::new(""), sink, files)
}

/// Loads in-memory sources `(name, text)`, as [`load`] would load files of those
/// names. A policy's `file =` path is resolved relative to `base_dir` joined with the
/// directory part of the source's name (just `base_dir` for a plain file name).
pub fn load_sources(
    sources: Vec<(String, String)>,
    base_dir: &Path,
) -> Result<Loaded, Diagnostics> {
    let mut sink = Sink::default();
    if sources.is_empty() {
        sink.push(Diagnostic::error("LF002", "no TOML source was given"));
        return Err(sink.finish(SourceMap::default()));
    }
    load_texts(sources, base_dir, sink, Vec::new())
}

fn load_texts(
    texts: Vec<(String, String)>,
    base_dir: &Path,
    mut sink: Sink,
    mut files: Vec<PathBuf>,
) -> Result<Loaded, Diagnostics> {
    // Only read errors can have been reported so far.
    let unread_files = sink.has_errors();
    let mut sources = SourceMap::default();
    let mut parsed = Vec::new();
    for (name, text) in texts {
        let id = sources.add(name, text);
        let text = sources.get(id).map(|s| s.text.clone()).unwrap_or_default();
        parsed.push(parse::parse_file(id, &text, &mut sink));
    }
    let (desired, blueprint, projects) = validate::validate(
        parsed,
        unread_files,
        &mut sources,
        base_dir,
        &mut sink,
        &mut files,
    );
    match desired {
        Some(desired) if !sink.has_errors() => Ok(Loaded {
            desired,
            warnings: sink.finish(sources),
            files,
            blueprint,
            projects,
        }),
        _ => {
            if !sink.has_errors() {
                // Unreachable in practice (no desired state means some error was
                // reported), but never return an empty failure.
                sink.push(Diagnostic::error(
                    "LF200",
                    "no usable [landing_zone] is declared",
                ));
            }
            Err(sink.finish(sources))
        }
    }
}

/// The JSON Schema of the file format, for editors (Taplo / Even Better TOML).
pub fn json_schema() -> serde_json::Value {
    raw::schema()
}
