//! Effective tag policies: the tag policies each account sits under (root → OUs →
//! account), from the desired state or the live organization, combined the way
//! `DescribeEffectivePolicy` does (`landfall_policy::effective_tag_policy`) — for the
//! plan's effective-policy changes, `[[expect]]` on tags and `landfall explain
//! --tags`. Pure.

use std::collections::{BTreeMap, BTreeSet};

use landfall_policy::{
    EffectiveTagPolicy, TagLevel, TagPolicy, effective_tag_policy, parse_tag_policy,
};
use serde::{Deserialize, Serialize};

use crate::address::{OuPath, Target};
use crate::live::{LiveIndex, LiveState};
use crate::model::{DesiredState, ExpectScope, OrgPolicyType, TagExpectation};

/// The tag policies and where they are attached, per account.
#[derive(Debug, Default)]
pub struct TagPolicies {
    policies: BTreeMap<String, TagPolicy>,
    /// Policy names attached to each target, in name order.
    attached: BTreeMap<Target, Vec<String>>,
    /// Each account's OU chain, top-down.
    accounts: BTreeMap<String, Vec<OuPath>>,
    /// Policies that did not parse (name, first problem): left out.
    pub problems: Vec<(String, String)>,
}

fn chain(ou: Option<&OuPath>) -> Vec<OuPath> {
    let mut out = Vec::new();
    let mut cur = ou.cloned();
    while let Some(p) = cur {
        cur = p.parent();
        out.push(p);
    }
    out.reverse();
    out
}

impl TagPolicies {
    fn add(&mut self, name: &str, content: &str) {
        match parse_tag_policy(name, content) {
            Ok(p) => {
                self.policies.insert(name.to_string(), p);
            }
            Err(findings) => {
                let first = findings
                    .first()
                    .map(|f| f.message.clone())
                    .unwrap_or_else(|| "does not parse".into());
                self.problems.push((name.to_string(), first));
            }
        }
    }

    /// The tag policies the desired state declares.
    pub fn from_desired(desired: &DesiredState) -> Self {
        let mut t = TagPolicies::default();
        for spec in desired
            .org_policies
            .iter()
            .filter(|p| p.policy_type == OrgPolicyType::Tag)
        {
            t.add(&spec.name, &spec.content);
        }
        for att in desired
            .org_policy_attachments
            .iter()
            .filter(|a| a.policy_type == OrgPolicyType::Tag)
        {
            t.attached
                .entry(att.attachment.target.clone())
                .or_default()
                .push(att.attachment.policy.clone());
        }
        for list in t.attached.values_mut() {
            list.sort();
        }
        for (name, spec) in &desired.accounts {
            t.accounts.insert(name.clone(), chain(spec.ou.as_ref()));
        }
        t
    }

    /// The tag policies live in the organization; accounts named as declared when
    /// their email matches, else by their live name.
    pub fn from_live(live: &LiveState, desired: &DesiredState) -> Self {
        let index = LiveIndex::new(live);
        let mut t = TagPolicies::default();
        let mut names_by_id: BTreeMap<&str, &str> = BTreeMap::new();
        for p in live
            .org_policies
            .values()
            .filter(|p| p.policy_type == OrgPolicyType::Tag)
        {
            t.add(&p.name, &p.content);
            names_by_id.insert(p.id.as_str(), p.name.as_str());
        }
        let declared_by_email: BTreeMap<String, &str> = desired
            .accounts
            .iter()
            .map(|(name, spec)| (spec.email.to_ascii_lowercase(), name.as_str()))
            .collect();
        let mut account_names: BTreeMap<&str, String> = BTreeMap::new();
        for a in live.accounts.values() {
            let name = declared_by_email
                .get(&a.email.to_ascii_lowercase())
                .map(|n| n.to_string())
                .unwrap_or_else(|| a.name.clone());
            let ou = index.ou_path(&a.parent_id).cloned();
            t.accounts.insert(name.clone(), chain(ou.as_ref()));
            account_names.insert(a.id.as_str(), name);
        }
        for (policy_id, target_id) in &live.org_policy_attachments {
            let Some(policy) = names_by_id.get(policy_id.as_str()) else {
                continue;
            };
            let target = if *target_id == live.root_id {
                Some(Target::Root)
            } else if let Some(p) = index.ou_path(target_id) {
                Some(Target::Ou(p.clone()))
            } else {
                account_names
                    .get(target_id.as_str())
                    .map(|n| Target::Account(n.clone()))
            };
            if let Some(target) = target {
                t.attached
                    .entry(target)
                    .or_default()
                    .push(policy.to_string());
            }
        }
        for list in t.attached.values_mut() {
            list.sort();
        }
        t
    }

