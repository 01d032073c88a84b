//! Checks of a resource policy document (VPC endpoint policy, KMS key policy): valid
//! JSON (errors located inside the JSON, as for SCPs), the outline of a policy (a JSON
//! object with a `Statement`), and the size quota, measured on the minified document
//! with `${account_id}` and `${region}` replaced as they will be when applied.
//!
//! The IAM grammar of statements is left to AWS: unlike SCPs, these documents name
//! principals and conditions in many service-specific forms.

use std::ops::Range;

use landfall_core::model::{minify_json, substitute};

use crate::diagnostics::{Diagnostic, Sink};
use crate::scp::syntax_error_place;
use crate::sources::Loc;
use landfall_policy::json::{self, Kind, Node};

/// A policy document and how to point into it.
pub(crate) struct PolicyDoc<'a> {
    /// What it is, for messages: "the endpoint policy of network `x`".
    pub what: &'a str,
    pub text: &'a str,
    /// Maps a byte range of `text` to a place (the JSON file, or the TOML string).
    pub locate: &'a dyn Fn(Range<usize>) -> Loc,
    /// Where the document as a whole is declared (`policy = ...` / `policy_file = ...`).
    pub declared_at: &'a Loc,
    /// The region it is applied in (`${region}` for the size check).
    pub region: &'a str,
}

/// The codes and quota a kind of document is checked with.
pub(crate) struct Rules {
    /// Invalid JSON, or not a policy.
    pub invalid: &'static str,
    /// Too large.
    pub too_large: &'static str,
    pub max: usize,
    /// Measure bytes (KMS) rather than characters (VPC endpoints).
    pub bytes: bool,
    /// The `[landing_zone.quotas]` key of `max`.
    pub quota: &'static str,
    /// A policy file not found or unreadable.
    pub file_missing: &'static str,
}

/// An account id as long as any real one, for measuring.
const SAMPLE_ACCOUNT_ID: &str = "123456789012";

/// A document that passed the checks.
pub(crate) struct Checked {
    /// Minified, placeholders kept.
    pub minified: String,
    /// Where its `Statement` element is (for checks of its statements).
    pub statement_at: Loc,
}

/// Checks a document; returns it minified when it has no problem.
pub(crate) fn check(doc: &PolicyDoc<'_>, rules: &Rules, sink: &mut Sink) -> Option<Checked> {
    let minified = match minify_json(doc.text) {
        Ok(m) => m,
        Err(e) => {
            let (span, reason) = syntax_error_place(doc.text, &e);
            sink.push(
                Diagnostic::error(rules.invalid, format!("{} is not valid JSON", doc.what))
                    .at(&(doc.locate)(span), reason)
                    .help(
                        "check for a missing comma or quote, or a trailing comma, just before \
                         this point; `${account_id}` and `${region}` go inside JSON strings",
                    ),
            );
            return None;
        }
    };
    let mut ok = true;
    let root = json::parse(doc.text);
    let statement_at = root
        .as_ref()
        .and_then(|r| match &r.kind {
            Kind::Object(members) => members.iter().find(|m| m.key == "Statement"),
            _ => None,
        })
        .map(|m| (doc.locate)(m.key_span.clone()))
        .unwrap_or_else(|| doc.declared_at.clone());
    if let Some(root) = &root
        && let Some((span, label)) = outline_problem(root)
    {
        ok = false;
        sink.push(
            Diagnostic::error(rules.invalid, format!("{} is not a policy document", doc.what))
                .at(&(doc.locate)(span), label)
                .help(
                    r#"a policy looks like {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": ..., "Action": ..., "Resource": "*"}]}"#,
                ),
        );
    }
    let applied = substitute(&minified, SAMPLE_ACCOUNT_ID, doc.region);
    let (size, unit) = if rules.bytes {
        (applied.len(), "bytes")
    } else {
        (applied.chars().count(), "characters")
    };
    if size > rules.max {
        ok = false;
        let max = rules.max;
        sink.push(
            Diagnostic::error(
                rules.too_large,
                format!(
                    "{} is {size} {unit} after minification; the limit is {max}",
                    doc.what
                ),
            )
            .at(doc.declared_at, format!("{size} > {max} {unit}"))
            .help(format!(
                "shorten it (fewer statements, wildcards in actions and resources); raise \
                 `{}` in [landing_zone.quotas] only if AWS's limit is higher for you",
                rules.quota
            )),
        );
    }
    ok.then_some(Checked {
        minified,
        statement_at,
    })
}

