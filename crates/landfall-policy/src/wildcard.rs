//! The IAM wildcard matcher: `*` matches any sequence of characters (including
//! none), `?` exactly one character. Patterns are compiled once, when a policy is
//! parsed; matching never allocates unless the pattern holds a policy variable
//! (`${aws:PrincipalTag/team}`), which is substituted from the request first.

use std::collections::BTreeMap;

/// How letters compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
    /// Exact comparison (resources, `StringEquals`, `StringLike`, ARNs).
    Sensitive,
    /// ASCII letters compare without case (action names).
    AsciiInsensitive,
    /// Full Unicode lower-casing on both sides (`StringEqualsIgnoreCase`).
    Unicode,
}

/// What a pattern's text means when compiled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Syntax {
    /// `*` and `?` are wildcards (otherwise they are literal characters).
    pub wildcards: bool,
    /// `${...}` is a policy variable (only in documents of Version 2012-10-17).
    pub variables: bool,
    pub case: Case,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(Box<str>),
    One,
    Star,
}

/// A compiled matcher without variables; the common shapes get a fast path.
#[derive(Debug, Clone)]
enum Matcher {
    Anything,
    Exact(Box<str>),
    Prefix(Box<str>),
    General(Box<[Tok]>),
}

#[derive(Debug, Clone)]
enum Part {
    Tok(Tok),
    /// A policy variable: the (lower-cased) context key and an optional default.
    Var {
        key: Box<str>,
        default: Option<Box<str>>,
    },
}

#[derive(Debug, Clone)]
enum Compiled {
    Static(Matcher),
    Templated(Box<[Part]>),
}

/// A compiled IAM pattern (an action, a resource, or a condition value).
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    case: Case,
    compiled: Compiled,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.case == other.case
    }
}

impl Pattern {
    /// An action pattern: wildcards, ASCII case-insensitive, no variables.
    pub fn action(text: &str) -> Pattern {
        Pattern::compile(
            text,
            Syntax {
                wildcards: true,
                variables: false,
                case: Case::AsciiInsensitive,
            },
        )
    }

    /// A resource pattern: wildcards, case-sensitive, policy variables.
    pub fn resource(text: &str) -> Pattern {
        Pattern::compile(
            text,
            Syntax {
                wildcards: true,
                variables: true,
                case: Case::Sensitive,
            },
        )
    }

