//! Checks of an SCP's JSON document: syntax (pointing at the line and column inside
//! the JSON), the policy grammar AWS enforces for SCPs, and the size quota, which
//! AWS counts on the document as sent, so Landfall measures the minified form.

use std::ops::Range;

use landfall_core::model::minify_json;

use crate::diagnostics::{Diagnostic, Sink};
use crate::sources::{Loc, offset_of};
use crate::suggest::{closest, did_you_mean, one_of};
use landfall_policy::json::{self, Kind, Member, Node};

const TOP_LEVEL: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT: &[&str] = &[
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];
const VERSIONS: &[&str] = &["2012-10-17", "2008-10-17"];

/// A policy document and how to point into it.
pub(crate) struct Document<'a> {
    /// The SCP's name, for messages.
    pub name: &'a str,
    pub text: &'a str,
    /// Maps a byte range of `text` to a place in a source (the JSON file itself, or
    /// the TOML string an inline document was written in).
    pub locate: &'a dyn Fn(Range<usize>) -> Loc,
    /// Where the document as a whole is declared (`content = ...` / `file = ...`).
    pub declared_at: &'a Loc,
}

/// Checks a document; returns it minified when it has no problem.
pub(crate) fn check(doc: &Document<'_>, max_chars: usize, sink: &mut Sink) -> Option<String> {
    let minified = match minify_json(doc.text) {
        Ok(m) => m,
        Err(e) => {
            sink.push(json_syntax_error(doc, &e));
            return None;
        }
    };
    let mut checker = Checker {
        doc,
        sink,
        failed: false,
    };
    if let Some(root) = json::parse(doc.text) {
        checker.document(&root);
    }
    let size = minified.chars().count();
    if size > max_chars {
        checker.error(
            Diagnostic::error(
                "LF408",
                format!(
                    "SCP `{}` is {size} characters after minification; the limit is {max_chars}",
                    doc.name
                ),
            )
            .at(doc.declared_at, format!("{size} > {max_chars} characters"))
            .help(
                "split the policy into several SCPs, or shorten it (wildcards in actions, \
                 fewer statements); raise `scp_max_chars` in [landing_zone.quotas] only if \
                 AWS raised your quota",
            ),
        );
    }
    // The linter runs even when the grammar checks failed, so one `validate` shows every
    // problem of a policy, not the lint's share one round later.
    let grammar_failed = checker.failed;
    checker.lint(grammar_failed);
    (!checker.failed).then_some(minified)
}

/// Lint findings of `landfall-policy` the grammar checks above make in their own words
/// (syntax, size), never repeated.
const LINT_COVERED: &[&str] = &["json-syntax", "too-large"];

/// The findings only the linter makes: after a grammar error, only these are added (the
/// linter's other findings restate the grammar checks' errors).
const LINT_ONLY: &[&str] = &[
    "duplicate-sid",
    "duplicate-key",
    "invalid-sid",
    "unknown-operator",
    "invalid-condition",
    "invalid-condition-value",
    "condition-key-format",
    "invalid-action",
    "invalid-resource",
    "resource-and-not-resource",
    "never-matches",
];

impl Checker<'_, '_> {
    fn lint(&mut self, grammar_failed: bool) {
        let findings = landfall_policy::lint(self.doc.name, self.doc.text, usize::MAX);
        for f in findings {
            if LINT_COVERED.contains(&f.code) || (grammar_failed && !LINT_ONLY.contains(&f.code)) {
                continue;
            }
            let loc = match &f.offset {
                Some(range) => self.at(range.clone()),
                None => self.doc.declared_at.clone(),
            };
            let label = format!("{} ({})", f.code, f.pointer);
            match f.severity {
                landfall_policy::Severity::Error => self.error(
                    Diagnostic::error("LF414", format!("SCP `{}`: {}", self.doc.name, f.message))
                        .at(&loc, label)
                        .help("AWS rejects this policy, or it does not do what it says; see the IAM JSON policy reference"),
                ),
                landfall_policy::Severity::Warning => self.sink.push(
                    Diagnostic::warning("LF908", format!("SCP `{}`: {}", self.doc.name, f.message))
                        .at(&loc, label),
                ),
            }
        }
    }
}