/// A policy is a JSON object whose `Statement` is an object or a non-empty array of
/// objects.
fn outline_problem(root: &Node) -> Option<(Range<usize>, &'static str)> {
    let Kind::Object(members) = &root.kind else {
        return Some((root.opening(), "expected a JSON object"));
    };
    let Some(statement) = members.iter().find(|m| m.key == "Statement") else {
        return Some((root.opening(), "this document has no `Statement`"));
    };
    match &statement.value.kind {
        Kind::Object(_) => None,
        Kind::Array(items) if items.is_empty() => {
            Some((statement.value.span.clone(), "no statements"))
        }
        Kind::Array(items) => items
            .iter()
            .find(|i| !matches!(i.kind, Kind::Object(_)))
            .map(|i| (i.span.clone(), "a statement is a JSON object")),
        _ => Some((
            statement.value.span.clone(),
            "expected an object or an array of objects",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::SourceMap;

    fn run(text: &str, max: usize, bytes: bool) -> (Vec<(&'static str, u32, u32)>, Option<String>) {
        let mut sources = SourceMap::default();
        let id = sources.add("p.json", text);
        let whole = Loc::new(id, 0..text.len());
        let locate = |span: Range<usize>| Loc::new(id, span);
        let doc = PolicyDoc {
            what: "the policy",
            text,
            locate: &locate,
            declared_at: &whole,
            region: "us-east-1",
        };
        let rules = Rules {
            invalid: "LF613",
            too_large: "LF614",
            max,
            bytes,
            quota: "q",
            file_missing: "LF617",
        };
        let mut sink = Sink::default();
        let out = check(&doc, &rules, &mut sink).map(|c| c.minified);
        let diags = sink.finish(sources);
        (
            diags.iter().map(|d| (d.code, d.line, d.column)).collect(),
            out,
        )
    }

    const GOOD: &str = r#"{
  "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": "arn:aws:s3:::bucket-${account_id}-${region}/*"}]
}"#;

    #[test]
    fn a_good_policy_is_minified_with_its_placeholders() {
        let (codes, out) = run(GOOD, 1000, false);
        assert!(codes.is_empty(), "{codes:?}");
        assert_eq!(
            out.as_deref(),
            Some(
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket-${account_id}-${region}/*"}]}"#
            )
        );
    }

    #[test]
    fn syntax_errors_are_located_inside_the_json() {
        let (codes, out) = run(
            "{\n  \"Statement\": [\n    {\"Effect\": \"Allow\",}\n  ]\n}",
            1000,
            false,
        );
        assert_eq!(codes, vec![("LF613", 3, 24)]);
        assert!(out.is_none());
    }

    #[test]
    fn the_outline_is_checked() {
        assert_eq!(run("[]", 100, false).0, vec![("LF613", 1, 1)]);
        assert_eq!(run("{\"Version\":\"2012-10-17\"}", 100, false).0.len(), 1);
        assert_eq!(run("{\"Statement\":[]}", 100, false).0.len(), 1);
        assert_eq!(run("{\"Statement\":[1]}", 100, false).0.len(), 1);
        assert_eq!(run("{\"Statement\":{}}", 100, false).0.len(), 0);
    }

    #[test]
    fn size_counts_the_document_as_applied() {
        // Minified: 149 characters with placeholders; `${account_id}` (13) becomes 12
        // digits and `${region}` (9) `us-east-1` (9).
        let minified_len = run(GOOD, 1000, false).1.map(|m| m.len()).unwrap_or(0);
        let applied = minified_len - 1;
        assert!(run(GOOD, applied, false).0.is_empty());
        assert_eq!(
            run(GOOD, applied - 1, false).0.first().map(|c| c.0),
            Some("LF614")
        );
        // Bytes, not characters, for KMS.
        let text = "{\"Statement\":{\"Sid\":\"é\"}}";
        assert!(run(text, 25, false).0.is_empty());
        assert_eq!(run(text, 25, true).0.len(), 1);
    }
}
