//! A permission set's inline policy: a JSON document written in the TOML string or a
//! JSON file beside it (read like SCP and key policies, errors located inside the
//! JSON), linted with the identity-policy grammar, measured against Identity Center's
//! quota (32,768 bytes, 10,240 non-whitespace characters), stored canonical.

use std::ops::Range;

use landfall_core::model::{canonical_json, minify_json};
use landfall_policy::Finding;
use serde_spanned::Spanned;

use crate::diagnostics::Diagnostic;
use crate::scp::syntax_error_place;
use crate::sources::{Loc, SourceId};
use crate::validator::Validator;

/// `PutInlinePolicyToPermissionSet`'s `InlinePolicy` length limit (bytes) and the
/// quotas page's "maximum size of non-whitespace characters in the inline policy".
pub(crate) const MAX_BYTES: usize = 32_768;
pub(crate) const MAX_NON_WHITESPACE: usize = 10_240;

/// Maps a byte range of the document to a place in a source.
type Locator = Box<dyn Fn(Range<usize>) -> Loc>;

/// Lint findings this module reports in its own words (syntax, size).
const COVERED: &[&str] = &["json-syntax", "too-large"];

/// The linter's findings for an identity policy: IAM's identity-policy grammar (no
/// `Principal`, `Resource` or `NotResource` required, alphanumeric Sids).
pub(crate) fn lint(name: &str, text: &str) -> Vec<Finding> {
    landfall_policy::lint_as(
        landfall_policy::PolicyKind::Identity,
        name,
        text,
        usize::MAX,
    )
}

/// The quota problem of a canonical document, if any.
pub(crate) fn size_problem(canonical: &str) -> Option<String> {
    let bytes = canonical.len();
    let non_ws = canonical.chars().filter(|c| !c.is_whitespace()).count();
    if bytes > MAX_BYTES {
        Some(format!("{bytes} bytes; Identity Center allows {MAX_BYTES}"))
    } else if non_ws > MAX_NON_WHITESPACE {
        Some(format!(
            "{non_ws} characters other than whitespace; Identity Center allows {MAX_NON_WHITESPACE}"
        ))
    } else {
        None
    }
}

impl Validator<'_> {
    /// Reads and checks the inline policy of permission set `set`; the canonical
    /// document when it is valid. Text starting with `{` is the document itself;
    /// anything else is a file path relative to the TOML file.
    pub(crate) fn inline_policy(
        &mut self,
        src: SourceId,
        value: &Spanned<String>,
        set: &str,
    ) -> Option<String> {
        let owner = format!("permission set `{set}`");
        let declared_at = self.loc(src, value);
        let (text, locate): (String, Locator) = if value.get_ref().trim_start().starts_with('{') {
            let locate = self.inline_locator(src, value);
            (value.get_ref().clone(), Box::new(locate))
        } else {
            let json = self.policy_file(
                src,
                value,
                &owner,
                "LF878",
                "`inline_policy` is a JSON document (starting with `{`) or a JSON file \
                     relative to the TOML file that declares the permission set",
            )?;
            let text = self.sources.text(json).to_string();
            (text, Box::new(move |span| Loc::new(json, span)))
        };
        let minified = match minify_json(&text) {
            Ok(m) => m,
            Err(e) => {
                let (span, reason) = syntax_error_place(&text, &e);
                self.push(
                    Diagnostic::error(
                        "LF879",
                        format!("the inline policy of {owner} is not valid JSON"),
                    )
                    .at(&locate(span), reason)
                    .help(
                        "check for a missing comma or quote, or a trailing comma, just before \
                         this point",
                    ),
                );
                return None;
            }
        };
        let mut ok = true;
        for f in lint(set, &text) {
            if COVERED.contains(&f.code) {
                continue;
            }
            let loc = match &f.offset {
                Some(range) => locate(range.clone()),
                None => declared_at.clone(),
            };
            let label = format!("{} ({})", f.code, f.pointer);
            let message = format!("the inline policy of {owner}: {}", f.message);
            match f.severity {
                landfall_policy::Severity::Error => {
                    ok = false;
                    self.push(Diagnostic::error("LF879", message).at(&loc, label).help(
                        "IAM rejects this identity policy, or it does not do what it says; see \
                         the IAM JSON policy reference",
                    ));
                }
                landfall_policy::Severity::Warning => {
                    self.push(Diagnostic::warning("LF908", message).at(&loc, label));
                }
            }
        }
        let canonical = canonical_json(&minified);
        if let Some(problem) = size_problem(&canonical) {
            ok = false;
            self.push(
                Diagnostic::error(
                    "LF880",
                    format!("the inline policy of {owner} is too large"),
                )
                .at(&declared_at, problem)
                .help(
                    "Identity Center allows one inline policy per permission set; move \
                     statements into customer-managed policies (`customer_managed_policies`) \
                     or use AWS-managed ones",
                ),
            );
        }
        ok.then_some(canonical)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_counts_bytes_and_non_whitespace_characters() {
        assert_eq!(size_problem(r#"{"a":"b"}"#), None);
        let long = format!(r#"{{"a":"{}"}}"#, "x".repeat(MAX_NON_WHITESPACE));
        assert!(size_problem(&long).is_some_and(|p| p.contains("other than whitespace")));
        let spaced = format!(r#"{{"a":"{}"}}"#, " ".repeat(MAX_BYTES));
        assert!(size_problem(&spaced).is_some_and(|p| p.contains("bytes")));
    }
}