/// Where in `text` a serde_json syntax error is (one character) and its reason
/// without serde_json's " at line L column C" suffix (the snippet shows that).
pub(crate) fn syntax_error_place(text: &str, e: &serde_json::Error) -> (Range<usize>, String) {
    let offset = offset_of(text, e.line(), e.column());
    let end = text[offset..]
        .chars()
        .next()
        .map(|c| offset + c.len_utf8())
        .unwrap_or(offset);
    let message = e.to_string();
    let reason = message
        .rsplit_once(" at line ")
        .map(|(r, _)| r.to_string())
        .unwrap_or(message);
    (offset..end, reason)
}

fn json_syntax_error(doc: &Document<'_>, e: &serde_json::Error) -> Diagnostic {
    let (span, reason) = syntax_error_place(doc.text, e);
    Diagnostic::error(
        "LF403",
        format!(
            "the policy document of SCP `{}` is not valid JSON",
            doc.name
        ),
    )
    .at(&(doc.locate)(span), reason)
    .help("check for a missing comma or quote, or a trailing comma, just before this point")
}

struct Checker<'a, 'd> {
    doc: &'a Document<'d>,
    sink: &'a mut Sink,
    failed: bool,
}

impl Checker<'_, '_> {
    fn error(&mut self, d: Diagnostic) {
        self.failed = true;
        self.sink.push(d);
    }

    fn at(&self, span: Range<usize>) -> Loc {
        (self.doc.locate)(span)
    }

