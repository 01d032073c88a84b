//! `[ou."PATH"]`: OU paths and names, the tree (every parent declared) and its
//! depth against `ou_max_depth`.

use landfall_core::OuPath;
use landfall_core::model::OuSpec;

use crate::diagnostics::Diagnostic;
use crate::parse::toml_key;
use crate::raw::RawOu;
use crate::rules;
use crate::sources::Loc;
use crate::suggest::did_you_mean;
use crate::validator::{Merged, Validator};

use super::Settings;

/// A checked OU, with what the SCP count per target needs.
pub(super) struct CheckedOu {
    pub(super) spec: OuSpec,
    /// Its own `full_aws_access` setting, when written.
    pub(super) full_aws_access: Option<(bool, Loc)>,
    pub(super) key: Loc,
}

impl Validator<'_> {
    pub(super) fn ous(&mut self, decls: &Merged<'_, RawOu>, settings: &Settings) -> Vec<CheckedOu> {
        let mut out = Vec::new();
        for decl in &decls.first {
            let Some(raw) = &decl.body else { continue };
            let name = &decl.name;
            let path = match OuPath::parse(name) {
                Ok(p) => p,
                Err(e) => {
                    self.push(
                        Diagnostic::error("LF300", format!("invalid OU path `{name}`"))
                            .at(&decl.key, e)
                            .help("OU paths are written below the root, e.g. [ou.\"Workloads/Workloads_Dev\"]"),
                    );
                    continue;
                }
            };
            let mut valid = true;
            for segment in name.split('/') {
                if let Some(problem) = rules::ou_segment_problem(segment) {
                    valid = false;
                    self.push(
                        Diagnostic::error("LF300", format!("invalid OU name in `{name}`"))
                            .at(&decl.key, problem)
                            .help(
                                "OU names are 1 to 128 characters with no leading or trailing spaces",
                            ),
                    );
                }
            }
            let max_depth = settings.quotas.ou_max_depth;
            if path.depth() > max_depth {
                self.push(
                    Diagnostic::error(
                        "LF302",
                        format!("OU `{name}` is {} levels deep; the limit is {max_depth}", path.depth()),
                    )
                    .at(&decl.key, format!("{} levels below the root", path.depth()))
                    .help(format!(
                        "AWS allows {max_depth} levels of OUs below the root (`ou_max_depth`); flatten the hierarchy"
                    )),
                );
            }
            if let Some(parent) = path.parent()
                && valid
                && !decls.names.contains(parent.as_str())
            {
                let mut missing = Vec::new();
                let mut p = Some(parent.clone());
                while let Some(q) = p {
                    if !decls.names.contains(q.as_str()) {
                        missing.push(format!("[ou.{}]", toml_key(q.as_str())));
                    }
                    p = q.parent();
                }
                missing.reverse();
                self.push(
                    Diagnostic::error(
                        "LF301",
                        format!("the parent OU `{parent}` of `{name}` is not declared"),
                    )
                    .at(&decl.key, format!("`{parent}` is not declared"))
                    .maybe_help(did_you_mean(
                        parent.as_str(),
                        decls
                            .names
                            .iter()
                            .map(String::as_str)
                            .filter(|c| !OuPath::new(*c).is_within(&path)),
                    ))
                    .help(format!(
                        "declare every parent: add {}",
                        missing.join(" and ")
                    )),
                );
            }
            let tags = self.tags(decl.key.source, raw.tags.as_ref(), &format!("ou.{name}"));
            out.push(CheckedOu {
                spec: OuSpec {
                    path,
                    tags,
                    origin: self.origin(&decl.key),
                },
                full_aws_access: raw
                    .full_aws_access
                    .as_ref()
                    .map(|f| (*f.get_ref(), self.loc(decl.key.source, f))),
                key: decl.key.clone(),
            });
        }
        out
    }
}
