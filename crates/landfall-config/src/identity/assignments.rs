//! `[[assignment]]`: a declared permission set given to a group or a user in declared
//! accounts and OUs. The API assigns per account, so an OU target expands to every
//! declared account in it or below it (a new account in the OU gets the assignment in
//! the same plan); an account reached twice for one (set, principal) is one
//! assignment, kept with its first origin.

use std::collections::{BTreeMap, BTreeSet};

use landfall_core::address::{Assignment, Principal};
use landfall_core::model::AssignmentSpec;
use landfall_core::{OuPath, Target};
use serde_spanned::Spanned;

use crate::diagnostics::Diagnostic;
use crate::identity::groups::{address_problem, group_name_problem};
use crate::parse::{Decl, ParsedFile, toml_key};
use crate::raw::RawAssignment;
use crate::sources::SourceId;
use crate::suggest::did_you_mean;
use crate::validator::Validator;

/// `CreateUser`'s `UserName`: 1–128 characters, no whitespace.
const MAX_USER_NAME: usize = 128;

/// What assignments are checked against.
pub(crate) struct Declared<'a> {
    pub permission_sets: &'a BTreeSet<String>,
    pub groups: &'a BTreeSet<String>,
    pub ous: &'a BTreeSet<String>,
    pub accounts: &'a BTreeSet<String>,
    /// Each checked account's OU (`None`: under the root).
    pub account_ous: &'a BTreeMap<String, Option<OuPath>>,
    /// The assignments projects expand into, and their project.
    pub projects: &'a BTreeMap<Assignment, String>,
}

