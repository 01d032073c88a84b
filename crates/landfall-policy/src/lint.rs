//! The lint: what a finding is ([`Finding`], its [`Severity`]) and the checks
//! beyond the grammar that produce them: a `Sid` used twice, statements that can
//! never match (`NotAction`/`NotResource` of everything, conditions that contradict
//! each other), ARN condition values that match no ARN, and the size limit.
//!
//! The parser's one pass (`parse.rs`) calls each check when it reaches the element
//! the check is about, so findings come out in document order. For the same reason
//! [`crate::lint()`], which runs that pass keeping every finding, lives in `parse.rs`
//! next to [`crate::parse()`]: this module does not import the parser that imports it.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::condition::{BaseOperator, Cmp, Condition, SetQualifier};
use crate::json::pointer;
use crate::wildcard::Pattern;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// A problem in a policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// A stable identifier (see the crate documentation for the list).
    pub code: &'static str,
    pub message: String,
    /// JSON pointer to the element, e.g. `/Statement/1/Condition`; empty for the
    /// whole document.
    pub pointer: String,
    /// Byte range in the JSON text, when known.
    pub offset: Option<Range<usize>>,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}]: {}", self.severity, self.code, self.message)?;
        if !self.pointer.is_empty() {
            write!(f, " (at {})", self.pointer)?;
        }
        Ok(())
    }
}

impl Finding {
    fn warning(code: &'static str, message: String, pointer: &str, span: Range<usize>) -> Self {
        Finding {
            severity: Severity::Warning,
            code,
            message,
            pointer: pointer.to_string(),
            offset: Some(span),
        }
    }
}

/// The `Sid`s of a document's statements so far, each with its statement's pointer.
#[derive(Default)]
pub(crate) struct Sids(BTreeMap<String, String>);

impl Sids {
    /// Records the `Sid` of the statement at `statement`; a `duplicate-sid` error
    /// when an earlier statement has it already (AWS rejects the document).
    pub(crate) fn check(
        &mut self,
        policy: &str,
        sid: &str,
        statement: &str,
        span: Range<usize>,
    ) -> Option<Finding> {
        if let Some(first) = self.0.get(sid) {
            return Some(Finding {
                severity: Severity::Error,
                code: "duplicate-sid",
                message: format!(
                    "Sid `{sid}` is used twice in policy `{policy}` (first at {first})"
                ),
                pointer: pointer(statement, "Sid"),
                offset: Some(span),
            });
        }
        self.0.insert(sid.to_string(), statement.to_string());
        None
    }
}

/// `NotAction` or `NotResource` (`element`) listing `value`, a pattern that matches
/// every action or resource (`kind`): the statement never applies.
pub(crate) fn excludes_everything(
    element: &str,
    kind: &str,
    value: &str,
    pattern: &Pattern,
    pointer: &str,
    span: Range<usize>,
) -> Option<Finding> {
    pattern.matches_everything().then(|| {
        Finding::warning(
            "never-matches",
            format!(
                "`{element}` lists `{value}`, which matches every {kind}: the statement never applies"
            ),
            pointer,
            span,
        )
    })
}

/// ARN condition values with more than one part but fewer than six: they match no
/// ARN. `spans` are the values' pointers and places, in order.
pub(crate) fn arn_values(c: &Condition, spans: &[(String, Range<usize>)]) -> Vec<Finding> {
    use BaseOperator::*;
    if !matches!(
        c.operator.base,
        ArnEquals | ArnLike | ArnNotEquals | ArnNotLike
    ) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (v, (p, span)) in c.values.iter().zip(spans) {
        let colons = v.split(':').count();
        if colons > 1 && colons < 6 {
            out.push(Finding::warning(
                "invalid-condition-value",
                format!("`{v}` is not an ARN pattern of six parts (arn:partition:service:region:account:resource): it matches no ARN"),
                p,
                span.clone(),
            ));
        }
    }
    out
}

/// Cheap contradictions between a statement's conditions on the same key, each
/// reported at the `Condition` element (`ptr`, `span`).
pub(crate) fn contradictions(conds: &[Condition], ptr: &str, span: Range<usize>) -> Vec<Finding> {
    let plain = |c: &Condition| c.operator.qualifier.is_none() && !c.operator.if_exists;
    let mut out = Vec::new();
    for (i, a) in conds.iter().enumerate() {
        for b in &conds[i + 1..] {
            if a.lookup != b.lookup {
                continue;
            }
            let reason = null_vs_presence(a, b)
                .or_else(|| null_vs_presence(b, a))
                .or_else(|| {
                    (plain(a) && plain(b))
                        .then(|| equal_vs_not(a, b).or_else(|| equal_vs_not(b, a)))
                        .flatten()
                })
                .or_else(|| (plain(a) && plain(b)).then(|| empty_range(a, b)).flatten());
            if let Some(reason) = reason {
                out.push(Finding::warning(
                    "never-matches",
                    format!("the conditions on `{}` can never all hold ({reason}): the statement never applies", a.key),
                    ptr,
                    span.clone(),
                ));
            }
        }
    }
    out
}

