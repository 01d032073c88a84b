//! References to declared OUs and accounts: an SCP's or a share's target, an
//! account's or the quarantine's OU path; each undeclared one reported with a
//! suggestion.

use std::collections::BTreeSet;

use landfall_core::{OuPath, Target};

use crate::diagnostics::Diagnostic;
use crate::parse::toml_key;
use crate::sources::Loc;
use crate::suggest::{closest, did_you_mean};
use crate::validator::Validator;

/// Who refers to an OU, for messages.
#[derive(Clone, Copy)]
pub(super) enum OuRef<'a> {
    Account(&'a str),
    Quarantine,
}

impl Validator<'_> {
    /// Whether the OU or account a target names is declared (the root always is);
    /// reports `code` at `loc` when it is not. `subject` begins the message, e.g.
    /// "SCP `x` targets" or "portfolio `x` is shared with".
    pub(crate) fn target_declared(
        &mut self,
        code: &'static str,
        subject: &str,
        target: &Target,
        loc: &Loc,
        ous: &BTreeSet<String>,
        accounts: &BTreeSet<String>,
    ) -> bool {
        match target {
            Target::Root => true,
            Target::Ou(p) => {
                let ok = ous.contains(p.as_str());
                if !ok {
                    self.push(
                        Diagnostic::error(
                            code,
                            format!("{subject} OU `{p}`, which is not declared"),
                        )
                        .at(loc, "no such OU")
                        .maybe_help(
                            closest(p.as_str(), ous.iter().map(String::as_str))
                                .map(|c| format!("did you mean `ou:{c}`?")),
                        )
                        .help(format!("declare it with [ou.{}]", toml_key(p.as_str()))),
                    );
                }
                ok
            }
            Target::Account(a) => {
                let ok = accounts.contains(a);
                if !ok {
                    self.push(
                        Diagnostic::error(
                            code,
                            format!("{subject} account `{a}`, which is not declared"),
                        )
                        .at(loc, "no such account")
                        .maybe_help(did_you_mean(a, accounts.iter().map(String::as_str)))
                        .help(format!("declare it with [account.{}]", toml_key(a))),
                    );
                }
                ok
            }
        }
    }

    /// Resolves a reference to an OU by path; reports it when it is malformed or
    /// undeclared.
    pub(super) fn ou_reference(
        &mut self,
        value: &str,
        loc: &Loc,
        declared: &BTreeSet<String>,
        by: OuRef<'_>,
    ) -> Option<OuPath> {
        let path = match OuPath::parse(value) {
            Ok(p) => p,
            Err(e) => {
                let message = match by {
                    OuRef::Account(a) => format!("account `{a}` has an invalid `ou`"),
                    OuRef::Quarantine => "the quarantine `ou` is not a valid OU path".to_string(),
                };
                self.push(
                    Diagnostic::error("LF307", message)
                        .at(loc, e)
                        .help(root_hint(value)),
                );
                return None;
            }
        };
        if declared.contains(value) {
            return Some(path);
        }
        let message = match by {
            OuRef::Account(a) => {
                format!("account `{a}` is placed in OU `{value}`, which is not declared")
            }
            OuRef::Quarantine => format!("the quarantine OU `{value}` is not declared"),
        };
        let mut d = Diagnostic::error("LF307", message).at(loc, "no such OU");
        // `ou = "ou:Security"`: the target syntax where a plain path belongs.
        let unprefixed = value
            .strip_prefix("ou:")
            .or_else(|| value.strip_prefix("ou."))
            .filter(|p| declared.contains(*p));
        if let Some(path) = unprefixed {
            d = d.help(format!("write the OU path alone: `ou = \"{path}\"`"));
        } else {
            d = d.maybe_help(did_you_mean(value, declared.iter().map(String::as_str)));
        }
        if value.eq_ignore_ascii_case("root") {
            d = d.help(root_hint(value));
        } else {
            d = d.help(format!("declare it with [ou.{}]", toml_key(value)));
        }
        self.push(d);
        None
    }
}

fn root_hint(value: &str) -> String {
    if value.is_empty() || value.eq_ignore_ascii_case("root") || value == "/" {
        "to place an account directly under the root, leave out `ou`".to_string()
    } else {
        "OU paths look like `Workloads/Workloads_Dev`".to_string()
    }
}
