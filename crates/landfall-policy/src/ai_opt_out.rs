//! AWS Organizations AI services opt-out policies: the grammar, checked with located
//! findings (JSON pointer and byte range), like [`crate::tag_policy`].
//!
//! The syntax (AWS Organizations User Guide, "AI services opt-out policy syntax and
//! examples", and "Understanding management policy inheritance"):
//!
//! ```json
//! {"services": {
//!     "default": {"opt_out_policy": {"@@assign": "optOut"}},
//!     "rekognition": {"opt_out_policy": {
//!         "@@operators_allowed_for_child_policies": ["@@none"],
//!         "@@assign": "optIn"}}}}
//! ```
//!
//! - the document holds `services` only;
//! - `services` holds service names ([`AI_SERVICES`]; `default` stands for every AI
//!   service, present and future) and `@@operators_allowed_for_child_policies`;
//! - a service holds `opt_out_policy` and `@@operators_allowed_for_child_policies`;
//! - `opt_out_policy` holds `@@assign` with `optOut` or `optIn` (case matters: AWS
//!   says the policy does not work with other capitalization) and
//!   `@@operators_allowed_for_child_policies`. `@@append` and `@@remove` are tag and
//!   backup policy operators, not accepted here;
//! - `@@operators_allowed_for_child_policies` is a list of `@@all`, `@@assign` or
//!   `@@none` (`@@all` and `@@none` stand alone);
//! - the minified document is at most [`AI_OPT_OUT_MAX_CHARS`] characters.
//!
//! # Finding codes
//!
//! Errors: `json-syntax`, `not-an-object`, `unknown-element`, `duplicate-key`,
//! `unknown-service` (the message suggests the closest known name),
//! `unknown-operator`, `operator-not-allowed`, `invalid-value`, `missing-setting`
//! (a service without `opt_out_policy`, or `opt_out_policy` without `@@assign`),
//! `too-large`.

use std::ops::Range;

use crate::json::{self, Kind, Member, Node, pointer};
use crate::lint::{Finding, Severity, too_large};

/// The size quota of an AI services opt-out policy ("Quotas for AWS Organizations":
/// 2,500 characters), counted on the minified document like the other types.
pub const AI_OPT_OUT_MAX_CHARS: usize = 2_500;

/// The service name keys AWS lists as valid under `services` ("AI services opt-out
/// policy syntax and examples"), `default` included. AWS adds services over time:
/// a name missing here is refused with its closest match, so the list moves with the
/// documentation.
pub const AI_SERVICES: &[&str] = &[
    "default",
    "aidevops",
    "aiops",
    "awssupplychain",
    "chimesdkvoiceanalytics",
    "cloudwatch",
    "codeguruprofiler",
    "codewhisperer",
    "comprehend",
    "connectamd",
    "connectoptimization",
    "contactlens",
    "datazone",
    "frauddetector",
    "guardduty",
    "lex",
    "polly",
    "q",
    "quicksightq",
    "rekognition",
    "securitylake",
    "supportplans",
    "textract",
    "transcribe",
    "translate",
];

/// The values of `@@assign` in `opt_out_policy`.
pub const OPT_OUT_VALUES: &[&str] = &["optOut", "optIn"];

const CHILDREN: &str = "@@operators_allowed_for_child_policies";
const CHILD_OPERATORS: &[&str] = &["@@all", "@@assign", "@@none"];

/// Every finding of an AI services opt-out policy, the size quota included, in
/// document order (the size last).
pub fn lint_ai_opt_out_policy(name: &str, text: &str) -> Vec<Finding> {
    let mut a = Analyzer {
        findings: Vec::new(),
    };
    if let Some((reason, at)) = json::syntax_error(text) {
        a.error(
            "json-syntax",
            format!("AI services opt-out policy `{name}` is not valid JSON: {reason}"),
            "",
            at,
        );
        return a.findings;
    }
    let Some(root) = json::parse(text) else {
        a.error(
            "json-syntax",
            format!("AI services opt-out policy `{name}` could not be read"),
            "",
            0..text.len(),
        );
        return a.findings;
    };
    a.document(&root);
    a.findings
        .extend(too_large(name, text, AI_OPT_OUT_MAX_CHARS));
    a.findings
}

