//! `[group.NAME]`: Identity Store groups Landfall creates (NAME is the display name),
//! only when Identity Center's own directory is the identity source: with an external
//! IdP, groups come through SCIM and assignments name them as they exist.

use std::collections::{BTreeMap, BTreeSet};

use landfall_core::model::{GroupSpec, IdentitySource};

use crate::diagnostics::Diagnostic;
use crate::raw::RawGroup;
use crate::sources::Loc;
use crate::validator::{Merged, Validator};

/// Identity Store's limit for a group's display name and description.
const MAX_LEN: usize = 1024;

/// Why a group display name (or description) breaks Identity Store's rules
/// (`CreateGroup`: 1–1024 letters, marks, symbols, numbers, punctuation, spaces, tab
/// and line breaks), if it does. Leading or trailing whitespace is refused too: such a
/// name is invisible in the console and never what was meant.
pub(crate) fn text_problem(text: &str) -> Option<String> {
    let len = text.chars().count();
    if len == 0 || len > MAX_LEN {
        return Some(format!(
            "{len} characters; Identity Store allows 1 to {MAX_LEN}"
        ));
    }
    if text.starts_with(char::is_whitespace) || text.ends_with(char::is_whitespace) {
        return Some("leading or trailing whitespace".into());
    }
    text.chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| {
            format!(
                "the control character `{}` is not allowed",
                c.escape_default()
            )
        })
}

/// Why a group's display name (or a user name) is valid in Identity Store but cannot be
/// written in an assignment's address (`assignment.SET:group.NAME:account.ACCOUNT`, read
/// back from its last `:account.`), if it cannot.
pub(crate) fn address_problem(name: &str) -> Option<String> {
    name.contains(":account.").then(|| {
        "`:account.` in a name cannot be told apart from the account part of an assignment's address (`assignment.SET:group.NAME:account.ACCOUNT`), which state files and plans use".to_string()
    })
}

/// The problem of a group display name as Landfall uses it: Identity Store's rules,
/// then the address rule.
pub(crate) fn group_name_problem(name: &str) -> Option<String> {
    text_problem(name).or_else(|| address_problem(name))
}

impl Validator<'_> {
    /// The declared groups. `source_at`: where `identity_source` is set, for the
    /// external-source error.
    pub(crate) fn groups(
        &mut self,
        decls: &Merged<'_, RawGroup>,
        source: IdentitySource,
        source_at: Option<&Loc>,
        projects: &BTreeMap<String, String>,
    ) -> BTreeMap<String, GroupSpec> {
        let mut out = BTreeMap::new();
        for decl in &decls.first {
            let name = &decl.name;
            let mut ok = true;
            if source == IdentitySource::External {
                ok = false;
                let mut d = Diagnostic::error(
                    "LF884",
                    format!("group `{name}` is declared, but groups come from an external identity provider"),
                )
                .at(&decl.key, "Landfall would create this group");
                if let Some(at) = source_at {
                    d = d.at(at, "the identity source is external");
                }
                self.push(d.help(
                    "with `identity_source = \"external\"` the IdP provisions groups through \
                     SCIM: remove this declaration; assignments can name the group as it \
                     exists (`group = \"DISPLAY NAME\"`)",
                ));
            }
            if let Some(problem) = group_name_problem(name) {
                ok = false;
                self.push(
                    Diagnostic::error("LF883", format!("invalid group display name `{name}`"))
                        .at(&decl.key, problem)
                        .help("the key is the group's display name, e.g. [group.ml-fraud-data-scientists] or [group.\"Data Scientists\"]"),
                );
            }
            let Some(raw) = &decl.body else { continue };
            let src = decl.key.source;
            if let Some(d) = &raw.description
                && let Some(problem) = text_problem(d.get_ref())
            {
                ok = false;
                let loc = self.loc(src, d);
                self.push(
                    Diagnostic::error("LF883", format!("invalid description of group `{name}`"))
                        .at(&loc, problem)
                        .help("1 to 1024 characters, or leave `description` out"),
                );
            }
            if ok {
                out.insert(
                    name.clone(),
                    GroupSpec {
                        name: name.clone(),
                        description: raw.description.as_ref().map(|d| d.get_ref().clone()),
                        origin: self.origin(&decl.key),
                        project: projects.get(name).cloned(),
                    },
                );
            }
        }
        out
    }

    /// A declared group no assignment names: created, but it gives nobody access.
    pub(crate) fn unused_groups(&mut self, decls: &Merged<'_, RawGroup>, used: &BTreeSet<String>) {
        for decl in &decls.first {
            // Named under another case is an error of its own (LF888), not this.
            if used.iter().any(|u| u.eq_ignore_ascii_case(&decl.name)) {
                continue;
            }
            self.push(
                Diagnostic::warning(
                    "LF912",
                    format!(
                        "group `{}` is declared but no assignment names it",
                        decl.name
                    ),
                )
                .at(&decl.key, "gives access to nothing")
                .help(format!(
                    "add an [[assignment]] with `group = \"{}\"`, or remove the group",
                    decl.name
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_follow_identity_store() {
        assert_eq!(text_problem("ml-fraud-data-scientists"), None);
        assert_eq!(text_problem("Data Scientists (ML)"), None);
        assert!(text_problem("").is_some());
        assert!(text_problem(" padded").is_some());
        assert!(text_problem("padded ").is_some());
        assert!(text_problem("bell\u{7}").is_some());
        assert!(text_problem(&"x".repeat(1025)).is_some());
        assert!(group_name_problem("ops:account.prod").is_some());
        assert_eq!(group_name_problem("ops: account admins"), None);
    }
}