/// `Null: true` (key absent) with an operator that needs the key present.
fn null_vs_presence(null: &Condition, other: &Condition) -> Option<String> {
    let absent_only = null.operator.base == BaseOperator::Null
        && !null.values.is_empty()
        && null.values.iter().all(|v| v.eq_ignore_ascii_case("true"));
    let needs_presence = other.operator.base != BaseOperator::Null
        && !other.operator.base.is_negated()
        && !other.operator.if_exists
        && other.operator.qualifier != Some(SetQualifier::ForAllValues);
    (absent_only && needs_presence).then(|| {
        format!(
            "`Null: true` requires the key absent, `{}` requires it present",
            other.operator.name()
        )
    })
}

/// `StringEquals` values all excluded by `StringNotEquals` (and the like).
fn equal_vs_not(pos: &Condition, neg: &Condition) -> Option<String> {
    use BaseOperator::*;
    let pair = matches!(
        (pos.operator.base, neg.operator.base),
        (StringEquals, StringNotEquals)
            | (StringEqualsIgnoreCase, StringNotEqualsIgnoreCase)
            | (StringLike, StringNotLike)
    );
    if !pair {
        return None;
    }
    let (p, n) = (pos.literal_strings()?, neg.literal_strings()?);
    let fold = pos.operator.base == StringEqualsIgnoreCase;
    let covered = p.iter().all(|v| {
        n.iter().any(|w| {
            if fold {
                v.to_lowercase() == w.to_lowercase()
            } else {
                v == w
            }
        })
    });
    covered.then(|| {
        format!(
            "every value `{}` accepts, `{}` rejects",
            pos.operator.name(),
            neg.operator.name()
        )
    })
}

/// A lower bound at or above an upper bound (numeric or date).
fn empty_range(a: &Condition, b: &Condition) -> Option<String> {
    let (da, ca, va) = a.bounds()?;
    let (db, cb, vb) = b.bounds()?;
    if da != db {
        return None;
    }
    let lower = |c: Cmp, v: &[f64]| match c {
        Cmp::Gt | Cmp::Ge => v
            .iter()
            .copied()
            .reduce(f64::min)
            .map(|x| (x, c == Cmp::Gt)),
        _ => None,
    };
    let upper = |c: Cmp, v: &[f64]| match c {
        Cmp::Lt | Cmp::Le => v
            .iter()
            .copied()
            .reduce(f64::max)
            .map(|x| (x, c == Cmp::Lt)),
        _ => None,
    };
    let ((lo, lo_strict), (hi, hi_strict)) = match (lower(ca, va), upper(cb, vb)) {
        (Some(l), Some(h)) => (l, h),
        _ => (lower(cb, vb)?, upper(ca, va)?),
    };
    let empty = lo > hi || (lo == hi && (lo_strict || hi_strict));
    empty.then(|| "the lower bound is not below the upper bound".to_string())
}

/// A document over `max_chars` characters, counted on the minified document (as
/// Landfall sends it); nothing when the text is not JSON (reported already).
pub(crate) fn too_large(name: &str, json: &str, max_chars: usize) -> Option<Finding> {
    let value = serde_json::from_str::<serde_json::Value>(json).ok()?;
    let size = value.to_string().chars().count();
    (size > max_chars).then(|| Finding {
        severity: Severity::Error,
        code: "too-large",
        message: format!(
            "policy `{name}` is {size} characters after minification; the limit is {max_chars}"
        ),
        pointer: String::new(),
        offset: None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use crate::{lint, parse};

    #[test]
    fn never_matching_statements_warn() {
        let text = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Deny","NotAction":["*"],"Resource":"*"},
            {"Effect":"Deny","Action":"s3:*","NotResource":"*"},
            {"Effect":"Deny","Action":"s3:*","Condition":{"Null":{"s3:x":"true"},"StringEquals":{"s3:x":"a"}}},
            {"Effect":"Deny","Action":"s3:*","Condition":{"StringEquals":{"aws:RequestedRegion":"a"},"StringNotEquals":{"aws:requestedregion":["a","b"]}}},
            {"Effect":"Deny","Action":"s3:*","Condition":{"NumericGreaterThan":{"s3:max-keys":"10"},"NumericLessThanEquals":{"s3:max-keys":"10"}}},
            {"Effect":"Deny","Action":"s3:*","Condition":{"NumericGreaterThan":{"s3:max-keys":"10"},"NumericLessThan":{"s3:max-keys":"11"}}},
            {"Effect":"Deny","Action":"s3:*","Condition":{"Null":{"s3:x":"true"},"StringNotEquals":{"s3:x":"a"}}}
        ]}"#;
        let never: Vec<String> = lint("p", text, 10_000)
            .into_iter()
            .filter(|f| f.code == "never-matches")
            .map(|f| f.pointer)
            .collect();
        assert_eq!(
            never,
            [
                "/Statement/0/NotAction/0",
                "/Statement/1/NotResource",
                "/Statement/2/Condition",
                "/Statement/3/Condition",
                "/Statement/4/Condition",
            ]
        );
        // Warnings do not stop parsing.
        assert!(parse("p", text).is_ok());
    }
}
