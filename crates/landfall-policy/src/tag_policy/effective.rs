//! The effective tag policy of an account: the policies of its levels (root → OUs →
//! account) merged with the inheritance operators, as `DescribeEffectivePolicy`
//! returns it. The semantics are in the module documentation of `tag_policy`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{AllowedOperators, SettingName, TagOperator, TagPolicy};

/// One level of the hierarchy and the tag policies attached there, in attachment
/// order.
#[derive(Debug, Clone)]
pub struct TagLevel<'a> {
    /// e.g. `root`, `ou.Workloads`, `account.ml-dev`.
    pub name: String,
    pub policies: Vec<&'a TagPolicy>,
}

/// A value of the effective policy and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    /// The [`TagLevel::name`] whose policy set it.
    pub level: String,
    /// The [`TagPolicy::name`] that set it.
    pub policy: String,
}

/// One tag key of the effective policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveTag {
    /// As the first policy that set anything for it wrote it.
    pub policy_key: String,
    pub tag_key: Option<Sourced<String>>,
    /// The multi-valued settings present, each value with its source.
    pub lists: BTreeMap<SettingName, Vec<Sourced<String>>>,
}

impl EffectiveTag {
    /// The capitalization compliant tags use: `tag_key`, else the policy key.
    pub fn key(&self) -> &str {
        self.tag_key
            .as_ref()
            .map_or(self.policy_key.as_str(), |k| k.value.as_str())
    }

    /// The plain values of a multi-valued setting, when present.
    pub fn values(&self, setting: SettingName) -> Option<Vec<&str>> {
        self.lists
            .get(&setting)
            .map(|v| v.iter().map(|s| s.value.as_str()).collect())
    }
}

/// An operator a parent's `@@operators_allowed_for_child_policies` kept out of the
/// effective policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    pub level: String,
    pub policy: String,
    /// The lower-cased policy key.
    pub key: String,
    pub setting: SettingName,
    pub operator: TagOperator,
}

/// The effective tag policy: per lower-cased policy key, plain values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EffectiveTagPolicy {
    pub tags: BTreeMap<String, EffectiveTag>,
    /// Operators the inherited child-control operators did not allow, in the
    /// order met.
    pub ignored: Vec<Ignored>,
}

impl EffectiveTagPolicy {
    /// The effective policy as `DescribeEffectivePolicy` shows its content:
    /// `{"tags": {key: {"tag_key": "...", "tag_value": [...], ...}}}`, no operators.
    pub fn to_json(&self) -> Value {
        let mut tags = Map::new();
        for t in self.tags.values() {
            let mut o = Map::new();
            if let Some(k) = &t.tag_key {
                o.insert("tag_key".into(), Value::String(k.value.clone()));
            }
            for (name, values) in &t.lists {
                o.insert(
                    name.as_str().into(),
                    Value::Array(
                        values
                            .iter()
                            .map(|v| Value::String(v.value.clone()))
                            .collect(),
                    ),
                );
            }
            tags.insert(t.policy_key.clone(), Value::Object(o));
        }
        let mut root = Map::new();
        root.insert("tags".into(), Value::Object(tags));
        Value::Object(root)
    }
}

/// The restrictions inherited so far: at `tags`, per key, per key and setting.
#[derive(Default)]
struct Restrictions {
    tags: Option<AllowedOperators>,
    keys: BTreeMap<String, AllowedOperators>,
    settings: BTreeMap<(String, SettingName), AllowedOperators>,
}

fn narrow(slot: &mut Option<AllowedOperators>, by: Option<AllowedOperators>) {
    if let Some(by) = by {
        *slot = Some(slot.map_or(by, |s| s.intersect(by)));
    }
}

fn narrow_in<K: Ord>(
    map: &mut BTreeMap<K, AllowedOperators>,
    key: K,
    by: Option<AllowedOperators>,
) {
    if let Some(by) = by {
        let e = map.entry(key).or_insert(AllowedOperators::ALL);
        *e = e.intersect(by);
    }
}

impl Restrictions {
    fn allowed(&self, key: &str, setting: SettingName) -> AllowedOperators {
        let mut a = self.tags.unwrap_or(AllowedOperators::ALL);
        if let Some(k) = self.keys.get(key) {
            a = a.intersect(*k);
        }
        if let Some(s) = self.settings.get(&(key.to_string(), setting)) {
            a = a.intersect(*s);
        }
        a
    }

    fn add(&mut self, policy: &TagPolicy) {
        narrow(&mut self.tags, policy.children);
        for (key, rule) in &policy.rules {
            narrow_in(&mut self.keys, key.clone(), rule.children);
            narrow_in(
                &mut self.settings,
                (key.clone(), SettingName::TagKey),
                rule.tag_key.as_ref().and_then(|k| k.children),
            );
            for (name, list) in &rule.lists {
                narrow_in(&mut self.settings, (key.clone(), *name), list.children);
            }
        }
    }
}

