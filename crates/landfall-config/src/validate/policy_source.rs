//! Where a policy document is read from: an inline TOML string (its byte ranges
//! mapped back through escapes into the TOML file) or a JSON file (read once, as a
//! new source diagnostics can point into); and the resource policies (VPC endpoint,
//! KMS key) read that way and checked by `policy_doc`.

use std::ops::Range;

use serde_spanned::Spanned;

use crate::diagnostics::Diagnostic;
use crate::policy_doc;
use crate::sources::{Loc, SourceId, resolve_relative};
use crate::toml_string;
use crate::validator::Validator;

/// Where a resource policy document is written.
#[derive(Clone, Copy)]
pub(crate) enum PolicySource<'r> {
    /// Inline: `policy = "{...}"`.
    Inline(&'r Spanned<String>),
    /// A JSON file: `policy_file = "policies/x.json"`.
    File(&'r Spanned<String>),
}

impl Validator<'_> {
    /// Maps byte ranges of an inline document (the value of a TOML string) to places
    /// in the TOML file, escapes and multi-line strings included; the whole string
    /// when the mapping is unknown.
    pub(crate) fn inline_locator(
        &self,
        src: SourceId,
        content: &Spanned<String>,
    ) -> impl Fn(Range<usize>) -> Loc + use<> {
        let declared_at = self.loc(src, content);
        let raw_text = self.sources.slice(&declared_at).to_string();
        let offsets = toml_string::offsets(&raw_text, content.get_ref());
        let start = declared_at.span.start;
        move |span: Range<usize>| -> Loc {
            let mapped = offsets.as_ref().and_then(|o| {
                let a = *o.get(span.start)?;
                let b = *o.get(span.end)?;
                Some(start + a..start + b.max(a))
            });
            match mapped {
                Some(s) => Loc::new(src, s),
                None => declared_at.clone(),
            }
        }
    }

    /// Reads and checks a resource policy document (VPC endpoint, KMS key), inline
    /// or from a file; the minified document when it is valid. Messages call it "the
    /// `kind` of `owner`" ("the key policy of KMS key `x`").
    pub(crate) fn resource_policy(
        &mut self,
        src: SourceId,
        source: PolicySource<'_>,
        owner: &str,
        kind: &str,
        rules: &policy_doc::Rules,
        region: &str,
    ) -> Option<policy_doc::Checked> {
        let what = &format!("the {kind} of {owner}");
        match source {
            PolicySource::Inline(content) => {
                let declared_at = self.loc(src, content);
                let locate = self.inline_locator(src, content);
                let doc = policy_doc::PolicyDoc {
                    what,
                    text: content.get_ref(),
                    locate: &locate,
                    declared_at: &declared_at,
                    region,
                };
                policy_doc::check(&doc, rules, self.sink)
            }
            PolicySource::File(file) => {
                let declared_at = self.loc(src, file);
                let json_source = self.policy_file(
                    src,
                    file,
                    owner,
                    rules.file_missing,
                    "policy files are relative to the TOML file that names them",
                )?;
                let text = self.sources.text(json_source).to_string();
                let locate = |span: Range<usize>| Loc::new(json_source, span);
                let doc = policy_doc::PolicyDoc {
                    what,
                    text: &text,
                    locate: &locate,
                    declared_at: &declared_at,
                    region,
                };
                policy_doc::check(&doc, rules, self.sink)
            }
        }
    }

    /// Reads a policy file (once, however many declarations use it) as a new source.
    /// `owner` names what the policy belongs to ("SCP `x`").
    pub(crate) fn policy_file(
        &mut self,
        src: SourceId,
        file: &Spanned<String>,
        owner: &str,
        code: &'static str,
        help: &str,
    ) -> Option<SourceId> {
        let path = resolve_relative(self.base_dir, self.sources.name(src), file.get_ref());
        let display = path.display().to_string();
        if let Some(id) = self.sources.find(&display) {
            return Some(id);
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                self.read.push(path);
                Some(self.sources.add(display, text))
            }
            Err(e) => {
                let loc = self.loc(src, file);
                let (message, label) = if e.kind() == std::io::ErrorKind::NotFound {
                    (
                        format!("policy file of {owner} not found"),
                        format!("no file at `{display}`"),
                    )
                } else {
                    (
                        format!("cannot read the policy file of {owner}"),
                        format!("`{display}`: {e}"),
                    )
                };
                self.push(Diagnostic::error(code, message).at(&loc, label).help(help));
                None
            }
        }
    }
}