    pub(crate) fn compile(text: &str, syntax: Syntax) -> Pattern {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut has_var = false;
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if syntax.variables
                && rest.starts_with("${")
                && let Some(end) = rest.find('}')
            {
                let inner = &rest[2..end];
                rest = &rest[end + 1..];
                match inner {
                    "*" | "?" | "$" => lit.push_str(inner),
                    _ => {
                        flush(&mut lit, &mut parts, syntax.case);
                        let (key, default) = split_variable(inner);
                        parts.push(Part::Var {
                            key: key.to_lowercase().into(),
                            default: default.map(Into::into),
                        });
                        has_var = true;
                    }
                }
                continue;
            }
            rest = &rest[c.len_utf8()..];
            match c {
                '*' if syntax.wildcards => {
                    flush(&mut lit, &mut parts, syntax.case);
                    if !matches!(parts.last(), Some(Part::Tok(Tok::Star))) {
                        parts.push(Part::Tok(Tok::Star));
                    }
                }
                '?' if syntax.wildcards => {
                    flush(&mut lit, &mut parts, syntax.case);
                    parts.push(Part::Tok(Tok::One));
                }
                _ => lit.push(c),
            }
        }
        flush(&mut lit, &mut parts, syntax.case);
        let compiled = if has_var {
            Compiled::Templated(parts.into_boxed_slice())
        } else {
            let toks = parts
                .into_iter()
                .filter_map(|p| match p {
                    Part::Tok(t) => Some(t),
                    Part::Var { .. } => None,
                })
                .collect();
            Compiled::Static(classify(toks))
        };
        Pattern {
            source: text.to_string(),
            case: syntax.case,
            compiled,
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern holds a policy variable.
    pub fn has_variables(&self) -> bool {
        matches!(self.compiled, Compiled::Templated(_))
    }

    /// Whether the pattern matches every string (`*`).
    pub fn matches_everything(&self) -> bool {
        matches!(self.compiled, Compiled::Static(Matcher::Anything))
    }

    /// Matches `text`, without policy variables (a variable never matches).
    pub fn matches(&self, text: &str) -> bool {
        self.matches_in(text, &BTreeMap::new())
    }

    /// Matches `text`, substituting policy variables from `context` (keys
    /// lower-cased). A variable whose key is absent (and has no default), or has
    /// several values, makes the pattern not match.
    pub fn matches_in(&self, text: &str, context: &BTreeMap<String, Vec<String>>) -> bool {
        match &self.compiled {
            Compiled::Static(m) => run(m, text, self.case),
            Compiled::Templated(parts) => {
                let mut toks: Vec<Tok> = Vec::with_capacity(parts.len());
                for part in parts.iter() {
                    match part {
                        Part::Tok(t) => toks.push(t.clone()),
                        Part::Var { key, default } => {
                            let value = match context.get(key.as_ref()).map(Vec::as_slice) {
                                Some([one]) => one.as_str(),
                                Some([]) | None => match default {
                                    Some(d) => d.as_ref(),
                                    None => return false,
                                },
                                Some(_) => return false,
                            };
                            let value = if self.case == Case::Unicode {
                                value.to_lowercase()
                            } else {
                                value.to_string()
                            };
                            toks.push(Tok::Lit(value.into()));
                        }
                    }
                }
                run(&classify(toks), text, self.case)
            }
        }
    }
}

/// `key` or `key, 'default'` (the AWS default-value syntax).
fn split_variable(inner: &str) -> (&str, Option<&str>) {
    if let Some((key, default)) = inner.split_once(',') {
        let default = default.trim();
        if let Some(d) = default
            .strip_prefix('\'')
            .and_then(|d| d.strip_suffix('\''))
        {
            return (key.trim(), Some(d));
        }
    }
    (inner.trim(), None)
}

fn flush(lit: &mut String, parts: &mut Vec<Part>, case: Case) {
    if lit.is_empty() {
        return;
    }
    let text = match case {
        Case::Unicode => lit.to_lowercase(),
        Case::Sensitive | Case::AsciiInsensitive => std::mem::take(lit),
    };
    lit.clear();
    if let Some(Part::Tok(Tok::Lit(prev))) = parts.last_mut() {
        let mut joined = prev.to_string();
        joined.push_str(&text);
        *prev = joined.into();
    } else {
        parts.push(Part::Tok(Tok::Lit(text.into())));
    }
}

fn classify(mut toks: Vec<Tok>) -> Matcher {
    // Merge adjacent literals (substituted variables produce them).
    let mut merged: Vec<Tok> = Vec::with_capacity(toks.len());
    for t in toks.drain(..) {
        match (merged.last_mut(), t) {
            (Some(Tok::Lit(prev)), Tok::Lit(next)) => {
                let mut joined = prev.to_string();
                joined.push_str(&next);
                *prev = joined.into();
            }
            (Some(Tok::Star), Tok::Star) => {}
            (_, t) => merged.push(t),
        }
    }
    match merged.as_slice() {
        [] => Matcher::Exact("".into()),
        [Tok::Star] => Matcher::Anything,
        [Tok::Lit(l)] => Matcher::Exact(l.clone()),
        [Tok::Lit(l), Tok::Star] => Matcher::Prefix(l.clone()),
        _ => Matcher::General(merged.into_boxed_slice()),
    }
}

fn run(m: &Matcher, text: &str, case: Case) -> bool {
    match case {
        Case::Unicode => {
            // Lower-case the text once; literals were lower-cased at compile time.
            if text.chars().all(|c| !c.is_uppercase()) {
                run_bytes(m, text, false)
            } else {
                run_bytes(m, &text.to_lowercase(), false)
            }
        }
        Case::Sensitive => run_bytes(m, text, false),
        Case::AsciiInsensitive => run_bytes(m, text, true),
    }
}

fn run_bytes(m: &Matcher, text: &str, ci: bool) -> bool {
    match m {
        Matcher::Anything => true,
        Matcher::Exact(l) => eq(text.as_bytes(), l.as_bytes(), ci),
        Matcher::Prefix(l) => text
            .as_bytes()
            .get(..l.len())
            .is_some_and(|head| eq(head, l.as_bytes(), ci)),
        Matcher::General(toks) => glob(toks, text, ci),
    }
}

fn eq(a: &[u8], b: &[u8], ci: bool) -> bool {
    if ci {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

fn char_len(text: &str, pos: usize) -> Option<usize> {
    text.get(pos..)?.chars().next().map(char::len_utf8)
}

/// Glob matching with backtracking to the last `*` only (linear in practice).
fn glob(toks: &[Tok], text: &str, ci: bool) -> bool {
    let bytes = text.as_bytes();
    let (mut ti, mut pos) = (0usize, 0usize);
    let mut back: Option<(usize, usize)> = None;
    loop {
        match toks.get(ti) {
            Some(Tok::Star) => {
                back = Some((ti + 1, pos));
                ti += 1;
                continue;
            }
            Some(Tok::One) => {
                if let Some(n) = char_len(text, pos) {
                    pos += n;
                    ti += 1;
                    continue;
                }
            }
            Some(Tok::Lit(l)) => {
                let end = pos + l.len();
                if bytes.get(pos..end).is_some_and(|s| eq(s, l.as_bytes(), ci)) {
                    pos = end;
                    ti += 1;
                    continue;
                }
            }
            None if pos == bytes.len() => return true,
            None => {}
        }
        let Some((bti, bpos)) = back else {
            return false;
        };
        let Some(n) = char_len(text, bpos) else {
            return false;
        };
        back = Some((bti, bpos + n));
        ti = bti;
        pos = bpos + n;
    }
}

/// Matches `text` against the IAM wildcard `pattern` (`*`, `?`), optionally
/// ignoring ASCII case, without compiling it first.
pub fn wildcard_match(pattern: &str, text: &str, ignore_ascii_case: bool) -> bool {
    Pattern::compile(
        pattern,
        Syntax {
            wildcards: true,
            variables: false,
            case: if ignore_ascii_case {
                Case::AsciiInsensitive
            } else {
                Case::Sensitive
            },
        },
    )
    .matches(text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_lowercase(), vec![v.to_string()]))
            .collect()
    }

    #[test]
    fn star_and_question_mark() {
        assert!(wildcard_match("*", "", false));
        assert!(wildcard_match("*", "anything:at/all", false));
        assert!(wildcard_match("s3:Get*", "s3:GetObject", false));
        assert!(wildcard_match("s3:Get*", "s3:Get", false));
        assert!(!wildcard_match("s3:Get*", "s3:PutObject", false));
        assert!(wildcard_match("*Object", "s3:GetObject", false));
        assert!(wildcard_match("s3:*Object*", "s3:GetObjectAcl", false));
        assert!(wildcard_match("ec2:Describe?", "ec2:DescribeX", false));
        assert!(!wildcard_match("ec2:Describe?", "ec2:Describe", false));
        assert!(!wildcard_match("ec2:Describe?", "ec2:DescribeXY", false));
        assert!(wildcard_match("a*b*c", "aXXbYYbZZc", false));
        assert!(!wildcard_match("a*b*c", "aXXbYYbZZ", false));
        assert!(wildcard_match("a**?", "ab", false));
        assert!(!wildcard_match("", "a", false));
        assert!(wildcard_match("", "", false));
        assert!(wildcard_match("?é?", "aéb", false));
        assert!(wildcard_match("*:role/*", "arn:aws:iam::1:role/x", false));
    }

    #[test]
    fn backtracking_is_correct() {
        assert!(wildcard_match("*ab", "aab", false));
        assert!(wildcard_match("*aab*", "aaab", false));
        assert!(wildcard_match("*a?c", "abcaxc", false));
        assert!(!wildcard_match("*a?c", "abcaxd", false));
        assert!(wildcard_match("?*?", "ab", false));
        assert!(!wildcard_match("?*?", "a", false));
    }

    #[test]
    fn case_rules() {
        assert!(Pattern::action("S3:getobject").matches("s3:GetObject"));
        assert!(Pattern::action("sagemaker:Create*").matches("SageMaker:createendpoint"));
        assert!(Pattern::action("ec2:?un*").matches("EC2:RUNINSTANCES"));
        assert!(!Pattern::resource("arn:aws:s3:::Bucket/*").matches("arn:aws:s3:::bucket/x"));
        assert!(Pattern::resource("arn:aws:s3:::Bucket/*").matches("arn:aws:s3:::Bucket/x"));
        let ic = Pattern::compile(
            "JohnDoe",
            Syntax {
                wildcards: false,
                variables: true,
                case: Case::Unicode,
            },
        );
        assert!(ic.matches("johndoe"));
        assert!(ic.matches("JOHNDOE"));
        assert!(!ic.matches("john"));
    }

    #[test]
    fn literal_syntax_keeps_wildcard_characters() {
        let p = Pattern::compile(
            "a*b",
            Syntax {
                wildcards: false,
                variables: true,
                case: Case::Sensitive,
            },
        );
        assert!(p.matches("a*b"));
        assert!(!p.matches("aXb"));
    }

    #[test]
    fn fast_paths() {
        assert!(Pattern::action("*").matches_everything());
        assert!(!Pattern::action("s3:*").matches_everything());
        assert!(Pattern::action("s3:*").matches("s3:x"));
        assert!(!Pattern::action("s3:*").matches("s"));
    }

    #[test]
    fn policy_variables() {
        let p = Pattern::resource("arn:aws:s3:::home/${aws:username}/*");
        assert!(p.has_variables());
        let c = ctx(&[("aws:userName", "alice")]);
        assert!(p.matches_in("arn:aws:s3:::home/alice/notes", &c));
        assert!(!p.matches_in("arn:aws:s3:::home/bob/notes", &c));
        // Missing variable: no match, even against the literal text.
        assert!(!p.matches("arn:aws:s3:::home/${aws:username}/x"));
        // A substituted value is literal: its `*` is no wildcard.
        let star = ctx(&[("aws:username", "*")]);
        assert!(!p.matches_in("arn:aws:s3:::home/alice/x", &star));
        assert!(p.matches_in("arn:aws:s3:::home/*/x", &star));
        // Default values and escapes.
        let d = Pattern::resource("arn:aws:s3:::${aws:PrincipalTag/team, 'shared'}/${*}");
        assert!(d.matches("arn:aws:s3:::shared/*"));
        assert!(!d.matches("arn:aws:s3:::shared/x"));
        // Several values: cannot substitute.
        let mut multi = BTreeMap::new();
        multi.insert("aws:username".to_string(), vec!["a".into(), "b".into()]);
        assert!(!p.matches_in("arn:aws:s3:::home/a/x", &multi));
        // Without variables, `${` is literal text.
        assert!(Pattern::action("a${b}").matches("A${B}"));
    }
}