    /// The accounts known, by name.
    pub fn accounts(&self) -> impl Iterator<Item = &str> {
        self.accounts.keys().map(String::as_str)
    }

    /// The accounts in an OU or below it.
    pub fn accounts_in(&self, ou: &OuPath) -> Vec<&str> {
        self.accounts
            .iter()
            .filter(|(_, c)| c.iter().any(|p| p == ou))
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// The effective tag policy of an account; `None` for an unknown account.
    pub fn effective(&self, account: &str) -> Option<EffectiveTagPolicy> {
        let ous = self.accounts.get(account)?;
        let mut targets = vec![(Target::Root, "root".to_string())];
        targets.extend(
            ous.iter()
                .map(|p| (Target::Ou(p.clone()), format!("ou.{p}"))),
        );
        targets.push((
            Target::Account(account.to_string()),
            format!("account.{account}"),
        ));
        let levels: Vec<TagLevel<'_>> = targets
            .into_iter()
            .map(|(t, name)| TagLevel {
                name,
                policies: self
                    .attached
                    .get(&t)
                    .into_iter()
                    .flatten()
                    .filter_map(|n| self.policies.get(n))
                    .collect(),
            })
            .collect();
        Some(effective_tag_policy(&levels))
    }
}

/// An account whose effective tag policy a plan changes: `DescribeEffectivePolicy`'s
/// content before (live) and after (declared).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveTagPolicyChange {
    pub account: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

/// The accounts (declared ones) whose effective tag policy differs between `before`
/// and `after`, in name order.
pub fn effective_changes(
    desired: &DesiredState,
    before: &TagPolicies,
    after: &TagPolicies,
) -> Vec<EffectiveTagPolicyChange> {
    let empty = EffectiveTagPolicy::default().to_json();
    let mut out = Vec::new();
    for account in desired.accounts.keys() {
        let b = before
            .effective(account)
            .map_or_else(|| empty.clone(), |e| e.to_json());
        let a = after
            .effective(account)
            .map_or_else(|| empty.clone(), |e| e.to_json());
        if a != b {
            out.push(EffectiveTagPolicyChange {
                account: account.clone(),
                before: b,
                after: a,
            });
        }
    }
    out
}

/// One tag expectation checked in one account.
#[derive(Clone, Debug)]
pub struct TagExpectationResult {
    /// Index into `DesiredState::tag_expectations`.
    pub expectation: usize,
    /// `None` when the scope holds no account (a failure: nothing was checked).
    pub account: Option<String>,
    /// The violations found (empty: compliant), each in words.
    pub violations: Vec<String>,
    pub passed: bool,
}

/// Checks every tag expectation in every account of its scope against the effective
/// tag policies.
pub fn check_tag_expectations(
    desired: &DesiredState,
    policies: &TagPolicies,
) -> Vec<TagExpectationResult> {
    let mut out = Vec::new();
    for (i, e) in desired.tag_expectations.iter().enumerate() {
        let accounts: Vec<&str> = match &e.scope {
            ExpectScope::Account(a) => vec![a.as_str()],
            ExpectScope::Ou(ou) => policies.accounts_in(ou),
        };
        if accounts.is_empty() {
            out.push(TagExpectationResult {
                expectation: i,
                account: None,
                violations: vec![],
                passed: false,
            });
        }
        for account in accounts {
            let violations = violations_in(policies, account, e).unwrap_or_default();
            out.push(TagExpectationResult {
                expectation: i,
                account: Some(account.to_string()),
                passed: violations.is_empty() == e.compliant,
                violations,
            });
        }
    }
    out
}

/// The violations of a tag set in an account, in words; `None` for an unknown account.
pub fn violations_in(
    policies: &TagPolicies,
    account: &str,
    e: &TagExpectation,
) -> Option<Vec<String>> {
    let effective = policies.effective(account)?;
    let compliance = effective.check(&e.resource_type, &e.tags);
    Some(
        compliance
            .violations
            .iter()
            .map(|v| {
                let tag = v.tag.as_deref().unwrap_or(&v.policy_key);
                let enforced = if v.enforced {
                    " (enforced: the tagging call is refused)"
                } else {
                    " (reported as non-compliant)"
                };
                format!("{tag}: {}{enforced}", v.reason)
            })
            .collect(),
    )
}

/// The tag keys any declared tag policy names (lower-cased), for messages.
pub fn policy_keys(policies: &TagPolicies) -> BTreeSet<String> {
    policies
        .policies
        .values()
        .flat_map(|p| p.rules.keys().cloned())
        .collect()
}