impl Validator<'_> {
    /// Every file's `[[assignment]]`s, expanded to accounts, unique, sorted; and the
    /// group names they use.
    pub(crate) fn assignments(
        &mut self,
        files: &[ParsedFile],
        declared: &Declared<'_>,
    ) -> (Vec<AssignmentSpec>, BTreeSet<String>) {
        let mut out: BTreeMap<Assignment, AssignmentSpec> = BTreeMap::new();
        let mut used = BTreeSet::new();
        for file in files {
            for decl in &file.assignments {
                let Some(raw) = &decl.body else {
                    continue;
                };
                if let Some(g) = &raw.group {
                    used.insert(g.get_ref().clone());
                }
                for spec in self.assignment(decl, raw, declared) {
                    out.entry(spec.assignment.clone()).or_insert(spec);
                }
            }
        }
        (out.into_values().collect(), used)
    }

    fn assignment(
        &mut self,
        decl: &Decl<RawAssignment>,
        raw: &RawAssignment,
        declared: &Declared<'_>,
    ) -> Vec<AssignmentSpec> {
        let src = decl.key.source;
        let set = self.assigned_set(src, &raw.permission_set, declared.permission_sets);
        let principal = self.principal(decl, raw, declared.groups);
        let targets = self.assignment_targets(src, &raw.targets, declared);
        let (Some(set), Some(principal)) = (set, principal) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (declared_target, account, at) in targets {
            let assignment = Assignment {
                permission_set: set.clone(),
                principal: principal.clone(),
                account,
            };
            out.push(AssignmentSpec {
                project: declared.projects.get(&assignment).cloned(),
                assignment,
                declared_target,
                origin: self.origin(&at),
            });
        }
        out
    }

    fn assigned_set(
        &mut self,
        src: SourceId,
        set: &Spanned<String>,
        declared: &BTreeSet<String>,
    ) -> Option<String> {
        let name = set.get_ref();
        if declared.contains(name) {
            return Some(name.clone());
        }
        let loc = self.loc(src, set);
        self.push(
            Diagnostic::error(
                "LF886",
                format!("an assignment gives permission set `{name}`, which is not declared"),
            )
            .at(&loc, "no such permission set")
            .maybe_help(did_you_mean(name, declared.iter().map(String::as_str)))
            .help(format!(
                "declare it with [permission_set.{}] (a `persona = \"...\"` preset fills it in)",
                toml_key(name)
            )),
        );
        None
    }

    /// The group or user; exactly one of them.
    fn principal(
        &mut self,
        decl: &Decl<RawAssignment>,
        raw: &RawAssignment,
        groups: &BTreeSet<String>,
    ) -> Option<Principal> {
        let src = decl.key.source;
        match (&raw.group, &raw.user) {
            (Some(g), None) => {
                let name = g.get_ref();
                let loc = self.loc(src, g);
                if groups.contains(name) {
                    return Some(Principal::Group(name.clone()));
                }
                // Declared under another case: Identity Store looks a display name up
                // as written, so the assignment would name another (or no) group.
                if let Some(other) = groups.iter().find(|d| d.eq_ignore_ascii_case(name)) {
                    self.push(
                        Diagnostic::error(
                            "LF888",
                            format!("the assignment names group `{name}`, but the group declared is `{other}`"),
                        )
                        .at(&loc, "differs from the declared group only by case")
                        .help(format!(
                            "write `group = \"{other}\"`, or rename [group.{}]: Landfall would \
                             look `{name}` up as a group that exists already",
                            toml_key(other)
                        )),
                    );
                    return None;
                }
                if let Some(problem) = group_name_problem(name) {
                    self.push(
                        Diagnostic::error("LF883", format!("invalid group display name `{name}`"))
                            .at(&loc, problem)
                            .help("a group's display name as the Identity Store knows it"),
                    );
                    return None;
                }
                // Not declared: an existing group (SCIM, or created by hand), looked up
                // by display name at plan time.
                Some(Principal::Group(name.clone()))
            }
            (None, Some(u)) => {
                let name = u.get_ref();
                let len = name.chars().count();
                let problem = if len == 0 || len > MAX_USER_NAME {
                    Some(format!(
                        "{len} characters; Identity Store allows 1 to {MAX_USER_NAME}"
                    ))
                } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    Some("a user name has no whitespace".to_string())
                } else {
                    address_problem(name)
                };
                if let Some(p) = problem {
                    let loc = self.loc(src, u);
                    self.push(
                        Diagnostic::error("LF885", format!("invalid user name `{name}`"))
                            .at(&loc, p)
                            .help("the user's `UserName` in the Identity Store, e.g. `jane@example.com`"),
                    );
                    return None;
                }
                Some(Principal::User(name.clone()))
            }
            (Some(g), Some(u)) => {
                let (gl, ul) = (self.loc(src, g), self.loc(src, u));
                self.push(
                    Diagnostic::error("LF885", "an assignment has both `group` and `user`")
                        .at(&gl, "a group")
                        .at(&ul, "and a user")
                        .help("an assignment gives access to one principal: write one [[assignment]] for each"),
                );
                None
            }
            (None, None) => {
                if !decl.dropped("group") && !decl.dropped("user") {
                    self.push(
                        Diagnostic::error("LF885", "an assignment has neither `group` nor `user`")
                            .at(&decl.table, "`group` or `user` is required here")
                            .help("add `group = \"DISPLAY NAME\"` (preferred) or `user = \"USER NAME\"`"),
                    );
                }
                None
            }
        }
    }

    /// `(declared target, account, where)` for each account the targets reach.
    fn assignment_targets(
        &mut self,
        src: SourceId,
        targets: &Spanned<Vec<Spanned<String>>>,
        declared: &Declared<'_>,
    ) -> Vec<(Target, String, crate::sources::Loc)> {
        let mut out = Vec::new();
        if targets.get_ref().is_empty() {
            let loc = self.loc(src, targets);
            self.push(
                Diagnostic::error("LF887", "an assignment has no targets")
                    .at(&loc, "empty")
                    .help("list `\"account:NAME\"` or `\"ou:PATH\"` targets"),
            );
        }
        for item in targets.get_ref() {
            let loc = self.loc(src, item);
            let target = match Target::parse(item.get_ref()) {
                Ok(Target::Root) => {
                    self.push(
                        Diagnostic::error("LF887", "an assignment cannot target the root")
                            .at(&loc, "the root")
                            .help(
                                "assign per OU (`ou:PATH`: every account in it and below) or \
                                 per account; the management account is `account:NAME` only \
                                 when it is declared",
                            ),
                    );
                    continue;
                }
                Ok(t) => t,
                Err(e) => {
                    self.push(
                        Diagnostic::error("LF887", format!("`{}` is not a target", item.get_ref()))
                            .at(&loc, e)
                            .help("a target is `ou:PATH` (e.g. `ou:Workloads/Workloads_Dev`) or `account:NAME`"),
                    );
                    continue;
                }
            };
            if !self.target_declared(
                "LF887",
                "an assignment targets",
                &target,
                &loc,
                declared.ous,
                declared.accounts,
            ) {
                continue;
            }
            match &target {
                Target::Account(a) => out.push((target.clone(), a.clone(), loc)),
                Target::Ou(ou) => {
                    let reached: Vec<String> = declared
                        .account_ous
                        .iter()
                        .filter(|(_, o)| o.as_ref().is_some_and(|o| o.is_within(ou)))
                        .map(|(a, _)| a.clone())
                        .collect();
                    if reached.is_empty() {
                        self.push(
                            Diagnostic::warning(
                                "LF913",
                                format!("OU `{ou}` has no declared account: this target assigns nothing"),
                            )
                            .at(&loc, "no account in or below this OU")
                            .help("accounts declared in the OU later get the assignment in the same plan"),
                        );
                    }
                    for a in reached {
                        out.push((target.clone(), a, loc.clone()));
                    }
                }
                Target::Root => {}
            }
        }
        out
    }
}