/// The effective tag policy of the account at the end of `levels` (root first).
pub fn effective_tag_policy(levels: &[TagLevel<'_>]) -> EffectiveTagPolicy {
    let mut out = EffectiveTagPolicy::default();
    let mut inherited = Restrictions::default();
    for level in levels {
        for policy in &level.policies {
            apply(&mut out, &inherited, &level.name, policy);
        }
        // Restrictions bind the levels below, never siblings at this level.
        for policy in &level.policies {
            inherited.add(policy);
        }
    }
    out
}

fn apply(out: &mut EffectiveTagPolicy, inherited: &Restrictions, level: &str, policy: &TagPolicy) {
    let source = |value: &str| Sourced {
        value: value.to_string(),
        level: level.to_string(),
        policy: policy.name.clone(),
    };
    for (key, rule) in &policy.rules {
        let mut ignored = Vec::new();
        let mut allow = |setting: SettingName, op: TagOperator| {
            let ok = inherited.allowed(key, setting).allows(op);
            if !ok {
                ignored.push(Ignored {
                    level: level.to_string(),
                    policy: policy.name.clone(),
                    key: key.clone(),
                    setting,
                    operator: op,
                });
            }
            ok
        };
        let mut tag_key = None;
        if let Some(v) = rule.tag_key.as_ref().and_then(|k| k.assign.as_deref())
            && allow(SettingName::TagKey, TagOperator::Assign)
        {
            tag_key = Some(source(v));
        }
        // Each list's operators that pass, in the order assign, append, remove.
        let mut edits: Vec<(SettingName, TagOperator, &Vec<String>)> = Vec::new();
        for (name, list) in &rule.lists {
            for (op, values) in [
                (TagOperator::Assign, &list.assign),
                (TagOperator::Append, &list.append),
                (TagOperator::Remove, &list.remove),
            ] {
                if let Some(values) = values
                    && allow(*name, op)
                {
                    edits.push((*name, op, values));
                }
            }
        }
        out.ignored.extend(ignored);
        let creates = tag_key.is_some()
            || edits
                .iter()
                .any(|(_, op, _)| matches!(op, TagOperator::Assign | TagOperator::Append));
        if !out.tags.contains_key(key) && !creates {
            continue;
        }
        let entry = out.tags.entry(key.clone()).or_insert_with(|| EffectiveTag {
            policy_key: rule.policy_key.clone(),
            tag_key: None,
            lists: BTreeMap::new(),
        });
        if tag_key.is_some() {
            entry.tag_key = tag_key;
        }
        for (name, op, values) in edits {
            match op {
                TagOperator::Assign => {
                    let mut list: Vec<Sourced<String>> = Vec::new();
                    for v in values {
                        if !list.iter().any(|s| &s.value == v) {
                            list.push(source(v));
                        }
                    }
                    entry.lists.insert(name, list);
                }
                TagOperator::Append => {
                    let list = entry.lists.entry(name).or_default();
                    for v in values {
                        if !list.iter().any(|s| &s.value == v) {
                            list.push(source(v));
                        }
                    }
                }
                TagOperator::Remove => {
                    if let Some(list) = entry.lists.get_mut(&name) {
                        list.retain(|s| !values.contains(&s.value));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::tag_policy::parse_tag_policy;

    #[test]
    fn sources_and_ignored_operators() {
        let a = parse_tag_policy(
            "A",
            r#"{"tags":{"costcenter":{"tag_key":{"@@operators_allowed_for_child_policies":["@@none"],"@@assign":"CostCenter"},
              "tag_value":{"@@operators_allowed_for_child_policies":["@@append"],"@@assign":["Development","Sandbox"]}}}}"#,
        )
        .unwrap();
        let b = parse_tag_policy(
            "B",
            r#"{"tags":{"costcenter":{"tag_key":{"@@assign":"COSTCENTER"},"tag_value":{"@@append":["Marketing"],"@@remove":["Sandbox"]}}}}"#,
        )
        .unwrap();
        let eff = effective_tag_policy(&[
            TagLevel {
                name: "root".into(),
                policies: vec![&a],
            },
            TagLevel {
                name: "account.x".into(),
                policies: vec![&b],
            },
        ]);
        let cc = &eff.tags["costcenter"];
        assert_eq!(cc.key(), "CostCenter");
        let tv = &cc.lists[&SettingName::TagValue];
        assert_eq!(
            tv.iter()
                .map(|s| (s.value.as_str(), s.level.as_str(), s.policy.as_str()))
                .collect::<Vec<_>>(),
            vec![
                ("Development", "root", "A"),
                ("Sandbox", "root", "A"),
                ("Marketing", "account.x", "B")
            ]
        );
        assert_eq!(
            eff.ignored
                .iter()
                .map(|i| (i.setting, i.operator))
                .collect::<Vec<_>>(),
            vec![
                (SettingName::TagKey, TagOperator::Assign),
                (SettingName::TagValue, TagOperator::Remove)
            ]
        );
    }

    #[test]
    fn no_policies_no_tags() {
        assert_eq!(
            effective_tag_policy(&[]).to_json().to_string(),
            r#"{"tags":{}}"#
        );
    }
}
