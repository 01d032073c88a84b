//! Whether a resource's tags comply with an effective tag policy, and whether the
//! non-compliance would be enforced (the tagging call refused) or only reported.

use std::collections::BTreeMap;

use super::SettingName;
use super::effective::{EffectiveTag, EffectiveTagPolicy};

/// Why a tag does not comply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViolationReason {
    /// The tag's key matches `tag_key` only without regard to case.
    KeyCapitalization { expected: String },
    /// The tag's value is none of `tag_value`.
    ValueNotAllowed { value: String, allowed: Vec<String> },
    /// `report_required_tag_for` names the resource type and the tag is absent.
    MissingRequiredTag,
}

impl std::fmt::Display for ViolationReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ViolationReason::KeyCapitalization { expected } => {
                write!(f, "the key's capitalization is not `{expected}`")
            }
            ViolationReason::ValueNotAllowed { value, allowed } => write!(
                f,
                "value `{value}` is not one of the allowed values [{}]",
                allowed.join(", ")
            ),
            ViolationReason::MissingRequiredTag => f.write_str("the tag is required and absent"),
        }
    }
}

/// One non-compliant (or missing) tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The lower-cased policy key.
    pub policy_key: String,
    /// The resource's tag key as given (absent for a missing required tag).
    pub tag: Option<String>,
    pub reason: ViolationReason,
    /// `enforced_for` covers the resource type: the tagging call is refused.
    pub enforced: bool,
}

/// The outcome of [`EffectiveTagPolicy::check`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compliance {
    pub violations: Vec<Violation>,
}

impl Compliance {
    pub fn compliant(&self) -> bool {
        self.violations.is_empty()
    }

    /// Whether any violation would be prevented rather than only reported.
    pub fn enforced(&self) -> bool {
        self.violations.iter().any(|v| v.enforced)
    }
}

/// A resource-type entry (`service:resource`, `service:*`,
/// `service:ALL_SUPPORTED`) covers `resource_type`; service and resource compare
/// without case.
fn covers(entry: &str, resource_type: &str) -> bool {
    let (Some((es, er)), Some((rs, rr))) = (entry.split_once(':'), resource_type.split_once(':'))
    else {
        return false;
    };
    es.eq_ignore_ascii_case(rs)
        && (er == "*" || er.eq_ignore_ascii_case("ALL_SUPPORTED") || er.eq_ignore_ascii_case(rr))
}

/// A tag value pattern: `*` matches any run of characters (one per value);
/// otherwise exact and case-sensitive.
fn value_matches(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == value,
        Some((prefix, suffix)) => {
            value.len() >= prefix.len() + suffix.len()
                && value.starts_with(prefix)
                && value.ends_with(suffix)
        }
    }
}

fn listed(tag: &EffectiveTag, setting: SettingName, resource_type: &str) -> bool {
    tag.values(setting)
        .is_some_and(|entries| entries.iter().any(|e| covers(e, resource_type)))
}

impl EffectiveTagPolicy {
    /// Checks the tags (key → value) of a resource of `resource_type` (e.g.
    /// `sagemaker:endpoint`, `s3:bucket`) against every effective tag key.
    pub fn check(&self, resource_type: &str, tags: &BTreeMap<String, String>) -> Compliance {
        let mut out = Compliance::default();
        for (key, rule) in &self.tags {
            let enforced = listed(rule, SettingName::EnforcedFor, resource_type);
            let expected = rule.key();
            let present: Vec<(&String, &String)> = tags
                .iter()
                .filter(|(k, _)| k.to_lowercase() == expected.to_lowercase())
                .collect();
            if present.is_empty() && listed(rule, SettingName::ReportRequiredTagFor, resource_type)
            {
                out.violations.push(Violation {
                    policy_key: key.clone(),
                    tag: None,
                    reason: ViolationReason::MissingRequiredTag,
                    enforced: false,
                });
            }
            for (k, v) in present {
                if k != expected {
                    out.violations.push(Violation {
                        policy_key: key.clone(),
                        tag: Some(k.clone()),
                        reason: ViolationReason::KeyCapitalization {
                            expected: expected.to_string(),
                        },
                        enforced,
                    });
                }
                if let Some(allowed) = rule.values(SettingName::TagValue)
                    && !allowed.iter().any(|p| value_matches(p, v))
                {
                    out.violations.push(Violation {
                        policy_key: key.clone(),
                        tag: Some(k.clone()),
                        reason: ViolationReason::ValueNotAllowed {
                            value: v.clone(),
                            allowed: allowed.iter().map(|s| s.to_string()).collect(),
                        },
                        enforced,
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn wildcards_and_resource_types() {
        assert!(value_matches("*@example.com", "a@example.com"));
        assert!(value_matches("team-*", "team-"));
        assert!(!value_matches("team-*", "Team-a"));
        assert!(!value_matches("ab*ba", "aba"));
        assert!(covers("redshift:*", "redshift:cluster"));
        assert!(covers("ec2:ALL_SUPPORTED", "ec2:instance"));
        assert!(covers("dynamodb:table", "dynamodb:table"));
        assert!(!covers("dynamodb:table", "dynamodb:backup"));
        assert!(!covers("s3:bucket", "sagemaker:endpoint"));
    }
}