/// The closest service name of [`AI_SERVICES`] to `name`, when one is close (a
/// different case, or at most two edits away).
pub fn closest_service(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    if let Some(s) = AI_SERVICES.iter().find(|s| **s == lower) {
        return Some(s);
    }
    AI_SERVICES
        .iter()
        .map(|s| (edit_distance(&lower, s), *s))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, s)| s)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

struct Analyzer {
    findings: Vec<Finding>,
}

impl Analyzer {
    fn error(&mut self, code: &'static str, message: String, at: &str, span: Range<usize>) {
        self.findings.push(Finding {
            severity: Severity::Error,
            code,
            message,
            pointer: at.to_string(),
            offset: Some(span),
        });
    }

    fn object<'n>(&mut self, node: &'n Node, at: &str, what: &str) -> Option<&'n [Member]> {
        match &node.kind {
            Kind::Object(members) => {
                for (i, m) in members.iter().enumerate() {
                    if members[..i].iter().any(|o| o.key == m.key) {
                        self.error(
                            "duplicate-key",
                            format!("`{}` appears twice", m.key),
                            &pointer(at, &m.key),
                            m.key_span.clone(),
                        );
                    }
                }
                Some(members)
            }
            _ => {
                self.error(
                    "not-an-object",
                    format!("{what} must be a JSON object"),
                    at,
                    node.span.clone(),
                );
                None
            }
        }
    }

    fn document(&mut self, root: &Node) {
        let Some(members) = self.object(root, "", "an AI services opt-out policy") else {
            return;
        };
        let mut services = None;
        for m in members {
            if m.key == "services" {
                services = Some(&m.value);
            } else {
                self.error(
                    "unknown-element",
                    format!(
                        "`{}` is not an element of an AI services opt-out policy (only `services`)",
                        m.key
                    ),
                    &pointer("", &m.key),
                    m.key_span.clone(),
                );
            }
        }
        let Some(services) = services else {
            self.error(
                "unknown-element",
                "an AI services opt-out policy has a `services` object".to_string(),
                "",
                root.opening(),
            );
            return;
        };
        let Some(members) = self.object(services, "/services", "`services`") else {
            return;
        };
        for m in members {
            let at = pointer("/services", &m.key);
            if m.key == CHILDREN {
                self.children(&m.value, &at);
            } else if m.key.starts_with("@@") {
                self.misplaced_operator(m, &at, "`services`");
            } else if AI_SERVICES.contains(&m.key.as_str()) {
                self.service(m, &at);
            } else {
                let hint = closest_service(&m.key)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                self.error(
                    "unknown-service",
                    format!(
                        "`{}` is not an AI service of opt-out policies{hint}; the names are {}",
                        m.key,
                        AI_SERVICES.join(", ")
                    ),
                    &at,
                    m.key_span.clone(),
                );
            }
        }
    }

    fn service(&mut self, service: &Member, at: &str) {
        let what = format!("service `{}`", service.key);
        let Some(members) = self.object(&service.value, at, &what) else {
            return;
        };
        let mut policy = None;
        for m in members {
            let here = pointer(at, &m.key);
            if m.key == "opt_out_policy" {
                policy = Some(m);
            } else if m.key == CHILDREN {
                self.children(&m.value, &here);
            } else if m.key.starts_with("@@") {
                self.misplaced_operator(m, &here, &what);
            } else {
                self.error(
                    "unknown-element",
                    format!(
                        "`{}` is not an element of {what} (only `opt_out_policy`)",
                        m.key
                    ),
                    &here,
                    m.key_span.clone(),
                );
            }
        }
        match policy {
            Some(p) => self.opt_out_policy(p, &pointer(at, "opt_out_policy")),
            None => self.error(
                "missing-setting",
                format!("{what} has no `opt_out_policy`"),
                at,
                service.key_span.clone(),
            ),
        }
    }

    fn opt_out_policy(&mut self, policy: &Member, at: &str) {
        let Some(members) = self.object(&policy.value, at, "`opt_out_policy`") else {
            return;
        };
        let mut assigned = false;
        for m in members {
            let here = pointer(at, &m.key);
            match m.key.as_str() {
                "@@assign" => {
                    assigned = true;
                    self.assign(&m.value, &here);
                }
                CHILDREN => self.children(&m.value, &here),
                "@@append" | "@@remove" => self.error(
                    "operator-not-allowed",
                    format!(
                        "`{}` is a tag and backup policy operator; AI services opt-out policies set a value with `@@assign` only",
                        m.key
                    ),
                    &here,
                    m.key_span.clone(),
                ),
                key if key.starts_with("@@") => self.error(
                    "unknown-operator",
                    format!("`{key}` is not an operator of AI services opt-out policies (`@@assign`, `{CHILDREN}`)"),
                    &here,
                    m.key_span.clone(),
                ),
                key => self.error(
                    "unknown-element",
                    format!("`{key}` is not an element of `opt_out_policy` (only `@@assign` and `{CHILDREN}`)"),
                    &here,
                    m.key_span.clone(),
                ),
            }
        }
        if !assigned {
            self.error(
                "missing-setting",
                "`opt_out_policy` has no `@@assign`".to_string(),
                at,
                policy.key_span.clone(),
            );
        }
    }

    fn assign(&mut self, value: &Node, at: &str) {
        let Kind::String(s) = &value.kind else {
            self.error(
                "invalid-value",
                "`@@assign` is a string, `optOut` or `optIn`".to_string(),
                at,
                value.span.clone(),
            );
            return;
        };
        if OPT_OUT_VALUES.contains(&s.as_str()) {
            return;
        }
        let hint = OPT_OUT_VALUES
            .iter()
            .find(|v| {
                v.eq_ignore_ascii_case(s) || v.eq_ignore_ascii_case(&s.replace(['_', '-', ' '], ""))
            })
            .map(|v| format!(" (did you mean `{v}`? capitalization matters)"))
            .unwrap_or_default();
        self.error(
            "invalid-value",
            format!("`{s}` is not `optOut` or `optIn`{hint}"),
            at,
            value.span.clone(),
        );
    }

    fn children(&mut self, value: &Node, at: &str) {
        let Kind::Array(items) = &value.kind else {
            self.error(
                "invalid-value",
                format!("`{CHILDREN}` is a list of `@@all`, `@@assign` or `@@none`"),
                at,
                value.span.clone(),
            );
            return;
        };
        let mut values = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let here = format!("{at}/{i}");
            match item.as_str() {
                Some(s) if CHILD_OPERATORS.contains(&s) => values.push(s),
                Some(s) => self.error(
                    "invalid-value",
                    format!(
                        "`{s}` is not an operator child policies may be allowed (`@@all`, `@@assign`, `@@none`)"
                    ),
                    &here,
                    item.span.clone(),
                ),
                None => self.error(
                    "invalid-value",
                    format!("`{CHILDREN}` holds strings"),
                    &here,
                    item.span.clone(),
                ),
            }
        }
        if values.len() > 1 && values.iter().any(|v| *v == "@@all" || *v == "@@none") {
            self.error(
                "invalid-value",
                "`@@all` and `@@none` stand alone in the list".to_string(),
                at,
                value.span.clone(),
            );
        }
    }

    fn misplaced_operator(&mut self, m: &Member, at: &str, place: &str) {
        let code = if matches!(m.key.as_str(), "@@assign" | "@@append" | "@@remove") {
            "operator-not-allowed"
        } else {
            "unknown-operator"
        };
        self.error(
            code,
            format!(
                "`{}` cannot stand in {place}: `@@assign` goes inside `opt_out_policy`",
                m.key
            ),
            at,
            m.key_span.clone(),
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn codes(text: &str) -> Vec<(&'static str, String)> {
        lint_ai_opt_out_policy("p", text)
            .into_iter()
            .map(|f| (f.code, f.pointer))
            .collect()
    }

    /// The fixtures: AWS's examples are valid; each invalid one has its finding.
    #[test]
    fn fixtures() {
        let valid = [
            include_str!("../tests/ai_opt_out/aws-basic.json"),
            include_str!("../tests/ai_opt_out/aws-default-with-exemptions.json"),
            include_str!("../tests/ai_opt_out/opt-out-all-locked.json"),
        ];
        for text in valid {
            assert_eq!(codes(text), vec![], "{text}");
        }
        let invalid = include_str!("../tests/ai_opt_out/invalid.json");
        let found = codes(invalid);
        for expected in [
            ("unknown-service", "/services/rekognitoin"),
            ("invalid-value", "/services/lex/opt_out_policy/@@assign"),
            (
                "operator-not-allowed",
                "/services/polly/opt_out_policy/@@append",
            ),
            ("missing-setting", "/services/textract"),
            (
                "invalid-value",
                "/services/default/opt_out_policy/@@operators_allowed_for_child_policies/1",
            ),
            ("unknown-element", "/version"),
        ] {
            assert!(
                found.contains(&(expected.0, expected.1.to_string())),
                "{expected:?} not in {found:?}"
            );
        }
        assert_eq!(found.len(), 6, "{found:?}");
    }

    #[test]
    fn findings_point_at_the_offending_text() {
        let text = r#"{"services":{"lex":{"opt_out_policy":{"@@assign":"optout"}}}}"#;
        let f = lint_ai_opt_out_policy("p", text);
        assert_eq!(f.len(), 1);
        let span = f[0].offset.clone().unwrap();
        assert_eq!(&text[span], "\"optout\"");
        assert!(
            f[0].message.contains("did you mean `optOut`"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn unknown_services_suggest_the_closest_name() {
        assert_eq!(closest_service("Rekognition"), Some("rekognition"));
        assert_eq!(closest_service("transcibe"), Some("transcribe"));
        assert_eq!(closest_service("sagemaker"), None);
        let f = lint_ai_opt_out_policy(
            "p",
            r#"{"services":{"sagemaker":{"opt_out_policy":{"@@assign":"optOut"}}}}"#,
        );
        assert_eq!(f[0].code, "unknown-service");
        assert!(!f[0].message.contains("did you mean"));
    }

    #[test]
    fn structure_errors() {
        assert_eq!(codes("[]"), vec![("not-an-object", String::new())]);
        assert_eq!(codes("{}"), vec![("unknown-element", String::new())]);
        assert_eq!(
            codes("{\"services\":"),
            vec![("json-syntax", String::new())]
        );
        assert_eq!(
            codes(r#"{"services":{"lex":{"opt_out_policy":{}}}}"#),
            vec![("missing-setting", "/services/lex/opt_out_policy".into())]
        );
        assert_eq!(
            codes(r#"{"services":{"@@assign":"optOut"}}"#),
            vec![("operator-not-allowed", "/services/@@assign".into())]
        );
        assert_eq!(
            codes(
                r#"{"services":{"lex":{"opt_out_policy":{"@@assign":"optIn","@@assign":"optOut"}}}}"#
            ),
            vec![(
                "duplicate-key",
                "/services/lex/opt_out_policy/@@assign".into()
            )]
        );
        assert_eq!(
            codes(r#"{"services":{"lex":{"opt_out_policy":{"@@assign":true}}}}"#),
            vec![(
                "invalid-value",
                "/services/lex/opt_out_policy/@@assign".into()
            )]
        );
        assert_eq!(
            codes(
                r#"{"services":{"@@operators_allowed_for_child_policies":["@@none","@@assign"]}}"#
            ),
            vec![(
                "invalid-value",
                "/services/@@operators_allowed_for_child_policies".into()
            )]
        );
    }

    #[test]
    fn size_quota_is_2500_characters_minified() {
        // Distinct (unknown) service names: serde_json keeps one of equal keys, and
        // the size is measured on the minified document.
        let services: Vec<String> = (0..60)
            .map(|i| format!(r#""svc{i:03}":{{"opt_out_policy":{{"@@assign":"optOut"}}}}"#))
            .collect();
        let text = format!(r#"{{"services":{{{}}}}}"#, services.join(","));
        assert!(text.len() > AI_OPT_OUT_MAX_CHARS);
        let found = codes(&text);
        assert!(found.iter().any(|(c, _)| *c == "too-large"), "{found:?}");
        let entry = r#""lex":{"opt_out_policy":{"@@assign":"optOut"}}"#;
        let small = format!(r#"{{"services":{{{entry}}}}}"#);
        assert!(codes(&small).is_empty());
    }
}
