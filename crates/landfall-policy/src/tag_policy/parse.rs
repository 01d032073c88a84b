//! Parsing a tag policy document with located findings (JSON pointer and byte range
//! of the offending element), using the span-keeping reader of [`crate::json`].

use std::collections::BTreeMap;
use std::ops::Range;

use super::{AllowedOperators, KeySetting, ListSetting, SettingName, TagPolicy, TagRule};
use crate::json::{self, Kind, Member, Node, pointer};
use crate::lint::{Finding, Severity, too_large};

/// The size quota of a tag policy ("Quotas for AWS Organizations": 10,000
/// characters), counted on the minified document like the SCP limit.
pub const TAG_POLICY_MAX_CHARS: usize = 10_000;

const CHILDREN: &str = "@@operators_allowed_for_child_policies";

/// Parses a tag policy; `Err` with every finding when any is an error.
pub fn parse_tag_policy(name: &str, text: &str) -> Result<TagPolicy, Vec<Finding>> {
    let (policy, findings) = analyze(name, text);
    let errors = findings.iter().any(|f| f.severity == Severity::Error);
    match policy {
        Some(p) if !errors => Ok(p),
        _ => Err(findings),
    }
}

/// Every finding of a tag policy, the size quota included.
pub fn lint_tag_policy(name: &str, text: &str) -> Vec<Finding> {
    analyze(name, text).1
}

fn analyze(name: &str, text: &str) -> (Option<TagPolicy>, Vec<Finding>) {
    let mut a = Analyzer {
        name,
        findings: Vec::new(),
    };
    if let Some((reason, at)) = json::syntax_error(text) {
        a.error(
            "json-syntax",
            format!("tag policy `{name}` is not valid JSON: {reason}"),
            "",
            at,
        );
        return (None, a.findings);
    }
    let Some(root) = json::parse(text) else {
        a.error(
            "json-syntax",
            format!("tag policy `{name}` could not be read"),
            "",
            0..text.len(),
        );
        return (None, a.findings);
    };
    let policy = a.document(&root);
    a.findings
        .extend(too_large(name, text, TAG_POLICY_MAX_CHARS));
    (policy, a.findings)
}

struct Analyzer<'a> {
    name: &'a str,
    findings: Vec<Finding>,
}

