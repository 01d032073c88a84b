//! The `Validator`: what every stage-2 check shares (the sources diagnostics point
//! into, the sink they go to, where policy files are read from), how checks report
//! and locate problems, and how one kind of declaration is merged across files
//! (first wins; duplicates and second singletons reported).
//!
//! It is its own module so the modules that add checks to it (`validate`,
//! `project`, `network`, `kms`, `governance`, `expect`) depend on it and not on each
//! other: `validate` uses `project`'s expansion, so `project` must not reach back
//! into `validate` for the type it extends.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use landfall_core::model::Origin;
use serde_spanned::Spanned;

use crate::diagnostics::{Diagnostic, Sink};
use crate::parse::{Decl, ParsedFile, toml_key};
use crate::sources::{Loc, SourceId, SourceMap};

/// The validator: each section's module adds its checks to it (`validate`'s
/// submodules for the organization, `network.rs` and `kms.rs` for member-account
/// resources, `governance`, `expect`, `project`).
pub(crate) struct Validator<'a> {
    pub(crate) sources: &'a mut SourceMap,
    pub(crate) sink: &'a mut Sink,
    /// Where relative policy paths resolve (see `sources::resolve_relative`).
    pub(crate) base_dir: &'a Path,
    /// The files read from disk, policy files appended as they are read.
    pub(crate) read: &'a mut Vec<PathBuf>,
    /// `[landing_zone] known_regions`: regions AWS opened after this binary was built.
    pub(crate) extra_regions: Vec<String>,
}

/// The declarations that count (first of each name, from readable files), plus every
/// name declared anywhere (for resolving references).
pub(crate) struct Merged<'f, T> {
    pub(crate) first: Vec<&'f Decl<T>>,
    pub(crate) names: BTreeSet<String>,
}

impl Validator<'_> {
    pub(crate) fn push(&mut self, d: Diagnostic) {
        self.sink.push(d);
    }

    pub(crate) fn origin(&self, loc: &Loc) -> Origin {
        let (line, column) = self.sources.line_col(loc.source, loc.span.start);
        Origin {
            file: self.sources.name(loc.source).to_string(),
            line,
            column,
        }
    }

    pub(crate) fn loc<T>(&self, source: SourceId, s: &Spanned<T>) -> Loc {
        Loc::new(source, s.span())
    }

    /// `[landing_zone]` and `[sim]`: at most one declaration across all files.
    pub(crate) fn singleton<T>(&mut self, decls: &[&Decl<T>], code: &'static str, what: &str) {
        let Some((first, rest)) = decls.split_first() else {
            return;
        };
        for again in rest {
            self.push(
                Diagnostic::error(code, format!("{what} is declared more than once"))
                    .at(&again.table, "declared again here")
                    .at(&first.table, "first declared here")
                    .help(format!("keep exactly one {what} across all files")),
            );
        }
    }

    /// Collects one kind of keyed declaration across files, reporting duplicates.
    pub(crate) fn merge<'f, T>(
        &mut self,
        files: &'f [ParsedFile],
        get: impl Fn(&'f ParsedFile) -> &'f Vec<Decl<T>>,
        what: &str,
        section: &str,
    ) -> Merged<'f, T> {
        let mut first: Vec<&Decl<T>> = Vec::new();
        let mut seen: HashMap<&str, &Decl<T>> = HashMap::new();
        let mut names = BTreeSet::new();
        for file in files {
            for decl in get(file) {
                names.insert(decl.name.clone());
                if file.broken {
                    continue;
                }
                match seen.get(decl.name.as_str()) {
                    Some(earlier) => {
                        let header = format!("[{section}.{}]", toml_key(&decl.name));
                        self.push(
                            Diagnostic::error(
                                "LF104",
                                format!("{what} `{}` is declared twice", decl.name),
                            )
                            .at(&decl.key, "declared again here")
                            .at(&earlier.key, "first declared here")
                            .help(format!(
                                "{header} can appear in only one file; remove or rename one"
                            )),
                        );
                    }
                    None => {
                        seen.insert(&decl.name, decl);
                        first.push(decl);
                    }
                }
            }
        }
        Merged { first, names }
    }
}
