//! Attribute maps: the uniform shape in which a resource's settings are recorded in the
//! state file and compared, so one diff routine serves plan, drift and the renderers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::address::Target;
use crate::model::{Tags, minify_json};

pub type Attrs = BTreeMap<String, Value>;

/// One attribute that differs. `tags` are compared key by key (`tags.owner`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttrDiff {
    pub attribute: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

pub fn tags_value(tags: &Tags) -> Value {
    json!(tags)
}

pub fn ou_attrs(name: &str, tags: &Tags) -> Attrs {
    Attrs::from([
        ("name".into(), json!(name)),
        ("tags".into(), tags_value(tags)),
    ])
}

pub fn account_attrs(name: &str, email: &str, parent: &Target, tags: &Tags) -> Attrs {
    Attrs::from([
        ("name".into(), json!(name)),
        ("email".into(), json!(email)),
        ("ou".into(), json!(parent.to_string())),
        ("tags".into(), tags_value(tags)),
    ])
}

/// Policy content is compared minified so formatting never shows up as a change.
pub fn scp_attrs(description: &str, content: &str, tags: &Tags) -> Attrs {
    let content = minify_json(content).unwrap_or_else(|_| content.to_string());
    Attrs::from([
        ("description".into(), json!(description)),
        ("content".into(), json!(content)),
        ("tags".into(), tags_value(tags)),
    ])
}

pub fn attachment_attrs(policy_id: &str, target_id: &str) -> Attrs {
    Attrs::from([
        ("policy_id".into(), json!(policy_id)),
        ("target_id".into(), json!(target_id)),
    ])
}

/// Differences from `before` to `after`, over the attributes in `compare` (all
/// attributes when empty). Objects named `tags` are compared key by key.
pub fn diff_attrs(before: &Attrs, after: &Attrs, compare: &[&str]) -> Vec<AttrDiff> {
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        if !compare.is_empty() && !compare.contains(&key.as_str()) {
            continue;
        }
        let (b, a) = (before.get(key), after.get(key));
        if b == a {
            continue;
        }
        if key == "tags" {
            let empty = serde_json::Map::new();
            let bt = b.and_then(Value::as_object).unwrap_or(&empty);
            let at = a.and_then(Value::as_object).unwrap_or(&empty);
            let mut tag_keys: Vec<&String> = bt.keys().chain(at.keys()).collect();
            tag_keys.sort();
            tag_keys.dedup();
            for k in tag_keys {
                if bt.get(k) != at.get(k) {
                    out.push(AttrDiff {
                        attribute: format!("tags.{k}"),
                        before: bt.get(k).cloned(),
                        after: at.get(k).cloned(),
                    });
                }
            }
        } else {
            out.push(AttrDiff {
                attribute: key.clone(),
                before: b.cloned(),
                after: a.cloned(),
            });
        }
    }
    out
}

/// Splits a tag diff into the tags to set and the keys to remove.
pub fn tag_changes(diffs: &[AttrDiff]) -> (Tags, Vec<String>) {
    let mut set = Tags::new();
    let mut remove = Vec::new();
    for d in diffs {
        if let Some(key) = d.attribute.strip_prefix("tags.") {
            match d.after.as_ref().and_then(Value::as_str) {
                Some(v) => {
                    set.insert(key.to_string(), v.to_string());
                }
                None => remove.push(key.to_string()),
            }
        }
    }
    (set, remove)
}

/// The attributes the desired state declares for `address` (what a completed apply
/// records), or `None` when it is not declared.
pub fn declared_attrs(
    desired: &crate::model::DesiredState,
    address: &crate::address::Address,
) -> Option<Attrs> {
    use crate::address::Address;
    match address {
        Address::Root => Some(Attrs::new()),
        Address::Ou(path) => desired
            .ous
            .get(path)
            .map(|spec| ou_attrs(path.name(), &spec.tags)),
        Address::Account(name) => desired.accounts.get(name).map(|spec| {
            let mut a = account_attrs(name, &spec.email, &desired.account_parent(spec), &spec.tags);
            a.insert("allow_close".into(), json!(spec.allow_close));
            a
        }),
        Address::Scp(name) => desired
            .policies
            .get(name)
            .map(|spec| scp_attrs(&spec.description, &spec.content, &spec.tags)),
        Address::Attachment(att) => desired.attachments.contains(att).then(|| {
            Attrs::from([
                ("policy".into(), json!(att.policy)),
                ("target".into(), json!(att.target.to_string())),
            ])
        }),
        Address::Control(..) | Address::Portfolio(_) | Address::PortfolioShare(..) => {
            crate::governance::declared_attrs(desired, address)
        }
        _ => crate::member::declared_attrs(desired, address),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_diff_key_by_key() {
        let before = ou_attrs(
            "Dev",
            &Tags::from([("a".into(), "1".into()), ("b".into(), "2".into())]),
        );
        let after = ou_attrs(
            "Dev",
            &Tags::from([("a".into(), "1".into()), ("c".into(), "3".into())]),
        );
        let d = diff_attrs(&before, &after, &[]);
        let names: Vec<_> = d.iter().map(|d| d.attribute.as_str()).collect();
        assert_eq!(names, ["tags.b", "tags.c"]);
        let (set, remove) = tag_changes(&d);
        assert_eq!(set, Tags::from([("c".into(), "3".into())]));
        assert_eq!(remove, ["b"]);
    }

    #[test]
    fn policy_formatting_is_not_a_change() {
        let a = scp_attrs(
            "d",
            r#"{ "Version": "2012-10-17",  "Statement": [] }"#,
            &Tags::new(),
        );
        let b = scp_attrs(
            "d",
            r#"{"Version":"2012-10-17","Statement":[]}"#,
            &Tags::new(),
        );
        assert!(diff_attrs(&a, &b, &[]).is_empty());
    }
}
