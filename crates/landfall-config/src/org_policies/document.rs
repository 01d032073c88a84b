//! An organization policy's document: read from `content`, `file` or `preset`
//! (exactly one), checked with its type's grammar (located findings inside the JSON)
//! and its type's size quota, minified for AWS.

use std::ops::Range;

use landfall_core::model::{OrgPolicyType, minify_json};
use landfall_policy::{Finding, PolicyKind, Severity};
use serde_spanned::Spanned;

use crate::diagnostics::Diagnostic;
use crate::parse::Decl;
use crate::raw::RawOrgPolicy;
use crate::sources::Loc;
use crate::suggest::did_you_mean;
use crate::validator::Validator;

use super::{presets, quotas};

/// Maps a byte range of the document to a place in a source.
type Locator = Box<dyn Fn(Range<usize>) -> Loc>;

/// Every grammar finding of a document of `policy_type`, in document order. The size
/// is checked by [`check`] in its own words, so the linters' size findings are left
/// out (the RCP linter is given no limit).
pub(crate) fn lint(policy_type: OrgPolicyType, name: &str, text: &str) -> Vec<Finding> {
    let findings = match policy_type {
        OrgPolicyType::Rcp => landfall_policy::lint_as(PolicyKind::Rcp, name, text, usize::MAX),
        OrgPolicyType::Tag => landfall_policy::lint_tag_policy(name, text),
        OrgPolicyType::AiOptOut => landfall_policy::lint_ai_opt_out_policy(name, text),
    };
    findings
        .into_iter()
        .filter(|f| f.code != "too-large")
        .collect()
}

/// The diagnostic code of a type's grammar errors, and what AWS's documentation
/// calls its syntax (for the hint).
fn grammar(policy_type: OrgPolicyType) -> (&'static str, &'static str) {
    match policy_type {
        OrgPolicyType::Rcp => (
            "LF924",
            "AWS refuses this resource control policy (AWS Organizations User Guide, \"RCP syntax\": Deny statements only, `Principal` \"*\", actions of the services RCPs support)",
        ),
        OrgPolicyType::Tag => (
            "LF925",
            "AWS refuses this tag policy, or it does not do what it says (AWS Organizations User Guide, \"Tag policy syntax and examples\")",
        ),
        OrgPolicyType::AiOptOut => (
            "LF926",
            "AWS refuses this AI services opt-out policy (AWS Organizations User Guide, \"AI services opt-out policy syntax and examples\")",
        ),
    }
}