    fn document(&mut self, root: &Node) {
        let name = self.doc.name;
        let Kind::Object(members) = &root.kind else {
            let loc = self.at(root.opening());
            self.error(
                Diagnostic::error(
                    "LF404",
                    format!("the policy of SCP `{name}` is not a JSON object"),
                )
                .at(&loc, "expected `{`")
                .help(r#"a policy looks like {"Version": "2012-10-17", "Statement": [...]}"#),
            );
            return;
        };
        let misspelt = self.unknown_elements(members, TOP_LEVEL, "a policy document");
        match find(members, "Version") {
            None if misspelt.contains(&"Version") => {}
            None => {
                let loc = self.at(root.opening());
                self.error(
                    Diagnostic::error(
                        "LF404",
                        format!("the policy of SCP `{name}` has no `Version`"),
                    )
                    .at(&loc, "this document has no `Version`")
                    .help(r#"add "Version": "2012-10-17""#),
                );
            }
            Some(m) if !m.value.as_str().is_some_and(|v| VERSIONS.contains(&v)) => {
                let loc = self.at(m.value.span.clone());
                self.error(
                    Diagnostic::error("LF404", format!("SCP `{name}` has an invalid `Version`"))
                        .at(&loc, format!("expected {}", one_of(VERSIONS)))
                        .help(r#"write "Version": "2012-10-17""#),
                );
            }
            Some(_) => {}
        }
        let Some(statement) = find(members, "Statement") else {
            if misspelt.contains(&"Statement") {
                return;
            }
            let loc = self.at(root.opening());
            self.error(
                Diagnostic::error(
                    "LF404",
                    format!("the policy of SCP `{name}` has no `Statement`"),
                )
                .at(&loc, "this document has no `Statement`")
                .help(r#"add "Statement": [{"Effect": "Deny", "Action": [...], "Resource": "*"}]"#),
            );
            return;
        };
        match &statement.value.kind {
            Kind::Object(_) => self.statement(&statement.value, 1),
            Kind::Array(items) if items.is_empty() => {
                let loc = self.at(statement.value.span.clone());
                self.error(
                    Diagnostic::error("LF404", format!("SCP `{name}` has no statements"))
                        .at(&loc, "empty")
                        .help("a policy needs at least one statement"),
                );
            }
            Kind::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.statement(item, i + 1);
                }
            }
            _ => {
                let loc = self.at(statement.value.span.clone());
                self.error(
                    Diagnostic::error(
                        "LF404",
                        format!("the `Statement` of SCP `{name}` is not a list of statements"),
                    )
                    .at(&loc, "expected an object or an array of objects"),
                );
            }
        }
    }

    fn statement(&mut self, node: &Node, number: usize) {
        let name = self.doc.name;
        let Kind::Object(members) = &node.kind else {
            let loc = self.at(node.span.clone());
            self.error(
                Diagnostic::error(
                    "LF404",
                    format!("statement {number} of SCP `{name}` is not a JSON object"),
                )
                .at(&loc, "expected an object"),
            );
            return;
        };
        for key in ["Principal", "NotPrincipal"] {
            if let Some(m) = find(members, key) {
                let loc = self.at(m.key_span.clone());
                self.error(
                    Diagnostic::error(
                        "LF407",
                        format!("statement {number} of SCP `{name}` has a `{key}` element"),
                    )
                    .at(&loc, "not allowed in an SCP")
                    .help(
                        "an SCP applies to every principal of the accounts it is attached to; \
                             remove it (to exempt principals, use a Condition on aws:PrincipalArn)",
                    ),
                );
            }
        }
        let known: Vec<&Member> = members
            .iter()
            .filter(|m| m.key != "Principal" && m.key != "NotPrincipal")
            .collect();
        let misspelt = self.unknown_elements(known, STATEMENT, "a statement");
        match find(members, "Effect") {
            None if misspelt.contains(&"Effect") => {}
            None => {
                let loc = self.at(node.opening());
                self.error(
                    Diagnostic::error(
                        "LF405",
                        format!("statement {number} of SCP `{name}` has no `Effect`"),
                    )
                    .at(&loc, "no `Effect` in this statement")
                    .help(r#"add "Effect": "Deny" (or "Allow")"#),
                );
            }
            Some(m) => {
                let value = m.value.as_str();
                if !matches!(value, Some("Allow" | "Deny")) {
                    let loc = self.at(m.value.span.clone());
                    self.error(
                        Diagnostic::error(
                            "LF405",
                            format!("statement {number} of SCP `{name}` has an invalid `Effect`"),
                        )
                        .at(&loc, "expected `Allow` or `Deny`")
                        .maybe_help(value.and_then(|v| did_you_mean(v, ["Allow", "Deny"]))),
                    );
                }
            }
        }
        let action = find(members, "Action");
        let not_action = find(members, "NotAction");
        match (action, not_action) {
            (None, None) if misspelt.contains(&"Action") || misspelt.contains(&"NotAction") => {}
            (None, None) => {
                let loc = self.at(node.opening());
                self.error(
                    Diagnostic::error(
                        "LF406",
                        format!("statement {number} of SCP `{name}` has neither `Action` nor `NotAction`"),
                    )
                    .at(&loc, "no `Action` in this statement")
                    .help(r#"add "Action": ["service:Operation", ...]"#),
                );
            }
            (Some(_), Some(n)) => {
                let loc = self.at(n.key_span.clone());
                self.error(
                    Diagnostic::error(
                        "LF406",
                        format!(
                            "statement {number} of SCP `{name}` has both `Action` and `NotAction`"
                        ),
                    )
                    .at(&loc, "remove this or `Action`"),
                );
            }
            (Some(m), None) | (None, Some(m)) => self.action_list(m, number),
        }
    }

    /// `Action` / `NotAction`: a string or a non-empty array of strings.
    fn action_list(&mut self, m: &Member, number: usize) {
        let ok = match &m.value.kind {
            Kind::String(s) => !s.is_empty(),
            Kind::Array(items) => {
                !items.is_empty()
                    && items
                        .iter()
                        .all(|i| i.as_str().is_some_and(|s| !s.is_empty()))
            }
            _ => false,
        };
        if !ok {
            let loc = self.at(m.value.span.clone());
            self.error(
                Diagnostic::error(
                    "LF406",
                    format!(
                        "statement {number} of SCP `{}` has an invalid `{}`",
                        self.doc.name, m.key
                    ),
                )
                .at(&loc, "expected an action or a non-empty list of actions")
                .help(r#"actions look like "s3:PutObject" or "sagemaker:*""#),
            );
        }
    }

    /// Reports elements not in `allowed`; returns the allowed names they look like
    /// misspellings of, so "missing X" is not reported on top of "unknown Xx".
    fn unknown_elements<'m, 'n>(
        &mut self,
        members: impl IntoIterator<Item = &'m Member>,
        allowed: &[&'n str],
        what: &str,
    ) -> Vec<&'n str> {
        let mut misspelt = Vec::new();
        for m in members {
            if !allowed.contains(&m.key.as_str()) {
                misspelt.extend(closest(&m.key, allowed.iter().copied()));
                let loc = self.at(m.key_span.clone());
                self.error(
                    Diagnostic::error(
                        "LF404",
                        format!(
                            "`{}` is not an element of {what} (SCP `{}`)",
                            m.key, self.doc.name
                        ),
                    )
                    .at(&loc, "unknown element")
                    .maybe_help(did_you_mean(&m.key, allowed.iter().copied()))
                    .help(format!("the elements of {what} are {}", one_of(allowed))),
                );
            }
        }
        misspelt
    }
}

fn find<'a>(members: &'a [Member], key: &str) -> Option<&'a Member> {
    members.iter().find(|m| m.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::SourceMap;

    fn codes(text: &str, max: usize) -> (Vec<&'static str>, Option<String>) {
        let mut sources = SourceMap::default();
        let id = sources.add("p.json", text);
        let whole = Loc::new(id, 0..text.len());
        let locate = |span: Range<usize>| Loc::new(id, span);
        let doc = Document {
            name: "p",
            text,
            locate: &locate,
            declared_at: &whole,
        };
        let mut sink = Sink::default();
        let out = check(&doc, max, &mut sink);
        let diags = sink.finish(sources);
        (diags.iter().map(|d| d.code).collect(), out)
    }

    const GOOD: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]
}"#;

    #[test]
    fn a_good_policy_is_minified() {
        let (codes, out) = codes(GOOD, 10_240);
        assert!(codes.is_empty(), "{codes:?}");
        assert_eq!(
            out.as_deref(),
            Some(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#
            )
        );
    }

    #[test]
    fn size_is_measured_after_minification() {
        let (codes, _) = codes(GOOD, 50);
        assert_eq!(codes, vec!["LF408"]);
    }

    #[test]
    fn grammar_problems() {
        assert_eq!(codes("[1]", 100).0, vec!["LF404"]);
        assert_eq!(codes(r#"{"Statement": []}"#, 100).0, vec!["LF404", "LF404"]);
        let (mut c, _) = codes(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"deny","Principal":"*","Resource":"*"}}"#,
            1000,
        );
        c.sort();
        assert_eq!(c, vec!["LF405", "LF406", "LF407"]);
    }

    #[test]
    fn syntax_errors_point_inside_the_json() {
        let mut sources = SourceMap::default();
        let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [,]\n}";
        let id = sources.add("p.json", text);
        let whole = Loc::new(id, 0..text.len());
        let locate = |span: Range<usize>| Loc::new(id, span);
        let doc = Document {
            name: "p",
            text,
            locate: &locate,
            declared_at: &whole,
        };
        let mut sink = Sink::default();
        assert!(check(&doc, 1000, &mut sink).is_none());
        let diags = sink.finish(sources);
        let d = diags.iter().next();
        assert_eq!(
            d.map(|d| (d.code, d.line, d.column)),
            Some(("LF403", 3, 17))
        );
    }
}
