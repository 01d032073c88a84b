//! AWS Organizations tag policies: parsing with located findings, the effective tag
//! policy of an account (what `DescribeEffectivePolicy` returns), and the compliance
//! of a resource's tags with it.
//!
//! # Sources
//!
//! - "Tag policy syntax and examples"
//!   (<https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_example-tag-policies.html>)
//!   and "Inheritance operators"
//!   (<https://docs.aws.amazon.com/organizations/latest/userguide/policy-operators.html>),
//! - "Inheritance examples"
//!   (<https://docs.aws.amazon.com/organizations/latest/userguide/inheritance-examples.html>),
//!   which `tests/corpus/tags-aws-docs.toml` follows: Examples 1 and 2 with the
//!   page's policies, Examples 3–6 (remove, restricting children, child-control and
//!   append conflicts at one level) with policies written to show the same rule,
//! - "Managing policies" / "Quotas for AWS Organizations": a tag policy is at most
//!   10,000 characters ([`TAG_POLICY_MAX_CHARS`]).
//!
//! # Syntax
//!
//! A document is `{"tags": {POLICY_KEY: {SETTING: {OPERATOR: VALUE}}}}`. Settings:
//! `tag_key` (single-valued: only `@@assign` of a string, which must equal the policy
//! key apart from case and sets the capitalization compliant tags use), `tag_value`,
//! `enforced_for` and `report_required_tag_for` (multi-valued: `@@assign`, `@@append`,
//! `@@remove` of string arrays). `@@operators_allowed_for_child_policies` (`["@@all"]`,
//! `["@@none"]`, or a list of value-setting operators) may stand at `tags`, at a policy
//! key, or at a setting; it restricts the operators that policies *below* may use on
//! every setting under it. Policy keys are compared without regard to case.
//!
//! # Effective policy
//!
//! [`effective_tag_policy`] walks the levels root → OUs → account. At each level the
//! attached policies are applied in the order given, each operator checked against the
//! child-control operators inherited from the levels above (an inherited restriction
//! can only narrow: it is the intersection of every enclosing restriction of every
//! ancestor level, and of every policy at one level — Example 5). A value-setting
//! operator the parents forbid is ignored (recorded in
//! [`EffectiveTagPolicy::ignored`], not an error: AWS does not refuse the child
//! policy, the effective policy simply does not use it). `@@assign` replaces,
//! `@@append` adds the values not there yet (creating the setting if it was not
//! inherited), `@@remove` removes values (a removal from an absent setting is
//! nothing). Within one policy's setting the operators apply in the order assign,
//! append, remove. The result has no operators; each value remembers the level and
//! policy that set it ([`Sourced`]).
//!
//! Choices where the documentation is silent: a list emptied by `@@remove` stays in
//! the effective policy as `[]` (so no value is compliant); with no tag policy at all
//! the JSON is `{"tags":{}}` (AWS answers `EffectivePolicyNotFoundException`);
//! policies at one level are applied in the caller's order, so of two `@@assign`s at
//! one level the later wins.
//!
//! # Compliance
//!
//! [`EffectiveTagPolicy::check`] compares a resource's tags with each effective key:
//! a tag whose key matches `tag_key` only without regard to case is non-compliant
//! capitalization; a value outside `tag_value` (where a `*` matches any run of
//! characters, at most one per value) is non-compliant. A missing tag is compliant
//! unless `report_required_tag_for` names the resource type (reported, never
//! enforced). A violation is *enforced* (the tagging call is refused) when
//! `enforced_for` names the resource type as `service:resource`, `service:*` or
//! `service:ALL_SUPPORTED`; otherwise it is only reported.
//!
//! # Finding codes
//!
//! Errors: `json-syntax`, `not-an-object`, `unknown-element`, `duplicate-key`,
//! `unknown-operator`, `operator-not-allowed`, `invalid-value`, `tag-key-mismatch`,
//! `too-large`. Warning: `empty-setting` (a setting or policy key without operators).

mod compliance;
mod effective;
mod parse;

use std::collections::BTreeMap;

pub use compliance::{Compliance, Violation, ViolationReason};
pub use effective::{
    EffectiveTag, EffectiveTagPolicy, Ignored, Sourced, TagLevel, effective_tag_policy,
};
pub use parse::{TAG_POLICY_MAX_CHARS, lint_tag_policy, parse_tag_policy};

/// A value-setting operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TagOperator {
    Assign,
    Append,
    Remove,
}

impl TagOperator {
    pub fn as_str(self) -> &'static str {
        match self {
            TagOperator::Assign => "@@assign",
            TagOperator::Append => "@@append",
            TagOperator::Remove => "@@remove",
        }
    }
}

impl std::fmt::Display for TagOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value-setting operators child policies may use
/// (`@@operators_allowed_for_child_policies`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowedOperators {
    pub assign: bool,
    pub append: bool,
    pub remove: bool,
}

impl AllowedOperators {
    /// `["@@all"]`, the default.
    pub const ALL: AllowedOperators = AllowedOperators {
        assign: true,
        append: true,
        remove: true,
    };
    /// `["@@none"]`.
    pub const NONE: AllowedOperators = AllowedOperators {
        assign: false,
        append: false,
        remove: false,
    };

    pub fn allows(self, op: TagOperator) -> bool {
        match op {
            TagOperator::Assign => self.assign,
            TagOperator::Append => self.append,
            TagOperator::Remove => self.remove,
        }
    }

    /// Both restrictions at once: an operator is allowed when both allow it.
    pub fn intersect(self, other: AllowedOperators) -> AllowedOperators {
        AllowedOperators {
            assign: self.assign && other.assign,
            append: self.append && other.append,
            remove: self.remove && other.remove,
        }
    }
}

/// Which setting of a tag key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SettingName {
    TagKey,
    TagValue,
    EnforcedFor,
    ReportRequiredTagFor,
}

impl SettingName {
    pub fn as_str(self) -> &'static str {
        match self {
            SettingName::TagKey => "tag_key",
            SettingName::TagValue => "tag_value",
            SettingName::EnforcedFor => "enforced_for",
            SettingName::ReportRequiredTagFor => "report_required_tag_for",
        }
    }

    /// The multi-valued settings, in the order the effective policy lists them.
    pub const LISTS: [SettingName; 3] = [
        SettingName::TagValue,
        SettingName::EnforcedFor,
        SettingName::ReportRequiredTagFor,
    ];
}

/// `tag_key`: single-valued, only `@@assign`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySetting {
    pub assign: Option<String>,
    pub children: Option<AllowedOperators>,
}

/// A multi-valued setting (`tag_value`, `enforced_for`, `report_required_tag_for`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListSetting {
    pub assign: Option<Vec<String>>,
    pub append: Option<Vec<String>>,
    pub remove: Option<Vec<String>>,
    pub children: Option<AllowedOperators>,
}

/// One policy key of a tag policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagRule {
    /// As written in the document.
    pub policy_key: String,
    pub tag_key: Option<KeySetting>,
    /// The multi-valued settings present.
    pub lists: BTreeMap<SettingName, ListSetting>,
    /// `@@operators_allowed_for_child_policies` at the policy key.
    pub children: Option<AllowedOperators>,
}

/// A parsed tag policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagPolicy {
    pub name: String,
    /// By lower-cased policy key.
    pub rules: BTreeMap<String, TagRule>,
    /// `@@operators_allowed_for_child_policies` at `tags`.
    pub children: Option<AllowedOperators>,
}