impl Validator<'_> {
    /// Reads and checks the document of `[TYPE.NAME]`; the minified document when it
    /// is valid.
    pub(super) fn org_policy_document(
        &mut self,
        policy_type: OrgPolicyType,
        decl: &Decl<RawOrgPolicy>,
        raw: &RawOrgPolicy,
    ) -> Option<String> {
        let src = decl.key.source;
        let name = &decl.name;
        let owner = format!("{} `{name}`", policy_type.noun());
        let given: Vec<(&str, &Spanned<String>)> = [
            ("content", raw.content.as_ref()),
            ("file", raw.file.as_ref()),
            ("preset", raw.preset.as_ref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect();
        if raw.organization_id.is_some() && raw.preset.is_none() {
            let loc = self.loc(src, raw.organization_id.as_ref()?);
            self.push(
                Diagnostic::error("LF932", format!("{owner} has `organization_id` but no `preset`"))
                    .at(&loc, "only a preset reads it")
                    .help("`organization_id` fills in the `data_perimeter` preset; a document written in `content` or `file` names the organization itself"),
            );
        }
        let (text, locate, declared_at): (String, Locator, Loc) = match given.as_slice() {
            [] if ["content", "file", "preset"]
                .iter()
                .any(|k| decl.dropped(k)) =>
            {
                return None;
            }
            [] => {
                self.push(
                    Diagnostic::error("LF922", format!("{owner} has no policy document"))
                        .at(&decl.table, "none of `content`, `file` and `preset`")
                        .help(format!(
                            "add `file = \"policies/NAME.json\"`, `content = '''{{ ... }}'''`, or a preset ({})",
                            presets::names_of(policy_type).join(", ")
                        )),
                );
                return None;
            }
            [("content", content)] => {
                let locate = self.inline_locator(src, content);
                (
                    content.get_ref().clone(),
                    Box::new(locate),
                    self.loc(src, *content),
                )
            }
            [("file", file)] => {
                let json = self.policy_file(
                    src,
                    file,
                    &owner,
                    "LF923",
                    &format!(
                        "`file` is relative to the TOML file that declares the {}",
                        policy_type.noun()
                    ),
                )?;
                let text = self.sources.text(json).to_string();
                (
                    text,
                    Box::new(move |span| Loc::new(json, span)),
                    self.loc(src, *file),
                )
            }
            [(_, preset)] => {
                let loc = self.loc(src, *preset);
                let text = self.org_policy_preset(policy_type, &owner, preset, &loc, raw)?;
                let at = loc.clone();
                (text, Box::new(move |_| at.clone()), loc)
            }
            [first, rest @ ..] => {
                let mut d = Diagnostic::error(
                    "LF922",
                    format!("{owner} has more than one policy document"),
                )
                .at(&self.loc(src, first.1), format!("`{}` here", first.0));
                for (k, v) in rest {
                    d = d.at(&self.loc(src, *v), format!("and `{k}` here"));
                }
                self.push(d.help("keep exactly one of `content`, `file` and `preset`"));
                return None;
            }
        };
        self.org_policy_check(policy_type, &owner, name, &text, &*locate, &declared_at)
    }

    /// The text of a preset, `${organization_id}` filled in; `None` (reported) when
    /// the preset is unknown, of another type, or lacks its organization id.
    fn org_policy_preset(
        &mut self,
        policy_type: OrgPolicyType,
        owner: &str,
        preset: &Spanned<String>,
        loc: &Loc,
        raw: &RawOrgPolicy,
    ) -> Option<String> {
        let value = preset.get_ref();
        let own = presets::names_of(policy_type);
        let found = presets::find(value).filter(|p| p.policy_type == policy_type);
        let Some(found) = found else {
            let mut d = Diagnostic::error("LF931", format!("{owner}: unknown preset `{value}`"))
                .at(loc, format!("not a {} preset", policy_type.noun()));
            if let Some(other) = presets::find(value) {
                d = d.help(format!(
                    "`{value}` is a {} preset: declare it as [{}.NAME]",
                    other.policy_type.noun(),
                    other.policy_type.key()
                ));
            } else {
                d = d.maybe_help(did_you_mean(value, own.iter().copied()));
            }
            self.push(d.help(format!(
                "the {} presets are: {}",
                policy_type.noun(),
                own.join(", ")
            )));
            return None;
        };
        if !found.needs_organization_id {
            if let Some(id) = &raw.organization_id {
                let at = self.loc(loc.source, id);
                self.push(
                    Diagnostic::error(
                        "LF932",
                        format!("preset `{value}` does not name the organization"),
                    )
                    .at(&at, "`organization_id` is not read")
                    .help("remove `organization_id`"),
                );
                return None;
            }
            return Some(found.text.to_string());
        }
        // Without an id the document keeps `${organization_id}`: Landfall fills in
        // the organization's own when it plans (Organizations substitutes no
        // variables, so what AWS receives names the organization).
        let Some(id) = &raw.organization_id else {
            return Some(found.text.to_string());
        };
        if let Some(problem) = presets::organization_id_problem(id.get_ref()) {
            let at = self.loc(loc.source, id);
            self.push(
                Diagnostic::error(
                    "LF932",
                    format!("`{}` is not an organization id", id.get_ref()),
                )
                .at(&at, problem)
                .help("e.g. `organization_id = \"o-a1b2c3d4e5\"`"),
            );
            return None;
        }
        Some(
            found
                .text
                .replace(presets::ORGANIZATION_ID_VARIABLE, id.get_ref()),
        )
    }

    /// Checks a document with its type's grammar and size quota; minified when valid.
    fn org_policy_check(
        &mut self,
        policy_type: OrgPolicyType,
        owner: &str,
        name: &str,
        text: &str,
        locate: &dyn Fn(Range<usize>) -> Loc,
        declared_at: &Loc,
    ) -> Option<String> {
        let (code, help) = grammar(policy_type);
        let mut ok = true;
        for f in lint(policy_type, name, text) {
            let loc = match &f.offset {
                Some(range) => locate(range.clone()),
                None => declared_at.clone(),
            };
            let label = if f.pointer.is_empty() {
                f.code.to_string()
            } else {
                format!("{} ({})", f.code, f.pointer)
            };
            let message = format!("{owner}: {}", f.message);
            match f.severity {
                Severity::Error => {
                    ok = false;
                    self.push(Diagnostic::error(code, message).at(&loc, label).help(help));
                }
                Severity::Warning => {
                    self.push(Diagnostic::warning("LF908", message).at(&loc, label));
                }
            }
        }
        let minified = minify_json(text).ok()?;
        let size = minified.chars().count();
        let max = quotas::max_chars(policy_type);
        if size > max {
            ok = false;
            self.push(
                Diagnostic::error(
                    "LF927",
                    format!("{owner} is {size} characters after minification; the limit is {max}"),
                )
                .at(declared_at, format!("{size} > {max} characters"))
                .help(format!(
                    "Organizations' quota for a {} document (\"Quotas for AWS Organizations\"); split it into several policies or shorten it",
                    policy_type.noun()
                )),
            );
        }
        ok.then_some(minified)
    }
}