impl Analyzer<'_> {
    fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        message: String,
        at: &str,
        span: Range<usize>,
    ) {
        self.findings.push(Finding {
            severity,
            code,
            message,
            pointer: at.to_string(),
            offset: Some(span),
        });
    }

    fn error(&mut self, code: &'static str, message: String, at: &str, span: Range<usize>) {
        self.push(Severity::Error, code, message, at, span);
    }

    fn object<'n>(&mut self, node: &'n Node, at: &str, what: &str) -> Option<&'n [Member]> {
        match &node.kind {
            Kind::Object(members) => {
                self.duplicates(members, at);
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

    /// serde_json keeps the last of two equal keys; AWS refuses the document.
    fn duplicates(&mut self, members: &[Member], at: &str) {
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
    }

    fn document(&mut self, root: &Node) -> Option<TagPolicy> {
        let members = self.object(root, "", "a tag policy")?;
        let mut policy = TagPolicy {
            name: self.name.to_string(),
            ..TagPolicy::default()
        };
        let mut tags = None;
        for m in members {
            if m.key == "tags" {
                tags = Some(&m.value);
            } else {
                self.error(
                    "unknown-element",
                    format!(
                        "`{}` is not an element of a tag policy (only `tags`)",
                        m.key
                    ),
                    &pointer("", &m.key),
                    m.key_span.clone(),
                );
            }
        }
        let Some(tags) = tags else {
            self.error(
                "unknown-element",
                "a tag policy has a `tags` object".to_string(),
                "",
                root.opening(),
            );
            return None;
        };
        let members = self.object(tags, "/tags", "`tags`")?;
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for m in members {
            let at = pointer("/tags", &m.key);
            if m.key == CHILDREN {
                policy.children = self.children(&m.value, &at);
                continue;
            }
            if m.key.starts_with("@@") {
                self.operator_misplaced(m, &at, "`tags`");
                continue;
            }
            let lower = m.key.to_lowercase();
            if let Some(first) = seen.get(&lower) {
                if first != &m.key {
                    self.error(
                        "duplicate-key",
                        format!(
                            "policy key `{}` is `{first}` apart from case; policy keys are compared without case",
                            m.key
                        ),
                        &at,
                        m.key_span.clone(),
                    );
                }
                continue;
            }
            seen.insert(lower.clone(), m.key.clone());
            if let Some(rule) = self.rule(m, &at) {
                policy.rules.insert(lower, rule);
            }
        }
        Some(policy)
    }

    fn operator_misplaced(&mut self, m: &Member, at: &str, place: &str) {
        let known = matches!(m.key.as_str(), "@@assign" | "@@append" | "@@remove");
        if known {
            self.error(
                "operator-not-allowed",
                format!(
                    "`{}` cannot stand at {place}: value-setting operators go inside a setting",
                    m.key
                ),
                at,
                m.key_span.clone(),
            );
        } else {
            self.error(
                "unknown-operator",
                format!("`{}` is not an inheritance operator", m.key),
                at,
                m.key_span.clone(),
            );
        }
    }

    fn rule(&mut self, m: &Member, at: &str) -> Option<TagRule> {
        let members = self.object(&m.value, at, "a policy key")?;
        let mut rule = TagRule {
            policy_key: m.key.clone(),
            ..TagRule::default()
        };
        for s in members {
            let sat = pointer(at, &s.key);
            match s.key.as_str() {
                CHILDREN => rule.children = self.children(&s.value, &sat),
                "tag_key" => {
                    rule.tag_key = self.key_setting(&s.value, &sat, &m.key);
                }
                "tag_value" => self.list_into(&mut rule, SettingName::TagValue, &s.value, &sat),
                "enforced_for" => {
                    self.list_into(&mut rule, SettingName::EnforcedFor, &s.value, &sat);
                }
                "report_required_tag_for" => {
                    self.list_into(&mut rule, SettingName::ReportRequiredTagFor, &s.value, &sat);
                }
                k if k.starts_with("@@") => self.operator_misplaced(s, &sat, "a policy key"),
                k => self.error(
                    "unknown-element",
                    format!(
                        "`{k}` is not a setting of a tag key (`tag_key`, `tag_value`, `enforced_for`, `report_required_tag_for`)"
                    ),
                    &sat,
                    s.key_span.clone(),
                ),
            }
        }
        if members.is_empty() {
            self.push(
                Severity::Warning,
                "empty-setting",
                format!("policy key `{}` sets nothing", m.key),
                at,
                m.key_span.clone(),
            );
        }
        Some(rule)
    }

    fn list_into(&mut self, rule: &mut TagRule, name: SettingName, node: &Node, at: &str) {
        if let Some(s) = self.list_setting(node, at, name) {
            rule.lists.insert(name, s);
        }
    }

    fn key_setting(&mut self, node: &Node, at: &str, policy_key: &str) -> Option<KeySetting> {
        let members = self.object(node, at, "`tag_key`")?;
        let mut out = KeySetting::default();
        for m in members {
            let oat = pointer(at, &m.key);
            match m.key.as_str() {
                CHILDREN => out.children = self.children(&m.value, &oat),
                "@@assign" => match m.value.as_str() {
                    Some(v) if v.to_lowercase() == policy_key.to_lowercase() => {
                        out.assign = Some(v.to_string());
                    }
                    Some(v) => self.error(
                        "tag-key-mismatch",
                        format!(
                            "`tag_key` `{v}` differs from its policy key `{policy_key}` by more than capitalization"
                        ),
                        &oat,
                        m.value.span.clone(),
                    ),
                    None => self.error(
                        "invalid-value",
                        "`tag_key`'s `@@assign` is a string (the key with the capitalization compliant tags use)".to_string(),
                        &oat,
                        m.value.span.clone(),
                    ),
                },
                "@@append" | "@@remove" => self.error(
                    "operator-not-allowed",
                    format!("`{}` applies to multi-valued settings only; `tag_key` takes `@@assign`", m.key),
                    &oat,
                    m.key_span.clone(),
                ),
                k if k.starts_with("@@") => self.error(
                    "unknown-operator",
                    format!("`{k}` is not an inheritance operator"),
                    &oat,
                    m.key_span.clone(),
                ),
                k => self.error(
                    "unknown-element",
                    format!("`{k}` inside `tag_key` is not an operator"),
                    &oat,
                    m.key_span.clone(),
                ),
            }
        }
        if members.is_empty() {
            self.push(
                Severity::Warning,
                "empty-setting",
                "`tag_key` has no operator".to_string(),
                at,
                node.opening(),
            );
        }
        Some(out)
    }

    fn list_setting(&mut self, node: &Node, at: &str, name: SettingName) -> Option<ListSetting> {
        let members = self.object(node, at, &format!("`{}`", name.as_str()))?;
        let mut out = ListSetting::default();
        for m in members {
            let oat = pointer(at, &m.key);
            let slot = match m.key.as_str() {
                CHILDREN => {
                    out.children = self.children(&m.value, &oat);
                    continue;
                }
                "@@assign" => &mut out.assign,
                "@@append" => &mut out.append,
                "@@remove" => &mut out.remove,
                k if k.starts_with("@@") => {
                    self.error(
                        "unknown-operator",
                        format!("`{k}` is not an inheritance operator"),
                        &oat,
                        m.key_span.clone(),
                    );
                    continue;
                }
                k => {
                    self.error(
                        "unknown-element",
                        format!("`{k}` inside `{}` is not an operator", name.as_str()),
                        &oat,
                        m.key_span.clone(),
                    );
                    continue;
                }
            };
            *slot = self.strings(&m.value, &oat, name);
        }
        if members.is_empty() {
            self.push(
                Severity::Warning,
                "empty-setting",
                format!("`{}` has no operator", name.as_str()),
                at,
                node.opening(),
            );
        }
        Some(out)
    }

    /// An array of strings, each checked for its setting.
    fn strings(&mut self, node: &Node, at: &str, name: SettingName) -> Option<Vec<String>> {
        let Kind::Array(items) = &node.kind else {
            self.error(
                "invalid-value",
                format!(
                    "the values of `{}` are a JSON array of strings",
                    name.as_str()
                ),
                at,
                node.span.clone(),
            );
            return None;
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let iat = format!("{at}/{i}");
            let Some(v) = item.as_str() else {
                self.error(
                    "invalid-value",
                    format!("the values of `{}` are strings", name.as_str()),
                    &iat,
                    item.span.clone(),
                );
                continue;
            };
            if let Some(problem) = value_problem(name, v) {
                self.error("invalid-value", problem, &iat, item.span.clone());
                continue;
            }
            out.push(v.to_string());
        }
        Some(out)
    }

    fn children(&mut self, node: &Node, at: &str) -> Option<AllowedOperators> {
        let Kind::Array(items) = &node.kind else {
            self.error(
                "invalid-value",
                "`@@operators_allowed_for_child_policies` is an array: [\"@@all\"], [\"@@none\"] or value-setting operators".to_string(),
                at,
                node.span.clone(),
            );
            return None;
        };
        let mut out = AllowedOperators::NONE;
        let (mut all, mut none, mut some) = (false, false, false);
        for (i, item) in items.iter().enumerate() {
            let iat = format!("{at}/{i}");
            match item.as_str() {
                Some("@@all") => all = true,
                Some("@@none") => none = true,
                Some("@@assign") => (out.assign, some) = (true, true),
                Some("@@append") => (out.append, some) = (true, true),
                Some("@@remove") => (out.remove, some) = (true, true),
                Some(other) => self.error(
                    "unknown-operator",
                    format!("`{other}` is not an operator `@@operators_allowed_for_child_policies` can allow"),
                    &iat,
                    item.span.clone(),
                ),
                None => self.error(
                    "invalid-value",
                    "operators are strings".to_string(),
                    &iat,
                    item.span.clone(),
                ),
            }
        }
        if usize::from(all) + usize::from(none) + usize::from(some) > 1 {
            self.error(
                "invalid-value",
                "`@@all` and `@@none` stand alone in `@@operators_allowed_for_child_policies`"
                    .to_string(),
                at,
                node.span.clone(),
            );
            return None;
        }
        if items.is_empty() {
            self.error(
                "invalid-value",
                "`@@operators_allowed_for_child_policies` is empty".to_string(),
                at,
                node.span.clone(),
            );
            return None;
        }
        Some(if all { AllowedOperators::ALL } else { out })
    }
}

/// What is wrong with one value of a multi-valued setting, as the syntax page
/// documents: one `*` at most in a tag value; `service:resource` (or `service:*`,
/// `service:ALL_SUPPORTED`) for the resource-type lists, no wildcard service.
fn value_problem(name: SettingName, v: &str) -> Option<String> {
    match name {
        SettingName::TagValue => (v.matches('*').count() > 1).then(|| {
            format!("tag value `{v}` has more than one `*`; a value may use one wildcard")
        }),
        SettingName::EnforcedFor | SettingName::ReportRequiredTagFor | SettingName::TagKey => {
            match v.split_once(':') {
                Some((service, resource))
                    if !service.is_empty()
                        && !service.contains('*')
                        && !resource.is_empty()
                        && (resource == "*" || !resource.contains('*')) =>
                {
                    None
                }
                _ => Some(format!(
                    "`{v}` is not a resource type: `service:resource`, `service:*` or `service:ALL_SUPPORTED` (no wildcard service)"
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn codes(text: &str) -> Vec<(&'static str, String)> {
        lint_tag_policy("p", text)
            .into_iter()
            .map(|f| (f.code, f.pointer))
            .collect()
    }

    #[test]
    fn parses_the_documented_example() {
        let p = parse_tag_policy(
            "B",
            r#"{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"},
               "tag_value":{"@@assign":["Sandbox"]},
               "enforced_for":{"@@assign":["redshift:*","dynamodb:table"]}}}}"#,
        )
        .unwrap();
        let r = &p.rules["costcenter"];
        assert_eq!(
            r.tag_key.as_ref().unwrap().assign.as_deref(),
            Some("CostCenter")
        );
        assert_eq!(
            r.lists[&SettingName::EnforcedFor].assign.as_deref(),
            Some(&["redshift:*".to_string(), "dynamodb:table".to_string()][..])
        );
    }

    #[test]
    fn located_findings() {
        let text = r#"{"tags":{"cc":{"tag_key":{"@@append":"x"},"tag_value":{"@@assign":"a","@@add":[]},
            "enforced_for":{"@@assign":["*:instance"]},"colour":{}},
            "@@assign":[]}, "Version":"1"}"#;
        let got = codes(text);
        assert_eq!(
            got,
            vec![
                ("unknown-element", "/Version".to_string()),
                (
                    "operator-not-allowed",
                    "/tags/cc/tag_key/@@append".to_string()
                ),
                ("invalid-value", "/tags/cc/tag_value/@@assign".to_string()),
                ("unknown-operator", "/tags/cc/tag_value/@@add".to_string()),
                (
                    "invalid-value",
                    "/tags/cc/enforced_for/@@assign/0".to_string()
                ),
                ("unknown-element", "/tags/cc/colour".to_string()),
                ("operator-not-allowed", "/tags/@@assign".to_string()),
            ]
        );
        let f = lint_tag_policy("p", text);
        let span = f[1].offset.clone().unwrap();
        assert_eq!(&text[span], "\"@@append\"");
    }

    #[test]
    fn tag_key_must_match_policy_key_and_keys_are_caseless() {
        let got = codes(
            r#"{"tags":{"cc":{"tag_key":{"@@assign":"Owner"}},"CC":{"tag_value":{"@@assign":["a"]}}}}"#,
        );
        assert_eq!(
            got,
            vec![
                ("tag-key-mismatch", "/tags/cc/tag_key/@@assign".to_string()),
                ("duplicate-key", "/tags/CC".to_string()),
            ]
        );
    }

    #[test]
    fn child_control_values() {
        let got = codes(
            r#"{"tags":{"cc":{"tag_value":{"@@operators_allowed_for_child_policies":["@@all","@@append"],"@@assign":["a"]},
              "enforced_for":{"@@operators_allowed_for_child_policies":["@@everything"]}}}}"#,
        );
        assert_eq!(
            got,
            vec![
                (
                    "invalid-value",
                    "/tags/cc/tag_value/@@operators_allowed_for_child_policies".to_string()
                ),
                (
                    "unknown-operator",
                    "/tags/cc/enforced_for/@@operators_allowed_for_child_policies/0".to_string()
                ),
            ]
        );
        let p = parse_tag_policy(
            "p",
            r#"{"tags":{"@@operators_allowed_for_child_policies":["@@none"],"cc":{"tag_value":{"@@operators_allowed_for_child_policies":["@@append","@@remove"],"@@assign":["a"]}}}}"#,
        )
        .unwrap();
        assert_eq!(p.children, Some(AllowedOperators::NONE));
        let c = p.rules["cc"].lists[&SettingName::TagValue]
            .children
            .unwrap();
        assert!(!c.assign && c.append && c.remove);
    }

    #[test]
    fn wildcards_in_values() {
        assert_eq!(
            codes(r#"{"tags":{"cc":{"tag_value":{"@@assign":["a*","*b*"]}}}}"#),
            vec![("invalid-value", "/tags/cc/tag_value/@@assign/1".to_string())]
        );
    }

    #[test]
    fn size_quota_and_syntax() {
        let values: Vec<String> = (0..1200).map(|i| format!("\"v{i:05}\"")).collect();
        let text = format!(
            r#"{{"tags":{{"cc":{{"tag_value":{{"@@assign":[{}]}}}}}}}}"#,
            values.join(",")
        );
        assert_eq!(codes(&text), vec![("too-large", String::new())]);
        assert_eq!(codes("{\"tags\": [,]}")[0].0, "json-syntax");
        assert!(
            parse_tag_policy("p", "{\"tags\":{}}")
                .unwrap()
                .rules
                .is_empty()
        );
    }
}
